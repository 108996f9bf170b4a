"""Time-to-event studies: the target, the time grid, the metrics and curves.

A survival target is scikit-survival's structured array (an event indicator
and a time per row, ``sksurv.util.Surv.from_arrays(event, time)``). Models
predict a risk score (greater means an earlier event) and, where they can, a
survival function; the study stores the latter at a grid of times taken
from the observed event times, so that every metric is computed from stored
out-of-fold predictions, as for the other targets.
"""

import warnings

import numpy as np
import pandas as pd

from ..survival import import_sksurv
from ..utils.validation import plain, row_name
from ._predictions import StoredSurvivalPredictions
from .statistics import bootstrap_weights, percentile_interval, resampled_metric

__all__ = [
    "DEFAULT_SURVIVAL_METRICS",
    "calibrate_survival",
    "calibration_at_horizon",
    "chance_survival_score",
    "check_survival_target",
    "compare_survival",
    "is_survival_target",
    "kaplan_meier_by_risk_group",
    "make_survival_scorers",
    "survival_at",
    "survival_grid",
    "survival_metric_note",
    "survival_target",
    "weighted_harrell_c",
]

#: The metrics of a survival study, in report order; the first is primary.
DEFAULT_SURVIVAL_METRICS = ["c_harrell", "c_uno", "neg_integrated_brier", "mean_auc"]
# Quantiles of the observed event times: the grid the survival functions
# are stored on, and the horizons of the time-dependent AUC.
_GRID_QUANTILES = np.linspace(0.1, 0.9, 17)
_HORIZON_QUANTILES = (0.25, 0.5, 0.75)
# Risks this close are tied, as scikit-survival's concordance counts them.
_TIED_RISK = 1e-8


def _sksurv(module):
    return import_sksurv(module, "A survival study")


def is_survival_target(y):
    """Whether ``y`` is a structured array of an event indicator and a time."""
    dtype = getattr(y, "dtype", None)
    return dtype is not None and dtype.names is not None and len(dtype.names) == 2


def check_survival_target(y, n_rows):
    """The target as ``(event, time)`` fields, checked, and its counts.

    Returns
    -------
    y : structured ndarray with fields ``event`` (bool) and ``time`` (float)

    counts : dict
        ``{"events": ..., "censored": ...}``.
    """
    if len(y) != n_rows:
        raise ValueError(
            f"y must have one row per table row ({n_rows}); got {len(y)} rows."
        )
    names = y.dtype.names
    kinds = [y.dtype[name].kind for name in names]
    if "b" in kinds:
        event_name = names[kinds.index("b")]
        time_name = names[1 - kinds.index("b")]
    else:
        event_name, time_name = names
    event = np.asarray(y[event_name])
    time = pd.to_numeric(pd.Series(np.asarray(y[time_name])), errors="coerce")
    not_numbers = np.flatnonzero(time.isna().to_numpy() & ~pd.isna(y[time_name]))
    if not_numbers.size:
        raise ValueError(
            f"The time {time_name!r} holds a value that is not a number in "
            f"{not_numbers.size} row(s), first at row {int(not_numbers[0])} "
            f"({plain(y[time_name][not_numbers[0]])!r})."
        )
    time = time.to_numpy(dtype=float)
    if event.dtype != bool:
        bad = np.flatnonzero(~np.isin(event, [0, 1]))
        if bad.size:
            raise ValueError(
                f"The event indicator {event_name!r} must be 0/1 or True/False; "
                f"row {int(bad[0])} holds {plain(event[bad[0]])!r}."
            )
        event = event.astype(bool)
    bad = np.flatnonzero(~np.isfinite(time))
    if bad.size:
        raise ValueError(
            f"The time {time_name!r} is missing or infinite in {bad.size} row(s), "
            f"first at row {int(bad[0])}; drop or complete them."
        )
    bad = np.flatnonzero(time < 0)
    if bad.size:
        raise ValueError(
            f"The time {time_name!r} is negative in {bad.size} row(s), first at "
            f"row {int(bad[0])} ({time[bad[0]]:g}); times count from the start "
            "of follow-up."
        )
    if not event.any():
        raise ValueError(
            "The target has no event: every row is censored, so no model can "
            "be trained or scored on it."
        )
    target = np.empty(n_rows, dtype=[("event", bool), ("time", float)])
    target["event"], target["time"] = event, time
    counts = {"events": int(event.sum()), "censored": int((~event).sum())}
    return target, counts


