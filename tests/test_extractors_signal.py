import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skfusion.extractors.signal import SignalFeatures

FS = 250.0
BANDS = ("delta", "theta", "alpha", "beta", "gamma")


def _sine(freq, seconds=8.0, fs=FS, amplitude=1.0, offset=0.0):
    t = np.arange(int(seconds * fs)) / fs
    return offset + amplitude * np.sin(2 * np.pi * freq * t)


def _column(*cells):
    column = np.empty(len(cells), dtype=object)
    column[:] = list(cells)
    return column


def _relpowers(extractor, block, channel="ch0"):
    names = list(extractor.get_feature_names_out())
    return np.array([block[names.index(f"{channel}_{b}_relpower")] for b in BANDS])


def test_alpha_sine_has_highest_alpha_relative_power():
    features = SignalFeatures(fs=FS)
    block = features.fit_transform(_column(_sine(10)))[0]
    assert BANDS[np.argmax(_relpowers(features, block))] == "alpha"
    assert _relpowers(features, block)[2] > 0.95


@pytest.mark.parametrize("freq", [2.0, 6.0, 20.0, 38.0])
def test_each_band_catches_its_rhythm(freq):
    features = SignalFeatures(fs=FS, time_stats=())
    block = features.fit_transform(_column(_sine(freq)))[0]
    expected = next(b for b, (lo, hi) in features.bands_.items() if lo <= freq < hi)
    assert BANDS[np.argmax(_relpowers(features, block))] == expected


def test_relative_powers_sum_to_one_when_bands_tile():
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(3000)
    features = SignalFeatures(fs=FS, time_stats=())
    block = features.fit_transform(_column(noise, _sine(10) + 0.3 * noise[:2000]))
    n_bands = len(BANDS)
    np.testing.assert_allclose(block[:, n_bands:].sum(axis=1), 1.0, rtol=1e-10)
    # absolute powers of a unit sine integrate to its variance, 1/2
    alpha = SignalFeatures(fs=FS, relative=False, time_stats=(), bands={"all": (5, 15)})
    assert alpha.fit_transform(_column(_sine(10)))[0, 0] == pytest.approx(0.5, rel=0.02)


def test_feature_names_and_order():
    features = SignalFeatures(fs=FS).fit(_column(_sine(10)))
    names = features.get_feature_names_out().tolist()
    assert len(names) == features.n_features_out_ == 5 + 5 + 9
    assert names[:2] == ["ch0_delta_power", "ch0_theta_power"]
    assert names[5] == "ch0_delta_relpower"
    assert names[10:] == [
        "ch0_mean",
        "ch0_std",
        "ch0_min",
        "ch0_max",
        "ch0_rms",
        "ch0_line_length",
        "ch0_zero_crossing_rate",
        "ch0_skew",
        "ch0_kurtosis",
    ]
    no_rel = SignalFeatures(relative=False, time_stats=("rms",)).fit(_column(_sine(10)))
    assert no_rel.n_features_out_ == 6


def test_time_statistics():
    x = _sine(5, seconds=4, amplitude=2.0, offset=1.0)
    features = SignalFeatures(fs=FS, bands={})
    stats = dict(
        zip(
            features.fit(_column(x)).get_feature_names_out(),
            features.transform(_column(x))[0],
            strict=True,
        )
    )
    assert stats["ch0_mean"] == pytest.approx(1.0, abs=1e-9)
    assert stats["ch0_std"] == pytest.approx(np.sqrt(2), rel=1e-6)
    assert stats["ch0_min"] == x.min()
    assert stats["ch0_max"] == x.max()
    assert stats["ch0_rms"] == pytest.approx(np.sqrt(1 + 2), rel=1e-6)
    assert stats["ch0_line_length"] == pytest.approx(np.mean(np.abs(np.diff(x))))
    # 5 Hz: 10 crossings of the mean per second, whatever the offset
    assert stats["ch0_zero_crossing_rate"] == pytest.approx(10 / FS, rel=0.05)
    scipy_stats = pytest.importorskip("scipy.stats")
    assert stats["ch0_skew"] == pytest.approx(scipy_stats.skew(x), abs=1e-9)
    assert stats["ch0_kurtosis"] == pytest.approx(scipy_stats.kurtosis(x), abs=1e-9)


