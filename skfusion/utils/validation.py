"""Input validation and column standardisation shared by the fusion estimators."""

import warnings

import numpy as np
import pandas as pd
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..compose import _modality_of_column, _preview, _resolve_modality_indices

__all__ = [
    "encode_class_labels",
    "nan_column_statistics",
    "non_numeric_rows",
    "standardize_columns",
    "validate_blocked_data",
]


def validate_blocked_data(estimator, X, y="no_validation", *, reset, **check_params):
    """Validate a blocked matrix and resolve its modality groups.

    At fit (``reset=True``) the modality groups are resolved from the column
    prefixes or ``estimator.modalities`` and stored in ``estimator.modalities_``.
    Later calls check that every fitted modality is still there. NaN is always
    allowed (it means a missing modality or value); infinity and non-numeric
    columns are refused with an error that names the modality, the column and
    the row.

    Parameters
    ----------
    estimator : estimator instance
        The fusion estimator; must have a ``modalities`` parameter.

    X : DataFrame or array-like of shape (n_samples, n_features)
        The blocked matrix.

    y : array-like of shape (n_samples,), default="no_validation"
        Targets, validated together with ``X`` when given.

    reset : bool
        True in ``fit``: record ``n_features_in_``, ``feature_names_in_`` and
        ``modalities_``. False elsewhere: check ``X`` against them.

    **check_params : dict
        Passed on to :func:`sklearn.utils.validation.validate_data`.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float
        The validated matrix.

    y : ndarray of shape (n_samples,)
        Only when ``y`` was given.

    Raises
    ------
    ValueError
        For infinite or non-numeric values in ``X``, missing or unseen
        modalities, columns in another order than at fit (naming the first
        misplaced one) and NaN or infinite targets (naming the rows).
    """
    if not reset:
        check_is_fitted(estimator)
        _check_fitted_modalities_present(estimator, X)
        _check_column_order(estimator, X)
    if not (isinstance(y, str) and y == "no_validation") and y is not None:
        _check_finite_target(estimator, y)
    feature_names = (
        np.asarray(X.columns, dtype=object) if hasattr(X, "columns") else None
    )
    if feature_names is not None:
        groups = (
            _resolve_modality_indices(
                feature_names, len(feature_names), estimator.modalities
            )
            if reset
            else estimator.modalities_
        )
        _check_numeric_columns(X, groups)
    check_params.setdefault("dtype", [np.float64, np.float32])
    validated = validate_data(
        estimator, X, y, reset=reset, ensure_all_finite=False, **check_params
    )
    X_checked = validated[0] if isinstance(validated, tuple) else validated
    if reset:
        groups = _resolve_modality_indices(
            getattr(estimator, "feature_names_in_", None),
            X_checked.shape[1],
            estimator.modalities,
        )
        estimator.modalities_ = groups
    index = X.index if hasattr(X, "index") else None
    _check_no_infinity(X_checked, estimator, feature_names, index)
    return validated


def encode_class_labels(estimator, y):
    """Check a classification target, store ``classes_`` and encode y as 0..K-1.

    Parameters
    ----------
    estimator : classifier instance
        Receives ``classes_``.

    y : array-like of shape (n_samples,)
        Class labels.

    Returns
    -------
    y_encoded : ndarray of shape (n_samples,)
        Positions of the labels in ``classes_``.

    Raises
    ------
    ValueError
        For a continuous target, or one with a single class.
    """
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    if len(encoder.classes_) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs at least 2 classes in y; got 1 "
            f"class: {encoder.classes_[0]!r}."
        )
    estimator.classes_ = encoder.classes_
    return encoder.transform(y)


