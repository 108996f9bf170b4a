"""Study analysis: summary, comparison, calibration, availability, contributions."""

import warnings
from functools import partial

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    roc_auc_score,
)

from ..blocks import modality_availability
from ..inspection import modality_importance, modality_shapley_from_folds
from ..utils._docstrings import fill_docstring
from ._clinical import study_decision_curve
from ._runner import columns_of, fit_and_predict
from ._task import task_named
from .statistics import (
    bootstrap_ci,
    bootstrap_weights,
    corrected_resampled_ttest,
    delong_test,
    percentile_interval,
    resampled_metric,
)

__all__ = [
    "analyse",
    "availability_pattern",
    "best_unimodal",
    "calibrate",
    "compare",
    "fold_scores",
    "label_scores",
    "measure_contributions",
    "modality_presence",
    "pattern_counts",
    "pooled_metrics",
    "row_availability",
    "score_availability_patterns",
    "summarise",
    "tested_availability",
]

# Subject bootstrap of the pooled out-of-fold metrics.
_N_BOOTSTRAP = 1000
_CONFIDENCE = 0.95
_PATTERN_SEPARATOR = "+"
_NO_MODALITY = "none"


# -- the stored predictions of a fitted study ---------------------------------------


def _stand_in(results, name, repeat):
    """A scorer-compatible stand-in answering with stored OOF predictions."""
    return results.stand_in(name, repeat, task_named(results.task_))


def _score_rows(scorer, stand_in, y_true, positions):
    """A scorer on the stored predictions of some rows (positions in the table)."""
    return scorer(stand_in, positions[:, None], y_true)


# -- fold scores and summary ----------------------------------------------------------


def fold_scores(results, y, fit_times):
    """One row per strategy, split and metric: the ``fold_scores_`` table."""
    rows = []
    for split in range(len(results.splits_)):
        for name in results.strategies_:
            repeat, fold = results.split_ids_[split]
            train, test = results.splits_[split]
            stand_in = _stand_in(results, name, repeat)
            for metric, scorer in results.scorers.items():
                rows.append(
                    {
                        "strategy": name,
                        "repeat": repeat,
                        "fold": fold,
                        "metric": metric,
                        "score": float(scorer(stand_in, test[:, None], y[test])),
                        "fit_time": fit_times[split, name],
                        "n_train": len(train),
                        "n_test": len(test),
                    }
                )
    return pd.DataFrame(rows)


def summarise(results, y, groups, seed):
    """The summary of a study whose fold scores are in.

    Returns
    -------
    summary : DataFrame
        ``summary_``.

    bootstrap : dict
        ``bootstrap_``.

    notes : list of str
        What the report must say of the intervals.
    """
    scores = results.fold_scores_
    task = task_named(results.task_)
    pooled = pooled_metrics(results, y, groups, seed)
    tested = results.tested_rows(0)
    bootstrap = {
        "n_resamples": _N_BOOTSTRAP,
        "confidence": _CONFIDENCE,
        "resampled": "rows" if groups is None else "groups",
        "n_resampled": len(
            np.unique(tested if groups is None else np.asarray(groups)[tested])
        ),
        "random_state": seed,
    }
    notes = []
    if groups is None and results.n_groups_ is not None:
        notes.append(
            "The subject bootstrap of the pooled metrics resampled rows, not "
            "groups: its intervals ignore the grouping and may be too narrow."
        )
    rates = task.rates
    rows = {}
    for name in results.strategies_:
        row = {
            "kind": results.strategy_kinds_[name],
            "modalities": "+".join(results.strategy_modalities_[name]),
        }
        own = scores[scores["strategy"] == name]
        for metric in results.metrics_:
            values = own.loc[own["metric"] == metric, "score"].to_numpy()
            row[f"{metric}_mean"] = float(np.mean(values))
            row[f"{metric}_std"] = (
                float(np.std(values, ddof=1)) if len(values) > 1 else np.nan
            )
            low, high = _confidence_interval(values, seed)
            row[f"{metric}_ci_low"], row[f"{metric}_ci_high"] = low, high
            estimate, low, high = pooled[name, metric]
            row[f"{metric}_pooled"] = estimate
            row[f"{metric}_boot_low"], row[f"{metric}_boot_high"] = low, high
        for rate in rates:
            estimate, low, high = pooled[name, rate]
            row[rate] = estimate
            row[f"{rate}_boot_low"], row[f"{rate}_boot_high"] = low, high
        row["brier"] = _brier(results, name, y)
        row["fit_time"] = float(
            own.drop_duplicates(["repeat", "fold"])["fit_time"].mean()
        )
        rows[name] = row
    summary = pd.DataFrame.from_dict(rows, orient="index")
    summary.index.name = "strategy"
    if len(results.splits_) < 2:
        notes.append(
            "A single train/test split: the corrected resampled t-test and "
            "the confidence intervals of the fold scores need at least 2 "
            "folds and are not applicable (NaN). The pooled metrics with "
            "their subject-bootstrap intervals, DeLong's test, the Brier "
            "score and the calibration are computed on the test rows."
        )
    return summary, bootstrap, notes


