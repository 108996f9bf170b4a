"""Biosignal extractor: Welch band powers and time-domain statistics (scipy)."""

import math
import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from scipy import signal as sp_signal
from scipy import stats
from scipy.integrate import trapezoid

from ..utils._docstrings import fill_docstring
from ..utils._sklearn_compat import Interval
from ._base import BaseExtractor
from ._io import DEFAULT_MAX_FILE_BYTES, check_finite

__all__ = ["SignalFeatures"]

_DEFAULT_BANDS = {
    "delta": (0.5, 4),
    "theta": (4, 8),
    "alpha": (8, 13),
    "beta": (13, 30),
    "gamma": (30, 45),
}
_TIME_STATS = (
    "mean",
    "std",
    "min",
    "max",
    "rms",
    "line_length",
    "zero_crossing_rate",
    "skew",
    "kurtosis",
)


@fill_docstring
class SignalFeatures(BaseExtractor):
    """Spectral band powers and time-domain statistics of ECG/EEG recordings.

    For every channel of a recording: the power in each frequency band of
    ``bands`` (Welch power spectral density integrated over the band),
    optionally the same powers relative to the total power of the band range,
    and time-domain statistics. Recordings may have any length; the output
    width is fixed by the number of channels learned in :meth:`fit`.

    Output columns are ordered by channel, then absolute band powers
    (``ch0_delta_power, ...``, in ``bands`` order), relative band powers
    (``ch0_delta_relpower, ...``) and time statistics (``ch0_mean, ...``, in
    ``time_stats`` order).

    Parameters
    ----------
    fs : float, default=250.0
        Sampling rate of the recordings (Hz).

    bands : dict of str to (float, float), default=None
        Frequency bands ``{name: (low, high)}`` in Hz, with ``0 <= low < high
        <= fs / 2``. None means the classical EEG bands ``{"delta": (0.5, 4),
        "theta": (4, 8), "alpha": (8, 13), "beta": (13, 30), "gamma": (30,
        45)}``; an empty dict gives no spectral features.

    relative : bool, default=True
        Also output each band power divided by the total power between the
        lowest band edge and the highest (for the default bands, 0.5-45 Hz).

    nperseg : int, default=None
        Welch segment length in samples. None means two cycles of the lowest
        positive band edge (4 s for the default 0.5 Hz), which resolves the
        narrowest low-frequency band; a recording shorter than the segment
        is analysed as one segment. Segments overlap by half (scipy's
        default), with a Hann window.

    time_stats : tuple of str, default=("mean", "std", "min", "max", "rms", \
            "line_length", "zero_crossing_rate", "skew", "kurtosis")
        Time-domain statistics per channel, in output order. ``line_length``
        is the mean absolute difference between consecutive samples (the
        line length per sample, so it does not grow with the recording);
        ``zero_crossing_rate`` is the fraction of consecutive samples that
        cross the channel's mean (so a baseline offset does not hide the
        oscillation); ``skew`` and ``kurtosis`` (Fisher, excess) are
        scipy.stats' biased estimates.

    channel_names : list of str, default=None
        Names used in the output columns instead of ``ch0``, ``ch1``, ...;
        when given, they also fix the number of channels.

    batch_size : int, default=64
        Recordings handed to one job.

    %(extractor_jobs)s

    on_error : {"raise", "nan"}, default="raise"
        What to do with an unreadable recording, a non-finite one or one with
        the wrong number of channels: raise a ValueError naming the
        extractor, the row and the input, or give a NaN row and one warning.

    %(extractor_files)s

    Attributes
    ----------
    n_channels_ : int
        Number of channels of every recording: ``len(channel_names)``, or
        learned from the first readable training recording.

    bands_ : dict of str to (float, float)
        The validated bands.

    feature_names_out_ : ndarray of str
        Names of the output columns.

    n_features_out_ : int
        ``n_channels_ * (len(bands_) * (2 if relative else 1) +
        len(time_stats))``.

    See Also
    --------
    AudioFeatures : Pooled MFCC and spectral statistics of audio clips.

    Notes
    -----
    A cell of the input column is a recording: a 1-D array (one channel), a
    2-D array of shape **(n_channels, n_samples)**, or a path to a ``.npy``
    file holding such an array or to a ``.csv`` file with one column per
    channel and one row per sample (an optional non-numeric header row is
    skipped). None, NaN, an empty string or an empty array is a missing
    recording (a NaN row).

    Band edges are interpolated on the PSD grid before the trapezoidal
    integration, so bands that tile a range have powers that add up to the
    power of the range. Undefined values are NaN: the relative powers of a
    channel with no power in the band range, the skewness and kurtosis of a
    constant channel.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.extractors.signal import SignalFeatures
    >>> t = np.arange(2500) / 250.0
    >>> eeg = np.sin(2 * np.pi * 10 * t)  # 10 s of a 10 Hz rhythm
    >>> features = SignalFeatures(fs=250.0, time_stats=("rms",))
    >>> block = features.fit_transform([eeg, None])
    >>> block.shape
    (2, 11)
    >>> names = features.get_feature_names_out()
    >>> str(names[5 + np.argmax(block[0, 5:10])])
    'ch0_alpha_relpower'
    >>> round(float(block[0, -1]), 3)  # rms of a unit sine
    0.707
    """

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        "fs": [Interval(Real, 0, None, closed="neither")],
        "bands": [dict, None],
        "relative": ["boolean"],
        "nperseg": [Interval(Integral, 2, None, closed="left"), None],
        "time_stats": [list, tuple],
        "channel_names": [list, tuple, None],
    }

    def __init__(
        self,
        *,
        fs=250.0,
        bands=None,
        relative=True,
        nperseg=None,
        time_stats=_TIME_STATS,
        channel_names=None,
        batch_size=64,
        n_jobs=None,
        verbose=False,
        on_error="raise",
        root=None,
        max_file_bytes=DEFAULT_MAX_FILE_BYTES,
    ):
        self.fs = fs
        self.bands = bands
        self.relative = relative
        self.nperseg = nperseg
        self.time_stats = time_stats
        self.channel_names = channel_names
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.root = root
        self.max_file_bytes = max_file_bytes

    # -- fit ----------------------------------------------------------------------

    def _fit(self, values):
        self.bands_ = self._check_bands()
        stats = list(self.time_stats)
        unknown = [s for s in stats if s not in _TIME_STATS]
        if unknown or len(set(stats)) != len(stats):
            raise ValueError(
                "SignalFeatures: time_stats should hold distinct values among "
                f"{list(_TIME_STATS)}; got {stats!r}."
            )
        if not self.bands_ and not stats:
            raise ValueError(
                "SignalFeatures has nothing to compute: bands and time_stats "
                "are both empty."
            )
        if self.channel_names is not None:
            names = list(self.channel_names)
            if (
                not names
                or not all(isinstance(n, str) and n for n in names)
                or len(set(names)) != len(names)
            ):
                raise ValueError(
                    "SignalFeatures: channel_names should be a non-empty list "
                    f"of distinct non-empty strings; got {names!r}."
                )
            self.n_channels_ = len(names)
            return
        first = self._read_first(values, self._load)
        if first is None:
            raise ValueError(
                "SignalFeatures learns the number of channels from the first "
                "readable training recording, but none could be read; pass "
                "channel_names to fix it."
            )
        self.n_channels_ = first.shape[0]

    def _check_bands(self):
        bands = _DEFAULT_BANDS if self.bands is None else self.bands
        nyquist = self.fs / 2
        checked = {}
        for name, edges in bands.items():
            try:
                low, high = (float(edge) for edge in edges)
            except (TypeError, ValueError):
                raise ValueError(
                    f"SignalFeatures: band {name!r} should be a (low, high) pair "
                    f"of frequencies in Hz; got {edges!r}."
                ) from None
            if not isinstance(name, str) or not name:
                raise ValueError(
                    f"SignalFeatures: band names should be non-empty strings; "
                    f"got {name!r}."
                )
            if not 0 <= low < high <= nyquist:
                raise ValueError(
                    f"SignalFeatures: band {name!r} = ({low:g}, {high:g}) Hz "
                    f"should satisfy 0 <= low < high <= fs / 2 = {nyquist:g} Hz."
                )
            checked[name] = (low, high)
        return checked

    # -- reading ------------------------------------------------------------------

    def _load(self, item):
        """The recording as a float array of shape (n_channels, n_samples)."""
        if isinstance(item, str | os.PathLike):
            data = _read_file(Path(item))
        elif isinstance(item, np.ndarray):
            data = item
        else:
            raise TypeError(
                "expected a 1-D or 2-D array or a path to a .npy or .csv file; "
                f"got {type(item).__name__}"
            )
        if not (
            np.issubdtype(data.dtype, np.number) or np.issubdtype(data.dtype, np.bool_)
        ):
            raise TypeError(f"the recording should be numeric; got dtype {data.dtype}")
        if np.iscomplexobj(data):
            raise TypeError("the recording should be real-valued")
        if data.ndim == 1:
            data = data[np.newaxis]
        if data.ndim != 2:
            raise ValueError(
                "the recording should be 1-D or 2-D (n_channels, n_samples); got "
                f"shape {data.shape}"
            )
        data = np.asarray(data, dtype=np.float64)
        if data.shape[1] < 2:
            raise ValueError(
                f"the recording has {data.shape[1]} sample(s) per channel; at "
                "least 2 are needed"
            )
        check_finite(data, "the recording")
        return data

    def _read(self, item):
        data = self._load(item)
        if data.shape[0] != self.n_channels_:
            raise ValueError(
                f"the recording has {data.shape[0]} channel(s) (shape "
                f"{data.shape}, read as (n_channels, n_samples)); the extractor "
                f"was fitted on {self.n_channels_}"
            )
        return data

    # -- features -----------------------------------------------------------------

    def _featurize(self, data):
        parts = []
        if self.bands_:
            freqs, psd = sp_signal.welch(
                data, fs=self.fs, nperseg=self._segment_length(data.shape[1]), axis=-1
            )
            powers = np.column_stack(
                [_band_power(freqs, psd, lo, hi) for lo, hi in self.bands_.values()]
            )
            parts.append(powers)
            if self.relative:
                lowest = min(lo for lo, _ in self.bands_.values())
                highest = max(hi for _, hi in self.bands_.values())
                total = _band_power(freqs, psd, lowest, highest)[:, np.newaxis]
                relative = np.full_like(powers, np.nan)
                np.divide(powers, total, out=relative, where=total > 0)
                parts.append(relative)
        if self.time_stats:
            parts.append(_time_statistics(data, self.time_stats))
        return np.hstack(parts).ravel()  # channel-major

    def _segment_length(self, n_samples):
        if self.nperseg is not None:
            return min(self.nperseg, n_samples)
        edges = [lo for lo, _ in self.bands_.values() if lo > 0]
        slowest = min(edges) if edges else min(hi for _, hi in self.bands_.values())
        return min(n_samples, math.ceil(2 * self.fs / slowest))

    def _feature_names(self):
        if self.channel_names is not None:
            channels = list(self.channel_names)
        else:
            channels = [f"ch{c}" for c in range(self.n_channels_)]
        per_channel = [f"{band}_power" for band in self.bands_]
        if self.relative:
            per_channel += [f"{band}_relpower" for band in self.bands_]
        per_channel += list(self.time_stats)
        return [f"{ch}_{name}" for ch in channels for name in per_channel]


