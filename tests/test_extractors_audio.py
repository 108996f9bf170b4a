import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skfusion.extractors.audio import AudioFeatures

librosa = pytest.importorskip("librosa")
soundfile = pytest.importorskip("soundfile")

FSDD = Path(__file__).resolve().parents[2] / "shared" / "data" / "fsdd_mnist_av"


def _tone(freq, rate, seconds=1.0, amplitude=0.5):
    t = np.arange(int(round(rate * seconds))) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _rich(rate, seconds=1.0, seed=0):
    """A chirp plus noise: enough spectral detail for MFCCs to differ."""
    t = np.arange(int(round(rate * seconds))) / rate
    rng = np.random.default_rng(seed)
    chirp = np.sin(2 * np.pi * (200 + 800 * t) * t)
    return (0.4 * chirp + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture
def clips(tmp_path):
    paths = {}
    for name, rate, fmt in [
        ("tone8k.wav", 8000, "WAV"),
        ("tone22k.wav", 22050, "WAV"),
        ("tone.flac", 16000, "FLAC"),
    ]:
        soundfile.write(tmp_path / name, _tone(440, rate), rate, format=fmt)
        paths[name] = tmp_path / name
    stereo = np.column_stack([_tone(440, 16000), _tone(880, 16000)])
    soundfile.write(tmp_path / "stereo.wav", stereo, 16000)
    paths["stereo.wav"] = tmp_path / "stereo.wav"
    return paths


def test_import_is_lazy():
    code = (
        "import sys, skfusion.extractors.audio; "
        "print('librosa' in sys.modules or 'soundfile' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_feature_names_and_width():
    audio = AudioFeatures(n_mfcc=3, n_mels=4, stats=("mean", "std", "median"))
    audio.fit([_tone(440, 16000)])
    names = audio.get_feature_names_out().tolist()
    assert audio.n_features_out_ == (3 + 4 + 6) * 3 == len(names)
    assert names[:4] == ["mfcc0_mean", "mfcc0_std", "mfcc0_median", "mfcc1_mean"]
    assert names[9:11] == ["logmel0_mean", "logmel0_std"]
    assert names[21] == "spectral_centroid_mean"
    assert names[-1] == "spectral_rms_median"
    assert (
        AudioFeatures(features=("spectral", "mfcc")).fit([None]).n_features_out_
        == (6 + 20) * 2
    )


def test_files_give_fixed_width(clips):
    column = [str(p) for p in clips.values()]
    audio = AudioFeatures()
    block = audio.fit_transform(column)
    assert block.shape == (len(column), 2 * (20 + 40 + 6))
    assert np.isfinite(block).all()


def test_ogg_if_supported(tmp_path):
    if "OGG" not in soundfile.available_formats():
        pytest.skip("libsndfile without OGG")
    path = tmp_path / "tone.ogg"
    soundfile.write(path, _tone(440, 16000), 16000, format="OGG", subtype="VORBIS")
    block = AudioFeatures().fit_transform([str(path)])
    assert np.isfinite(block).all()


def test_width_does_not_depend_on_length():
    short, long = _tone(440, 16000, 0.1), _tone(440, 16000, 3.0)
    tiny = _tone(440, 16000, 0.001)  # 16 samples, shorter than n_fft
    audio = AudioFeatures(stats=("mean", "std", "min", "max", "median"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        block = audio.fit_transform([short, long, tiny])
    assert block.shape == (3, 5 * 66)
    assert np.isfinite(block).all()


def test_resampling_keeps_the_spectral_centroid():
    audio = AudioFeatures(sr=16000, features=("spectral",), stats=("mean",))
    block = audio.fit_transform(
        [(_tone(1000, 8000), 8000), (_tone(1000, 16000), 16000)]
    )
    centroid = block[:, 0]
    assert abs(centroid[0] - centroid[1]) < 0.05 * centroid[1]
    assert abs(centroid[1] - 1000) < 100


def test_resampling_from_files(clips):
    audio = AudioFeatures(sr=16000, features=("spectral",), stats=("mean",))
    block = audio.fit_transform([str(clips["tone8k.wav"]), str(clips["tone22k.wav"])])
    assert abs(block[0, 0] - block[1, 0]) < 0.05 * block[1, 0]


@pytest.mark.parametrize("rate", [16000, 22050])
def test_mfcc_means_match_librosa(tmp_path, rate):
    signal = _rich(rate)
    path = tmp_path / "rich.wav"
    soundfile.write(path, signal, rate, subtype="FLOAT")
    params = {"n_mfcc": 13, "n_mels": 32, "n_fft": 512, "hop_length": 160, "fmin": 50}
    audio = AudioFeatures(sr=16000, features=("mfcc",), stats=("mean",), **params)
    block = audio.fit_transform([str(path)])
    y, file_rate = soundfile.read(path, dtype="float32")
    if file_rate != 16000:
        y = librosa.resample(y, orig_sr=file_rate, target_sr=16000)
    expected = librosa.feature.mfcc(y=y, sr=16000, **params).mean(axis=1)
    np.testing.assert_allclose(block[0], expected, rtol=1e-4, atol=1e-3)


def test_logmel_and_spectral_match_librosa():
    y = _rich(16000)
    audio = AudioFeatures(features=("logmel", "spectral"), stats=("mean",), n_mels=16)
    block = audio.fit_transform([y])[0]
    mel = librosa.feature.melspectrogram(
        y=y, sr=16000, n_fft=512, hop_length=128, n_mels=16
    )
    np.testing.assert_allclose(
        block[:16], librosa.power_to_db(mel).mean(axis=1), rtol=1e-4, atol=1e-3
    )
    centroid = librosa.feature.spectral_centroid(
        y=y, sr=16000, n_fft=512, hop_length=128
    )
    rolloff = librosa.feature.spectral_rolloff(y=y, sr=16000, n_fft=512, hop_length=128)
    np.testing.assert_allclose(block[16], centroid.mean(), rtol=1e-4)
    np.testing.assert_allclose(block[18], rolloff.mean(), rtol=1e-4)


def test_stereo_is_mixed_down_or_kept(clips):
    path = str(clips["stereo.wav"])
    mixed = AudioFeatures(features=("spectral",), stats=("mean",))
    y, _ = soundfile.read(path, dtype="float32")
    np.testing.assert_allclose(
        mixed.fit_transform([path]), mixed.transform([y.mean(axis=1)]), rtol=1e-5
    )
    per_channel = AudioFeatures(features=("spectral",), stats=("mean",), mono=False)
    block = per_channel.fit_transform([path])
    assert per_channel.n_channels_ == 2
    assert block.shape == (1, 12)
    assert per_channel.get_feature_names_out()[6] == "ch1_spectral_centroid_mean"
    assert block[0, 6] > block[0, 0]  # the 880 Hz channel is brighter
    with pytest.raises(ValueError, match=r"row 0 .*1 channel\(s\)"):
        per_channel.transform([str(clips["tone.flac"])])


def test_row_order_and_missing_rows(clips):
    a, b = str(clips["tone8k.wav"]), str(clips["stereo.wav"])
    audio = AudioFeatures(features=("spectral",)).fit([a])
    block = audio.transform(pd.Series([a, None, b, np.nan, "", a]))
    assert block.shape == (6, 12)
    assert np.isnan(block[[1, 3, 4]]).all()
    assert np.isfinite(block[[0, 2, 5]]).all()
    np.testing.assert_array_equal(block[0], block[5])
    assert not np.allclose(block[0], block[2])
    np.testing.assert_array_equal(block[2], audio.transform([b])[0])


def test_relative_paths_under_root(clips, tmp_path):
    audio = AudioFeatures(features=("spectral",), root=tmp_path)
    np.testing.assert_array_equal(
        audio.fit_transform(["tone8k.wav"]),
        AudioFeatures(features=("spectral",)).fit_transform([str(clips["tone8k.wav"])]),
    )
    with pytest.raises(ValueError, match="outside root"):
        audio.transform(["../elsewhere.wav"])


@pytest.mark.parametrize(
    "content",
    [b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(200)), b"RIFF\x10\x00"],
    ids=["garbage-after-header", "truncated-header"],
)
def test_corrupt_wav_raises_with_row_and_path(tmp_path, clips, content):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    audio = AudioFeatures().fit([str(clips["tone8k.wav"])])
    with pytest.raises(ValueError, match=r"AudioFeatures cannot read row 1 .*bad\.wav"):
        audio.transform([str(clips["tone8k.wav"]), str(bad)])


@pytest.mark.parametrize(
    "fmt, subtype, suffix",
    [
        ("WAV", "PCM_16", ".wav"),
        ("WAV", "FLOAT", ".wav"),
        ("WAVEX", "PCM_24", ".wav"),
        ("AIFF", "PCM_16", ".aiff"),
    ],
)
def test_truncated_file_is_refused(tmp_path, fmt, subtype, suffix):
    full = tmp_path / f"full{suffix}"
    soundfile.write(full, _tone(440, 8000, 0.5), 8000, format=fmt, subtype=subtype)
    data = full.read_bytes()
    half = tmp_path / f"half{suffix}"
    half.write_bytes(data[: len(data) // 2])
    held = soundfile.read(half)[0].shape[0]  # libsndfile reads it without a word
    audio = AudioFeatures(features=("spectral",))
    assert np.isfinite(audio.fit_transform([full])).all()
    message = (
        rf"^AudioFeatures cannot read row 1 \('.*half{suffix}'\): truncated: header "
        rf"says 4000 frames, file holds {held}$"
    )
    with pytest.raises(ValueError, match=message):
        audio.transform([full, half])
    # mono=False reads a first clip at fit to count the channels.
    with pytest.raises(ValueError, match=message.replace("row 1", "row 0")):
        AudioFeatures(mono=False).fit([half, full])


def test_wav_with_a_streaming_placeholder_size_is_read(tmp_path):
    path = tmp_path / "stream.wav"
    soundfile.write(path, _tone(440, 8000, 0.5), 8000)
    data = bytearray(path.read_bytes())
    start = data.index(b"data")
    data[start + 4 : start + 8] = b"\xff\xff\xff\xff"  # size unknown when written
    path.write_bytes(bytes(data))
    block = AudioFeatures(features=("spectral",)).fit_transform([path])
    assert np.isfinite(block).all()


def test_empty_file_is_an_error(tmp_path):
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros(0, dtype=np.float32), 16000)
    audio = AudioFeatures(features=("spectral",)).fit([None])
    with pytest.raises(ValueError, match=r"row 0 .*empty\.wav.*no samples"):
        audio.transform([str(empty)])


def test_on_error_nan_warns_once(tmp_path, clips):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF garbage")
    good = str(clips["tone8k.wav"])
    audio = AudioFeatures(features=("spectral",), on_error="nan").fit([good])
    with pytest.warns(UserWarning, match=r"AudioFeatures: 2 input\(s\)") as record:
        block = audio.transform([good, str(bad), str(tmp_path / "missing.wav")])
    assert len(record) == 1
    assert np.isfinite(block[0]).all()
    assert np.isnan(block[1:]).all()


def test_invalid_parameters():
    with pytest.raises(ValueError, match="features"):
        AudioFeatures(features=("mfcc", "chroma")).fit([None])
    with pytest.raises(ValueError, match="stats"):
        AudioFeatures(stats=()).fit([None])
    with pytest.raises(ValueError, match="fmax"):
        AudioFeatures(sr=8000, fmax=6000).fit([None])
    with pytest.raises(ValueError, match="n_fft"):
        AudioFeatures(n_fft=0).fit([None])


def test_n_jobs_clone_and_pickle(clips):
    column = [str(p) for p in clips.values()] * 2
    serial = AudioFeatures(n_mfcc=5, n_mels=8, batch_size=2).fit(column)
    parallel = clone(serial).set_params(n_jobs=2).fit(column)
    np.testing.assert_array_equal(serial.transform(column), parallel.transform(column))
    restored = pickle.loads(pickle.dumps(serial))
    np.testing.assert_array_equal(restored.transform(column), serial.transform(column))


def test_integer_pcm_arrays_are_scaled():
    y = _rich(16000)
    pcm = np.round(y * 32767).astype(np.int16)
    audio = AudioFeatures(features=("spectral",), stats=("mean",)).fit([y])
    np.testing.assert_allclose(audio.transform([pcm]), audio.transform([y]), rtol=1e-3)


@pytest.mark.skipif(not FSDD.is_dir(), reason="shared FSDD data not available")
def test_fsdd_recordings_separate_digits():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pairs = pd.read_csv(FSDD / "pairs.csv")
    rows = pairs[pairs.digit.isin([0, 1]) & (pairs["index"] < 15)]
    rows = rows.groupby("digit").head(15)
    assert len(rows) == 30
    audio = AudioFeatures(sr=8000, root=FSDD / "fsdd" / "recordings")
    block = audio.fit_transform(rows.wav)
    assert block.shape == (30, audio.n_features_out_)
    assert np.isfinite(block).all()
    train = rows["index"].to_numpy() % 3 != 0
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(block[train], rows.digit[train])
    assert model.score(block[~train], rows.digit[~train]) >= 0.8


def test_bundled_av_digits_paths():
    from skfusion.datasets import load_av_digits

    data = load_av_digits(subset="test").data
    paths = data["audio"].iloc[[0, 1, -1]]
    assert all(Path(p).is_absolute() for p in paths)
    block = AudioFeatures(sr=8000, features=("spectral",)).fit_transform(paths)
    assert block.shape == (3, 12)
    assert np.isfinite(block).all()


@pytest.mark.parametrize(
    "extractor",
    [
        AudioFeatures(n_mfcc=4, n_mels=8),
        AudioFeatures(features=("spectral",), stats=("min", "max"), mono=False),
    ],
    ids=repr,
)
def test_extractor_contract(extractor, clips):
    from skfusion.utils.estimator_checks import check_extractor

    column = [
        str(clips["tone8k.wav"]),
        None,
        _tone(440, 16000),
        (_tone(1000, 8000), 8000),
        "",
        str(clips["tone.flac"]),
    ]
    check_extractor(extractor, column)
