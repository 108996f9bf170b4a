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
    check_feature_names_in,
    fit_context,
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

    Shrinkage: with a block about as wide as its rows, or wider, the sample
    covariance ``S_ii`` is (near) singular, and some projection of the block
    matches any projection of the others on the training rows: every
    canonical correlation is near 1 and the directions fit noise. Each
    within-modality covariance is therefore shrunk towards a multiple of the
    identity,

    ``D_ii = (1 - lambda_i) S_ii + lambda_i * mu_i * I``, with
    ``mu_i = trace(S_ii) / d_i``

    for a block of width ``d_i`` (``mu_i`` is its average variance, 1 for
    standardised columns). ``lambda_i = 0`` is CCA, ``lambda_i = 1`` treats
    the block's columns as uncorrelated, which for two modalities is partial
    least squares (the directions of largest cross-covariance). With
    ``regularization="auto"``, ``lambda_i`` is the Ledoit-Wolf estimate [3]_
    for the block, computed from the standardised rows in which it is
    present: the intensity that minimises the expected squared error of
    ``D_ii`` as an estimate of the covariance. It grows with the block's
    width relative to its rows and with how close its columns are to
    uncorrelated, so a block wider than its rows is shrunk strongly and a
    narrow, well-sampled, correlated block barely. This is the regularised
    generalised CCA of [4]_, with its analytic choice of shrinkage, applied
    to the MAXVAR criterion. A float ``r`` adds the ridge ``r * mu_i * I``
    to every ``S_ii`` instead, which gives the same weights as
    ``lambda_i = r / (1 + r)``.

    Cost: the fit eigendecomposes each block's covariance on its narrow side
    (``d_i x d_i``, or ``n x n`` through the Gram matrix of the rows when the
    block is wider than its rows) and then one symmetric matrix of the
    whitened blocks, of size the sum of the blocks' ranks; directions
    outside a block's row space carry no shared signal and are left out.

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

    regularization : float or "auto", default="auto"
        Shrinkage of each within-modality covariance. ``"auto"``: the
        Ledoit-Wolf intensity ``lambda_i`` of each block, estimated on the
        training rows (see above). A float ``r >= 0``: the ridge
        ``r * mu_i * I`` added to each within-modality covariance, relative
        to the block's average variance (``1e-3`` was the default before
        ``"auto"``). Larger values are more stable with few rows or wide blocks
        and move the solution towards partial least squares. 0 is allowed
        only when every within-modality covariance is positive definite.

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
        For each component, the correlation of two modalities' projections
        on the training rows in which both are present, averaged over the
        pairs of modalities. With two modalities and little shrinkage these
        are the canonical correlations of CCA; values near 1 for every
        component on a wide block are the sign of a fit to noise.

    eigenvalues_ : ndarray of shape (``n_components_``,)
        The leading eigenvalues ``lambda`` of ``C w = lambda D w``, in
        decreasing order, with the shrunk ``D_ii`` of ``shrinkage_`` (and
        ``D_ii`` divided by ``1 + r`` for a float ``r``).

    shrinkage_ : dict of str to float
        The shrinkage intensity ``lambda_i`` in [0, 1] of each modality's
        within-modality covariance: the Ledoit-Wolf estimate for
        ``regularization="auto"``, ``r / (1 + r)`` for a float ``r``.

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
    .. [3] O. Ledoit and M. Wolf, "A well-conditioned estimator for
       large-dimensional covariance matrices", Journal of Multivariate
       Analysis 88(2), 365-411, 2004.
    .. [4] A. Tenenhaus and M. Tenenhaus, "Regularized generalized canonical
       correlation analysis", Psychometrika 76(2), 257-284, 2011.

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
    >>> sorted(shared.shrinkage_)
    ['m0', 'm1']
    """

    _parameter_constraints = {
        "n_components": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "regularization": [
            Interval(Real, 0, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "method": [StrOptions({"mcca"})],
        "modalities": [dict, None],
    }

    def __init__(
        self,
        n_components=2,
        *,
        regularization="auto",
        method="mcca",
        modalities=None,
    ):
        self.n_components = n_components
        self.regularization = regularization
        self.method = method
        self.modalities = modalities

    @fit_context(prefer_skip_nested_validation=True)
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

        self.shrinkage_, bases, scores = {}, [], []
        for column, (modality, indices) in enumerate(self.modalities_.items()):
            rows = present[:, column]
            block = standardized[:, indices]
            shrinkage, basis = _within_modality_whitening(
                block[rows], self.regularization, modality
            )
            self.shrinkage_[modality] = shrinkage
            bases.append(basis)
            scores.append(block @ basis)
        eigenvalues, eigenvectors = _leading_eigenpairs(
            _whitened_covariance(scores, present), self.n_components_
        )
        # Back from the whitened coordinates: w_i = B_i u_i solves C w = l D w.
        offsets = np.cumsum([0] + [basis.shape[1] for basis in bases])
        weights = np.vstack(
            [
                basis @ eigenvectors[offsets[i] : offsets[i + 1]]
                for i, basis in enumerate(bases)
            ]
        )
        # eigh fixes each eigenvector only up to its sign: make the largest
        # coefficient positive so that refits give the same space.
        largest = np.argmax(np.abs(weights), axis=0)
        signs = np.sign(weights[largest, np.arange(weights.shape[1])])
        weights = weights * np.where(signs == 0, 1.0, signs)

        self.weights_ = {}
        projections = []
        start = 0
        for column, (modality, indices) in enumerate(self.modalities_.items()):
            block_weights = weights[start : start + indices.size]
            start += indices.size
            rows = present[:, column]
            projection = standardized[:, indices] @ block_weights
            spread = (
                np.sqrt(np.mean(projection[rows] ** 2, axis=0)) if rows.any() else 0.0
            )
            # A block that varies in no component direction keeps its (near
            # zero) weights rather than being blown up by a vanishing spread.
            spread = np.where(spread > np.sqrt(np.finfo(float).eps), spread, 1.0)
            self.weights_[modality] = block_weights / spread
            projections.append(projection / spread)
        self.eigenvalues_ = eigenvalues
        self.canonical_correlations_ = _mean_pairwise_correlation(projections, present)
        return self

    def transform(self, X):
        """Project every present block and average the projections per row.

        %(blocked_X)s

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
        check_feature_names_in(self, input_features)
        return np.asarray(
            [f"shared{i}" for i in range(self.n_components_)], dtype=object
        )


