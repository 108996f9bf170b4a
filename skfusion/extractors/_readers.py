"""Image readers: one image file (Pillow, DICOM, NIfTI), a DICOM series or an array.

A DICOM series (:class:`~._dicom_series.DicomSeries`) is read by
``_dicom_series.read_series`` and becomes an image as a NIfTI volume does.
"""

import os
import warnings
from pathlib import Path

import numpy as np

from ._dicom_series import DicomSeries, read_series
from ._io import check_finite, import_optional

__all__ = ["DEFAULT_MAX_PIXELS", "LUMA", "read_image", "resize"]

#: Default bound on the decoded pixels (or voxels) of one input: 2**27, about
#: 134 million, i.e. at most 1 GiB as float64.
DEFAULT_MAX_PIXELS = 2**27

# ITU-R 601-2 luma, as Pillow's convert("L").
LUMA = np.array([0.299, 0.587, 0.114])


def read_image(
    source,
    *,
    mode="L",
    max_pixels=DEFAULT_MAX_PIXELS,
    volume="middle",
    axis=2,
    window="auto",
    scale="unit",
    size=None,
    needed_by="an image extractor",
):
    """Read one image (a path or an array) as a float array.

    Parameters
    ----------
    source : path-like, DicomSeries or ndarray
        A file (format told by its suffix or, for DICOM, its preamble), a
        DICOM series (a volume of shape (rows, columns, slices), windowed with
        its first slice's VOI window, and inverted if MONOCHROME1, as a
        whole), or an in-memory array: 2-D grey, 3-D with 1, 3 or 4 channels
        last (colour), any other 3-D or 4-D array is a volume (4-D: the first
        volume along the last axis).

    mode : {"L", "RGB", "L+RGB"}
        Grey (H, W) or colour (H, W, 3) output, or (``"L+RGB"``) the pair
        ``(grey, colour)`` where ``grey`` is what ``"L"`` gives and
        ``colour`` what ``"RGB"`` gives, or None for a grey input (one
        channel, or three equal ones), from one decode (and, with ``size``,
        one resize of an 8-bit Pillow file).

    max_pixels : int or None
        Refuse an input with more pixels (voxels for volumes) than this,
        checked from the header before decoding.

    volume : {"middle", "mip", "mean", "volume"}
        How a volume becomes an image: the middle slice along ``axis``
        (``vol.take(n // 2, axis)``), its maximum or mean along ``axis``, or
        (``"volume"``) no reduction: the volume is returned with ``axis``
        moved first, shape (D, H, W).

    axis : int
        Volume axis that slices are taken along or projected over.

    window : {"auto", "minmax"} or (center, width)
        Intensity window mapped to [0, 1] for DICOM and NIfTI: ``"auto"`` is
        the DICOM file's own VOI window when it has one and min-max
        otherwise; a pair is applied as ``(x - center) / width + 0.5``,
        clipped.

    scale : {"unit", "none"}
        ``"unit"``: values in [0, 1] (8-bit / 255, 16-bit / 65535, DICOM and
        NIfTI windowed, uint8 arrays / 255, float arrays kept). ``"none"``:
        stored values (DICOM: rescaled modality values such as Hounsfield
        units, without windowing or MONOCHROME1 inversion).

    size : tuple of int or None
        Output (height, width), or (depth, height, width) with
        ``volume="volume"``. An 8-bit Pillow file is decoded (a JPEG at a
        reduced scale) and resized by Pillow (see :func:`_read_pillow`);
        every other input (DICOM, NIfTI, arrays, 16-bit and float files,
        volumes) is read in full and resized by :func:`resize`. None keeps
        the input's own size.

    needed_by : str
        Name used in the message when an optional dependency is missing.

    Returns
    -------
    image : ndarray of float, or a pair of them with ``mode="L+RGB"``
        Shape (H, W), (H, W, 3), or (D, H, W) with ``volume="volume"``;
        float32 for 8-bit Pillow files, float64 otherwise (resized DICOM,
        NIfTI and arrays: the dtype scikit-image's ``resize`` gives).
    """
    if isinstance(source, np.ndarray):
        image = _from_array(source, scale=scale, volume=volume, axis=axis)
        if isinstance(image, _Volume):
            # Arrays keep their values (uint8 aside): no window.
            image = _reduce_volume(image.data, volume, axis, window, "none")
        return _resize_all(_to_mode(image, mode, volume), size, needed_by)
    if isinstance(source, DicomSeries):
        data, first = read_series(source, max_pixels, needed_by)
        if scale == "unit":
            data = _window(data, window, first)
            if first.get("PhotometricInterpretation", "") == "MONOCHROME1":
                data = 1.0 - data
        image = _reduce_volume(data, volume, axis, "minmax", "none")
        return _resize_all(_to_mode(image, mode, volume), size, needed_by)
    path = source if isinstance(source, Path) else Path(os.fspath(source))
    name = path.name.lower()
    if name.endswith((".nii", ".nii.gz")):
        data = _read_nifti(path, max_pixels, needed_by)
        image = _reduce_volume(data, volume, axis, window, scale)
        image = _to_mode(image, mode, volume)
        return _resize_all(image, size, needed_by)
    if not name.endswith((".dcm", ".dicom")):
        # One open: the preamble is read from the handle Pillow then reads.
        with open(path, "rb") as handle:
            if not _has_dicom_preamble(handle):
                if volume == "volume":
                    raise ValueError(
                        "volume='volume' needs a 3-D input (NIfTI, multi-frame "
                        "DICOM or a 3-D array); got a 2-D image file."
                    )
                image = _read_pillow(
                    handle, mode, max_pixels, scale, needed_by, size=size
                )
                # A no-op for what Pillow already resized.
                return _resize_all(image, size, needed_by)
    image = _read_dicom(path, max_pixels, volume, axis, window, scale, needed_by)
    return _resize_all(_to_mode(image, mode, volume), size, needed_by)


