"""Reading video files with PyAV: limits, the frames shown at chosen times, audio.

A video is opened once per row; its header is checked against the limits
before any frame is decoded, then the frames shown at the sampled times are
decoded by seeking to the keyframe before each time (or, with ``seek=False``,
by decoding every frame from the start) and the audio track, when asked for,
is decoded whole. PyAV is imported on first use (``skfusion[video]``).
"""

import math
from fractions import Fraction

import numpy as np

from ._io import check_finite, import_optional
from ._readers import LUMA

__all__ = [
    "DEFAULT_MAX_DURATION",
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MAX_FRAME_PIXELS",
    "MOTION_SIZE",
    "VideoClip",
    "read_audio_track",
    "read_video",
]

#: Default bound on the frames of one video (declared by its header, or
#: decoded): 2**18 = 262,144, 2.4 hours at 30 frames per second.
DEFAULT_MAX_FRAMES = 2**18
#: Default bound on the duration of one video or audio track, in seconds.
DEFAULT_MAX_DURATION = 3600.0
#: Default bound on the pixels of one frame: 2**25, about 33.5 million,
#: which an 8K UHD frame (7680 x 4320) fits.
DEFAULT_MAX_FRAME_PIXELS = 2**25
#: Side of the grid of boxes whose grey levels motion is measured on.
MOTION_SIZE = 64

# Until a seek shows otherwise, a sampled time this many seconds past the
# last decoded frame is reached by seeking rather than decoding forward.
_FIRST_SEEK_GAP = 1.0
# A stream is truncated when its last frame ends this much (a share of its
# declared duration, or this many frame periods if more) before the header
# says it should.
_TRUNCATION_SHARE = 0.05
_TRUNCATION_FRAMES = 3


class VideoClip:
    """What :func:`read_video` decoded from one file.

    Attributes
    ----------
    frames : list of ndarray of shape (H, W, 3), uint8
        The distinct frames shown at the sampled times, in time order.
    order : ndarray of int
        For each sampled time, the position of its frame in ``frames``.
    grey : ndarray of shape (n_times, MOTION_SIZE, MOTION_SIZE)
        The frame of each sampled time as grey levels in [0, 1], averaged
        over ``MOTION_SIZE`` x ``MOTION_SIZE`` boxes.
    duration : float
        Seconds, from the header (or the packets when it has none).
    frame_rate : float
        Average frames per second; NaN when the file does not say.
    n_decoded : int
        Frames decoded to reach them (seeking decodes fewer).
    audio : tuple of (ndarray, float) or None
        ``(samples, rate)`` of the audio track when asked for and present.
    """

    def __init__(self, frames, order, grey, duration, frame_rate, n_decoded):
        self.frames = frames
        self.order = order
        self.grey = grey
        self.duration = duration
        self.frame_rate = frame_rate
        self.n_decoded = n_decoded
        self.audio = None


def _av(needed_by):
    return import_optional("av", extra="video", needed_by=needed_by)


def _open(path, av):
    """The container, FFmpeg's errors worded for a person."""
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise ValueError(_ffmpeg_reason(exc)) from exc


def _ffmpeg_reason(exc):
    reason = getattr(exc, "strerror", None) or str(exc)
    return (
        f"PyAV cannot decode it ({reason}): the file is corrupt, truncated or "
        "not a video"
    )


def read_video(
    path,
    *,
    n_frames,
    frame_rate,
    seek,
    max_frames,
    max_duration,
    max_frame_pixels,
    audio=False,
    needed_by="VideoFeatures",
):
    """Read the frames of a video at times sampled uniformly over its duration.

    Parameters
    ----------
    path : path-like
        The video file (any container and codec FFmpeg reads).

    n_frames : int
        Frames sampled (at most this many with ``frame_rate``).

    frame_rate : float or None
        Sample about this many frames per second of video instead, at least
        2 and at most ``n_frames``.

    seek : bool
        Reach each sampled time by seeking to the keyframe before it when it
        lies far ahead (True), or decode every frame from the start (False).
        Both give the same frames.

    max_frames, max_duration, max_frame_pixels : int, float, int or None
        Limits: refused from the header before decoding, and while decoding.

    audio : bool, default=False
        Also decode the audio track (None in the clip when there is none).

    needed_by : str
        The extractor, for the message when PyAV is not installed.

    Returns
    -------
    clip : VideoClip
    """
    av = _av(needed_by)
    limits = {
        "max_frames": max_frames,
        "max_duration": max_duration,
        "max_frame_pixels": max_frame_pixels,
    }
    sampling = {"n_frames": n_frames, "frame_rate": frame_rate, "seek": seek}
    try:
        with _open(path, av) as container:
            header = _Header(container, **limits)
            if header.seconds:
                clip = _sample(container, header, **sampling, **limits)
        if not header.seconds:
            # No duration in the header: the packets' timestamps say it, read
            # without decoding (and counted against max_frames), then the
            # file is opened again (not every format seeks back to its start).
            with _open(path, av) as container:
                header.count_packets(container, max_frames)
            _check_duration(header.seconds, max_duration, "video")
            with _open(path, av) as container:
                clip = _sample(container, header, **sampling, **limits)
    except av.FFmpegError as exc:
        raise ValueError(_ffmpeg_reason(exc)) from exc
    if audio:
        clip.audio = read_audio_track(
            path, max_duration=max_duration, needed_by=needed_by
        )
    return clip


