"""FusionStudy on multi-label targets: folds, metrics, intervals, report."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    hamming_loss,
    roc_auc_score,
)

from skfusion.datasets import make_multimodal_classification
from skfusion.study import FusionStudy

STRATEGIES = ["unimodal:m0", "unimodal:m1", "early:linear", "late:mean"]


def _findings(n_samples=240, random_state=0):
    """Two modalities and three findings: one of each modality, one of both."""
    X, y = make_multimodal_classification(
        n_samples,
        modality_sizes=(4, 4),
        informativeness=(2.0, 2.0),
        missing_rate=0.1,
        random_state=random_state,
    )
    rng = np.random.default_rng(random_state)
    noise = rng.normal(0, 0.5, size=(n_samples, 3))
    m0 = X["m0__x0"].fillna(0).to_numpy()
    m1 = X["m1__x1"].fillna(0).to_numpy()
    Y = pd.DataFrame(
        {
            "opacity": (m0 + noise[:, 0] > 0).astype(int),
            "effusion": (m1 + noise[:, 1] > 0.3).astype(int),
            "either": (y.to_numpy() + noise[:, 2] > 0.5).astype(int),
        }
    )
    return X, Y


def _modalities(X):
    return [
        (name, "passthrough", [c for c in X.columns if c.startswith(f"{name}__")])
        for name in ("m0", "m1")
    ]


@pytest.fixture(scope="module")
def study():
    X, Y = _findings()
    fitted = FusionStudy(
        _modalities(X), strategies=STRATEGIES, cv=3, random_state=0, refit="best"
    ).fit(X, Y)
    return fitted, X, Y


def test_a_two_dimensional_target_is_a_multilabel_study(study):
    fitted, X, Y = study
    assert fitted.task_ == "multilabel"
    assert list(fitted.classes_) == ["opacity", "effusion", "either"]
    assert fitted.target_counts_ == {c: int(Y[c].sum()) for c in Y.columns}
    assert fitted.metrics_ == [
        "roc_auc",
        "average_precision",
        "roc_auc_micro",
        "neg_hamming_loss",
        "f1_samples",
    ]
    # Iterative stratification: each label's share in every test fold stays
    # within a few rows of its share overall.
    for _, test in fitted.splits_:
        assert_allclose(Y.iloc[test].mean(), Y.mean(), atol=0.03)


def test_pooled_scores_are_the_metrics_of_the_out_of_fold_predictions(study):
    fitted, _, Y = study
    y = Y.to_numpy()
    for name in STRATEGIES:
        proba = fitted.oof_proba_[name][0]
        labels = fitted.oof_predictions_[name][0].astype(int)
        assert proba.shape == labels.shape == y.shape
        row = fitted.summary_.loc[name]
        assert row["roc_auc_pooled"] == pytest.approx(roc_auc_score(y, proba))
        assert row["average_precision_pooled"] == pytest.approx(
            average_precision_score(y, proba)
        )
        assert row["roc_auc_micro_pooled"] == pytest.approx(
            roc_auc_score(y, proba, average="micro")
        )
        assert row["neg_hamming_loss_pooled"] == pytest.approx(-hamming_loss(y, labels))
        assert row["f1_samples_pooled"] == pytest.approx(
            f1_score(y, labels, average="samples", zero_division=0.0)
        )
        for metric in fitted.metrics_:
            low, high = row[f"{metric}_boot_low"], row[f"{metric}_boot_high"]
            assert low <= row[f"{metric}_pooled"] <= high
        scores = fitted.label_scores_.query("strategy == @name").set_index("label")
        for k, label in enumerate(fitted.classes_):
            assert scores.loc[label, "roc_auc"] == pytest.approx(
                roc_auc_score(y[:, k], proba[:, k])
            )
            assert scores.loc[label, "n_positive"] == y[:, k].sum()


def test_fusion_beats_each_modality_on_the_macro_auc(study):
    fitted, _, _ = study
    scores = fitted.summary_["roc_auc_pooled"]
    best_single = max(scores["unimodal:m0"], scores["unimodal:m1"])
    assert scores["early:linear"] > best_single
    assert (
        fitted.label_scores_.set_index(["strategy", "label"]).loc[
            ("unimodal:m0", "opacity"), "roc_auc"
        ]
        > 0.8
    )


def test_the_report_has_the_label_scores(study, tmp_path):
    fitted, _, _ = study
    folder = fitted.report(tmp_path / "report")
    text = (folder / "report.md").read_text()
    assert "## Scores by label" in text
    assert "Label counts (a row may have several):" in text
    assert "| opacity (n=" in text
    if (folder / "plots").is_dir() and any((folder / "plots").iterdir()):
        assert (folder / "plots" / "labels.png").is_file()


def test_the_refitted_model_predicts_every_label(study):
    fitted, X, Y = study
    proba = fitted.best_estimator_.predict_proba(X.iloc[:7])
    proba = (
        np.column_stack([p[:, 1] for p in proba]) if isinstance(proba, list) else proba
    )
    assert proba.shape == (7, 3)
    external = fitted.evaluate(X.iloc[:80], Y.iloc[:80])
    assert external.summary["roc_auc"].between(0, 1).all()
    with pytest.raises(ValueError, match="lacks the labels"):
        fitted.evaluate(X.iloc[:80], Y.iloc[:80, :2])


def test_a_grouped_multilabel_study_keeps_groups_whole():
    X, Y = _findings()
    groups = np.arange(len(Y)) // 4
    fitted = FusionStudy(
        _modalities(X),
        strategies=["unimodal:m0", "early:linear"],
        cv=3,
        random_state=0,
        contributions=None,
    ).fit(X, Y, groups=groups)
    for train, test in fitted.splits_:
        assert not set(groups[train]) & set(groups[test])
    assert fitted.bootstrap_["resampled"] == "groups"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda Y: Y.assign(opacity=Y["opacity"] * 2), "must be 0 or 1; row"),
        (lambda Y: Y.assign(either=0), "'either' is 0 in every row"),
        (
            lambda Y: Y.astype(float).mask(
                np.repeat((Y.index == 5)[:, None], 3, axis=1)
            ),
            r"missing in 1 row\(s\), at positions 5",
        ),
        (lambda Y: Y.assign(opacity=(Y.index < 2).astype(int)), "Label column 0 has 2"),
    ],
)
def test_bad_multilabel_targets_are_named(edit, message):
    X, Y = _findings(120)
    study = FusionStudy(_modalities(X), strategies=["unimodal:m0"], cv=3)
    with pytest.raises(ValueError, match=message):
        study.fit(X, edit(Y))


@pytest.mark.slow
def test_a_multilabel_study_of_the_spoken_and_written_digits(tmp_path):
    """A real multi-finding table: is the digit even, greater than 4, prime."""
    pytest.importorskip("librosa")
    pytest.importorskip("skimage")
    from skfusion.datasets import load_av_digits_findings
    from skfusion.extractors import AudioFeatures, ImageFeatures

    digits = load_av_digits_findings()
    modalities = [
        ("audio", AudioFeatures(features=("mfcc",)), "audio"),
        (
            "image",
            ImageFeatures(features=("hog",), size=(28, 28), hog_pixels_per_cell=(7, 7)),
            "image",
        ),
    ]
    study = FusionStudy(
        modalities,
        strategies=[
            "unimodal:audio",
            "unimodal:image",
            "early:linear",
            "late:mean",
            "deep:concat",
        ],
        cv=3,
        random_state=0,
        contributions=None,
        refit="best",
    ).fit(digits.data, digits.target)
    assert list(study.classes_) == ["even", "greater_than_4", "prime"]
    auc = study.summary_["roc_auc_pooled"]
    for fused in ("early:linear", "late:mean", "deep:concat"):
        assert auc[fused] > max(auc["unimodal:audio"], auc["unimodal:image"])
    assert study.label_scores_["roc_auc"].min() > 0.8
    assert study.best_estimator_.predict(digits.data.iloc[:4]).shape == (4, 3)
    text = (study.report(tmp_path / "report") / "report.md").read_text()
    assert "| even (n=" in text