def nan_column_statistics(X, groups=None):
    """Per-column mean and standard deviation of the observed entries.

    NaN entries are ignored. The statistics are computed on each column
    divided by its largest absolute value, then multiplied back, so that they
    neither overflow (values beyond ~1e154 would square to infinity) nor lose
    precision for tiny values: the standardised columns of ``X * c`` equal
    those of ``X`` for any positive ``c`` (to rounding).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Finite values or NaN.

    groups : dict of str to ndarray of int, default=None
        Modality column positions; when given, columns never observed raise a
        warning that names their modalities.

    Returns
    -------
    mean : ndarray of shape (n_features,)
        Mean of the observed entries; 0 for a column never observed. The
        statistics are float64 whatever the dtype of ``X``.

    scale : ndarray of shape (n_features,)
        Standard deviation (``ddof=0``) of the observed entries; 1 for a
        constant or never-observed column.

    n_observed : ndarray of shape (n_features,)
        Number of observed (non-NaN) entries of each column.

    varying : ndarray of shape (n_features,), dtype bool
        True for the columns that vary: observed, and not constant up to the
        rounding of their mean (scikit-learn's ``StandardScaler`` criterion).
    """
    X = np.asarray(X, dtype=float)
    observed = ~np.isnan(X)
    n_observed = observed.sum(axis=0)
    magnitude = np.max(np.where(observed, np.abs(X), 0.0), axis=0, initial=0.0)
    magnitude = np.where(magnitude > 0, magnitude, 1.0)
    unit = np.where(observed, X / magnitude, 0.0)  # in [-1, 1]
    counts = np.maximum(n_observed, 1)
    unit_mean = unit.sum(axis=0) / counts
    unit_variance = (np.where(observed, unit - unit_mean, 0.0) ** 2).sum(
        axis=0
    ) / counts
    eps = np.finfo(float).eps
    constant = unit_variance <= (
        counts * eps * unit_variance + (counts * unit_mean * eps) ** 2
    )
    varying = (n_observed > 0) & ~constant
    mean = unit_mean * magnitude
    scale = np.where(varying, np.sqrt(unit_variance) * magnitude, 1.0)
    never_observed = n_observed == 0
    if groups is not None and never_observed.any():
        modalities = [name for name, idx in groups.items() if never_observed[idx].any()]
        warnings.warn(
            f"{int(never_observed.sum())} column(s) of modality(ies) {modalities} "
            "have no observed value in the training rows; they are set to 0.",
            UserWarning,
            stacklevel=4,
        )
    return mean, scale, n_observed, varying


def standardize_columns(X, mean, scale):
    """``(X - mean) / scale``, computed so that it does not overflow.

    Halving first keeps ``X - mean`` finite even for values near the largest
    float; the result is otherwise bit-for-bit ``(X - mean) / scale``. NaN
    stays NaN.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Values to standardise.

    mean, scale : ndarray of shape (n_features,)
        Column statistics, e.g. from :func:`nan_column_statistics`.

    Returns
    -------
    standardized : ndarray of shape (n_samples, n_features), dtype float
    """
    return ((X * 0.5 - mean * 0.5) / scale) * 2.0


def _check_finite_target(estimator, y):
    """Name the rows whose target is NaN (or None) or infinite."""
    try:
        values = np.asarray(y)
    except (TypeError, ValueError):
        return  # left to scikit-learn's own message
    if values.dtype.kind in "fc":
        missing, infinite = np.isnan(values), np.isinf(values)
    elif values.dtype.kind == "O":
        missing = np.asarray(pd.isna(values), dtype=bool)
        infinite = np.zeros_like(missing)
    else:
        return
    name = type(estimator).__name__
    for what, bad in (("NaN", missing), ("infinite", infinite)):
        if bad.ndim > 1:
            bad = bad.reshape(bad.shape[0], -1).any(axis=1)
        rows = np.flatnonzero(bad)
        if rows.size:
            raise ValueError(
                f"{name}: y is {what} in rows {_preview(rows.tolist())} "
                f"({rows.size} of {bad.size} rows). A target cannot be "
                "missing: drop those rows before fitting (a missing modality is "
                "an all-NaN block in X; a missing target cannot be learned)."
            )


