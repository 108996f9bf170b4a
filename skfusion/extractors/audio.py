"""Audio extractor: pooled MFCC, log-mel and spectral-shape statistics (librosa).

librosa and soundfile are optional dependencies (``pip install
'skfusion[audio]'``), imported when features are first computed, so that
importing this module stays fast.
"""

import os
import struct
from numbers import Integral, Real

import numpy as np
from threadpoolctl import threadpool_limits

from ..utils._docstrings import fill_docstring
from ..utils._sklearn_compat import Interval
from ._base import BaseExtractor
from ._io import (
    DEFAULT_MAX_FILE_BYTES,
    check_finite,
    import_optional,
)

__all__ = ["AudioFeatures"]

_SPECTRAL = ("centroid", "bandwidth", "rolloff", "flatness", "zcr", "rms")
_FEATURES = ("mfcc", "logmel", "spectral")
_POOLING = {
    "mean": np.mean,
    "std": np.std,
    "min": np.min,
    "max": np.max,
    "median": np.median,
}


@fill_docstring
class AudioFeatures(BaseExtractor):
    """Clip-level statistics of frame-level MFCC, log-mel and spectral features.

    Each clip is read (WAV, FLAC, OGG and the other formats of libsndfile),
    mixed down to mono, resampled to ``sr`` and cut into overlapping frames.
    Frame-level features are computed from one short-time Fourier transform
    and each feature row is pooled over time with every statistic in
    ``stats``, so the output width does not depend on the clip length.

    Frame-level feature groups:

    - ``"mfcc"``: ``n_mfcc`` mel-frequency cepstral coefficients
      (``librosa.feature.mfcc`` of the log-mel spectrogram below);
    - ``"logmel"``: ``n_mels`` log-power mel bands in dB
      (``librosa.power_to_db`` of ``librosa.feature.melspectrogram``);
    - ``"spectral"``: six spectral-shape rows: centroid, bandwidth, 85%
      roll-off (Hz), flatness, zero-crossing rate and RMS energy.

    Output columns are ordered by feature group (in ``features`` order), then
    by row within the group, then by statistic (in ``stats`` order):
    ``mfcc0_mean, mfcc0_std, mfcc1_mean, ..., logmel0_mean, ...,
    spectral_centroid_mean, ...``. With ``mono=False`` the whole sequence is
    repeated for each channel, with names prefixed ``ch0_``, ``ch1_``, ...

    Parameters
    ----------
    sr : float, default=16000
        Sampling rate (Hz) that every clip is resampled to before feature
        extraction (``librosa.resample``, soxr high quality).

    features : tuple of {"mfcc", "logmel", "spectral"}, \
            default=("mfcc", "logmel", "spectral")
        Frame-level feature groups, in output order.

    stats : tuple of {"mean", "std", "min", "max", "median"}, \
            default=("mean", "std")
        Statistics pooling each frame-level row over time, in output order.

    n_mfcc : int, default=20
        Number of MFCC rows.

    n_mels : int, default=40
        Number of mel bands, for ``"logmel"`` and as the basis of ``"mfcc"``.

    n_fft : int, default=512
        FFT window length in samples (32 ms at 16 kHz); also the frame length
        of the zero-crossing rate and RMS.

    hop_length : int, default=None
        Samples between frames; None means ``n_fft // 4``.

    fmin : float, default=0.0
        Lowest frequency (Hz) of the mel filter bank.

    fmax : float, default=None
        Highest frequency (Hz) of the mel filter bank; None means ``sr / 2``.

    mono : bool, default=True
        Average the channels of a multichannel clip. If False, features are
        computed per channel; the number of channels is learned in
        :meth:`fit` from the first readable training clip, and a clip with
        another number of channels is an error for its row.

    batch_size : int, default=32
        Clips handed to one job.

    %(extractor_jobs)s

    on_error : {"raise", "nan"}, default="raise"
        What to do with an unreadable, corrupt, truncated or empty clip, or
        one holding NaN or infinite samples: raise a ValueError naming the
        extractor, the row and the path, or give a NaN row and one warning.

    %(extractor_files)s

    Attributes
    ----------
    n_channels_ : int
        Channels featurized per clip (1 when ``mono=True``).

    feature_names_out_ : ndarray of str
        Names of the output columns.

    n_features_out_ : int
        Number of output columns: ``n_channels_ * len(stats) *`` (``n_mfcc``
        + ``n_mels`` + 6, for the groups selected).

    See Also
    --------
    SignalFeatures : Band powers and time-domain statistics of biosignals.

    Notes
    -----
    A cell of the input column is a path to an audio file, a 1-D float array
    of samples already at ``sr``, a 2-D array of shape (n_frames,
    n_channels) (soundfile's orientation) at ``sr``, or a ``(samples,
    rate)`` tuple with the samples at ``rate`` Hz. Integer sample arrays are
    taken as PCM and scaled to [-1, 1) like soundfile does. None, NaN, an
    empty string or an empty array is a missing clip (a NaN row); an empty
    audio *file* is an error, and so is an uncompressed WAV or AIFF file
    holding fewer frames than its header says (a truncated file, which
    libsndfile would read as a shorter clip).

    Frames are centred (librosa's ``center=True``, zero padding); a clip
    shorter than ``n_fft`` is zero-padded to ``n_fft`` samples first, so even
    a few samples give one frame of features.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.extractors.audio import AudioFeatures
    >>> t = np.arange(8000) / 16000
    >>> tone = np.sin(2 * np.pi * 1000 * t).astype("float32")
    >>> audio = AudioFeatures(features=("spectral",), stats=("mean",))
    >>> block = audio.fit_transform([tone, None])
    >>> block.shape
    (2, 6)
    >>> audio.get_feature_names_out()[:2].tolist()
    ['spectral_centroid_mean', 'spectral_bandwidth_mean']
    >>> bool(abs(block[0, 0] - 1000) < 50)  # spectral centroid (Hz) of the tone
    True
    >>> bool(np.isnan(block[1]).all())
    True
    """

    media_kind = "audio"

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        "sr": [Interval(Real, 0, None, closed="neither")],
        "features": [list, tuple],
        "stats": [list, tuple],
        "n_mfcc": [Interval(Integral, 1, None, closed="left")],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left"), None],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [Interval(Real, 0, None, closed="neither"), None],
        "mono": ["boolean"],
    }

    def __init__(
        self,
        *,
        sr=16000,
        features=("mfcc", "logmel", "spectral"),
        stats=("mean", "std"),
        n_mfcc=20,
        n_mels=40,
        n_fft=512,
        hop_length=None,
        fmin=0.0,
        fmax=None,
        mono=True,
        batch_size=32,
        n_jobs=None,
        verbose=False,
        on_error="raise",
        root=None,
        max_file_bytes=DEFAULT_MAX_FILE_BYTES,
    ):
        self.sr = sr
        self.features = features
        self.stats = stats
        self.n_mfcc = n_mfcc
        self.n_mels = n_mels
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.fmin = fmin
        self.fmax = fmax
        self.mono = mono
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.root = root
        self.max_file_bytes = max_file_bytes

    # -- fit ----------------------------------------------------------------------

    def _fit(self, values):
        _check_choices("features", self.features, _FEATURES)
        _check_choices("stats", self.stats, tuple(_POOLING))
        fmax = self.sr / 2 if self.fmax is None else self.fmax
        if not self.fmin < fmax <= self.sr / 2:
            raise ValueError(
                f"AudioFeatures needs fmin < fmax <= sr / 2; got fmin={self.fmin}, "
                f"fmax={self.fmax}, sr={self.sr}."
            )
        if self.mono:
            self.n_channels_ = 1
            return
        first = self._read_first(values, self._load)
        if first is None:
            raise ValueError(
                "AudioFeatures(mono=False) learns the number of channels from "
                "the first readable training clip, but no training clip could "
                "be read."
            )
        self.n_channels_ = first.shape[0]

    # -- reading ------------------------------------------------------------------

    def _read(self, item):
        audio = self._load(item)
        if audio.shape[0] != self.n_channels_:
            raise ValueError(
                f"the clip has {audio.shape[0]} channel(s); the extractor was "
                f"fitted on {self.n_channels_}"
            )
        return audio

    def _load(self, item):
        """The clip as a float32 array of shape (n_channels, n_samples) at ``sr``."""
        if isinstance(item, str | os.PathLike):
            soundfile = import_optional(
                "soundfile", extra="audio", needed_by="AudioFeatures"
            )
            samples, rate = soundfile.read(item, dtype="float32", always_2d=True)
            if samples.size == 0:
                raise ValueError("the audio file holds no samples")
            declared = _declared_frames(item)
            if declared is not None and samples.shape[0] < declared:
                # libsndfile reads a cut WAV or AIFF as a shorter clip, silently.
                raise ValueError(
                    f"truncated: header says {declared} frames, file holds "
                    f"{samples.shape[0]}"
                )
        elif isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[1], Real):
                raise TypeError(
                    "an in-memory clip tuple should be (samples, rate); got a "
                    f"tuple of length {len(item)}"
                )
            samples, rate = _as_samples(item[0]), float(item[1])
            if rate <= 0:
                raise ValueError(f"the sampling rate should be positive; got {rate}")
        elif isinstance(item, np.ndarray):
            samples, rate = _as_samples(item), self.sr
        else:
            raise TypeError(
                "expected a path, an array of samples or a (samples, rate) "
                f"tuple; got {type(item).__name__}"
            )
        if samples.shape[0] == 0:
            raise ValueError("the clip holds no samples")
        audio = samples.T  # (n_channels, n_samples), librosa's orientation
        if self.mono:
            audio = audio.mean(axis=0, keepdims=True)
        check_finite(audio, "the clip", "samples")
        if rate != self.sr:
            librosa = import_optional(
                "librosa", extra="audio", needed_by="AudioFeatures"
            )
            audio = librosa.resample(audio, orig_sr=rate, target_sr=self.sr, axis=-1)
        return np.ascontiguousarray(audio, dtype=np.float32)

    # -- features -----------------------------------------------------------------

    def _featurize_batch(self, loaded_items):
        librosa = import_optional("librosa", extra="audio", needed_by="AudioFeatures")
        # The window and the mel filter bank depend only on the parameters:
        # build them once a batch rather than once a clip.
        window = librosa.filters.get_window("hann", self.n_fft, fftbins=True)
        mel_basis = None
        if {"mfcc", "logmel"} & set(self.features):
            mel_basis = librosa.filters.mel(
                sr=self.sr,
                n_fft=self.n_fft,
                n_mels=self.n_mels,
                fmin=self.fmin,
                fmax=self.fmax,
            )
        # The matrices are small: multithreaded BLAS costs more in thread
        # hand-offs than it saves (5x slower on a loaded 2-core machine);
        # parallelism comes from n_jobs instead.
        with threadpool_limits(limits=1, user_api="blas"):
            return np.stack(
                [
                    np.concatenate(
                        [
                            self._featurize_channel(librosa, window, mel_basis, y)
                            for y in audio
                        ]
                    )
                    for audio in loaded_items
                ]
            )

    def _featurize(self, loaded):
        return self._featurize_batch([loaded])[0]

    def _featurize_channel(self, librosa, window, mel_basis, y):
        n_fft = self.n_fft
        hop = self._hop_length()
        if y.shape[0] < n_fft:
            y = np.pad(y, (0, n_fft - y.shape[0]))
        stft = librosa.stft(y, n_fft=n_fft, hop_length=hop, window=window)
        magnitude = np.abs(stft)
        logmel = None
        if mel_basis is not None:
            # librosa.feature.melspectrogram(S=magnitude**2) computes the same.
            logmel = librosa.power_to_db(mel_basis @ magnitude**2)
        rows = []
        for group in self.features:
            if group == "mfcc":
                rows.append(librosa.feature.mfcc(S=logmel, n_mfcc=self.n_mfcc))
            elif group == "logmel":
                rows.append(logmel)
            else:
                shared = {"S": magnitude, "sr": self.sr}
                shared |= {"n_fft": n_fft, "hop_length": hop}
                centroid = librosa.feature.spectral_centroid(**shared)
                frames = {"frame_length": n_fft, "hop_length": hop}
                rows.extend(
                    [
                        centroid,
                        librosa.feature.spectral_bandwidth(**shared, centroid=centroid),
                        librosa.feature.spectral_rolloff(**shared),
                        librosa.feature.spectral_flatness(S=magnitude),
                        librosa.feature.zero_crossing_rate(y, **frames),
                        librosa.feature.rms(y=y, **frames),
                    ]
                )
        frames_matrix = np.vstack(rows).astype(np.float64)
        pooled = np.column_stack(
            [_POOLING[s](frames_matrix, axis=1) for s in self.stats]
        )
        return pooled.ravel()  # row-major: each row's statistics side by side

    def _hop_length(self):
        return self.n_fft // 4 if self.hop_length is None else self.hop_length

    def _feature_names(self):
        rows = []
        for group in self.features:
            if group == "mfcc":
                rows.extend(f"mfcc{i}" for i in range(self.n_mfcc))
            elif group == "logmel":
                rows.extend(f"logmel{i}" for i in range(self.n_mels))
            else:
                rows.extend(f"spectral_{name}" for name in _SPECTRAL)
        names = [f"{row}_{stat}" for row in rows for stat in self.stats]
        if self.mono:
            return names
        return [f"ch{c}_{name}" for c in range(self.n_channels_) for name in names]


