"""Build the blocked matrix and read its modality groups back.

A study table (one row per subject) goes through :func:`make_modality_transformer`
and comes out as a *blocked matrix*: one float block per modality, with columns
named ``modality__feature``. Every fusion estimator finds the blocks again with
:func:`resolve_modalities`, either from those name prefixes or from an explicit
``modalities`` mapping when the input is a plain array.

A block that is entirely NaN in a row means that modality is missing for that
subject; a NaN inside an otherwise present block is a missing value.
:func:`modality_availability` reports the former.
"""

import contextlib
import contextvars
from collections.abc import Mapping
from itertools import chain

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer

from .utils._sklearn_compat import _safe_set_output, _SetOutputMixin

__all__ = [
    "ModalityTransformer",
    "make_modality_transformer",
    "modality_availability",
    "resolve_modalities",
]

MODALITY_SEPARATOR = "__"

# The ModalityTransformer now fitting or applying its modality transformers:
# while it is, its ``_iter`` hands them out wrapped so that errors name the
# modality. A context variable, so that nothing is stored on the estimator.
_NAMING_ERRORS_OF = contextvars.ContextVar("skfusion_naming_errors_of", default=None)


class ModalityTransformer(ColumnTransformer):
    """A ColumnTransformer whose blocks are modalities.

    It behaves exactly like :class:`~sklearn.compose.ColumnTransformer`, and
    differs in its errors: when a column that a modality needs is absent from
    the input table, at fit or at transform, the error names the modality and
    the column; and an error raised by a modality's transformer (a corrupt
    file in an extractor, say) is raised again with the same type and
    ``Modality 'name' (column 'col'): `` before its message, chained to the
    original (``raise ... from``). An exception type that cannot be rebuilt
    from a message is raised unchanged, with a note naming the modality.
    Build it with :func:`make_modality_transformer`, which also switches on
    pandas output.

    Parameters
    ----------
    transformers : list of tuples
        ``(name, transformer, columns)`` triples, one per modality, exactly as
        for :class:`~sklearn.compose.ColumnTransformer`. The name becomes the
        modality prefix of the output columns (``name__feature``).

    remainder : {"drop", "passthrough"} or estimator, default="drop"
        What to do with the columns that no modality uses.

    sparse_threshold : float, default=0.3
        See :class:`~sklearn.compose.ColumnTransformer`.

    n_jobs : int, default=None
        Number of jobs that fit the modality transformers in parallel.

    transformer_weights : dict, default=None
        Multiplicative weights per modality.

    verbose : bool, default=False
        Print the time each modality takes to fit.

    verbose_feature_names_out : bool, str or callable, default=True
        Keep ``True`` so that output columns carry their modality prefix.

    force_int_remainder_cols : bool, default="deprecated"
        See :class:`~sklearn.compose.ColumnTransformer`.

    Attributes
    ----------
    transformers_ : list
        The fitted modality transformers.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Columns of the study table seen in :meth:`fit`.

    n_features_in_ : int
        Number of columns of the study table seen in :meth:`fit`.

    See Also
    --------
    make_modality_transformer : The usual way to build one.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skfusion.compose import ModalityTransformer
    >>> table = pd.DataFrame({"age": [30.0, 40.0], "bmi": [20.0, 25.0]})
    >>> ct = ModalityTransformer([("clinical", StandardScaler(), ["age", "bmi"])])
    >>> ct.fit_transform(table).shape
    (2, 2)
    """

    def set_output(self, *, transform=None):
        """Set the output container of :meth:`transform` and :meth:`fit_transform`.

        Unlike :class:`~sklearn.compose.ColumnTransformer`, a modality
        transformer that cannot change its output container (such as a
        pipeline holding :class:`~sklearn.feature_extraction.text.TfidfVectorizer`)
        is left as it is instead of raising: the blocked matrix as a whole still
        comes out in the requested container, with ``modality__feature`` names.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, default=None
            Output container; ``None`` leaves the configuration unchanged.

        Returns
        -------
        self : ModalityTransformer
            This transformer.
        """
        _SetOutputMixin.set_output(self, transform=transform)
        for _, transformer, _ in chain(
            self.transformers, getattr(self, "transformers_", [])
        ):
            if transformer in ("passthrough", "drop"):
                continue
            try:
                _safe_set_output(transformer, transform=transform)
            except ValueError:
                continue
        if self.remainder not in ("passthrough", "drop"):
            _safe_set_output(self.remainder, transform=transform)
        return self

    def fit(self, X, y=None, **params):
        """Fit every modality transformer on its columns.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_columns)
            The study table.

        y : array-like of shape (n_samples,), default=None
            Targets, passed on to transformers that use them.

        **params : dict
            Routed to the modality transformers (metadata routing).

        Returns
        -------
        self : ModalityTransformer
            The fitted transformer.
        """
        self._check_modality_columns(X)
        return super().fit(X, y, **params)

    def fit_transform(self, X, y=None, **params):
        """Fit every modality transformer and return the blocked matrix.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_columns)
            The study table.

        y : array-like of shape (n_samples,), default=None
            Targets, passed on to transformers that use them.

        **params : dict
            Routed to the modality transformers (metadata routing).

        Returns
        -------
        X_blocked : DataFrame or ndarray of shape (n_samples, n_features_out)
            The modality blocks side by side.
        """
        self._check_modality_columns(X)
        return super().fit_transform(X, y, **params)

    def transform(self, X, **params):
        """Transform the study table into the blocked matrix.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_columns)
            The study table.

        **params : dict
            Routed to the modality transformers (metadata routing).

        Returns
        -------
        X_blocked : DataFrame or ndarray of shape (n_samples, n_features_out)
            The modality blocks side by side.
        """
        self._check_modality_columns(X)
        return super().transform(X, **params)

    def _call_func_on_transformers(self, X, y, func, column_as_labels, routed_params):
        token = _NAMING_ERRORS_OF.set(self)
        try:
            result = super()._call_func_on_transformers(
                X, y, func, column_as_labels, routed_params
            )
        finally:
            _NAMING_ERRORS_OF.reset(token)
        # Fitting gives (output, fitted transformer) pairs: keep the
        # transformer itself, not the wrapper that named its errors.
        return [
            (item[0], item[1].transformer)
            if isinstance(item, tuple) and isinstance(item[-1], _ModalityStep)
            else item
            for item in result
        ]

    def _iter(self, fitted, column_as_labels, skip_drop, skip_empty_columns):
        steps = super()._iter(fitted, column_as_labels, skip_drop, skip_empty_columns)
        if _NAMING_ERRORS_OF.get() is not self:
            yield from steps
            return
        for name, transformer, columns, weight in steps:
            if not isinstance(transformer, str) and hasattr(
                transformer, "fit_transform"
            ):
                transformer = _ModalityStep(transformer, name, columns)
            yield name, transformer, columns, weight

    def _check_modality_columns(self, X):
        if not hasattr(X, "columns"):
            return
        available = set(X.columns)
        for name, _, columns in self.transformers:
            if isinstance(columns, str):
                columns = [columns]
            if not isinstance(columns, list | tuple | np.ndarray | pd.Index):
                continue
            missing = [
                col for col in columns if isinstance(col, str) and col not in available
            ]
            if missing:
                raise ValueError(
                    f"Modality {name!r} needs column {missing[0]!r}, which is not "
                    f"in the input table. Missing: {missing}; the table has "
                    f"{_preview(list(X.columns))}."
                )
            for column in columns:
                if isinstance(column, str):
                    _check_no_infinity_in_column(X[column], name)


