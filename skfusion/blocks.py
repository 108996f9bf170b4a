"""The blocked matrix: modality groups, availability, validation, standardisation.

A study table goes through :func:`skfusion.compose.make_modality_transformer` and
comes out as a *blocked matrix*: one float block per modality, with columns named
``modality__feature`` (:data:`MODALITY_SEPARATOR` between the two). Every fusion
estimator is a client of this module: it finds the blocks with
:func:`resolve_modalities` (from those name prefixes, or from an explicit
``modalities`` mapping when the input is a plain array), checks its input with
:func:`validate_blocked_data`, standardises columns with
:func:`nan_column_statistics` and :func:`standardize_columns`, and inherits
:class:`FusionMixin` for the parts they all share.

A block that is entirely NaN in a row means that modality is missing for that
subject; a NaN inside an otherwise present block is a missing value.
:func:`modality_availability` reports the former. A column that no training row
observes carries no information: it standardises to 0 (one rule, for every
estimator).
"""

import warnings
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from .utils._sklearn_compat import is_constant_feature
from .utils.validation import (
    check_finite_target,
    holds_numbers,
    non_numeric_rows,
    plain,
    preview,
    row_name,
)

__all__ = [
    "MODALITY_SEPARATOR",
    "ColumnStatistics",
    "FusionMixin",
    "MissingModalityWarning",
    "block_availability",
    "modality_availability",
    "modality_of_column",
    "nan_column_statistics",
    "resolve_modalities",
    "standardize_columns",
    "validate_blocked_data",
]

MODALITY_SEPARATOR = "__"
"""Between the modality and the feature in a blocked-matrix column name."""


class MissingModalityWarning(UserWarning):
    """A modality, or some of its columns, has no observed value where needed.

    Raised when an estimator is fitted on rows in which a modality (or a column
    of it) is never observed, so that nothing can be learned from it. A caller
    that removes modalities on purpose (ablation, Shapley coalitions) filters
    this category instead of matching message text.
    """


# -- modality groups and availability -----------------------------------------


def resolve_modalities(X, modalities=None):
    """Find the modality blocks of a blocked matrix.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)
        The blocked matrix.

    modalities : dict of str to columns, default=None
        Explicit blocks: each value is a column name, a list of column names,
        a list of integer positions or a ``slice`` of positions. Every column
        must belong to exactly one modality. ``None`` reads the blocks from
        ``modality__feature`` column names.

    Returns
    -------
    groups : dict of str to ndarray of int
        Column positions of each modality, in order of first appearance.

    Raises
    ------
    ValueError
        When neither prefixed column names nor a ``modalities`` mapping is
        available, or when the mapping names an absent column, leaves a column
        out or puts one in two modalities.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.blocks import resolve_modalities
    >>> X = np.zeros((4, 5))
    >>> groups = resolve_modalities(X, {"clinical": [0, 1], "image": slice(2, 5)})
    >>> {name: idx.tolist() for name, idx in groups.items()}
    {'clinical': [0, 1], 'image': [2, 3, 4]}
    """
    feature_names = None
    if hasattr(X, "columns"):
        feature_names = np.asarray(X.columns, dtype=object)
    n_features = np.shape(X)[1]
    return _resolve_modality_indices(feature_names, n_features, modalities)


def modality_availability(X, modalities=None):
    """Tell, per row, which modalities are present.

    A modality is missing in a row when its whole block is NaN there. NaN in
    only part of a block is a missing value of a present modality.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)
        The blocked matrix.

    modalities : dict of str to columns, default=None
        See :func:`resolve_modalities`.

    Returns
    -------
    availability : DataFrame of shape (n_samples, n_modalities)
        Boolean, True where the modality is present. Keeps the index of ``X``
        when ``X`` is a DataFrame.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skfusion.blocks import modality_availability
    >>> X = pd.DataFrame({
    ...     "clinical__age": [50.0, np.nan, 60.0],
    ...     "image__f0": [0.1, 0.2, np.nan],
    ...     "image__f1": [np.nan, 0.3, np.nan],
    ... })
    >>> modality_availability(X)
       clinical  image
    0      True   True
    1     False   True
    2      True  False
    """
    groups = resolve_modalities(X, modalities)
    values = np.asarray(X, dtype=float)
    present = block_availability(values, groups)
    index = X.index if hasattr(X, "index") else None
    return pd.DataFrame(present, columns=list(groups), index=index)


