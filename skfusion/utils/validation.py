"""Input checks and message helpers that know nothing of modalities.

Everything here depends only on NumPy, pandas and scikit-learn; the
blocked-matrix checks built on it live in :mod:`skfusion.blocks`.
"""

import numpy as np
import pandas as pd
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets

__all__ = [
    "check_finite_target",
    "check_single_label",
    "check_survival_target",
    "n_target_columns",
    "encode_class_labels",
    "holds_numbers",
    "non_numeric_rows",
    "plain",
    "preview",
    "row_name",
]


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


def check_single_label(estimator, y, *, use_instead):
    """Refuse a 2-D target of several columns, naming what to use instead.

    Parameters
    ----------
    estimator : estimator instance
        Named in the message.

    y : array-like
        Targets. A column vector is let through: scikit-learn's validation
        ravels it with a warning.

    use_instead : str
        The estimators that do take such a target, for the message.

    Raises
    ------
    ValueError
        When ``y`` has two dimensions and more than one column.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.svm import SVC
    >>> from skfusion.utils.validation import check_single_label
    >>> try:
    ...     check_single_label(SVC(), np.zeros((4, 3)), use_instead="a forest")
    ... except ValueError as error:
    ...     print(error)
    SVC does not support multi-label targets (y has 3 columns); use a forest.
    """
    n_columns = n_target_columns(y)
    if n_columns > 1:
        raise ValueError(
            f"{type(estimator).__name__} does not support multi-label targets (y has "
            f"{n_columns} columns); use {use_instead}."
        )


def n_target_columns(y):
    """The number of columns of a 2-D target; 0 for any other.

    Parameters
    ----------
    y : array-like
        Targets: an array, a DataFrame, a list of lists or any object with
        ``__array__``. What NumPy cannot turn into an array (ragged lists)
        gives 0 and is left to scikit-learn's own checks.

    Returns
    -------
    n_columns : int
    """
    shape = getattr(y, "shape", None)
    if shape is None:
        try:
            # np.asarray, not np.shape: array-likes may only offer __array__.
            shape = np.asarray(y).shape
        except (TypeError, ValueError):
            return 0
    return int(shape[1]) if len(shape) == 2 else 0


def check_finite_target(estimator, y):
    """Refuse a target with NaN (or None) or infinite entries, naming the rows.

    Parameters
    ----------
    estimator : estimator instance
        Named in the message.

    y : array-like
        Targets; anything NumPy cannot turn into an array is left to
        scikit-learn's own checks.

    Raises
    ------
    ValueError
        Naming the first rows whose target is NaN or infinite.
    """
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
                f"{name}: y is {what} in rows {preview(rows.tolist())} "
                f"({rows.size} of {bad.size} rows). A target cannot be "
                "missing: drop those rows before fitting (a missing modality is "
                "an all-NaN block in X; a missing target cannot be learned)."
            )


def holds_numbers(dtype):
    """Whether a column of this dtype can only hold numbers (or booleans).

    Parameters
    ----------
    dtype : dtype
        A column's dtype (NumPy or pandas extension).

    Returns
    -------
    numeric : bool
    """
    return pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)


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
    if holds_numbers(values.dtype):
        return np.array([], dtype=int)
    converted = pd.to_numeric(values, errors="coerce")
    return np.flatnonzero(converted.isna().to_numpy() & values.notna().to_numpy())


def plain(value):
    """A NumPy scalar as the Python scalar it holds (for messages and JSON).

    Parameters
    ----------
    value : object
        Any value.

    Returns
    -------
    value : object
        ``value.item()`` for a NumPy scalar, else ``value`` itself.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.utils.validation import plain
    >>> repr(plain(np.str_("soon"))), repr(plain(np.int64(11)))
    ("'soon'", '11')
    """
    return value.item() if isinstance(value, np.generic) else value


def row_name(index, position):
    """How a message names a row: by its label in the table's index.

    A study passes on the rows of the table with their index, so the label
    of a row inside a training fold is still its table row (for a table read
    from a CSV, its 0-based data row), where its position is not. The label
    is shown as a plain Python value, never a NumPy repr.

    Parameters
    ----------
    index : pandas.Index or None
        The index of the rows; None for a plain array, whose row is named by
        its position.

    position : int
        The row's position among them.

    Returns
    -------
    name : str
        ``"row 11"`` or ``"row 'P017'"``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skfusion.utils.validation import row_name
    >>> row_name(pd.Index(np.arange(10, 20)), np.int64(1)), row_name(None, 3)
    ('row 11', 'row 3')
    """
    label = int(position) if index is None else plain(index[int(position)])
    return f"row {label!r}"