def read_audio_track(path, *, max_duration, needed_by="VideoAudioFeatures"):
    """The first audio track of a video file, or None when it has none.

    Parameters
    ----------
    path : path-like
        The video file.

    max_duration : float or None
        Refuse a track declared, or decoded, longer than this (seconds).

    needed_by : str
        The extractor, for the message when PyAV is not installed.

    Returns
    -------
    audio : tuple of (ndarray of shape (n_samples, n_channels), float) or None
        The float32 samples in [-1, 1] and their rate (Hz).
    """
    av = _av(needed_by)
    with _open(path, av) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        try:
            return _decode_audio(av, container, stream, max_duration)
        except av.FFmpegError as exc:
            raise ValueError(_ffmpeg_reason(exc)) from exc


def _decode_audio(av, container, stream, max_duration):
    rate = stream.rate or stream.codec_context.sample_rate
    if not rate:
        raise ValueError("the audio track does not say its sampling rate")
    declared = _stream_seconds(stream)
    _check_duration(declared, max_duration, "audio track")
    limit = None if max_duration is None else math.ceil(max_duration * rate)
    # Planar float keeps every channel apart: (channels, samples) per frame.
    resampler = av.AudioResampler(format="fltp")
    chunks, total = [], 0
    for frame in container.decode(stream):
        for converted in resampler.resample(frame):
            chunk = converted.to_ndarray()
            total += chunk.shape[1]
            if limit is not None and total > limit:
                raise ValueError(
                    f"the audio track is longer than max_duration={max_duration} "
                    "s; raise max_duration if the file is genuine."
                )
            chunks.append(chunk)
    for converted in resampler.resample(None):
        chunks.append(converted.to_ndarray())
    if not chunks or sum(chunk.shape[1] for chunk in chunks) == 0:
        raise ValueError("the audio track holds no samples")
    samples = np.concatenate(chunks, axis=1).T.astype(np.float32, copy=False)
    decoded = samples.shape[0] / rate
    if declared:
        # A codec pads its last frame (AAC to 1,024 samples): cut to the
        # duration the container declares.
        samples = samples[: max(1, round(declared * rate))]
    if declared and decoded < declared * (1 - _TRUNCATION_SHARE) - 0.05:
        raise ValueError(
            f"truncated: the audio track holds {decoded:.3f} s, its header "
            f"says {declared:.3f} s"
        )
    check_finite(samples, "the audio track", "samples")
    return np.ascontiguousarray(samples), float(rate)


def _stream_seconds(stream):
    """The stream's own declared duration in seconds, or None."""
    if stream.duration is None or stream.time_base is None or stream.duration <= 0:
        return None
    return float(stream.duration * stream.time_base)


def _check_duration(seconds, max_duration, what):
    if seconds is not None and max_duration is not None and seconds > max_duration:
        raise ValueError(
            f"the {what} lasts {seconds:.1f} s, over the limit "
            f"max_duration={max_duration}; raise max_duration if the file is "
            "genuine."
        )


def _check_frame_count(count, max_frames, declared):
    if max_frames is not None and count > max_frames:
        said = (
            f"its header declares {count} frames, more"
            if declared
            else "counted while reading, it holds more frames"
        )
        raise ValueError(
            f"{said} than the limit max_frames={max_frames}; raise max_frames "
            "if the file is genuine."
        )


def _check_frame_size(width, height, max_frame_pixels):
    if max_frame_pixels is not None and width * height > max_frame_pixels:
        raise ValueError(
            f"a frame is {width} x {height} = {width * height} pixels, over the "
            f"limit max_frame_pixels={max_frame_pixels}; raise max_frame_pixels "
            "if the file is genuine."
        )