def survival_target(table, time, event, source=None):
    """The survival target of a study from a table's time and event columns.

    The one reading of a time-to-event target from columns, for Python and
    the command line alike (``skfusion study --time T --event E``): the time
    must be a number, the event 0/1, True/False or those words (any case);
    then the target is checked as :class:`FusionStudy` checks it.

    Parameters
    ----------
    table : DataFrame
        The study table.

    time, event : str
        The names of the time and event columns; they name the fields of
        the result and the messages.

    source : str, default=None
        The table's name (e.g. its file), added to the messages.

    Returns
    -------
    y : structured ndarray of shape (n_samples,)
        Fields ``event`` (bool) and ``time`` (float), one row per table row.

    Raises
    ------
    ValueError
        Naming the column and the row: a time that is not a number, an
        event that is not 0/1, a negative or missing time, no event at all.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfusion.study import survival_target
    >>> table = pd.DataFrame({"months": [3.0, 12.5], "died": ["yes", "no"]})
    >>> survival_target(table, "months", "died")
    Traceback (most recent call last):
    ...
    ValueError: event column 'died' must be 0/1 or True/False; row 0 holds 'yes'
    >>> table["died"] = ["True", "false"]
    >>> survival_target(table, "months", "died")["event"]
    array([ True, False])
    """
    of = "" if source is None else f" of {source}"
    numbers = pd.to_numeric(table[time], errors="coerce")
    bad = np.flatnonzero(numbers.isna().to_numpy())
    if bad.size:
        raise ValueError(
            f"time column {time!r}{of} holds a value that is not a number at "
            f"{row_name(table.index, bad[0])} ({plain(table[time].iloc[bad[0]])!r})"
        )
    values = table[event].to_numpy()
    if values.dtype == object:
        text = pd.Series(values).astype(str).str.strip().str.lower()
        mapped = text.map({"1": 1, "0": 0, "true": 1, "false": 0})
        bad = np.flatnonzero(mapped.isna().to_numpy())
        if bad.size:
            raise ValueError(
                f"event column {event!r}{of} must be 0/1 or True/False; "
                f"{row_name(table.index, bad[0])} holds {plain(values[bad[0]])!r}"
            )
        values = mapped.to_numpy(dtype=int)
    y = np.empty(len(table), dtype=[(event, values.dtype), (time, float)])
    y[event], y[time] = values, numbers.to_numpy(dtype=float)
    try:
        return check_survival_target(y, len(table))[0]
    except ValueError as exc:
        if source is None:
            raise
        raise ValueError(f"{source}: {exc}") from None


def survival_grid(y):
    """The storage grid of survival functions and the AUC horizons.

    Both are quantiles of the observed event times: 17 from the 10th to the
    90th percentile, and the quartiles.
    """
    times = y["time"][y["event"]]
    grid = np.unique(np.quantile(times, _GRID_QUANTILES))
    horizons = np.unique(np.quantile(times, _HORIZON_QUANTILES))
    return grid, horizons


def survival_at(model, X, times):
    """Survival probabilities of the rows of ``X`` at ``times``, or None.

    From a stored-predictions stand-in, or from a model's
    ``predict_survival_function`` (each step function read at ``times``
    clipped to its domain, where it is constant anyway).
    """
    if isinstance(model, StoredSurvivalPredictions):
        return model.survival_at_grid(X)
    if not hasattr(model, "predict_survival_function"):
        return None
    functions = model.predict_survival_function(X)
    values = np.empty((len(functions), len(times)))
    for row, function in enumerate(functions):
        low, high = function.domain
        values[row] = function(np.clip(times, low, high))
    return values


