"""Wide blocks made compact: a fold-fitted PCA of each block too wide for its rows."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..blocks import MODALITY_SEPARATOR, FusionMixin, nan_column_statistics
from ..utils._docstrings import fill_docstring
from ..utils._sklearn_compat import Interval, check_feature_names_in, fit_context

__all__ = ["WideBlockReducer"]


@fill_docstring
class WideBlockReducer(FusionMixin, TransformerMixin, BaseEstimator):
    """Replace each block that is wide for its rows by its principal components.

    A blocked matrix often holds a 1,280-column image embedding beside three
    clinical columns and a few dozen colour statistics, on a thousand rows.
    Models that cannot cope with width (gradient boosting, multi-set CCA, a
    stacker's per-modality models) then spend their time, and their degrees
    of freedom, on noise. This transformer keeps narrow blocks as they are and
    projects each wide block onto its leading principal components, learned
    from the training rows only (inside each fold of a study).

    **The rule.** A block of ``p`` columns, present in ``n`` training rows, is
    *wide* when it has more columns than ``n_components`` and more than one
    column per ``rows_per_column`` rows::

        wide  <=>  p > n_components  and  p > n / rows_per_column

    With the defaults (64 components, 10 rows per column): a 1,280-column
    embedding on 1,000 rows is wide, a 40-column block of colour statistics
    is not, nor a 384-column text embedding on 15,000 rows. A wide block is
    replaced by its first ``min(n_components, n - 1)`` principal components,
    computed from its standardised columns (each column centred and scaled
    with the training rows in which the block is present, so that no column
    dominates by its units).

    **Blocks and sub-blocks.** The blocks are the modalities (see
    :func:`skfusion.blocks.resolve_modalities`). A modality whose feature
    names carry a second separator, ``image__embedding__emb0`` and
    ``image__statistics__hue_mean``, is made of sub-blocks (``embedding`` and
    ``statistics``), each judged on its own: the embedding is reduced, the
    statistics kept. The clinical block of the study's tabular default
    (``clinical__numeric__age``, ``clinical__categorical__sex_F``) is narrow
    and kept whole.

    Missing data: a row in which the block is missing (all NaN) stays all NaN
    in the components, so that the next estimator still sees a missing
    modality; a missing value inside a present block is imputed with its
    column's training mean (0 after standardising) before projecting.

    Parameters
    ----------
    n_components : int, default=64
        Number of principal components a wide block is replaced by (fewer
        when the block is present in at most that many training rows), and
        the width up to which no block counts as wide.

    rows_per_column : int, default=10
        A block is wide only when it has fewer than this many training rows
        (in which it is present) per column.

    modalities : dict of str to columns, default=None
        Column groups, see :func:`skfusion.blocks.resolve_modalities`.
        ``None`` reads them from ``modality__feature`` column names.

    random_state : int, RandomState instance or None, default=None
        Seeds the PCA solver when it is randomised (wide blocks on many rows);
        every block gets the same seed, so that a block is reduced alike
        whichever other blocks are present.

    Attributes
    ----------
    sub_blocks_ : list of (str, str, ndarray of int)
        Every ``(modality, sub_block, column positions)`` in output order;
        ``sub_block`` is ``""`` for a modality without sub-blocks.

    projections_ : list of PCA or None
        The fitted projection of each entry of ``sub_blocks_``; None for a
        block kept as it is.

    mean_, scale_ : ndarray of shape (``n_features_in_``,)
        Training mean and standard deviation of each column (NaN ignored).

    n_samples_seen_ : ndarray of shape (``n_features_in_``,)
        Number of training rows in which each column was observed.

    %(fitted_blocks)s

    See Also
    --------
    skfusion.fusion.FeatureFusion : Project every block to a common width.
    skfusion.fusion.SharedSpace : A common space learned across modalities.

    Examples
    --------
    >>> from skfusion.fusion import WideBlockReducer
    >>> import numpy as np
    >>> import pandas as pd
    >>> X = pd.DataFrame(np.random.default_rng(0).normal(size=(100, 23)), columns=[
    ...     "clinical__age", "clinical__bmi", "clinical__sbp",
    ...     *[f"image__emb{i}" for i in range(20)]])
    >>> reducer = WideBlockReducer(n_components=5).set_output(transform="pandas")
    >>> reducer.fit_transform(X).columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['clinical__age', 'clinical__bmi', 'clinical__sbp', 'image__pc0', 'image__pc1',
     'image__pc2', 'image__pc3', 'image__pc4']
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "rows_per_column": [Interval(Integral, 1, None, closed="left")],
        "modalities": [dict, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self, n_components=64, *, rows_per_column=10, modalities=None, random_state=None
    ):
        self.n_components = n_components
        self.rows_per_column = rows_per_column
        self.modalities = modalities
        self.random_state = random_state

    # The rule is applied at fit, to the rows in which each block is present:
    # the same block may be wide in a small fold and narrow in a large one.
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Find the wide blocks and fit their projections on the training rows.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The training rows of the blocked matrix; NaN marks missing values
            and modalities.

        y : None
            Ignored.

        Returns
        -------
        self : WideBlockReducer
            The fitted reducer.
        """
        X = self._validate_blocks(X, reset=True)
        statistics = nan_column_statistics(X)
        self.mean_, self.scale_ = statistics.mean, statistics.scale
        self.n_samples_seen_ = statistics.n_observed
        names = getattr(self, "feature_names_in_", None)
        self.sub_blocks_ = _sub_blocks(self.modalities_, names)
        # One seed for every sub-block: a block's projection does not depend
        # on which other blocks are present (a unimodal strategy reduces its
        # block exactly as a fusion strategy does).
        seed = None
        if self.random_state is not None:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        self.projections_ = []
        for _, _, indices in self.sub_blocks_:
            block = X[:, indices]
            present = ~np.isnan(block).all(axis=1)
            n_present = int(present.sum())
            width = len(indices)
            wide = width > self.n_components and width * self.rows_per_column > (
                n_present
            )
            n_components = min(self.n_components, n_present - 1)
            projection = None
            if wide and n_components >= 1:
                standardized = self._standardize_block(block[present], indices)
                projection = PCA(n_components, random_state=seed).fit(standardized)
            self.projections_.append(projection)
        return self

    def transform(self, X):
        """Project the wide blocks; the narrow ones pass unchanged.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            A blocked matrix with the columns seen in :meth:`fit`.

        Returns
        -------
        X_reduced : ndarray of shape (n_samples, n_features_out)
            The blocks in the order of :meth:`get_feature_names_out`; a row
            missing a reduced block is NaN in its components.
        """
        check_is_fitted(self)
        X = self._validate_blocks(X, reset=False)
        parts = []
        for (_, _, indices), projection in zip(
            self.sub_blocks_, self.projections_, strict=True
        ):
            block = X[:, indices]
            if projection is None:
                parts.append(block)
                continue
            present = ~np.isnan(block).all(axis=1)
            components = np.full((len(block), projection.n_components_), np.nan)
            if present.any():
                standardized = self._standardize_block(block[present], indices)
                components[present] = projection.transform(standardized)
            parts.append(components)
        return np.hstack(parts)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Must match ``feature_names_in_`` when that is defined.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The input names of the kept blocks, and
            ``<modality>__[<sub_block>__]pc<i>`` for the components of a
            reduced block.
        """
        check_is_fitted(self)
        input_features = check_feature_names_in(self, input_features)
        names = []
        for (modality, sub_block, indices), projection in zip(
            self.sub_blocks_, self.projections_, strict=True
        ):
            if projection is None:
                names.extend(input_features[indices])
                continue
            stem = MODALITY_SEPARATOR.join(filter(None, [modality, sub_block]))
            names.extend(
                f"{stem}{MODALITY_SEPARATOR}pc{i}"
                for i in range(projection.n_components_)
            )
        return np.asarray(names, dtype=object)

    def _standardize_block(self, block, indices):
        observed = self.n_samples_seen_[indices] > 0
        standardized = (block - self.mean_[indices]) / self.scale_[indices]
        # A missing value in a present block, or a column never observed:
        # its training mean, 0 after standardising.
        standardized[:, ~observed] = 0.0
        return np.nan_to_num(standardized, nan=0.0, copy=False)


def _sub_blocks(modalities, feature_names):
    """``(modality, sub_block, positions)`` triples, in column order."""
    triples = []
    for modality, indices in modalities.items():
        groups = {}
        for position in indices:
            sub_block = ""
            if feature_names is not None:
                feature = str(feature_names[position]).partition(MODALITY_SEPARATOR)[2]
                head, separator, _ = feature.partition(MODALITY_SEPARATOR)
                sub_block = head if separator and head else ""
            groups.setdefault(sub_block, []).append(position)
        for sub_block, positions in groups.items():
            triples.append((modality, sub_block, np.asarray(positions, dtype=np.intp)))
    return triples