class _Header:
    """What a video's header says, checked against the limits before decoding."""

    def __init__(self, container, *, max_frames, max_duration, max_frame_pixels):
        if not container.streams.video:
            raise ValueError("the file holds no video stream")
        stream = container.streams.video[0]
        codec = stream.codec_context
        _check_frame_size(codec.width, codec.height, max_frame_pixels)
        self.time_base = stream.time_base or Fraction(1, 1_000_000)
        self.rate = stream.average_rate or stream.guessed_rate
        self.declared = _stream_seconds(stream)
        self.start = stream.start_time or 0
        self.seconds = self.declared
        self.indexed = True
        if self.declared is None and container.duration:
            self.seconds = container.duration / 1_000_000
        _check_duration(self.seconds, max_duration, "video")
        if stream.frames:
            _check_frame_count(stream.frames, max_frames, declared=True)
        elif self.seconds and self.rate:
            count = int(self.seconds * self.rate)
            _check_frame_count(count, max_frames, declared=True)

    def count_packets(self, container, max_frames):
        """Duration and start from the packets, for a header without them.

        An elementary stream without timestamps (raw H.264) lasts its packet
        count over its frame rate.
        """
        self.indexed = False
        first = last = None
        count = 0
        for packet in container.demux(container.streams.video[0]):
            if packet.size == 0:
                continue
            count += 1
            _check_frame_count(count, max_frames, declared=False)
            if packet.pts is None:
                continue
            end = packet.pts + (packet.duration or 0)
            first = packet.pts if first is None else min(first, packet.pts)
            last = end if last is None else max(last, end)
        if count == 0:
            raise ValueError("the video stream holds no frame")
        if first is not None and last > first:
            self.seconds, self.start = float((last - first) * self.time_base), first
        elif self.rate:
            self.seconds, self.start = count / float(self.rate), 0
        else:
            raise ValueError("the video gives neither timestamps nor a frame rate")


def _sample(
    container,
    header,
    *,
    n_frames,
    frame_rate,
    seek,
    max_frames,
    max_duration,
    max_frame_pixels,
):
    """The clip of the frames shown at the sampled times."""
    count = n_frames
    if frame_rate is not None:
        count = min(n_frames, max(2, round(header.seconds * frame_rate)))
    span = Fraction(header.seconds).limit_denominator(10**9) / header.time_base
    targets = [
        header.start + math.floor((i + Fraction(1, 2)) * span / count)
        for i in range(count)
    ]
    period = 1 / header.rate / header.time_base if header.rate else None
    cursor = _FrameCursor(
        container,
        # A file whose header gives no duration (an elementary stream) may
        # not seek at all: it is decoded from the start.
        seek=seek and header.indexed,
        period=period,
        max_frames=max_frames,
        max_pixels=max_frame_pixels,
    )
    shown = [cursor.frame_at(target) for target in targets]
    if cursor.at_end and header.declared:
        cursor.check_complete(header.declared)
    frame_rate = float(header.rate) if header.rate else float("nan")
    return _clip(shown, header.seconds, frame_rate, cursor.decoded)