def _resize_all(image, size, needed_by):
    """``image``, or each image of a (grey, colour) pair, resized to ``size``."""
    if size is None:
        return image
    if isinstance(image, tuple):
        return tuple(
            None if part is None else resize(part, size, needed_by) for part in image
        )
    return resize(image, size, needed_by)


class _Volume:
    """Marks an in-memory array as a volume rather than a colour image."""

    def __init__(self, data):
        self.data = data


def _from_array(array, *, scale, volume, axis):
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == bool
    ):
        raise TypeError(f"expected a numeric array, got dtype {array.dtype}")
    _check_pixels_finite(array)
    data = np.asarray(array, dtype=np.float64)
    if scale == "unit" and array.dtype == np.uint8:
        data = data / 255.0
    if data.ndim == 4:
        data = data[..., 0]
    if data.ndim == 3 and data.shape[-1] in (1, 3, 4) and volume != "volume":
        if data.shape[-1] == 1:
            return data[..., 0]
        return data[..., :3]
    if data.ndim == 3:
        return _Volume(data)
    if data.ndim != 2:
        raise ValueError(f"expected a 2-D, 3-D or 4-D array, got shape {array.shape}")
    if volume == "volume":
        raise ValueError(f"volume='volume' needs a 3-D array; got shape {array.shape}.")
    return data


def _to_mode(image, mode, volume):
    if volume == "volume":
        if image.ndim != 3:
            raise ValueError(f"expected a 3-D volume, got shape {image.shape}")
        return image
    if mode == "L+RGB":
        if image.ndim == 3 and not _is_grey(image):
            return image @ LUMA, image
        return (image[..., 0] if image.ndim == 3 else image), None
    if image.ndim == 3:
        return image if mode == "RGB" else image @ LUMA
    return np.repeat(image[..., None], 3, axis=-1) if mode == "RGB" else image


