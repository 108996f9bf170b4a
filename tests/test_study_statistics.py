"""Tests of the statistics for comparing fusion strategies."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

from skfusion.study import (
    bootstrap_ci,
    calibration_table,
    corrected_resampled_ttest,
    delong_test,
    statistics,
)
from skfusion.study.statistics import (
    _delong_covariance,
    bootstrap_weights,
    resampled_metric,
    subject_bootstrap_ci,
)

# corrected_resampled_ttest ----------------------------------------------------


def test_ttest_matches_hand_computation():
    a = [0.81, 0.84, 0.79, 0.86, 0.83]
    b = [0.78, 0.80, 0.79, 0.81, 0.80]
    # d = [0.03, 0.04, 0, 0.05, 0.03]: mean 0.03, squared deviations sum to
    # 0.0014, so var(ddof=1) = 0.00035 and the corrected variance is
    # (1/5 + 20/80) * 0.00035 = 0.0001575.
    result = corrected_resampled_ttest(a, b, n_train=80, n_test=20)
    expected_t = 0.03 / np.sqrt(0.0001575)
    assert result.mean_difference == pytest.approx(0.03)
    assert result.df == 4
    assert result.statistic == pytest.approx(expected_t)
    assert result.pvalue == pytest.approx(2 * stats.t.sf(expected_t, 4))
    assert result.statistic == pytest.approx(2.390457, rel=1e-6)


def test_ttest_is_antisymmetric_and_pvalue_in_unit_interval():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = rng.uniform(size=(2, 10))
        forward = corrected_resampled_ttest(a, b, n_train=90, n_test=10)
        backward = corrected_resampled_ttest(b, a, n_train=90, n_test=10)
        assert 0 <= forward.pvalue <= 1
        assert backward.statistic == pytest.approx(-forward.statistic)
        assert backward.pvalue == pytest.approx(forward.pvalue)


def test_ttest_correction_is_more_conservative_than_paired_ttest():
    rng = np.random.default_rng(1)
    a = rng.normal(0.8, 0.02, size=10)
    b = a - rng.normal(0.01, 0.02, size=10)
    corrected = corrected_resampled_ttest(a, b, n_train=90, n_test=10)
    naive = stats.ttest_rel(a, b)
    assert abs(corrected.statistic) < abs(naive.statistic)
    assert corrected.pvalue > naive.pvalue


@pytest.mark.parametrize(
    ("shift", "statistic", "pvalue"),
    [(0.0, 0.0, 1.0), (0.1, np.inf, 0.0), (-0.1, -np.inf, 0.0)],
)
def test_ttest_constant_differences(shift, statistic, pvalue):
    a = np.array([0.7, 0.8, 0.9])
    result = corrected_resampled_ttest(a + shift, a, n_train=8, n_test=2)
    assert result.statistic == statistic
    assert result.pvalue == pvalue


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "match"),
    [
        ([0.1, 0.2], [0.1, 0.2, 0.3], {}, "same length"),
        ([0.1], [0.2], {}, "At least 2"),
        ([0.1, np.nan], [0.2, 0.3], {}, "finite"),
        ([0.1, np.inf], [0.2, 0.3], {}, "finite"),
        ([[0.1, 0.2]], [[0.2, 0.3]], {}, "one-dimensional"),
        ([0.1, 0.2], [0.2, 0.3], {"n_train": 0}, "n_train"),
        ([0.1, 0.2], [0.2, 0.3], {"n_test": 1.5}, "n_test"),
    ],
)
def test_ttest_validation(a, b, kwargs, match):
    params = {"n_train": 8, "n_test": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        corrected_resampled_ttest(a, b, **params)


# bootstrap_ci -----------------------------------------------------------------


def test_bootstrap_ci_contains_statistic_and_is_reproducible():
    rng = np.random.default_rng(2)
    values = rng.normal(0.8, 0.03, size=10)
    low, high = bootstrap_ci(values, n_resamples=2000, random_state=0)
    assert low < values.mean() < high
    assert (low, high) == bootstrap_ci(values, n_resamples=2000, random_state=0)
    assert isinstance(low, float) and isinstance(high, float)


def test_bootstrap_ci_confidence_widens_interval():
    values = np.random.default_rng(3).normal(size=15)
    narrow = bootstrap_ci(values, confidence=0.5, n_resamples=2000, random_state=0)
    wide = bootstrap_ci(values, confidence=0.99, n_resamples=2000, random_state=0)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


def test_bootstrap_ci_other_statistics():
    values = np.random.default_rng(4).normal(size=12)
    low, high = bootstrap_ci(
        values, statistic=np.median, n_resamples=1000, random_state=0
    )
    assert low <= np.median(values) <= high
    # A statistic without an axis keyword is evaluated resample by resample.
    low, high = bootstrap_ci(
        values, statistic=lambda x: float(np.max(x)), n_resamples=200, random_state=0
    )
    assert low <= np.max(values) <= high


def test_bootstrap_ci_random_state_instance():
    values = np.random.default_rng(5).normal(size=8)
    first = bootstrap_ci(values, n_resamples=500, random_state=np.random.RandomState(7))
    second = bootstrap_ci(
        values, n_resamples=500, random_state=np.random.RandomState(7)
    )
    assert first == second


def test_bootstrap_ci_degenerate_falls_back():
    low, high = bootstrap_ci([0.5, 0.5, 0.5, 0.5], n_resamples=100, random_state=0)
    assert low == pytest.approx(0.5)
    assert high == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("values", "kwargs", "match"),
    [
        ([0.5], {}, "At least 2"),
        ([0.5, np.nan], {}, "finite"),
        ([0.5, 0.6], {"confidence": 1.0}, "confidence"),
        ([0.5, 0.6], {"confidence": 0}, "confidence"),
        ([0.5, 0.6], {"n_resamples": 0}, "n_resamples"),
        ([0.5, 0.6], {"statistic": "mean"}, "callable"),
    ],
)
def test_bootstrap_ci_validation(values, kwargs, match):
    with pytest.raises(ValueError, match=match):
        bootstrap_ci(values, **kwargs)


# subject_bootstrap_ci ---------------------------------------------------------


def _scored_sample(n=80, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    # Rounded: ties, which the AUC counts half.
    return y, np.round(y + rng.normal(size=n), 1)


def test_subject_bootstrap_ci_contains_the_estimate_and_is_reproducible():
    y, score = _scored_sample()
    result = subject_bootstrap_ci(y, score, "roc_auc", random_state=0)
    assert result.estimate == pytest.approx(roc_auc_score(y, score))
    assert result.low < result.estimate < result.high
    assert result.n_resamples == 1000
    assert result == subject_bootstrap_ci(y, score, "roc_auc", random_state=0)
    assert result != subject_bootstrap_ci(y, score, "roc_auc", random_state=1)
    wider = subject_bootstrap_ci(y, score, "roc_auc", confidence=0.99, random_state=0)
    assert wider.low < result.low and result.high < wider.high


def _resample_rows(weights):
    return np.repeat(np.arange(weights.shape[0]), weights.astype(int))


_POS0 = {"pos_label": 0}


@pytest.mark.parametrize(
    ("name", "sklearn_metric", "response"),
    [
        ("roc_auc", metrics.roc_auc_score, "score"),
        ("average_precision", metrics.average_precision_score, "score"),
        ("accuracy", metrics.accuracy_score, "labels"),
        ("balanced_accuracy", metrics.balanced_accuracy_score, "labels"),
        ("sensitivity", metrics.recall_score, "labels"),
        ("specificity", lambda y, p: metrics.recall_score(y, p, **_POS0), "labels"),
        ("precision", metrics.precision_score, "labels"),
        ("recall", metrics.recall_score, "labels"),
        ("f1", metrics.f1_score, "labels"),
        ("r2", metrics.r2_score, "values"),
        ("mean_absolute_error", metrics.mean_absolute_error, "values"),
        ("mean_squared_error", metrics.mean_squared_error, "values"),
        ("root_mean_squared_error", metrics.root_mean_squared_error, "values"),
    ],
)
def test_named_metrics_equal_sklearn_on_the_resampled_rows(
    name, sklearn_metric, response
):
    # Small: some resamples have a single class or no predicted positive.
    y, score = _scored_sample(n=14, seed=1)
    y_pred = {
        "score": score,
        "labels": (score > 0.5).astype(int),
        "values": score + 0.3,
    }[response]
    y_true = y.astype(float) if response == "values" else y
    weights = next(bootstrap_weights(np.arange(len(y)) // 2, 80, 0))
    vectorised = resampled_metric(name, y_true, y_pred, weights, pos_label=1)
    expected = np.full(len(weights), np.nan)
    for b, row in enumerate(weights):
        drawn = _resample_rows(row)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected[b] = sklearn_metric(y_true[drawn], y_pred[drawn])
        except ValueError:
            pass
    defined = np.isfinite(vectorised)
    np.testing.assert_allclose(vectorised[defined], expected[defined], atol=1e-12)
    # Undefined only where a class is missing from the resample.
    one_class = np.array([len(np.unique(y[_resample_rows(w)])) < 2 for w in weights])
    assert not (~defined & ~one_class).any()


def test_roc_auc_ovr_is_the_mean_one_vs_rest_auc():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, size=60)
    proba = rng.dirichlet([1, 1, 1], size=60) + np.eye(3)[y]
    proba /= proba.sum(axis=1, keepdims=True)
    weights = next(bootstrap_weights(np.arange(60), 50, 0))
    values = resampled_metric("roc_auc_ovr", y, proba, weights)
    for row, value in zip(weights, values, strict=True):
        drawn = _resample_rows(row)
        assert value == pytest.approx(
            roc_auc_score(y[drawn], proba[drawn], multi_class="ovr")
        )


def test_subject_bootstrap_ci_resamples_whole_groups():
    y, score = _scored_sample(n=40, seed=3)
    # Each subject seen four times (four images of one patient, say).
    subject = np.repeat(np.arange(40), 4)
    repeated = subject_bootstrap_ci(
        y[subject], score[subject], "roc_auc", groups=subject, random_state=0
    )
    # Drawing the 40 subjects is the same bootstrap as on one row per subject.
    once = subject_bootstrap_ci(y, score, "roc_auc", random_state=0)
    assert repeated.estimate == pytest.approx(once.estimate)
    assert (repeated.low, repeated.high) == pytest.approx((once.low, once.high))
    # Drawing the rows treats the copies as independent subjects: too narrow.
    rows = subject_bootstrap_ci(y[subject], score[subject], "roc_auc", random_state=0)
    assert rows.high - rows.low < 0.7 * (once.high - once.low)

    # Every row of a drawn group comes with it, as often as the group.
    drawn_sets = []

    def record(y_true, rows_drawn):
        drawn_sets.append(rows_drawn)
        return 0.0

    groups = np.array(list("aabbbcdddd"))
    subject_bootstrap_ci(
        np.zeros(10), np.arange(10), record, groups=groups, n_resamples=50
    )
    for rows_drawn in drawn_sets[1:]:  # the first call is the estimate
        counts = np.bincount(rows_drawn, minlength=10)
        for group in "abcd":
            assert len(set(counts[groups == group])) == 1
        assert sum(counts[groups == g][0] for g in "abcd") == 4


def test_subject_bootstrap_ci_callable_metric_and_undefined_resamples():
    y, score = _scored_sample(n=8, seed=4)
    named = subject_bootstrap_ci(y, score, "roc_auc", n_resamples=150, random_state=0)
    called = subject_bootstrap_ci(
        y, score, roc_auc_score, n_resamples=150, random_state=0
    )
    # The same resamples; the single-class ones are left out of both.
    assert named == pytest.approx(called)
    assert named.n_resamples < 150


def test_subject_bootstrap_ci_is_the_same_in_chunks(monkeypatch):
    y, score = _scored_sample()
    whole = subject_bootstrap_ci(y, score, "roc_auc", random_state=0)
    monkeypatch.setattr(statistics, "_MAX_WEIGHT_CELLS", 7 * len(y))
    assert subject_bootstrap_ci(y, score, "roc_auc", random_state=0) == whole


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"metric": "auc"}, "Unknown metric 'auc'"),
        ({"metric": 3}, "metric name or a callable"),
        ({"y_pred": np.zeros(5)}, "one row per sample"),
        ({"y_pred": np.full(20, np.nan)}, "finite"),
        ({"groups": np.zeros(5)}, "groups must have one value per sample"),
        ({"n_resamples": 0}, "n_resamples"),
        ({"confidence": 1.0}, "confidence"),
        ({"pos_label": 2}, "pos_label=2 is not a class"),
        ({"y_true": np.arange(20)}, "binary"),
    ],
)
def test_subject_bootstrap_ci_validation(kwargs, match):
    y, score = _scored_sample(n=20)
    params = {"y_true": y, "y_pred": score, "metric": "roc_auc", **kwargs}
    with pytest.raises(ValueError, match=match):
        subject_bootstrap_ci(**params)


# delong_test ------------------------------------------------------------------


def _direct_delong(y, scores):
    """DeLong's covariance straight from the definition, in O(n^2)."""
    positives = scores[:, y == 1]
    negatives = scores[:, y == 0]
    # psi[k, i, j] compares positive i with negative j for scorer k.
    diff = positives[:, :, None] - negatives[:, None, :]
    psi = (diff > 0) + 0.5 * (diff == 0)
    aucs = psi.mean(axis=(1, 2))
    v10 = psi.mean(axis=2)
    v01 = psi.mean(axis=1)
    m, n = positives.shape[1], negatives.shape[1]
    covariance = np.cov(v10) / m + np.cov(v01) / n
    return aucs, covariance


