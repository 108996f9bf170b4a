"""Shared-space fusion: project every modality into one common space (multi-set CCA)."""

from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..blocks import FusionMixin
from ..utils._docstrings import fill_docstring
from ..utils._sklearn_compat import (
    Interval,
    StrOptions,
    _check_feature_names_in,
    _fit_context,
)

__all__ = ["SharedSpace"]

# Components of n_components="auto" (fewer when a modality is narrower).
_MAX_AUTO_COMPONENTS = 20


@fill_docstring
class SharedSpace(FusionMixin, TransformerMixin, BaseEstimator):
    """Map every modality into one common space with multi-set CCA.

    Each column is standardised with statistics of the training rows. The
    projection of each modality is then learned by multi-set (generalised)
    canonical correlation analysis: with ``C`` the covariance matrix of all
    blocks and ``D`` its block diagonal (the within-modality covariances),
    the weights are the leading ``n_components`` solutions of the generalised
    eigenproblem ``C w = lambda D w``. They make the projections of the
    modalities as correlated with each other as possible. For complete data
    this is Carroll's generalised CCA (the MAXVAR criterion); for two
    modalities it is ordinary CCA, whose eigenvalues are ``1 + rho`` for the
    canonical correlations ``rho``. Each modality's projection is then scaled
    to unit variance on the training rows in which it is present.

    The within-modality covariance ``C_ii`` of a block of width ``d_i`` is
    regularised as ``C_ii + regularization * trace(C_ii) / d_i * I``: the
    ridge is relative to the block's average variance (1 for standardised
    columns), so one value suits blocks of any width or scale.

    :meth:`transform` projects each present block with its weights and
    outputs, per row, the mean of the projections of the modalities present
    in that row.

    Missing data: the cross-covariance of two modalities is estimated from
    the training rows in which both are present (pairwise-complete), and a
    within-modality covariance from the rows in which that modality is
    present; a missing value inside a present block is imputed with the
    training mean of its column (0 after standardising). A row's missing
    modalities are left out of its mean; a row with no modality at all gets
    zeros, the training mean of every projection.

    Parameters
    ----------
    n_components : int or "auto", default=2
        Dimension of the shared space. At most the width of the narrowest
        modality. ``"auto"`` takes as many as that width allows, up to 20.

    regularization : float, default=1e-3
        Ridge added to each within-modality covariance, relative to the
        block's average variance. Larger values are more stable with few
        rows or wide blocks and move the solution towards partial least
        squares. 0 is allowed only when every within-modality covariance is
        positive definite.

    method : {"mcca"}, default="mcca"
        How the shared space is found. ``"mcca"``: the multi-set CCA
        eigenproblem described above (the only method at present).

    modalities : dict of str to columns, default=None
        Column groups, see :func:`skfusion.blocks.resolve_modalities`.
        ``None`` reads them from ``modality__feature`` column names. At least
        two modalities are needed.

    Attributes
    ----------
    n_components_ : int
        Dimension of the shared space: ``n_components``, or the number that
        ``"auto"`` chose.

    weights_ : dict of str to ndarray of shape (d_i, ``n_components_``)
        Projection of each modality, applied to its standardised block.

    canonical_correlations_ : ndarray of shape (``n_components_``,)
        ``(lambda - 1) / (n_modalities - 1)`` for each eigenvalue ``lambda``:
        the summed covariance of every pair of modality projections divided
        by ``n_modalities - 1`` times their summed variance, on the training
        rows. With two modalities these are exactly the canonical
        correlations of CCA (shrunk a little by the regularisation); with
        more, the mean pairwise correlation of the projections when their
        variances are equal, and close to it otherwise.

    eigenvalues_ : ndarray of shape (``n_components_``,)
        The leading eigenvalues ``lambda`` of ``C w = lambda D w``, in
        decreasing order.

    mean_ : ndarray of shape (``n_features_in_``,)
        Per-column training mean (NaN ignored).

    scale_ : ndarray of shape (``n_features_in_``,)
        Per-column training standard deviation; 1 for constant or
        never-observed columns.

    n_samples_seen_ : ndarray of shape (``n_features_in_``,)
        Number of training rows in which each column was observed; columns
        never observed are set to 0 at transform.

    %(fitted_blocks)s

    See Also
    --------
    FeatureFusion : Combine per-modality PCA projections by sum, mean or product.
    sklearn.cross_decomposition.CCA : CCA of two complete blocks.

    References
    ----------
    .. [1] J. R. Kettenring, "Canonical analysis of several sets of
       variables", Biometrika 58(3), 433-451, 1971.
    .. [2] A. A. Nielsen, "Multiset canonical correlations analysis and
       multispectral, truly multitemporal remote sensing data", IEEE
       Transactions on Image Processing 11(3), 293-305, 2002.

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_classification
    >>> from skfusion.fusion import SharedSpace
    >>> X, y = make_multimodal_classification(
    ...     n_samples=100, modality_sizes=(6, 4), random_state=0
    ... )
    >>> shared = SharedSpace(n_components=2).fit(X)
    >>> shared.transform(X).shape
    (100, 2)
    >>> shared.get_feature_names_out()
    array(['shared0', 'shared1'], dtype=object)
    >>> {name: w.shape for name, w in shared.weights_.items()}
    {'m0': (6, 2), 'm1': (4, 2)}
    """

    _parameter_constraints = {
        "n_components": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "regularization": [Interval(Real, 0, None, closed="left")],
        "method": [StrOptions({"mcca"})],
        "modalities": [dict, None],
    }

    def __init__(
        self, n_components=2, *, regularization=1e-3, method="mcca", modalities=None
    ):
        self.n_components = n_components
        self.regularization = regularization
        self.method = method
        self.modalities = modalities

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the standardisation and the projection of each modality.

        Parameters
        ----------
        %(blocked_X_unsupervised)s

        Returns
        -------
        self : SharedSpace
            The fitted transformer.
        """
        X = self._validate_blocks(X, reset=True, ensure_min_samples=2)
        _check_several_modalities(self, X.shape[1])
        narrowest = min(indices.size for indices in self.modalities_.values())
        if self.n_components == "auto":
            self.n_components_ = min(_MAX_AUTO_COMPONENTS, narrowest)
        else:
            self.n_components_ = self.n_components
        for modality, indices in self.modalities_.items():
            if self.n_components_ > indices.size:
                raise ValueError(
                    f"n_components={self.n_components} exceeds the width of "
                    f"modality {modality!r} ({indices.size} column(s)); the "
                    "shared space is at most as wide as the narrowest modality."
                )
        self._fit_column_statistics(X)
        present = self._present(X)
        standardized = self._standardize(X)

        covariance, within = self._block_covariance(standardized, present)
        size = covariance.shape[0]
        try:
            eigenvalues, eigenvectors = linalg.eigh(
                covariance,
                b=within,
                subset_by_index=[size - self.n_components_, size - 1],
            )
            if eigenvectors.shape[1] < self.n_components_:
                # LAPACK's subset driver can return fewer eigenpairs than asked
                # on ill-conditioned problems; the full solve does not.
                eigenvalues, eigenvectors = linalg.eigh(
                    covariance, b=within, driver="gvd"
                )
                eigenvalues = eigenvalues[size - self.n_components_ :]
                eigenvectors = eigenvectors[:, size - self.n_components_ :]
        except linalg.LinAlgError as exc:
            raise ValueError(
                "A within-modality covariance matrix is singular (constant or "
                "collinear columns, or fewer rows than columns); set "
                f"regularization > 0 (it is {self.regularization})."
            ) from exc
        eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]
        # eigh fixes each eigenvector only up to its sign: make the largest
        # coefficient positive so that refits give the same space.
        largest = np.argmax(np.abs(eigenvectors), axis=0)
        signs = np.sign(eigenvectors[largest, np.arange(eigenvectors.shape[1])])
        eigenvectors = eigenvectors * np.where(signs == 0, 1.0, signs)

        self.weights_ = {}
        start = 0
        for column, (modality, indices) in enumerate(self.modalities_.items()):
            weights = eigenvectors[start : start + indices.size]
            start += indices.size
            rows = present[:, column]
            projection = standardized[rows][:, indices] @ weights
            spread = np.sqrt(np.mean(projection**2, axis=0)) if rows.any() else 0.0
            # A block that varies in no component direction keeps its (near
            # zero) weights rather than being blown up by a vanishing spread.
            spread = np.where(spread > np.sqrt(np.finfo(float).eps), spread, 1.0)
            self.weights_[modality] = weights / spread
        self.eigenvalues_ = eigenvalues
        self.canonical_correlations_ = (eigenvalues - 1.0) / (len(self.modalities_) - 1)
        return self

    def transform(self, X):
        """Project every present block and average the projections per row.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix.

        Returns
        -------
        X_shared : ndarray of shape (n_samples, ``n_components_``)
            Mean of the projections of the modalities present in each row;
            zeros for a row with no modality.
        """
        check_is_fitted(self)
        X = self._validate_blocks(X, reset=False)
        present = self._present(X)
        standardized = self._standardize(X)
        total = np.zeros((X.shape[0], self.n_components_))
        for column, (modality, indices) in enumerate(self.modalities_.items()):
            projection = standardized[:, indices] @ self.weights_[modality]
            total += np.where(present[:, [column]], projection, 0.0)
        return total / np.maximum(present.sum(axis=1), 1)[:, np.newaxis]

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Only checked against ``feature_names_in_``.

        Returns
        -------
        feature_names_out : ndarray of str
            ``shared0``, ``shared1``, ...
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        return np.asarray(
            [f"shared{i}" for i in range(self.n_components_)], dtype=object
        )

    def _block_covariance(self, standardized, present):
        """Pairwise-complete covariance ``C`` of the blocks, and ``D``.

        Rows and columns of both follow the modalities in order; the diagonal
        blocks of ``C`` are regularised and ``D`` is its block diagonal.
        """
        groups = list(self.modalities_.values())
        width = standardized.shape[1]
        offsets = np.cumsum([0] + [idx.size for idx in groups])
        covariance = np.zeros((width, width))
        within = np.zeros((width, width))
        for i, columns_i in enumerate(groups):
            block_i = slice(offsets[i], offsets[i + 1])
            for j in range(i, len(groups)):
                block_j = slice(offsets[j], offsets[j + 1])
                rows = present[:, i] & present[:, j]
                both = standardized[rows]
                cross = both[:, columns_i].T @ both[:, groups[j]]
                cross /= max(int(rows.sum()), 1)
                if i == j:
                    average = np.trace(cross) / columns_i.size
                    ridge = self.regularization * (average if average > 0 else 1.0)
                    cross += ridge * np.eye(columns_i.size)
                    within[block_i, block_i] = cross
                covariance[block_i, block_j] = cross
                covariance[block_j, block_i] = cross.T
        return covariance, within


def _check_several_modalities(estimator, n_features):
    if len(estimator.modalities_) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs at least 2 modalities; X has "
            f"{len(estimator.modalities_)} modality ({list(estimator.modalities_)}) "
            f"and {n_features} feature(s)."
        )