def _is_grey(rgb):
    return np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(
        rgb[..., 0], rgb[..., 2]
    )


def _check_pixels(n_pixels, max_pixels, shape):
    if max_pixels is not None and n_pixels > max_pixels:
        raise ValueError(
            f"image of shape {shape} has {n_pixels} pixels, over the limit "
            f"max_pixels={max_pixels} (a possible decompression bomb); raise "
            "max_pixels if the file is genuine."
        )


def _read_pillow(file, mode, max_pixels, scale, needed_by, size=None):
    """A Pillow file (path or open binary file) as an array, resized if 8-bit.

    With ``size``, an image in an 8-bit mode (any but I;16, I and F) is
    decoded, resized and turned upright by :func:`_pillow_resized`, then
    converted to float32 once: several times faster than decoding in full
    and resizing in float with scikit-image (whose anti-aliasing is a
    Gaussian filter before bilinear interpolation; the two agree to under
    one grey level on average, see ``ImageLoader``). High-bit-depth images
    are returned unresized.
    """
    pil_image = import_optional("PIL.Image", extra="image", needed_by=needed_by)
    pil_ops = import_optional("PIL.ImageOps", extra="image", needed_by=needed_by)
    bomb = (pil_image.DecompressionBombWarning, pil_image.DecompressionBombError)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pil_image.DecompressionBombWarning)
        try:
            # Image.open only reads the header: the pixel count is checked
            # before anything is decoded.
            with pil_image.open(file) as img:
                _check_pixels(img.width * img.height, max_pixels, img.size[::-1])
                if size is not None and img.mode not in _HIGH_BIT_MODES:
                    img = _pillow_resized(img, mode, size, pil_image, pil_ops)
                else:
                    img.load()
                    img = pil_ops.exif_transpose(img)
                return _pillow_to_array(img, mode, scale)
        except bomb as exc:
            raise ValueError(
                f"{exc} Raise PIL.Image.MAX_IMAGE_PIXELS as well as max_pixels "
                "if the file is genuine."
            ) from exc


_HIGH_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
_GREY_MODES = ("1", "L", "LA", "La")
# A JPEG is drafted to at least twice the target (Pillow's thumbnail default,
# reducing_gap=2): its DCT scaling is a box filter, close to a full decode
# only when the resize that follows still reduces by 2 or more.
_DRAFT_GAP = 2
# EXIF orientation tag; orientations 5-8 turn the image by 90 degrees.
_EXIF_ORIENTATION = 0x0112
_TURNED = (5, 6, 7, 8)


def _pillow_resized(img, mode, size, pil_image, pil_ops):
    """An opened 8-bit image decoded and resized to ``size`` by Pillow, upright.

    1. A JPEG is decoded at the smallest of libjpeg's DCT scales 1/8, 1/4
       and 1/2 whose both sides still cover twice ``max(size)``
       (``Image.draft``): the target is covered whichever way the EXIF
       orientation turns the image, and the resize still reduces by 2 or
       more, so the result stays near that of a full decode. Other formats,
       and JPEGs under twice the target, are decoded in full.
    2. The image is converted to its own colour, "L" for grey files and
       "RGB" for colour ones, whatever ``mode`` says: ``mode`` is taken
       from the resized image, so the grey of ``"L+RGB"`` (one resize) is
       the image ``"L"`` gives, and that of a colour file is within one
       grey level of ``img.convert("L").resize(...)``. Never resized as "P"
       or "1" (which Pillow resizes by nearest neighbour) nor with alpha
       (which Pillow premultiplies; the conversion drops it, as without
       ``size``).
    3. It is resized in 8 bits by Pillow's ``BILINEAR`` filter, a triangle
       whose support widens with the reduction factor (anti-aliased when
       shrinking), over exactly the drafted region of the original (the box
       ``draft`` returns), in the stored orientation ...
    4. ... and then turned upright by ``PIL.ImageOps.exif_transpose`` (the
       resized image keeps the file's EXIF); the turn commutes with the
       resize, so this equals turning first.
    """
    cover = max(size) * _DRAFT_GAP
    drafted = img.draft(None, (cover, cover))
    img.load()
    height, width = size
    orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
    if orientation in _TURNED:
        height, width = width, height
    working = "L" if img.mode in _GREY_MODES else "RGB"
    if img.mode != working:
        img = img.convert(working)
    # The drafted image may hold a fraction of a pixel past the original's
    # right and bottom edges (its size is rounded up): resize the box only.
    box = None if drafted is None else drafted[1]
    resized = img.resize((width, height), pil_image.Resampling.BILINEAR, box=box)
    if orientation == 1:  # upright already: no second parse of the EXIF
        return resized
    return pil_ops.exif_transpose(resized)


