"""FusionStudy's extraction cache: rows keyed by input content and extractor."""

import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skfusion.cli import USAGE_ERROR, main
from skfusion.extractors import ImageFeatures, TextStatistics
from skfusion.study import FusionStudy
from skfusion.study._cache import (
    CACHE_FOLDER,
    ContentCachedExtractor,
    extraction_cache_location,
)

Image = pytest.importorskip("PIL.Image")

N_ROWS = 24


class _CountingImageFeatures(ImageFeatures):
    """ImageFeatures that counts the images it describes."""

    calls = 0

    def _featurize(self, image):
        type(self).calls += 1
        return super()._featurize(image)


def _extractor(**params):
    params = {"size": (16, 16), "features": ("intensity", "lbp"), **params}
    return _CountingImageFeatures(**params)


def _write_image(path, seed):
    pixels = np.random.default_rng(seed).integers(0, 256, (16, 16), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


@pytest.fixture
def images(tmp_path):
    """A table of tiny PNG paths (two missing), a target and the cache folder."""
    folder = tmp_path / "images"
    folder.mkdir()
    paths = []
    for row in range(N_ROWS):
        _write_image(folder / f"{row}.png", row)
        paths.append(str(folder / f"{row}.png"))
    paths[3] = None
    paths[10] = np.nan
    table = pd.DataFrame({"xray": paths}, index=[f"s{i}" for i in range(N_ROWS)])
    y = np.array([0, 1] * (N_ROWS // 2))
    _CountingImageFeatures.calls = 0
    return table, y, tmp_path / "cache"


def _study(memory, extractor=None, refit=False):
    return FusionStudy(
        [("xray", _extractor() if extractor is None else extractor, "xray")],
        strategies={"xray": make_pipeline(SimpleImputer(), LogisticRegression())},
        cv=3,
        contributions=None,
        random_state=0,
        memory=memory,
        refit=refit,
    )


def _scores(study):
    return study.fold_scores_.drop(columns="fit_time")


def _shards(cache):
    return sorted((cache / CACHE_FOLDER).glob("*/rows-*.npz"))


def _cached_rows(extractor, column, cache):
    return ContentCachedExtractor(extractor, cache / CACHE_FOLDER).fit_transform(column)


# -- the study ----------------------------------------------------------------------


def test_a_second_study_extracts_nothing_and_scores_alike(images):
    table, y, cache = images
    plain = _study(None).fit(table, y)
    n_present = N_ROWS - 2
    assert _CountingImageFeatures.calls == n_present

    first = _study(str(cache)).fit(table, y)
    assert _CountingImageFeatures.calls == 2 * n_present
    second = clone(first).fit(table, y)
    assert _CountingImageFeatures.calls == 2 * n_present

    pd.testing.assert_frame_equal(_scores(first), _scores(plain))
    pd.testing.assert_frame_equal(_scores(second), _scores(plain))
    assert len(_shards(cache)) == 1
    assert "extraction" in second.timings_


def test_a_joblib_memory_with_a_location_caches_too(images):
    table, y, cache = images
    _study(joblib.Memory(cache, verbose=0)).fit(table, y)
    _study(joblib.Memory(cache, verbose=0)).fit(table, y)
    assert _CountingImageFeatures.calls == N_ROWS - 2
    assert extraction_cache_location(joblib.Memory(None)) is None
    assert extraction_cache_location(None) is None


def test_another_target_a_subset_and_a_reordering_hit(images):
    table, y, cache = images
    _study(str(cache)).fit(table, y)
    calls = _CountingImageFeatures.calls

    reordered = table.iloc[::-1]
    _study(str(cache)).fit(reordered, 1 - y[::-1])
    subset = table.iloc[2:20]
    _study(str(cache)).fit(subset, y[2:20])
    assert _CountingImageFeatures.calls == calls


def test_refit_reads_the_cache_and_keeps_plain_extractors(images):
    table, y, cache = images
    study = _study(str(cache), refit=True).fit(table, y)
    assert _CountingImageFeatures.calls == N_ROWS - 2
    extract = study.best_estimator_.named_steps["extract"]
    step = extract.named_transformers_["xray"]
    assert type(step) is _CountingImageFeatures

    plain = _study(None, refit=True).fit(table, y)
    assert_array_equal(
        study.best_estimator_.predict_proba(table),
        plain.best_estimator_.predict_proba(table),
    )


class _LearningImageFeatures(_CountingImageFeatures):
    learns_from_data = True


def test_an_extractor_that_learns_from_data_is_not_content_cached(images):
    table, y, cache = images
    _study(
        str(cache), extractor=_LearningImageFeatures(size=(16, 16), features=("lbp",))
    ).fit(table, y)
    assert not (cache / CACHE_FOLDER).exists()
    assert (cache / "joblib").is_dir()


# -- rows ----------------------------------------------------------------------------


def test_rows_equal_the_extractor_own_miss_and_hit(images):
    table, _, cache = images
    expected = _extractor().fit_transform(table["xray"])
    missed = _cached_rows(_extractor(), table["xray"], cache)
    hit = _cached_rows(_extractor(), table["xray"], cache)
    assert_array_equal(missed, expected)
    assert_array_equal(hit, expected)
    # Missing inputs stay NaN, and are never stored.
    assert np.isnan(hit[[3, 10]]).all()
    with np.load(_shards(cache)[0]) as shard:
        assert len(shard["keys"]) == N_ROWS - 2


def test_only_rows_not_yet_cached_are_extracted_in_table_order(images):
    table, _, cache = images
    column = table["xray"]
    _cached_rows(_extractor(), column.iloc[:8], cache)
    _CountingImageFeatures.calls = 0
    rows = _cached_rows(_extractor(), column, cache)
    # Rows 8..23, less the missing row 10.
    assert _CountingImageFeatures.calls == N_ROWS - 8 - 1
    assert_array_equal(rows, _extractor().fit_transform(column))
    assert len(_shards(cache)) == 2


def test_a_file_whose_content_changed_is_extracted_again(images):
    table, _, cache = images
    column = table["xray"]
    before = _cached_rows(_extractor(), column, cache)
    _write_image(Path(column.iloc[5]), seed=1000)
    _CountingImageFeatures.calls = 0
    after = _cached_rows(_extractor(), column, cache)
    assert _CountingImageFeatures.calls == 1
    assert not np.array_equal(after[5], before[5])
    assert_array_equal(after, _extractor().fit_transform(column))


def test_a_copy_of_a_file_elsewhere_hits(images, tmp_path):
    table, _, cache = images
    _cached_rows(_extractor(), table["xray"], cache)
    copy = tmp_path / "renamed.png"
    copy.write_bytes(Path(table["xray"].iloc[0]).read_bytes())
    _CountingImageFeatures.calls = 0
    rows = _cached_rows(_extractor(), pd.Series([str(copy)]), cache)
    assert _CountingImageFeatures.calls == 0
    assert_array_equal(rows[0], _extractor().fit_transform(table["xray"])[0])


def test_a_corrupt_shard_is_ignored_with_a_warning_and_recomputed(images):
    table, _, cache = images
    expected = _cached_rows(_extractor(), table["xray"], cache)
    (shard,) = _shards(cache)
    shard.write_bytes(b"not a shard")
    _CountingImageFeatures.calls = 0
    with pytest.warns(UserWarning, match="unreadable shard"):
        rows = _cached_rows(_extractor(), table["xray"], cache)
    assert _CountingImageFeatures.calls == N_ROWS - 2
    assert_array_equal(rows, expected)
    # The corrupt file is left where it is: the cache deletes nothing.
    assert shard.read_bytes() == b"not a shard"
    assert len(_shards(cache)) == 2


def test_a_shard_of_the_wrong_shape_is_ignored(images):
    table, _, cache = images
    _cached_rows(_extractor(), table["xray"], cache)
    (shard,) = _shards(cache)
    with np.load(shard) as data:
        keys, names = data["keys"], data["names"]
    with open(shard, "wb") as handle:
        np.savez(handle, keys=keys, rows=np.zeros((len(keys), 2)), names=names)
    with pytest.warns(UserWarning, match="unreadable shard"):
        rows = _cached_rows(_extractor(), table["xray"], cache)
    assert_array_equal(rows, _extractor().fit_transform(table["xray"]))


def test_different_parameters_do_not_share_rows(images):
    table, _, cache = images
    _cached_rows(_extractor(), table["xray"], cache)
    _CountingImageFeatures.calls = 0
    _cached_rows(_extractor(lbp_points=4), table["xray"], cache)
    assert _CountingImageFeatures.calls == N_ROWS - 2
    assert len(list((cache / CACHE_FOLDER).iterdir())) == 2


def test_speed_parameters_share_rows(images):
    table, _, cache = images
    _cached_rows(_extractor(), table["xray"], cache)
    _CountingImageFeatures.calls = 0
    rows = _cached_rows(
        _extractor(batch_size=3, verbose=False, n_jobs=1, on_error="nan"),
        table["xray"],
        cache,
    )
    assert _CountingImageFeatures.calls == 0
    assert_array_equal(rows, _extractor().fit_transform(table["xray"]))


def test_unreadable_files_are_never_stored(images):
    table, _, cache = images
    column = table["xray"].copy()
    broken = Path(column.iloc[0]).with_name("broken.png")
    broken.write_bytes(b"not a png")
    column.iloc[0] = str(broken)
    with pytest.warns(UserWarning, match="could not be read"):
        rows = _cached_rows(_extractor(on_error="nan"), column, cache)
    assert np.isnan(rows[0]).all()
    _CountingImageFeatures.calls = 0
    with pytest.warns(UserWarning, match="could not be read"):
        _cached_rows(_extractor(on_error="nan"), column, cache)
    assert _CountingImageFeatures.calls == 0


def test_a_broken_file_names_its_table_row(images):
    table, _, cache = images
    column = table["xray"].copy()
    _cached_rows(_extractor(), column.iloc[:5], cache)
    Path(column.iloc[7]).write_bytes(b"not a png")
    with pytest.raises(ValueError, match="cannot read row 's7' "):
        _cached_rows(_extractor(), column, cache)


def test_texts_are_keyed_by_value(tmp_path):
    texts = pd.Series(["a cough", None, "fever and a cough", "a cough"])
    cache = tmp_path / "cache"
    expected = TextStatistics().fit_transform(texts)
    assert_array_equal(_cached_rows(TextStatistics(), texts, cache), expected)
    assert_array_equal(
        _cached_rows(TextStatistics(), texts[::-1], cache), expected[::-1]
    )
    with np.load(_shards(cache)[0]) as shard:
        assert len(shard["keys"]) == 2


def test_an_unwritable_cache_warns_and_the_study_goes_on(images):
    table, y, cache = images
    cache.mkdir()
    (cache / CACHE_FOLDER).write_text("a file where the cache folder goes")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study = _study(str(cache)).fit(table, y)
    assert any("cannot write" in str(w.message) for w in caught)
    assert len(study.fold_scores_) > 0


# -- skfusion study --cache ----------------------------------------------------------


@pytest.fixture
def study_csv(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    label = np.array(["healthy", "sick"] * 12)
    paths = []
    for row in range(len(label)):
        level = 180 if label[row] == "sick" else 60
        pixels = rng.integers(level - 40, level + 40, (16, 16), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{row}.png")
        paths.append(f"images/{row}.png")
    path = tmp_path / "table.csv"
    pd.DataFrame({"xray": paths, "label": label}).to_csv(path, index=False)
    return path


def _cli_study(table, *options):
    return main(
        [
            "study",
            str(table),
            "--target",
            "label",
            "--modality",
            "xray=image:xray",
            "--image-encoder",
            "classical",
            "--root",
            str(table.parent),
            "--strategies",
            "unimodal:xray",
            "--cv",
            "2",
            "--no-contributions",
            "--out",
            str(table.parent / "report"),
            *options,
        ]
    )


def test_cli_cache_stores_the_image_rows(study_csv, monkeypatch, capsys):
    calls = []
    featurize = ImageFeatures._featurize
    monkeypatch.setattr(
        ImageFeatures,
        "_featurize",
        lambda self, image: calls.append(1) or featurize(self, image),
    )
    cache = study_csv.parent / "cache"
    # One process, so that the patched method counts every extraction.
    options = ("--cache", str(cache), "--n-jobs", "1")
    assert _cli_study(study_csv, *options) == 0
    first = len(calls)
    assert first > 0
    assert _shards(cache)
    assert _cli_study(study_csv, *options) == 0
    assert len(calls) == first


def test_cli_cache_refuses_a_file(study_csv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _cli_study(study_csv, "--cache", str(study_csv))
    assert exit_info.value.code == USAGE_ERROR
    error = capsys.readouterr().err
    assert f"--cache {str(study_csv)!r} is the table" in error

    other = study_csv.parent / "notes.txt"
    other.write_text("notes")
    with pytest.raises(SystemExit) as exit_info:
        _cli_study(study_csv, "--cache", str(other))
    assert exit_info.value.code == USAGE_ERROR
    error = capsys.readouterr().err
    assert str(other) in error and str(study_csv) in error


def test_cli_cache_help_says_how_to_clear_it(capsys):
    with pytest.raises(SystemExit):
        main(["study", "--help"])
    assert "delete the" in " ".join(capsys.readouterr().out.split())
