"""Reading recording files and DICOM series against the libraries called directly.

Issue 29. For each format the same files go through (a) a skfusion extractor
whose features cost next to nothing, so that its time is the reading, and (b)
a hand-written loop calling the same library on the same files and computing
the same values:

- ``.npy`` copies of the EDF files' values, for reference: ``np.load``;
- EDF and BDF: ``SignalFeatures(bands={}, time_stats=("mean", "std"))``
  against pyedflib's ``EdfReader`` + ``readSignal`` of every channel + each
  channel's mean and standard deviation;
- WFDB: the same with ``wfdb.rdrecord(..., physical=True)``;
- EDF resampled to 100 Hz: ``sampling_rate=100`` against the bare read plus
  ``scipy.signal.resample_poly`` of every channel;
- DICOM series: ``ImageLoader(volume="mip", scale="none")`` at the series'
  own size against ``pydicom.dcmread`` of every slice, sorting by position
  along the normal, rescale, stack and the maximum over the slices.

Medians of interleaved runs after one untimed pass; ``ratio`` is direct time
/ skfusion time (1: reading through skfusion costs nothing over the library).
Data: synthetic, written by pyedflib, wfdb and pydicom into a temporary
folder (100 files of 8 channels x 60 s at 256 Hz for EDF/BDF, 2 channels x
60 s at 360 Hz for WFDB; 20 series of 64 slices of 256 x 256).
"""

import argparse
import tempfile
from functools import partial
from pathlib import Path

import numpy as np

from .bench_extractors import _median_times

N_FILES = 100
N_SERIES = 20
REPEATS = 3
CHANNELS = [f"EEG{i}" for i in range(8)]


# -- files ----------------------------------------------------------------------


def _edf_files(folder, bdf=False):
    import pyedflib
    from pyedflib import highlevel

    rng = np.random.default_rng(0)
    headers = highlevel.make_signal_headers(CHANNELS, sample_frequency=256)
    kind = pyedflib.FILETYPE_BDFPLUS if bdf else pyedflib.FILETYPE_EDFPLUS
    paths = []
    for i in range(N_FILES):
        signals = np.clip(rng.normal(0, 40, (len(CHANNELS), 256 * 60)), -190, 190)
        path = folder / f"rec{i}.{'bdf' if bdf else 'edf'}"
        highlevel.write_edf(str(path), signals, headers, file_type=kind)
        paths.append(str(path))
    return paths


def _wfdb_records(folder):
    import wfdb

    rng = np.random.default_rng(0)
    paths = []
    for i in range(N_FILES):
        wfdb.wrsamp(
            f"ecg{i}",
            fs=360,
            units=["mV", "mV"],
            sig_name=["MLII", "V5"],
            p_signal=rng.normal(0, 1, (360 * 60, 2)),
            fmt=["16", "16"],
            write_dir=str(folder),
        )
        paths.append(str(folder / f"ecg{i}"))
    return paths


def _dicom_series(folder):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    rng = np.random.default_rng(0)
    folders = []
    for s in range(N_SERIES):
        series = folder / f"ct{s}"
        series.mkdir()
        uid = generate_uid()
        for k in rng.permutation(64):
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = CTImageStorage
            meta.MediaStorageSOPInstanceUID = generate_uid()
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds = Dataset()
            ds.file_meta = meta
            ds.SOPClassUID = CTImageStorage
            ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
            ds.SeriesInstanceUID = uid
            ds.Modality = "CT"
            ds.Rows = ds.Columns = 256
            ds.SamplesPerPixel = 1
            ds.PhotometricInterpretation = "MONOCHROME2"
            ds.BitsAllocated = ds.BitsStored = 16
            ds.HighBit = 15
            ds.PixelRepresentation = 0
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.ImagePositionPatient = [0.0, 0.0, 2.5 * float(k)]
            ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
            ds.PixelData = rng.integers(0, 3000, (256, 256)).astype("<u2").tobytes()
            ds.save_as(series / f"{rng.integers(1e9)}", enforce_file_format=True)
        folders.append(str(series))
    return folders


# -- direct loops ---------------------------------------------------------------


