"""Statistics for comparing fusion strategies evaluated on the same data.

Cross-validated scores of two strategies are paired (same folds) and the folds
overlap in their training sets, so naive tests are anti-conservative. This module
gathers the tests and summaries that account for that: the corrected resampled
t-test for per-fold scores, bootstrap confidence intervals for a summary of fold
scores, the subject bootstrap of a metric of pooled out-of-fold predictions
(which needs no more than one split), DeLong's test for two correlated ROC AUCs
and a calibration table.
"""

import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.calibration import calibration_curve
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.multiclass import type_of_target

from ..utils._docstrings import fill_docstring

__all__ = [
    "DeLongResult",
    "SubjectBootstrapResult",
    "TTestResult",
    "bootstrap_ci",
    "calibration_table",
    "corrected_resampled_ttest",
    "bootstrap_weights",
    "delong_test",
    "percentile_interval",
    "resampled_metric",
    "subject_bootstrap_ci",
]


class TTestResult(NamedTuple):
    """Result of :func:`corrected_resampled_ttest`.

    Attributes
    ----------
    statistic : float
        The t statistic of the mean difference ``a - b``.
    pvalue : float
        The two-sided p-value.
    mean_difference : float
        The mean of the paired differences ``scores_a - scores_b``.
    df : int
        The degrees of freedom, the number of paired scores minus one.
    """

    statistic: float
    pvalue: float
    mean_difference: float
    df: int


class DeLongResult(NamedTuple):
    """Result of :func:`delong_test`.

    Attributes
    ----------
    auc_a : float
        The ROC AUC of the first scorer.
    auc_b : float
        The ROC AUC of the second scorer.
    statistic : float
        The z statistic of ``auc_a - auc_b``.
    pvalue : float
        The two-sided p-value under the standard normal distribution.
    """

    auc_a: float
    auc_b: float
    statistic: float
    pvalue: float


class SubjectBootstrapResult(NamedTuple):
    """Result of :func:`subject_bootstrap_ci`.

    Attributes
    ----------
    estimate : float
        The metric on all the samples.
    low : float
        The lower bound of the percentile interval.
    high : float
        The upper bound of the percentile interval.
    n_resamples : int
        The resamples on which the metric is defined, from which the interval
        is computed (a resample with a single class has no ROC AUC, say).
    """

    estimate: float
    low: float
    high: float
    n_resamples: int


def _check_positive_integer(value, name):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _check_finite_1d(values, name):
    values = np.asarray(values, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {values.shape}.")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must contain only finite values.")
    return values


def _zero_variance_result(mean):
    # Without spread, any non-zero difference is infinitely many standard errors
    # from zero and a zero difference is exactly the null hypothesis.
    if mean == 0:
        return 0.0, 1.0
    return float(np.copysign(np.inf, mean)), 0.0


def corrected_resampled_ttest(scores_a, scores_b, n_train, n_test):
    """Compare paired per-fold scores with the corrected resampled t-test.

    The test of Nadeau and Bengio (2003) inflates the variance of the paired
    differences to account for the overlap of the training sets across folds::

        var = (1 / J + n_test / n_train) * var(a - b, ddof=1)
        t = mean(a - b) / sqrt(var)

    with ``J`` the number of scores (folds times repetitions) and ``J - 1``
    degrees of freedom. It suits k-fold cross-validation, repeated or not.

    Parameters
    ----------
    scores_a : array-like of shape (n_scores,)
        The scores of the first strategy, one per fold.

    scores_b : array-like of shape (n_scores,)
        The scores of the second strategy on the same folds, in the same order.

    n_train : int
        The number of training samples of one fold.

    n_test : int
        The number of test samples of one fold.

    Returns
    -------
    result : TTestResult
        The named tuple ``(statistic, pvalue, mean_difference, df)``. If all
        the differences are equal, the statistic is ``0`` with a p-value of
        ``1`` when they are zero, and ``±inf`` with a p-value of ``0``
        otherwise.

    References
    ----------
    .. [1] C. Nadeau and Y. Bengio, "Inference for the Generalization Error",
       Machine Learning, 52(3), 239-281, 2003.
    .. [2] R. R. Bouckaert and E. Frank, "Evaluating the Replicability of
       Significance Tests for Comparing Learning Algorithms", PAKDD, 2004.

    Examples
    --------
    >>> from skfusion.study import corrected_resampled_ttest
    >>> a = [0.81, 0.84, 0.79, 0.86, 0.83]
    >>> b = [0.78, 0.80, 0.79, 0.81, 0.80]
    >>> result = corrected_resampled_ttest(a, b, n_train=80, n_test=20)
    >>> round(result.mean_difference, 3), result.df
    (0.03, 4)
    >>> round(result.statistic, 3), round(result.pvalue, 3)
    (2.39, 0.075)
    """
    a = _check_finite_1d(scores_a, "scores_a")
    b = _check_finite_1d(scores_b, "scores_b")
    if a.shape != b.shape:
        raise ValueError(
            "scores_a and scores_b must have the same length, got "
            f"{a.shape[0]} and {b.shape[0]}."
        )
    n_scores = a.shape[0]
    if n_scores < 2:
        raise ValueError(f"At least 2 paired scores are needed, got {n_scores}.")
    n_train = _check_positive_integer(n_train, "n_train")
    n_test = _check_positive_integer(n_test, "n_test")

    differences = a - b
    mean = float(differences.mean())
    df = n_scores - 1
    variance = float(differences.var(ddof=1))
    corrected = (1 / n_scores + n_test / n_train) * variance
    if corrected == 0:
        statistic, pvalue = _zero_variance_result(mean)
    else:
        statistic = mean / np.sqrt(corrected)
        pvalue = float(2 * stats.t.sf(abs(statistic), df))
    return TTestResult(float(statistic), pvalue, mean, df)


