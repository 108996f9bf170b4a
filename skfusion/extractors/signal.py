"""Biosignal extractor: Welch band powers and time-domain statistics (scipy).

Recordings are arrays, ``.npy`` or ``.csv`` files, or files that carry their
own channel names and rates: EDF/EDF+/BDF/BDF+ (pyedflib) and WFDB records
(wfdb), read by ``_recordings.read_recording``.
"""

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
from ._recordings import (
    DEFAULT_MAX_SAMPLES,
    RECORDING_SUFFIXES,
    locate_wfdb_record,
    read_recording,
    resample,
)

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
        Sampling rate (Hz) of the arrays, ``.npy`` and ``.csv`` recordings,
        and the rate that every channel of an EDF, BDF or WFDB file must have
        when ``sampling_rate`` is None.

    sampling_rate : float, default=None
        Resample every recording to this rate (Hz) before computing its
        features: each channel of an EDF, BDF or WFDB file from the rate its
        file gives it, arrays and ``.npy``/``.csv`` files from ``fs``
        (``scipy.signal.resample_poly``; see Notes). None resamples nothing;
        features are then computed at ``fs``.

    bands : dict of str to (float, float), default=None
        Frequency bands ``{name: (low, high)}`` in Hz, with ``0 <= low < high
        <= rate / 2``, where ``rate`` is ``sampling_rate`` or else ``fs``.
        None means the classical EEG bands ``{"delta": (0.5, 4), "theta": (4,
        8), "alpha": (8, 13), "beta": (13, 30), "gamma": (30, 45)}``; an empty
        dict gives no spectral features.

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
        Names used in the output columns instead of ``ch0``, ``ch1``, ...
        (or the names of ``channels_``); when given, they also fix the number
        of channels.

    channels : list of str, default=None
        The channels to read from files that name theirs (EDF, BDF, WFDB), by
        name, in this order; a file without one of them is an error for its
        row that lists the channels it has. None learns the names from the
        first readable training recording when it is such a file (then
        every file gives those channels, in that order) and reads every
        channel of arrays, ``.npy`` and ``.csv`` recordings, which have no
        names and must have as many channels as the training recordings.

    max_samples : int or None, default=2**27
        Refuse an EDF, BDF or WFDB recording whose chosen channels hold more
        samples together than this, checked from its header before reading
        (a WFDB header that does not state its length is bounded by the size
        of its data files), and any recording that would exceed it after
        resampling. None means no limit. A file that declares more than 4,096
        channels is refused whatever this says.

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
        Number of channels of every recording: ``len(channels)``,
        ``len(channel_names)``, or learned from the first readable training
        recording.

    channels_ : list of str or None
        The channels read by name from EDF, BDF and WFDB files: ``channels``,
        or the names of the first readable training recording when it is
        such a file (with distinct names) and ``channel_names`` is None;
        None reads files' channels in their own order.

    sampling_rate_ : float
        The rate (Hz) features are computed at: ``sampling_rate``, or ``fs``.

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
    2-D array of shape **(n_channels, n_samples)**, or a path to

    - a ``.npy`` file holding such an array, or a ``.csv`` file with one
      column per channel and one row per sample (an optional non-numeric
      header row is skipped), sampled at ``fs``;
    - an ``.edf`` or ``.bdf`` file (EDF, EDF+, BDF, BDF+; read by pyedflib,
      physical values; EDF+ annotations are not a channel);
    - a WFDB record (read by wfdb, physical values), given as its header
      ``.hea`` or as the record's path without extension (``"ecg/100"``).
      Its data files, named by the header, must lie inside ``root`` too;
      multi-segment records are refused, and several samples per frame are
      averaged (wfdb's ``smooth_frames``).

    EDF, BDF and WFDB files need ``pip install 'skfusion[signal]'`` (pyedflib
    and wfdb). None, NaN, an empty string or an empty array is a missing
    recording (a NaN row). Truncated and corrupt files are errors for their
    row, as are NaN or infinite samples (WFDB marks gaps so).

    Resampling by ``scipy.signal.resample_poly`` takes the ratio of the
    rates as a fraction ``up / down`` with ``down`` at most 10,000, exact
    for whole-number rates (256 to 250 Hz is 125 / 128); channels of one
    file at different rates are resampled each from its own, then cut to
    the shortest (they differ by a sample or two).

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

    # A path may name a file or a WFDB record without its extension.
    media_kind = "signal"

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        "fs": [Interval(Real, 0, None, closed="neither")],
        "sampling_rate": [Interval(Real, 0, None, closed="neither"), None],
        "bands": [dict, None],
        "relative": ["boolean"],
        "nperseg": [Interval(Integral, 2, None, closed="left"), None],
        "time_stats": [list, tuple],
        "channel_names": [list, tuple, None],
        "channels": [list, tuple, None],
        "max_samples": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        *,
        fs=250.0,
        sampling_rate=None,
        bands=None,
        relative=True,
        nperseg=None,
        time_stats=_TIME_STATS,
        channel_names=None,
        channels=None,
        max_samples=DEFAULT_MAX_SAMPLES,
        batch_size=64,
        n_jobs=None,
        verbose=False,
        on_error="raise",
        root=None,
        max_file_bytes=DEFAULT_MAX_FILE_BYTES,
    ):
        self.fs = fs
        self.sampling_rate = sampling_rate
        self.bands = bands
        self.relative = relative
        self.nperseg = nperseg
        self.time_stats = time_stats
        self.channel_names = channel_names
        self.channels = channels
        self.max_samples = max_samples
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.root = root
        self.max_file_bytes = max_file_bytes

    # -- fit ----------------------------------------------------------------------

    def _fit(self, values):
        self.sampling_rate_ = float(
            self.fs if self.sampling_rate is None else self.sampling_rate
        )
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
        names = _check_names(self.channel_names, "channel_names")
        self.channels_ = _check_names(self.channels, "channels")
        if names is not None and self.channels_ is not None:
            if len(names) != len(self.channels_):
                raise ValueError(
                    "SignalFeatures: channel_names renames the channels read, "
                    f"one name each; got {len(names)} names for "
                    f"{len(self.channels_)} channels."
                )
        if self.channels_ is not None or names is not None:
            self.n_channels_ = len(names if names is not None else self.channels_)
            return
        first = self._read_first(values, self._load)
        if first is None:
            raise ValueError(
                "SignalFeatures learns the number of channels from the first "
                "readable training recording, but none could be read; pass "
                "channels or channel_names to fix it."
            )
        data, file_names = first
        self.n_channels_ = data.shape[0]
        if file_names is not None and len(set(file_names)) == len(file_names):
            self.channels_ = list(file_names)

    def _check_bands(self):
        bands = _DEFAULT_BANDS if self.bands is None else self.bands
        nyquist = self.sampling_rate_ / 2
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
                    f"should satisfy 0 <= low < high <= {_rate_name(self)} / 2 = "
                    f"{nyquist:g} Hz."
                )
            checked[name] = (low, high)
        return checked

    # -- reading ------------------------------------------------------------------

    def _locate(self, item):
        if isinstance(item, str | os.PathLike) and not Path(item).suffix:
            return locate_wfdb_record(item, self.root, self.max_file_bytes)
        return super()._locate(item)

    def _load(self, item, channels=None):
        """The recording as a float array (n_channels, n_samples) and its names.

        The names are those of an EDF, BDF or WFDB file (``channels`` of them,
        or all), None for other inputs.
        """
        names = None
        if isinstance(item, str | os.PathLike):
            path = Path(item)
            if path.suffix.lower() in RECORDING_SUFFIXES:
                data, names = read_recording(
                    path,
                    channels=channels,
                    sampling_rate=self.sampling_rate,
                    fs=self.fs,
                    root=self.root,
                    max_file_bytes=self.max_file_bytes,
                    max_samples=self.max_samples,
                    needed_by=type(self).__name__,
                )
            else:
                data = _read_file(path)
        elif isinstance(item, np.ndarray):
            data = item
        else:
            raise TypeError(
                "expected a 1-D or 2-D array or a path to a recording file "
                f"({_FILE_TYPES}); got {type(item).__name__}"
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
        if names is None:  # files that carry their rates are resampled as read
            data = self._resampled(data)
        return data, names

    def _resampled(self, data):
        """An array recording at ``fs`` resampled to ``sampling_rate``."""
        if self.sampling_rate is None:
            return data
        n_samples = data.size * self.sampling_rate / self.fs
        if self.max_samples is not None and n_samples > self.max_samples:
            raise ValueError(
                f"the recording would hold {math.ceil(n_samples)} samples after "
                f"resampling, over the limit max_samples={self.max_samples}"
            )
        return resample(data, self.fs, self.sampling_rate)

    def _read(self, item):
        data, _ = self._load(item, self.channels_)
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
                data,
                fs=self.sampling_rate_,
                nperseg=self._segment_length(data.shape[1]),
                axis=-1,
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
        return min(n_samples, math.ceil(2 * self.sampling_rate_ / slowest))

    def __setstate__(self, state):
        # Pickled before recording files were read.
        state = {
            "sampling_rate": None,
            "channels": None,
            "max_samples": DEFAULT_MAX_SAMPLES,
            **state,
        }
        if "n_channels_" in state:
            state.setdefault("sampling_rate_", float(state["fs"]))
            state.setdefault("channels_", None)
        super().__setstate__(state)

    def _feature_names(self):
        if self.channel_names is not None:
            channels = list(self.channel_names)
        elif self.channels_ is not None:
            channels = list(self.channels_)
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
    raise ValueError(f"unsupported file type {suffix!r}; expected {_FILE_TYPES}")


_FILE_TYPES = ".npy, .csv, .edf, .bdf, or a WFDB record (.hea or no extension)"


def _check_names(names, parameter):
    """``names`` as a list of distinct non-empty strings, or None."""
    if names is None:
        return None
    names = list(names)
    if (
        not names
        or not all(isinstance(n, str) and n for n in names)
        or len(set(names)) != len(names)
    ):
        raise ValueError(
            f"SignalFeatures: {parameter} should be a non-empty list of "
            f"distinct non-empty strings; got {names!r}."
        )
    return names


def _rate_name(extractor):
    return "fs" if extractor.sampling_rate is None else "sampling_rate"


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
