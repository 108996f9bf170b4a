"""Early (feature-level) fusion: put the modality blocks on one footing."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_is_fitted

from ..blocks import FusionMixin
from ..utils._docstrings import fill_docstring
from ..utils._sklearn_compat import (
    Interval,
    StrOptions,
    check_feature_names_in,
    fit_context,
)

__all__ = ["BlockScaler", "FeatureFusion"]


@fill_docstring
class BlockScaler(FusionMixin, TransformerMixin, BaseEstimator):
    """Standardise each modality and weight it so that every block counts alike.

    Every column is centred and scaled to unit variance with statistics of the
    training rows (computed without overflow, so that scaling a column by any
    positive factor leaves the output unchanged), then each block is
    multiplied by ``sqrt(weight / width)``: after scaling, the total variance
    of a block equals its weight (1 by default) whatever its width, so a
    512-wide image embedding does not drown 8 clinical columns in a distance-
    or penalty-based model. ``width`` counts the columns that varied in
    training; constant and never-observed columns are set to 0.

    Missing data: a missing value, and a missing modality (a block that is all
    NaN in a row), are imputed with the training mean of each column (0 after
    scaling). With ``add_indicator=True`` one availability column per modality
    (1 present, 0 missing) is appended, so that a downstream model can tell an
    imputed block from a real one. Like any column constant in training, the
    indicator of a modality present in every training row (or in none) is 0:
    it carries no information, and a constant column of ones beside the
    intercept only perturbs a penalised solver.

    Parameters
    ----------
    modalities : dict of str to columns, default=None
        Column groups, see :func:`skfusion.blocks.resolve_modalities`.
        ``None`` reads them from ``modality__feature`` column names.

    block_weights : dict of str to float, default=None
        Relative weight of each modality's block (total variance after
        scaling). Modalities not listed get 1. ``None`` weights all blocks
        equally.

    add_indicator : bool, default=False
        Append one 0/1 availability column per modality, named
        ``availability__<modality>``.

    Attributes
    ----------
    mean_ : ndarray of shape (``n_features_in_``,)
        Per-column mean of the training rows (NaN ignored).

    scale_ : ndarray of shape (``n_features_in_``,)
        Per-column standard deviation of the training rows; 1 for constant or
        never-observed columns.

    n_samples_seen_ : ndarray of shape (``n_features_in_``,)
        Number of training rows in which each column was observed (not NaN).

    block_weights_ : dict of str to float
        The weight used for every modality.

    column_factors_ : ndarray of shape (``n_features_in_``,)
        Multiplier applied after standardisation: ``sqrt(weight / n_varying)``
        where ``n_varying`` counts the block's columns that varied in
        training; 0 for constant and never-observed columns, which carry no
        information.

    indicator_factors_ : ndarray of shape (n_modalities,)
        Multiplier of each availability column (``add_indicator=True``): 1
        for a modality present in some but not all training rows, else 0.

    %(fitted_blocks)s

    See Also
    --------
    FeatureFusion : Combine projected blocks by sum, mean or product.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skfusion.fusion import BlockScaler
    >>> X = pd.DataFrame({
    ...     "clinical__age": [50.0, 60.0, 70.0, 80.0],
    ...     "image__f0": [1.0, 2.0, np.nan, 4.0],
    ...     "image__f1": [0.0, 1.0, np.nan, 1.0],
    ... })
    >>> Xt = BlockScaler(add_indicator=True).fit_transform(X)
    >>> Xt.shape
    (4, 5)
    >>> BlockScaler(add_indicator=True).fit(X).get_feature_names_out()[-2:]
    array(['availability__clinical', 'availability__image'], dtype=object)
    """

    _parameter_constraints = {
        "modalities": [dict, None],
        "block_weights": [dict, None],
        "add_indicator": ["boolean"],
    }

    def __init__(self, *, modalities=None, block_weights=None, add_indicator=False):
        self.modalities = modalities
        self.block_weights = block_weights
        self.add_indicator = add_indicator

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn per-column statistics from the training rows.

        Parameters
        ----------
        %(blocked_X_unsupervised)s

        Returns
        -------
        self : BlockScaler
            The fitted scaler.
        """
        X = self._validate_blocks(X, reset=True)
        varying = self._fit_column_statistics(X)
        self.block_weights_ = _resolve_block_weights(self.block_weights, self)
        # Only columns that varied in training share the block's weight, so that
        # constant or never-observed columns do not dilute it.
        self.column_factors_ = np.zeros(self.n_features_in_)
        for modality, indices in self.modalities_.items():
            n_varying = max(int(varying[indices].sum()), 1)
            self.column_factors_[indices] = (
                np.sqrt(self.block_weights_[modality] / n_varying) * varying[indices]
            )
        present = self._present(X)
        self.indicator_factors_ = (present.any(axis=0) & ~present.all(axis=0)).astype(
            float
        )
        return self

    def transform(self, X):
        """Scale and weight every block, imputing missing entries.

        %(blocked_X)s

        Returns
        -------
        X_scaled : ndarray of shape (n_samples, n_features_out)
            Scaled blocks, followed by the availability columns when
            ``add_indicator=True``.
        """
        check_is_fitted(self)
        X = self._validate_blocks(X, reset=False)
        X_scaled = self._standardize(X) * self.column_factors_
        if self.add_indicator:
            present = self._present(X)
            indicators = present.astype(X_scaled.dtype) * self.indicator_factors_
            X_scaled = np.hstack([X_scaled, indicators])
        return X_scaled

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input column names; defaults to ``feature_names_in_`` or
            ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str
            Input names, then ``availability__<modality>`` per modality when
            ``add_indicator=True``.
        """
        check_is_fitted(self)
        names = list(check_feature_names_in(self, input_features))
        if self.add_indicator:
            names += [f"availability__{modality}" for modality in self.modalities_]
        return np.asarray(names, dtype=object)


@fill_docstring
class FeatureFusion(FusionMixin, TransformerMixin, BaseEstimator):
    """Fuse modalities by concatenating, adding or multiplying their features.

    Each column is first standardised with training statistics (scale
    invariant: multiplying a column by any positive factor, 1e300 or 1e-300,
    changes nothing). With
    ``method="concat"`` the blocks are put side by side, each projected onto
    its ``n_components`` leading principal components when ``n_components``
    is set. With ``"sum"``, ``"mean"`` or ``"product"`` every block is
    projected onto a common width (a PCA per modality, fitted on the training
    rows where that modality is present) and the projections are combined
    element-wise: component ``i`` of the output is the sum, mean or product
    of component ``i`` of each modality.

    Missing data: missing values inside a present block are imputed with the
    training mean before projection. A row's missing modalities are left out
    of its sum, mean or product; for ``"concat"`` a missing block is set to
    its training mean (0 after centring). A row with no modality at all gets
    the training mean of the fused output.

    Modalities too rare to project: a modality present in fewer than 2
    training rows (in none, or in one), or whose columns do not vary in
    training, has no projection. It is treated as missing in every row (it
    contributes nothing, its ``"concat"`` block is 0), with a warning that
    names it; it does not limit the default ``n_components``. Likewise a
    principal component without variance in training (a modality present in
    as few rows as components, collinear columns) contributes nothing rather
    than whitened rounding noise. A component that no present modality
    informs is 0, and a row in which no present modality has a projection
    gets the training mean of the fused output.

    Parameters
    ----------
    method : {"concat", "sum", "mean", "product"}, default="concat"
        How to combine the blocks.

    n_components : int, default=None
        Width each block is projected to. ``None`` keeps the standardised
        blocks for ``"concat"`` and, for the element-wise methods, uses the
        narrowest block's width or the fewest training rows in which a
        modality is present, if smaller (among the modalities that can be
        projected, see above).

    whiten : bool, default=True
        Scale projected components to unit variance, so that no modality
        dominates an element-wise sum or product by its variance alone.

    modalities : dict of str to columns, default=None
        Column groups, see :func:`skfusion.blocks.resolve_modalities`.
        ``None`` reads them from ``modality__feature`` column names.

    random_state : int, RandomState instance or None, default=None
        Seeds the PCA solver when it is randomised (large blocks).

    Attributes
    ----------
    mean_ : ndarray of shape (``n_features_in_``,)
        Per-column training mean (NaN ignored).

    scale_ : ndarray of shape (``n_features_in_``,)
        Per-column training standard deviation.

    n_samples_seen_ : ndarray of shape (``n_features_in_``,)
        Number of training rows in which each column was observed; columns
        never observed are set to 0 (their training mean) at transform.

    projections_ : dict of str to PCA or None
        The fitted projection of each modality; None for a modality too rare
        or constant to project; empty when no projection is used.

    informative_components_ : dict of str to ndarray of bool
        For each modality, which of its ``n_components_`` projected
        components carry variance in training and are used; all False for a
        modality without projection. Empty when no projection is used.

    n_components_ : int or None
        Width of each projected block, None without projection.

    fallback_ : ndarray of shape (n_features_out,)
        Output given to rows in which every modality is missing (or every
        present one lacks a projection): the training mean of the fused
        output, zeros if no training row has a usable modality.

    %(fitted_blocks)s

    See Also
    --------
    BlockScaler : Standardise and weight the blocks, then concatenate them.

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_classification
    >>> from skfusion.fusion import FeatureFusion
    >>> X, y = make_multimodal_classification(
    ...     n_samples=50, modality_sizes=(6, 4), random_state=0
    ... )
    >>> fusion = FeatureFusion(method="sum", n_components=3).fit(X)
    >>> fusion.transform(X).shape
    (50, 3)
    >>> fusion.get_feature_names_out()
    array(['fused__sum0', 'fused__sum1', 'fused__sum2'], dtype=object)
    """

    _parameter_constraints = {
        "method": [StrOptions({"concat", "sum", "mean", "product"})],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "whiten": ["boolean"],
        "modalities": [dict, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        method="concat",
        *,
        n_components=None,
        whiten=True,
        modalities=None,
        random_state=None,
    ):
        self.method = method
        self.n_components = n_components
        self.whiten = whiten
        self.modalities = modalities
        self.random_state = random_state

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the standardisation and the per-modality projections.

        Parameters
        ----------
        %(blocked_X_unsupervised)s

        Returns
        -------
        self : FeatureFusion
            The fitted transformer.
        """
        X = self._validate_blocks(X, reset=True)
        varying = self._fit_column_statistics(X)
        present = self._present(X)
        standardized = self._standardize(X)
        counts = present.sum(axis=0)
        learnable = {}
        for column, (modality, indices) in enumerate(self.modalities_.items()):
            learnable[modality] = counts[column] >= 2 and varying[indices].any()

        self.n_components_ = self._resolve_n_components(counts, learnable)
        self.projections_ = {}
        self.informative_components_ = {}
        if self.n_components_ is not None:
            for column, (modality, indices) in enumerate(self.modalities_.items()):
                rows = present[:, column]
                if not learnable[modality]:
                    _warn_unlearnable(self, modality, int(counts[column]))
                    self.projections_[modality] = None
                    self.informative_components_[modality] = np.zeros(
                        self.n_components_, dtype=bool
                    )
                    continue
                if rows.sum() < self.n_components_:
                    raise ValueError(
                        f"Modality {modality!r} is present in {int(rows.sum())} "
                        f"training row(s), fewer than n_components="
                        f"{self.n_components_}: lower n_components."
                    )
                pca = PCA(
                    n_components=self.n_components_,
                    whiten=self.whiten,
                    random_state=self.random_state,
                )
                block = standardized[rows][:, indices]
                self.projections_[modality] = pca.fit(block)
                # A component without variance (fewer rows than components,
                # collinear columns) holds rounding noise, which whitening
                # would blow up: it contributes nothing (numpy's matrix_rank
                # tolerance on the singular values).
                singular = pca.singular_values_
                tolerance = max(block.shape) * np.finfo(float).eps
                self.informative_components_[modality] = singular > tolerance * max(
                    singular.max(), 1.0
                )

        fused, any_present = self._fuse(standardized, present)
        self.fallback_ = (
            fused[any_present].mean(axis=0)
            if any_present.any()
            else np.zeros(fused.shape[1])
        )
        return self

    def transform(self, X):
        """Fuse the modality blocks.

        %(blocked_X)s

        Returns
        -------
        X_fused : ndarray of shape (n_samples, n_features_out)
            The fused features.
        """
        check_is_fitted(self)
        X = self._validate_blocks(X, reset=False)
        present = self._present(X)
        fused, any_present = self._fuse(self._standardize(X), present)
        fused[~any_present] = self.fallback_
        return fused

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input column names; only used by ``"concat"`` without projection.

        Returns
        -------
        feature_names_out : ndarray of str
            ``modality__pc<i>`` for projected concatenation,
            ``fused__<method><i>`` for the element-wise methods, the input
            names for plain concatenation.
        """
        check_is_fitted(self)
        input_names = check_feature_names_in(self, input_features)
        if self.n_components_ is None:
            return input_names
        if self.method == "concat":
            names = [
                f"{modality}__pc{i}"
                for modality in self.modalities_
                for i in range(self.n_components_)
            ]
        else:
            names = [f"fused__{self.method}{i}" for i in range(self.n_components_)]
        return np.asarray(names, dtype=object)

    def _resolve_n_components(self, counts, learnable):
        widths = {name: idx.size for name, idx in self.modalities_.items()}
        if self.n_components is None:
            if self.method == "concat":
                return None
            # Modalities too rare or constant to project do not limit the width.
            usable = [
                (width, count)
                for (name, width), count in zip(widths.items(), counts, strict=True)
                if learnable[name]
            ]
            if not usable:
                return min(widths.values())
            return int(min(min(width, count) for width, count in usable))
        for modality, width in widths.items():
            if self.n_components > width:
                raise ValueError(
                    f"n_components={self.n_components} exceeds the width of "
                    f"modality {modality!r} ({width} column(s))."
                )
        return self.n_components

    def _fuse(self, standardized, present):
        """Fused features and a mask of rows with at least one usable modality.

        A modality contributes to the components it could learn
        (``informative_components_``) in the rows where it is present.
        """
        if self.n_components_ is None:
            return np.nan_to_num(standardized, nan=0.0), present.any(axis=1)

        projected, informative = [], []
        for modality, indices in self.modalities_.items():
            pca = self.projections_[modality]
            if pca is None:
                projected.append(np.zeros((standardized.shape[0], self.n_components_)))
            else:
                block = np.nan_to_num(standardized[:, indices], nan=0.0)
                projected.append(pca.transform(block))
            informative.append(self.informative_components_[modality])
        projected = np.stack(projected)  # (n_modalities, n_samples, n_components)
        # (n_modalities, n_samples, n_components): modality m counts in cell (i, k)
        mask = present.T[:, :, np.newaxis] & np.stack(informative)[:, np.newaxis, :]
        any_present = mask.any(axis=(0, 2))

        if self.method == "concat":
            return np.hstack(np.where(mask, projected, 0.0)), any_present
        if self.method == "product":
            fused = np.prod(np.where(mask, projected, 1.0), axis=0)
            # A component no present modality informs is unknown: its mean, 0.
            return np.where(mask.any(axis=0), fused, 0.0), any_present
        total = np.sum(np.where(mask, projected, 0.0), axis=0)
        if self.method == "mean":
            total = total / np.maximum(mask.sum(axis=0), 1)
        return total, any_present


def _warn_unlearnable(estimator, modality, n_rows):
    reason = (
        f"does not vary in its {n_rows} training row(s)"
        if n_rows >= 2
        else f"is present in {n_rows} training row(s), fewer than the 2 needed"
    )
    warnings.warn(
        f"{type(estimator).__name__}: modality {modality!r} {reason} to learn its "
        "projection; it contributes nothing to the fused features (as if "
        "missing in every row).",
        UserWarning,
        stacklevel=3,
    )


def _resolve_block_weights(block_weights, estimator):
    weights = dict.fromkeys(estimator.modalities_, 1.0)
    for modality, weight in (block_weights or {}).items():
        if modality not in weights:
            raise ValueError(
                f"block_weights names modality {modality!r}, which is not among "
                f"the fitted modalities {list(weights)}."
            )
        if not np.isfinite(weight) or weight < 0:
            raise ValueError(
                f"block_weights[{modality!r}] must be a finite non-negative "
                f"number; got {weight!r}."
            )
        weights[modality] = float(weight)
    return weights
