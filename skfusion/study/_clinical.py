"""The evaluation a clinical journal asks for: decision curves.

Decision curve analysis (Vickers & Elkin, 2006) asks whether acting on a
model's risks does more good than harm. At a threshold probability ``t`` (the
risk from which a clinician would treat, which also says how many false
positives one true positive is worth: ``t / (1 - t)``), the net benefit of
treating the rows whose predicted risk is at least ``t`` is

.. math::

    \\mathrm{NB}(t) = \\frac{TP(t)}{n} - \\frac{FP(t)}{n} \\frac{t}{1 - t},

against "treat all" (every row treated) and "treat none" (net benefit 0).
A study computes it from the pooled out-of-fold probabilities of the first
repeat, with subject-bootstrap bands on the same resamples as its other
intervals.
"""

import numpy as np
import pandas as pd

from .statistics import bootstrap_weights

__all__ = [
    "DEFAULT_THRESHOLDS",
    "TREAT_ALL",
    "TREAT_NONE",
    "decision_curve",
    "net_benefit",
    "study_decision_curve",
]

#: Threshold probabilities of a study's decision curves: 1 % to 50 %.
DEFAULT_THRESHOLDS = np.round(np.arange(1, 51) / 100, 2)
#: The names of the two reference policies in ``decision_curve_``.
TREAT_ALL, TREAT_NONE = "treat all", "treat none"


def net_benefit(y_true, risk, thresholds, weights=None):
    """Net benefit of treating the rows whose risk is at least each threshold.

    Parameters
    ----------
    y_true : array-like of bool of shape (n_samples,)
        Whether each row has the outcome (the positive class).

    risk : array-like of shape (n_samples,)
        Predicted probability of the outcome; ``None`` computes "treat all"
        (every row treated at every threshold).

    thresholds : array-like of shape (n_thresholds,)
        Threshold probabilities, each in ``(0, 1)``.

    weights : ndarray of shape (n_resamples, n_samples), default=None
        Bootstrap weights: how many times each row is drawn in each resample.

    Returns
    -------
    net_benefit : ndarray of shape (n_thresholds,) or (n_resamples, n_thresholds)
        ``TP / n - FP / n * t / (1 - t)`` at each threshold ``t``, on every
        resample when ``weights`` are given.

    Examples
    --------
    >>> from skfusion.study import net_benefit
    >>> y = [True, False, True, False]
    >>> risk = [0.9, 0.6, 0.4, 0.1]
    >>> net_benefit(y, risk, [0.5]).tolist()  # 1 TP, 1 FP among 4: 1/4 - 1/4
    [0.0]
    >>> net_benefit(y, risk, [0.25]).round(4).tolist()  # 2 TP, 1 FP: 2/4 - 1/4 / 3
    [0.4167]
    """
    y_true = np.asarray(y_true, dtype=bool)
    thresholds = np.asarray(thresholds, dtype=float)
    if np.any((thresholds <= 0) | (thresholds >= 1)):
        raise ValueError(
            f"Decision thresholds must lie strictly between 0 and 1; got {thresholds}."
        )
    if risk is None:
        treated = np.ones((y_true.size, thresholds.size))
    else:
        treated = (np.asarray(risk, dtype=float)[:, None] >= thresholds).astype(float)
    positives = treated * y_true[:, None]
    negatives = treated * ~y_true[:, None]
    odds = thresholds / (1 - thresholds)
    if weights is None:
        n = y_true.size
        return positives.sum(axis=0) / n - negatives.sum(axis=0) / n * odds
    weights = np.asarray(weights, dtype=float)
    n = weights.sum(axis=1, keepdims=True)
    return (weights @ positives) / n - (weights @ negatives) / n * odds


