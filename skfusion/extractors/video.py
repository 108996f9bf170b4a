"""Video extractors (PyAV): pooled frame features, motion, and the audio track.

A video file holds two modalities: what is seen and what is heard.
:class:`VideoFeatures` describes the frames (each sampled frame through an
image extractor, pooled over time, with motion and the clip's duration and
frame rate); :class:`VideoAudioFeatures` describes the audio track of the
same files with :class:`~skfusion.extractors.AudioFeatures`. List the same
column of paths under two modality names to fuse them::

    make_modality_transformer(
        ("frames", VideoFeatures(), "clip"),
        ("sound", VideoAudioFeatures(), "clip"),
    )

or, on the command line, ``--modality frames=video:clip --modality
sound=video-audio:clip``. The two extractors read different streams of the
file (their ``reads_streams``), so a study accepts the column in both
modalities, as it refuses any other column used twice.
``VideoFeatures(audio=AudioFeatures())`` instead puts the audio features in
the video's own block (one modality; the file opened once per row).

PyAV, which ships FFmpeg in its wheel, comes with ``pip install
'skfusion[video]'`` and is imported when a file is first read; the default
frame extractor, :class:`~skfusion.extractors.PretrainedImageEmbedder`, with
``skfusion[pretrained]``, and :class:`~skfusion.extractors.AudioFeatures`
with ``skfusion[audio]``.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import clone

from ..utils._docstrings import fill_docstring
from ..utils._sklearn_compat import HasMethods, Interval
from ._base import BaseExtractor
from ._io import PathOutsideRootError, import_optional, is_missing
from ._prefetch import prefetched
from ._video_reader import (
    DEFAULT_MAX_DURATION,
    DEFAULT_MAX_FRAME_PIXELS,
    DEFAULT_MAX_FRAMES,
    read_audio_track,
    read_video,
)

__all__ = [
    "DEFAULT_MAX_DURATION",
    "DEFAULT_MAX_FRAME_PIXELS",
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MAX_VIDEO_BYTES",
    "VideoAudioFeatures",
    "VideoFeatures",
]

#: Default bound on the size of a video file: 4 GiB (FFmpeg reads it in
#: pieces; the bound only refuses what no study of clips should meet).
DEFAULT_MAX_VIDEO_BYTES = 2**32

_POOLING = {
    "mean": lambda rows: rows.mean(axis=0),
    "std": lambda rows: rows.std(axis=0),
    "min": lambda rows: rows.min(axis=0),
    "max": lambda rows: rows.max(axis=0),
    "delta": lambda rows: np.abs(np.diff(rows, axis=0)).mean(axis=0),
}
# The frame an image extractor is fitted on: it learns nothing from data.
_BLANK_FRAME = np.zeros((32, 32, 3), dtype=np.uint8)
# The audio an audio extractor is fitted on when no training file has a
# track: one second of silence.
_SILENCE = (np.zeros((16000, 1), dtype=np.float32), 16000.0)

_LIMIT_CONSTRAINTS = {
    "max_duration": [Interval(Real, 0, None, closed="neither"), None],
}


def _needs_av(name):
    import_optional("av", extra="video", needed_by=name)


def _has_methods(estimator, name, parameter):
    missing = [
        method
        for method in ("fit", "transform", "get_feature_names_out")
        if not hasattr(estimator, method)
    ]
    if missing:
        raise TypeError(
            f"{name}: {parameter} must be a transformer with fit, transform and "
            f"get_feature_names_out; {type(estimator).__name__} lacks {missing}."
        )


class _AudioTrackMixin:
    """Fitting an audio extractor on the first audio track of the column."""

    def _fit_audio(self, audio, values):
        """``audio`` cloned and fitted on the first track found, else silence."""
        from .audio import AudioFeatures

        fitted = AudioFeatures() if audio is None else clone(audio)
        _has_methods(fitted, type(self).__name__, "audio")
        track = self._first_track(values)
        fitted.fit([_SILENCE if track is None else track])
        return fitted

    def _first_track(self, values):
        for position, item in enumerate(values):
            if is_missing(item):
                continue
            try:
                track = read_audio_track(
                    self._locate(item),
                    max_duration=self.max_duration,
                    needed_by=type(self).__name__,
                )
            except PathOutsideRootError as exc:
                self._refuse(position, item, exc)
            except Exception as exc:
                self._handle_error(position, item, exc)
                continue
            if track is not None:
                return track
        return None

    def _audio_block(self, tracks):
        """The audio extractor's rows; NaN for a clip without an audio track."""
        width = len(self.audio_.get_feature_names_out())
        block = np.full((len(tracks), width), np.nan)
        present = [i for i, track in enumerate(tracks) if track is not None]
        if present:
            block[present] = self.audio_.transform([tracks[i] for i in present])
        return block


