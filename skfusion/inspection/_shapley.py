"""Shapley values of modalities for a cross-validated score."""

import warnings
from itertools import combinations
from math import factorial
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.model_selection import (
    KFold,
    StratifiedKFold,
    check_cv,
    cross_val_score,
)
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.multiclass import type_of_target

from ..compose import resolve_modalities
from ..utils._sklearn_compat import HasMethods, Interval, validate_params

__all__ = ["modality_shapley"]


@validate_params(
    {
        "estimator": [HasMethods(["fit"])],
        "X": ["array-like"],
        "y": ["array-like"],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "modalities": [dict, None],
        "max_exact": [Interval(Integral, 0, None, closed="left")],
        "n_permutations": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
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
    same folds, with the same scoring. The ``UserWarning`` that
    :class:`~skfusion.fusion.BlockScaler` raises about never-observed columns
    is silenced while the coalitions are scored, since the masking causes it
    on purpose.

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
        Number of jobs, one coalition per job. ``None`` means 1 unless in a
        :func:`joblib.parallel_backend` context.

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
    groups = resolve_modalities(X, modalities)
    names = list(groups)
    rng = check_random_state(random_state)
    classifier = is_classifier(estimator)
    splits = _fixed_splits(cv, X, y, classifier, rng)

    exact = len(names) <= max_exact
    if exact:
        orders = None
        coalitions = [
            frozenset(subset)
            for size in range(1, len(names) + 1)
            for subset in combinations(names, size)
        ]
    else:
        orders = [rng.permutation(names).tolist() for _ in range(n_permutations)]
        coalitions = list(
            dict.fromkeys(
                frozenset(order[:size])
                for order in orders
                for size in range(1, len(names) + 1)
            )
        )

    scores = Parallel(n_jobs=n_jobs)(
        delayed(_coalition_score)(estimator, X, y, groups, coalition, splits, scoring)
        for coalition in coalitions
    )
    coalition_scores = dict(zip(coalitions, scores, strict=True))
    dummy = DummyClassifier(strategy="prior") if classifier else DummyRegressor()
    empty_score = float(
        cross_val_score(
            dummy, X, y, cv=splits, scoring=scoring, error_score="raise"
        ).mean()
    )
    coalition_scores = {frozenset(): empty_score, **coalition_scores}

    if exact:
        values = _exact_shapley(names, coalition_scores)
    else:
        values = _sampled_shapley(names, orders, coalition_scores)
    return Bunch(
        shapley_values=values,
        coalition_scores=coalition_scores,
        full_score=coalition_scores[frozenset(names)],
        empty_score=empty_score,
    )


def _fixed_splits(cv, X, y, classifier, rng):
    """Materialise the folds once, so that every coalition uses the same ones."""
    if isinstance(cv, Integral):
        seed = rng.randint(np.iinfo(np.int32).max)
        stratify = classifier and type_of_target(y) in ("binary", "multiclass")
        splitter = StratifiedKFold if stratify else KFold
        cv = splitter(n_splits=cv, shuffle=True, random_state=seed)
    cv = check_cv(cv, y, classifier=classifier)
    return list(cv.split(X, y))


def _mask_modalities(X, groups, coalition):
    """A float copy of ``X`` with every modality outside ``coalition`` all-NaN."""
    values = np.array(X, dtype=float, copy=True)
    for name, columns in groups.items():
        if name not in coalition:
            values[:, columns] = np.nan
    if hasattr(X, "columns"):
        return pd.DataFrame(values, columns=X.columns, index=X.index)
    return values


def _coalition_score(estimator, X, y, groups, coalition, splits, scoring):
    X_masked = _mask_modalities(X, groups, coalition)
    with warnings.catch_warnings():
        # The masking is deliberate: the warnings of BlockScaler and
        # LateFusion* about modalities no training row has would repeat for
        # every fold of every coalition.
        warnings.filterwarnings(
            "ignore", message=".*no observed value", category=UserWarning
        )
        warnings.filterwarnings(
            "ignore", message=".*missing in every training row", category=UserWarning
        )
        try:
            scores = cross_val_score(
                clone(estimator),
                X_masked,
                y,
                cv=splits,
                scoring=scoring,
                error_score="raise",
            )
        except Exception as exc:
            raise ValueError(
                f"Scoring the coalition of modalities {sorted(coalition)} failed, "
                "with the other modalities set to all-NaN. modality_shapley needs "
                "an estimator that accepts a modality missing in every row."
            ) from exc
    return float(np.mean(scores))


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