def block_availability(X, groups):
    """Tell, per row of a validated array, which modality blocks are present.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        A validated blocked matrix (float, NaN for missing).

    groups : dict of str to ndarray of int
        Column positions of each modality, as from :func:`resolve_modalities`.

    Returns
    -------
    present : ndarray of shape (n_samples, n_modalities), dtype bool
        True where the modality's block is not all NaN, in the order of
        ``groups``.
    """
    if not groups:
        return np.ones((X.shape[0], 0), dtype=bool)
    # A sum is NaN when any value is: one pass and no copy of every block.
    if not np.isnan(np.sum(X)):
        return np.ones((X.shape[0], len(groups)), dtype=bool)
    return np.column_stack(
        [~np.isnan(X[:, indices]).all(axis=1) for indices in groups.values()]
    )


def modality_of_column(feature_name):
    """The modality of a blocked-matrix column name.

    Parameters
    ----------
    feature_name : object
        A column name.

    Returns
    -------
    modality : str or None
        The prefix before the first :data:`MODALITY_SEPARATOR`; None when the
        name is not a string, has no separator or an empty prefix.

    Examples
    --------
    >>> from skfusion.blocks import modality_of_column
    >>> modality_of_column("image__hog0"), modality_of_column("age")
    ('image', None)
    """
    if not isinstance(feature_name, str) or MODALITY_SEPARATOR not in feature_name:
        return None
    prefix = feature_name.split(MODALITY_SEPARATOR, 1)[0]
    return prefix or None


def _resolve_modality_indices(feature_names, n_features, modalities):
    if modalities is None:
        return _groups_from_prefixes(feature_names)
    return _groups_from_mapping(feature_names, n_features, modalities)


def _groups_from_prefixes(feature_names):
    if feature_names is None:
        raise ValueError(
            "Cannot tell the modalities apart: X has no column names to read "
            "'modality__feature' prefixes from, and no `modalities` mapping was "
            "given. Pass a DataFrame made by make_modality_transformer, or "
            "modalities={'name': [column positions], ...}."
        )
    positions = {}
    for position, name in enumerate(feature_names):
        modality = modality_of_column(name)
        if modality is None:
            raise ValueError(
                f"Column {name!r} (position {position}) has no modality prefix: "
                "blocked-matrix columns are named 'modality__feature'. Build X "
                "with make_modality_transformer or pass `modalities=`."
            )
        positions.setdefault(modality, []).append(position)
    return {name: np.asarray(idx, dtype=np.intp) for name, idx in positions.items()}


def _groups_from_mapping(feature_names, n_features, modalities):
    if not isinstance(modalities, Mapping) or not modalities:
        raise ValueError(
            "`modalities` must be a non-empty dict mapping each modality name to "
            f"its columns; got {modalities!r}."
        )
    name_to_position = (
        {name: pos for pos, name in enumerate(feature_names)}
        if feature_names is not None
        else None
    )
    owner = {}
    groups = {}
    for modality, columns in modalities.items():
        if not isinstance(modality, str) or not modality:
            raise ValueError(
                f"Modality names must be non-empty strings; got {modality!r}."
            )
        positions = _positions_of(
            modality, columns, name_to_position, n_features, feature_names
        )
        if positions.size == 0:
            raise ValueError(
                f"Modality {modality!r} selects no column; X has {n_features} "
                "feature(s)."
            )
        for position in positions:
            if position in owner:
                raise ValueError(
                    f"Column {_column_label(feature_names, position)} is in both "
                    f"modality {owner[position]!r} and modality {modality!r}."
                )
            owner[position] = modality
        groups[modality] = positions
    unassigned = [pos for pos in range(n_features) if pos not in owner]
    if unassigned:
        labels = [_column_label(feature_names, pos) for pos in unassigned]
        raise ValueError(
            f"Column(s) {preview(labels)} belong to no modality; every column "
            "of X must be listed in `modalities`."
        )
    return groups


def _positions_of(modality, columns, name_to_position, n_features, feature_names):
    if isinstance(columns, slice):
        return np.arange(n_features, dtype=np.intp)[columns]
    if isinstance(columns, str | int | np.integer):
        columns = [columns]
    positions = []
    for column in columns:
        if isinstance(column, int | np.integer) and not isinstance(column, bool):
            if not -n_features <= column < n_features:
                raise ValueError(
                    f"Modality {modality!r} refers to column position {column}, "
                    f"but X has only {n_features} column(s)."
                )
            positions.append(int(column) % n_features)
        elif isinstance(column, str):
            if name_to_position is None:
                raise ValueError(
                    f"Modality {modality!r} refers to column {column!r} by name, "
                    "but X has no column names; use integer positions."
                )
            if column not in name_to_position:
                raise ValueError(
                    f"Modality {modality!r} refers to column {column!r}, which is "
                    f"not in X. X has {preview(list(feature_names))}."
                )
            positions.append(name_to_position[column])
        else:
            raise ValueError(
                f"Modality {modality!r}: columns must be names, integer positions "
                f"or a slice; got {column!r}."
            )
    return np.asarray(positions, dtype=np.intp)