def _check_column_order(estimator, X):
    """Name the first column that moved since fit."""
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is None or not hasattr(X, "columns"):
        return
    columns = np.asarray(X.columns, dtype=object)
    if columns.shape != fitted.shape or np.array_equal(columns, fitted):
        return
    if set(columns) != set(fitted):
        return  # a different set of columns: scikit-learn names them
    position = int(np.flatnonzero(columns != fitted)[0])
    column = columns[position]
    was = int(np.flatnonzero(fitted == column)[0])
    message = (
        f"{type(estimator).__name__}: X has the fitted columns in another order: "
        f"column {column!r} is at position {position} but was at position {was} "
        "when fitted. Reorder them as at fit, e.g. X[estimator.feature_names_in_]."
    )
    # Followed by scikit-learn's own message, which tools may look for.
    try:
        validate_data(estimator, X, reset=False, ensure_all_finite=False, dtype=None)
    except ValueError as exc:
        raise ValueError(f"{message}\n{exc}") from None
    raise ValueError(message)


def _check_fitted_modalities_present(estimator, X):
    """Name the modality when X lacks fitted columns or brings new ones.

    The message is followed by scikit-learn's own feature-name diagnosis.
    """
    message = _modality_mismatch(estimator, X)
    if message is None:
        return
    try:
        validate_data(estimator, X, reset=False, ensure_all_finite=False, dtype=None)
    except ValueError as exc:
        raise ValueError(f"{message}\n{exc}") from None
    raise ValueError(message)


def _modality_mismatch(estimator, X):
    fitted_names = getattr(estimator, "feature_names_in_", None)
    if fitted_names is None or not hasattr(X, "columns"):
        return None
    name = type(estimator).__name__
    present = set(X.columns)
    for modality, indices in estimator.modalities_.items():
        missing = [fitted_names[i] for i in indices if fitted_names[i] not in present]
        if missing:
            return (
                f"Modality {modality!r} was present when {name} was fitted, but "
                f"its column(s) {_preview(missing)} are missing from X. Keep every "
                "fitted modality as columns (all-NaN where a subject lacks it)."
            )
    fitted = set(fitted_names)
    unseen = [col for col in X.columns if col not in fitted]
    if unseen:
        modality = _modality_of_column(unseen[0])
        what = f"modality {modality!r}" if modality else "column(s)"
        return f"X has {what} unseen when {name} was fitted: {_preview(unseen)}."
    return None


def non_numeric_rows(values):
    """Positions of the cells of a column that hold something not a number.

    Missing cells (NaN, None) are not counted: they are missing values.

    Parameters
    ----------
    values : Series
        One column.

    Returns
    -------
    rows : ndarray of int
        Positions (0-based) of the cells that are neither numbers nor missing.
    """
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return np.array([], dtype=int)
    converted = pd.to_numeric(values, errors="coerce")
    return np.flatnonzero(converted.isna().to_numpy() & values.notna().to_numpy())


def _check_numeric_columns(X, groups):
    column_modality = {
        position: modality
        for modality, positions in groups.items()
        for position in positions
    }
    for position in range(X.shape[1]):
        name, column = X.columns[position], X.iloc[:, position]
        bad = non_numeric_rows(column)
        if bad.size:
            raise ValueError(
                f"Column {name!r} of modality {column_modality[position]!r} is not "
                f"numeric: row {bad[0]} holds {column.iloc[bad[0]]!r}. Encode it "
                "inside make_modality_transformer (e.g. with OneHotEncoder)."
            )


def _check_no_infinity(X, estimator, feature_names, index):
    infinite = np.isinf(X)
    if not infinite.any():
        return
    row, col = np.argwhere(infinite)[0]
    modality = next(
        (name for name, idx in estimator.modalities_.items() if col in idx), None
    )
    column = feature_names[col] if feature_names is not None else f"position {col}"
    label = f" (index {index[row]!r})" if index is not None else ""
    raise ValueError(
        f"Input X contains infinity in column {column!r} of modality {modality!r}, "
        f"row {row}{label}; {int(infinite.sum())} infinite value(s) in all. "
        "Replace infinite values; use NaN for a missing value or modality."
    )
