"""Does it work for everyone? Each strategy's scores by subgroup of subjects.

A subgroup column of the study table (sex, site, scanner, age) splits the
tested rows into levels; each level is scored as the whole study is, on the
pooled out-of-fold predictions with subject-bootstrap intervals, and the
largest gap between two levels of each strategy's primary score gets its own
bootstrap interval and a test that it differs from zero.
"""

from dataclasses import replace

import numpy as np
import pandas as pd

from ..utils._docstrings import fill_docstring
from ._analysis import _bootstrap_input, pooled_metrics
from .statistics import bootstrap_weights, percentile_interval, resampled_metric

__all__ = [
    "MIN_LEVEL_ROWS",
    "check_subgroups",
    "subgroup_calibration",
    "subgroup_levels",
    "subgroup_scores",
]

#: A level with fewer tested rows is named, not scored.
MIN_LEVEL_ROWS = 10
# A numeric column with more distinct values is cut into bands.
_MAX_NUMERIC_LEVELS = 5
_N_BANDS = 3
_MISSING = "missing"
# The first columns of every per-level table.
_LEVEL_COLUMNS = ["subgroup", "level", "n_samples", "strategy"]


def check_subgroups(subgroups, table):
    """The subgroup columns as a list, each one of the table's.

    Parameters
    ----------
    subgroups : str, list of str or None
        The study's ``subgroups``.

    table : DataFrame
        The study table.

    Returns
    -------
    columns : list of str
        Empty for None.
    """
    if subgroups is None:
        return []
    columns = [subgroups] if isinstance(subgroups, str) else list(subgroups)
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise ValueError(
            f"subgroups names columns that are not in the table: {missing}; the "
            f"table has {list(table.columns)[:30]}."
        )
    return columns


def subgroup_levels(column):
    """The level of every row of a subgroup column, as strings.

    A numeric column with more than five distinct values is cut into three
    bands at its tertiles, rounded to three significant digits (``"[18,
    45)"``, ..., the last band closed); any other
    column's values are its levels; a missing value is the level
    ``"missing"``.

    Parameters
    ----------
    column : Series
        The subgroup column of the study table.

    Returns
    -------
    levels : Series of str
        Indexed like ``column``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfusion.study._subgroups import subgroup_levels
    >>> subgroup_levels(pd.Series(["F", "M", None])).tolist()
    ['F', 'M', 'missing']
    >>> subgroup_levels(pd.Series(range(9))).value_counts(sort=False).to_dict()
    {'[0, 2.67)': 3, '[2.67, 5.33)': 3, '[5.33, 8]': 3}
    """
    values = pd.to_numeric(column, errors="coerce")
    numeric = values.notna().sum() == column.notna().sum()
    if numeric and values.nunique() > _MAX_NUMERIC_LEVELS:
        # Tertiles rounded to 3 significant digits: the bands the report states.
        quantiles = np.nanquantile(values, np.linspace(0, 1, _N_BANDS + 1))
        edges = np.unique([float(f"{edge:.3g}") for edge in quantiles])
        edges[0], edges[-1] = min(edges[0], values.min()), max(edges[-1], values.max())
        labels = [
            f"[{low:g}, {high:g}{']' if k == len(edges) - 2 else ')'}"
            for k, (low, high) in enumerate(zip(edges[:-1], edges[1:], strict=True))
        ]
        band = np.clip(
            np.searchsorted(edges, values, side="right") - 1, 0, len(labels) - 1
        )
        levels = pd.Series(np.asarray(labels, dtype=object)[band], index=column.index)
        return levels.where(values.notna(), _MISSING)
    return column.astype(object).where(column.notna(), _MISSING).astype(str)


@fill_docstring
def subgroup_scores(results, table, columns, y, groups, seed, n_resamples=1000):
    """Every strategy's metrics per level of each subgroup column, and the gaps.

    Parameters
    ----------
    %(subgroup_inputs)s

    y, groups : ndarray, ndarray or None
        The target and the groups (resampled whole).

    seed : int
        The bootstrap's seed (the study's).

    n_resamples : int, default=1000
        Resamples of the gaps' bootstrap.

    Returns
    -------
    scores : DataFrame
        ``subgroup, level, n_samples, strategy, metric, score, low, high``: a
        level's pooled out-of-fold score with its subject-bootstrap interval
        (NaN for a level of fewer than ``MIN_LEVEL_ROWS`` rows, or one the
        metric cannot score).

    gaps : DataFrame
        ``subgroup, strategy, metric, best_level, worst_level, gap, low, high,
        p_value``: for the primary metric, the best level's score minus the
        worst's, its bootstrap interval on the same resamples, and the
        bootstrap p-value of a gap of zero (twice the smaller share of
        resampled gaps on either side of 0).
    """
    tested = np.sort(results.tested_rows(0))
    rows, gap_rows = [], []
    for column in columns:
        levels = subgroup_levels(table[column]).to_numpy()
        members = {
            level: tested[levels[tested] == level]
            for level in sorted(pd.unique(levels[tested]), key=_level_order)
        }
        restricted = {
            level: (rows_of, _restricted(results, rows_of))
            for level, rows_of in members.items()
            if len(rows_of) >= MIN_LEVEL_ROWS
        }
        pooled = {
            level: pooled_metrics(part, y, groups, seed)
            for level, (_, part) in restricted.items()
        }
        unscored = (np.nan, np.nan, np.nan)
        for level, rows_of in members.items():
            for name in results.strategies_:
                for metric in results.metrics_:
                    estimate = pooled.get(level, {}).get((name, metric), unscored)
                    rows.append([column, level, len(rows_of), name, metric, *estimate])
        gap_rows += _gaps(
            results, column, restricted, pooled, y, groups, seed, n_resamples
        )
    scores = pd.DataFrame(
        rows, columns=[*_LEVEL_COLUMNS, "metric", "score", "low", "high"]
    )
    gaps = pd.DataFrame(
        gap_rows,
        columns=[
            "subgroup",
            "strategy",
            "metric",
            "best_level",
            "worst_level",
            "gap",
            "low",
            "high",
            "p_value",
        ],
    )
    return scores, gaps


