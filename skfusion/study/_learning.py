"""Would more patients help? Learning curves on the study's own folds.

Each chosen strategy is refitted on a fraction of each fold's training rows
(whole groups with ``groups``, every class kept for a classification) and
scored on the same test rows, so the curve at 100 % is the study's own fold
score.
"""

import math

import numpy as np
import pandas as pd
from sklearn.utils.parallel import Parallel, delayed

from ._runner import columns_of, fit_and_predict
from ._task import task_named

__all__ = ["LEARNING_FRACTIONS", "learning_curve", "learning_curve_strategies"]

#: Shares of each fold's training rows a learning curve refits on.
LEARNING_FRACTIONS = (0.1, 0.25, 0.5, 0.75, 1.0)


def learning_curve_strategies(learning_curve, results):
    """The strategies a study's ``learning_curve`` names, in report order.

    ``True`` means the best strategy by mean primary score and the reference
    (``best_unimodal_``); a name or a list names them; False or None, none.
    """
    if learning_curve is None or learning_curve is False:
        return []
    if learning_curve is True:
        column = f"{results.primary_metric_}_mean"
        best = results.summary_[column].idxmax()
        chosen = {best, results.best_unimodal_} - {None}
    else:
        names = [learning_curve] if isinstance(learning_curve, str) else learning_curve
        unknown = [name for name in names if name not in results.strategies_]
        if unknown:
            raise ValueError(
                f"learning_curve names strategies the study does not have: "
                f"{unknown}; its strategies are {list(results.strategies_)}."
            )
        chosen = set(names)
    return [name for name in results.strategies_ if name in chosen]


def learning_curve(results, names, blocks, y, groups, seed, n_jobs=None):
    """Each strategy refitted on shares of every fold's training rows.

    Parameters
    ----------
    results : StudyResults
        The analysed comparison (its fold scores give the 100 % point).

    names : list of str
        The strategies.

    blocks : list of (DataFrame, DataFrame)
        The training and test blocks of every split.

    y, groups : ndarray, ndarray or None
        The target and the groups.

    seed : int
        Seeds which rows each share keeps.

    n_jobs : int or None
        Jobs over splits, shares and strategies.

    Returns
    -------
    curve : DataFrame
        ``strategy, fraction, repeat, fold, n_train, score``: the primary
        metric on the fold's test rows (NaN, with a note, where the strategy
        cannot be fitted on so few rows).

    notes : list of str
        What could not be fitted.
    """
    rng = np.random.RandomState(seed)
    # Every class kept in every share, where the task has classes to keep.
    strata = task_named(results.task_).share_strata(y)
    jobs, rows = [], []
    for split, (train, _) in enumerate(results.splits_):
        for fraction in LEARNING_FRACTIONS[:-1]:
            kept = _share(train, strata, groups, fraction, rng)
            jobs += [(name, fraction, split, kept) for name in names]
    scorer = results.scorers[results.primary_metric_]
    outcomes = Parallel(n_jobs=n_jobs)(
        delayed(_fit_share)(
            results.strategies_[name],
            scorer,
            columns_of(blocks[split], results.strategy_modalities_[name]),
            kept,
            y,
            groups,
            results.splits_[split],
            f"refitting {name!r} on {fraction:.0%} of a fold's training rows",
        )
        for name, fraction, split, kept in jobs
    )
    notes = []
    for (name, fraction, split, kept), (score, failure) in zip(
        jobs, outcomes, strict=True
    ):
        repeat, fold = results.split_ids_[split]
        rows.append([name, fraction, repeat, fold, len(kept), score])
        if failure is not None:
            notes.append(
                f"Learning curve: {name} could not be fitted on {fraction:.0%} of "
                f"the training rows of repeat {repeat}, fold {fold} ({failure})."
            )
    scores = results.fold_scores_
    full = scores[scores["metric"] == results.primary_metric_]
    for _, row in full[full["strategy"].isin(names)].iterrows():
        rows.append(
            [row["strategy"], 1.0, row["repeat"], row["fold"], row["n_train"],
             row["score"]]
        )  # fmt: skip
    curve = pd.DataFrame(
        rows, columns=["strategy", "fraction", "repeat", "fold", "n_train", "score"]
    )
    order = {name: k for k, name in enumerate(names)}
    curve = curve.sort_values(
        ["strategy", "fraction", "repeat", "fold"],
        key=lambda c: c.map(order) if c.name == "strategy" else c,
    )
    return curve.reset_index(drop=True), notes


def _share(train, strata, groups, fraction, rng):
    """Positions, within ``train``, of the rows a share keeps (sorted).

    Whole groups given ``groups``; else the same share of each stratum
    given ``strata``; else a plain sample of the rows.
    """
    if groups is not None:
        names = np.unique(groups[train])
        count = max(2, math.ceil(fraction * len(names)))
        chosen = rng.choice(names, size=min(count, len(names)), replace=False)
        return np.flatnonzero(np.isin(groups[train], chosen))
    if strata is not None:
        kept = []
        for label in np.unique(strata[train]):
            members = np.flatnonzero(strata[train] == label)
            count = min(len(members), max(2, math.ceil(fraction * len(members))))
            kept.append(rng.choice(members, size=count, replace=False))
        return np.sort(np.concatenate(kept))
    count = max(2, math.ceil(fraction * len(train)))
    return np.sort(rng.choice(len(train), size=count, replace=False))


def _fit_share(estimator, scorer, split_blocks, kept, y, groups, split, where):
    """The primary score of ``estimator`` fitted on some training rows, or NaN."""
    train, test = split
    train_X, test_X = split_blocks
    rows = train[kept]
    try:
        *_, model = fit_and_predict(
            estimator,
            where,
            train_X.iloc[kept],
            test_X,
            y[rows],
            None if groups is None else groups[rows],
            keep_model=True,
        )
        return float(scorer(model, test_X, y[test])), None
    except (ValueError, RuntimeError) as exc:
        return np.nan, f"{type(exc).__name__}: {exc}"
