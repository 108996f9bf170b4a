"""Nothing a user owns is overwritten or deleted (issue 26, part A)."""

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from skfusion.cli import main
from skfusion.study import FusionStudy, report_files

USAGE_ERROR = 2


@pytest.fixture
def table_csv(tmp_path):
    """A small tabular study table, written as ``results.csv``."""
    rng = np.random.default_rng(0)
    label = np.array(["no", "yes"] * 20)
    table = pd.DataFrame(
        {"severity": rng.normal(size=40) + (label == "yes"), "label": label}
    )
    path = tmp_path / "results.csv"
    table.to_csv(path, index=False)
    return path


def _study_argv(table, *options):
    return [
        "study", str(table), "--target", "label",
        "--modality", "clinical=tabular:severity", "--strategies",
        "unimodal:clinical", "--no-contributions", "--cv", "2", "--n-jobs", "1",
        *options,
    ]  # fmt: skip


def _refused(argv, capsys, *paths):
    before = {path: path.read_bytes() for path in paths}
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == USAGE_ERROR
    error = capsys.readouterr().err
    for path, content in before.items():
        assert path.read_bytes() == content, f"{path} was changed"
    return error


def test_study_refuses_a_report_over_its_table(table_csv, capsys):
    # The table is called results.csv and the report goes next to it.
    error = _refused(
        _study_argv(table_csv, "--out", str(table_csv.parent)), capsys, table_csv
    )
    assert "over the table" in error and str(table_csv) in error


def test_study_refuses_a_report_over_its_external_cohort(table_csv, capsys):
    cohort = table_csv.parent / "external.csv"
    cohort.write_bytes(table_csv.read_bytes())
    out = table_csv.parent
    table = table_csv.rename(out / "table.csv")
    error = _refused(
        _study_argv(table, "--test", str(cohort), "--out", str(out)), capsys, cohort
    )
    assert "over --test" in error and str(cohort) in error


def test_study_refuses_to_save_the_model_over_its_table(table_csv, capsys):
    out = table_csv.parent / "report"
    error = _refused(
        _study_argv(table_csv, "--out", str(out), "--save-model", str(table_csv)),
        capsys,
        table_csv,
    )
    assert "--save-model" in error and str(table_csv) in error
    error = _refused(
        _study_argv(
            table_csv, "--out", str(out), "--save-model", str(out / "report.md")
        ),
        capsys,
        table_csv,
    )
    assert "is a file of the report" in error


def test_predict_refuses_to_write_over_its_table_or_model(tmp_path, capsys):
    table = tmp_path / "new.csv"
    table.write_text("severity\n1.0\n")
    model = tmp_path / "model.skops"
    model.write_bytes(b"a model's bytes")
    for out, role in ((table, "the table"), (model, "the model")):
        error = _refused(
            ["predict", str(model), str(table), "--out", str(out)],
            capsys,
            table,
            model,
        )
        assert f"over {role}" in error and str(out) in error


# -- FusionStudy.report replaces only what a report wrote ---------------------------


@pytest.fixture(scope="module")
def study():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    y = (X["a"] + rng.normal(size=40) > 0).astype(int)
    return FusionStudy(
        [("m", "passthrough", ["a", "b"])], cv=2, random_state=0, contributions=None
    ).fit(X, y)


def test_report_leaves_a_users_external_csv_alone(study, tmp_path):
    mine = tmp_path / "external.csv"
    mine.write_text("my external cohort\n")
    study.report(tmp_path)
    assert mine.read_text() == "my external cohort\n"
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "external.csv" not in manifest["files"]
    assert set(manifest["files"]) <= set(report_files())


def test_report_refuses_to_replace_a_file_it_did_not_write(study, tmp_path):
    mine = tmp_path / "results.csv"
    mine.write_text("my results\n")
    with pytest.raises(FileExistsError, match="results.csv exists and was not"):
        study.report(tmp_path)
    assert mine.read_text() == "my results\n"
    assert not (tmp_path / "manifest.json").exists()
    # A manifest.json that is not a report's owns nothing either.
    mine.unlink()
    (tmp_path / "manifest.json").write_text('{"mine": true}')
    with pytest.raises(FileExistsError, match="manifest.json exists"):
        study.report(tmp_path)


def test_a_report_replaces_and_removes_what_an_earlier_one_wrote(study, tmp_path):
    study.report(tmp_path)
    manifest_path = tmp_path / "manifest.json"
    # As if the earlier report had an external validation.
    manifest = json.loads(manifest_path.read_text())
    manifest["files"].append("external.csv")
    manifest_path.write_text(json.dumps(manifest))
    (tmp_path / "external.csv").write_text("stale\n")
    (tmp_path / "notes.txt").write_text("mine\n")
    study.report(tmp_path)
    assert not (tmp_path / "external.csv").exists()
    assert (tmp_path / "notes.txt").read_text() == "mine\n"
    # A report from before the manifest listed its files is still replaced.
    manifest = json.loads(manifest_path.read_text())
    del manifest["files"]
    manifest_path.write_text(json.dumps(manifest))
    study.report(tmp_path)
    assert "files" in json.loads(manifest_path.read_text())


# -- skfusion predict on a file that is not a model (issue 26, B7) ------------------


def _deeply_nested_archive(path):
    node = (
        '{"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode", '
        '"content": '
    )
    text = (node + '{"k": ') * 3000 + node + "{}}" + "}}" * 3000
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("schema.json", '{"protocol": 2, ' + text[1:])


@pytest.mark.parametrize("kind", ["a CSV", "empty", "truncated", "deeply nested"])
def test_predict_names_a_file_that_is_not_a_model(kind, tmp_path, capsys):
    pytest.importorskip("skops")
    from sklearn.linear_model import LogisticRegression

    from skfusion.persist import dump

    model = tmp_path / "model.skops"
    if kind == "a CSV":
        model.write_text("a,b\n1,2\n")
    elif kind == "empty":
        model.write_bytes(b"")
    elif kind == "truncated":
        dump(LogisticRegression(), model)
        model.write_bytes(model.read_bytes()[:200])
    else:
        _deeply_nested_archive(model)
    table = tmp_path / "new.csv"
    table.write_text("a\n1\n")
    status = main(["predict", str(model), str(table), "--out", str(tmp_path / "p.csv")])
    assert status == 1
    error = capsys.readouterr().err
    assert f"not a skfusion model file: {model}" in error
    assert "Traceback" not in error