@fill_docstring
class VideoFeatures(_AudioTrackMixin, BaseExtractor):
    """Frame features pooled over time, motion, duration and frame rate of videos.

    Each video file (MP4, MOV, MKV, WebM, AVI: any container and codec that
    FFmpeg reads, through PyAV) is sampled at ``n_frames`` times spread
    uniformly over its duration ``D``: time ``i`` is ``start + (i + 1/2) D /
    n``, the centre of the ``i``-th of ``n`` equal parts. With
    ``frame_rate``, ``n`` is instead ``D * frame_rate`` rounded, at least 2
    and at most ``n_frames``, so that a long clip is sampled more densely in
    frames but never beyond ``n_frames``. The frame sampled at a time is the
    one shown then: the last frame whose timestamp is at most that time.

    Decoding seeks: a sampled time more than a second past the last decoded
    frame is reached by seeking to the keyframe before it and decoding
    forward from there, so a few frames of a long video cost a few
    keyframe intervals of decoding, not the whole file; times closer
    together are decoded forward. A seek that lands on a keyframe already
    decoded past raises the gap a seek must bridge (sparse keyframes are
    then decoded forward rather than twice). ``seek=False`` decodes every
    frame from the start; both give the same frames (the timestamps are
    compared exactly).

    The distinct sampled frames (``(H, W, 3)`` uint8 RGB arrays, in the
    video's own size) go through ``frame_extractor``, all the frames of a
    batch of videos in one call, and each of its features is pooled over the
    sampled times by every statistic of ``stats``. Then come:

    - motion: for each pair of consecutive sampled frames, the mean absolute
      difference of their grey levels in [0, 1] (ITU-R 601-2 luma averaged
      over a 64 x 64 grid of boxes, so that the measure does not depend on
      the frame size); ``motion__mean`` and ``motion__std`` over the pairs
      (0 for a still video);
    - ``clip__duration`` (seconds) and ``clip__frame_rate`` (the stream's
      average frames per second; NaN when the file does not give it);
    - with ``audio``, the audio extractor's features of the file's first
      audio track, ``audio__<name>`` (NaN for a file without one).

    Output columns: for each statistic ``s`` (in ``stats`` order) and each
    frame feature ``f``, ``frame_<s>__<f>``, or ``<g>_<s>__<h>`` for a
    feature named ``<g>__<h>`` (the default extractor's
    ``embedding__emb0`` gives ``embedding_mean__emb0``, its
    ``statistics__intensity_mean`` gives ``statistics_mean__intensity_mean``):
    the part before the double underscore is a sub-block that
    :class:`~skfusion.fusion.WideBlockReducer` judges on its own, so a
    study compacts the wide pooled embeddings and keeps the statistics.

    Hostile files are refused with a ValueError naming the extractor, the
    row and the path (or give a NaN row with ``on_error="nan"``): a file
    larger than ``max_file_bytes`` (before it is opened); a frame larger
    than ``max_frame_pixels``, a video longer than ``max_duration`` or with
    more than ``max_frames`` frames, from the header before any frame is
    decoded, and again while decoding (a header may lie); a file that is
    not a video, or corrupt (FFmpeg's error, or a frame it flags corrupt);
    a truncated file (FFmpeg's error, or frames that stop more than 5 % of
    the declared duration, and more than 3 frames, before it). A path
    outside ``root`` always raises a ``PathOutsideRootError``. A missing
    input (None, NaN, empty string) gives an all-NaN row.

    Parameters
    ----------
    frame_extractor : transformer, default=None
        The image extractor each sampled frame goes through; it takes a list
        of ``(H, W, 3)`` uint8 arrays, e.g. any of skfusion's image
        extractors. It is cloned and fitted on one black frame: it must learn
        nothing from data. None is
        ``PretrainedImageEmbedder(statistics=True)``, the study's default for
        images (``skfusion[pretrained]``).

    n_frames : int, default=8
        Frames sampled uniformly in time (at least 2); with ``frame_rate``,
        the most frames sampled.

    frame_rate : float, default=None
        Sample about this many frames per second of video instead (see
        above); None samples ``n_frames``.

    stats : tuple of {"mean", "std", "min", "max", "delta"}, \
            default=("mean", "std", "max")
        Statistics pooling each frame feature over the sampled times, in
        output order; ``"delta"`` is the mean absolute change of the feature
        between consecutive sampled frames.

    audio : transformer, default=None
        An extractor of the audio track, e.g.
        :class:`~skfusion.extractors.AudioFeatures`: it takes
        ``(samples, rate)`` tuples, samples of shape ``(n_samples,
        n_channels)``. Cloned and fitted on the first training file's audio
        track. None leaves the audio out (see :class:`VideoAudioFeatures` for
        the audio as a modality of its own).

    seek : bool, default=True
        Reach sampled times far apart by seeking (see above); False decodes
        every frame.

    max_frames : int, default=2**18
        Refuse a video with more frames (262,144: 2.4 hours at 30 frames per
        second), declared or decoded.

    max_duration : float, default=3600
        Refuse a video (or audio track) longer than this many seconds.

    max_frame_pixels : int, default=2**25
        Refuse a video whose frames have more pixels (about 33.5 million:
        8K UHD fits), from the header before decoding.

    batch_size : int, default=4
        Videos read, and their frames featurized, together.

    n_jobs : int, default=None
        Threads that decode the next batches while the frame extractor runs
        on the current one, in this thread; None means 1.

    verbose : bool, default=False
        Show a progress bar.

    %(video_files)s

    Attributes
    ----------
    frame_extractor_ : transformer
        The fitted clone of ``frame_extractor`` (or the default).

    audio_ : transformer or None
        The fitted clone of ``audio``.

    feature_names_out_ : ndarray of str
        Names of the output columns (see above).

    n_features_out_ : int
        ``len(stats)`` times the frame extractor's width, plus 4, plus the
        audio extractor's width.

    See Also
    --------
    VideoAudioFeatures : The audio track of the same files, as a modality.
    PretrainedImageEmbedder : The default frame extractor.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import av
    >>> import numpy as np
    >>> from skfusion.extractors import ImageFeatures, VideoFeatures
    >>> folder = Path(tempfile.mkdtemp())
    >>> with av.open(str(folder / "clip.mp4"), "w") as container:
    ...     stream = container.add_stream("libx264", rate=10)
    ...     stream.width, stream.height = 32, 32
    ...     for i in range(20):
    ...         pixels = np.full((32, 32, 3), 10 * i, dtype=np.uint8)
    ...         frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
    ...         for packet in stream.encode(frame):
    ...             container.mux(packet)
    ...     for packet in stream.encode():
    ...         container.mux(packet)
    >>> video = VideoFeatures(
    ...     ImageFeatures(features=("intensity",), size=(16, 16)), n_frames=4
    ... )
    >>> block = video.fit_transform([str(folder / "clip.mp4"), None])
    >>> block.shape
    (2, 40)
    >>> video.get_feature_names_out()[[0, 12, -4, -2, -1]].tolist()
    ['frame_mean__intensity_mean', 'frame_std__intensity_mean', 'motion__mean', \
'clip__duration', 'clip__frame_rate']
    >>> block[0, -2:].tolist()
    [2.0, 10.0]
    >>> bool(np.isnan(block[1]).all())
    True
    """

    learns_from_data = False

    media_kind = "video"

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        **_LIMIT_CONSTRAINTS,
        "frame_extractor": [HasMethods(["fit", "transform"]), None],
        "n_frames": [Interval(Integral, 2, None, closed="left")],
        "frame_rate": [Interval(Real, 0, None, closed="neither"), None],
        "stats": [tuple, list],
        "audio": [HasMethods(["fit", "transform"]), None],
        "seek": ["boolean"],
        "max_frames": [Interval(Integral, 1, None, closed="left"), None],
        "max_frame_pixels": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        frame_extractor=None,
        *,
        n_frames=8,
        frame_rate=None,
        stats=("mean", "std", "max"),
        audio=None,
        seek=True,
        max_frames=DEFAULT_MAX_FRAMES,
        max_duration=DEFAULT_MAX_DURATION,
        max_frame_pixels=DEFAULT_MAX_FRAME_PIXELS,
        batch_size=4,
        n_jobs=None,
        verbose=False,
        on_error="raise",
        root=None,
        max_file_bytes=DEFAULT_MAX_VIDEO_BYTES,
    ):
        self.frame_extractor = frame_extractor
        self.n_frames = n_frames
        self.frame_rate = frame_rate
        self.stats = stats
        self.audio = audio
        self.seek = seek
        self.max_frames = max_frames
        self.max_duration = max_duration
        self.max_frame_pixels = max_frame_pixels
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.root = root
        self.max_file_bytes = max_file_bytes

    @property
    def reads_streams(self):
        """The streams of a file this extractor reads: ``{"video"}``, and
        ``"audio"`` with ``audio``. A study lets two modalities share a
        column when they read different streams."""
        return frozenset({"video"} | ({"audio"} if self.audio is not None else set()))

    def _fit(self, values):
        name = type(self).__name__
        stats = list(self.stats)
        unknown = [s for s in stats if s not in _POOLING]
        if not stats or unknown or len(set(stats)) != len(stats):
            raise ValueError(
                f"{name}: stats should be a non-empty tuple of distinct values "
                f"among {list(_POOLING)}; got {self.stats!r}."
            )
        _needs_av(name)
        if self.frame_extractor is None:
            from .image import PretrainedImageEmbedder

            extractor = PretrainedImageEmbedder(statistics=True)
        else:
            extractor = clone(self.frame_extractor)
        _has_methods(extractor, name, "frame_extractor")
        self.frame_extractor_ = extractor.fit([_BLANK_FRAME])
        self.audio_ = None
        if self.audio is not None:
            self.audio_ = self._fit_audio(self.audio, values)

    def _read(self, item):
        return read_video(
            item,
            n_frames=self.n_frames,
            frame_rate=self.frame_rate,
            seek=self.seek,
            max_frames=self.max_frames,
            max_duration=self.max_duration,
            max_frame_pixels=self.max_frame_pixels,
            audio=self.audio_ is not None,
            needed_by=type(self).__name__,
        )

    def _featurize_batch(self, clips):
        frames = [frame for clip in clips for frame in clip.frames]
        features = np.asarray(self.frame_extractor_.transform(frames), dtype=float)
        rows, start = [], 0
        for clip in clips:
            own = features[start : start + len(clip.frames)][clip.order]
            start += len(clip.frames)
            pooled = [_POOLING[stat](own) for stat in self.stats]
            change = np.abs(np.diff(clip.grey, axis=0)).mean(axis=(1, 2))
            motion = [change.mean(), change.std()] if change.size else [0.0, 0.0]
            rows.append(
                np.concatenate([*pooled, motion, [clip.duration, clip.frame_rate]])
            )
        block = np.vstack(rows)
        if self.audio_ is not None:
            block = np.hstack([block, self._audio_block([c.audio for c in clips])])
        return block

    def _feature_names(self):
        frame_names = [str(n) for n in self.frame_extractor_.get_feature_names_out()]
        names = []
        for stat in self.stats:
            for feature in frame_names:
                head, separator, tail = feature.partition("__")
                if separator and head and tail:
                    names.append(f"{head}_{stat}__{tail}")
                else:
                    names.append(f"frame_{stat}__{feature}")
        names += ["motion__mean", "motion__std", "clip__duration", "clip__frame_rate"]
        if self.audio_ is not None:
            names += [f"audio__{n}" for n in self.audio_.get_feature_names_out()]
        return names

    def _run_batches(self, values, batches):
        # The frame extractor (a network) runs in this thread while n_jobs
        # threads decode the next batches of videos.
        return prefetched(
            self._read_batch, self._featurize_read, values, batches, self.n_jobs
        )