def _check_several_modalities(estimator, n_features):
    if len(estimator.modalities_) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs at least 2 modalities; X has "
            f"{len(estimator.modalities_)} modality ({list(estimator.modalities_)}) "
            f"and {n_features} feature(s)."
        )


def _within_modality_whitening(block, regularization, modality):
    """Shrinkage intensity of a block's covariance, and a basis that whitens it.

    With ``S = block.T @ block / n`` (the rows in which the modality is
    present, standardised) and ``mu = trace(S) / d``, returns ``lambda`` and
    ``B`` of shape (d, r) with ``B.T @ D @ B = I`` for the shrunk covariance
    ``D = (1 - lambda) S + lambda mu I``. The columns of ``B`` span the range
    of ``S``: a direction outside it has no covariance with any other block,
    so it only adds solutions of eigenvalue 1 (no shared signal). Leaving
    such directions out makes a block wider than its rows an n x n problem
    instead of a d x d one.
    """
    n_rows, width = block.shape
    if regularization != "auto":
        shrinkage = _ridge_shrinkage(regularization)
    elif n_rows == 0:
        shrinkage = 1.0
    if n_rows == 0:
        # A modality present in no training row: nothing to estimate or project.
        return shrinkage, np.zeros((width, 0))
    # The Gram matrix on the narrow side: S (d x d) or block block' / n (n x n),
    # with the same nonzero eigenvalues.
    narrow = width <= n_rows
    gram = block.T @ block / n_rows if narrow else block @ block.T / n_rows
    if regularization == "auto":
        shrinkage = _ledoit_wolf_shrinkage(block, gram)
    variances, vectors = linalg.eigh(gram, driver="evd")
    # The rank tolerance of np.linalg.matrix_rank(hermitian=True).
    tolerance = max(variances.max(), 0.0) * max(n_rows, width) * np.finfo(float).eps
    kept = variances > tolerance
    # With "auto", a direction without variance (a constant column) is left
    # out like any outside the range of S; a user's explicit 0 is refused.
    if regularization != "auto" and shrinkage == 0 and kept.sum() < width:
        raise ValueError(
            f"The within-modality covariance matrix of modality {modality!r} is "
            "singular (constant or collinear columns, or fewer rows than "
            "columns); set regularization > 0 or 'auto' (it is "
            f"{regularization})."
        )
    variances, vectors = variances[kept], vectors[:, kept]
    if not narrow:
        # Eigenvectors of S from those of the Gram matrix: v = X' u / sqrt(n s).
        vectors = block.T @ vectors / np.sqrt(n_rows * variances)
    average = variances.sum() / width
    average = average if average > 0 else 1.0
    within = (1.0 - shrinkage) * variances + shrinkage * average
    return shrinkage, vectors / np.sqrt(within)


