"""Shapley values of modalities, from an estimator and a cv or over given folds."""

import warnings
from functools import partial
from itertools import combinations
from math import factorial
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.metrics import check_scoring
from sklearn.model_selection import (
    KFold,
    StratifiedKFold,
    check_cv,
    cross_val_score,
)
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.parallel import Parallel, delayed

from ..blocks import MissingModalityWarning, resolve_modalities
from ..utils._sklearn_compat import HasMethods, Interval, validate_params

__all__ = ["modality_shapley", "modality_shapley_from_folds"]

# The parameters of the cooperative game that both entry points share.
_GAME_CONSTRAINTS = {
    "max_exact": [Interval(Integral, 0, None, closed="left")],
    "n_permutations": [Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
    "n_jobs": [Integral, None],
}


@validate_params(
    {
        "estimator": [HasMethods(["fit"])],
        "X": ["array-like"],
        "y": ["array-like"],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "modalities": [dict, None],
        **_GAME_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def modality_shapley(
    estimator,
    X,
    y,
    *,
    cv=5,
    scoring=None,
    modalities=None,
    max_exact=6,
    n_permutations=200,
    random_state=None,
    n_jobs=None,
):
    """Shapley value of each modality for the cross-validated score.

    The modalities are the players of a cooperative game whose value for a
    coalition ``S`` is the mean :func:`~sklearn.model_selection.cross_val_score`
    of a clone of ``estimator`` fitted and scored on ``X`` with every modality
    outside ``S`` set to all-NaN, the package's encoding of a missing
    modality. The Shapley value of a modality is its average marginal
    contribution to that score over all orders in which the modalities can
    join; the values add up to ``full_score - empty_score``.

    The empty coalition is not scored with ``estimator``, which may refuse a
    matrix with no observed value: its value is the score of
    :class:`~sklearn.dummy.DummyClassifier` with ``strategy="prior"`` (for a
    classifier) or :class:`~sklearn.dummy.DummyRegressor` (otherwise) on the
    same folds, with the same scoring. The
    :class:`~skfusion.blocks.MissingModalityWarning` that
    :class:`~skfusion.fusion.BlockScaler` and late fusion raise about
    never-observed modalities is silenced while the coalitions are scored,
    since the masking causes it on purpose. The coalitions are scored by
    :func:`modality_shapley_from_folds`.

    Every coalition is scored on the same folds: an integer ``cv`` becomes a
    shuffled (stratified, for a classifier) K-fold seeded by
    ``random_state``, and the splits are drawn once.

    Parameters
    ----------
    estimator : estimator object
        An unfitted estimator (or pipeline) that takes the blocked matrix and
        accepts missing modalities, even a modality missing in every row.
        :class:`~skfusion.fusion.BlockScaler` followed by any estimator does,
        and so does :class:`~skfusion.fusion.LateFusionClassifier` (a
        modality no training row has gets no model). An estimator that
        raises on such a coalition makes this function raise a ValueError
        naming the coalition.

    X : DataFrame or array-like of shape (n_samples, n_features)
        The blocked matrix.

    y : array-like of shape (n_samples,)
        Targets.

    cv : int, cross-validation generator or iterable, default=5
        Determines the splits, see :func:`~sklearn.model_selection.check_cv`.
        An int is the number of shuffled folds.

    scoring : str, callable or None, default=None
        A single scorer, as accepted by :func:`sklearn.metrics.check_scoring`.
        ``None`` uses the ``score`` method of each model.

    modalities : dict of str to columns, default=None
        Explicit blocks, see :func:`skfusion.compose.resolve_modalities`.
        ``None`` reads them from ``modality__feature`` column names.

    max_exact : int, default=6
        Largest number of modalities for which the exact Shapley values are
        computed, from all ``2 ** n_modalities`` coalitions. With more
        modalities the values are estimated by Monte-Carlo sampling of
        ``n_permutations`` random orders of the modalities: each order credits
        every modality with the score change when it joins the modalities
        before it. The estimate is unbiased and still adds up exactly to
        ``full_score - empty_score``.

    n_permutations : int, default=200
        Number of random orders in the Monte-Carlo estimate. Ignored when the
        values are exact.

    random_state : int, RandomState instance or None, default=None
        Shuffles the folds of an integer ``cv`` and draws the Monte-Carlo
        orders. Pass an int for reproducible output across multiple function
        calls.

    n_jobs : int, default=None
        Number of jobs, one coalition and fold per job. ``None`` means 1
        unless in a :func:`joblib.parallel_backend` context.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        shapley_values : dict of str to float
            Shapley value of each modality. (Not ``values``, which on a
            :class:`~sklearn.utils.Bunch` would stay the ``dict.values``
            method.)
        coalition_scores : dict of frozenset to float
            Mean cross-validated score of every coalition that was scored,
            keyed by the frozenset of its modality names.
        full_score : float
            Score with every modality.
        empty_score : float
            Score of the dummy model, the value of the empty coalition.

    Raises
    ------
    ValueError
        When fitting or scoring ``estimator`` on a coalition fails; the
        message names the coalition.

    See Also
    --------
    modality_importance : Permutation importance of a fitted model.
    modality_shapley_from_folds : The same values over precomputed folds.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skfusion.datasets import make_multimodal_classification
    >>> from skfusion.fusion import BlockScaler
    >>> from skfusion.inspection import modality_shapley
    >>> X, y = make_multimodal_classification(
    ...     100, modality_sizes=(3, 3), informativeness=(3.0, 0.0), random_state=0
    ... )
    >>> model = make_pipeline(BlockScaler(), LogisticRegression())
    >>> result = modality_shapley(model, X, y, cv=3, random_state=0)
    >>> bool(result.shapley_values["m0"] > result.shapley_values["m1"])
    True
    >>> total = sum(result.shapley_values.values())
    >>> bool(abs(total - (result.full_score - result.empty_score)) < 1e-10)
    True
    """
    rng = check_random_state(random_state)
    classifier = is_classifier(estimator)
    splits = _fixed_splits(cv, X, y, classifier, rng)
    dummy = DummyClassifier(strategy="prior") if classifier else DummyRegressor()
    empty_score = float(
        cross_val_score(
            dummy, X, y, cv=splits, scoring=scoring, error_score="raise"
        ).mean()
    )
    X = X if hasattr(X, "iloc") else np.asarray(X)
    y = y if hasattr(y, "iloc") else np.asarray(y)
    folds = [(_rows(X, train), _rows(X, test)) for train, test in splits]
    result = modality_shapley_from_folds(
        partial(_refit_score, estimator, check_scoring(estimator, scoring), y, splits),
        folds,
        empty_score=empty_score,
        modalities=modalities,
        max_exact=max_exact,
        n_permutations=n_permutations,
        random_state=rng,
        n_jobs=n_jobs,
    )
    names = list(result.shapley_values)
    return Bunch(
        shapley_values=result.shapley_values,
        coalition_scores=result.coalition_scores,
        full_score=result.coalition_scores[frozenset(names)],
        empty_score=empty_score,
    )


@validate_params(
    {
        "fit_score": [callable],
        "folds": [list],
        "empty_score": [Real],
        "modalities": [list, tuple, dict, None],
        "known_scores": [dict, None],
        "extra_coalitions": [list, tuple, set, frozenset],
        **_GAME_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def modality_shapley_from_folds(
    fit_score,
    folds,
    *,
    empty_score,
    modalities=None,
    known_scores=None,
    extra_coalitions=(),
    max_exact=6,
    n_permutations=200,
    random_state=None,
    n_jobs=None,
):
    """Shapley value of each modality from a score over precomputed folds.

    The core of :func:`modality_shapley` and of the modality contributions of
    :class:`~skfusion.study.FusionStudy`, for blocked matrices that are
    already extracted and split: the value of a coalition ``S`` of modalities
    is the mean over the folds of ``fit_score`` called on the fold's blocks
    with every modality outside ``S`` set to all-NaN, the package's encoding
    of a missing modality. How a model is fitted and scored (sample weights,
    groups, error messages) is the caller's, so that the coalitions are
    scored exactly like the full model was.

    Up to ``max_exact`` modalities the values are exact, from every
    coalition; above, they are estimated from ``n_permutations`` random
    orders of the modalities, each crediting every modality with the score
    change when it joins the modalities before it. Either way they add up to
    ``full_score - empty_score``. While ``fit_score`` runs,
    :class:`~skfusion.blocks.MissingModalityWarning` is silenced: the masking
    causes it on purpose.

    Parameters
    ----------
    fit_score : callable
        ``fit_score(X_train, X_test, fold, coalition) -> float``: fits a model
        on ``X_train``, the masked training blocks of fold number ``fold``,
        and returns its score on ``X_test``, the masked test blocks;
        ``coalition`` is the frozenset of the modalities left unmasked (for
        messages). Called once per fold and coalition not in
        ``known_scores``, in parallel over ``n_jobs``.

    folds : list of (X_train, X_test)
        The blocked matrices (DataFrames or arrays) of the training and test
        rows of every fold.

    empty_score : float
        The value of the empty coalition: no model fits a matrix without an
        observed value, so the caller scores a prior (dummy) model on the
        same folds.

    modalities : list of str, dict of str to columns or None, default=None
        The modalities that share the score. A list names them (their blocks
        read from ``modality__feature`` column names) in the order in which
        the orders are drawn; a dict gives explicit blocks, see
        :func:`skfusion.blocks.resolve_modalities`; ``None`` takes every
        modality of the column names. The blocks are resolved fold by fold,
        so a fold's blocks may differ in width from another's.

    known_scores : dict of frozenset to float, default=None
        Coalition values already known (a full model scored on the same
        folds, say), used as given instead of refitted.

    extra_coalitions : iterable of frozenset, default=()
        Coalitions to score even if the Shapley values do not need them (the
        leave-one-out coalitions of an ablation, with sampled values).

    max_exact : int, default=6
        Largest number of modalities for which the values are exact.

    n_permutations : int, default=200
        Number of random orders above ``max_exact``.

    random_state : int, RandomState instance or None, default=None
        Draws the random orders. Pass an int for reproducible output across
        multiple function calls.

    n_jobs : int, default=None
        Number of jobs over the coalitions and folds. ``None`` means 1 unless
        in a :func:`joblib.parallel_backend` context.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        shapley_values : dict of str to float
            Shapley value of each modality.
        coalition_scores : dict of frozenset to float
            Value of every coalition used, the empty one included: the known
            scores first, then the mean over the folds of those scored.

    See Also
    --------
    modality_shapley : The same values from an estimator and a ``cv``.

    Examples
    --------
    A score that counts the modalities left unmasked is additive, so each
    modality's Shapley value is its own count:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from skfusion.inspection import modality_shapley_from_folds
    >>> X = pd.DataFrame(np.ones((4, 3)), columns=["a__x", "b__x", "b__y"])
    >>> def observed_columns(X_train, X_test, fold, coalition):
    ...     return float(X_test.notna().all().sum())
    >>> result = modality_shapley_from_folds(
    ...     observed_columns, [(X, X)], empty_score=0.0
    ... )
    >>> result.shapley_values
    {'a': 1.0, 'b': 2.0}
    """
    if not folds:
        raise ValueError("folds must hold at least one (X_train, X_test) pair.")
    names = list(_fold_groups(folds[0][0], modalities))
    known = {frozenset(): float(empty_score), **(known_scores or {})}
    exact = len(names) <= max_exact
    if exact:
        orders = None
        needed = [
            frozenset(subset)
            for size in range(1, len(names) + 1)
            for subset in combinations(names, size)
        ]
        needed += [c for c in map(frozenset, extra_coalitions) if c not in needed]
    else:
        rng = check_random_state(random_state)
        orders = [rng.permutation(names).tolist() for _ in range(n_permutations)]
        needed = {
            frozenset(order[:size])
            for order in orders
            for size in range(1, len(names) + 1)
        }
        needed |= set(map(frozenset, extra_coalitions))
        needed = sorted(needed, key=lambda c: (len(c), sorted(c)))
    coalitions = [c for c in needed if c not in known]

    values = Parallel(n_jobs=n_jobs)(
        delayed(_masked_fold_score)(
            fit_score, X_train, X_test, fold, coalition, modalities
        )
        for coalition in coalitions
        for fold, (X_train, X_test) in enumerate(folds)
    )
    scores = dict(known)
    for position, coalition in enumerate(coalitions):
        per_fold = values[position * len(folds) : (position + 1) * len(folds)]
        scores[coalition] = float(np.mean(per_fold))
    if exact:
        shapley = _exact_shapley(names, scores)
    else:
        shapley = _sampled_shapley(names, orders, scores)
    return Bunch(shapley_values=shapley, coalition_scores=scores)


def _fixed_splits(cv, X, y, classifier, rng):
    """Materialise the folds once, so that every coalition uses the same ones."""
    if isinstance(cv, Integral):
        seed = rng.randint(np.iinfo(np.int32).max)
        stratify = classifier and type_of_target(y) in ("binary", "multiclass")
        splitter = StratifiedKFold if stratify else KFold
        cv = splitter(n_splits=cv, shuffle=True, random_state=seed)
    cv = check_cv(cv, y, classifier=classifier)
    return list(cv.split(X, y))


def _rows(X, rows):
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _fold_groups(X, modalities):
    """Column positions of each modality that shares the score, in order."""
    if not isinstance(modalities, list | tuple):
        return resolve_modalities(X, modalities)
    groups = resolve_modalities(X)
    absent = [name for name in modalities if name not in groups]
    if absent:
        raise ValueError(
            f"Modalities {absent} have no column in the blocks; they have "
            f"{list(groups)}."
        )
    return {name: groups[name] for name in modalities}


def _mask_modalities(X, groups, coalition):
    """A float copy of ``X`` with every modality outside ``coalition`` all-NaN."""
    values = np.array(X, dtype=float, copy=True)
    for name, columns in groups.items():
        if name not in coalition:
            values[:, columns] = np.nan
    if hasattr(X, "columns"):
        return pd.DataFrame(values, columns=X.columns, index=X.index)
    return values


def _masked_fold_score(fit_score, X_train, X_test, fold, coalition, modalities):
    groups = _fold_groups(X_train, modalities)
    X_train = _mask_modalities(X_train, groups, coalition)
    X_test = _mask_modalities(X_test, groups, coalition)
    with warnings.catch_warnings():
        # The masking is deliberate: the warnings about modalities no training
        # row has would repeat for every fold of every coalition.
        warnings.simplefilter("ignore", MissingModalityWarning)
        return float(fit_score(X_train, X_test, fold, coalition))


def _refit_score(estimator, scorer, y, splits, X_train, X_test, fold, coalition):
    """Score of a clone of ``estimator`` refitted on one fold of a coalition."""
    train, test = splits[fold]
    try:
        model = clone(estimator).fit(X_train, _rows(y, train))
        return scorer(model, X_test, _rows(y, test))
    except Exception as exc:
        raise ValueError(
            f"Scoring the coalition of modalities {sorted(coalition)} failed, "
            "with the other modalities set to all-NaN. modality_shapley needs "
            "an estimator that accepts a modality missing in every row."
        ) from exc


def _exact_shapley(names, coalition_scores):
    n = len(names)
    weights = [
        factorial(size) * factorial(n - size - 1) / factorial(n) for size in range(n)
    ]
    values = {}
    for name in names:
        others = [other for other in names if other != name]
        value = 0.0
        for size in range(n):
            for subset in combinations(others, size):
                without = frozenset(subset)
                gain = coalition_scores[without | {name}] - coalition_scores[without]
                value += weights[size] * gain
        values[name] = value
    return values


def _sampled_shapley(names, orders, coalition_scores):
    totals = dict.fromkeys(names, 0.0)
    for order in orders:
        before = frozenset()
        for name in order:
            after = before | {name}
            totals[name] += coalition_scores[after] - coalition_scores[before]
            before = after
    return {name: total / len(orders) for name, total in totals.items()}
