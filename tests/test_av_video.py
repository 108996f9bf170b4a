"""The audio-visual digit videos: built from the bundled digits, files kept safe."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

pytest.importorskip("av")

from skfusion.datasets import load_av_digits, make_av_digit_videos  # noqa: E402
from skfusion.datasets._av_video import MANIFEST  # noqa: E402
from skfusion.extractors import (  # noqa: E402
    AudioFeatures,
    ImageFeatures,
    VideoAudioFeatures,
    VideoFeatures,
)
from skfusion.extractors._video_reader import (  # noqa: E402
    read_audio_track,
    read_video,
)

LIMITS = {"max_frames": 1000, "max_duration": 60.0, "max_frame_pixels": 10**6}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digits")
    return folder, make_av_digit_videos(folder, subset="test", n_per_digit=1)


def test_the_table_of_videos(built):
    folder, bunch = built
    assert list(bunch.data.columns) == ["video", "speaker", "split"]
    assert bunch.target.tolist() == list(range(10))
    assert bunch.target.name == "digit" and bunch.frame.shape == (10, 4)
    assert (bunch.data["split"] == "test").all()
    assert bunch.modalities == {"frames": ["video"], "sound": ["video"]}
    assert all(Path(p).parent == folder for p in bunch.data["video"])
    assert "CC BY-SA 4.0" in bunch.DESCR and "CC BY-SA 3.0" in bunch.DESCR
    assert "Free Spoken Digit Dataset" in bunch.DESCR and "MNIST" in bunch.DESCR
    manifest = json.loads((folder / MANIFEST).read_text())
    assert sorted(manifest["files"]) == sorted(Path(p).name for p in bunch.data.video)
    X, y = make_av_digit_videos(folder, subset="test", n_per_digit=1, return_X_y=True)
    assert X.equals(bunch.data) and y.equals(bunch.target)


def test_n_per_digit_counts_the_rows_of_the_subset(tmp_path):
    X, y = make_av_digit_videos(tmp_path, subset="test", n_per_digit=7, return_X_y=True)
    assert y.value_counts().to_dict() == dict.fromkeys(range(10), 7)
    assert (X["split"] == "test").all() and X["video"].is_unique


def test_each_video_shows_the_digit_and_plays_its_recording(built):
    _, bunch = built
    source, _ = load_av_digits(return_X_y=True)
    stems = [Path(p).stem for p in source["audio"]]
    wavs = dict(zip(stems, source["audio"], strict=True))
    images = dict(zip(stems, source["image"], strict=True))
    path = bunch.data["video"].iloc[3]
    stem = Path(path).stem
    rate, samples = wavfile.read(wavs[stem])
    clip = read_video(path, n_frames=4, frame_rate=None, seek=True, **LIMITS)
    assert clip.frame_rate == 15.0
    assert clip.duration == pytest.approx(len(samples) / rate, abs=1 / 15)
    # The digit drifts: frames differ, each holding the digit's ink.
    assert np.abs(np.diff(clip.grey, axis=0)).mean() > 0.005
    ink = images[stem].astype(float).sum() * 4 / 255
    for frame in clip.frames:
        assert frame.shape == (64, 64, 3)
        assert frame[..., 0].astype(float).sum() / 255 == pytest.approx(ink, rel=0.15)
    track, track_rate = read_audio_track(path, max_duration=60.0)
    assert track_rate == rate and track.shape[1] == 1
    # The encoder's priming and padding are cut: the recording, in time.
    assert abs(len(track) - len(samples)) <= 16
    n = min(len(track), len(samples))
    assert np.corrcoef(samples[:n] / 32768.0, track[:n, 0])[0, 1] > 0.95


def test_a_second_call_reuses_the_files(built):
    folder, bunch = built
    before = {p: Path(p).stat().st_mtime_ns for p in bunch.data["video"]}
    make_av_digit_videos(folder, subset="test", n_per_digit=1)
    assert {p: Path(p).stat().st_mtime_ns for p in bunch.data["video"]} == before


def test_other_parameters_replace_its_own_files(tmp_path):
    bunch = make_av_digit_videos(tmp_path, subset="test", n_per_digit=1)
    first = Path(bunch.data["video"].iloc[0]).read_bytes()
    again = make_av_digit_videos(tmp_path, subset="test", n_per_digit=1, frame_rate=5)
    assert Path(again.data["video"].iloc[0]).read_bytes() != first
    clip = read_video(again.data["video"].iloc[0], n_frames=2, frame_rate=None,
                      seek=True, **LIMITS)  # fmt: skip
    assert clip.frame_rate == 5.0
    files = json.loads((tmp_path / MANIFEST).read_text())["files"]
    assert {entry["frame_rate"] for entry in files.values()} == {5}


def test_a_file_it_did_not_write_is_never_replaced(tmp_path):
    mine = tmp_path / "0_george_0.mp4"
    mine.write_bytes(b"my own video")
    with pytest.raises(FileExistsError, match="was not written by"):
        make_av_digit_videos(tmp_path, subset="test", n_per_digit=1)
    assert mine.read_bytes() == b"my own video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0_george_0.mp4"]


def test_a_file_changed_since_it_was_written_is_never_replaced(tmp_path):
    bunch = make_av_digit_videos(tmp_path, subset="test", n_per_digit=1)
    edited = Path(bunch.data["video"].iloc[2])
    edited.write_bytes(edited.read_bytes() + b"edit")
    content = edited.read_bytes()
    with pytest.raises(FileExistsError, match="changed since"):
        make_av_digit_videos(tmp_path, subset="test", n_per_digit=1, frame_rate=5)
    assert edited.read_bytes() == content


def test_a_foreign_manifest_and_the_package_folder_are_refused(tmp_path):
    (tmp_path / MANIFEST).write_text('{"files": {}}')
    with pytest.raises(FileExistsError, match="not written by make_av_digit_videos"):
        make_av_digit_videos(tmp_path, n_per_digit=1)
    import skfusion

    package = Path(skfusion.__file__).parent
    with pytest.raises(ValueError, match="inside the skfusion package"):
        make_av_digit_videos(package / "datasets" / "videos", n_per_digit=1)
    assert not (package / "datasets" / "videos").exists()
    with pytest.raises(ValueError, match="n_per_digit must be a positive int"):
        make_av_digit_videos(tmp_path, n_per_digit=0)


def test_the_videos_feed_both_video_extractors(built):
    _, bunch = built
    column = bunch.data["video"]
    frames = VideoFeatures(ImageFeatures(size=(32, 32), features=("intensity",)))
    sound = VideoAudioFeatures(AudioFeatures(sr=8000, n_mfcc=4, n_mels=8))
    assert not np.isnan(frames.fit_transform(column)).any()
    assert not np.isnan(sound.fit_transform(column)).any()