def _check_pixels_finite(pixels):
    # Checked as decoded: a NaN would pass for a missing image (an all-NaN
    # row), or spread through windowing and resizing.
    check_finite(pixels, "the image", "pixel values")


def _pillow_to_array(img, mode, scale):
    if img.mode in _HIGH_BIT_MODES:
        # High-bit-depth grey: Pillow's convert("L") clips instead of scaling.
        data = np.asarray(img, dtype=np.float64)
        _check_pixels_finite(data)  # a float ("F") image, e.g. a TIFF, may hold NaN
        if scale == "unit":
            if img.mode.startswith("I;16"):
                data = data / 65535.0
            else:
                data = _minmax(data)
        return _to_mode(data, mode, "middle")
    if mode == "L+RGB":
        # Both from one decode; Pillow's own grey, as mode="L" reads it.
        grey = _pillow_to_array(img, "L", scale)
        if img.mode in _GREY_MODES:
            return grey, None
        rgb = _pillow_to_array(img, "RGB", scale)
        return grey, None if _is_grey(rgb) else rgb
    # 8-bit images need no more than float32, and resizing runs twice as fast.
    if img.mode != mode:
        img = img.convert(mode)
    data = np.asarray(img, dtype=np.float32)
    return data / np.float32(255.0) if scale == "unit" else data


def _has_dicom_preamble(handle):
    """Whether an open binary file starts with DICOM's preamble; rewinds it."""
    head = handle.read(132)
    handle.seek(0)
    return len(head) == 132 and head[128:] == b"DICM"


