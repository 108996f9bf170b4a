"""DICOM series: the slice files of one scan (a folder, or a list) as one volume.

:func:`locate_series` turns a folder, or a list of paths, into a
:class:`DicomSeries` whose files are resolved under ``root`` and checked, and
:func:`read_series` reads it as one float volume of shape (rows, columns,
slices): slices sorted by their position along the normal of their plane,
each rescaled to modality values (RescaleSlope and RescaleIntercept).
``_readers.read_image`` then windows and reduces it as it does a NIfTI volume.
"""

import os
from pathlib import Path

import numpy as np

from ._io import check_file, check_finite, import_optional, resolve_path

__all__ = ["MAX_SERIES_SLICES", "DicomSeries", "locate_series", "read_series"]

#: A series of more files than this is refused before any is read.
MAX_SERIES_SLICES = 4096

# Slices whose positions along the normal differ by less than this (mm) are
# at the same place; orientations whose cosines differ by less, the same.
_POSITION_TOLERANCE = 1e-5
_ORIENTATION_TOLERANCE = 1e-4


class DicomSeries:
    """The slice files of one series, resolved and checked, in name order.

    Parameters
    ----------
    files : sequence of Path
        The slice files.
    """

    def __init__(self, files):
        self.files = tuple(files)


def is_path_list(item):
    """Whether an input cell is a list (or tuple) of paths: a series."""
    return isinstance(item, list | tuple) and all(
        isinstance(entry, str | os.PathLike) for entry in item
    )


def locate_series(item, root, max_file_bytes):
    """The series of a folder or of a list of paths, its files checked.

    Parameters
    ----------
    item : str, path-like, or list of them
        A folder holding the slices (every regular file in it but hidden
        ones and ``DICOMDIR``; not its subfolders), or the slice files.

    root : str or path-like or None
        The folder every file must lie in (see
        :func:`~skfusion.extractors.resolve_path`): a link inside the folder
        that leads out of ``root`` is refused.

    max_file_bytes : int or None
        The most bytes of the series' files together.

    Returns
    -------
    series : DicomSeries

    Raises
    ------
    PathOutsideRootError
        A folder or a file outside ``root``.
    ValueError
        An empty series, more than ``MAX_SERIES_SLICES`` files, or files
        over ``max_file_bytes`` together.
    """
    if isinstance(item, list | tuple):
        if not item:
            raise ValueError("a DICOM series needs at least one slice; got []")
        if len(item) > MAX_SERIES_SLICES:
            _too_many(len(item))
        paths = [resolve_path(entry, root) for entry in item]
    else:
        paths = _folder_files(resolve_path(item, root), root)
    if not paths:
        raise ValueError("the folder holds no DICOM slice")
    total = 0
    for path in paths:
        total += check_file(path, None)
    if max_file_bytes is not None and total > max_file_bytes:
        raise ValueError(
            f"the series' {len(paths)} files hold {total} bytes together, over "
            f"the limit max_file_bytes={max_file_bytes}; raise max_file_bytes "
            "if the series is genuine"
        )
    return DicomSeries(paths)


def _folder_files(folder, root):
    names = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(".") or entry.name.upper() == "DICOMDIR":
                continue
            if entry.is_dir():
                continue
            names.append(entry.name)
            if len(names) > MAX_SERIES_SLICES:
                _too_many(f"over {MAX_SERIES_SLICES}")
    # Each entry resolved again: a link in the folder may lead out of root.
    return [resolve_path(folder / name, root) for name in sorted(names)]


def _too_many(count):
    raise ValueError(
        f"the series has {count} files, over the limit of {MAX_SERIES_SLICES} "
        "slices per series"
    )