@fill_docstring
def subgroup_calibration(results, table, columns, y):
    """Calibration in the large of a binary study's strategies, per level.

    Parameters
    ----------
    %(subgroup_inputs)s

    y : ndarray
        The target.

    Returns
    -------
    calibration : DataFrame or None
        ``subgroup, level, n_samples, strategy, observed, predicted, ratio``:
        the observed share of the positive class among the level's tested
        rows, the mean predicted probability of the first repeat, and their
        ratio (observed / expected: 1 for a model calibrated in the large in
        that level; NaN for a level of fewer than ``MIN_LEVEL_ROWS`` rows).
        None unless the target is binary.
    """
    if results.positive is None:  # a positive class: binary targets only
        return None
    tested = np.sort(results.tested_rows(0))
    rows = []
    for column in columns:
        levels = subgroup_levels(table[column]).to_numpy()
        for level in sorted(pd.unique(levels[tested]), key=_level_order):
            members = tested[levels[tested] == level]
            observed = float(np.mean(y[members] == results.pos_label_))
            for name, proba in results.oof_proba_.items():
                if proba is None:
                    continue
                predicted = float(np.mean(proba[0, members, results.positive]))
                scored = predicted > 0 and len(members) >= MIN_LEVEL_ROWS
                rows.append(
                    [column, level, len(members), name, observed, predicted,
                     observed / predicted if scored else np.nan]
                )  # fmt: skip
    return pd.DataFrame(
        rows, columns=[*_LEVEL_COLUMNS, "observed", "predicted", "ratio"]
    )


def _level_order(level):
    """Bands by their lower edge, other levels by name, ``"missing"`` last."""
    if level == _MISSING:
        return (2, 0.0, "")
    if level.startswith("[") and "," in level:
        try:
            return (0, float(level[1:].split(",")[0]), "")
        except ValueError:
            pass
    return (1, 0.0, level)


def _restricted(results, members):
    """``results`` whose splits test only ``members`` (table positions)."""
    splits = [(train, np.intersect1d(test, members)) for train, test in results.splits_]
    return replace(results, splits_=splits)


def _gaps(results, column, restricted, pooled, y, groups, seed, n_resamples):
    """The largest gap of each strategy's primary score between two levels."""
    metric = results.primary_metric_
    tested = np.sort(results.tested_rows(0))
    units = tested if groups is None else np.asarray(groups)[tested]
    rows = []
    for name in results.strategies_:
        estimates = {
            level: pooled[level][name, metric][0]
            for level in restricted
            if np.isfinite(pooled[level][name, metric][0])
        }
        if len(estimates) < 2:
            continue
        best = max(estimates, key=estimates.get)
        worst = min(estimates, key=estimates.get)
        inputs = {}
        for level in (best, worst):
            members, part = restricted[level]
            spec = _bootstrap_input(part, name, metric, 0, members, y[members])
            inputs[level] = (np.searchsorted(tested, members), spec)
        if any(spec is None for _, spec in inputs.values()):
            continue
        differences = []
        for weights in bootstrap_weights(units, n_resamples, seed):
            values = {}
            for level, (
                where,
                (resampled, sign, y_true, y_pred, label),
            ) in inputs.items():
                values[level] = sign * resampled_metric(
                    resampled, y_true, y_pred, weights[:, where], label
                )
            differences.append(values[best] - values[worst])
        distribution = np.concatenate(differences)
        distribution = distribution[np.isfinite(distribution)]
        low, high, _ = percentile_interval(distribution, 0.95)
        share = min(np.mean(distribution <= 0), np.mean(distribution >= 0))
        rows.append(
            [
                column,
                name,
                metric,
                best,
                worst,
                estimates[best] - estimates[worst],
                low,
                high,
                min(1.0, 2 * share),
            ]
        )
    return rows
