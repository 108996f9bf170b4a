"""Tests of the study report: its files, their content and its figures."""

import base64
import json
import shutil
import sys
from datetime import datetime
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline

from skfusion.datasets import make_multimodal_classification
from skfusion.fusion import BlockScaler
from skfusion.study import FusionStudy
from skfusion.study._plots import plot_roc_curves
from skfusion.study._report import _p_value, write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FILES = ["results.csv", "folds.csv", "manifest.json", "report.md", "report.html"]


def _modalities(X):
    return [
        (name, "passthrough", [c for c in X.columns if c.startswith(f"{name}__")])
        for name in ("m0", "m1")
    ]


def _strategies(final):
    def model():
        # BlockScaler imputes the rows that miss a modality.
        return make_pipeline(BlockScaler(), final())

    return {
        "unimodal:m0": (model(), ["m0"]),
        "unimodal:m1": (model(), ["m1"]),
        "early<&>": (model(), ["m0", "m1"]),
    }


def _fit(X, y, final):
    study = FusionStudy(
        _modalities(X),
        _strategies(final),
        cv=3,
        n_permutations=3,
        random_state=0,
    )
    return study.fit(X, y)


def _classification_data(n_classes, missing_rate):
    return make_multimodal_classification(
        120,
        modality_sizes=(4, 3),
        n_classes=n_classes,
        missing_rate=missing_rate,
        random_state=0,
    )


def _classification(n_classes, missing_rate):
    X, y = _classification_data(n_classes, missing_rate)
    return _fit(X, y, lambda: LogisticRegression(max_iter=500))


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    study = _classification(2, missing_rate=0.2)
    return study, write_report(study, tmp_path_factory.mktemp("binary") / "report")


@pytest.fixture(scope="module")
def multiclass(tmp_path_factory):
    study = _classification(3, missing_rate=0.0)
    return study, write_report(study, tmp_path_factory.mktemp("multiclass"))


@pytest.fixture(scope="module")
def regression(tmp_path_factory):
    X, y = make_regression(120, n_features=6, noise=5.0, random_state=0)
    X = pd.DataFrame(X, columns=[f"m{j // 3}__x{j % 3}" for j in range(6)])
    study = _fit(X, pd.Series(y, name="outcome"), Ridge)
    return study, write_report(study, tmp_path_factory.mktemp("regression"))


@pytest.fixture(params=["binary", "multiclass", "regression"])
def reported(request):
    return request.getfixturevalue(request.param)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.images = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs)["src"])


def _parse_html(text):
    parser = _Collector()
    parser.feed(text)
    parser.close()
    return parser


def test_every_file_is_written(reported):
    study, folder = reported
    for name in FILES:
        assert (folder / name).stat().st_size > 0, name
    # Every figure the Markdown links to lies next to it.
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    links = [line for line in markdown.splitlines() if line.startswith("![")]
    assert links
    for line in links:
        target = line[line.index("](") + 2 : -1]
        assert (folder / target).read_bytes().startswith(PNG_SIGNATURE)


def test_results_csv_has_one_row_per_strategy_with_ci_and_comparison(reported):
    study, folder = reported
    results = pd.read_csv(folder / "results.csv", index_col="strategy")
    assert list(results.index) == list(study.strategies_)
    primary = study.primary_metric_
    for column in [
        "kind",
        "modalities",
        f"{primary}_mean",
        f"{primary}_ci_low",
        f"{primary}_ci_high",
        "reference",
        "difference",
        "p_value",
    ]:
        assert column in results.columns, column
    assert (results[f"{primary}_ci_low"] <= results[f"{primary}_mean"]).all()
    assert (results[f"{primary}_mean"] <= results[f"{primary}_ci_high"]).all()
    if study.task_ == "binary":
        assert results["delong_p_value"].notna().sum() == len(results) - 1


def test_folds_csv_is_the_fold_scores(reported):
    study, folder = reported
    folds = pd.read_csv(folder / "folds.csv")
    pd.testing.assert_frame_equal(
        folds,
        study.fold_scores_.reset_index(drop=True),
        check_dtype=False,
    )


