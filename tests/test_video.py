"""Video extractors: sampling, seeking, features, hostile files, studies."""

import pickle
import re
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

av = pytest.importorskip("av")

from skfusion.extractors import (  # noqa: E402
    AudioFeatures,
    ImageFeatures,
    PathOutsideRootError,
    TorchImageEmbedder,
    VideoAudioFeatures,
    VideoFeatures,
)
from skfusion.extractors._video_reader import read_video  # noqa: E402
from skfusion.utils._test_common import moving_square, write_video  # noqa: E402

INTENSITY = ImageFeatures(size=(16, 16), features=("intensity",))
LIMITS = {"max_frames": 10**6, "max_duration": 1e4, "max_frame_pixels": 10**8}


def _levels(n_frames, size=32):
    """Frames whose grey level tells their index: frame t is 8 * t + 4."""
    levels = (8 * np.arange(n_frames) + 4).astype(np.uint8)
    return np.broadcast_to(levels[:, None, None, None], (n_frames, size, size, 3))


def _tone(seconds, frequency, rate=8000):
    t = np.arange(int(seconds * rate)) / rate
    return 0.4 * np.sin(2 * np.pi * frequency * t), rate


def _faststart(source, target):
    """The same streams, remuxed with the index (moov) at the start."""
    with (
        av.open(str(source)) as given,
        av.open(str(target), "w", options={"movflags": "faststart"}) as out,
    ):
        streams = {s.index: out.add_stream_from_template(s) for s in given.streams}
        for packet in given.demux():
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    return str(target)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("videos")
    return {
        # 30 frames at 10 fps, a keyframe every 4 frames.
        "levels": write_video(
            folder / "levels.mp4", _levels(30), 10, options={"g": "4"}
        ),
        # 60 frames at 20 fps with one keyframe, and with audio.
        "sparse": write_video(
            folder / "sparse.mp4",
            moving_square(60),
            20,
            audio=_tone(3.0, 440),
            options={"g": "300", "sc_threshold": "0"},
        ),
        "dense": write_video(
            folder / "dense.mp4", moving_square(60, seed=1), 20, options={"g": "2"}
        ),
        "still": write_video(folder / "still.mp4", _levels(1).repeat(12, 0), 6),
        "folder": folder,
    }


# -- sampling ---------------------------------------------------------------------


@pytest.mark.parametrize("n_frames", [2, 3, 7, 30])
def test_the_frames_sampled_are_those_shown_at_uniform_times(clips, n_frames):
    clip = read_video(
        clips["levels"], n_frames=n_frames, frame_rate=None, seek=True, **LIMITS
    )
    # Time i is (i + 1/2) * 3 s / n: frame floor((i + 1/2) * 30 / n) is shown.
    expected = np.floor((np.arange(n_frames) + 0.5) * 30 / n_frames).astype(int)
    got = [clip.frames[k].mean() for k in clip.order]
    np.testing.assert_allclose(got, 8 * expected + 4, atol=2.5)
    assert clip.duration == pytest.approx(3.0)
    assert clip.frame_rate == pytest.approx(10.0)