def _check_choices(name, values, allowed):
    values = list(values)
    unknown = [v for v in values if v not in allowed]
    if not values or unknown or len(set(values)) != len(values):
        raise ValueError(
            f"AudioFeatures: {name} should be a non-empty tuple of distinct "
            f"values among {list(allowed)}; got {values!r}."
        )


# WAVE format tags whose frames are fixed-size blocks: PCM, IEEE float,
# A-law, mu-law (WAVE_FORMAT_EXTENSIBLE names one of them as its subformat).
_WAVE_UNCOMPRESSED = frozenset({0x0001, 0x0003, 0x0006, 0x0007})
_WAVE_EXTENSIBLE = 0xFFFE
_AIFC_UNCOMPRESSED = frozenset({b"NONE", b"sowt", b"fl32", b"FL32", b"fl64", b"FL64"})
# A data size of 0 or 2**32 - 1 is a streaming writer's "not known yet".
_UNKNOWN_SIZES = frozenset({0, 0xFFFFFFFF})


def _declared_frames(path):
    """Frames the header of an uncompressed WAV or AIFF file announces, or None.

    libsndfile trims the frame count of such a file to the bytes present
    (``soundfile.info(path).frames`` is that trimmed count), so the header
    is read here. None for other formats (they fail to decode when cut),
    compressed encodings and sizes a streaming writer left unknown.
    """
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12:
            return None
        if head[:4] in (b"RIFF", b"RIFX") and head[8:] == b"WAVE":
            return _wave_frames(handle, "<" if head[:4] == b"RIFF" else ">")
        if head[:4] == b"FORM" and head[8:] in (b"AIFF", b"AIFC"):
            return _aiff_frames(handle, head[8:] == b"AIFC")
    return None