def _column_label(feature_names, position):
    if feature_names is None:
        return f"at position {position}"
    return repr(feature_names[position])


# -- validation ---------------------------------------------------------------


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
    no_target = (isinstance(y, str) and y == "no_validation") or y is None
    if not no_target:
        check_finite_target(estimator, y)
    elif not reset and not check_params:
        X_plain = _fitted_numeric_frame(estimator, X)
        if X_plain is not None:
            _check_no_infinity(X_plain, estimator, np.asarray(X.columns), X.index)
            return X_plain
    feature_names = (
        np.asarray(X.columns, dtype=object) if hasattr(X, "columns") else None
    )
    groups = None
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
        fitted_names = getattr(estimator, "feature_names_in_", None)
        # Resolved above from the same names unless scikit-learn kept none
        # (non-string column labels): then the groups are by position.
        if groups is None or fitted_names is None:
            groups = _resolve_modality_indices(
                fitted_names, X_checked.shape[1], estimator.modalities
            )
        estimator.modalities_ = groups
    index = X.index if hasattr(X, "index") else None
    _check_no_infinity(X_checked, estimator, feature_names, index)
    return validated


def _fitted_numeric_frame(estimator, X):
    """``X`` as the float array ``validate_data`` would give, by a fast path.

    Taken for a non-empty pandas DataFrame with exactly the fitted columns,
    in order, each of a NumPy number or bool dtype: scikit-learn's checks
    (feature names, number of features, numeric conversion) would pass, and
    converting the frame is all that is left. None for any other input,
    which goes through ``validate_data``. Prediction on small batches spends
    most of its time in those per-column checks otherwise.
    """
    if not isinstance(X, pd.DataFrame) or len(X) == 0:
        return None
    if not _has_fitted_columns(estimator, X):
        return None
    # The distinct dtypes, from an object array (iterating a Series is slow).
    dtypes = set(X.dtypes.to_numpy())
    if not all(
        isinstance(dtype, np.dtype) and dtype.kind in "fiub" for dtype in dtypes
    ):
        return None
    # As check_array's dtype=[float64, float32]: float32 stays float32.
    float32 = all(dtype == np.float32 for dtype in dtypes)
    return X.to_numpy(dtype=np.float32 if float32 else np.float64)


def _has_fitted_columns(estimator, X):
    """Whether ``X`` has exactly the columns seen at fit, in their order."""
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is None or not hasattr(X, "columns") or len(X.columns) != len(fitted):
        return False
    return np.array_equal(np.asarray(X.columns, dtype=object), fitted)


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
    _raise_with_sklearn_diagnosis(message, estimator, X)


def _check_fitted_modalities_present(estimator, X):
    """Name the modality when X lacks fitted columns or brings new ones.

    The message is followed by scikit-learn's own feature-name diagnosis.
    """
    message = _modality_mismatch(estimator, X)
    if message is not None:
        _raise_with_sklearn_diagnosis(message, estimator, X)


def _raise_with_sklearn_diagnosis(message, estimator, X):
    """Raise ``message``, followed by scikit-learn's own feature-name message.

    Tools (and users) may look for scikit-learn's wording, so it is kept.
    """
    try:
        validate_data(estimator, X, reset=False, ensure_all_finite=False, dtype=None)
    except ValueError as exc:
        raise ValueError(f"{message}\n{exc}") from None
    raise ValueError(message)


def _modality_mismatch(estimator, X):
    fitted_names = getattr(estimator, "feature_names_in_", None)
    if fitted_names is None or not hasattr(X, "columns"):
        return None
    if _has_fitted_columns(estimator, X):
        return None
    name = type(estimator).__name__
    present = set(X.columns)
    for modality, indices in estimator.modalities_.items():
        missing = [fitted_names[i] for i in indices if fitted_names[i] not in present]
        if missing:
            return (
                f"Modality {modality!r} was present when {name} was fitted, but "
                f"its column(s) {preview(missing)} are missing from X. Keep every "
                "fitted modality as columns (all-NaN where a subject lacks it)."
            )
    fitted = set(fitted_names)
    unseen = [col for col in X.columns if col not in fitted]
    if unseen:
        modality = modality_of_column(unseen[0])
        what = f"modality {modality!r}" if modality else "column(s)"
        return f"X has {what} unseen when {name} was fitted: {preview(unseen)}."
    return None


