"""The extractor base class: inputs, missing rows, errors, paths, parallelism."""

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skfusion.compose import make_modality_transformer
from skfusion.extractors import BaseExtractor, TextStatistics
from skfusion.extractors._io import DEFAULT_MAX_FILE_BYTES, PathOutsideRootError
from skfusion.fusion import BlockScaler


class ByteStatistics(BaseExtractor):
    """Reads a file's bytes: its size and mean byte value."""

    def __init__(
        self,
        *,
        batch_size=2,
        n_jobs=None,
        verbose=False,
        on_error="raise",
        root=None,
        max_file_bytes=DEFAULT_MAX_FILE_BYTES,
    ):
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.root = root
        self.max_file_bytes = max_file_bytes

    def _read(self, path):
        data = path.read_bytes()
        if data.startswith(b"CORRUPT"):
            raise OSError("bad header")
        return data

    def _featurize(self, data):
        return np.array([len(data), np.frombuffer(data, np.uint8).mean()])

    def _feature_names(self):
        return ["size", "mean_byte"]


@pytest.fixture
def files(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    paths = []
    for i in range(5):
        path = root / f"f{i}.bin"
        path.write_bytes(bytes([i]) * (i + 1))
        paths.append(path.name)
    return root, paths


def test_relative_paths_resolve_under_root_and_missing_gives_nan(files):
    root, paths = files
    column = [paths[0], None, paths[2], np.nan, "", "  ", paths[4]]
    block = ByteStatistics(root=root).fit_transform(column)
    np.testing.assert_array_equal(block[[0, 2, 6], 0], [1, 3, 5])
    assert np.isnan(block[[1, 3, 4, 5]]).all()


def test_order_count_and_containers_are_preserved(files):
    root, paths = files
    series = pd.Series(paths[::-1], index=list("abcde"))
    extractor = ByteStatistics(root=root).set_output(transform="pandas")
    frame = extractor.fit_transform(series)
    assert list(frame.index) == list("abcde")
    assert frame["size"].tolist() == [5, 4, 3, 2, 1]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_parallel_batches_give_the_same_block(files, n_jobs):
    root, paths = files
    column = paths + [None] + paths
    expected = ByteStatistics(root=root).fit_transform(column)
    got = ByteStatistics(root=root, n_jobs=n_jobs, batch_size=1).fit_transform(column)
    np.testing.assert_array_equal(got, expected)


def test_verbose_shows_a_progress_bar(files, capsys):
    root, paths = files
    ByteStatistics(root=root, verbose=True).fit_transform(paths)
    assert "ByteStatistics" in capsys.readouterr().err


def test_unreadable_file_names_extractor_row_and_path(files):
    root, paths = files
    (root / "bad.bin").write_bytes(b"CORRUPT data")
    column = [paths[0], "bad.bin", paths[1]]
    with pytest.raises(
        ValueError, match=r"ByteStatistics cannot read row 1 .*bad\.bin"
    ):
        ByteStatistics(root=root).fit_transform(column)
    with pytest.raises(ValueError, match=r"row 2 .*nothere\.bin.*no such file"):
        ByteStatistics(root=root).fit_transform([paths[0], paths[1], "nothere.bin"])


def test_on_error_nan_warns_once_with_the_count(files):
    root, paths = files
    (root / "bad.bin").write_bytes(b"CORRUPT data")
    column = ["bad.bin", paths[0], "nothere.bin", paths[1]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        block = ByteStatistics(root=root, on_error="nan").fit_transform(column)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(messages) == 1
    assert "2 input(s) could not be read" in messages[0]
    assert "row 0" in messages[0]
    assert np.isnan(block[[0, 2]]).all() and not np.isnan(block[[1, 3]]).any()


def test_paths_escaping_root_are_refused_even_with_on_error_nan(files, tmp_path):
    root, paths = files
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"secret")
    (root / "link.bin").symlink_to(outside)
    for escaping in ["../outside.bin", str(outside), "link.bin"]:
        with pytest.raises(ValueError, match="outside root"):
            ByteStatistics(root=root, on_error="nan").fit_transform(
                [paths[0], escaping]
            )
    # Inside root, an absolute path and a subfolder are fine.
    (root / "sub").mkdir()
    (root / "sub" / "x.bin").write_bytes(b"ab")
    block = ByteStatistics(root=root).fit_transform([str(root / paths[1]), "sub/x.bin"])
    np.testing.assert_array_equal(block[:, 0], [2, 2])


class FirstSize(ByteStatistics):
    """Learns at fit the size of the first readable file."""

    def _fit(self, values):
        self.first_size_ = len(self._read_first(values, lambda path: path.read_bytes()))


def test_row_errors_carry_the_row_position(files, tmp_path):
    # Callers (the study) map the position back to their own table rows.
    root, paths = files
    (root / "bad.bin").write_bytes(b"CORRUPT data")
    with pytest.raises(ValueError) as info:
        ByteStatistics(root=root).fit_transform([paths[0], paths[1], "bad.bin"])
    assert info.value.row == 2
    (tmp_path / "outside.bin").write_bytes(b"secret")
    with pytest.raises(PathOutsideRootError) as info:
        ByteStatistics(root=root).fit_transform(["../outside.bin", paths[0]])
    assert info.value.row == 0


def test_paths_escaping_root_name_extractor_and_row(files, tmp_path):
    root, paths = files
    (tmp_path / "outside.bin").write_bytes(b"secret")
    column = [paths[0], "../outside.bin"]
    with pytest.raises(PathOutsideRootError) as info:
        ByteStatistics(root=root).fit_transform(column)
    message = str(info.value)
    assert message.startswith("ByteStatistics cannot read row 1 ('../outside.bin'): ")
    assert "outside root" in message
    # Also when fit reads a first item to learn from.
    with pytest.raises(PathOutsideRootError, match=r"^FirstSize cannot read row 0 "):
        FirstSize(root=root).fit(column[::-1])


def test_directory_given_as_file_says_it_is_a_directory(files):
    root, paths = files
    (root / "sub").mkdir()
    with pytest.raises(
        ValueError,
        match=r"^ByteStatistics cannot read row 1 \('sub'\): '.*sub' is a "
        r"directory, not a file$",
    ):
        ByteStatistics(root=root).fit_transform([paths[0], "sub"])
    with pytest.warns(UserWarning, match="is a directory"):
        block = ByteStatistics(root=root, on_error="nan").fit_transform(["sub"])
    assert np.isnan(block).all()


def test_oversized_file_is_refused_before_reading(files):
    root, paths = files
    with pytest.raises(ValueError, match="over the limit max_file_bytes=3"):
        ByteStatistics(root=root, max_file_bytes=3).fit_transform([paths[0], paths[4]])


@pytest.mark.parametrize(
    "bad_input, message",
    [
        (np.zeros((3, 2), dtype=object), r"1-D column .* shape \(3, 2\)"),
        (pd.DataFrame({"a": ["x"], "b": ["y"]}), "one column"),
        ({"a": 1}, "Series, a 1-D array or a list"),
    ],
)
def test_input_shape_errors(bad_input, message):
    with pytest.raises(ValueError, match=message):
        TextStatistics().fit(bad_input)


def test_array_cells_are_not_stacked_into_a_matrix():
    column = [np.ones(3), np.zeros(3)]
    extractor = ByteStatistics()
    assert extractor._validate_column(column).shape == (2,)


def test_invalid_common_parameters_are_refused():
    with pytest.raises(ValueError, match="on_error"):
        TextStatistics(on_error="ignore").fit(["a"])
    with pytest.raises(ValueError, match="batch_size"):
        TextStatistics(batch_size=0).fit(["a"])


class CountingTextStatistics(TextStatistics):
    """TextStatistics that counts how many texts it has read."""

    reads = 0

    def _read(self, item):
        type(self).reads += 1
        return super()._read(item)


def test_pipeline_memory_extracts_once_per_fold_not_per_candidate(tmp_path):
    rng = np.random.default_rng(0)
    n = 40
    y = np.arange(n) % 2
    table = pd.DataFrame(
        {
            "note": [("fever " * (3 + 4 * label)) + "cough" for label in y],
            "age": rng.normal(50, 10, n),
        }
    )

    def search(memory):
        pipeline = Pipeline(
            [
                (
                    "modalities",
                    make_modality_transformer(
                        ("notes", CountingTextStatistics(), "note"),
                        ("clinical", "passthrough", ["age"]),
                    ),
                ),
                ("scale", BlockScaler()),
                ("model", LogisticRegression()),
            ],
            memory=memory,
        )
        CountingTextStatistics.reads = 0
        grid = GridSearchCV(pipeline, {"model__C": [0.01, 0.1, 1.0, 10.0]}, cv=2)
        grid.fit(table, y)
        return CountingTextStatistics.reads

    without_cache = search(None)
    with_cache = search(str(tmp_path / "cache"))
    n_candidates, n_folds, fold = 4, 2, n // 2
    scoring_reads = n_candidates * n_folds * fold  # transform of each test fold
    refit_reads = n
    # Without a cache every candidate extracts its training fold again.
    assert without_cache == n_candidates * n_folds * fold + scoring_reads + refit_reads
    # With the cache each training fold is extracted once, whatever the grid.
    assert with_cache == n_folds * fold + scoring_reads + refit_reads
    assert os.listdir(tmp_path / "cache")


def test_missing_optional_dependency_names_the_extra(monkeypatch):
    import sys

    from skfusion.extractors._io import import_optional

    # A None entry in sys.modules makes the import fail as if not installed.
    monkeypatch.setitem(sys.modules, "librosa", None)
    with pytest.raises(ImportError, match=r"pip install 'skfusion\[audio\]'"):
        import_optional("librosa", extra="audio", needed_by="AudioFeatures")
