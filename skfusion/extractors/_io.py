"""Safe input for extractors: root confinement, size limits, missing inputs, NaN."""

import importlib
import math
import os
import stat
from pathlib import Path

import numpy as np

DEFAULT_MAX_FILE_BYTES = 512 * 2**20


class PathOutsideRootError(ValueError):
    """A path resolves outside the extractor's ``root`` directory.

    Raised by :func:`resolve_path` and by every extractor given a ``root``,
    whatever its ``on_error``: a path that leaves ``root`` is refused, never
    read and never turned into a missing row.

    Examples
    --------
    >>> from skfusion.extractors import PathOutsideRootError, resolve_path
    >>> try:
    ...     resolve_path("../secret.png", root="scans")
    ... except PathOutsideRootError:
    ...     print("refused")
    refused
    """


def is_missing(value):
    """True for an input that stands for a missing modality.

    None, NaN, ``pd.NA``, an empty or blank string and an empty array are
    missing; anything else is data. Every extractor gives such an input an
    all-NaN row.

    Parameters
    ----------
    value : object
        One cell of an extractor's input column.

    Returns
    -------
    missing : bool

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.extractors import is_missing
    >>> [is_missing(v) for v in (None, np.nan, "  ", "scan.png", 0.0)]
    [True, True, True, False, False]
    """
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    if isinstance(value, np.ndarray):
        return value.size == 0
    try:
        import pandas as pd

        return value is pd.NA or value is pd.NaT
    except ImportError:  # pragma: no cover - pandas is a dependency
        return False


def resolve_path(path, root=None):
    """The absolute path of an input file, confined to ``root`` when given.

    Parameters
    ----------
    path : str or path-like
        Path from the study table; relative paths are taken relative to
        ``root`` (or the working directory when ``root`` is None).

    root : str or path-like, default=None
        Directory that every file must lie in. ``..`` components, absolute
        paths elsewhere and symbolic links that lead out of it are refused.

    Returns
    -------
    path : Path
        The absolute path; with ``root``, resolved (symbolic links followed)
        so that it can be checked against ``root``.

    Raises
    ------
    PathOutsideRootError
        When the resolved path is not inside ``root``.

    Examples
    --------
    >>> from skfusion.extractors import resolve_path
    >>> resolve_path("a/b.png", root="/data").as_posix()
    '/data/a/b.png'
    """
    if root is None:
        # Nothing to confine: ``abspath`` spares realpath's lstat per component.
        return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
    path = Path(os.fspath(path)).expanduser()
    root_dir = Path(os.fspath(root)).expanduser().resolve()
    resolved = (root_dir / path).resolve()
    if not resolved.is_relative_to(root_dir):
        raise PathOutsideRootError(
            f"path {os.fspath(path)!r} resolves to {str(resolved)!r}, outside "
            f"root {str(root_dir)!r}; files must lie inside root."
        )
    return resolved


def check_file(path, max_bytes):
    """Refuse a missing file, a directory, or one over ``max_bytes``, by one stat.

    Parameters
    ----------
    path : Path
        The file, e.g. from :func:`resolve_path`.

    max_bytes : int or None
        The largest size accepted; None for no limit.

    Returns
    -------
    size : int
        The file's size in bytes.

    Raises
    ------
    FileNotFoundError
        For a path that is not a regular file.
    IsADirectoryError
        For a directory.
    ValueError
        For a file over ``max_bytes``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skfusion.extractors import check_file
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "scan.png"
    ...     _ = path.write_bytes(b"12345")
    ...     check_file(path, max_bytes=10)
    5
    """
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise FileNotFoundError(f"no such file: {str(path)!r}") from None
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(f"{str(path)!r} is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    size = info.st_size
    if max_bytes is not None and size > max_bytes:
        raise ValueError(
            f"file is {size} bytes, over the limit max_file_bytes={max_bytes}; "
            "raise max_file_bytes if the file is genuine."
        )
    return size


def check_finite(values, what, unit="values"):
    """Refuse an input holding NaN or infinity, which would pass for a missing row.

    Parameters
    ----------
    values : ndarray
        The decoded input; only floating-point (and complex) arrays are
        checked, as other dtypes cannot hold NaN or infinity.

    what : str
        The input in the message, e.g. ``"the image"``.

    unit : str, default="values"
        What one value is, e.g. ``"pixel values"``.

    Raises
    ------
    ValueError
        ``"<what> contains NaN or infinite <unit> (<count> of <size>)"``.
    """
    if not np.issubdtype(values.dtype, np.inexact):
        return
    finite = np.isfinite(values)
    if not finite.all():
        count = int(finite.size - np.count_nonzero(finite))
        raise ValueError(
            f"{what} contains NaN or infinite {unit} ({count} of {finite.size})"
        )


def import_optional(module, *, extra, needed_by):
    """Import an optional dependency or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{needed_by} needs the '{module.split('.')[0]}' package, which is not "
            f"installed: pip install 'skfusion[{extra}]'"
        ) from exc