@fill_docstring
def bootstrap_ci(
    values, *, confidence=0.95, n_resamples=9999, statistic=np.mean, random_state=None
):
    """Bootstrap confidence interval of a statistic of fold scores.

    Uses :func:`scipy.stats.bootstrap` with the bias-corrected and accelerated
    (BCa) interval, and falls back to the percentile interval when BCa is
    undefined (for instance when the jackknife values are all equal).

    Parameters
    ----------
    values : array-like of shape (n_values,)
        The scores, typically one per fold; at least 2.

    confidence : float, default=0.95
        The confidence level, in ``(0, 1)``.

    n_resamples : int, default=9999
        The number of bootstrap resamples.

    statistic : callable, default=np.mean
        The statistic of a one-dimensional sample. If it accepts an ``axis``
        keyword, it is evaluated on all resamples at once.

    %(resampling_random_state)s

    Returns
    -------
    low : float
        The lower bound of the interval.

    high : float
        The upper bound of the interval.

    References
    ----------
    .. [1] B. Efron, "Better Bootstrap Confidence Intervals", Journal of the
       American Statistical Association, 82(397), 171-185, 1987.
    .. [2] B. Efron and R. J. Tibshirani, "An Introduction to the Bootstrap",
       Chapman & Hall/CRC, 1993.

    Examples
    --------
    >>> from skfusion.study import bootstrap_ci
    >>> scores = [0.81, 0.84, 0.79, 0.86, 0.83, 0.80, 0.85, 0.82]
    >>> low, high = bootstrap_ci(scores, random_state=0)
    >>> bool(low < 0.825 < high)
    True
    """
    values = _check_finite_1d(values, "values")
    if values.shape[0] < 2:
        raise ValueError(f"At least 2 values are needed, got {values.shape[0]}.")
    if (
        not isinstance(confidence, Real)
        or isinstance(confidence, bool)
        or not 0 < confidence < 1
    ):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}.")
    n_resamples = _check_positive_integer(n_resamples, "n_resamples")
    if not callable(statistic):
        raise ValueError("statistic must be callable.")
    # scipy takes a numpy Generator; derive its seed from the sklearn-style
    # random_state so that an int, a RandomState or None all work.
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)

    for method in ("BCa", "percentile"):
        # A degenerate BCa interval warns and divides by zero before it yields
        # NaN bounds; the NaN bounds alone trigger the fallback.
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore", stats.DegenerateDataWarning)
            result = stats.bootstrap(
                (values,),
                statistic,
                n_resamples=n_resamples,
                confidence_level=confidence,
                method=method,
                rng=np.random.default_rng(seed),
            )
        low, high = result.confidence_interval
        if np.isfinite(low) and np.isfinite(high):
            return float(low), float(high)
    # Only a statistic that is itself undefined on the resamples ends here.
    raise ValueError("The bootstrap interval is undefined for these values.")


# Subject bootstrap -----------------------------------------------------------
#
# A resample draws the subjects (or whole groups) with replacement; drawing a
# subject k times is the same as giving its rows the weight k, so every named
# metric is computed on all the resamples of a chunk at once, as a weighted
# metric over an array of weights of shape (n_resamples, n_samples).

# Resamples x samples of one chunk of weights (32 MiB of float64).
_MAX_WEIGHT_CELLS = 2**22


def _check_confidence(confidence):
    if (
        not isinstance(confidence, Real)
        or isinstance(confidence, bool)
        or not 0 < confidence < 1
    ):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}.")
    return float(confidence)