def test_delong_matches_direct_implementation_with_ties():
    rng = np.random.default_rng(6)
    for _ in range(5):
        y = rng.integers(0, 2, size=40)
        y[:2] = [0, 1]
        # Rounded scores give many ties, within and across classes.
        a = np.round(y + rng.normal(size=40), 1)
        b = np.round(rng.normal(size=40), 1)
        aucs, covariance = _delong_covariance(y == 1, np.vstack([a, b]))
        expected_aucs, expected_covariance = _direct_delong(y, np.vstack([a, b]))
        np.testing.assert_allclose(aucs, expected_aucs, rtol=0, atol=1e-10)
        np.testing.assert_allclose(covariance, expected_covariance, atol=1e-10)

        variance = (
            expected_covariance[0, 0]
            + expected_covariance[1, 1]
            - 2 * expected_covariance[0, 1]
        )
        expected_z = (expected_aucs[0] - expected_aucs[1]) / np.sqrt(variance)
        result = delong_test(y, a, b)
        assert result.statistic == pytest.approx(expected_z, abs=1e-10)
        assert result.pvalue == pytest.approx(
            2 * stats.norm.sf(abs(expected_z)), abs=1e-10
        )


def test_delong_aucs_match_sklearn():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, size=100)
    a = np.round(y + rng.normal(size=100), 1)
    b = rng.normal(size=100)
    result = delong_test(y, a, b)
    assert result.auc_a == pytest.approx(roc_auc_score(y, a), abs=1e-12)
    assert result.auc_b == pytest.approx(roc_auc_score(y, b), abs=1e-12)