def _read_dicom(path, max_pixels, volume, axis, window, scale, needed_by):
    pydicom = import_optional("pydicom", extra="medical", needed_by=needed_by)
    ds = pydicom.dcmread(path)
    if "PixelData" not in ds and "FloatPixelData" not in ds:
        raise ValueError("DICOM file has no pixel data")
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    shape = (frames, int(ds.Rows), int(ds.Columns))
    _check_pixels(int(np.prod(shape)), max_pixels, shape)
    pixels = ds.pixel_array
    _check_pixels_finite(pixels)  # float pixel data may hold NaN
    if samples > 1:
        # Colour (pydicom converts YBR to RGB): no modality LUT or window.
        data = np.asarray(pixels, dtype=np.float64)
        if frames > 1:
            data = data[frames // 2]
        if scale == "unit":
            data = data / float(2 ** int(ds.get("BitsStored", 8)) - 1)
        return data
    data = np.asarray(_apply_rescale(pixels, ds, pydicom), dtype=np.float64)
    if scale == "unit":
        data = _window(data, window, ds)
        if ds.get("PhotometricInterpretation", "") == "MONOCHROME1":
            data = 1.0 - data
    if frames > 1:
        # Frames are the first axis of a multi-frame DICOM.
        return _reduce_volume(data, volume, 0, "minmax", "none")
    if volume == "volume":
        raise ValueError("volume='volume' needs a multi-frame DICOM")
    return data


def _apply_rescale(pixels, ds, pydicom):
    try:
        from pydicom.pixels import apply_rescale
    except ImportError:  # pydicom < 3
        from pydicom.pixel_data_handlers.util import (
            apply_modality_lut as apply_rescale,
        )
    return apply_rescale(pixels, ds)


def _window(data, window, ds=None):
    """``data`` mapped to [0, 1] by ``window`` (see :func:`read_image`).

    ``"auto"`` is the VOI window of the DICOM dataset ``ds`` where it has one.
    """
    if isinstance(window, tuple | list):
        return _linear_exact(data, *window)
    has_voi = ds is not None and "WindowCenter" in ds and "WindowWidth" in ds
    if window == "auto" and has_voi:
        return _voi_window(data, ds)
    return _minmax(data)


def _voi_window(data, ds):
    """The first VOI window of ``ds`` (Window Center/Width, VOI LUT Function)."""
    try:
        from pydicom.pixels import apply_windowing
    except ImportError:  # pydicom < 3
        from pydicom.pixel_data_handlers.util import apply_windowing
    windowed = apply_windowing(data, ds)
    # pydicom's output range is that of the stored values; its ends are
    # where -inf and +inf are mapped to, for every VOI LUT function.
    low, high = apply_windowing(np.array([-np.inf, np.inf]), ds)
    return (windowed - low) / (high - low)


def _linear_exact(data, center, width):
    if width <= 0:
        raise ValueError(f"window width must be positive, got {width}")
    return np.clip((data - center) / width + 0.5, 0.0, 1.0)


def _minmax(data):
    low, high = np.min(data), np.max(data)
    if high <= low:
        return np.zeros_like(data, dtype=np.float64)
    return (data - low) / (high - low)


def _read_nifti(path, max_pixels, needed_by):
    nibabel = import_optional("nibabel", extra="medical", needed_by=needed_by)
    img = nibabel.load(path)
    shape = tuple(int(n) for n in img.shape)
    if len(shape) > 3:
        # 4-D (time or channels last): the first volume.
        n_voxels = int(np.prod(shape[:3]))
        _check_pixels(n_voxels, max_pixels, shape[:3])
        data = np.asarray(img.dataobj[..., 0], dtype=np.float64)
        while data.ndim > 3:
            data = data[..., 0]
    else:
        _check_pixels(int(np.prod(shape)), max_pixels, shape)
        data = img.get_fdata(dtype=np.float64)
    check_finite(data, "the volume", "voxel values")
    return data


def _reduce_volume(data, volume, axis, window, scale):
    """A volume as one 2-D image (or a (D, H, W) volume for ``"volume"``)."""
    if data.ndim == 2:
        if volume == "volume":
            raise ValueError(f"volume='volume' needs a 3-D input, got {data.shape}")
    elif data.ndim != 3:
        raise ValueError(f"expected a 2-D image or 3-D volume, got {data.shape}")
    if scale == "unit":
        # Scaled as a whole, before reduction: slices and projections of one
        # volume share one intensity scale.
        data = _window(data, window)
    if data.ndim == 2:
        return data
    if axis >= data.ndim:
        raise ValueError(f"axis={axis} is out of range for a volume of {data.shape}")
    if volume == "middle":
        return data.take(data.shape[axis] // 2, axis=axis)
    if volume == "mip":
        return data.max(axis=axis)
    if volume == "mean":
        return data.mean(axis=axis)
    return np.moveaxis(data, axis, 0)


def resize(image, shape, needed_by):
    """Anti-aliased (bi)linear resize to ``shape``; channels, if any, kept."""
    target = tuple(shape) + image.shape[len(shape) :]
    if image.shape == target:
        return image
    transform = import_optional("skimage.transform", extra="image", needed_by=needed_by)
    return transform.resize(
        image, target, order=1, anti_aliasing=True, preserve_range=True
    )
