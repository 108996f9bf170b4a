"""Recording files that carry their own channels and rates: EDF/BDF and WFDB.

:func:`read_recording` reads an EDF, EDF+, BDF or BDF+ file (pyedflib) or a
WFDB record (wfdb) as one float array of shape (n_channels, n_samples) at
one sampling rate: the channels chosen by name, each resampled from the rate
the file gives it. Limits are checked from the header, before any sample is
read. pyedflib and wfdb come with ``pip install 'skfusion[signal]'``.
"""

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from ._io import check_file, import_optional, resolve_path

__all__ = [
    "DEFAULT_MAX_SAMPLES",
    "MAX_CHANNELS",
    "RECORDING_SUFFIXES",
    "locate_wfdb_record",
    "read_recording",
    "resample",
]

#: Default bound on the samples of one recording, all its channels together,
#: as stored and after resampling: 2**27, about 134 million, 1 GiB as float64.
DEFAULT_MAX_SAMPLES = 2**27

#: Files that declare more channels than this are refused from the header.
MAX_CHANNELS = 4096

#: Suffixes (lower case) of the files :func:`read_recording` reads.
RECORDING_SUFFIXES = (".edf", ".bdf", ".hea")

# Rate ratios are approximated by fractions with at most this denominator
# (exact for whole-number rates such as 256 -> 250 Hz or 2048 -> 250 Hz).
_MAX_DENOMINATOR = 10_000
# WFDB formats whose data are compressed (FLAC): their size on disk does not
# bound their sample count, so their header must state it.
_COMPRESSED_WFDB_FORMATS = frozenset({"508", "516", "524"})


def locate_wfdb_record(item, root, max_file_bytes):
    """The header file of a WFDB record named without extension, checked.

    Parameters
    ----------
    item : str or path-like
        The record, e.g. ``"ecg/100"`` for ``ecg/100.hea`` and its data.

    root, max_file_bytes
        As for every extractor: see :func:`~skfusion.extractors.resolve_path`
        and :func:`~skfusion.extractors.check_file`.

    Returns
    -------
    header : Path
        The resolved ``.hea`` file.
    """
    record = resolve_path(item, root)
    header = record.with_name(record.name + ".hea")
    if root is not None:
        # The header itself may be a link leading out of root.
        header = resolve_path(header, root)
    check_file(header, max_file_bytes)
    return header


def read_recording(
    path,
    *,
    channels=None,
    sampling_rate=None,
    fs=None,
    root=None,
    max_file_bytes=None,
    max_samples=DEFAULT_MAX_SAMPLES,
    needed_by="SignalFeatures",
):
    """One recording file as a float array at one sampling rate.

    Parameters
    ----------
    path : Path
        An ``.edf`` or ``.bdf`` file (EDF, EDF+, BDF, BDF+), or the ``.hea``
        header of a WFDB record (single-segment), resolved and checked.

    channels : list of str, default=None
        The channels to read, by name, in this order; None reads every
        signal channel in the file's order (EDF+ annotations are no signal).

    sampling_rate : float, default=None
        Resample every channel from its own rate to this one. None keeps the
        file's rates, which must then all equal ``fs``.

    fs : float, default=None
        The rate required of every channel when ``sampling_rate`` is None.

    root, max_file_bytes
        Where a WFDB record's data files must lie, and their size limit.

    max_samples : int or None, default=2**27
        The most samples of the chosen channels together, as stored (from the
        header, before reading) and after resampling.

    needed_by : str
        Name used in the message when pyedflib or wfdb is missing.

    Returns
    -------
    data : ndarray of shape (n_channels, n_samples)
        The physical values (EDF: digital values scaled by the header's
        physical range; WFDB: by each signal's gain and baseline).

    names : list of str
        The channels' names, in the order of ``data``'s rows.
    """
    limits = _Limits(channels, sampling_rate, fs, max_samples)
    if path.suffix.lower() == ".hea":
        read = _read_wfdb(path, limits, root, max_file_bytes, needed_by)
    else:
        read = _read_edf(path, limits, needed_by)
    names, rates, signals = read
    if isinstance(signals, np.ndarray):  # channels of one rate, one array
        if sampling_rate is not None:
            signals = resample(signals, rates[0], sampling_rate)
        return signals, names
    if sampling_rate is not None:
        signals = [
            resample(s, r, sampling_rate) for s, r in zip(signals, rates, strict=True)
        ]
    # Channels of other rates span the same time; after resampling they may
    # differ by a sample or two.
    length = min(len(s) for s in signals)
    data = np.vstack([np.asarray(s[:length], dtype=np.float64) for s in signals])
    return data, names


