"""Multiple-kernel fusion: one kernel per modality, one SVM on their weighted sum."""

from collections.abc import Mapping
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..blocks import FusionMixin
from ..utils._docstrings import fill_docstring
from ..utils._sklearn_compat import Interval, StrOptions, fit_context
from ..utils.validation import check_single_label, encode_class_labels

__all__ = ["MultipleKernelClassifier"]

# Kernels of sklearn.metrics.pairwise that accept standardised (signed) data.
_KERNELS = {"linear", "poly", "polynomial", "rbf", "laplacian", "sigmoid", "cosine"}
_MAX_CALIBRATION_FOLDS = 5


@fill_docstring
class MultipleKernelClassifier(FusionMixin, ClassifierMixin, BaseEstimator):
    """Support vector classifier on a weighted sum of one kernel per modality.

    Each column is standardised with statistics of the training rows, and a
    kernel is computed on every modality's block
    (:func:`sklearn.metrics.pairwise.pairwise_kernels`). The kernels are
    combined as ``K = sum_m w_m K_m`` and an :class:`~sklearn.svm.SVC` with a
    precomputed kernel is fitted on ``K``. With ``weights="alignment"`` the
    weight of a modality is proportional to its centred kernel-target
    alignment [1]_ clipped at 0,
    ``max(0, <K_m^c, Y^c Y^c^T>_F / (||K_m^c||_F ||Y^c Y^c^T||_F))`` with
    ``K_m^c`` the centred kernel and ``Y^c`` the centred one-hot labels: a
    kernel whose similarities follow the classes gets more weight, a noise
    modality almost none. Weights are normalised to sum to 1.

    Probabilities come from Platt (sigmoid) calibration of the SVC's
    decision function on cross-validated predictions
    (:class:`~sklearn.calibration.CalibratedClassifierCV` with
    ``ensemble=False``, up to 5 stratified folds), the replacement that
    scikit-learn 1.9 recommends for the deprecated ``SVC(probability=True)``.
    As with the latter, :meth:`predict_proba` may disagree with
    :meth:`predict` near the decision boundary. When a class has a single
    training row the calibration is fitted on the training decision values.

    Missing data: a missing value inside a present block is imputed with the
    training mean of its column (0 after standardising). A missing modality
    is replaced in feature space by the mean of that modality's training
    feature vectors: its kernel value with a training row ``x_j`` is the
    mean of ``k(x_i, x_j)`` over the training rows ``x_i`` where the modality
    is present, and two rows that both lack it have the mean of all those
    kernel values. Every entry is then an inner product of feature vectors
    (real ones or the mean one), so each modality's kernel, and their
    non-negative combination, stays positive semi-definite for a positive
    semi-definite kernel: all offered kernels but ``"sigmoid"``, and
    ``"poly"`` with ``coef0 >= 0`` (the default is 1) and an integer degree.
    Imputing the block in input space (0 after standardising) would keep
    ``K`` positive semi-definite too, but for a non-linear kernel the
    feature vector of the mean subject is not the mean feature vector; for
    the linear kernel the two coincide.

    Parameters
    ----------
    kernel : str or dict of str to str, default="rbf"
        Kernel of every modality, one of ``"rbf"``, ``"linear"``, ``"poly"``
        (``"polynomial"``), ``"laplacian"``, ``"sigmoid"`` or ``"cosine"``;
        or a dict ``{modality: kernel}``, with ``"rbf"`` for modalities not
        listed.

    kernel_params : dict, default=None
        Keyword arguments of the kernel function (such as ``gamma`` or
        ``degree``) for every modality, or a dict ``{modality: kwargs}``
        (recognised by its values all being dicts). By default ``gamma`` is
        ``1 / n_features`` of the block, which on standardised columns is
        scikit-learn's ``gamma="scale"``.

    weights : {"alignment", "uniform"}, array-like or dict, default="alignment"
        Kernel weights: ``"alignment"`` (centred kernel-target alignment),
        ``"uniform"``, one non-negative number per modality (in the order of
        ``modalities_``), or a dict ``{modality: weight}`` where modalities
        not listed get 1. Weights are normalised to sum to 1; if every
        alignment is 0 the weights fall back to uniform.

    C : float, default=1.0
        Regularisation parameter of the SVC.

    class_weight : dict or "balanced", default=None
        Class weights of the SVC, see :class:`~sklearn.svm.SVC`.

    modalities : dict of str to columns, default=None
        Column groups, see :func:`skfusion.blocks.resolve_modalities`.
        ``None`` reads them from ``modality__feature`` column names.

    random_state : int, RandomState instance or None, default=None
        Seeds the cross-validation folds of the probability calibration.

    Attributes
    ----------
    kernel_weights_ : dict of str to float
        Weight of each modality's kernel; they sum to 1.

    alignments_ : dict of str to float
        Centred kernel-target alignment of each modality's training kernel
        (computed whatever ``weights`` is), a measure of how well the
        modality alone separates the classes.

    kernels_ : dict of str to tuple of (str, dict)
        The kernel name and keyword arguments used for each modality.

    estimator_ : SVC
        The SVC fitted on the combined training kernel.

    calibrated_classifier_ : CalibratedClassifierCV
        The probability calibration of ``estimator_``.

    classes_ : ndarray of shape (n_classes,)
        The class labels.

    training_blocks_ : dict of str to ndarray of shape (n_present, d_i)
        Standardised training rows of each modality where it is present,
        needed to compute kernels with new rows.

    training_availability_ : ndarray of shape (n_train, n_modalities)
        True where a modality was present in a training row.

    mean_ : ndarray of shape (``n_features_in_``,)
        Per-column training mean (NaN ignored).

    scale_ : ndarray of shape (``n_features_in_``,)
        Per-column training standard deviation.

    n_samples_seen_ : ndarray of shape (``n_features_in_``,)
        Number of training rows in which each column was observed.

    %(fitted_blocks)s

    See Also
    --------
    SharedSpace : Map every modality into one space with multi-set CCA.
    sklearn.svm.SVC : The classifier fitted on the combined kernel.

    Notes
    -----
    Fitting holds an ``n_train x n_train`` kernel per modality in memory and
    prediction an ``n_test x n_train`` one: suited to studies of up to a few
    thousand subjects.

    References
    ----------
    .. [1] C. Cortes, M. Mohri and A. Rostamizadeh, "Algorithms for learning
       kernels based on centered alignment", Journal of Machine Learning
       Research 13, 795-828, 2012.

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_classification
    >>> from skfusion.fusion import MultipleKernelClassifier
    >>> X, y = make_multimodal_classification(
    ...     n_samples=100, modality_sizes=(5, 3), informativeness=(3.0, 0.0),
    ...     random_state=0,
    ... )
    >>> clf = MultipleKernelClassifier(random_state=0).fit(X, y)
    >>> clf.kernel_weights_["m0"] > clf.kernel_weights_["m1"]
    True
    >>> clf.predict_proba(X).shape
    (100, 2)
    """

    _parameter_constraints = {
        "kernel": [StrOptions(_KERNELS), dict],
        "kernel_params": [dict, None],
        "weights": [StrOptions({"alignment", "uniform"}), "array-like", dict],
        "C": [Interval(Real, 0, None, closed="neither")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "modalities": [dict, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        kernel="rbf",
        *,
        kernel_params=None,
        weights="alignment",
        C=1.0,
        class_weight=None,
        modalities=None,
        random_state=None,
    ):
        self.kernel = kernel
        self.kernel_params = kernel_params
        self.weights = weights
        self.C = C
        self.class_weight = class_weight
        self.modalities = modalities
        self.random_state = random_state

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Compute the modality kernels, their weights and fit the SVC.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix; NaN marks missing values and modalities.

        y : array-like of shape (n_samples,)
            Class labels. A multi-label target (several columns) is refused
            with a ``ValueError``: use :class:`LateFusionClassifier`.

        Returns
        -------
        self : MultipleKernelClassifier
            The fitted classifier.
        """
        # One-vs-rest per label would need a kernel weighting and a calibrated
        # SVC per label; late fusion already fits one model per label.
        check_single_label(
            self,
            y,
            use_instead=(
                "LateFusionClassifier, or a Pipeline of BlockScaler and a "
                "multi-label classifier (KNeighborsClassifier, "
                "RandomForestClassifier, MultiOutputClassifier(SVC()))"
            ),
        )
        X, y = self._validate_blocks(X, y, reset=True)
        y_encoded = encode_class_labels(self, y)
        self._fit_column_statistics(X)
        self.kernels_ = self._resolve_kernels()
        present = self._present(X)
        standardized = self._standardize(X)
        self.training_availability_ = present
        self.training_blocks_ = {}
        self._kernel_means = {}
        kernels = {}
        for column, (modality, indices) in enumerate(self.modalities_.items()):
            block = standardized[present[:, column]][:, indices]
            self.training_blocks_[modality] = block
            if block.shape[0] == 0:
                self._kernel_means[modality] = (np.zeros(0), 0.0)
            else:
                name, params = self.kernels_[modality]
                between = pairwise_kernels(block, block, metric=name, **params)
                column_means = between.mean(axis=0)
                self._kernel_means[modality] = (column_means, column_means.mean())
            kernels[modality] = self._modality_kernel(
                modality, standardized[:, indices], present[:, column]
            )

        one_hot = np.eye(self.classes_.size)[y_encoded]
        self.alignments_ = {
            modality: _centered_alignment(kernel, one_hot)
            for modality, kernel in kernels.items()
        }
        self.kernel_weights_ = self._resolve_weights()
        combined = sum(self.kernel_weights_[m] * kernels[m] for m in kernels)

        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        svc = SVC(
            kernel="precomputed",
            C=self.C,
            class_weight=self.class_weight,
            random_state=seed,
        )
        n_folds = min(_MAX_CALIBRATION_FOLDS, int(np.bincount(y_encoded).min()))
        if n_folds >= 2:
            folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
        else:
            # Too few rows of some class to cross-validate: calibrate on the
            # training decision values, which is optimistic but well defined.
            every_row = np.arange(y.shape[0])
            folds = [(every_row, every_row)]
        calibrated = CalibratedClassifierCV(svc, cv=folds, ensemble=False)
        calibrated.fit(combined, y)
        self.estimator_ = calibrated.calibrated_classifiers_[0].estimator
        self.calibrated_classifier_ = calibrated
        return self

    def predict(self, X):
        """Predict class labels.

        %(blocked_X)s

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        check_is_fitted(self)
        return self.estimator_.predict(self._combined_kernel(X))

    def predict_proba(self, X):
        """Predict calibrated class probabilities.

        %(blocked_X)s

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``.
        """
        check_is_fitted(self)
        return self.calibrated_classifier_.predict_proba(self._combined_kernel(X))

    def decision_function(self, X):
        """Signed distance to the SVC's separating hyperplane(s).

        %(blocked_X)s

        Returns
        -------
        decision : ndarray of shape (n_samples,) or (n_samples, n_classes)
            As :meth:`sklearn.svm.SVC.decision_function` (one-vs-rest shape
            for more than two classes).
        """
        check_is_fitted(self)
        return self.estimator_.decision_function(self._combined_kernel(X))

    def _combined_kernel(self, X):
        X = self._validate_blocks(X, reset=False)
        present = self._present(X)
        standardized = self._standardize(X)
        combined = np.zeros((X.shape[0], self.training_availability_.shape[0]))
        for column, (modality, indices) in enumerate(self.modalities_.items()):
            weight = self.kernel_weights_[modality]
            if weight > 0:
                block = standardized[:, indices]
                kernel = self._modality_kernel(modality, block, present[:, column])
                combined += weight * kernel
        return combined

    def _modality_kernel(self, modality, block, present):
        """Kernel of the rows of ``block`` with every training row.

        A missing modality, in a new row or a training row, stands for the
        mean training feature vector of the modality (see the class
        docstring); a modality never present in training gives zeros.
        """
        column = list(self.modalities_).index(modality)
        train_present = self.training_availability_[:, column]
        kernel = np.zeros((block.shape[0], train_present.size))
        train_block = self.training_blocks_[modality]
        if train_block.shape[0] == 0:
            return kernel
        column_means, grand_mean = self._kernel_means[modality]
        name, params = self.kernels_[modality]
        if present.any():
            between = pairwise_kernels(
                block[present], train_block, metric=name, **params
            )
            kernel[np.ix_(present, train_present)] = between
            kernel[np.ix_(present, ~train_present)] = between.mean(
                axis=1, keepdims=True
            )
        kernel[np.ix_(~present, train_present)] = column_means
        kernel[np.ix_(~present, ~train_present)] = grand_mean
        return kernel

    def _resolve_kernels(self):
        modalities = list(self.modalities_)
        if isinstance(self.kernel, str):
            names = dict.fromkeys(modalities, self.kernel)
        else:
            _check_known_modalities(self.kernel, modalities, "kernel")
            names = {m: self.kernel.get(m, "rbf") for m in modalities}
            for modality, name in names.items():
                if name not in _KERNELS:
                    raise ValueError(
                        f"kernel[{modality!r}] must be one of {sorted(_KERNELS)}; "
                        f"got {name!r}."
                    )
        params = self.kernel_params or {}
        nested = [isinstance(value, Mapping) for value in params.values()]
        if any(nested) and not all(nested):
            raise ValueError(
                "kernel_params must be either keyword arguments for every "
                "modality or a dict {modality: keyword arguments}; got a mix: "
                f"{params!r}."
            )
        if any(nested):
            _check_known_modalities(params, modalities, "kernel_params")
            return {m: (names[m], dict(params.get(m, {}))) for m in modalities}
        return {m: (names[m], dict(params)) for m in modalities}

    def _resolve_weights(self):
        modalities = list(self.modalities_)
        if isinstance(self.weights, str) and self.weights == "uniform":
            raw = np.ones(len(modalities))
        elif isinstance(self.weights, str):
            raw = np.maximum([self.alignments_[m] for m in modalities], 0.0)
            if not raw.sum() > 0:
                raw = np.ones(len(modalities))
        else:
            if isinstance(self.weights, Mapping):
                _check_known_modalities(self.weights, modalities, "weights")
                raw = [self.weights.get(m, 1.0) for m in modalities]
            else:
                raw = self.weights
            raw = np.asarray(raw, dtype=float).ravel()
            if raw.size != len(modalities):
                raise ValueError(
                    f"weights has {raw.size} value(s) but there are "
                    f"{len(modalities)} modalities {modalities}."
                )
            if not np.isfinite(raw).all() or (raw < 0).any() or raw.sum() <= 0:
                raise ValueError(
                    "weights must be finite, non-negative and not all 0; got "
                    f"{self.weights!r}."
                )
        raw = raw / raw.sum()
        return {m: float(w) for m, w in zip(modalities, raw, strict=True)}


def _check_known_modalities(mapping, modalities, parameter):
    unknown = [key for key in mapping if key not in modalities]
    if unknown:
        raise ValueError(
            f"{parameter} names modality {unknown[0]!r}, which is not among the "
            f"fitted modalities {modalities}."
        )


def _centered_alignment(kernel, one_hot):
    """Centred alignment of a kernel with the target kernel ``Y Y^T``, in [-1, 1].

    ``<K^c, Y^c Y^c^T>_F / (||K^c||_F ||Y^c Y^c^T||_F)``; 0 for a constant kernel.
    """
    centered = (
        kernel
        - kernel.mean(axis=0, keepdims=True)
        - kernel.mean(axis=1, keepdims=True)
        + kernel.mean()
    )
    kernel_norm = np.linalg.norm(centered)
    if kernel_norm <= np.finfo(float).eps * max(np.abs(kernel).max(), 1.0) * len(
        kernel
    ):
        return 0.0
    targets = one_hot - one_hot.mean(axis=0)
    target_norm = np.linalg.norm(targets.T @ targets)
    return float(np.trace(targets.T @ centered @ targets) / (kernel_norm * target_norm))
