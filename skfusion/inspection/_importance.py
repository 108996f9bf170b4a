"""Permutation importance of whole modality blocks."""

from numbers import Integral

import numpy as np
from sklearn.metrics import check_scoring
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.parallel import Parallel, delayed

from ..blocks import resolve_modalities
from ..utils._sklearn_compat import HasMethods, Interval, validate_params

__all__ = ["modality_importance"]


@validate_params(
    {
        "estimator": [HasMethods(["fit"])],
        "X": ["array-like"],
        "y": ["array-like", None],
        "scoring": [str, callable, None],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "modalities": [dict, None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    },
    prefer_skip_nested_validation=True,
)
def modality_importance(
    estimator,
    X,
    y,
    *,
    scoring=None,
    n_repeats=5,
    modalities=None,
    random_state=None,
    n_jobs=None,
):
    """Permutation importance of each modality of a fitted estimator.

    For each modality, the rows of its whole block are shuffled with one
    permutation shared by all of its columns, and the score of ``estimator``
    on the shuffled matrix is subtracted from its score on ``X``. Shuffling the
    block jointly keeps the within-modality structure, including which rows
    miss the modality, and breaks only the link between that modality and the
    other blocks and the target. This is
    :func:`sklearn.inspection.permutation_importance` with one modality block
    in place of one column.

    Parameters
    ----------
    estimator : estimator object
        A fitted estimator (or pipeline) that takes the blocked matrix.

    X : DataFrame or array-like of shape (n_samples, n_features)
        The blocked matrix on which to compute the importances, usually
        held-out data.

    y : array-like of shape (n_samples,) or None
        Targets; None for unsupervised scorers.

    scoring : str, callable or None, default=None
        A single scorer, as accepted by :func:`sklearn.metrics.check_scoring`.
        ``None`` uses the ``score`` method of ``estimator``.

    n_repeats : int, default=5
        Number of permutations of each modality block.

    modalities : dict of str to columns, default=None
        Explicit blocks, see :func:`skfusion.compose.resolve_modalities`.
        ``None`` reads them from ``modality__feature`` column names.

    random_state : int, RandomState instance or None, default=None
        Draws the permutations. Pass an int for reproducible output across
        multiple function calls.

    n_jobs : int, default=None
        Number of jobs, one modality per job. ``None`` means 1 unless in a
        :func:`joblib.parallel_backend` context.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        importances : ndarray of shape (n_modalities, n_repeats)
            Score drop of each permutation: baseline score minus permuted
            score.
        importances_mean : ndarray of shape (n_modalities,)
            Mean over the repeats.
        importances_std : ndarray of shape (n_modalities,)
            Standard deviation over the repeats.
        modalities : list of str
            Modality names, in the order of the rows above.

    See Also
    --------
    modality_shapley : Share of the cross-validated score of each modality.
    sklearn.inspection.permutation_importance : The same, column by column.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfusion.datasets import make_multimodal_classification
    >>> from skfusion.inspection import modality_importance
    >>> X, y = make_multimodal_classification(
    ...     100, modality_sizes=(3, 3), informativeness=(3.0, 0.0), random_state=0
    ... )
    >>> model = LogisticRegression().fit(X, y)
    >>> result = modality_importance(model, X, y, n_repeats=3, random_state=0)
    >>> result.modalities
    ['m0', 'm1']
    >>> bool(result.importances_mean[0] > result.importances_mean[1])
    True
    """
    groups = resolve_modalities(X, modalities)
    scorer = check_scoring(estimator, scoring=scoring)
    baseline = scorer(estimator, X, y)
    rng = check_random_state(random_state)
    seeds = rng.randint(np.iinfo(np.int32).max, size=len(groups))
    drops = Parallel(n_jobs=n_jobs)(
        delayed(_permuted_score_drops)(
            estimator, X, y, columns, scorer, baseline, n_repeats, seed
        )
        for columns, seed in zip(groups.values(), seeds, strict=True)
    )
    importances = np.asarray(drops, dtype=float).reshape(len(groups), n_repeats)
    return Bunch(
        importances=importances,
        importances_mean=importances.mean(axis=1),
        importances_std=importances.std(axis=1),
        modalities=list(groups),
    )


def _permuted_score_drops(estimator, X, y, columns, scorer, baseline, n_repeats, seed):
    """Baseline minus the score of each of ``n_repeats`` permutations of a block."""
    rng = np.random.RandomState(seed)
    drops = np.empty(n_repeats)
    for repeat in range(n_repeats):
        X_permuted = _permute_block(X, columns, rng.permutation(np.shape(X)[0]))
        drops[repeat] = baseline - scorer(estimator, X_permuted, y)
    return drops


def _permute_block(X, columns, order):
    """A copy of ``X`` whose ``columns`` take their rows in ``order``."""
    if hasattr(X, "iloc"):
        X_permuted = X.copy()
        X_permuted.iloc[:, columns] = X.iloc[order, columns].to_numpy()
        return X_permuted
    X_permuted = np.array(X, copy=True)
    X_permuted[:, columns] = X_permuted[np.ix_(order, columns)]
    return X_permuted