class _ModalityStep(BaseEstimator):
    """A modality's transformer whose errors name the modality and its columns.

    Lives only while :class:`ModalityTransformer` fits or applies its
    transformers; never stored in ``transformers_``.
    """

    def __init__(self, transformer, modality, columns):
        self.transformer = transformer
        self.modality = modality
        self.columns = columns

    def fit_transform(self, X, y=None, **params):
        with _naming_modality(self.modality, X, self.columns):
            return self.transformer.fit_transform(X, y, **params)

    def transform(self, X, **params):
        with _naming_modality(self.modality, X, self.columns):
            return self.transformer.transform(X, **params)


@contextlib.contextmanager
def _naming_modality(modality, X, columns):
    """Raise an error again, same type, with the modality and columns first."""
    try:
        yield
    except Exception as exc:
        where = f"{modality!r} ({_columns_label(X, columns)})"
        try:
            renamed = type(exc)(f"Modality {where}: {exc}")
        except Exception:
            renamed = None
        if renamed is None:
            exc.add_note(f"Raised by modality {where}.")
            raise
        for note in getattr(exc, "__notes__", ()):
            renamed.add_note(note)
        raise renamed from exc


def _columns_label(X, columns):
    """``column 'a'`` or ``columns ['a', 'b']``, by label where X has them."""
    if isinstance(X, pd.DataFrame):
        labels = list(X.columns)
    elif isinstance(X, pd.Series):
        labels = [X.name]
    elif isinstance(columns, str | int | np.integer):
        labels = [columns]
    elif isinstance(columns, list | tuple | np.ndarray | pd.Index):
        labels = list(columns)
    else:
        return f"columns {columns!r}"
    labels = [
        label.item() if isinstance(label, np.generic) else label for label in labels
    ]
    if len(labels) == 1:
        return f"column {labels[0]!r}"
    return f"columns {_preview(repr(label) for label in labels)}"