def _ridge_shrinkage(regularization):
    """The shrinkage intensity of a relative ridge ``r``: ``r / (1 + r)``.

    ``S + r mu I`` is ``1 + r`` times the shrunk covariance of that
    intensity, and one factor common to all blocks changes no weight.
    """
    return regularization / (1.0 + regularization)


def _ledoit_wolf_shrinkage(block, gram):
    """``sklearn.covariance.ledoit_wolf_shrinkage(block, assume_centered=True)``.

    The same closed form (Ledoit and Wolf, 2004), with ``||S||_F`` taken from
    ``gram``, ``S`` or ``block @ block.T / n`` (the same Frobenius norm), which
    the fit has already formed on the narrow side of the block: scikit-learn
    forms the d x d products again, which for a 1,280-column block costs a
    third of the whole fit.
    """
    n_rows, width = block.shape
    if width == 1:
        return 0.0
    squared_norms = np.einsum("ij,ij->i", block, block)
    average = squared_norms.sum() / (n_rows * width)
    frobenius = np.sum(gram**2)
    # beta: the estimated variance of the entries of S; delta: their spread
    # about the target average * I (both per column).
    beta = (np.sum(squared_norms**2) / n_rows - frobenius) / (width * n_rows)
    delta = (frobenius - width * average**2) / width
    if delta <= 0:
        # S is already a multiple of the identity (PCA scores, say): every
        # intensity gives the same D, and beta / delta tends to 1.
        return 1.0
    return float(np.clip(beta / delta, 0.0, 1.0))


def _whitened_covariance(scores, present):
    """Covariance of the whitened blocks, each cross block pairwise-complete.

    The diagonal blocks are the identity: each block's scores are whitened
    on the rows in which it is present.
    """
    offsets = np.cumsum([0] + [score.shape[1] for score in scores])
    covariance = np.eye(offsets[-1])
    for i in range(len(scores)):
        block_i = slice(offsets[i], offsets[i + 1])
        for j in range(i + 1, len(scores)):
            block_j = slice(offsets[j], offsets[j + 1])
            rows = present[:, i] & present[:, j]
            cross = scores[i][rows].T @ scores[j][rows] / max(int(rows.sum()), 1)
            covariance[block_i, block_j] = cross
            covariance[block_j, block_i] = cross.T
    return covariance


def _leading_eigenpairs(matrix, n_components):
    """The ``n_components`` largest eigenpairs of a symmetric matrix, decreasing.

    When the matrix is smaller than ``n_components`` (blocks with fewer
    independent directions than components), the rest are components with
    no shared signal: eigenvalue 1 and a zero vector.
    """
    size = matrix.shape[0]
    count = min(n_components, size)
    eigenvalues, eigenvectors = np.ones(0), np.zeros((size, 0))
    if count:
        eigenvalues, eigenvectors = linalg.eigh(
            matrix, subset_by_index=[size - count, size - 1]
        )
        if eigenvectors.shape[1] < count:
            # LAPACK's subset driver can return fewer eigenpairs than asked
            # on ill-conditioned problems; the full solve does not.
            eigenvalues, eigenvectors = linalg.eigh(matrix, driver="evd")
            eigenvalues = eigenvalues[size - count :]
            eigenvectors = eigenvectors[:, size - count :]
        eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]
    padding = n_components - count
    return (
        np.concatenate([eigenvalues, np.ones(padding)]),
        np.hstack([eigenvectors, np.zeros((size, padding))]),
    )


def _mean_pairwise_correlation(projections, present):
    """Per component, the mean over pairs of modalities of their correlation.

    Each pair on the rows in which both are present; the projections are of
    centred columns, so the moments are taken about 0, as in the fit.
    """
    total = np.zeros(projections[0].shape[1])
    pairs = 0
    for i in range(len(projections)):
        for j in range(i + 1, len(projections)):
            rows = present[:, i] & present[:, j]
            if not rows.any():
                continue
            first, second = projections[i][rows], projections[j][rows]
            spread = np.sqrt(np.mean(first**2, axis=0) * np.mean(second**2, axis=0))
            covariance = np.mean(first * second, axis=0)
            total += np.divide(
                covariance, spread, out=np.zeros_like(covariance), where=spread > 0
            )
            pairs += 1
    return total / max(pairs, 1)