def resample(signal, rate, target):
    """``signal`` sampled at ``rate`` Hz resampled to ``target`` Hz.

    Polyphase filtering (``scipy.signal.resample_poly``, its default Kaiser
    window): the ratio ``target / rate`` is taken as a fraction ``up / down``
    with ``down`` at most 10,000, exact for whole-number rates. The signal is
    returned as it is when the rates are equal.
    """
    from scipy import signal as sp_signal

    ratio = (Fraction(target) / Fraction(rate)).limit_denominator(_MAX_DENOMINATOR)
    if ratio == 1:
        return signal
    return sp_signal.resample_poly(signal, ratio.numerator, ratio.denominator, axis=-1)


class _Limits:
    """Which channels of a file to read, and the checks made from its header."""

    def __init__(self, channels, sampling_rate, fs, max_samples):
        self.channels = channels
        self.sampling_rate = sampling_rate
        self.fs = fs
        self.max_samples = max_samples

    def choose(self, names, rates, stored, what, lengths=None):
        """Indices of the channels to read; raises on what the header shows.

        ``stored`` counts each channel's samples as stored, ``lengths`` as
        read (WFDB averages the samples of a frame); None: the same.
        """
        lengths = stored if lengths is None else lengths
        names = [str(name) for name in names]
        if len(names) > MAX_CHANNELS:
            raise ValueError(
                f"{what} declares {len(names)} channels, over the limit of "
                f"{MAX_CHANNELS} channels per recording"
            )
        if not names:
            raise ValueError(f"{what} holds no signal channel")
        if self.channels is None:
            chosen = list(range(len(names)))
        else:
            chosen = [_channel_index(names, wanted, what) for wanted in self.channels]
        self._check_count(sum(int(stored[i]) for i in chosen), "as stored")
        if self.sampling_rate is None:
            for i in chosen:
                # Plain floats: np.isclose costs more than reading a channel.
                if abs(rates[i] - self.fs) > 1e-9 * self.fs:
                    raise ValueError(
                        f"channel {names[i]!r} of {what} is sampled at "
                        f"{rates[i]:g} Hz, not at fs={self.fs:g} Hz; pass "
                        "sampling_rate to resample every channel to one rate"
                    )
        else:
            resampled = sum(
                int(lengths[i]) * self.sampling_rate / rates[i] for i in chosen
            )
            self._check_count(int(np.ceil(resampled)), "after resampling")
        return chosen

    def _check_count(self, n_samples, when):
        if self.max_samples is not None and n_samples > self.max_samples:
            raise ValueError(
                f"the recording holds {n_samples} samples {when}, over the limit "
                f"max_samples={self.max_samples}; raise max_samples if the file "
                "is genuine"
            )


def _channel_index(names, wanted, what):
    found = [i for i, name in enumerate(names) if name == wanted]
    if not found:
        raise ValueError(
            f"channel {wanted!r} is not in {what}, which has the channels {names}"
        )
    if len(found) > 1:
        raise ValueError(
            f"channel {wanted!r} appears {len(found)} times in {what}; choose "
            "channels of a file by names it holds once"
        )
    return found[0]