def test_constant_channel_gives_nan_where_undefined():
    features = SignalFeatures(fs=FS)
    with np.errstate(all="raise"):
        block = features.fit_transform(_column(np.zeros(1000)))[0]
    names = features.get_feature_names_out().tolist()
    undefined = [n for n in names if n.endswith(("relpower", "skew", "kurtosis"))]
    for name, value in zip(names, block, strict=True):
        assert np.isnan(value) == (name in undefined), name


def test_multichannel_width_and_channel_names():
    two = np.vstack([_sine(10), _sine(20)])
    single = SignalFeatures(fs=FS).fit(_column(_sine(10)))
    double = SignalFeatures(fs=FS).fit(_column(two))
    assert double.n_channels_ == 2
    assert double.n_features_out_ == 2 * single.n_features_out_
    block = double.transform(_column(two))[0]
    width = single.n_features_out_
    np.testing.assert_allclose(block[:width], single.transform(_column(_sine(10)))[0])
    assert BANDS[np.argmax(_relpowers(double, block, "ch1"))] == "beta"
    named = SignalFeatures(fs=FS, channel_names=["Fz", "Cz"]).fit(_column(None))
    names = named.get_feature_names_out()
    assert names[0] == "Fz_delta_power"
    assert names[width] == "Cz_delta_power"
    assert "Cz_rms" in names
    np.testing.assert_array_equal(named.transform(_column(two)), [block])


def test_wrong_channel_count_is_a_row_error():
    features = SignalFeatures(fs=FS).fit(_column(np.vstack([_sine(10)] * 2)))
    bad = np.vstack([_sine(10)] * 3)
    with pytest.raises(
        ValueError, match=r"SignalFeatures cannot read row 1 .*3 channel\(s\)"
    ):
        features.transform(_column(np.vstack([_sine(10)] * 2), bad))
    lenient = clone(features).set_params(on_error="nan").fit(_column(bad[:2]))
    with pytest.warns(UserWarning, match=r"1 input\(s\)"):
        block = lenient.transform(_column(bad[:2], bad, None))
    assert np.isfinite(block[0]).all()
    assert np.isnan(block[1:]).all()


def test_file_inputs_equal_in_memory(tmp_path):
    recording = np.vstack([_sine(10, seconds=4), _sine(3, seconds=4) + 0.5])
    np.save(tmp_path / "rec.npy", recording)
    np.savetxt(tmp_path / "rec.csv", recording.T, delimiter=",")
    np.savetxt(
        tmp_path / "header.csv",
        recording.T,
        delimiter=",",
        header="Fz,Cz",
        comments="",
    )
    np.savetxt(tmp_path / "one.csv", recording[0], delimiter=",")
    features = SignalFeatures(fs=FS, root=tmp_path)
    expected = features.fit(_column(recording)).transform(_column(recording))[0]
    block = features.transform(pd.Series(["rec.npy", "rec.csv", "header.csv"]))
    for row in block:
        np.testing.assert_allclose(row, expected, rtol=1e-10, atol=1e-12)
    single = SignalFeatures(fs=FS).fit(_column(recording[0]))
    np.testing.assert_allclose(
        single.transform([str(tmp_path / "one.csv")]),
        single.transform(_column(recording[0])),
        rtol=1e-10,
        atol=1e-12,
    )
    with pytest.raises(ValueError, match="outside root"):
        features.transform(["../rec.npy"])