def test_delong_string_labels_use_larger_label_as_positive():
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, size=60)
    a = y + rng.normal(size=60)
    b = rng.normal(size=60)
    labels = np.array(["neg", "pos"])[y]
    assert delong_test(labels, a, b) == pytest.approx(delong_test(y, a, b))


def test_delong_identical_scores():
    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, size=50)
    a = y + rng.normal(size=50)
    result = delong_test(y, a, a.copy())
    assert result.statistic == 0
    assert result.pvalue == 1
    assert result.auc_a == result.auc_b


def test_delong_detects_clearly_better_scorer():
    rng = np.random.default_rng(10)
    y = rng.integers(0, 2, size=300)
    good = y + rng.normal(scale=0.5, size=300)
    poor = y + rng.normal(scale=3.0, size=300)
    result = delong_test(y, good, poor)
    assert result.auc_a > result.auc_b
    assert result.statistic > 0
    assert result.pvalue < 0.01
    swapped = delong_test(y, poor, good)
    assert swapped.statistic == pytest.approx(-result.statistic)
    assert swapped.pvalue == pytest.approx(result.pvalue)


def test_delong_pvalues_in_unit_interval():
    rng = np.random.default_rng(11)
    for _ in range(20):
        y = rng.integers(0, 2, size=30)
        y[:4] = [0, 0, 1, 1]
        a, b = rng.normal(size=(2, 30))
        assert 0 <= delong_test(y, a, b).pvalue <= 1