def _read_edf(path, limits, needed_by):
    pyedflib = import_optional("pyedflib", extra="signal", needed_by=needed_by)
    kind = "BDF" if path.suffix.lower() == ".bdf" else "EDF"
    try:
        reader = pyedflib.EdfReader(os.fspath(path))
    except OSError as exc:
        # pyedflib's own message repeats the path, which the row error names.
        raise ValueError(f"not a readable {kind} file ({_reason(exc)})") from None
    try:
        names = reader.getSignalLabels()
        rates = [float(rate) for rate in reader.getSampleFrequencies()]
        counts = reader.getNSamples()
        chosen = limits.choose(names, rates, counts, f"the {kind} file")
        lengths = {int(counts[i]) for i in chosen}
        if len(lengths) == 1 and len({rates[i] for i in chosen}) == 1:
            # Read in place, row by row: no stacking copy.
            signals = np.empty((len(chosen), lengths.pop()))
            for row, i in zip(signals, chosen, strict=True):
                reader.readsignal(i, 0, row.size, row)
        else:
            signals = [reader.readSignal(i) for i in chosen]
    finally:
        reader.close()
    return [names[i] for i in chosen], [rates[i] for i in chosen], signals


def _reason(exc):
    message = str(exc)
    head, sep, tail = message.partition(": ")
    return tail if sep and head.endswith((".edf", ".bdf", ".EDF", ".BDF")) else message


def _read_wfdb(header_path, limits, root, max_file_bytes, needed_by):
    wfdb = import_optional("wfdb", extra="signal", needed_by=needed_by)
    record_name = os.fspath(header_path)[: -len(".hea")]
    _check_declared_signals(header_path)
    try:
        header = wfdb.rdheader(record_name)
    except Exception as exc:
        raise ValueError(
            f"not a readable WFDB header ({type(exc).__name__}: {exc})"
        ) from None
    if getattr(header, "seg_name", None) is not None:
        raise ValueError(
            "multi-segment WFDB records are not supported; give the path of one segment"
        )
    names = list(header.sig_name or [])
    files = list(header.file_name or [])
    data_bytes = 0
    for name in dict.fromkeys(files):
        # A data file is named by the header: it must lie inside root too.
        data_path = resolve_path(Path(header_path).parent / name, root)
        data_bytes += check_file(data_path, max_file_bytes)
    lengths = _wfdb_lengths(header, data_bytes)
    frames = header.samps_per_frame or [1] * len(names)
    stored = [n * int(f) for n, f in zip(lengths, frames, strict=True)]
    rates = [float(header.fs)] * len(names)
    chosen = limits.choose(names, rates, stored, "the WFDB record", lengths)
    try:
        record = wfdb.rdrecord(record_name, channels=chosen, physical=True)
    except Exception as exc:
        raise ValueError(
            f"the WFDB record's data cannot be read ({type(exc).__name__}: {exc})"
        ) from None
    signals = np.ascontiguousarray(np.asarray(record.p_signal, np.float64).T)
    return [names[i] for i in chosen], [rates[i] for i in chosen], signals


def _check_declared_signals(header_path):
    """Refuse a WFDB header declaring too many signals before wfdb parses it."""
    with open(header_path, "rb") as handle:
        for line in handle:
            fields = line.split(b"#", 1)[0].split()
            if fields:
                break
        else:
            return
    if len(fields) > 1 and fields[1].isdigit() and int(fields[1]) > MAX_CHANNELS:
        raise ValueError(
            f"the WFDB record declares {int(fields[1])} channels, over the limit "
            f"of {MAX_CHANNELS} channels per recording"
        )


def _wfdb_lengths(header, data_bytes):
    """Frames per channel from the header, or a bound from the data's size."""
    if header.sig_len is not None:
        return [int(header.sig_len)] * header.n_sig
    if _COMPRESSED_WFDB_FORMATS.intersection(header.fmt or []):
        raise ValueError(
            "the WFDB header of a compressed record does not state its length, "
            "so its size cannot be checked before decoding"
        )
    # Uncompressed WFDB formats store a sample in one byte or more.
    return [-(-int(data_bytes) // max(header.n_sig, 1))] * header.n_sig