def _check_no_infinity_in_column(column, modality):
    if not pd.api.types.is_float_dtype(column.dtype):
        return
    infinite = np.flatnonzero(np.isinf(column.to_numpy()))
    if infinite.size:
        row = infinite[0]
        raise ValueError(
            f"Modality {modality!r}: column {column.name!r} contains infinity at "
            f"row {row} (index {column.index[row]!r}), {infinite.size} infinite "
            "value(s) in all. Use NaN for a missing value."
        )


def make_modality_transformer(*modalities, n_jobs=None, remainder="drop"):
    """Turn a study table into a blocked matrix, one block per modality.

    Each modality is a ``(name, transformer, columns)`` triple, as for
    :class:`~sklearn.compose.ColumnTransformer`; ``transformer`` may be
    ``"passthrough"`` for columns that are already numeric. The output is a
    pandas DataFrame whose columns are named ``name__feature``, which is how
    every fusion estimator of skfusion finds the modality blocks again. An
    error raised by a modality's transformer, such as an extractor's
    ``ImageLoader cannot read row 3 ('scan.png'): ...``, comes out with the
    same type as ``Modality 'image' (column 'image_path'): ImageLoader cannot
    read row 3 ...``, chained to the original.

    Parameters
    ----------
    *modalities : tuples of (str, transformer, columns)
        One triple per modality. ``name`` must not contain ``"__"``;
        ``columns`` is a column name, a list of names, or anything that
        :class:`~sklearn.compose.ColumnTransformer` accepts.

    n_jobs : int, default=None
        Number of jobs that fit the modality transformers in parallel.
        ``None`` means 1 unless in a :func:`joblib.parallel_backend` context.

    remainder : {"drop", "passthrough"} or estimator, default="drop"
        What to do with the columns that no modality uses. Passed-through
        columns are named ``remainder__column``.

    Returns
    -------
    transformer : ModalityTransformer
        An unfitted :class:`~sklearn.compose.ColumnTransformer` subclass with
        pandas output.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.preprocessing import OneHotEncoder
    >>> from skfusion.compose import make_modality_transformer
    >>> table = pd.DataFrame({
    ...     "age": [61.0, 47.0, 55.0],
    ...     "sex": ["F", "M", "F"],
    ...     "pixel_mean": [0.2, 0.5, 0.4],
    ... })
    >>> ct = make_modality_transformer(
    ...     ("clinical", "passthrough", ["age"]),
    ...     ("sex", OneHotEncoder(sparse_output=False), ["sex"]),
    ...     ("image", "passthrough", ["pixel_mean"]),
    ... )
    >>> list(ct.fit_transform(table).columns)
    ['clinical__age', 'sex__sex_F', 'sex__sex_M', 'image__pixel_mean']
    """
    for modality in modalities:
        if not (isinstance(modality, tuple) and len(modality) == 3):
            raise ValueError(
                "Each modality must be a (name, transformer, columns) triple; "
                f"got {modality!r}."
            )
        if not isinstance(modality[0], str) or not modality[0]:
            raise ValueError(
                f"A modality name must be a non-empty string; got {modality[0]!r}."
            )
    transformer = ModalityTransformer(
        list(modalities),
        remainder=remainder,
        n_jobs=n_jobs,
        verbose_feature_names_out=True,
    )
    return transformer.set_output(transform="pandas")


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
    >>> from skfusion.compose import resolve_modalities
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
    >>> from skfusion.compose import modality_availability
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
    present = _block_availability(values, groups)
    index = X.index if hasattr(X, "index") else None
    return pd.DataFrame(present, columns=list(groups), index=index)


def _block_availability(X, groups):
    """Boolean (n_samples, n_modalities): True where a block is not all-NaN."""
    if not groups:
        return np.ones((X.shape[0], 0), dtype=bool)
    return np.column_stack(
        [~np.isnan(X[:, indices]).all(axis=1) for indices in groups.values()]
    )


def _modality_of_column(feature_name):
    """The modality prefix of a ``modality__feature`` name, or None."""
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
        modality = _modality_of_column(name)
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
            f"Column(s) {_preview(labels)} belong to no modality; every column "
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
                    f"not in X. X has {_preview(list(feature_names))}."
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


def _preview(items, limit=10):
    items = list(items)
    shown = ", ".join(map(str, items[:limit]))
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return f"[{shown}{more}]"
