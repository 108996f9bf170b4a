"""Build the blocked matrix from a study table.

A study table (one row per subject) goes through :func:`make_modality_transformer`
and comes out as a *blocked matrix*: one float block per modality, with columns
named ``modality__feature``. Reading the blocks back (:func:`resolve_modalities`,
:func:`modality_availability`) is :mod:`skfusion.blocks`' job; both are
re-exported here.
"""

import contextlib
import copy
from itertools import chain

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.utils.metadata_routing import get_routing_for_object
from sklearn.utils.validation import check_is_fitted

# Re-exported: users read the blocks of a blocked matrix from here too.
from .blocks import MODALITY_SEPARATOR, modality_availability, resolve_modalities
from .utils._sklearn_compat import SetOutputMixin, safe_set_output
from .utils.validation import preview, row_name

__all__ = [
    "MODALITY_SEPARATOR",
    "ModalityTransformer",
    "make_modality_transformer",
    "modality_availability",
    "resolve_modalities",
]


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

    feature_names_in_ : ndarray of shape (``n_features_in_``,)
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
        SetOutputMixin.set_output(self, transform=transform)
        for _, transformer, _ in chain(
            self.transformers, getattr(self, "transformers_", [])
        ):
            if transformer in ("passthrough", "drop"):
                continue
            try:
                safe_set_output(transformer, transform=transform)
            except ValueError:
                continue
        if self.remainder not in ("passthrough", "drop"):
            safe_set_output(self.remainder, transform=transform)
        return self

    def fit_transform(self, X, y=None, **params):
        """Fit every modality transformer and return the blocked matrix.

        :meth:`fit` goes through this method too (as in
        :class:`~sklearn.compose.ColumnTransformer`), so both check the
        modality columns.

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
        # A shallow copy fits the modality transformers wrapped so that their
        # errors name the modality; its fitted state, unwrapped, becomes ours.
        naming = copy.copy(self)
        naming.transformers = _naming_steps(self.transformers)
        blocked = ColumnTransformer.fit_transform(naming, X, y, **params)
        fitted = {k: v for k, v in vars(naming).items() if k != "transformers"}
        fitted["transformers_"] = _unwrapped(naming.transformers_)
        vars(self).update(fitted)
        return blocked

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
        check_is_fitted(self)
        self._check_modality_columns(X)
        # Applied through a shallow copy: this transformer is never changed,
        # so that threads may share it.
        naming = copy.copy(self)
        naming.transformers_ = _naming_steps(self.transformers_)
        return ColumnTransformer.transform(naming, X, **params)

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
                    f"{preview(list(X.columns))}."
                )
            for column in columns:
                if isinstance(column, str):
                    _check_no_infinity_in_column(X[column], name)


class _ModalityStep(BaseEstimator):
    """A modality's transformer whose errors name the modality and its columns.

    Lives only in the copy of :class:`ModalityTransformer` that fits or
    applies the modality transformers; never stored in ``transformers_``.
    """

    def __init__(self, transformer, modality, columns):
        self.transformer = transformer
        self.modality = modality
        self.columns = columns

    def fit(self, X, y=None, **params):
        with _naming_modality(self.modality, X, self.columns):
            self.transformer.fit(X, y, **params)
        return self

    def fit_transform(self, X, y=None, **params):
        with _naming_modality(self.modality, X, self.columns):
            if hasattr(self.transformer, "fit_transform"):
                return self.transformer.fit_transform(X, y, **params)
            return self.transformer.fit(X, y, **params).transform(X)

    def transform(self, X, **params):
        with _naming_modality(self.modality, X, self.columns):
            return self.transformer.transform(X, **params)

    def get_feature_names_out(self, input_features=None):
        return self.transformer.get_feature_names_out(input_features)

    def set_output(self, *, transform=None):
        safe_set_output(self.transformer, transform=transform)
        return self

    def get_metadata_routing(self):
        # The step hands every parameter to its transformer unchanged.
        return get_routing_for_object(self.transformer)


def _naming_steps(transformers):
    """``(name, transformer, columns)`` triples, each estimator wrapped.

    Anything else is passed on as it is, for ColumnTransformer to refuse.
    """
    if not isinstance(transformers, list | tuple):
        return transformers
    return [_naming_step(triple) for triple in transformers]


def _naming_step(triple):
    if not (isinstance(triple, list | tuple) and len(triple) == 3):
        return triple
    name, step, columns = triple
    if isinstance(step, str) or not hasattr(step, "transform"):
        return triple
    return name, _ModalityStep(step, name, columns), columns


def _unwrapped(transformers):
    return [
        (name, step.transformer if isinstance(step, _ModalityStep) else step, columns)
        for name, step, columns in transformers
    ]


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
    return f"columns {preview(repr(label) for label in labels)}"


def _check_no_infinity_in_column(column, modality):
    if not pd.api.types.is_float_dtype(column.dtype):
        return
    infinite = np.flatnonzero(np.isinf(column.to_numpy()))
    if infinite.size:
        raise ValueError(
            f"Modality {modality!r}: column {column.name!r} contains infinity at "
            f"{row_name(column.index, infinite[0])} of the table, {infinite.size} "
            "infinite value(s) in all. Use NaN for a missing value."
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
