"""A study's risks calibrated to the prevalence, its labels by the prevalence rule."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import logit
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skfusion.datasets import make_multimodal_classification
from skfusion.fusion import BlockScaler, PrevalenceDecisionClassifier
from skfusion.study import FusionStudy

# Risks calibrated to a 15 % prevalence average within this of it; the risks
# of class-weighted models average about twice the prevalence.
MEAN_RISK_TOLERANCE = 0.03


def _imbalanced(n=600, weights=(0.85, 0.15), n_classes=2, seed=0):
    X, y = make_multimodal_classification(
        n,
        modality_sizes=(4, 6),
        informativeness=(1.5, 1.0),
        n_classes=n_classes,
        weights=weights,
        missing_rate=0.1,
        random_state=seed,
    )
    table = X.rename(columns=lambda c: c.replace("__", "_"))
    modalities = [
        (name, "passthrough", [c for c in table.columns if c.startswith(f"{name}_")])
        for name in ("m0", "m1")
    ]
    return table, y.to_numpy(), modalities


STRATEGIES = ["unimodal:m0", "early:linear", "early:hgb", "late:stacking"]


def _study(modalities, **params):
    return FusionStudy(
        modalities,
        strategies=STRATEGIES,
        cv=3,
        contributions=None,
        random_state=0,
        **params,
    )


@pytest.fixture(scope="module")
def binary_studies():
    table, y, modalities = _imbalanced()
    default = _study(modalities).fit(table, y)
    weighted = _study(modalities, class_weight="balanced").fit(table, y)
    return default, weighted, y


def test_default_risks_are_calibrated_to_the_prevalence(binary_studies):
    default, weighted, y = binary_studies
    prevalence = np.mean(y == 1)
    for name in STRATEGIES:
        risk = default.oof_proba_[name][0, :, 1]
        assert abs(risk.mean() - prevalence) < MEAN_RISK_TOLERANCE, name
        # Class weights move every strategy's risks above the tolerance.
        weighted_risk = weighted.oof_proba_[name][0, :, 1]
        assert weighted_risk.mean() - prevalence > MEAN_RISK_TOLERANCE, name
        # The Brier score is better without the weights.
        assert (
            default.summary_.loc[name, "brier"] < weighted.summary_.loc[name, "brier"]
        ), name


def test_default_labels_follow_the_prevalence_rule(binary_studies):
    default, weighted, y = binary_studies
    for name in STRATEGIES:
        proba = default.oof_proba_[name][0]
        labels = default.oof_predictions_[name][0]
        for train, test in default.splits_:
            # Positive when the risk exceeds the training fold's prevalence.
            called = proba[test, 1] > np.mean(y[train] == 1)
            assert_array_equal(labels[test], called.astype(int), err_msg=name)
        # The weighted strategies predict the class of largest probability.
        weighted_proba = weighted.oof_proba_[name][0]
        assert_array_equal(
            weighted.oof_predictions_[name][0], np.argmax(weighted_proba, axis=1)
        )
    # Balanced accuracy of the rule, no worse than the weights' by more than
    # the fold spread (30 rows of the minority class per test fold).
    score = "balanced_accuracy_mean"
    for name in STRATEGIES:
        spread = weighted.summary_.loc[name, "balanced_accuracy_std"]
        assert (
            default.summary_.loc[name, score]
            >= weighted.summary_.loc[name, score] - spread
        ), name


def test_multiclass_default_labels_follow_the_ratio_rule():
    table, y, modalities = _imbalanced(n=500, weights=(0.7, 0.2, 0.1), n_classes=3)
    study = FusionStudy(
        modalities,
        strategies=["early:linear", "late:stacking"],
        cv=3,
        contributions=None,
        random_state=0,
    ).fit(table, y)
    for name in study.strategies_:
        proba = study.oof_proba_[name][0]
        labels = study.oof_predictions_[name][0]
        for train, test in study.splits_:
            shares = np.array([np.mean(y[train] == k) for k in range(3)])
            expected = np.argmax(proba[test] / shares, axis=1)
            assert_array_equal(labels[test], expected, err_msg=name)
        # Some rows go to a rarer class than the argmax would give.
        assert np.any(labels != np.argmax(proba, axis=1)), name


def test_the_rule_changes_labels_not_risks_calibration_or_decision_curves():
    table, y, modalities = _imbalanced(n=300)
    model = make_pipeline(BlockScaler(), LogisticRegression())
    study = FusionStudy(
        modalities,
        strategies={
            "plain": model,
            "rule": make_pipeline(
                BlockScaler(), PrevalenceDecisionClassifier(LogisticRegression())
            ),
        },
        cv=3,
        contributions=None,
        random_state=0,
    ).fit(table, y)
    assert_allclose(study.oof_proba_["rule"], study.oof_proba_["plain"])
    pd.testing.assert_frame_equal(
        study.calibration_["rule"], study.calibration_["plain"]
    )
    curve = study.decision_curve_.set_index(["strategy", "threshold"])
    assert_allclose(curve.loc["rule", "net_benefit"], curve.loc["plain", "net_benefit"])
    summary = study.summary_
    assert summary.loc["rule", "brier"] == summary.loc["plain", "brier"]
    assert summary.loc["rule", "roc_auc_mean"] == summary.loc["plain", "roc_auc_mean"]
    # The labels, and what scores them, differ: more minority rows are found.
    assert np.sum(study.oof_predictions_["rule"]) > np.sum(
        study.oof_predictions_["plain"]
    )
    assert (
        summary.loc["rule", "balanced_accuracy_mean"]
        > summary.loc["plain", "balanced_accuracy_mean"]
    )


def _calibration_slope(outcome, risk):
    """The coefficient of a logistic regression of the outcome on logit(risk)."""
    score = logit(np.clip(risk, 1e-6, 1 - 1e-6))[:, None]
    return LogisticRegression(C=np.inf).fit(score, outcome).coef_[0, 0]


def test_late_mean_recalibrated_by_default_is_no_longer_under_confident():
    X, y = make_multimodal_classification(
        600,
        modality_sizes=(4, 6, 4),
        informativeness=(1.5, 1.5, 1.0),
        weights=(0.8, 0.2),
        random_state=1,
    )
    table = X.rename(columns=lambda c: c.replace("__", "_"))
    modalities = [
        (name, "passthrough", [c for c in table.columns if c.startswith(f"{name}_")])
        for name in ("m0", "m1", "m2")
    ]
    params = {"cv": 3, "contributions": None, "random_state": 0}
    default = FusionStudy(modalities, strategies=["late:mean"], **params)
    default.fit(table, y)
    # The same pipeline without the recalibration, on the same folds.
    pipeline = default.strategies_["late:mean"]
    rule = pipeline[-1]
    plain = clone(pipeline).set_params(
        **{f"{pipeline.steps[-1][0]}__estimator": rule.estimator.estimator}
    )
    averaged = FusionStudy(modalities, strategies={"late:mean": plain}, **params)
    averaged.fit(table, y)
    y = y.to_numpy()
    recalibrated = _calibration_slope(y, default.oof_proba_["late:mean"][0, :, 1])
    average = _calibration_slope(y, averaged.oof_proba_["late:mean"][0, :, 1])
    assert average > 1.5  # an average of three calibrated risks
    assert 0.7 < recalibrated < 1.3
    assert (
        default.summary_.loc["late:mean", "brier"]
        < averaged.summary_.loc["late:mean", "brier"]
    )


def test_the_report_states_the_decision_rule(binary_studies, tmp_path):
    default, weighted, _ = binary_studies
    text = (default.report(tmp_path / "default") / "report.md").read_text()
    assert (
        "every strategy: a row is 1 when its predicted risk exceeds the share of 1 "
        "among the fold's training rows" in text
    )
    text = (weighted.report(tmp_path / "weighted") / "report.md").read_text()
    assert "every strategy: its own predict" in text
    assert "share of 1" not in text


def test_sensitivity_and_specificity_are_of_the_rules_labels(binary_studies):
    default, _, y = binary_studies
    summary = default.summary_
    for name in STRATEGIES:
        labels = default.oof_predictions_[name][0]
        assert summary.loc[name, "sensitivity"] == pytest.approx(
            np.mean(labels[y == 1] == 1)
        )
        assert summary.loc[name, "specificity"] == pytest.approx(
            np.mean(labels[y == 0] == 0)
        )
        # Their mean is the balanced accuracy of the same labels.
        assert summary.loc[name, "balanced_accuracy_pooled"] == pytest.approx(
            (summary.loc[name, "sensitivity"] + summary.loc[name, "specificity"]) / 2
        )
