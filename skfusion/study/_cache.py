"""The study's extraction cache: feature rows keyed by input content.

An extractor that learns nothing from the data (``learns_from_data = False``)
gives every input the same row whatever table it sits in, so its rows can be
kept on disk and reused by any later study on the same media: another target,
other strategies, a subset of the rows, a reordered table. A row is keyed by
the extractor (its class, the parameters that change its numbers, the width
it was fitted to, skfusion's version) and by its input: the bytes of the file
a path names, or the value of an in-memory cell (a text, an array).

Layout, under the ``memory`` folder of :class:`~skfusion.study.FusionStudy`::

    <memory>/skfusion-extraction/<Extractor>-<key>/
        extractor.json      what the key stands for, for people (never read)
        rows-<uuid>.npz     keys, rows and feature names of one batch of rows

Shards are written to a temporary file in the same folder and renamed into
place, so that a reader never sees half a shard, and two studies may write
at once. An unreadable shard is skipped with a warning and its rows are
extracted again. Deleting the folder clears the cache; nothing here deletes
a file.
"""

import hashlib
import json
import os
import tempfile
import uuid
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted, check_memory

from .. import __version__

__all__ = [
    "CACHE_FOLDER",
    "ContentCachedExtractor",
    "extraction_cache_location",
]

#: The folder, under a study's ``memory`` location, that holds the cache.
CACHE_FOLDER = "skfusion-extraction"

# Parameters left out of an extractor's key, each for a reason, so that a
# study that changes only them still finds its rows.
# How fast and how visibly rows are computed: the rows are the same over any
# number of workers, with or without a progress bar, in batches of any size
# (a neural network's floats may differ in the last bits with the batch it
# ran in; the cache then returns the rows it stored).
_SPEED_PARAMETERS = frozenset({"batch_size", "n_jobs", "verbose"})
# Which inputs are read at all and what a failure gives: a path is keyed by
# the content of the file it resolves to (under ``root``), a file over
# ``max_file_bytes`` or outside ``root`` is never looked up, and rows that
# failed (all NaN) are never stored.
_INPUT_PARAMETERS = frozenset({"max_file_bytes", "on_error", "root"})
_NOT_IN_KEY = _SPEED_PARAMETERS | _INPUT_PARAMETERS

_CHUNK_BYTES = 2**20


def extraction_cache_location(memory):
    """The folder of the extraction cache of a study's ``memory``, or None.

    Parameters
    ----------
    memory : str, path-like, joblib.Memory or None
        The study's ``memory``: a folder, or a :class:`joblib.Memory` whose
        ``location`` is a folder.

    Returns
    -------
    location : Path or None
        ``<memory folder>/skfusion-extraction``; None when ``memory`` caches
        nothing (None, or a Memory without a location).
    """
    if isinstance(memory, os.PathLike):
        memory = os.fspath(memory)
    location = getattr(check_memory(memory), "location", None)
    if location is None:
        return None
    return Path(os.fspath(location)) / CACHE_FOLDER