@pytest.mark.parametrize("name", ["levels", "sparse", "dense"])
@pytest.mark.parametrize("n_frames", [2, 5, 16])
def test_seeking_gives_the_frames_of_decoding_every_frame(clips, name, n_frames):
    options = {"n_frames": n_frames, "frame_rate": None, **LIMITS}
    sought = read_video(clips[name], seek=True, **options)
    decoded = read_video(clips[name], seek=False, **options)
    assert len(sought.frames) == len(decoded.frames)
    for a, b in zip(sought.frames, decoded.frames, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(sought.order, decoded.order)
    np.testing.assert_array_equal(sought.grey, decoded.grey)


@pytest.mark.parametrize(
    ("name", "codec"),
    [("clip.mkv", "libx264"), ("clip.webm", "libvpx-vp9"), ("clip.avi", "mpeg4")],
)
def test_other_containers_and_codecs(tmp_path, name, codec):
    # Matroska and WebM give no per-stream duration: the container's is used.
    path = write_video(tmp_path / name, _levels(20), 10, codec=codec)
    options = {"n_frames": 4, "frame_rate": None, **LIMITS}
    sought = read_video(path, seek=True, **options)
    decoded = read_video(path, seek=False, **options)
    for a, b in zip(sought.frames, decoded.frames, strict=True):
        np.testing.assert_array_equal(a, b)
    assert sought.duration == pytest.approx(2.0) and sought.frame_rate == 10.0
    # Frames 2, 7, 12, 17 are shown at 0.25, 0.75, 1.25 and 1.75 s.
    got = [sought.frames[k].mean() for k in sought.order]
    np.testing.assert_allclose(got, [20, 60, 100, 140], atol=4)


def test_seeking_decodes_few_frames_where_keyframes_are_dense(clips):
    options = {"n_frames": 2, "frame_rate": None, **LIMITS}
    assert read_video(clips["dense"], seek=False, **options).n_decoded >= 46
    assert read_video(clips["dense"], seek=True, **options).n_decoded <= 6


def test_sparse_keyframes_are_decoded_forward_not_twice(clips):
    # One keyframe: every seek would land on frame 0 again.
    options = {"n_frames": 3, "frame_rate": None, **LIMITS}
    sought = read_video(clips["sparse"], seek=True, **options)
    decoded = read_video(clips["sparse"], seek=False, **options)
    assert sought.n_decoded <= decoded.n_decoded + 12


def test_seeking_and_decoding_give_the_same_features(clips):
    column = [clips["sparse"], clips["dense"], clips["levels"]]
    seek = VideoFeatures(INTENSITY, n_frames=5).fit(column)
    forward = VideoFeatures(INTENSITY, n_frames=5, seek=False).fit(column)
    np.testing.assert_array_equal(seek.transform(column), forward.transform(column))


@pytest.mark.parametrize(("frame_rate", "expected"), [(2.0, 6), (0.1, 2), (100.0, 7)])
def test_frame_rate_sets_the_count_between_two_and_n_frames(
    clips, frame_rate, expected
):
    clip = read_video(
        clips["levels"], n_frames=7, frame_rate=frame_rate, seek=True, **LIMITS
    )
    assert len(clip.order) == expected


# -- features ---------------------------------------------------------------------


def test_names_shape_and_the_clip_features(clips):
    column = pd.Series([clips["levels"], None, clips["still"]], index=[7, 3, 5])
    video = VideoFeatures(INTENSITY, n_frames=4, stats=("mean", "max", "delta"))
    block = video.fit(column).transform(column)
    names = video.get_feature_names_out().tolist()
    assert block.shape == (3, 3 * 12 + 4) == (3, len(names))
    assert names[:2] == ["frame_mean__intensity_mean", "frame_mean__intensity_std"]
    assert names[12] == "frame_max__intensity_mean"
    assert names[24] == "frame_delta__intensity_mean"
    assert names[-4:] == [
        "motion__mean",
        "motion__std",
        "clip__duration",
        "clip__frame_rate",
    ]
    assert np.isnan(block[1]).all() and not np.isnan(block[[0, 2]]).any()
    levels, still = block[0], block[2]
    # Mean grey level of the frames sampled at 3/8, 9/8, 15/8, 21/8 s.
    assert levels[0] * 255 == pytest.approx(
        np.mean([8 * t + 4 for t in (3, 11, 18, 26)]), abs=2
    )
    assert levels[-2:].tolist() == pytest.approx([3.0, 10.0])
    assert still[-2:].tolist() == pytest.approx([2.0, 6.0])
    # The still video does not move; the levels change by 64, 56, 64 grey
    # levels between the frames sampled.
    assert still[-4:-2].tolist() == [0.0, 0.0]
    assert levels[-4] == pytest.approx(np.mean([64, 56, 64]) / 255, abs=2 / 255)
    assert levels[-3] == pytest.approx(np.std([64, 56, 64]) / 255, abs=2 / 255)
    assert still[24] == 0.0 and levels[24] > 0


def test_sub_blocks_of_a_two_part_frame_extractor(clips):
    import torch

    net = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    frames = TorchImageEmbedder(net, size=(8, 8), statistics=True, device="cpu")
    video = VideoFeatures(frames, n_frames=2).fit([clips["still"]])
    names = video.get_feature_names_out().tolist()
    assert names[0] == "embedding_mean__emb0"
    assert "statistics_std__intensity_mean" in names
    assert "embedding_max__emb2" in names


def test_row_order_is_kept(clips):
    column = [clips["levels"], clips["still"], None, clips["sparse"]]
    video = VideoFeatures(INTENSITY, n_frames=3).fit(column)
    block = video.transform(column)
    order = [3, 0, 2, 1]
    np.testing.assert_array_equal(
        video.transform([column[i] for i in order]), block[order]
    )


def test_the_audio_track_as_a_sub_block_and_as_a_modality(clips):
    audio = AudioFeatures(sr=8000, features=("spectral",), stats=("median",))
    column = [clips["sparse"], clips["levels"], None]
    both = VideoFeatures(INTENSITY, n_frames=3, audio=audio).fit(column)
    block = both.transform(column)
    names = both.get_feature_names_out().tolist()
    assert names[-6:] == [f"audio__spectral_{n}_median" for n in (
        "centroid", "bandwidth", "rolloff", "flatness", "zcr", "rms")]  # fmt: skip
    # The levels video has no audio track: NaN inside its present block.
    assert np.isnan(block[1, -6:]).all() and not np.isnan(block[1, :-6]).any()
    assert block[0, -6] == pytest.approx(440, abs=40)

    track = VideoAudioFeatures(audio).fit(column)
    sound = track.transform(column)
    np.testing.assert_allclose(sound[0], block[0, -6:])
    # No audio track is a missing modality.
    assert np.isnan(sound[1:]).all()
    assert track.reads_streams == {"audio"}
    assert both.reads_streams == {"video", "audio"}
    assert VideoFeatures().reads_streams == {"video"}


def test_the_audio_track_equals_audio_features_of_its_samples(clips):
    audio = AudioFeatures(sr=8000, n_mfcc=4, n_mels=8)
    samples, rate = av_track = _decoded_track(clips["sparse"])
    expected = clone(audio).fit_transform([av_track])
    got = VideoAudioFeatures(audio).fit_transform([clips["sparse"]])
    np.testing.assert_allclose(got, expected)
    assert rate == 8000 and samples.shape[1] == 1


def _decoded_track(path):
    with av.open(path) as container:
        resampler = av.AudioResampler(format="fltp")
        chunks = [
            converted.to_ndarray()
            for frame in container.decode(audio=0)
            for converted in resampler.resample(frame)
        ]
        chunks += [c.to_ndarray() for c in resampler.resample(None)]
        # Cut to the declared duration: AAC pads its last frame.
        stream = container.streams.audio[0]
        n_samples = round(stream.duration * stream.time_base * 8000)
        return np.concatenate(chunks, axis=1).T[:n_samples], 8000.0


def test_clone_and_pickle_keep_the_output(clips):
    column = [clips["levels"], None, clips["dense"]]
    video = VideoFeatures(INTENSITY, n_frames=3, audio=AudioFeatures(sr=8000))
    video.fit(column)
    restored = pickle.loads(pickle.dumps(video))
    np.testing.assert_array_equal(restored.transform(column), video.transform(column))
    assert clone(video).get_params()["frame_extractor"] is not INTENSITY
    assert "frame_extractor__size" in video.get_params(deep=True)
    assert video.frame_extractor_ is not video.frame_extractor


def test_a_frame_extractor_without_transform_is_refused(clips):
    from sklearn.linear_model import LinearRegression

    with pytest.raises(ValueError, match="frame_extractor"):
        VideoFeatures(LinearRegression()).fit([clips["still"]])
    with pytest.raises(ValueError, match="stats should be a non-empty tuple"):
        VideoFeatures(INTENSITY, stats=("mean", "median")).fit([clips["still"]])


def test_without_pyav_the_error_names_the_extra(clips, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(ImportError, match=re.escape("skfusion[video]")):
        VideoFeatures(INTENSITY).fit([clips["still"]])
    with pytest.raises(ImportError, match=re.escape("skfusion[video]")):
        VideoAudioFeatures().fit([clips["still"]])


# -- hostile files ----------------------------------------------------------------


def _named_error(extractor, path, match, row=1):
    with pytest.raises(ValueError, match=match) as info:
        extractor.fit_transform(pd.Series([None, path]))
    assert str(info.value).startswith(
        f"{type(extractor).__name__} cannot read row {row} ({path!r})"
    )
    return str(info.value)


@pytest.mark.parametrize("share", [0.3, 0.6])
def test_a_truncated_file_is_a_named_error(clips, tmp_path, share):
    data = open(clips["sparse"], "rb").read()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * share)])  # index at the end: cut off
    _named_error(VideoFeatures(INTENSITY), str(cut), "corrupt, truncated")
    _named_error(VideoAudioFeatures(), str(cut), "corrupt, truncated")


