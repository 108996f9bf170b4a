"""The common base of every modality extractor.

An extractor turns one column of the study table (paths, strings or array
cells) into a fixed-width float block, one row per input row. Subclasses say
how to read one item (:meth:`BaseExtractor._read`) and how to turn what was
read into features (:meth:`BaseExtractor._featurize` or, for models that work
on batches, :meth:`BaseExtractor._featurize_batch`). The base class handles
everything else: input validation, missing inputs, per-row errors, root
confinement and size limits, batching, joblib parallelism and progress.
"""

import contextlib
import os
import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from ..utils._sklearn_compat import Interval, StrOptions, fit_context
from ..utils.validation import row_name
from ._io import (
    PathOutsideRootError,
    check_file,
    is_missing,
    resolve_path,
)

__all__ = ["BaseExtractor"]


class BaseExtractor(TransformerMixin, BaseEstimator):
    """Base class of the extractors: one column in, a float block out.

    Subclasses list every parameter in their ``__init__`` (including the
    common ones below), implement :meth:`_read` and :meth:`_featurize` (or
    :meth:`_featurize_batch`) and :meth:`_feature_names`, and may override
    :meth:`_fit` to learn something, or probe the output width, at fit time.

    Notes
    -----
    The parameters every extractor has:

    batch_size : int
        Items handed to one job (and, for neural models, one forward pass).
    n_jobs : int or None
        Number of joblib workers over batches; None means 1.
    verbose : bool or int
        Show a tqdm progress bar over items.
    on_error : {"raise", "nan"}
        An unreadable or corrupt item raises a ValueError naming the
        extractor, the row and the input, or (``"nan"``) gives a NaN row and
        one warning with the count (a missing optional package raises its
        ImportError, naming the extra that installs it, either way). A
        pandas input's row is named by its index label (the table row,
        inside a study's folds too); an array's or a list's by its position,
        which the error's ``row`` attribute then holds (an int), for callers
        that map it back to their table.
    root : str or path-like or None
        Directory that relative paths resolve under and that every file must
        lie in. A path leading out of it raises a ``PathOutsideRootError``
        (a ValueError) naming the extractor, the row and the path, whatever
        ``on_error`` says.
    max_file_bytes : int or None
        Files larger than this are refused before they are read (default in
        every extractor: ``DEFAULT_MAX_FILE_BYTES``, 512 MiB); None means no
        limit.

    Extractors here learn nothing from the data at fit time (``_fit`` only
    checks parameters or probes the output width), which the class attribute
    ``learns_from_data = False`` declares: :class:`~skfusion.study.FusionStudy`
    then extracts such a modality once for all rows instead of once per fold.
    A subclass whose ``_fit`` learns from the rows must set it to True.

    The public class attribute ``reads_files`` says whether a string input
    is a file path (True, the default) or the content itself (False, the
    text extractors); the CLI and the study's extraction cache read it.
    ``media_kind`` says what such a path may name, for the early check of
    :func:`~skfusion.study.check_media_files` (``"image"``: a file or the
    folder of a DICOM series; ``"signal"``: a file or a WFDB record named
    without extension; else a file).
    """

    learns_from_data = False

    _parameter_constraints = {
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "on_error": [StrOptions({"raise", "nan"})],
        "root": [str, os.PathLike, None],
        "max_file_bytes": [Interval(Integral, 1, None, closed="left"), None],
    }

    #: Whether string inputs are file paths (True) or the content itself.
    reads_files = True
    #: What a path may name: the ``kind`` of :func:`check_media_files`.
    media_kind = "files"
    #: dtype of the output block.
    _output_dtype = np.float64

    # -- what a subclass provides -------------------------------------------------

    def _fit(self, values):
        """Learn from the training column; called by :meth:`fit`."""

    def _read(self, item):
        """Read one non-missing item (a path is already resolved and checked)."""
        return item

    def _featurize(self, loaded):
        """Features of one read item, as a 1-D array."""
        raise NotImplementedError

    def _featurize_batch(self, loaded_items):
        """Features of a batch of read items, as a 2-D array."""
        return np.stack([np.ravel(self._featurize(item)) for item in loaded_items])

    def _feature_names(self):
        """Names of the output columns (valid once fitted)."""
        raise NotImplementedError

    def _chunk_size(self):
        """Items per job: ``batch_size`` unless a subclass needs larger chunks."""
        return self.batch_size

    # -- the scikit-learn API -----------------------------------------------------

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the input column and fix the output width.

        Parameters
        ----------
        X : Series, 1-D array-like or single-column DataFrame of shape (n_samples,)
            Paths, strings or array cells; None, NaN or an empty string marks
            a missing input.

        y : None
            Ignored.

        Returns
        -------
        self : BaseExtractor
            The fitted extractor.
        """
        values = self._validate_column(X)
        with _rows_named_by(type(self).__name__, _index_of(X)):
            self._fit(values)
        self.feature_names_out_ = np.asarray(self._feature_names(), dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        return self

    def transform(self, X):
        """Extract a fixed-width float block from the column.

        Parameters
        ----------
        X : Series, 1-D array-like or single-column DataFrame of shape (n_samples,)
            Paths, strings or array cells; None, NaN or an empty string marks
            a missing input.

        Returns
        -------
        X_block : ndarray of shape (n_samples, ``n_features_out_``)
            One row per input row, in the same order; all-NaN where the input
            is missing (or unreadable with ``on_error="nan"``).
        """
        check_is_fitted(self)
        values = self._validate_column(X)
        index = _index_of(X)
        with _rows_named_by(type(self).__name__, index):
            return self._extract(values, index)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str, default=None
            The name of the input column; accepted for compatibility with
            :class:`~sklearn.compose.ColumnTransformer` and not used.

        Returns
        -------
        feature_names_out : ndarray of str
            One name per output column.
        """
        check_is_fitted(self)
        if input_features is not None and len(input_features) != 1:
            raise ValueError(
                f"{type(self).__name__} takes one input column; input_features "
                f"should have length 1, got {len(input_features)}."
            )
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        return tags

    # -- machinery ----------------------------------------------------------------

    def _read_first(self, values, load):
        """``load`` applied to the first training item that can be read, or None.

        For extractors whose output width depends on the data (a channel
        count): unreadable items are handled as in :meth:`transform`.
        """
        for position, item in enumerate(values):
            if is_missing(item):
                continue
            try:
                return load(self._locate(item))
            except PathOutsideRootError as exc:
                self._refuse(position, item, exc)
            except Exception as exc:
                self._handle_error(position, item, exc)
        return None

    def _validate_column(self, X):
        """The input as a 1-D object array, one cell per row."""
        name = type(self).__name__
        if isinstance(X, pd.DataFrame):
            if X.shape[1] != 1:
                raise ValueError(
                    f"{name} extracts one column; got a DataFrame with "
                    f"{X.shape[1]} columns {list(X.columns)}."
                )
            X = X.iloc[:, 0]
        if isinstance(X, pd.Series):
            cells = X.to_numpy(dtype=object)
        elif isinstance(X, np.ndarray):
            if X.ndim == 2 and X.shape[1] == 1:
                X = X[:, 0]
            if X.ndim != 1:
                raise ValueError(
                    f"{name} expects a 1-D column (one path, text or array per "
                    f"row); got an array of shape {X.shape}. Put arrays in an "
                    "object column, one array per cell."
                )
            cells = X
        elif isinstance(X, list | tuple):
            cells = X
        else:
            raise ValueError(
                f"{name} expects a pandas Series, a 1-D array or a list; got "
                f"{type(X).__name__}."
            )
        column = np.empty(len(cells), dtype=object)
        for position, cell in enumerate(cells):
            column[position] = cell
        return column

    def _extract(self, values, index=None):
        n_samples = len(values)
        output = np.full((n_samples, self.n_features_out_), np.nan, self._output_dtype)
        present = np.flatnonzero([not is_missing(value) for value in values])
        chunk = self._chunk_size()
        batches = [
            present[start : start + chunk] for start in range(0, present.size, chunk)
        ]
        failures = []
        with _progress(n_samples, self.verbose, type(self).__name__) as progress:
            progress.update(n_samples - present.size)
            results = self._run_batches(values, batches)
            for positions, (features, batch_failures) in zip(
                batches, results, strict=True
            ):
                output[positions] = features
                failures.extend(batch_failures)
                progress.update(len(positions))
        if failures:
            position, item, error = failures[0]
            warnings.warn(
                f"{type(self).__name__}: {len(failures)} input(s) could not be "
                f"read and were set to NaN (first: {row_name(index, position)}, "
                f"{_describe(item)}: {error}).",
                UserWarning,
                stacklevel=3,
            )
        return output

    def _run_batches(self, values, batches):
        """``_extract_batch`` of each batch of positions, lazily, in order.

        Batches run in ``n_jobs`` joblib workers; a subclass may schedule
        them otherwise (see TorchImageEmbedder).
        """
        jobs = (
            delayed(self._extract_batch)(values[positions], positions)
            for positions in batches
        )
        return Parallel(n_jobs=self.n_jobs, return_as="generator")(jobs)

    def _extract_batch(self, items, positions):
        """Features of one batch and the (position, item, error) of failures."""
        read = self._read_batch(items, positions)
        return self._featurize_read(items, positions, read)

    def _read_batch(self, items, positions):
        """The items read, the offsets of those read, and the failures.

        A failure is raised here, naming its row, with ``on_error="raise"``
        (and for a path outside ``root`` always); otherwise it is returned
        as ``(position, item, error)``.
        """
        loaded, kept, failures = [], [], []
        for offset, (item, position) in enumerate(zip(items, positions, strict=True)):
            try:
                loaded.append(self._read(self._locate(item)))
                kept.append(offset)
            except PathOutsideRootError as exc:
                self._refuse(position, item, exc)
            except Exception as exc:
                failures.append(self._handle_error(position, item, exc))
        return loaded, kept, failures

    def _featurize_read(self, items, positions, read):
        """``_extract_batch`` from what :meth:`_read_batch` returned."""
        loaded, kept, failures = read
        features = np.full((len(items), self.n_features_out_), np.nan)
        if not kept:
            return features, failures
        try:
            block = np.asarray(self._featurize_batch(loaded), dtype=float)
        except Exception as exc:
            if len(kept) == 1:
                failures.append(
                    self._handle_error(positions[kept[0]], items[kept[0]], exc)
                )
                return features, failures
            # Find the culprit item by item, so that the error names its row.
            rows = []
            for offset, item in zip(kept, loaded, strict=True):
                try:
                    rows.append(np.asarray(self._featurize_batch([item]), float)[0])
                except Exception as item_exc:
                    failures.append(
                        self._handle_error(positions[offset], items[offset], item_exc)
                    )
                    rows.append(np.full(self.n_features_out_, np.nan))
            block = np.vstack(rows)
        if block.shape != (len(kept), self.n_features_out_):
            raise RuntimeError(
                f"{type(self).__name__} produced a block of shape {block.shape} "
                f"for {len(kept)} item(s); expected width {self.n_features_out_}."
            )
        features[kept] = block
        return features, failures

    def _locate(self, item):
        """Resolve and check a path; other inputs pass through."""
        if not (self.reads_files and isinstance(item, str | os.PathLike)):
            return item
        path = resolve_path(item, self.root)
        check_file(path, self.max_file_bytes)
        return path

    def _handle_error(self, position, item, exc):
        if isinstance(exc, ImportError):
            # A missing optional package is no fault of the row: never NaN.
            raise exc
        if self.on_error == "raise":
            raise _UnreadableRow(position, _describe(item), str(exc)) from exc
        return position, item, f"{type(exc).__name__}: {exc}"

    def _refuse(self, position, item, exc):
        """Raise a path outside ``root`` again, naming the row: never a NaN row."""
        raise _UnreadableRow(
            position, _describe(item), str(exc), outside_root=True
        ) from exc