class ContentCachedExtractor(TransformerMixin, BaseEstimator):
    """An extractor whose rows are read from, and written to, a content cache.

    Fitted exactly as the extractor alone would be (on every row it is
    given); at transform, the rows whose input is already in the cache are
    read from it, the others are extracted (the extractor sees only them,
    the cached and missing inputs being passed as missing), and the new rows
    are stored. Missing inputs are never looked up (their rows are NaN, as
    the extractor gives them), nor are failed rows (all NaN) stored.

    Parameters
    ----------
    extractor : BaseExtractor
        An extractor that learns nothing from the data.

    location : str or path-like
        The cache folder (see :func:`extraction_cache_location`).

    Attributes
    ----------
    extractor_ : BaseExtractor
        The fitted clone of ``extractor``.

    cache_folder_ : Path or None
        The folder of this extractor's rows; None when the extractor's
        parameters cannot be hashed (it then extracts every row).
    """

    def __init__(self, extractor, location):
        self.extractor = extractor
        self.location = location

    def fit(self, X, y=None):
        """Fit the extractor and store the rows of ``X``: :meth:`fit_transform`."""
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None):
        """Fit the extractor and return its rows, cached ones read from disk.

        Parameters
        ----------
        X : Series, 1-D array-like or single-column DataFrame
            The extractor's input column.

        y : None
            Ignored.

        Returns
        -------
        X_block : ndarray of shape (n_samples, n_features_out)
            The rows, equal to the extractor's own.
        """
        self.extractor_ = clone(self.extractor).fit(X, y)
        self.cache_folder_ = _extractor_folder(self.extractor_, self.location)
        return self._cached_transform(X)

    def transform(self, X):
        """The extractor's rows of ``X``, cached ones read from disk.

        Parameters
        ----------
        X : Series, 1-D array-like or single-column DataFrame
            The extractor's input column.

        Returns
        -------
        X_block : ndarray of shape (n_samples, n_features_out)
            The rows, equal to the extractor's own.
        """
        check_is_fitted(self)
        return self._cached_transform(X)

    def get_feature_names_out(self, input_features=None):
        """The extractor's feature names.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Passed to the extractor.

        Returns
        -------
        feature_names_out : ndarray of str
            One name per output column.
        """
        check_is_fitted(self)
        return self.extractor_.get_feature_names_out(input_features)

    def _cached_transform(self, X):
        cells = _cells(X)
        if cells is None or self.cache_folder_ is None:
            # Not one column: the extractor's own error says what is wrong.
            return np.asarray(self.extractor_.transform(X), dtype=float)
        from ..extractors import is_missing

        names = [str(name) for name in self.extractor_.get_feature_names_out()]
        shards = _Shards(self.cache_folder_, names)
        present = [not is_missing(cell) for cell in cells]
        keys = [
            _row_key(cell, self.extractor_) if here else None
            for cell, here in zip(cells, present, strict=True)
        ]
        found = shards.read({key for key in keys if key is not None})
        output = np.full((len(cells), len(names)), np.nan)
        todo = []
        for position, (key, here) in enumerate(zip(keys, present, strict=True)):
            if key in found:
                output[position] = found[key]
            elif here:
                todo.append(position)
        if not todo:
            return output
        # The whole column, cached rows passed as missing: the extractor
        # skips them, and its errors name the row as X does.
        masked = np.full(len(cells), None, dtype=object)
        masked[todo] = cells[todo]
        if isinstance(X, pd.Series | pd.DataFrame):
            masked = pd.Series(masked, index=X.index, dtype=object)
        extracted = np.asarray(self.extractor_.transform(masked), dtype=float)
        output[todo] = extracted[todo]
        new = {
            keys[position]: output[position]
            for position in todo
            if keys[position] is not None and not np.isnan(output[position]).all()
        }
        shards.write(new, self.extractor_)
        return output


def _cells(X):
    """The cells of a one-column input as an object array, or None."""
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            return None
        X = X.iloc[:, 0]
    if isinstance(X, pd.Series):
        values = list(X)
    elif isinstance(X, np.ndarray) and (
        X.ndim == 1 or (X.ndim == 2 and X.shape[1] == 1)
    ):
        values = list(X[:, 0] if X.ndim == 2 else X)
    elif isinstance(X, list | tuple):
        values = list(X)
    else:
        return None
    cells = np.empty(len(values), dtype=object)
    for position, value in enumerate(values):
        cells[position] = value
    return cells


# -- keys --------------------------------------------------------------------------


def _extractor_folder(extractor, location):
    """The folder of a fitted extractor's rows, or None when it has no key.

    The key holds the class, the parameters that change the numbers, the
    fitted feature names (an extractor may fix its width from the data, a
    channel count) and skfusion's version (a release may compute a feature
    differently). A ``device`` parameter is keyed by the kind of device
    the extractor resolved it to, as "auto" is a GPU on one machine and
    the CPU on another, and their floats differ in the last bits.
    """
    cls = type(extractor)
    params = {
        name: value
        for name, value in extractor.get_params(deep=False).items()
        if name not in _NOT_IN_KEY
    }
    if "device" in params and hasattr(extractor, "device_"):
        params["device"] = str(getattr(extractor.device_, "type", extractor.device_))
    names = [str(name) for name in extractor.get_feature_names_out()]
    identity = (cls.__module__, cls.__qualname__, __version__, params, names)
    try:
        key = joblib.hash(identity)
    except Exception as exc:
        warnings.warn(
            f"skfusion extraction cache: cannot hash the parameters of "
            f"{cls.__name__} ({type(exc).__name__}: {exc}); its rows are "
            "extracted without the cache.",
            UserWarning,
            stacklevel=4,
        )
        return None
    return Path(os.fspath(location)) / f"{cls.__name__}-{key}"


