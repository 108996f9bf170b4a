"""SignalFeatures on recording files: EDF/EDF+/BDF (pyedflib) and WFDB (wfdb).

The files are written by the same libraries (pyedflib's writer, wfdb.wrsamp)
or shipped by pyedflib; every hostile case is an error naming the extractor,
the row and the path.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import signal as sp_signal
from sklearn.base import clone

from skfusion.extractors import PathOutsideRootError, SignalFeatures

pyedflib = pytest.importorskip("pyedflib")
wfdb = pytest.importorskip("wfdb")
from pyedflib import highlevel  # noqa: E402

STATS = ("mean", "std", "rms", "line_length")


def _sine(freq, rate, seconds=8.0, amplitude=50.0, phase=0.0):
    t = np.arange(int(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t + phase)


def _write_edf(path, signals, rates, labels, bdf=False):
    headers = highlevel.make_signal_headers(list(labels))
    for header, rate in zip(headers, rates, strict=True):
        header["sample_frequency"] = rate
    file_type = pyedflib.FILETYPE_BDFPLUS if bdf else pyedflib.FILETYPE_EDFPLUS
    highlevel.write_edf(str(path), list(signals), headers, file_type=file_type)
    return path


def _write_wfdb(folder, name, signals, rate, labels):
    wfdb.wrsamp(
        name,
        fs=rate,
        units=["mV"] * len(labels),
        sig_name=list(labels),
        p_signal=np.column_stack(signals),
        fmt=["16"] * len(labels),
        write_dir=str(folder),
    )
    return folder / name


def _edf_values(path, channels=slice(None)):
    """The physical values of some channels as pyedflib itself reads them."""
    signals, _, _ = highlevel.read_edf(str(path))
    return np.vstack(signals[channels])


@pytest.fixture
def eeg(tmp_path):
    """An EDF+ file of two 256 Hz EEG channels and one 128 Hz EMG channel."""
    rng = np.random.default_rng(0)
    signals = [_sine(10, 256), _sine(20, 256, amplitude=30), rng.normal(0, 20, 1024)]
    return _write_edf(
        tmp_path / "eeg.edf", signals, [256, 256, 128], ["EEG Fz", "EEG Cz", "EMG"]
    )


@pytest.fixture
def ecg(tmp_path):
    """A WFDB record of two 360 Hz channels."""
    signals = [_sine(5, 360, amplitude=1.0), _sine(12, 360, amplitude=0.5)]
    return _write_wfdb(tmp_path, "100", signals, 360, ["MLII", "V5"])


# -- reading ------------------------------------------------------------------------


@pytest.mark.parametrize("bdf", [False, True], ids=["edf", "bdf"])
def test_edf_and_bdf_equal_the_arrays_pyedflib_reads(tmp_path, bdf):
    signals = [_sine(10, 256), _sine(6, 256, amplitude=20)]
    path = _write_edf(
        tmp_path / ("rec.bdf" if bdf else "rec.edf"), signals, [256, 256], "AB", bdf
    )
    features = SignalFeatures(fs=256, time_stats=STATS).fit([path])
    assert features.channels_ == ["A", "B"]
    assert features.get_feature_names_out()[0] == "A_delta_power"
    from_file = features.transform([str(path), None])
    in_memory = SignalFeatures(fs=256, time_stats=STATS).fit([signals[0]])
    values = _edf_values(path)
    expected = clone(in_memory).fit([values]).transform([values])
    np.testing.assert_allclose(from_file[0], expected[0], rtol=1e-12)
    assert np.isnan(from_file[1]).all()
    # The stored values are the written ones, to the file's resolution.
    np.testing.assert_allclose(values, np.vstack(signals), atol=0.01)


def test_the_edf_file_pyedflib_ships(tmp_path):
    shipped = Path(pyedflib.__file__).parent / "data" / "test_generator.edf"
    if not shipped.is_file():
        pytest.skip("this pyedflib ships no test_generator.edf")
    with pyedflib.EdfReader(str(shipped)) as reader:
        labels = reader.getSignalLabels()
        rates = reader.getSampleFrequencies()
    label = labels[0]
    features = SignalFeatures(
        sampling_rate=100, channels=[label], bands={"low": (1, 10)}, time_stats=()
    )
    block = features.fit_transform([shipped])
    assert block.shape == (1, 2)
    assert np.isfinite(block).all()
    assert float(rates[0]) > 0


def test_wfdb_record_by_name_or_header_equals_the_arrays_wfdb_reads(ecg):
    features = SignalFeatures(fs=360, time_stats=STATS)
    block = features.fit([str(ecg)]).transform([str(ecg), str(ecg) + ".hea", ecg])
    assert features.channels_ == ["MLII", "V5"]
    values = wfdb.rdrecord(str(ecg)).p_signal.T
    expected = SignalFeatures(fs=360, time_stats=STATS).fit([values])
    for row in block:
        np.testing.assert_allclose(
            row, expected.transform([values])[0], rtol=1e-9, atol=1e-12
        )


def test_channels_by_name_in_the_order_asked(eeg):
    features = SignalFeatures(fs=256, channels=["EEG Cz", "EEG Fz"], time_stats=STATS)
    block = features.fit_transform([eeg])
    names = features.get_feature_names_out().tolist()
    assert names[0] == "EEG Cz_delta_power"
    assert features.n_channels_ == 2
    values = _edf_values(eeg, slice(1, None, -1))
    expected = clone(features).set_params(channels=None).fit([values])
    np.testing.assert_allclose(block, expected.transform([values]), rtol=1e-12)
    renamed = clone(features).set_params(channel_names=["cz", "fz"]).fit([eeg])
    assert renamed.get_feature_names_out()[0] == "cz_delta_power"
    np.testing.assert_array_equal(renamed.transform([eeg]), block)


def test_learned_channels_pick_the_same_channels_in_other_files(tmp_path):
    first = _write_edf(
        tmp_path / "a.edf", [_sine(10, 200), _sine(3, 200)], [200, 200], ["C3", "C4"]
    )
    swapped = _write_edf(
        tmp_path / "b.edf",
        [_sine(3, 200), _sine(20, 200), _sine(10, 200)],
        [200, 200, 200],
        ["C4", "EOG", "C3"],
    )
    features = SignalFeatures(fs=200, time_stats=STATS).fit([first])
    assert features.channels_ == ["C3", "C4"]
    block = features.transform([first, swapped])
    np.testing.assert_allclose(block[0], block[1], rtol=1e-9, atol=1e-12)


def test_resampling_each_channel_from_its_own_rate(eeg):
    features = SignalFeatures(sampling_rate=128, time_stats=STATS).fit([eeg])
    assert features.sampling_rate_ == 128.0
    block = features.transform([eeg])
    values = highlevel.read_edf(str(eeg))[0]
    resampled = [sp_signal.resample_poly(v, 1, 2) for v in values[:2]] + [values[2]]
    expected = SignalFeatures(fs=128, time_stats=STATS).fit([np.vstack(resampled)])
    np.testing.assert_allclose(
        block, expected.transform([np.vstack(resampled)]), rtol=1e-10
    )
    # The 10 Hz rhythm of EEG Fz is still alpha at the new rate.
    names = features.get_feature_names_out().tolist()
    relative = [block[0, names.index(f"EEG Fz_{b}_relpower")] for b in features.bands_]
    assert list(features.bands_)[int(np.argmax(relative))] == "alpha"


def test_arrays_are_resampled_from_fs(eeg):
    rate, target = 512, 250  # 125 / 256: a fraction with a large denominator
    x = _sine(10, rate)
    features = SignalFeatures(fs=rate, sampling_rate=target, time_stats=STATS)
    block = features.fit_transform([x])
    expected = SignalFeatures(fs=target, time_stats=STATS).fit_transform(
        [sp_signal.resample_poly(x, 125, 256)]
    )
    np.testing.assert_allclose(block, expected, rtol=1e-12)
    # A file at 256 Hz and its values as an array at fs=256 agree once resampled.
    at_128 = SignalFeatures(fs=256, sampling_rate=128, channels=["EEG Fz"])
    from_file = at_128.fit_transform([eeg])
    array = _edf_values(eeg, slice(0, 1))
    np.testing.assert_allclose(
        from_file, clone(at_128).set_params(channels=None).fit_transform([array])
    )


def test_rates_other_than_fs_need_sampling_rate(eeg):
    features = SignalFeatures(fs=256, time_stats=STATS)
    with pytest.raises(
        ValueError,
        match=r"SignalFeatures cannot read row 0 \('.*eeg\.edf'\): channel 'EMG' "
        r"of the EDF file is sampled at 128 Hz, not at fs=256 Hz; pass sampling_rate",
    ):
        features.fit([str(eeg)])
    # Without the EMG channel every rate is fs.
    SignalFeatures(fs=256, channels=["EEG Fz"]).fit_transform([eeg])


def test_an_absent_channel_is_named_with_the_channels_the_file_has(eeg, ecg):
    features = SignalFeatures(fs=256, channels=["EEG Fz", "EEG Pz"]).fit([None])
    with pytest.raises(
        ValueError,
        match=r"cannot read row 'b' \('.*eeg\.edf'\): channel 'EEG Pz' is not in "
        r"the EDF file, which has the channels \['EEG Fz', 'EEG Cz', 'EMG'\]",
    ):
        features.transform(pd.Series([None, str(eeg)], index=["a", "b"]))
    by_name = SignalFeatures(fs=360, channels=["MLII", "V1"]).fit([None])
    with pytest.raises(ValueError, match=r"'V1' is not in the WFDB record.*'V5'\]"):
        by_name.transform([str(ecg)])


def test_arrays_beside_named_files_are_taken_by_position(eeg):
    features = SignalFeatures(fs=256, channels=["EEG Fz", "EEG Cz"], time_stats=STATS)
    values = _edf_values(eeg, slice(0, 2))
    block = features.fit_transform(
        pd.Series([str(eeg), values, values[:1]], dtype=object).iloc[:2]
    )
    np.testing.assert_allclose(block[0], block[1], rtol=1e-12)
    with pytest.raises(ValueError, match=r"row 2 .*1 channel\(s\)"):
        features.transform(pd.Series([str(eeg), values, values[:1]], dtype=object))


def test_parameters_are_checked_at_fit():
    with pytest.raises(ValueError, match="channels should be a non-empty list"):
        SignalFeatures(channels=["A", "A"]).fit([None])
    with pytest.raises(ValueError, match="one name each"):
        SignalFeatures(channels=["A", "B"], channel_names=["a"]).fit([None])
    with pytest.raises(ValueError, match="sampling_rate / 2 = 40"):
        SignalFeatures(sampling_rate=80).fit([_sine(10, 250)])
    with pytest.raises(ValueError, match="sampling_rate"):
        SignalFeatures(sampling_rate=-1.0).fit([_sine(10, 250)])


def test_clone_pickle_and_old_pickles(eeg):
    import pickle

    features = SignalFeatures(sampling_rate=128, time_stats=STATS).fit([eeg])
    restored = pickle.loads(pickle.dumps(features))
    np.testing.assert_array_equal(restored.transform([eeg]), features.transform([eeg]))
    # An extractor pickled before these parameters existed still transforms.
    old = SignalFeatures(fs=250.0, time_stats=STATS).fit([_sine(10, 250)])
    state = dict(old.__getstate__())
    for name in ("sampling_rate", "channels", "max_samples"):
        state.pop(name)
    state.pop("sampling_rate_")
    state.pop("channels_")
    revived = SignalFeatures.__new__(SignalFeatures)
    revived.__setstate__(state)
    np.testing.assert_array_equal(
        revived.transform([_sine(10, 250)]), old.transform([_sine(10, 250)])
    )


# -- hostile files ------------------------------------------------------------------


@pytest.fixture
def hostile(tmp_path, eeg, ecg):
    """Broken copies of the EDF file and the WFDB record, by name."""
    raw = eeg.read_bytes()
    files = {}
    files["truncated.edf"] = raw[: len(raw) // 2]
    files["header_only.edf"] = raw[:768]
    files["random.edf"] = b"0       " + np.random.default_rng(0).bytes(4000)
    files["empty.bdf"] = b""
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    broken = tmp_path / "wfdb"
    broken.mkdir()
    signals = [_sine(5, 360, amplitude=1.0)]
    short = _write_wfdb(broken, "short", signals, 360, ["MLII"])
    data = Path(f"{short}.dat")
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 3])
    Path(f"{_write_wfdb(broken, 'nodata', signals, 360, ['MLII'])}.dat").unlink()
    (broken / "garbled.hea").write_text("this is not\x00a header\n")
    return tmp_path


@pytest.mark.parametrize(
    "name, message",
    [
        ("truncated.edf", r"not a readable EDF file \(.*Filesize"),
        ("header_only.edf", "not a readable EDF file"),
        ("random.edf", r"not a readable EDF file \(.*format errors"),
        ("empty.bdf", "not a readable BDF file"),
        ("wfdb/short", "the WFDB record's data cannot be read"),
        ("wfdb/short.hea", "the WFDB record's data cannot be read"),
        ("wfdb/garbled", "not a readable WFDB header"),
        ("wfdb/nodata", r"no such file: '.*nodata\.dat'"),
        ("wfdb/absent", r"no such file: '.*absent\.hea'"),
    ],
)
def test_broken_files_are_named_errors(hostile, name, message):
    features = SignalFeatures(
        fs=360 if name.startswith("wfdb") else 256,
        channels=["MLII"] if name.startswith("wfdb") else ["EEG Fz"],
        root=hostile,
    ).fit([None])
    path = name
    with pytest.raises(
        ValueError,
        match=rf"SignalFeatures cannot read row 1 \('{path}'(\.\.\.)?\): {message}",
    ):
        features.transform([None, path])
    lenient = clone(features).set_params(on_error="nan").fit([None])
    with pytest.warns(UserWarning, match=r"1 input\(s\) could not be read"):
        block = lenient.transform([path, None])
    assert np.isnan(block).all()


def test_paths_outside_root_are_refused_whatever_on_error(tmp_path, eeg, ecg):
    root = tmp_path / "root"
    root.mkdir()
    # A record whose data file is a link leading out of root.
    outside = _write_wfdb(tmp_path, "escape", [_sine(5, 360)], 360, ["MLII"])
    os.rename(f"{outside}.hea", root / "escape.hea")
    os.symlink(f"{outside}.dat", root / "escape.dat")
    os.symlink(eeg, root / "linked.edf")
    features = SignalFeatures(fs=360, on_error="nan", root=root)
    features.fit([None, _sine(1, 9)])
    for item in ["../eeg.edf", "linked.edf", "../100", "escape", "escape.hea"]:
        with pytest.raises(PathOutsideRootError, match=r"cannot read row 0 .*outside"):
            features.transform([item])


def test_sample_and_channel_limits_are_checked_from_the_header(tmp_path, eeg, ecg):
    # 2,048 samples in the two EEG channels as stored, 8,192 at 512 Hz.
    two = ["EEG Fz", "EEG Cz"]
    with pytest.raises(
        ValueError,
        match=r"row 0 .*holds 4096 samples as stored, over the limit "
        r"max_samples=4000",
    ):
        SignalFeatures(fs=256, channels=two, max_samples=4000).fit([None]).transform(
            [eeg]
        )
    upsampled = SignalFeatures(sampling_rate=512, channels=two, max_samples=5000)
    with pytest.raises(ValueError, match=r"holds 8192 samples after resampling"):
        upsampled.fit([None]).transform([eeg])
    with pytest.raises(ValueError, match=r"would hold 8192 samples after resampling"):
        clone(upsampled).set_params(fs=256, channels=None).fit(
            [np.vstack([_sine(10, 256)] * 2)]
        )
    SignalFeatures(fs=256, channels=two, max_samples=4096).fit_transform([eeg])
    # A header that claims more than the file holds is refused before reading.
    signal_lines = [f"bomb.dat 16 200/mV 16 0 0 0 0 {name}" for name in ("I", "II")]
    lines = [f"bomb 2 360 {10**12}", *signal_lines]
    (tmp_path / "bomb.hea").write_text("\n".join(lines) + "\n")
    (tmp_path / "bomb.dat").write_bytes(bytes(400))
    unfitted = SignalFeatures(fs=360, channel_names=["x"])
    with pytest.raises(ValueError, match=r"holds 2000000000000 samples as stored"):
        clone(unfitted).fit([None]).transform([tmp_path / "bomb"])
    # A compressed record must state its length.
    line = "flac.dat 516 200/mV 16 0 0 0 0 MLII"
    (tmp_path / "flac.hea").write_text(f"flac 1 360\n{line}\n")
    (tmp_path / "flac.dat").write_bytes(b"fLaC")
    with pytest.raises(ValueError, match="does not state its length"):
        clone(unfitted).fit([None]).transform([tmp_path / "flac"])
    # Too many channels, from the header alone.
    lines = ["wide 4097 360 10"] + [
        f"wide.dat 16 200/mV 16 0 0 0 0 s{i}" for i in range(4097)
    ]
    (tmp_path / "wide.hea").write_text("\n".join(lines) + "\n")
    (tmp_path / "wide.dat").write_bytes(bytes(2 * 4097 * 10))
    with pytest.raises(ValueError, match="declares 4097 channels, over the limit"):
        clone(unfitted).fit([None]).transform([tmp_path / "wide"])


def test_missing_recordings_are_nan_rows(eeg):
    features = SignalFeatures(fs=256, channels=["EEG Fz"], time_stats=STATS)
    block = features.fit_transform([None, np.nan, "", str(eeg), "  "])
    assert np.isnan(block[[0, 1, 2, 4]]).all()
    assert np.isfinite(block[3]).all()


@pytest.mark.parametrize("module", ["pyedflib", "wfdb"])
def test_a_missing_library_names_the_extra(monkeypatch, eeg, ecg, module):
    monkeypatch.setitem(sys.modules, module, None)
    path = eeg if module == "pyedflib" else ecg
    with pytest.raises(ImportError, match=r"pip install 'skfusion\[signal\]'"):
        SignalFeatures(fs=256).fit([path])


# -- end to end ---------------------------------------------------------------------


def test_edf_and_wfdb_recordings_in_a_study(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skfusion.fusion import BlockScaler
    from skfusion.study import FusionStudy

    rng = np.random.default_rng(0)
    rows, labels = [], []
    for i in range(16):
        label = i % 2
        rhythm = 10 if label else 20  # alpha or beta
        eeg = [
            _sine(rhythm, 128, seconds=4, phase=rng.uniform(0, 6))
            + rng.normal(0, 10, 512),
            rng.normal(0, 20, 512),
        ]
        edf = _write_edf(tmp_path / f"s{i}.edf", eeg, [128, 128], ["Fz", "Cz"])
        beats = _sine(1.0 + 0.5 * label, 250, seconds=4, amplitude=1.0)
        ecg = [beats + rng.normal(0, 0.05, 1000)]
        _write_wfdb(tmp_path, f"s{i}", ecg, 250, ["II"])
        rows.append({"eeg": edf.name, "ecg": f"s{i}" if i != 3 else None})
        labels.append(label)
    table = pd.DataFrame(rows)
    y = pd.Series(labels, name="y")
    modalities = [
        ("eeg", SignalFeatures(fs=128, time_stats=STATS, root=tmp_path), "eeg"),
        ("ecg", SignalFeatures(sampling_rate=100, root=tmp_path), "ecg"),
    ]
    linear = make_pipeline(BlockScaler(), LogisticRegression())
    study = FusionStudy(
        modalities,
        strategies={
            "unimodal:eeg": (linear, ["eeg"]),
            "unimodal:ecg": (linear, ["ecg"]),
            "early": linear,
        },
        cv=2,
        contributions=None,
        random_state=0,
    ).fit(table, y)
    auc = study.summary_["roc_auc_pooled"]
    assert auc["unimodal:eeg"] > 0.9
    assert np.isfinite(auc).all()


def test_the_extraction_cache_never_keys_a_wfdb_record_by_its_header(tmp_path, ecg):
    from skfusion.study._cache import CACHE_FOLDER, ContentCachedExtractor

    features = SignalFeatures(fs=360, time_stats=STATS)
    column = pd.Series([str(ecg) + ".hea", str(ecg)])
    cache = tmp_path / "cache" / CACHE_FOLDER
    before = ContentCachedExtractor(clone(features), cache).fit_transform(column)
    # New samples under the same header: the rows follow the data.
    signals = [_sine(7, 360, amplitude=1.0), _sine(12, 360, amplitude=0.5)]
    _write_wfdb(ecg.parent, ecg.name, signals, 360, ["MLII", "V5"])
    after = ContentCachedExtractor(clone(features), cache).fit_transform(column)
    assert not np.allclose(after, before)
    np.testing.assert_array_equal(after, features.fit_transform(column))


def test_the_command_line_check_takes_a_wfdb_record_name(tmp_path, ecg):
    from skfusion.study import check_media_files

    column = pd.Series([ecg.name, f"{ecg.name}.hea", None], name="ecg")
    check_media_files(column, tmp_path, modality="ecg", kind="signal")
    with pytest.raises(ValueError, match=r"1 of 1 file\(s\).*no such file '.*101'"):
        check_media_files(pd.Series(["101"], name="ecg"), tmp_path, kind="signal")
    with pytest.raises(ValueError, match="no such file"):
        check_media_files(column, tmp_path, modality="ecg", kind="image")