def test_manifest_holds_versions_hashes_seeds_and_folds(reported):
    study, folder = reported
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    versions = manifest["versions"]
    for package in ["skfusion", "python", "numpy", "scipy", "pandas"]:
        assert isinstance(versions[package], str), package
    assert versions["scikit-learn"] == __import__("sklearn").__version__
    assert "torch" in versions and "skorch" in versions
    assert datetime.fromisoformat(manifest["created_at"]).utcoffset().seconds == 0
    assert manifest["splits_hash"] == study.splits_hash_
    assert manifest["data_hash"] == study.data_hash_
    assert manifest["n_samples"] == study.n_samples_ == 120
    assert manifest["random_state"] == 0
    assert manifest["fold_seeds"] == list(study.fold_seeds_)
    assert [s["name"] for s in manifest["strategies"]] == list(study.strategies_)
    assert manifest["params"]["modalities"][0][:2] == ["m0", "passthrough"]
    assert len(manifest["folds"]) == 3
    assert sum(fold["n_test"] for fold in manifest["folds"]) == 120


def test_html_is_self_contained_with_embedded_png_figures(binary):
    study, folder = binary
    text = (folder / "report.html").read_text(encoding="utf-8")
    parser = _parse_html(text)
    assert {"html", "head", "body", "table", "img"} <= set(parser.tags)
    # Fold scores, ROC, calibration, contributions and missingness.
    assert len(parser.images) >= 4
    for src in parser.images:
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        assert base64.b64decode(src[len(prefix) :]).startswith(PNG_SIGNATURE)
    assert 'src="http' not in text
    assert "<link" not in text
    assert "<script" not in text
    # Text from the study is escaped, not taken as markup.
    assert "early&lt;&amp;&gt;" in text
    assert "<&>" not in text


def test_figures_depend_on_the_task(binary, multiclass, regression):
    def figures(folder):
        return {path.stem for path in (folder / "plots").glob("*.png")}

    assert {"fold_scores", "calibration", "contributions", "missingness"} <= figures(
        binary[1]
    )
    assert "roc" not in figures(multiclass[1])
    assert "calibration" in figures(multiclass[1])
    assert {"roc", "calibration"}.isdisjoint(figures(regression[1]))
    assert {"fold_scores", "contributions", "missingness"} <= figures(regression[1])


def test_roc_curves_of_a_binary_study(binary, tmp_path, monkeypatch):
    study, _ = binary
    # FusionStudy does not keep its target (y_) yet; the ROC curves need it.
    _, y = _classification_data(2, missing_rate=0.2)
    monkeypatch.setattr(study, "y_", y.to_numpy(), raising=False)
    legend = plot_roc_curves(study).axes[0].get_legend()
    labels = [text.get_text() for text in legend.get_texts()]
    # The curves' AUCs are those of the DeLong comparison (same rows).
    expected = [
        f"{name} (AUC {study.comparison_.loc[name, 'auc']:.3f})"
        for name in study.strategies_
    ]
    assert labels == [*expected, "chance"]

    folder = write_report(study, tmp_path)
    assert (folder / "plots" / "roc.png").read_bytes().startswith(PNG_SIGNATURE)
    text = (folder / "report.html").read_text(encoding="utf-8")
    # Five figures and, since issue 28, the decision curves.
    assert len(_parse_html(text).images) == 6
    assert "![ROC curves](plots/roc.png)" in (folder / "report.md").read_text()


def test_figures_of_an_earlier_report_are_removed(binary, regression, tmp_path):
    folder = shutil.copytree(binary[1], tmp_path / "report")
    write_report(regression[0], folder)
    assert not (folder / "plots" / "calibration.png").exists()
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    assert "Class counts" not in markdown


def test_markdown_report_tables(binary):
    study, folder = binary
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    for section in [
        "## Cohort",
        "## Missing modalities",
        "## Comparison of strategies",
        "## Scores by availability pattern",
        "## Modality contributions",
        "## Notes",
    ]:
        assert section in markdown
    assert "| roc_auc [95% CI] |" in markdown
    assert "DeLong p" in markdown
    # One row per strategy in the comparison, the reference marked.
    reference_row = next(
        line for line in markdown.splitlines() if line.startswith("| unimodal:m")
    )
    assert reference_row.count("|") >= 8
    assert "| reference |" in markdown
    # 20% of the rows miss one modality: three availability patterns.
    for pattern in ["m0+m1 (n=", "m0 (n=", "m1 (n="]:
        assert pattern in markdown