def _check_numeric_columns(X, groups):
    column_modality = {
        position: modality
        for modality, positions in groups.items()
        for position in positions
    }
    # Column dtypes first: slicing each of thousands of numeric columns out of
    # a DataFrame at every fit and predict would cost more than the model.
    dtypes = X.dtypes.to_numpy()
    for position in range(X.shape[1]):
        if holds_numbers(dtypes[position]):
            continue
        name, column = X.columns[position], X.iloc[:, position]
        bad = non_numeric_rows(column)
        if bad.size:
            raise ValueError(
                f"Column {name!r} of modality {column_modality[position]!r} is not "
                f"numeric: {row_name(X.index, bad[0])} holds "
                f"{plain(column.iloc[bad[0]])!r}. Encode it inside "
                "make_modality_transformer (e.g. with OneHotEncoder)."
            )


def _check_no_infinity(X, estimator, feature_names, index):
    # A finite sum means no infinity (nor NaN), without a mask of X's size.
    if np.isfinite(np.sum(X)):
        return
    infinite = np.isinf(X)
    if not infinite.any():
        return
    row, col = np.argwhere(infinite)[0]
    modality = next(
        (name for name, idx in estimator.modalities_.items() if col in idx), None
    )
    column = feature_names[col] if feature_names is not None else f"position {col}"
    raise ValueError(
        f"Input X contains infinity in column {str(column)!r} of modality "
        f"{modality!r}, {row_name(index, row)}; {int(infinite.sum())} infinite "
        "value(s) in all. Replace infinite values; use NaN for a missing value or "
        "modality."
    )


# -- standardisation ----------------------------------------------------------


class ColumnStatistics(NamedTuple):
    """Per-column statistics of the observed entries of a blocked matrix."""

    mean: np.ndarray
    """Mean of the observed entries; 0 for a column never observed."""
    scale: np.ndarray
    """Standard deviation (``ddof=0``); 1 for a constant or never-observed column."""
    n_observed: np.ndarray
    """Number of observed (non-NaN) entries of each column."""
    varying: np.ndarray
    """True for the columns that are observed and not constant."""


def nan_column_statistics(X, groups=None):
    """Per-column mean and standard deviation of the observed entries.

    Built on scikit-learn's NaN-aware scaler: each column is divided by its
    largest absolute value (NaN ignored, as
    :class:`~sklearn.preprocessing.MaxAbsScaler` finds it) before
    :class:`~sklearn.preprocessing.StandardScaler` computes the mean and
    variance, and the statistics are multiplied back. They therefore neither
    overflow (values beyond ~1e154 would square to infinity) nor lose
    precision for tiny values: the standardised columns of ``X * c`` equal
    those of ``X`` for any positive ``c`` (to rounding). A column is constant
    by :class:`~sklearn.preprocessing.StandardScaler`'s criterion (its
    variance is within rounding of zero relative to its mean).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Finite values or NaN.

    groups : dict of str to ndarray of int, default=None
        Modality column positions; when given, columns never observed raise a
        :class:`MissingModalityWarning` that names their modalities.

    Returns
    -------
    statistics : ColumnStatistics
        ``(mean, scale, n_observed, varying)``, each of shape
        ``(n_features,)``, float64 whatever the dtype of ``X``. A column never
        observed has mean 0 and scale 1; :func:`standardize_columns` given
        ``n_observed`` sets it to 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.blocks import nan_column_statistics
    >>> X = np.array([[1.0, np.nan, 5.0], [3.0, np.nan, 5.0]])
    >>> stats = nan_column_statistics(X)
    >>> stats.mean, stats.scale
    (array([2., 0., 5.]), array([1., 1., 1.]))
    >>> stats.n_observed, stats.varying
    (array([2, 0, 2]), array([ True, False, False]))
    """
    X = np.asarray(X, dtype=float)
    n_features = X.shape[1]
    n_observed = (~np.isnan(X)).sum(axis=0)
    observed = n_observed > 0
    mean = np.zeros(n_features)
    scale = np.ones(n_features)
    varying = np.zeros(n_features, dtype=bool)
    if observed.any():
        seen = X if observed.all() else X[:, observed]
        # MaxAbsScaler's max_abs_ (not its scale_, which treats magnitudes
        # below 10 * eps as 0), without its second validation of X.
        magnitude = np.fmax.reduce(np.abs(seen), axis=0)
        magnitude[magnitude == 0] = 1.0
        unit = StandardScaler().fit(seen / magnitude)  # values in [-1, 1]
        constant = is_constant_feature(unit.var_, unit.mean_, n_observed[observed])
        mean[observed] = unit.mean_ * magnitude
        scale[observed] = np.where(constant, 1.0, unit.scale_ * magnitude)
        varying[observed] = ~constant
    never_observed = ~observed
    if groups is not None and never_observed.any():
        modalities = [name for name, idx in groups.items() if never_observed[idx].any()]
        warnings.warn(
            f"{int(never_observed.sum())} column(s) of modality(ies) {modalities} "
            "have no observed value in the training rows; they are set to 0.",
            MissingModalityWarning,
            stacklevel=4,
        )
    return ColumnStatistics(mean, scale, n_observed, varying)