def best_unimodal(results):
    """The unimodal strategy with the best mean primary score, or None."""
    unimodal = [s for s, kind in results.strategy_kinds_.items() if kind == "unimodal"]
    if not unimodal:
        return None
    column = f"{results.primary_metric_}_mean"
    return max(unimodal, key=lambda s: results.summary_.loc[s, column])


def _confidence_interval(values, seed):
    # A fold that a metric cannot score (Uno's C with every test time tied
    # beyond its horizon) is NaN: the interval is over the folds it scored.
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return np.nan, np.nan
    if len(values) < 2 or np.ptp(values) == 0:
        mean = float(np.mean(values))
        return (mean, mean) if len(values) >= 2 else (np.nan, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        low, high = bootstrap_ci(values, random_state=seed)
    return float(low), float(high)


def pooled_metrics(results, y, groups, seed):
    """Pooled out-of-fold metrics with their subject-bootstrap intervals.

    Each metric is computed on the out-of-fold predictions of every tested
    row at once, in each repeat, and averaged over the repeats. A resample
    draws the tested rows (whole groups, given ``groups``) with
    replacement, the same resamples for every strategy, metric and repeat;
    its value is the mean over the repeats of the metric on the resampled
    rows, and the interval is the percentile interval of those values.

    Returns
    -------
    pooled : dict of (str, str) to (float, float, float)
        ``(estimate, low, high)`` of every strategy and metric, and of the
        sensitivity and specificity of a binary target, at each strategy's
        own predicted labels (its decision rule).
    """
    task = task_named(results.task_)
    n_repeats = results.n_repeats
    # Every repeat of an integer cv tests every row; a splitter has one.
    tested = np.sort(results.tested_rows(0))
    y_tested = y[tested]
    units = tested if groups is None else np.asarray(groups)[tested]

    estimates, inputs = {}, {}
    for name in results.strategies_:
        for metric in results.metrics_:
            scorer = results.scorers[metric]
            per_repeat = []
            for repeat in range(n_repeats):
                stand_in = _stand_in(results, name, repeat)
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        value = scorer(stand_in, tested[:, None], y_tested)
                    per_repeat.append(float(value))
                except ValueError:
                    per_repeat.append(np.nan)
            estimates[name, metric] = float(np.mean(per_repeat))
            inputs[name, metric] = [
                _bootstrap_input(results, name, metric, repeat, tested, y_tested)
                for repeat in range(n_repeats)
            ]
        if task.rates:
            _rate_inputs(results, name, tested, y_tested, estimates, inputs)
    inputs = {
        key: per_repeat
        for key, per_repeat in inputs.items()
        if all(spec is not None for spec in per_repeat)
    }

    distributions = {key: [] for key in inputs}
    for weights in bootstrap_weights(units, _N_BOOTSTRAP, seed):
        for key, per_repeat in inputs.items():
            values = [
                sign * resampled_metric(metric, y_true, y_pred, weights, label)
                for metric, sign, y_true, y_pred, label in per_repeat
            ]
            distributions[key].append(np.mean(values, axis=0))
    pooled = {}
    for key, estimate in estimates.items():
        if key in distributions and np.isfinite(estimate):
            low, high, _ = percentile_interval(
                np.concatenate(distributions[key]), _CONFIDENCE
            )
        else:
            low = high = np.nan
        pooled[key] = (estimate, low, high)
    return pooled


def _bootstrap_input(results, name, metric, repeat, tested, y_tested):
    """``(metric, sign, y_true, y_pred, pos_label)`` of one repeat, or None.

    A scorer with a vectorised metric gets the stored responses it scores;
    any other scorer is called on the stored predictions of each resample.
    """
    task = task_named(results.task_)
    vectorised = task.pooled_metrics
    if metric not in vectorised:
        if not task.rescores_resamples:
            return None
        stand_in = _stand_in(results, name, repeat)
        scorer = partial(_score_rows, results.scorers[metric], stand_in)
        return scorer, 1, y_tested, tested, None
    resampled, response, sign = vectorised[metric]
    if response == "positive score":
        if not task.positive_class:
            return None
        scores = results.positive_scores(name, repeat)
        y_pred = None if scores is None else scores[tested]
    elif response == "proba":
        proba = results.oof_proba_[name]
        y_pred = None if proba is None else proba[repeat, tested]
    else:
        y_pred = results.labels(name, repeat)[tested]
    if y_pred is None:
        return None
    return resampled, sign, y_tested, y_pred, results.pos_label_


def _rate_inputs(results, name, tested, y_tested, estimates, inputs):
    """Sensitivity and specificity of a strategy's predicted labels (binary).

    At the labels its own decision rule gave, as its balanced accuracy (their
    mean) scores them, not at a probability of its own.
    """
    actual = y_tested == results.pos_label_
    per_repeat = [
        (actual, results.labels(name, repeat)[tested] == results.pos_label_)
        for repeat in range(results.n_repeats)
    ]
    ones = np.ones((1, len(tested)))
    for rate in ("sensitivity", "specificity"):
        estimates[name, rate] = float(
            np.mean(
                [
                    resampled_metric(rate, actual, called, ones, True)[0]
                    for actual, called in per_repeat
                ]
            )
        )
        inputs[name, rate] = [
            (rate, 1, actual, called, True) for actual, called in per_repeat
        ]


def _brier(results, name, y):
    task = task_named(results.task_)
    proba = results.oof_proba_.get(name)
    if proba is None or not task.scores_brier:
        return np.nan
    values = []
    for repeat_proba in proba:
        tested = ~np.isnan(repeat_proba).any(axis=1)
        values.append(
            task.brier(
                repeat_proba[tested],
                y[tested],
                results.classes_,
                results.pos_label_,
                results.positive,
            )
        )
    return float(np.mean(values))


def label_scores(results, y):
    """Each strategy's pooled out-of-fold scores of each label (multi-label).

    Returns
    -------
    scores : DataFrame or None
        One row per strategy and label: ``strategy``, ``label``,
        ``n_positive`` (tested rows with the label), ``roc_auc`` and
        ``average_precision`` of the label's probabilities on the pooled
        out-of-fold rows, mean over repeats (NaN for a strategy without
        probabilities). None unless the target is multi-label.
    """
    if not task_named(results.task_).scores_each_label:
        return None
    rows = []
    n_repeats = results.n_repeats
    for name in results.strategies_:
        proba = results.oof_proba_[name]
        for k, label in enumerate(results.classes_):
            scores = {"roc_auc": [], "average_precision": []}
            for repeat in range(n_repeats):
                tested = results.tested_rows(repeat)
                actual = y[tested, k]
                if proba is None:
                    continue
                predicted = proba[repeat, tested, k]
                scores["roc_auc"].append(roc_auc_score(actual, predicted))
                scores["average_precision"].append(
                    average_precision_score(actual, predicted)
                )
            rows.append(
                {
                    "strategy": name,
                    "label": label,
                    "n_positive": int(y[results.tested_rows(0), k].sum()),
                    **{
                        metric: float(np.mean(values)) if values else np.nan
                        for metric, values in scores.items()
                    },
                }
            )
    return pd.DataFrame(rows)


def analyse(results, y, groups, fit_times, seed, decision_thresholds=None):
    """Every statistic of a cross-validated comparison, filled into ``results``.

    Fold scores, the summary with its intervals, the reference, the
    comparison, the calibration, the scores by availability pattern and by
    label, in that order (each reads the ones before).

    Parameters
    ----------
    results : StudyResults
        The comparison; its statistics are set here.

    y : ndarray
        The target.

    groups : ndarray or None
        The groups, resampled whole by the bootstrap.

    fit_times : dict of (int, str) to float
        Seconds to fit each strategy on each split.

    seed : int
        The seed of the bootstrap.

    decision_thresholds : array-like, default=None
        The thresholds of a binary study's decision curves (1 % to 50 %).

    Returns
    -------
    results : StudyResults
        ``results``, filled; its ``notes`` say what the report must.
    """
    results.fold_scores_ = fold_scores(results, y, fit_times)
    (
        results.summary_,
        results.bootstrap_,
        notes,
    ) = summarise(results, y, groups, seed)
    results.notes.extend(notes)
    results.best_unimodal_ = best_unimodal(results)
    results.comparison_ = compare(results, y, groups, seed)
    results.calibration_ = calibrate(results, y)
    results.availability_scores_ = score_availability_patterns(results, y)
    results.label_scores_ = label_scores(results, y)
    results.decision_curve_ = study_decision_curve(
        results, np.sort(results.tested_rows(0)), y, groups, decision_thresholds, seed
    )
    return results


# -- comparison and calibration -----------------------------------------------------


def compare(results, y, groups=None, seed=None):
    """Every strategy against ``best_unimodal_``: the ``comparison_`` table.

    The corrected resampled t-test of the primary metric's fold scores and,
    for a binary target, DeLong's test of the ROC AUCs; given a bootstrap
    ``seed``, what the task compares on subject resamples
    (:meth:`Task.compare_resampled`: Harrell's C of a survival study).
    """
    table = _compare_fold_scores(results, y)
    if seed is None:
        return table
    extra = task_named(results.task_).compare_resampled(
        results, y, groups, seed, _N_BOOTSTRAP, _CONFIDENCE
    )
    return table if extra is None else table.join(extra)


def _compare_fold_scores(results, y):
    primary = results.primary_metric_
    scores = results.fold_scores_[results.fold_scores_["metric"] == primary]
    binary = task_named(results.task_).delong
    columns = ["reference", "difference", "t_statistic", "p_value"]
    if binary:
        columns += ["auc", "reference_auc", "delong_z", "delong_p_value"]
    reference = results.best_unimodal_
    table = pd.DataFrame(
        index=pd.Index(list(results.strategies_), name="strategy"),
        columns=columns,
        dtype=object,
    )
    if reference is None:
        return table
    n_train = round(np.mean([len(train) for train, _ in results.splits_]))
    n_test = round(np.mean([len(test) for _, test in results.splits_]))
    ordered = scores.sort_values(["repeat", "fold"])
    reference_scores = ordered.loc[ordered["strategy"] == reference, "score"].to_numpy()
    reference_proba = results.positive_scores(reference) if binary else None
    tested = results.tested_rows(0)
    for name in results.strategies_:
        own = ordered.loc[ordered["strategy"] == name, "score"].to_numpy()
        row = {
            "reference": reference,
            "difference": float(np.mean(own - reference_scores)),
        }
        # One split gives one paired score: no t-test (see notes_).
        if name == reference or len(own) < 2:
            row.update(t_statistic=np.nan, p_value=np.nan)
        else:
            test = corrected_resampled_ttest(own, reference_scores, n_train, n_test)
            row.update(t_statistic=test.statistic, p_value=test.pvalue)
        if binary:
            own_proba = results.positive_scores(name)
            if own_proba is None or reference_proba is None:
                row.update(
                    auc=np.nan,
                    reference_auc=np.nan,
                    delong_z=np.nan,
                    delong_p_value=np.nan,
                )
            else:
                result = delong_test(
                    (y[tested] == results.pos_label_).astype(int),
                    own_proba[tested],
                    reference_proba[tested],
                )
                row.update(
                    auc=result.auc_a,
                    reference_auc=result.auc_b,
                    delong_z=result.statistic if name != reference else np.nan,
                    delong_p_value=result.pvalue if name != reference else np.nan,
                )
        table.loc[name] = pd.Series(row)
    return table.infer_objects()


def calibrate(results, y):
    """Reliability table of every strategy with probabilities (first repeat)."""
    tested = results.tested_rows(0)
    return task_named(results.task_).calibration_tables(results, y, tested)


# -- availability -------------------------------------------------------------------


def row_availability(blocks, splits, index, names):
    """Which modality each row has, from the test blocks of the splits."""
    present = np.zeros((len(index), len(names)), dtype=bool)
    for (_, test), (_, test_X) in zip(splits, blocks, strict=True):
        present[test] = modality_availability(test_X)[names].to_numpy()
    return pd.DataFrame(present, index=index, columns=names)


def availability_pattern(availability):
    """Name the availability pattern of each row.

    Parameters
    ----------
    availability : DataFrame of shape (n_samples, n_modalities)
        Boolean table, one column per modality: whether the modality is
        present in the row.

    Returns
    -------
    patterns : Series of shape (n_samples,)
        The present modalities of each row joined with ``"+"`` in column
        order, or ``"none"`` for a row without any modality.
    """
    names = np.asarray(availability.columns, dtype=object)
    present = availability.to_numpy(dtype=bool)
    patterns = [
        _PATTERN_SEPARATOR.join(names[row]) if row.any() else _NO_MODALITY
        for row in present
    ]
    return pd.Series(patterns, index=availability.index, name="pattern")


@fill_docstring
def tested_availability(results):
    """The availability of the rows some split tests.

    A study records which modalities a row has from the blocks of the test
    rows; a row that no split tests (a custom splitter's training-only rows)
    has no record, and is left out rather than counted as missing every
    modality.

    %(fitted_study)s

    Returns
    -------
    availability : DataFrame of bool
        The rows of ``results.availability_`` that some split tests, in table
        order.
    """
    tested = np.unique(np.concatenate([test for _, test in results.splits_]))
    if len(tested) == len(results.availability_):
        return results.availability_
    return results.availability_.iloc[tested]


@fill_docstring
def modality_presence(availability):
    """Count the rows in which each modality is present.

    %(availability_table)s

    Returns
    -------
    presence : DataFrame
        Indexed by modality, with columns ``n_present`` and ``pct_present``
        (a percentage of the rows).
    """
    n_present = availability.sum(axis=0).astype(int)
    pct = 100 * n_present / max(len(availability), 1)
    presence = pd.DataFrame({"n_present": n_present, "pct_present": pct})
    presence.index.name = "modality"
    return presence


@fill_docstring
def pattern_counts(availability):
    """Count the rows of each availability pattern, most frequent first.

    %(availability_table)s

    Returns
    -------
    counts : DataFrame
        Indexed by pattern (see :func:`availability_pattern`), with columns
        ``n_samples`` and ``pct_samples``.
    """
    n = availability_pattern(availability).value_counts(sort=True)
    counts = pd.DataFrame(
        {"n_samples": n.astype(int), "pct_samples": 100 * n / max(n.sum(), 1)}
    )
    counts.index.name = "pattern"
    return counts


def score_availability_patterns(results, y):
    """Primary score of each strategy on the rows of each availability pattern."""
    patterns = availability_pattern(results.availability_).to_numpy()
    scorer = results.scorers[results.primary_metric_]
    n_repeats = results.n_repeats
    tested = [results.tested_rows(repeat) for repeat in range(n_repeats)]
    # Rows no split tests (a custom splitter's training-only rows) have no
    # out-of-fold prediction and no availability: they are left out.
    rows_of = {
        pattern: [
            np.intersect1d(np.flatnonzero(patterns == pattern), rows) for rows in tested
        ]
        for pattern in pd.unique(patterns[np.sort(tested[0])])
    }
    rows = []
    for name in results.strategies_:
        stand_ins = [_stand_in(results, name, repeat) for repeat in range(n_repeats)]
        for pattern, per_repeat in rows_of.items():
            values = []
            for stand_in, positions in zip(stand_ins, per_repeat, strict=True):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        score = scorer(stand_in, positions[:, None], y[positions])
                    values.append(float(score))
                except ValueError:
                    values.append(np.nan)
            rows.append(
                {
                    "strategy": name,
                    "pattern": pattern,
                    "n_samples": len(per_repeat[0]),
                    "metric": results.primary_metric_,
                    "score": float(np.mean(values)),
                }
            )
    return pd.DataFrame(rows)


# -- modality contributions ---------------------------------------------------------


def measure_contributions(results, name, blocks, y, groups, models, seed, params):
    """Ablation, Shapley values and block importance of each modality.

    The contribution strategy ``name`` is refitted on the precomputed blocks of every
    split with the modalities outside each coalition all-NaN (through
    :func:`~skfusion.inspection.modality_shapley_from_folds`); its full
    score is the one the evaluation measured and the empty coalition is a
    prior model on the same splits. ``models`` maps ``(split, strategy)`` to
    the fitted fold models, for the block permutation importance; ``params``
    are the study's (``max_exact``, ``n_permutations``, ``n_jobs``).

    Returns
    -------
    contributions : DataFrame
        ``contributions_``.

    coalition_scores : dict of frozenset to float
        ``coalition_scores_``.
    """
    modalities = list(results.strategy_modalities_[name])
    full = frozenset(modalities)
    primary = results.fold_scores_["metric"] == results.primary_metric_
    own = results.fold_scores_[primary & (results.fold_scores_["strategy"] == name)]
    scorer = results.scorers[results.primary_metric_]
    fit_score = partial(
        _refit_score, results.strategies_[name], scorer, y, groups, results.splits_
    )
    result = modality_shapley_from_folds(
        fit_score,
        [columns_of(split_blocks, modalities) for split_blocks in blocks],
        empty_score=_dummy_score(results, y),
        modalities=modalities,
        known_scores={full: float(own["score"].mean())},
        # The ablation needs every leave-one-out coalition.
        extra_coalitions=[full - {m} for m in modalities],
        max_exact=params["max_exact"],
        n_permutations=params["n_permutations"],
        random_state=np.random.RandomState(seed),
        n_jobs=params["n_jobs"],
    )
    scores = result.coalition_scores
    fold_models = [models[split, name] for split in range(len(results.splits_))]
    importances = _block_importances(results, blocks, y, modalities, fold_models, seed)
    rows = {
        m: {
            "ablation": scores[full] - scores[full - {m}],
            "shapley": result.shapley_values[m],
            "importance_mean": float(np.mean(importances[m])),
            "importance_std": float(np.std(importances[m])),
        }
        for m in modalities
    }
    contributions = pd.DataFrame.from_dict(rows, orient="index")
    contributions.index.name = "modality"
    return contributions, scores


def _refit_score(
    estimator, scorer, y, groups, splits, train_X, test_X, fold, coalition
):
    """Score of the contribution strategy refitted on one fold of a coalition."""
    train, test = splits[fold]
    where = (
        f"refitting on the modalities {sorted(coalition)} only (the others "
        "all-NaN), for the modality contributions; the contributions strategy "
        "must accept a modality missing in every row (BlockScaler pipelines, "
        "late and deep fusion do), or pass contributions=None,"
    )
    *_, model = fit_and_predict(
        estimator,
        where,
        train_X,
        test_X,
        y[train],
        None if groups is None else groups[train],
        keep_model=True,
    )
    return float(scorer(model, test_X, y[test]))


def _dummy_score(results, y):
    return task_named(results.task_).chance_score(results, y)


def _block_importances(results, blocks, y, modalities, models, seed):
    scorer = results.scorers[results.primary_metric_]
    importances = {m: [] for m in modalities}
    splits = enumerate(results.splits_)
    for model, (split, (_, test)) in zip(models, splits, strict=True):
        _, test_X = columns_of(blocks[split], modalities)
        result = modality_importance(
            model, test_X, y[test], scoring=scorer, n_repeats=5, random_state=seed
        )
        for m, value in zip(result.modalities, result.importances_mean, strict=True):
            importances[m].append(value)
    return importances