def _within_follow_up(times, y_test):
    """The times inside the test rows' follow-up (sksurv's requirement)."""
    return (times >= y_test["time"].min()) & (times < y_test["time"].max())


class _SurvivalScorer:
    """``scorer(model, X, y)`` for a survival metric, greater is better.

    ``reference`` (the study's whole target) gives the censoring
    distribution of Uno's C, the Brier score and the time-dependent AUC:
    only times and events, no feature.
    """

    def __init__(self, metric, reference, grid, horizons):
        self.metric = metric
        self.reference = reference
        self.grid = grid
        self.horizons = horizons

    def __call__(self, model, X, y):
        if self.metric not in DEFAULT_SURVIVAL_METRICS:
            raise ValueError(f"Unknown survival metric {self.metric!r}.")
        y = np.asarray(y)
        risk = np.asarray(model.predict(X), dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return self._score(model, X, y, risk)
            except ValueError:
                # scikit-survival refuses a fold it cannot score (no
                # comparable pair, a censoring survival of zero at a time:
                # heavily tied times): NaN for that fold, never a crash.
                return np.nan

    def _score(self, model, X, y, risk):
        metrics = _sksurv("metrics")
        if self.metric == "c_harrell":
            return metrics.concordance_index_censored(y["event"], y["time"], risk)[0]
        if self.metric == "c_uno":
            # Truncated at the last horizon, below which a test row must lie.
            tau = self.horizons[-1]
            if not (y["time"] < tau).any():
                return np.nan
            return metrics.concordance_index_ipcw(self.reference, y, risk, tau=tau)[0]
        if self.metric == "mean_auc":
            keep = _within_follow_up(self.horizons, y)
            if not keep.any():
                return np.nan
            return metrics.cumulative_dynamic_auc(
                self.reference, y, risk, self.horizons[keep]
            )[1]
        survival = survival_at(model, X, self.grid)
        keep = _within_follow_up(self.grid, y)
        if survival is None or keep.sum() < 2:
            return np.nan
        return -metrics.integrated_brier_score(
            self.reference, y, survival[:, keep], self.grid[keep]
        )

    def __repr__(self):
        return f"_SurvivalScorer({self.metric!r})"


def make_survival_scorers(scoring, reference, grid, horizons):
    """The metric names of a survival study and their scorers."""
    if scoring is None:
        scoring = DEFAULT_SURVIVAL_METRICS
    elif isinstance(scoring, str):
        scoring = [scoring]
    unknown = [m for m in scoring if m not in DEFAULT_SURVIVAL_METRICS]
    if unknown:
        raise ValueError(
            f"Unknown survival metrics {unknown}; choose among "
            f"{DEFAULT_SURVIVAL_METRICS}."
        )
    metrics = list(scoring)
    return metrics, {m: _SurvivalScorer(m, reference, grid, horizons) for m in metrics}


def weighted_harrell_c(y, risk, weights):
    """Harrell's C on every resample of a chunk of weights, vectorised.

    A pair (i, j) is comparable when i has an event before j's time (or at
    it, j censored); it is concordant when i's risk is greater (ties count
    half), as in :func:`sksurv.metrics.concordance_index_censored`. A resample weighs
    pair (i, j) by ``w_i * w_j``.

    Parameters
    ----------
    y : structured ndarray of shape (n_samples,)

    risk : ndarray of shape (n_samples,)

    weights : ndarray of shape (n_resamples, n_samples)

    Returns
    -------
    c : ndarray of shape (n_resamples,)
    """
    event, time = y["event"], y["time"]
    # As scikit-survival's concordance_index_censored: an event is also
    # comparable to a row censored at its very time, and risks within 1e-8
    # are tied.
    later = (time[:, None] < time[None, :]) | (
        (time[:, None] == time[None, :]) & ~event[None, :]
    )
    comparable = event[:, None] & later
    gap = risk[:, None] - risk[None, :]
    tied = np.abs(gap) <= _TIED_RISK
    concordant = comparable * ((gap > _TIED_RISK) + 0.5 * tied)
    numerator = np.einsum("bi,ij,bj->b", weights, concordant, weights)
    denominator = np.einsum("bi,ij,bj->b", weights, comparable.astype(float), weights)
    with np.errstate(divide="ignore", invalid="ignore"):
        return numerator / denominator


def kaplan_meier_by_risk_group(y, risk, n_groups=3):
    """Kaplan–Meier curves of the rows in each tertile (or ``n_groups``) of risk.

    Returns
    -------
    curves : list of (str, ndarray, ndarray)
        ``(label, times, survival)`` per group, lowest risk first.
    """
    nonparametric = _sksurv("nonparametric")
    edges = np.quantile(risk, np.linspace(0, 1, n_groups + 1))
    group = np.clip(np.searchsorted(edges, risk, side="right") - 1, 0, n_groups - 1)
    names = ["low", "middle", "high"] if n_groups == 3 else range(n_groups)
    curves = []
    for k, name in enumerate(names):
        rows = group == k
        if rows.sum() < 2:
            continue
        times, survival = nonparametric.kaplan_meier_estimator(
            y["event"][rows], y["time"][rows]
        )
        curves.append((f"{name} risk (n={int(rows.sum())})", times, survival))
    return curves


def calibration_at_horizon(y, survival, horizon, n_bins=5):
    """Predicted against observed survival at ``horizon``, by bins of prediction.

    Rows are binned by their predicted survival at the horizon (quantile
    bins); each bin's observed survival is its Kaplan–Meier estimate there.

    Returns
    -------
    table : DataFrame
        Columns as :func:`~skfusion.study.calibration_table`'s: ``bin``,
        ``mean_predicted`` (the bin's mean predicted survival at the horizon),
        ``fraction_positive`` (its Kaplan–Meier survival there) and ``count``.
    """
    nonparametric = _sksurv("nonparametric")
    edges = np.unique(np.quantile(survival, np.linspace(0, 1, n_bins + 1)))
    last = len(edges) - 2
    bins = np.clip(np.searchsorted(edges, survival, side="right") - 1, 0, last)
    rows = []
    for k in range(max(len(edges) - 1, 1)):
        members = bins == k
        if members.sum() < 2 or not y["event"][members].any():
            continue
        times, estimate = nonparametric.kaplan_meier_estimator(
            y["event"][members], y["time"][members]
        )
        at = np.searchsorted(times, horizon, side="right") - 1
        observed = 1.0 if at < 0 else float(estimate[at])
        rows.append(
            {
                "bin": k,
                "mean_predicted": float(survival[members].mean()),
                "fraction_positive": observed,
                "count": int(members.sum()),
            }
        )
    # The columns of calibration_table: predicted survival, observed survival.
    columns = ["bin", "mean_predicted", "fraction_positive", "count"]
    return pd.DataFrame(rows, columns=columns)


# -- a survival study's analysis of its stored predictions -----------------------------


def calibrate_survival(results, y, tested):
    """Predicted against Kaplan–Meier survival at the median horizon.

    One table per strategy with stored survival curves (first repeat), as
    :func:`calibration_at_horizon` makes it.
    """
    horizon = results.horizons_[len(results.horizons_) // 2]
    column = int(np.argmin(np.abs(results.survival_times_ - horizon)))
    tables = {}
    for name, survival in results.oof_proba_.items():
        if survival is None:
            continue
        tables[name] = calibration_at_horizon(
            y[tested], survival[0, tested, column], results.survival_times_[column]
        )
    return tables


def compare_survival(results, y, groups, seed, n_resamples, confidence):
    """Bootstrap of each strategy's Harrell's C minus the reference's.

    The pooled out-of-fold risks of the first repeat, the same subject
    resamples (whole groups given ``groups``) for every strategy. Returns
    a DataFrame of ``c_difference``, its percentile interval
    (``c_difference_low``, ``c_difference_high``) and ``bootstrap_p_value``
    (twice the smaller share of resampled differences on either side of 0).
    """
    columns = ["c_difference", "c_difference_low", "c_difference_high"]
    columns.append("bootstrap_p_value")
    table = pd.DataFrame(
        np.nan,
        index=pd.Index(list(results.strategies_), name="strategy"),
        columns=columns,
    )
    reference = results.best_unimodal_
    if reference is None:
        return table
    tested = np.sort(results.tested_rows(0))
    units = tested if groups is None else np.asarray(groups)[tested]
    risks = {name: results.labels(name, 0)[tested] for name in results.strategies_}
    differences = {name: [] for name in results.strategies_ if name != reference}
    for weights in bootstrap_weights(units, n_resamples, seed):
        base = resampled_metric("harrell_c", y[tested], risks[reference], weights)
        for name in differences:
            own = resampled_metric("harrell_c", y[tested], risks[name], weights)
            differences[name].append(own - base)
    ones = np.ones((1, len(tested)))
    base = resampled_metric("harrell_c", y[tested], risks[reference], ones)[0]
    for name, chunks in differences.items():
        distribution = np.concatenate(chunks)
        distribution = distribution[np.isfinite(distribution)]
        own = resampled_metric("harrell_c", y[tested], risks[name], ones)[0]
        low, high, _ = percentile_interval(distribution, confidence)
        share = min(np.mean(distribution <= 0), np.mean(distribution >= 0))
        table.loc[name] = [own - base, low, high, min(1.0, 2 * share)]
    table.loc[reference, "c_difference"] = 0.0
    return table


def chance_survival_score(results, y):
    """The primary metric of a model without features, mean over the splits.

    One risk for all, and the training rows' Kaplan–Meier curve as
    everyone's survival.
    """
    nonparametric = _sksurv("nonparametric")
    scorer = results.scorers[results.primary_metric_]
    values = []
    for train, test in results.splits_:
        times, survival = nonparametric.kaplan_meier_estimator(
            y["event"][train], y["time"][train]
        )
        at = np.searchsorted(times, results.survival_times_, side="right") - 1
        curve = np.where(at < 0, 1.0, survival[np.clip(at, 0, None)])
        stand_in = StoredSurvivalPredictions(
            np.zeros(len(test)), np.tile(curve, (len(test), 1))
        )
        values.append(float(scorer(stand_in, np.arange(len(test))[:, None], y[test])))
    return float(np.mean(values))


def survival_metric_note(survival_times, horizons):
    """The report's sentence on what the survival metrics are, at which times."""
    listed = ", ".join(f"{t:g}" for t in horizons)
    return (
        "Survival metrics (greater is better): c_harrell, Harrell's "
        "concordance of the risk scores; c_uno, Uno's concordance, "
        "weighted by the inverse probability of censoring and truncated at "
        f"t = {horizons[-1]:g}; neg_integrated_brier, minus the "
        f"integrated Brier score of the survival functions from t = "
        f"{survival_times[0]:g} to {survival_times[-1]:g} (the 10th to 90th "
        "percentiles of the event times); mean_auc, the mean "
        f"cumulative/dynamic ROC AUC at the quartiles of the event times "
        f"({listed}). The censoring distribution of the last three is the "
        "Kaplan–Meier estimate of the whole study's target (times and events "
        "only). Only Harrell's C has a subject-bootstrap interval of its "
        "pooled value; C difference: each strategy's pooled Harrell's C minus "
        "the reference's, with the percentile interval of the same resamples, "
        "and bootstrap p twice the smaller share of resampled differences "
        "on either side of 0. Calibration: predicted survival at the "
        f"median event time ({horizons[len(horizons) // 2]:g}) "
        "against the Kaplan–Meier survival of the rows in each fifth of "
        "prediction."
    )