@pytest.mark.parametrize(
    ("y", "a", "b", "match"),
    [
        ([0, 1, 2, 0], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4], "binary"),
        ([0.5, 1.5, 0.5, 1.5], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4], "binary"),
        ([1, 1, 1, 1], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4], "both classes"),
        ([0, 1, 1, 1], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4], "at least 2"),
        ([0, 1, 0, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3, 0.4], "same length"),
        ([0, 1, 0, 1], [0.1, 0.2, 0.3, np.nan], [0.1, 0.2, 0.3, 0.4], "finite"),
    ],
)
def test_delong_validation(y, a, b, match):
    with pytest.raises(ValueError, match=match):
        delong_test(y, a, b)


# calibration_table ------------------------------------------------------------


def test_calibration_table_columns_and_empty_bins():
    y = np.array([0, 0, 1, 1, 1])
    proba = np.array([0.05, 0.15, 0.55, 0.95, 0.92])
    table = calibration_table(y, proba, n_bins=10)
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == [
        "bin",
        "mean_predicted",
        "fraction_positive",
        "count",
    ]
    assert len(table) == 10
    assert table["count"].tolist() == [1, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    assert table["mean_predicted"].isna().tolist() == [c == 0 for c in table["count"]]
    assert table.loc[9, "mean_predicted"] == pytest.approx(0.935)
    assert table.loc[9, "fraction_positive"] == 1.0


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_calibration_table_agrees_with_calibration_curve(strategy):
    rng = np.random.default_rng(12)
    # Probabilities on bin edges check that counts and means use the same bins.
    proba = np.concatenate([rng.uniform(size=200), np.linspace(0, 1, 11)])
    y = (rng.uniform(size=proba.shape[0]) < proba).astype(int)
    table = calibration_table(y, proba, n_bins=5, strategy=strategy)
    prob_true, prob_pred = calibration_curve(y, proba, n_bins=5, strategy=strategy)
    nonempty = table[table["count"] > 0]
    np.testing.assert_allclose(nonempty["mean_predicted"], prob_pred)
    np.testing.assert_allclose(nonempty["fraction_positive"], prob_true)
    assert table["count"].sum() == proba.shape[0]
    np.testing.assert_allclose(
        (nonempty["mean_predicted"] * nonempty["count"]).sum(), proba.sum()
    )
    np.testing.assert_allclose(
        (nonempty["fraction_positive"] * nonempty["count"]).sum(), y.sum()
    )


def test_calibration_table_string_labels():
    y = np.array(["no", "no", "yes", "yes"])
    table = calibration_table(y, [0.1, 0.2, 0.7, 0.9], n_bins=2)
    assert table["fraction_positive"].tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    ("y", "proba", "kwargs", "match"),
    [
        ([0, 1, 2], [0.1, 0.5, 0.9], {}, "binary"),
        ([0, 1, 1], [0.1, 0.5], {}, "same length"),
        ([0, 1, 1], [0.1, 0.5, 1.2], {}, r"\[0, 1\]"),
        ([0, 1, 1], [0.1, 0.5, 0.9], {"n_bins": 0}, "n_bins"),
        ([0, 1, 1], [0.1, 0.5, 0.9], {"strategy": "kmeans"}, "strategy"),
        (["a", "a"], [0.1, 0.5], {}, "ambiguous"),
    ],
)
def test_calibration_table_validation(y, proba, kwargs, match):
    with pytest.raises(ValueError, match=match):
        calibration_table(y, proba, **kwargs)