def decision_curve(
    risks,
    y_true,
    groups=None,
    thresholds=DEFAULT_THRESHOLDS,
    confidence=0.95,
    n_resamples=1000,
    random_state=None,
):
    """Decision curves of several models on the same rows, with bootstrap bands.

    Parameters
    ----------
    risks : dict of str to array-like of shape (n_samples,)
        Each model's predicted probability of the outcome; a model without
        probabilities (None) is left out.

    y_true : array-like of bool of shape (n_samples,)
        Whether each row has the outcome.

    groups : array-like of shape (n_samples,), default=None
        Group of each row: the bootstrap draws whole groups.

    thresholds : array-like, default=DEFAULT_THRESHOLDS
        Threshold probabilities (1 % to 50 % by default).

    confidence : float, default=0.95
        Level of the percentile bands.

    n_resamples : int, default=1000
        Bootstrap resamples, the same for every model and threshold.

    random_state : int, RandomState instance or None, default=None
        Seeds the resamples.

    Returns
    -------
    curve : DataFrame
        One row per model and threshold, then per threshold for
        ``"treat all"`` and ``"treat none"``: ``strategy``, ``threshold``,
        ``net_benefit``, ``low`` and ``high`` (the band).

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.study import decision_curve
    >>> rng = np.random.default_rng(0)
    >>> y = rng.random(200) < 0.3
    >>> risk = np.clip(0.3 + 0.4 * (y - 0.3) + rng.normal(0, 0.15, 200), 0, 1)
    >>> curve = decision_curve({"model": risk}, y, thresholds=[0.1, 0.3],
    ...                        n_resamples=200, random_state=0)
    >>> curve["strategy"].unique().tolist()
    ['model', 'treat all', 'treat none']
    >>> bool((curve["low"] <= curve["net_benefit"]).all())
    True
    """
    y_true = np.asarray(y_true, dtype=bool)
    thresholds = np.asarray(thresholds, dtype=float)
    models = {
        name: np.asarray(risk, dtype=float)
        for name, risk in risks.items()
        if risk is not None
    }
    models[TREAT_ALL] = None
    estimates = {
        name: net_benefit(y_true, risk, thresholds) for name, risk in models.items()
    }
    units = np.arange(y_true.size) if groups is None else np.asarray(groups)
    resampled = {name: [] for name in models}
    for weights in bootstrap_weights(units, n_resamples, random_state):
        for name, risk in models.items():
            resampled[name].append(net_benefit(y_true, risk, thresholds, weights))
    tail = 100 * (1 - confidence) / 2
    frames = []
    for name, estimate in estimates.items():
        distribution = np.concatenate(resampled[name])
        low, high = np.percentile(distribution, [tail, 100 - tail], axis=0)
        frames.append(_curve_frame(name, thresholds, estimate, low, high))
    zeros = np.zeros_like(thresholds)
    frames.append(_curve_frame(TREAT_NONE, thresholds, zeros, zeros, zeros))
    return pd.concat(frames, ignore_index=True)


def _curve_frame(name, thresholds, estimate, low, high):
    return pd.DataFrame(
        {
            "strategy": name,
            "threshold": thresholds,
            "net_benefit": estimate,
            "low": low,
            "high": high,
        }
    )


def study_decision_curve(results, tested, y, groups, thresholds, seed):
    """The decision curves of a binary study's strategies, or None.

    From the pooled out-of-fold probabilities of the first repeat on the
    tested rows, with the study's bootstrap (whole groups, its seed); a
    strategy without probabilities is left out.

    Parameters
    ----------
    results : StudyResults
        The comparison.

    tested : ndarray of int
        The rows the first repeat tests, sorted.

    y, groups : ndarray, ndarray or None
        The target and the groups.

    thresholds : array-like or None
        Threshold probabilities; None means :data:`DEFAULT_THRESHOLDS`.

    seed : int
        The bootstrap's seed.

    Returns
    -------
    curve : DataFrame or None
        As :func:`decision_curve`; None unless the target is binary.
    """
    if results.positive is None:  # a positive class: binary targets only
        return None
    risks = {
        name: None if proba is None else proba[0, tested, results.positive]
        for name, proba in results.oof_proba_.items()
    }
    return decision_curve(
        risks,
        y[tested] == results.pos_label_,
        None if groups is None else np.asarray(groups)[tested],
        DEFAULT_THRESHOLDS if thresholds is None else thresholds,
        random_state=seed,
    )