def _read_file(path):
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return np.load(path, allow_pickle=False)
    if suffix == ".csv":
        with path.open() as file:
            first_line = file.readline()
        try:
            [float(field) for field in first_line.split(",")]
            skiprows = 0
        except ValueError:
            skiprows = 1  # a header row
        # One column per channel in the file; channels are rows in memory.
        return np.loadtxt(path, delimiter=",", ndmin=2, skiprows=skiprows).T
    raise ValueError(
        f"unsupported file type {suffix!r}; expected a .npy or .csv recording"
    )


def _band_power(freqs, psd, low, high):
    """Trapezoidal integral of each row of ``psd`` over [low, high] (Hz).

    The PSD is linearly interpolated at the band edges, so that adjacent bands
    split the power of a range exactly.
    """
    inside = (freqs > low) & (freqs < high)
    grid = np.concatenate([[low], freqs[inside], [high]])
    edges = np.column_stack(
        [np.interp([low, high], freqs, row) for row in psd]
    )  # (2, n_channels)
    values = np.concatenate([edges[:1].T, psd[:, inside], edges[1:].T], axis=1)
    return trapezoid(values, grid, axis=1)


def _time_statistics(data, names):
    mean = data.mean(axis=1)
    centred = data - mean[:, np.newaxis]
    variance = np.mean(centred**2, axis=1)
    std = np.sqrt(variance)
    values = {}
    for name in names:
        if name == "mean":
            values[name] = mean
        elif name == "std":
            values[name] = std
        elif name == "min":
            values[name] = data.min(axis=1)
        elif name == "max":
            values[name] = data.max(axis=1)
        elif name == "rms":
            values[name] = np.sqrt(np.mean(data**2, axis=1))
        elif name == "line_length":
            values[name] = np.mean(np.abs(np.diff(data, axis=1)), axis=1)
        elif name == "zero_crossing_rate":
            signs = np.signbit(centred)
            values[name] = np.mean(signs[:, 1:] != signs[:, :-1], axis=1)
        else:
            # A constant channel has no skewness or kurtosis: NaN. scipy
            # would warn for it (it tells constant as here), so it is not asked.
            varying = variance > (np.finfo(float).eps * np.abs(mean)) ** 2
            moment = stats.skew if name == "skew" else stats.kurtosis
            values[name] = np.full(len(data), np.nan)
            values[name][varying] = moment(data[varying], axis=1)
    return np.column_stack([values[name] for name in names])