@pytest.mark.parametrize("seek", [True, False])
def test_frames_that_stop_before_the_declared_end_are_truncation(clips, tmp_path, seek):
    indexed = _faststart(clips["dense"], tmp_path / "indexed.mp4")
    # Cut after the packet of the 40th of 60 frames (in decoding order): the
    # index still lists them all, the file ends cleanly after 2 s.
    with av.open(indexed) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    end = packets[39].pos + packets[39].size
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(open(indexed, "rb").read()[:end])
    message = _named_error(VideoFeatures(INTENSITY, seek=seek), str(cut), "truncated")
    assert "the header says 3.000 s" in message


def test_corrupt_bytes_are_a_named_error(clips, tmp_path):
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(
        np.random.default_rng(0).integers(0, 256, 4096).astype(np.uint8).tobytes()
    )
    _named_error(
        VideoFeatures(INTENSITY), str(noise), "corrupt, truncated or not a video"
    )
    broken = bytearray(open(clips["levels"], "rb").read())
    start = broken.find(b"moov")
    broken[start : start + 400] = bytes(400)
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(broken))
    _named_error(VideoFeatures(INTENSITY), str(damaged), "PyAV cannot decode it")
    image = tmp_path / "image.mp4"
    image.write_bytes(b"")
    _named_error(VideoFeatures(INTENSITY), str(image), "corrupt, truncated")