@fill_docstring
class VideoAudioFeatures(_AudioTrackMixin, BaseExtractor):
    """Audio features of the audio track of video files.

    The first audio track of each video file is decoded whole by PyAV (any
    codec FFmpeg reads: AAC, MP3, Opus, PCM...) into float samples, every
    channel kept, at the track's own rate, and goes through ``audio`` as a
    ``(samples, rate)`` tuple; :class:`~skfusion.extractors.AudioFeatures`
    (the default) mixes it down and resamples it to its ``sr`` as it does a
    WAV file. The output is the audio extractor's, with its feature names.

    This is the second modality of a column of video files: list the column
    under :class:`VideoFeatures` and under this extractor, with two modality
    names (``--modality frames=video:clip --modality sound=video-audio:clip``
    on the command line). A file without an audio track is a missing
    modality: an all-NaN row, as for a missing input.

    Hostile files are refused with a ValueError naming the extractor, the
    row and the path (or give a NaN row with ``on_error="nan"``): a file
    over ``max_file_bytes``; a track longer than ``max_duration``, declared
    or decoded (a long silence compresses to little); a file that is not a
    media file, or corrupt; a track that stops more than 5 % short of its
    declared duration (truncated). A path outside ``root`` always raises.

    Parameters
    ----------
    audio : transformer, default=None
        The audio extractor; it takes ``(samples, rate)`` tuples with samples
        of shape ``(n_samples, n_channels)``. Cloned and fitted on the first
        training file's audio track (one second of silence when no training
        file has one). None is ``AudioFeatures()``.

    max_duration : float, default=3600
        Refuse an audio track longer than this many seconds.

    batch_size : int, default=16
        Files handed to one job.

    %(extractor_jobs)s

    %(video_files)s

    Attributes
    ----------
    audio_ : transformer
        The fitted clone of ``audio`` (or the default).

    feature_names_out_ : ndarray of str
        The audio extractor's feature names.

    n_features_out_ : int
        The audio extractor's width.

    See Also
    --------
    VideoFeatures : The frames of the same files.
    AudioFeatures : Audio files (WAV, FLAC, ...) and in-memory clips.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import av
    >>> import numpy as np
    >>> from skfusion.extractors import AudioFeatures, VideoAudioFeatures
    >>> path = str(Path(tempfile.mkdtemp()) / "tone.mp4")
    >>> with av.open(path, "w") as container:
    ...     video = container.add_stream("libx264", rate=10)
    ...     video.width, video.height = 32, 32
    ...     sound = container.add_stream("aac", rate=16000, layout="mono")
    ...     black = np.zeros((32, 32, 3), dtype=np.uint8)
    ...     for i in range(10):
    ...         frame = av.VideoFrame.from_ndarray(black, format="rgb24")
    ...         for packet in video.encode(frame):
    ...             container.mux(packet)
    ...     for packet in video.encode():
    ...         container.mux(packet)
    ...     t = np.arange(16000) / 16000
    ...     tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    ...     samples = av.AudioFrame.from_ndarray(
    ...         tone[None], format="fltp", layout="mono"
    ...     )
    ...     samples.sample_rate = 16000
    ...     for packet in [*sound.encode(samples), *sound.encode()]:
    ...         container.mux(packet)
    >>> spectral = AudioFeatures(features=("spectral",), stats=("median",))
    >>> track = VideoAudioFeatures(spectral)
    >>> block = track.fit_transform([path, None])
    >>> track.get_feature_names_out()[:1].tolist()
    ['spectral_centroid_median']
    >>> bool(abs(block[0, 0] - 1000) < 100)  # spectral centroid (Hz) of the tone
    True
    >>> bool(np.isnan(block[1]).all())
    True
    """

    learns_from_data = False
    #: The streams of a file this extractor reads (see VideoFeatures).
    reads_streams = frozenset({"audio"})

    media_kind = "video-audio"

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        **_LIMIT_CONSTRAINTS,
        "audio": [HasMethods(["fit", "transform"]), None],
    }

    def __init__(
        self,
        audio=None,
        *,
        max_duration=DEFAULT_MAX_DURATION,
        batch_size=16,
        n_jobs=None,
        verbose=False,
        on_error="raise",
        root=None,
        max_file_bytes=DEFAULT_MAX_VIDEO_BYTES,
    ):
        self.audio = audio
        self.max_duration = max_duration
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.root = root
        self.max_file_bytes = max_file_bytes

    def _fit(self, values):
        _needs_av(type(self).__name__)
        self.audio_ = self._fit_audio(self.audio, values)

    def _read(self, item):
        return read_audio_track(
            item, max_duration=self.max_duration, needed_by=type(self).__name__
        )

    def _featurize_batch(self, tracks):
        return self._audio_block(tracks)

    def _feature_names(self):
        return [str(n) for n in self.audio_.get_feature_names_out()]