def _chunks(handle, order):
    """(id, size) of each chunk, the handle at its data, until the file ends."""
    while len(header := handle.read(8)) == 8:
        chunk_id, size = header[:4], struct.unpack(f"{order}I", header[4:])[0]
        start = handle.tell()
        yield chunk_id, size
        handle.seek(start + size + size % 2)  # chunks are padded to even sizes


def _wave_frames(handle, order):
    block_align = None
    for chunk_id, size in _chunks(handle, order):
        if chunk_id == b"fmt ":
            fmt = handle.read(min(size, 26))
            if len(fmt) < 16:
                return None
            tag, block_align = struct.unpack(f"{order}H10xH", fmt[:14])
            if tag == _WAVE_EXTENSIBLE and len(fmt) >= 26:
                tag = struct.unpack(f"{order}H", fmt[24:26])[0]
            if tag not in _WAVE_UNCOMPRESSED or not block_align:
                return None
        elif chunk_id == b"data":
            if block_align is None or size in _UNKNOWN_SIZES:
                return None
            return size // block_align
    return None


def _aiff_frames(handle, compressed):
    for chunk_id, size in _chunks(handle, ">"):
        if chunk_id == b"COMM":
            comm = handle.read(min(size, 22))
            if len(comm) < 6:
                return None
            if compressed and comm[18:22] not in _AIFC_UNCOMPRESSED:
                return None
            return struct.unpack(">I", comm[2:6])[0] or None
    return None


def _as_samples(array):
    """In-memory samples as float32 of shape (n_frames, n_channels)."""
    array = np.asarray(array)
    if array.ndim not in (1, 2):
        raise ValueError(
            "in-memory samples should be 1-D or 2-D (n_frames, n_channels); got "
            f"shape {array.shape}"
        )
    if np.issubdtype(array.dtype, np.integer):
        # PCM integers, scaled to [-1, 1) as soundfile does (8-bit PCM is unsigned).
        half = float(2 ** (8 * array.dtype.itemsize - 1))
        offset = half if np.issubdtype(array.dtype, np.unsignedinteger) else 0.0
        array = (array - offset) / half
    elif not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"samples should be numeric; got dtype {array.dtype}")
    array = array.astype(np.float32, copy=False)
    return array[:, np.newaxis] if array.ndim == 1 else array