class _FrameCursor:
    """Decodes forward to the frame shown at each of increasing target times.

    The frame shown at time ``t`` is the last one whose timestamp is at most
    ``t`` (the first frame, for a ``t`` before it). With ``seek``, a target
    far ahead of the last decoded frame is reached by seeking to the
    keyframe before it; "far" starts at one second and grows to the gap of
    any seek that landed on a keyframe already decoded past, so that a
    stream with sparse keyframes is decoded forward rather than again.
    Timestamps are compared as integers in the stream's time base, so that
    both ways of reaching a time pick the same frame.
    """

    def __init__(self, container, *, seek, period, max_frames, max_pixels):
        self.container = container
        stream = self.stream = container.streams.video[0]
        self.seek, self.period = seek, period
        self.max_frames, self.max_pixels = max_frames, max_pixels
        self.start = stream.start_time or 0
        self.gap = _FIRST_SEEK_GAP / stream.time_base
        self.frames = None
        self.shown = self.ahead = None
        self.position = None  # timestamp of the latest decoded frame
        self.decoded = 0
        self.at_end = False

    def frame_at(self, target):
        """The frame shown at ``target`` (in the stream's time base)."""
        if self.frames is None:
            self._restart(target if self.seek else None)
        elif self._worth_seeking(target):
            self._restart(target)
        if self.ahead is not None and self.ahead.pts <= target:
            self.shown, self.ahead = self.ahead, None
        while self.ahead is None and not self.at_end:
            self._place(self._next(), target)
        frame = self.shown if self.shown is not None else self.ahead
        if frame is None:
            seconds = float((target - self.start) * self.stream.time_base)
            raise ValueError(
                f"no frame could be decoded at {seconds:.3f} s: the file is "
                "truncated or corrupt"
            )
        return frame

    def check_complete(self, declared):
        """Refuse a stream whose frames stop well before its declared end."""
        if self.position is None:
            return
        period = self.period or 0
        end = self.start + declared / self.stream.time_base
        tolerance = max(
            _TRUNCATION_SHARE * (end - self.start), _TRUNCATION_FRAMES * period
        )
        if self.position + period < end - tolerance:
            found = float((self.position + period - self.start) * self.stream.time_base)
            raise ValueError(
                f"truncated: the frames stop at {found:.3f} s, the header says "
                f"{declared:.3f} s"
            )

    def _place(self, frame, target):
        if frame is None:
            self.at_end = True
        elif frame.pts <= target:
            self.shown = frame
        else:
            self.ahead = frame

    def _worth_seeking(self, target):
        return (
            self.seek
            and self.position is not None
            and (target - self.position > self.gap)
        )

    def _restart(self, target):
        """Decode from the keyframe before ``target`` (None: from the start)."""
        if target is not None:
            self.container.seek(int(target), backward=True, stream=self.stream)
        self.frames = self.container.decode(self.stream)
        self.shown = self.ahead = None
        self.at_end = False
        if target is None:
            return
        before = self.position
        first = self._next()
        if first is not None and first.pts > target and target > self.start:
            # The seek overshot (a format without an index): decode from the
            # start, and never seek again in this file.
            self.seek = False
            self.container.seek(0)
            self.frames = self.container.decode(self.stream)
            return
        if first is not None and before is not None and first.pts <= before:
            # Landed on a keyframe already decoded past: seek only further.
            self.gap = max(self.gap, target - first.pts)
        self._place(first, target)

    def _next(self):
        frame = next(self.frames, None)
        if frame is None:
            return None
        self.decoded += 1
        _check_frame_count(self.decoded, self.max_frames, declared=False)
        _check_frame_size(frame.width, frame.height, self.max_pixels)
        if getattr(frame, "is_corrupt", False):
            raise ValueError("FFmpeg flags a decoded frame as corrupt")
        if frame.pts is None:
            # An elementary stream without timestamps: one period on.
            previous = self.start - 1 if self.position is None else self.position
            frame.pts = previous + max(int(self.period or 1), 1)
        if self.position is None or frame.pts > self.position:
            self.position = frame.pts
        return frame


def _clip(shown, seconds, frame_rate, n_decoded):
    """The distinct frames as RGB arrays, and each time's grey thumbnail."""
    frames, order, seen, thumbnails = [], [], {}, []
    for frame in shown:
        key = id(frame)
        if key not in seen:
            seen[key] = len(frames)
            frames.append(frame.to_ndarray(format="rgb24"))
            thumbnails.append(_thumbnail(frames[-1]))
        order.append(seen[key])
    order = np.asarray(order)
    grey = np.stack(thumbnails)[order]
    return VideoClip(frames, order, grey, seconds, frame_rate, n_decoded)


def _thumbnail(rgb):
    """Grey levels in [0, 1] of ``MOTION_SIZE`` x ``MOTION_SIZE`` boxes.

    ITU-R 601-2 luma, then the mean of the pixels each box covers (a box of
    a frame smaller than the grid is one pixel): a few NumPy passes, cheaper
    than an FFmpeg rescale per frame.
    """
    grey = rgb @ _LUMA32
    return _box_means(_box_means(grey, 0), 1) / np.float32(255)


_LUMA32 = LUMA.astype(np.float32)


def _box_means(values, axis):
    size = values.shape[axis]
    edges = np.linspace(0, size, MOTION_SIZE + 1)
    starts = np.minimum(np.floor(edges[:-1]).astype(int), size - 1)
    ends = np.maximum(np.floor(edges[1:]).astype(int), starts + 1)
    padding = [(0, 0)] * values.ndim
    padding[axis] = (1, 0)
    totals = np.pad(np.cumsum(values, axis=axis), padding)
    sums = np.take(totals, ends, axis=axis) - np.take(totals, starts, axis=axis)
    shape = [1] * values.ndim
    shape[axis] = MOTION_SIZE
    return sums / (ends - starts).reshape(shape).astype(np.float32)