def test_a_file_without_video_is_a_named_error(tmp_path):
    import soundfile

    wav = tmp_path / "tone.wav"
    soundfile.write(wav, _tone(0.5, 300)[0], 8000)
    _named_error(VideoFeatures(INTENSITY), str(wav), "holds no video stream")
    # Its audio is read as an audio track.
    assert not np.isnan(VideoAudioFeatures().fit_transform([str(wav)])).any()


def test_too_many_frames_is_refused_from_the_header(clips):
    message = _named_error(
        VideoFeatures(INTENSITY, max_frames=29), clips["levels"], "max_frames=29"
    )
    assert "its header declares 30 frames" in message


def test_too_many_frames_is_refused_while_decoding(tmp_path):
    # A raw H.264 stream declares nothing: its packets are counted.
    path = str(tmp_path / "raw.h264")
    with av.open(path, "w", format="h264") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width = stream.height = 16
        for frame in moving_square(20, size=16):
            image = av.VideoFrame.from_ndarray(frame, format="rgb24")
            for packet in stream.encode(image):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    message = _named_error(
        VideoFeatures(INTENSITY, max_frames=12), path, "max_frames=12"
    )
    assert "counted while reading, it holds more frames than the limit" in message
    block = VideoFeatures(INTENSITY, n_frames=3).fit_transform([path])
    assert not np.isnan(block).any()


def test_too_large_frames_and_too_long_videos_are_refused(clips):
    message = _named_error(
        VideoFeatures(INTENSITY, max_frame_pixels=1000),
        clips["levels"],
        "max_frame_pixels=1000",
    )
    assert "32 x 32 = 1024 pixels" in message
    _named_error(
        VideoFeatures(INTENSITY, max_duration=2.5), clips["levels"], "max_duration=2.5"
    )
    _named_error(
        VideoAudioFeatures(max_duration=2.0), clips["sparse"], "max_duration=2.0"
    )


def test_a_file_over_max_file_bytes_is_refused(clips):
    _named_error(
        VideoFeatures(INTENSITY, max_file_bytes=100),
        clips["levels"],
        "max_file_bytes=100",
    )


def test_a_path_outside_root_is_refused_whatever_on_error(clips, tmp_path):
    inside = tmp_path / "root"
    inside.mkdir()
    for extractor in (VideoFeatures(INTENSITY), VideoAudioFeatures()):
        extractor.set_params(root=str(inside), on_error="nan")
        with pytest.raises(PathOutsideRootError, match="outside root"):
            extractor.fit_transform([clips["levels"]])


def test_on_error_nan_gives_a_nan_row_and_a_warning(clips, tmp_path):
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(b"not a video at all")
    column = [clips["levels"], str(noise)]
    with pytest.warns(UserWarning, match="1 input"):
        block = VideoFeatures(INTENSITY, on_error="nan").fit_transform(column)
    assert np.isnan(block[1]).all() and not np.isnan(block[0]).any()


# -- in a study -------------------------------------------------------------------