def _row_key(cell, extractor):
    """The key of one non-missing input, or None when it cannot be keyed.

    A path (for an extractor that reads files) is keyed by the bytes of the
    file it resolves to, and its last suffixes, which choose the reader; a
    folder or a list of paths (a DICOM series) by the bytes of each of its
    files; any other cell by its value. A path that cannot be resolved,
    checked or read has no key: the extractor reads it and reports what is
    wrong. Neither has a WFDB header, whose data files it only names.
    """
    from ..extractors import check_file, resolve_path

    reads_files = getattr(extractor, "reads_files", False)
    root = getattr(extractor, "root", None)
    if reads_files and isinstance(cell, str | os.PathLike):
        try:
            path = resolve_path(cell, root)
            if path.is_dir():
                return _files_key(sorted(path.iterdir()), root)
            if path.suffix.lower() == ".hea":
                return None
            check_file(path, getattr(extractor, "max_file_bytes", None))
            return f"file-{_file_digest(path)}{''.join(path.suffixes[-2:]).lower()}"
        except (OSError, ValueError):
            return None
    if reads_files and isinstance(cell, list | tuple):
        try:
            return _files_key(cell, root)
        except (OSError, ValueError, TypeError):
            return None
    try:
        return f"value-{joblib.hash(cell)}"
    except Exception:
        return None


def _files_key(paths, root):
    """The key of a series of files: their contents, in the order given."""
    from ..extractors import check_file, resolve_path

    digest = hashlib.blake2b(digest_size=32)
    for path in paths:
        resolved = resolve_path(path, root)
        if resolved.is_file():  # a folder's subfolders are not read
            check_file(resolved, None)
            digest.update(_file_digest(resolved).encode())
    return f"files-{digest.hexdigest()}"


def _file_digest(path):
    digest = hashlib.blake2b(digest_size=32)
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


# -- storage -----------------------------------------------------------------------


class _Shards:
    """The shards of one extractor's folder: read the rows asked for, add rows."""

    def __init__(self, folder, names):
        self.folder = Path(folder)
        self.names = list(names)

    def read(self, wanted):
        """The stored rows of the keys in ``wanted``, as a dict."""
        found = {}
        if not wanted or not self.folder.is_dir():
            return found
        for path in sorted(self.folder.glob("rows-*.npz")):
            try:
                keys, rows = self._load(path)
            except Exception as exc:
                warnings.warn(
                    f"skfusion extraction cache: ignoring the unreadable shard "
                    f"{str(path)!r} ({type(exc).__name__}: {exc}); its rows are "
                    "extracted again. Delete the file to silence this warning.",
                    UserWarning,
                    stacklevel=5,
                )
                continue
            for key, row in zip(keys, rows, strict=True):
                if key in wanted:
                    found[key] = row
        return found

    def _load(self, path):
        # allow_pickle=False: a shard is data, never code to run.
        with np.load(path, allow_pickle=False) as shard:
            keys = shard["keys"]
            rows = shard["rows"]
            names = shard["names"]
        if names.tolist() != self.names:
            raise ValueError("its feature names are not the extractor's")
        if (
            keys.ndim != 1
            or rows.dtype != np.float64
            or rows.shape != (len(keys), len(self.names))
        ):
            raise ValueError(
                f"{len(keys)} keys and rows of shape {rows.shape} and dtype "
                f"{rows.dtype}; expected float64 rows of width {len(self.names)}"
            )
        return keys.tolist(), rows

    def write(self, rows, extractor):
        """Store ``rows`` (a dict of key to row) as one new shard.

        A cache that cannot be written is warned about, never raised: the
        study has its rows either way.
        """
        if not rows:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not (self.folder / "extractor.json").exists():
                self._write_atomically("extractor.json", _describe(extractor))
            self._write_atomically(
                f"rows-{uuid.uuid4().hex}.npz",
                lambda handle: np.savez(
                    handle,
                    keys=np.array(list(rows), dtype=str),
                    rows=np.stack(list(rows.values())).astype(np.float64),
                    names=np.array(self.names, dtype=str),
                ),
            )
        except OSError as exc:
            where = str(self.folder)
            warnings.warn(
                f"skfusion extraction cache: cannot write to {where!r} ({exc}); "
                "the study goes on without storing its rows.",
                stacklevel=5,
            )

    def _write_atomically(self, name, write):
        descriptor, temporary = tempfile.mkstemp(
            dir=self.folder, prefix=f".{name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "wb") as handle:
                write(handle)
            os.replace(temporary, self.folder / name)
        except BaseException:
            # Only the temporary file this call created is removed.
            Path(temporary).unlink(missing_ok=True)
            raise


def _describe(extractor):
    """A writer of ``extractor.json``: what the folder's key stands for."""
    cls = type(extractor)
    text = json.dumps(
        {
            "extractor": f"{cls.__module__}.{cls.__qualname__}",
            "parameters": {
                name: repr(value)
                for name, value in extractor.get_params(deep=False).items()
                if name not in _NOT_IN_KEY
            },
            "n_features": len(extractor.get_feature_names_out()),
            "skfusion": __version__,
        },
        indent=2,
    )
    return lambda handle: handle.write(text.encode())