def preview(items, limit=10):
    """``[a, b, ...]`` with at most ``limit`` items shown, for messages.

    Parameters
    ----------
    items : iterable
        Things to show; each is formatted with ``str``.

    limit : int, default=10
        Items shown before ``... (n more)``.

    Returns
    -------
    text : str

    Examples
    --------
    >>> from skfusion.utils.validation import preview
    >>> preview(range(12), limit=3)
    '[0, 1, 2, ... (9 more)]'
    """
    items = list(items)
    shown = ", ".join(map(str, items[:limit]))
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return f"[{shown}{more}]"


def check_survival_target(estimator, y):
    """The event indicator and time of a survival target, checked.

    The event is the first bool field of ``y`` (the first field when none is
    bool, which must then hold 0/1), the time the other field, as
    scikit-survival's ``check_y_survival`` reads them.

    Parameters
    ----------
    estimator : estimator instance
        Named in the messages.

    y : structured ndarray of shape (n_samples,)
        An event field and a time field, e.g.
        ``sksurv.util.Surv.from_arrays(event, time)``.

    Returns
    -------
    event : ndarray of bool of shape (n_samples,)
    time : ndarray of float64 of shape (n_samples,)

    Raises
    ------
    ValueError
        For a missing target, one that is not such an array, an event field
        that is not 0/1, a time that is not numeric, negative, NaN or
        infinite (the rows named), or no event at all.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.utils.validation import check_survival_target
    >>> y = np.array([(True, 2.0), (False, 5.0)],
    ...              dtype=[("event", bool), ("time", float)])
    >>> check_survival_target(None, y)
    (array([ True, False]), array([2., 5.]))
    """
    name = type(estimator).__name__
    if y is None:
        # The words scikit-learn's check_requires_y_none looks for.
        raise ValueError(
            f"{name} requires y to be passed, but the target y is None: give a "
            "survival target, e.g. sksurv.util.Surv.from_arrays(event, time)."
        )
    dtype = getattr(y, "dtype", None)
    if getattr(dtype, "names", None) is None or len(dtype.names) != 2:
        raise ValueError(
            f"{name} needs a survival target: a structured array of an event "
            "indicator and a time, e.g. sksurv.util.Surv.from_arrays(event, time); "
            f"got {type(y).__name__}"
            + (f" of dtype {dtype}." if dtype is not None else ".")
        )
    kinds = [dtype[field].kind for field in dtype.names]
    event_field = dtype.names[kinds.index("b")] if "b" in kinds else dtype.names[0]
    (time_field,) = (field for field in dtype.names if field != event_field)
    event = np.asarray(y[event_field]).reshape(-1)
    if event.dtype != bool:
        if event.dtype.kind not in "iuf" or not np.isin(event, [0, 1]).all():
            raise ValueError(
                f"{name}: the event indicator {event_field!r} must be 0/1 or "
                f"True/False; got dtype {event.dtype}."
            )
        event = event.astype(bool)
    if dtype[time_field].kind not in "iuf":
        raise ValueError(
            f"{name}: the time field {time_field!r} of y must be numeric; got "
            f"dtype {dtype[time_field]}."
        )
    time = np.asarray(y[time_field], dtype=np.float64).reshape(-1)
    problems = [
        (what, np.flatnonzero(bad))
        for what, bad in (
            ("NaN", np.isnan(time)),
            ("infinite", np.isinf(time)),
            ("negative", time < 0),
        )
        if bad.any()
    ]
    if problems:
        n_bad = int((~np.isfinite(time) | (time < 0)).sum())
        where = "; ".join(f"{what} in rows {preview(rows)}" for what, rows in problems)
        raise ValueError(
            f"{name}: the time is negative or missing in {n_bad} row(s) of "
            f"{time.size}: {where}. A time is the follow-up from the start "
            "(>= 0) to the event or censoring; drop rows without one."
        )
    if not event.any():
        raise ValueError(
            f"{name}: every row is censored ({event.size} rows); no event to "
            "learn from."
        )
    return event, time