def standardize_columns(X, mean, scale, n_observed=None):
    """``(X - mean) / scale``, computed so that it does not overflow.

    Where ``X - mean`` would overflow (values near the largest float), both
    are halved first, which keeps the difference finite; otherwise the result
    is exactly ``(X - mean) / scale``. NaN
    stays NaN, except in a column never observed in training, which is 0 in
    every row when ``n_observed`` is given: nothing was learned about it.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Values to standardise.

    mean, scale : ndarray of shape (n_features,)
        Column statistics, e.g. from :func:`nan_column_statistics`.

    n_observed : ndarray of shape (n_features,), default=None
        Training counts of observed entries; columns with 0 become 0.

    Returns
    -------
    standardized : ndarray of shape (n_samples, n_features), dtype float

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.blocks import standardize_columns
    >>> standardize_columns(np.array([[1.0, 7.0], [3.0, np.nan]]),
    ...                     np.array([2.0, 0.0]), np.array([1.0, 1.0]),
    ...                     n_observed=np.array([2, 0]))
    array([[-1.,  0.],
           [ 1.,  0.]])
    """
    # In place in one new array: allocating an array per step costs more than
    # the arithmetic. The floating-point overflow flag, raised by the
    # subtraction alone, tells when the halved form is needed; halving and
    # doubling are exact, so both forms agree wherever both are finite.
    try:
        with np.errstate(over="raise"):
            standardized = np.subtract(X, mean)
    except FloatingPointError:
        standardized = np.multiply(X, 0.5)
        standardized -= np.multiply(mean, 0.5)
        standardized /= scale
        standardized *= 2.0
    else:
        standardized /= scale
    if n_observed is not None:
        standardized[:, np.asarray(n_observed) == 0] = 0.0
    return standardized


# -- the base of every fusion estimator -------------------------------------------


class FusionMixin:
    """What every estimator that consumes a blocked matrix shares.

    A mixin, placed left of the scikit-learn mixins and
    :class:`~sklearn.base.BaseEstimator`
    (``class BlockScaler(FusionMixin, TransformerMixin, BaseEstimator)``). The
    estimator has a ``modalities`` parameter (see :func:`resolve_modalities`);
    the mixin gives it:

    - ``allow_nan=True`` in its tags: NaN means a missing modality or value;
    - :meth:`_validate_blocks`, which validates ``X`` (and ``y``) with
      :func:`validate_blocked_data` and, at fit, stores ``modalities_``;
    - :meth:`_present`, the availability mask of a validated ``X``;
    - :meth:`_fit_column_statistics` and :meth:`_standardize`, which learn and
      apply ``mean_``, ``scale_`` and ``n_samples_seen_`` with the one rule
      for never-observed columns (0 after standardisation).
    """

    def _validate_blocks(self, X, y="no_validation", *, reset, **check_params):
        return validate_blocked_data(self, X, y, reset=reset, **check_params)

    def _present(self, X):
        return block_availability(X, self.modalities_)

    def _fit_column_statistics(self, X):
        """Store ``mean_``, ``scale_``, ``n_samples_seen_``; return ``varying``."""
        statistics = nan_column_statistics(X, self.modalities_)
        self.mean_, self.scale_ = statistics.mean, statistics.scale
        self.n_samples_seen_ = statistics.n_observed
        return statistics.varying

    def _standardize(self, X, *, fill_missing=True):
        """Standardised X; missing entries 0 unless ``fill_missing=False``."""
        standardized = standardize_columns(
            X, self.mean_, self.scale_, self.n_samples_seen_
        )
        if fill_missing:
            standardized = np.nan_to_num(standardized, nan=0.0, copy=False)
        return standardized

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