class _UnreadableRow(Exception):
    """A row that cannot be read, by its position among the rows given.

    Raised where the row is read (possibly in a joblib worker, hence only
    plain arguments) and turned by :func:`_rows_named_by`, which knows the
    input's index, into the error the user sees.
    """

    def __init__(self, position, described, reason, outside_root=False):
        super().__init__(position, described, reason, outside_root)
        self.position, self.described = position, described
        self.reason, self.outside_root = reason, outside_root


@contextlib.contextmanager
def _rows_named_by(extractor_name, index):
    """Raise an :class:`_UnreadableRow` as a ValueError naming the row.

    By its label in ``index``, or, with no index, by its position, which the
    error's ``row`` attribute then holds.
    """
    try:
        yield
    except _UnreadableRow as failure:
        kind = PathOutsideRootError if failure.outside_root else ValueError
        error = kind(
            f"{extractor_name} cannot read {row_name(index, failure.position)} "
            f"({failure.described}): {failure.reason}"
        )
        if index is None:
            error.row = failure.position
        raise error from failure.__cause__


def _index_of(X):
    """The index of a pandas input, which names its rows in messages; else None."""
    return X.index if isinstance(X, pd.Series | pd.DataFrame) else None


def _describe(item):
    if isinstance(item, str | os.PathLike):
        text = os.fspath(item)
        return repr(text if len(text) <= 120 else text[:117] + "...")
    if isinstance(item, np.ndarray):
        return f"array of shape {item.shape}"
    if isinstance(item, list | tuple) and item:
        if isinstance(item[0], str | os.PathLike):  # a DICOM series
            return f"{len(item)} paths from {_describe(item[0])}"
    return type(item).__name__


def _progress(total, verbose, name):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=name, unit="item", disable=not verbose)
