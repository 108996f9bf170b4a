"""Input validation shared by the fusion estimators."""

import numpy as np
import pandas as pd
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..compose import _modality_of_column, _preview, _resolve_modality_indices

__all__ = ["encode_class_labels", "validate_blocked_data"]


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
    """
    if not reset:
        check_is_fitted(estimator)
        _check_fitted_modalities_present(estimator, X)
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


def _check_numeric_columns(X, groups):
    column_modality = {
        position: modality
        for modality, positions in groups.items()
        for position in positions
    }
    for position, dtype in enumerate(X.dtypes):
        if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            continue
        name, column = X.columns[position], X.iloc[:, position]
        converted = pd.to_numeric(column, errors="coerce")
        bad = np.flatnonzero(converted.isna().to_numpy() & column.notna().to_numpy())
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