def read_series(series, max_pixels, needed_by):
    """The volume of a series, rescaled, and the dataset of its first slice.

    Parameters
    ----------
    series : DicomSeries
        The slices, from :func:`locate_series`.

    max_pixels : int or None
        The most voxels, checked from the headers before any slice is decoded.

    needed_by : str
        Name used in the message when pydicom is missing.

    Returns
    -------
    volume : ndarray of shape (rows, columns, n_slices)
        Modality values (stored values times RescaleSlope plus
        RescaleIntercept, slice by slice), slices in increasing position
        along the normal ``row direction x column direction`` of
        ImageOrientationPatient.

    first : pydicom.Dataset
        The first slice in that order, whose VOI window and photometric
        interpretation stand for the series'.

    Raises
    ------
    ValueError
        A file that is not a readable DICOM slice (named), slices of mixed
        sizes, orientations or series, two slices at one position, or more
        than ``max_pixels`` voxels.
    """
    from ._readers import _apply_rescale, _check_pixels

    pydicom = import_optional("pydicom", extra="medical", needed_by=needed_by)
    slices = [_Slice.read(path, pydicom) for path in series.files]
    shape = slices[0].shape
    for piece in slices:
        if piece.shape != shape:
            raise ValueError(
                f"the series mixes slice sizes: {slices[0].name} is {shape[0]} x "
                f"{shape[1]}, {piece.name} {piece.shape[0]} x {piece.shape[1]}"
            )
    uids = {piece.series for piece in slices if piece.series is not None}
    if len(uids) > 1:
        raise ValueError(
            f"the files belong to {len(uids)} series (SeriesInstanceUID); give "
            "one series per cell"
        )
    _check_pixels(len(slices) * shape[0] * shape[1], max_pixels, (*shape, len(slices)))
    slices = _in_position_order(slices)
    # Stacked slice-first, where each plane is contiguous, and returned as a
    # (rows, columns, slices) view: no copy either way.
    volume = np.empty((len(slices), *shape))
    for plane, piece in zip(volume, slices, strict=True):
        pixels = piece.pixels()
        check_finite(pixels, f"slice {piece.name}", "pixel values")
        plane[...] = _apply_rescale(pixels, piece.ds, pydicom)
    return np.moveaxis(volume, 0, -1), slices[0].ds


class _Slice:
    """One slice file: its dataset and what placing it needs, read once."""

    def __init__(self, path, ds, shape, orientation, position, series):
        self.path, self.ds, self.shape = path, ds, shape
        self.orientation, self.position, self.series = orientation, position, series
        self.name = repr(Path(path).name)

    @classmethod
    def read(cls, path, pydicom):
        name = repr(Path(path).name)
        try:
            ds = pydicom.dcmread(path)
        except Exception as exc:
            raise ValueError(
                f"slice {name} is not a readable DICOM file "
                f"({type(exc).__name__}: {exc})"
            ) from None
        if "PixelData" not in ds and "FloatPixelData" not in ds:
            raise ValueError(f"slice {name} has no pixel data")
        missing = [k for k in ("Rows", "Columns") if k not in ds]
        if missing:
            raise ValueError(f"slice {name} has no {' or '.join(missing)}")
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        if frames != 1:
            raise ValueError(
                f"slice {name} holds {frames} frames; a series has one frame "
                "per file (read a multi-frame file on its own)"
            )
        if int(ds.get("SamplesPerPixel", 1) or 1) != 1:
            raise ValueError(f"slice {name} is in colour; a series is grey")
        try:
            orientation = np.asarray(ds.ImageOrientationPatient, dtype=float)
            position = np.asarray(ds.ImagePositionPatient, dtype=float)
        except (AttributeError, TypeError, ValueError):
            raise ValueError(
                f"slice {name} has no ImagePositionPatient and "
                "ImageOrientationPatient to place it in the series"
            ) from None
        if orientation.shape != (6,) or position.shape != (3,):
            raise ValueError(
                f"slice {name} has a malformed ImagePositionPatient or "
                "ImageOrientationPatient"
            )
        series = ds.get("SeriesInstanceUID")
        shape = (int(ds.Rows), int(ds.Columns))
        return cls(path, ds, shape, orientation, position, series and str(series))

    def pixels(self):
        try:
            pixels = self.ds.pixel_array
        except Exception as exc:
            raise ValueError(
                f"the pixels of slice {self.name} cannot be decoded "
                f"({type(exc).__name__}: {exc})"
            ) from None
        if pixels.shape != self.shape:
            raise ValueError(
                f"slice {self.name} decodes to shape {pixels.shape}, not {self.shape}"
            )
        return pixels


def _in_position_order(slices):
    """The slices by position along their plane's normal; one orientation."""
    reference = slices[0].orientation
    for piece in slices:
        if not np.allclose(piece.orientation, reference, atol=_ORIENTATION_TOLERANCE):
            raise ValueError(
                f"the series mixes slice orientations: {slices[0].name} and "
                f"{piece.name} (ImageOrientationPatient)"
            )
    normal = np.cross(reference[:3], reference[3:])
    if np.linalg.norm(normal) < 0.5:
        raise ValueError(
            f"slice {slices[0].name}'s ImageOrientationPatient has no plane "
            "(parallel row and column directions)"
        )
    along = np.array([piece.position @ normal for piece in slices])
    order = np.argsort(along, kind="stable")
    gaps = np.diff(along[order])
    if gaps.size and gaps.min() < _POSITION_TOLERANCE:
        k = int(np.argmin(gaps))
        a, b = slices[order[k]], slices[order[k + 1]]
        raise ValueError(
            f"slices {a.name} and {b.name} lie at the same position "
            f"({along[order[k]]:g} mm along the slice normal): a duplicate, or "
            "two scans in one series"
        )
    return [slices[i] for i in order]