def _video_table(folder, n_rows=24):
    """Videos of a moving square and a tone: class 1 brighter and lower."""
    rows = []
    rng = np.random.default_rng(0)
    for i in range(n_rows):
        label = i % 2
        # Class 1 is brighter and its square moves the other way.
        frames = moving_square(10, seed=i) // 2 + 128 * label
        if label:
            frames = frames[::-1]
        frequency = (300 if label else 900) + rng.integers(-50, 50)
        path = write_video(
            folder / f"v{i}.mp4", frames, 10, audio=_tone(1.0, frequency)
        )
        rows.append({"clip": path, "y": label})
    table = pd.DataFrame(rows)
    table.loc[[3, 8][: n_rows // 10 + 1], "clip"] = None
    return table


def test_a_study_fuses_the_frames_and_the_audio_of_one_column(tmp_path):
    from skfusion.study import FusionStudy

    table = _video_table(tmp_path)
    audio = AudioFeatures(sr=8000, n_mfcc=4, n_mels=8, features=("mfcc",))
    study = FusionStudy(
        [
            ("frames", VideoFeatures(INTENSITY, n_frames=3), "clip"),
            ("sound", VideoAudioFeatures(audio), "clip"),
        ],
        strategies=["unimodal:frames", "unimodal:sound", "late:mean"],
        cv=3,
        contributions=None,
        random_state=0,
    ).fit(table, table["y"])
    assert set(study.summary_.index) == {
        "unimodal:frames",
        "unimodal:sound",
        "late:mean",
    }
    assert study.availability_.sum().to_dict() == {"frames": 22, "sound": 22}
    assert study.summary_["balanced_accuracy_mean"].min() > 0.8


def test_a_study_refuses_one_stream_read_twice(tmp_path):
    from skfusion.study import FusionStudy

    table = _video_table(tmp_path, n_rows=6)
    study = FusionStudy(
        [
            ("frames", VideoFeatures(INTENSITY), "clip"),
            ("again", VideoFeatures(INTENSITY), "clip"),
        ],
        strategies=["unimodal:frames"],
    )
    with pytest.raises(ValueError, match="Column 'clip' is in two modalities"):
        study.fit(table, table["y"])
    with pytest.raises(ValueError, match="Column 'clip' is in two modalities"):
        FusionStudy(
            [
                ("both", VideoFeatures(INTENSITY, audio=AudioFeatures()), "clip"),
                ("sound", VideoAudioFeatures(), "clip"),
            ]
        ).fit(table, table["y"])


def test_the_video_kinds_by_default(monkeypatch):
    import importlib.util

    from skfusion.extractors import PretrainedImageEmbedder
    from skfusion.study import MissingExtraError, default_modality_transformer

    frames = default_modality_transformer("video", image_encoder="classical", root="v")
    assert isinstance(frames, VideoFeatures) and frames.root == "v"
    assert isinstance(frames.frame_extractor, ImageFeatures)
    pretrained = default_modality_transformer("video", image_encoder="pretrained")
    assert isinstance(pretrained.frame_extractor, PretrainedImageEmbedder)
    assert pretrained.frame_extractor.statistics
    sound = default_modality_transformer("video-audio", root="v")
    assert isinstance(sound, VideoAudioFeatures) and sound.root == "v"

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "av" else find_spec(name, *args),
    )
    for kind in ("video", "video-audio"):
        with pytest.raises(
            MissingExtraError, match=re.escape("skfusion[video]")
        ) as info:
            default_modality_transformer(kind)
        assert info.value.extra == "video" and info.value.packages == ["av"]


@pytest.mark.slow
def test_the_command_line_study_of_frames_and_sound(tmp_path, capsys):
    from skfusion.cli import main

    table = _video_table(tmp_path)
    csv = tmp_path / "clips.csv"
    table.to_csv(csv, index=False)
    out = tmp_path / "report"
    main(
        [
            "study", str(csv), "--target", "y",
            "--modality", "frames=video:clip", "--modality", "sound=video-audio:clip",
            "--image-encoder", "classical", "--strategies",
            "unimodal:frames,unimodal:sound,late:mean", "--cv", "3",
            "--no-contributions", "--n-jobs", "1", "--out", str(out),
        ]
    )  # fmt: skip
    results = pd.read_csv(out / "results.csv", index_col="strategy")
    assert set(results.index) == {"unimodal:frames", "unimodal:sound", "late:mean"}
    assert "Image encoder: classical" in capsys.readouterr().out


def test_the_command_line_refuses_a_video_column_read_twice(tmp_path, capsys):
    from skfusion.cli import main

    table = _video_table(tmp_path, n_rows=4)
    csv = tmp_path / "clips.csv"
    table.to_csv(csv, index=False)
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "study", str(csv), "--target", "y",
                "--modality", "frames=video:clip", "--modality", "again=video:clip",
            ]
        )  # fmt: skip
    assert exit_info.value.code == 2
    assert "only a video and a video-audio modality" in capsys.readouterr().err