def test_unreadable_inputs_name_the_row(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "bad.csv").write_text("a,b\n1,x\n")
    features = SignalFeatures(fs=FS).fit(_column(_sine(10)))
    for item, message in [
        (str(tmp_path / "notes.txt"), "unsupported file type"),
        (str(tmp_path / "bad.csv"), "bad.csv"),
        (np.array([1.0, np.nan, 2.0]), "NaN"),
        (np.ones((2, 2, 2)), "1-D or 2-D"),
        ([1.0, 2.0], "expected a 1-D or 2-D array"),
    ]:
        with pytest.raises(ValueError, match=r"SignalFeatures cannot read row 1"):
            features.transform(_column(_sine(10), item))
        with pytest.raises(ValueError, match=message):
            features.transform(_column(item))


def test_missing_rows_and_row_order():
    a, b = _sine(10), _sine(20)
    features = SignalFeatures(fs=FS).fit(_column(None, a))
    block = features.transform(_column(a, None, b, np.nan, "", np.array([]), a))
    assert np.isnan(block[[1, 3, 4, 5]]).all()
    np.testing.assert_array_equal(block[0], block[6])
    assert not np.allclose(block[0], block[2])


@pytest.mark.parametrize(
    "bands, message",
    [
        ({"alpha": (13, 8)}, "low < high"),
        ({"fast": (30, 200)}, "fs / 2 = 125"),
        ({"neg": (-1, 4)}, "0 <= low"),
        ({"odd": (1, 2, 3)}, r"\(low, high\) pair"),
        ({"word": "alpha"}, r"\(low, high\) pair"),
    ],
)
def test_invalid_bands(bands, message):
    with pytest.raises(ValueError, match=message):
        SignalFeatures(fs=FS, bands=bands).fit(_column(_sine(10)))


def test_invalid_parameters():
    with pytest.raises(ValueError, match="time_stats"):
        SignalFeatures(time_stats=("mean", "entropy")).fit(_column(_sine(10)))
    with pytest.raises(ValueError, match="nothing to compute"):
        SignalFeatures(bands={}, time_stats=()).fit(_column(_sine(10)))
    with pytest.raises(ValueError, match="channel_names"):
        SignalFeatures(channel_names=["a", "a"]).fit(_column(_sine(10)))
    with pytest.raises(ValueError, match="no training|none could be read"):
        SignalFeatures().fit(_column(None, np.nan))


def test_short_recordings_and_nperseg():
    features = SignalFeatures(fs=FS).fit(_column(_sine(10)))
    block = features.transform(_column(_sine(10, seconds=0.5), np.array([0.0, 1.0])))
    assert block.shape == (2, features.n_features_out_)
    assert np.isfinite(block[0]).all()
    assert features._segment_length(10_000) == 1000  # 2 cycles of 0.5 Hz at 250 Hz
    fixed = SignalFeatures(fs=FS, nperseg=256).fit(_column(_sine(10)))
    assert np.isfinite(fixed.transform(_column(_sine(10)))).all()


def test_n_jobs_clone_and_pickle():
    rng = np.random.default_rng(1)
    column = _column(*[rng.standard_normal((2, 1000)) for _ in range(6)], None)
    serial = SignalFeatures(fs=FS, batch_size=2).fit(column)
    parallel = clone(serial).set_params(n_jobs=2).fit(column)
    np.testing.assert_array_equal(serial.transform(column), parallel.transform(column))
    restored = pickle.loads(pickle.dumps(serial))
    np.testing.assert_array_equal(restored.transform(column), serial.transform(column))


@pytest.mark.parametrize(
    "extractor",
    [SignalFeatures(fs=FS), SignalFeatures(fs=FS, relative=False, nperseg=128)],
    ids=repr,
)
def test_extractor_contract(extractor, tmp_path):
    from skfusion.utils.estimator_checks import check_extractor

    np.save(tmp_path / "rec.npy", np.vstack([_sine(10), _sine(20)]))
    column = [
        np.vstack([_sine(10), _sine(3)]),
        None,
        str(tmp_path / "rec.npy"),
        np.nan,
        np.vstack([_sine(30, seconds=2), _sine(5, seconds=2)]),
    ]
    check_extractor(extractor, column)