def _mean_std(data):
    mean = data.mean(axis=1)
    std = np.sqrt(np.mean((data - mean[:, np.newaxis]) ** 2, axis=1))
    return np.column_stack([mean, std]).ravel()


def _edf_arrays(paths, resample=False):
    import pyedflib
    from scipy import signal

    for path in paths:
        reader = pyedflib.EdfReader(path)
        try:
            channels = [reader.readSignal(i) for i in range(reader.signals_in_file)]
        finally:
            reader.close()
        if resample:
            channels = [signal.resample_poly(c, 25, 64) for c in channels]
        yield np.vstack(channels)


def _direct_edf(paths):
    return np.vstack([_mean_std(data) for data in _edf_arrays(paths)])


def _direct_edf_resampled(paths):
    return np.vstack([_mean_std(data) for data in _edf_arrays(paths, True)])


def _direct_npy(paths):
    return np.vstack([_mean_std(np.load(path)) for path in paths])


def _npy_copies(paths):
    """The EDF files' values as .npy files: the reader the package had before."""
    copies = []
    for path, data in zip(paths, _edf_arrays(paths), strict=True):
        np.save(f"{path}.npy", data)
        copies.append(f"{path}.npy")
    return copies


def _direct_wfdb(paths):
    import wfdb

    return np.vstack(
        [_mean_std(wfdb.rdrecord(path, physical=True).p_signal.T) for path in paths]
    )


def _direct_series(folders):
    import pydicom
    from pydicom.pixels import apply_rescale

    images = []
    for folder in folders:
        slices = [pydicom.dcmread(p) for p in sorted(Path(folder).iterdir())]
        orientation = np.asarray(slices[0].ImageOrientationPatient, dtype=float)
        normal = np.cross(orientation[:3], orientation[3:])
        slices.sort(key=lambda ds: np.asarray(ds.ImagePositionPatient, float) @ normal)
        volume = np.stack([apply_rescale(ds.pixel_array, ds) for ds in slices])
        images.append(volume.max(axis=0).ravel())
    return np.vstack(images)


# -- cases ----------------------------------------------------------------------


def _cases(folder):
    from skfusion.extractors import ImageLoader, SignalFeatures

    edf = _edf_files(folder)
    bdf = _edf_files(folder, bdf=True)
    wfdb_paths = _wfdb_records(folder)
    series = _dicom_series(folder)
    reading = {"bands": {}, "time_stats": ("mean", "std")}
    return [
        (
            ".npy, the same values as the EDF files",
            _npy_copies(edf),
            SignalFeatures(fs=256, **reading),
            _direct_npy,
        ),
        (
            "EDF, 8 channels x 60 s at 256 Hz",
            edf,
            SignalFeatures(fs=256, **reading),
            _direct_edf,
        ),
        (
            "BDF (24-bit), 8 channels x 60 s at 256 Hz",
            bdf,
            SignalFeatures(fs=256, **reading),
            _direct_edf,
        ),
        (
            "WFDB (format 16), 2 channels x 60 s at 360 Hz",
            wfdb_paths,
            SignalFeatures(fs=360, **reading),
            _direct_wfdb,
        ),
        (
            "EDF resampled 256 -> 100 Hz (resample_poly)",
            edf,
            SignalFeatures(sampling_rate=100, **reading),
            _direct_edf_resampled,
        ),
        (
            "DICOM series, 64 slices of 256 x 256 (shuffled names)",
            series,
            ImageLoader(size=(256, 256), volume="mip", scale="none"),
            _direct_series,
        ),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=REPEATS)
    # parse_known_args: ``python -m benchmarks bench_recordings`` passes the name.
    args, _ = parser.parse_known_args(argv)
    print("| input | items | direct ms/item | skfusion ms/item | direct / skfusion |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, items, extractor, direct in _cases(Path(tmp)):
            extractor.fit(items[:1])
            ours = extractor.transform(items)
            theirs = direct(items)
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)
            t_direct, t_ours = _median_times(
                [partial(direct, items), partial(extractor.transform, items)],
                args.repeats,
            )
            n = len(items)
            print(
                f"| {name} | {n} | {1000 * t_direct / n:.2f} | "
                f"{1000 * t_ours / n:.2f} | **{t_direct / t_ours:.2f}** |"
            )


if __name__ == "__main__":
    main()