def _weighted_counts_by_score(positive, score, weights):
    """Weighted positives and negatives per distinct score, in increasing order.

    ``weights`` has one row per resample; tied scores form one group.
    """
    order = np.argsort(score, kind="stable")
    ordered = score[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    weights = weights[:, order]
    positive = positive[order]
    pos = np.add.reduceat(weights * positive, starts, axis=1)
    neg = np.add.reduceat(weights * ~positive, starts, axis=1)
    return pos, neg


def _weighted_auc(positive, score, weights):
    # Mann-Whitney with weights: each positive beats the weight of the
    # negatives scored below it, and half the weight of those tied with it.
    pos, neg = _weighted_counts_by_score(positive, score, weights)
    below = np.cumsum(neg, axis=1) - neg
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (pos * (below + neg / 2)).sum(axis=1) / (n_pos * n_neg)
    auc[(n_pos == 0) | (n_neg == 0)] = np.nan
    return auc


def _weighted_average_precision(positive, score, weights):
    # sklearn's step integral: the precision at each distinct threshold, from
    # the highest down, weighted by the recall it adds.
    pos, neg = _weighted_counts_by_score(positive, -score, weights)
    true_pos = np.cumsum(pos, axis=1)
    called = true_pos + np.cumsum(neg, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(called > 0, true_pos / called, 0.0)
        average = (pos * precision).sum(axis=1) / true_pos[:, -1]
    average[true_pos[:, -1] == 0] = np.nan
    return average


def _weighted_rate(hits, support, weights):
    # The weighted share of ``support`` rows that are ``hits``.
    with np.errstate(divide="ignore", invalid="ignore"):
        return (weights @ (hits & support)) / (weights @ support)


def _roc_auc(y_true, y_pred, weights, pos_label):
    return _weighted_auc(y_true == pos_label, y_pred, weights)


def _average_precision(y_true, y_pred, weights, pos_label):
    return _weighted_average_precision(y_true == pos_label, y_pred, weights)


def _roc_auc_ovr(y_true, y_pred, weights, pos_label):
    classes = np.unique(y_true)
    if y_pred.ndim != 2 or y_pred.shape[1] != len(classes):
        raise ValueError(
            "roc_auc_ovr needs y_pred of shape (n_samples, n_classes), one column "
            f"per class of y_true ({len(classes)}); got shape {y_pred.shape}."
        )
    # A resample that misses a class has no one-vs-rest AUC of it: NaN.
    aucs = [
        _weighted_auc(y_true == label, y_pred[:, k], weights)
        for k, label in enumerate(classes)
    ]
    return np.mean(aucs, axis=0)


def _accuracy(y_true, y_pred, weights, pos_label):
    return (weights @ (y_true == y_pred)) / weights.sum(axis=1)


def _balanced_accuracy(y_true, y_pred, weights, pos_label):
    # As sklearn: the mean recall of the classes present in the resample.
    recalls = np.column_stack(
        [
            _weighted_rate(y_pred == label, y_true == label, weights)
            for label in np.unique(y_true)
        ]
    )
    return np.nanmean(recalls, axis=1)


def _sensitivity(y_true, y_pred, weights, pos_label):
    return _weighted_rate(y_pred == pos_label, y_true == pos_label, weights)


def _specificity(y_true, y_pred, weights, pos_label):
    return _weighted_rate(y_pred != pos_label, y_true != pos_label, weights)


def _positive_counts(y_true, y_pred, weights, pos_label):
    actual, predicted = y_true == pos_label, y_pred == pos_label
    return (
        weights @ (actual & predicted),
        weights @ (~actual & predicted),
        weights @ (actual & ~predicted),
    )


def _ratio_or_zero(numerator, denominator):
    # sklearn's zero_division="warn": 0 where the ratio is undefined.
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / denominator, 0.0)


def _precision(y_true, y_pred, weights, pos_label):
    tp, fp, _ = _positive_counts(y_true, y_pred, weights, pos_label)
    return _ratio_or_zero(tp, tp + fp)


def _recall(y_true, y_pred, weights, pos_label):
    tp, _, fn = _positive_counts(y_true, y_pred, weights, pos_label)
    return _ratio_or_zero(tp, tp + fn)


def _f1(y_true, y_pred, weights, pos_label):
    tp, fp, fn = _positive_counts(y_true, y_pred, weights, pos_label)
    return _ratio_or_zero(2 * tp, 2 * tp + fp + fn)


def _r2(y_true, y_pred, weights, pos_label):
    total = weights.sum(axis=1)
    mean = (weights @ y_true) / total
    spread = (weights * (y_true - mean[:, None]) ** 2).sum(axis=1)
    residual = weights @ (y_true - y_pred) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1 - residual / spread
    # sklearn's r2_score(force_finite=True) for a constant target.
    return np.where(spread > 0, r2, np.where(residual == 0, 1.0, 0.0))


def _mean_absolute_error(y_true, y_pred, weights, pos_label):
    return (weights @ np.abs(y_true - y_pred)) / weights.sum(axis=1)


def _mean_squared_error(y_true, y_pred, weights, pos_label):
    return (weights @ (y_true - y_pred) ** 2) / weights.sum(axis=1)


def _root_mean_squared_error(y_true, y_pred, weights, pos_label):
    return np.sqrt(_mean_squared_error(y_true, y_pred, weights, pos_label))


def _labelwise(metric, y_true, y_pred, weights):
    # One column per label; NaN where a resample leaves a label undefined.
    return np.column_stack(
        [
            metric(y_true[:, k] == 1, y_pred[:, k], weights)
            for k in range(y_true.shape[1])
        ]
    )


def _multilabel_roc_auc(y_true, y_pred, weights, pos_label):
    # sklearn's macro average: the mean of the labels' AUCs, undefined (NaN)
    # when a label is undefined.
    return _labelwise(_weighted_auc, y_true, y_pred, weights).mean(axis=1)


def _multilabel_average_precision(y_true, y_pred, weights, pos_label):
    return _labelwise(_weighted_average_precision, y_true, y_pred, weights).mean(axis=1)


def _micro_roc_auc(y_true, y_pred, weights, pos_label):
    # Every (sample, label) cell one observation, weighted as its sample.
    n_labels = y_true.shape[1]
    return _weighted_auc(
        y_true.ravel() == 1, y_pred.ravel(), np.repeat(weights, n_labels, axis=1)
    )


def _hamming_loss(y_true, y_pred, weights, pos_label):
    wrong = (y_true != y_pred).mean(axis=1)
    return (weights @ wrong) / weights.sum(axis=1)


def _f1_samples(y_true, y_pred, weights, pos_label):
    # Each sample's F1 of its label set (0 where both sets are empty, as
    # sklearn's zero_division="warn"), averaged with the sample weights.
    true, called = y_true == 1, y_pred == 1
    hits = (true & called).sum(axis=1)
    size = true.sum(axis=1) + called.sum(axis=1)
    per_sample = _ratio_or_zero(2 * hits, size)
    return (weights @ per_sample) / weights.sum(axis=1)


def _harrell_c(y_true, y_pred, weights, pos_label):
    # Every pair weighed by the product of its rows' weights (O(n^2) memory
    # per chunk of resamples, so the chunks are kept small).
    from ._survival import weighted_harrell_c

    return np.concatenate(
        [
            weighted_harrell_c(y_true, y_pred, weights[start : start + 8])
            for start in range(0, len(weights), 8)
        ]
    )


# Name -> (weighted metric, kind of target, kind of y_pred).
_NAMED_METRICS = {
    "roc_auc": (_roc_auc, "binary", "score"),
    "average_precision": (_average_precision, "binary", "score"),
    "roc_auc_ovr": (_roc_auc_ovr, "classes", "proba"),
    "accuracy": (_accuracy, "classes", "labels"),
    "balanced_accuracy": (_balanced_accuracy, "classes", "labels"),
    "sensitivity": (_sensitivity, "binary", "labels"),
    "specificity": (_specificity, "binary", "labels"),
    "precision": (_precision, "binary", "labels"),
    "recall": (_recall, "binary", "labels"),
    "f1": (_f1, "binary", "labels"),
    "r2": (_r2, "continuous", "values"),
    "multilabel_roc_auc": (_multilabel_roc_auc, "multilabel", "proba"),
    "multilabel_average_precision": (
        _multilabel_average_precision,
        "multilabel",
        "proba",
    ),
    "micro_roc_auc": (_micro_roc_auc, "multilabel", "proba"),
    "hamming_loss": (_hamming_loss, "multilabel", "labels"),
    "f1_samples": (_f1_samples, "multilabel", "labels"),
    "harrell_c": (_harrell_c, "survival", "score"),
    "mean_absolute_error": (_mean_absolute_error, "continuous", "values"),
    "mean_squared_error": (_mean_squared_error, "continuous", "values"),
    "root_mean_squared_error": (_root_mean_squared_error, "continuous", "values"),
}


def bootstrap_weights(groups, n_resamples, random_state=None):
    """Yield the subject weights of every bootstrap resample, a chunk at a time.

    A resample draws as many groups as there are, with replacement; the weight
    of a sample is how many times its group is drawn. These are the resamples
    of :func:`subject_bootstrap_ci`, for a caller that scores several sets of
    predictions of the same samples on the same resamples (the strategies and
    repeats of a :class:`~skfusion.study.FusionStudy`).

    Parameters
    ----------
    groups : ndarray of shape (n_samples,)
        The group of each sample (``np.arange(n_samples)`` for independent
        samples); whole groups are drawn.

    n_resamples : int
        The number of resamples, over all chunks.

    random_state : int, RandomState instance or None, default=None
        Seeds the draws; the same seed yields the same weights.

    Yields
    ------
    weights : ndarray of shape (n_chunk, n_samples)
        How many times each sample is drawn in each resample of the chunk.

    See Also
    --------
    resampled_metric : A metric on every resample of a chunk of weights.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.study.statistics import bootstrap_weights
    >>> weights = np.vstack(list(bootstrap_weights([0, 0, 1, 1], 3, random_state=0)))
    >>> weights.shape
    (3, 4)
    >>> bool((weights[:, 0] == weights[:, 1]).all())  # a group is drawn whole
    True
    """
    rng = check_random_state(random_state)
    _, codes = np.unique(groups, return_inverse=True)
    codes = codes.ravel()
    n_groups = int(codes.max()) + 1
    chunk = max(1, _MAX_WEIGHT_CELLS // len(codes))
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        # n_groups draws with replacement: how often each group is drawn.
        counts = rng.multinomial(n_groups, np.full(n_groups, 1 / n_groups), size)
        yield counts[:, codes].astype(float)


def resampled_metric(metric, y_true, y_pred, weights, pos_label=None):
    """A metric on every resample of a chunk of weights; NaN where undefined.

    Parameters
    ----------
    metric : str or callable
        A metric name of :func:`subject_bootstrap_ci`, computed on all the
        resamples at once as a weighted metric; or a callable
        ``metric(y_true, y_pred) -> float``, computed on each resample in
        turn, its rows repeated as drawn (a ``ValueError`` it raises leaves
        the resample NaN).

    y_true : ndarray of shape (n_samples,) or (n_samples, n_labels)
        The target (2-D for the multi-label metrics).

    y_pred : ndarray of shape (n_samples,) or (n_samples, n_classes)
        What the metric scores, as in :func:`subject_bootstrap_ci`.

    weights : ndarray of shape (n_resamples, n_samples)
        How many times each sample is drawn in each resample, as yielded by
        :func:`bootstrap_weights`; a row of ones gives the metric on the
        samples themselves.

    pos_label : object, default=None
        The positive class of the metrics that take one.

    Returns
    -------
    values : ndarray of shape (n_resamples,)
        The metric on each resample.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.study.statistics import resampled_metric
    >>> y = np.array([0, 1, 1, 0])
    >>> weights = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 2.0, 1.0, 1.0]])
    >>> resampled_metric("accuracy", y, np.array([0, 1, 0, 0]), weights).tolist()
    [0.75, 0.75]
    """
    if isinstance(metric, str):
        function = _NAMED_METRICS[metric][0]
        return np.asarray(function(y_true, y_pred, weights, pos_label), dtype=float)
    rows = np.arange(len(y_true))
    values = np.full(len(weights), np.nan)
    for b, counts in enumerate(weights.astype(np.intp)):
        drawn = np.repeat(rows, counts)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values[b] = metric(y_true[drawn], y_pred[drawn])
        except ValueError:  # undefined on this resample (a single class...)
            pass
    return values


def percentile_interval(distribution, confidence):
    """Percentile bounds of the finite values of a bootstrap distribution.

    Parameters
    ----------
    distribution : ndarray of shape (n_resamples,)
        A statistic on every resample; NaN marks a resample on which it is
        undefined, and is left out.

    confidence : float
        The confidence level, in ``(0, 1)``.

    Returns
    -------
    low, high : float
        The bounds (NaN when no value is finite).

    n_valid : int
        The number of finite values.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.study.statistics import percentile_interval
    >>> percentile_interval(np.array([1.0, 2.0, np.nan, 3.0]), 0.5)
    (1.5, 2.5, 3)
    """
    distribution = distribution[np.isfinite(distribution)]
    if len(distribution) == 0:
        return np.nan, np.nan, 0
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(distribution, [tail, 100 - tail])
    return float(low), float(high), len(distribution)


@fill_docstring
def subject_bootstrap_ci(
    y_true,
    y_pred,
    metric,
    *,
    groups=None,
    n_resamples=1000,
    confidence=0.95,
    pos_label=None,
    random_state=None,
):
    """Bootstrap confidence interval of a metric, resampling subjects.

    Draws the samples (the subjects of a study) with replacement, or whole
    groups when ``groups`` are given (all the images of a patient, say),
    computes the metric on each resample and returns the percentile interval.
    Applied to the pooled out-of-fold predictions of a cross-validation, or to
    the predictions on one test set, it gives an interval from a single
    split, where an interval of the fold scores needs several folds.

    The named metrics are computed on all the resamples at once, as weighted
    metrics (a sample drawn ``k`` times weighs ``k``), and agree with
    scikit-learn's metric of the same name on the resampled rows. A resample
    on which the metric is undefined (a single class for a ROC AUC) is left
    out of the interval; ``n_resamples`` of the result says how many remain.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        The target.

    y_pred : array-like of shape (n_samples,) or (n_samples, n_classes)
        What the metric scores: the score of the positive class for
        ``"roc_auc"`` and ``"average_precision"``, the class probabilities
        (columns in sorted class order) for ``"roc_auc_ovr"``, predicted
        labels for the other classification metrics, predicted values for the
        regression ones, or any input of a callable ``metric``.

    metric : str or callable
        One of ``"roc_auc"``, ``"average_precision"``, ``"roc_auc_ovr"``,
        ``"accuracy"``, ``"balanced_accuracy"``, ``"sensitivity"`` (the
        recall of ``pos_label``), ``"specificity"`` (the recall of the other
        class), ``"precision"``, ``"recall"``, ``"f1"`` (of ``pos_label``),
        ``"r2"``, ``"mean_absolute_error"``, ``"mean_squared_error"`` or
        ``"root_mean_squared_error"``, as in :mod:`sklearn.metrics` (errors
        are positive, not negated as scorers do); for a multi-label target
        (``y_true`` of shape ``(n_samples, n_labels)``, 0/1),
        ``"multilabel_roc_auc"`` and ``"multilabel_average_precision"`` (the
        macro averages over labels of ``y_pred``'s per-label probabilities),
        ``"micro_roc_auc"``, ``"hamming_loss"`` and ``"f1_samples"`` (of the
        0/1 ``y_pred``); for a survival target (a structured array with
        ``event`` and ``time`` fields), ``"harrell_c"`` of the risk scores
        ``y_pred``. Sensitivity, specificity
        and average precision are undefined (the resample left out) without a
        row of their class; precision, recall and F1 are then 0,
        scikit-learn's default ``zero_division``. Or a callable
        ``metric(y_true, y_pred) -> float``, such as
        :func:`sklearn.metrics.matthews_corrcoef`, evaluated resample by resample
        (slower); a ``ValueError`` it raises marks the resample undefined.

    groups : array-like of shape (n_samples,), default=None
        The group of each sample; a resample draws as many groups as there
        are, with replacement, and takes every sample of each. None draws the
        samples themselves.

    n_resamples : int, default=1000
        The number of resamples.

    confidence : float, default=0.95
        The confidence level, in ``(0, 1)``.

    pos_label : int, float, bool or str, default=None
        The positive class of ``"roc_auc"``, ``"sensitivity"`` and
        ``"specificity"``; None takes the greater label, as scikit-learn does.

    %(resampling_random_state)s

    Returns
    -------
    result : SubjectBootstrapResult
        The named tuple ``(estimate, low, high, n_resamples)``: the metric on
        all the samples, the percentile interval, and the number of resamples
        on which the metric is defined. The bounds are NaN if it is defined on
        none.

    References
    ----------
    .. [1] B. Efron and R. J. Tibshirani, "An Introduction to the Bootstrap",
       Chapman & Hall/CRC, 1993.
    .. [2] A. C. Davison and D. V. Hinkley, "Bootstrap Methods and their
       Application", Cambridge University Press, 1997, section 3.8 (resampling
       clusters).

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.study.statistics import subject_bootstrap_ci
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, size=200)
    >>> score = y + rng.normal(size=200)
    >>> result = subject_bootstrap_ci(y, score, "roc_auc", random_state=0)
    >>> bool(result.low < result.estimate < result.high)
    True
    >>> result == subject_bootstrap_ci(y, score, "roc_auc", random_state=0)
    True
    """
    multilabel = (
        isinstance(metric, str)
        and metric in _NAMED_METRICS
        and _NAMED_METRICS[metric][1] in ("multilabel", "survival")
    )
    y_true = np.asarray(y_true) if multilabel else column_or_1d(y_true)
    y_pred = np.asarray(y_pred)
    n_samples = y_true.shape[0]
    if n_samples == 0:
        raise ValueError("y_true is empty.")
    if y_pred.ndim not in (1, 2) or y_pred.shape[0] != n_samples:
        raise ValueError(
            f"y_pred must have one row per sample of y_true ({n_samples}); got "
            f"shape {y_pred.shape}."
        )
    if isinstance(metric, str):
        if metric not in _NAMED_METRICS:
            raise ValueError(
                f"Unknown metric {metric!r}; name one of {sorted(_NAMED_METRICS)} "
                "or pass a callable metric(y_true, y_pred)."
            )
        _, target, scored = _NAMED_METRICS[metric]
        if target == "binary":
            y_true = _check_binary(y_true)
            classes = np.unique(y_true)
            if pos_label is None:
                pos_label = classes[1]
            elif pos_label not in classes:
                raise ValueError(
                    f"pos_label={pos_label!r} is not a class of y_true "
                    f"{classes.tolist()}."
                )
        elif target == "continuous":
            y_true = _check_finite_1d(y_true, "y_true")
        if scored in ("score", "proba", "values"):
            y_pred = np.asarray(y_pred, dtype=float)
            if not np.all(np.isfinite(y_pred)):
                raise ValueError("y_pred must contain only finite values.")
    elif not callable(metric):
        raise ValueError(f"metric must be a metric name or a callable, got {metric!r}.")
    if groups is None:
        groups = np.arange(n_samples)
    else:
        groups = column_or_1d(groups)
        if groups.shape[0] != n_samples:
            raise ValueError(
                f"groups must have one value per sample ({n_samples}); got "
                f"{groups.shape[0]}."
            )
    n_resamples = _check_positive_integer(n_resamples, "n_resamples")
    confidence = _check_confidence(confidence)

    if isinstance(metric, str):
        ones = np.ones((1, n_samples))
        estimate = float(resampled_metric(metric, y_true, y_pred, ones, pos_label)[0])
    else:
        estimate = float(metric(y_true, y_pred))
    distribution = np.concatenate(
        [
            resampled_metric(metric, y_true, y_pred, weights, pos_label)
            for weights in bootstrap_weights(groups, n_resamples, random_state)
        ]
    )
    low, high, n_valid = percentile_interval(distribution, confidence)
    return SubjectBootstrapResult(estimate, low, high, n_valid)


def _check_binary(y_true):
    y_true = column_or_1d(y_true)
    if type_of_target(y_true, input_name="y_true") != "binary":
        raise ValueError(
            "y_true must be binary, got target type "
            f"{type_of_target(y_true, input_name='y_true')!r}."
        )
    return y_true


def _positive_label(classes):
    # The larger label is the positive class, as in sklearn's scorers; {0} and
    # {1} alone are read as the usual 0/1 encoding.
    if len(classes) == 2:
        return classes[1]
    if classes[0] in (0, 1, -1):
        return 1
    raise ValueError(
        f"y_true has a single class {classes[0]!r}; the positive class is ambiguous."
    )


def _delong_covariance(y_true, scores):
    """AUCs and their DeLong covariance, by the midrank algorithm of Sun and Xu.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,)
        Boolean, True for the positive class.

    scores : ndarray of shape (n_scorers, n_samples)
        Higher scores mean more likely positive.

    Returns
    -------
    aucs : ndarray of shape (n_scorers,)

    covariance : ndarray of shape (n_scorers, n_scorers)
    """
    positives = scores[:, y_true]
    negatives = scores[:, ~y_true]
    m, n = positives.shape[1], negatives.shape[1]
    ranks_pos = stats.rankdata(positives, axis=1)
    ranks_neg = stats.rankdata(negatives, axis=1)
    ranks_all = stats.rankdata(np.hstack([positives, negatives]), axis=1)
    aucs = (ranks_all[:, :m].sum(axis=1) - m * (m + 1) / 2) / (m * n)
    # Structural components: for a positive, the share of negatives it beats;
    # for a negative, the share of positives that beat it (ties count half).
    v10 = (ranks_all[:, :m] - ranks_pos) / n
    v01 = 1 - (ranks_all[:, m:] - ranks_neg) / m
    covariance = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return aucs, covariance


def delong_test(y_true, scores_a, scores_b):
    """DeLong's test for two correlated ROC AUCs on the same samples.

    The two scorers are evaluated on the same samples, so their AUCs are
    correlated; DeLong, DeLong and Clarke-Pearson (1988) estimate the covariance
    of the two AUCs nonparametrically from the placement values. The covariance
    is computed with the fast midrank algorithm of Sun and Xu (2014), in
    ``O(n log n)`` time.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels. The larger label is the positive class.

    scores_a : array-like of shape (n_samples,)
        Scores of the first strategy; higher means more likely positive.

    scores_b : array-like of shape (n_samples,)
        Scores of the second strategy on the same samples.

    Returns
    -------
    result : DeLongResult
        The named tuple ``(auc_a, auc_b, statistic, pvalue)``, with the z
        statistic of ``auc_a - auc_b`` and its two-sided normal p-value. When
        the variance of the difference is zero (for instance identical scores),
        the statistic is ``0`` with a p-value of ``1`` if the AUCs are equal,
        and ``±inf`` with a p-value of ``0`` otherwise.

    References
    ----------
    .. [1] E. R. DeLong, D. M. DeLong and D. L. Clarke-Pearson, "Comparing the
       Areas under Two or More Correlated Receiver Operating Characteristic
       Curves: A Nonparametric Approach", Biometrics, 44(3), 837-845, 1988.
    .. [2] X. Sun and W. Xu, "Fast Implementation of DeLong's Algorithm for
       Comparing the Areas Under Correlated Receiver Operating Characteristic
       Curves", IEEE Signal Processing Letters, 21(11), 1389-1393, 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.study import delong_test
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, size=200)
    >>> good = y + rng.normal(scale=0.5, size=200)
    >>> poor = y + rng.normal(scale=2.0, size=200)
    >>> result = delong_test(y, good, poor)
    >>> bool(result.auc_a > result.auc_b), bool(result.pvalue < 0.01)
    (True, True)
    """
    y_true = _check_binary(y_true)
    classes = np.unique(y_true)
    if len(classes) != 2:
        raise ValueError("y_true must contain both classes to compute a ROC AUC.")
    a = _check_finite_1d(scores_a, "scores_a")
    b = _check_finite_1d(scores_b, "scores_b")
    if not a.shape[0] == b.shape[0] == y_true.shape[0]:
        raise ValueError(
            "y_true, scores_a and scores_b must have the same length, got "
            f"{y_true.shape[0]}, {a.shape[0]} and {b.shape[0]}."
        )
    positive = y_true == classes[1]
    if positive.sum() < 2 or (~positive).sum() < 2:
        raise ValueError("Each class needs at least 2 samples for DeLong's test.")

    aucs, covariance = _delong_covariance(positive, np.vstack([a, b]))
    difference = float(aucs[0] - aucs[1])
    variance = float(covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1])
    # Rounding can leave a tiny non-zero variance for identical scorers.
    if variance <= 1e-15 * max(covariance[0, 0], covariance[1, 1], 1e-300):
        statistic, pvalue = _zero_variance_result(difference)
    else:
        statistic = difference / np.sqrt(variance)
        pvalue = float(2 * stats.norm.sf(abs(statistic)))
    return DeLongResult(float(aucs[0]), float(aucs[1]), float(statistic), pvalue)


def calibration_table(y_true, proba, n_bins=10, strategy="uniform"):
    """Reliability table of predicted probabilities for a binary target.

    Built on :func:`sklearn.calibration.calibration_curve`, with one row per
    bin, empty bins included (their means are NaN). Use
    :func:`sklearn.metrics.brier_score_loss` for a single calibration score.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels. The larger label is the positive class.

    proba : array-like of shape (n_samples,)
        Predicted probabilities of the positive class, in ``[0, 1]``.

    n_bins : int, default=10
        The number of bins.

    strategy : {"uniform", "quantile"}, default="uniform"
        ``"uniform"`` uses bins of equal width on ``[0, 1]``; ``"quantile"``
        uses bins with the same number of samples, at the quantiles of
        ``proba``.

    Returns
    -------
    table : pandas.DataFrame
        One row per bin with columns ``bin`` (the bin index), ``mean_predicted``
        (the mean predicted probability), ``fraction_positive`` (the observed
        fraction of positives) and ``count`` (the number of samples).

    References
    ----------
    .. [1] M. H. DeGroot and S. E. Fienberg, "The Comparison and Evaluation of
       Forecasters", Journal of the Royal Statistical Society. Series D,
       32(1/2), 12-22, 1983.
    .. [2] A. Niculescu-Mizil and R. Caruana, "Predicting Good Probabilities
       with Supervised Learning", ICML, 2005.

    Examples
    --------
    >>> from skfusion.study import calibration_table
    >>> y = [0, 0, 1, 0, 1, 1]
    >>> proba = [0.1, 0.2, 0.3, 0.6, 0.8, 0.9]
    >>> calibration_table(y, proba, n_bins=2)
       bin  mean_predicted  fraction_positive  count
    0    0        0.200000           0.333333      3
    1    1        0.766667           0.666667      3
    """
    y_true = _check_binary(y_true)
    proba = _check_finite_1d(proba, "proba")
    if proba.shape[0] != y_true.shape[0]:
        raise ValueError(
            "y_true and proba must have the same length, got "
            f"{y_true.shape[0]} and {proba.shape[0]}."
        )
    if proba.min() < 0 or proba.max() > 1:
        raise ValueError("proba must be in [0, 1].")
    n_bins = _check_positive_integer(n_bins, "n_bins")
    if strategy not in ("uniform", "quantile"):
        raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}.")
    pos_label = _positive_label(np.unique(y_true))

    fraction_positive, mean_predicted = calibration_curve(
        y_true, proba, pos_label=pos_label, n_bins=n_bins, strategy=strategy
    )
    # calibration_curve drops empty bins; count the samples per bin with its
    # own edges and assignment rule (searchsorted on the inner edges, closed on
    # the right) so that its values land on the non-empty bins.
    if strategy == "quantile":
        edges = np.percentile(proba, np.linspace(0, 100, n_bins + 1))
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], proba), minlength=n_bins)
    nonempty = counts > 0
    if nonempty.sum() != len(mean_predicted):
        raise RuntimeError(
            "The bins of calibration_curve do not match; sklearn may have "
            "changed how it assigns samples to bins."
        )

    table = pd.DataFrame(
        {
            "bin": np.arange(n_bins),
            "mean_predicted": np.full(n_bins, np.nan),
            "fraction_positive": np.full(n_bins, np.nan),
            "count": counts,
        }
    )
    table.loc[nonempty, "mean_predicted"] = mean_predicted
    table.loc[nonempty, "fraction_positive"] = fraction_positive
    return table