def test_regression_report_has_no_classification_columns(regression):
    study, folder = regression
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    assert "| r2 [95% CI] |" in markdown
    assert "DeLong" not in markdown
    assert "Brier" not in markdown
    assert "Class counts" not in markdown


def test_report_without_matplotlib(binary, tmp_path, monkeypatch):
    study, _ = binary
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    folder = write_report(study, tmp_path / "plain")
    for name in FILES:
        assert (folder / name).stat().st_size > 0, name
    assert not (folder / "plots").exists()
    note = "Plots need matplotlib: pip install 'skfusion[report]'"
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert note in markdown
    assert "![" not in markdown
    assert "Plots need matplotlib: pip install &#x27;skfusion[report]&#x27;" in text
    assert _parse_html(text).images == []


@pytest.mark.parametrize(
    ("p", "shown"),
    [
        (0.0, "<0.001"),
        (0.00099, "<0.001"),
        (0.001, "0.001"),
        (0.0456, "0.046"),
        (1.0, "1.000"),
        (np.nan, "–"),
    ],
)
def test_p_values_are_readable(p, shown):
    assert _p_value(p) == shown


def test_pooled_intervals_sensitivity_and_specificity_are_reported(binary):
    study, folder = binary
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    assert "| roc_auc [95% CI] | pooled [95% CI] |" in markdown
    assert "1000 bootstrap resamples of the 120 tested subjects (rows)" in markdown
    assert "| sensitivity [95% CI] | specificity [95% CI] |" in markdown
    # At each strategy's own labels (issue 28), not at a probability of 0.5.
    assert "called 1 by its own decision rule" in markdown
    assert "All metrics on the pooled out-of-fold predictions" in markdown
    results = pd.read_csv(folder / "results.csv", index_col="strategy")
    for stem in ["roc_auc", "balanced_accuracy", "sensitivity", "specificity"]:
        estimate = results[stem if stem.endswith("ity") else f"{stem}_pooled"]
        assert (results[f"{stem}_boot_low"] <= estimate).all()
        assert (estimate <= results[f"{stem}_boot_high"]).all()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["bootstrap"] == study.bootstrap_
    assert manifest["bootstrap"]["n_resamples"] == 1000
    assert manifest["threshold"] is None


def test_regression_report_has_pooled_intervals_without_rates(regression):
    study, folder = regression
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    assert "| r2 [95% CI] | pooled [95% CI] |" in markdown
    assert "sensitivity" not in markdown
    results = pd.read_csv(folder / "results.csv", index_col="strategy")
    assert results["neg_mean_absolute_error_pooled"].lt(0).all()
    assert (
        results["neg_mean_absolute_error_boot_low"]
        <= results["neg_mean_absolute_error_pooled"]
    ).all()
    assert study.threshold_ is None


def test_a_single_split_report_gives_what_one_split_allows(tmp_path):
    from sklearn.model_selection import PredefinedSplit

    X, y = _classification_data(2, missing_rate=0.2)
    test_fold = np.where(np.arange(len(y)) < 80, -1, 0)  # an external test set
    study = FusionStudy(
        _modalities(X),
        _strategies(lambda: LogisticRegression(max_iter=500)),
        cv=PredefinedSplit(test_fold),
        contributions=None,
        random_state=0,
    ).fit(X, y)
    folder = write_report(study, tmp_path)
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    assert "Evaluation: a single train/test split (80 training rows, 40 test" in (
        markdown
    )
    assert "not applicable to a single split" in markdown
    assert "mean ± standard deviation over folds" not in markdown
    assert "All metrics on the test rows of the single split" in markdown
    # The interval of the primary metric is the subject bootstrap's.
    row = next(line for line in markdown.splitlines() if line.startswith("| early"))
    low, high = study.summary_.loc[
        "early<&>", ["roc_auc_boot_low", "roc_auc_boot_high"]
    ]
    assert f"[{low:.3f}, {high:.3f}]" in row
    assert "| – |" in row  # no t-test
    assert row.count("–") == 1
    # Only the 40 tested rows have a known availability.
    assert "the 80 rows no split tests (training rows only) are not shown" in markdown
    assert "| none |" not in markdown
    results = pd.read_csv(folder / "results.csv", index_col="strategy")
    assert results["p_value"].isna().all()
    assert results["delong_p_value"].notna().sum() == 2
    assert results[["sensitivity", "specificity", "brier"]].notna().all().all()
