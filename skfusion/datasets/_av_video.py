"""Audio-visual digit videos: MNIST digits as frames, FSDD recordings as sound.

Built at call time from the bundled audio-visual digits into a folder the
user names: one MP4 file per row, never inside the package, and never over a
file that this function did not write (its manifest lists what it wrote).
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.io import wavfile

from ._av_digits import load_av_digits
from ._base import check_bool, check_subset, make_bunch

#: The file, in the videos' folder, that lists the videos this module wrote.
MANIFEST = "skfusion-av-digit-videos.json"
_GENERATOR = "skfusion.datasets.make_av_digit_videos"
# Recorded with every file: a file written by another version of the writer
# (changed frames or encoding) is written again, not reused.
_WRITER_VERSION = 1
# The digit (28 x 28, scaled twice) drifts inside a 64 x 64 frame by up to
# this many pixels along a smooth path of its own.
_FRAME_SIZE = 64
_SCALE = 2
_DRIFT = 4
_AUDIO_BIT_RATE = 32000
_MODALITIES = {"frames": ["video"], "sound": ["video"]}

_DESCR = """\
Audio-visual digit videos (MNIST images as frames, FSDD recordings as sound)
----------------------------------------------------------------------------

The rows of the audio-visual digits (load_av_digits: FSDD spoken digits, each
paired by label with an MNIST handwritten digit), each made into one MP4 video
that shows the handwritten digit and plays the spoken one: the frames show
the MNIST image, scaled twice (56 x 56, white on black) and drifting by up to
4 pixels inside a 64 x 64 frame along a smooth path of its own (so that
successive frames differ), at `frame_rate` frames per second, for as long as
the recording lasts (at least 2 frames); the audio track is the FSDD
recording (8 kHz mono) encoded as AAC. Video: H.264, yuv420p.

One file holds both modalities, conditionally independent given the digit
(the pairing is by label only, as in AV-MNIST): list the `video` column
under a video modality and under its audio track (VideoFeatures and
VideoAudioFeatures; `--modality frames=video:video --modality
sound=video-audio:video` on the command line) to fuse what is seen and heard.

Target
    digit: 0-9, balanced.

Licences: the FSDD recordings are under CC BY-SA 4.0
(https://creativecommons.org/licenses/by-sa/4.0/), the MNIST images under
CC BY-SA 3.0 (https://creativecommons.org/licenses/by-sa/3.0/). The videos
are adaptations of both: share them under CC BY-SA 4.0 (CC BY-SA 3.0 lets an
adaptation take a later version of the licence), crediting both works.

Citations: Z. Jackson and contributors, "Free Spoken Digit Dataset (FSDD)",
https://github.com/Jakobovski/free-spoken-digit-dataset. Y. LeCun, C. Cortes,
C. J. C. Burges, "The MNIST database of handwritten digits". V. Vielzeuf,
A. Lechervy, S. Pateux, F. Jurie, "CentralNet: a Multilayer Approach for
Multimodal Fusion", ECCV Workshops 2018 (AV-MNIST pairing).
"""


def make_av_digit_videos(
    directory,
    *,
    subset="all",
    n_per_digit=None,
    frame_rate=15,
    random_state=0,
    return_X_y=False,
    as_frame=True,
):
    """Write the audio-visual digits as MP4 videos and return their table.

    Each row of :func:`load_av_digits` becomes one video file: the MNIST
    image as frames, drifting slightly so that the frames differ, and the
    FSDD recording of the same digit as the audio track (see ``DESCR``).
    The videos are written into ``directory`` with PyAV
    (``pip install 'skfusion[video]'``), and a manifest
    (``skfusion-av-digit-videos.json``) lists what was written, with the
    parameters and each file's SHA-256. A later call with the same
    parameters reuses the files it lists, unchanged, instead of writing them
    again.

    =================  ===========================================
    Samples            600 (train 300, test 300), or 10 x ``n_per_digit``
    Modalities         video frames (64 x 64), audio track (8 kHz AAC)
    Classes            10 digits, balanced
    =================  ===========================================

    Parameters
    ----------
    directory : str or path-like
        The folder the videos go to; created if needed. It must not lie
        inside the installed skfusion package. A file of a video's name
        that this function did not write there (the manifest does not list
        it, or it changed since) is never replaced: a ``FileExistsError``
        is raised before anything is written.

    subset : {"train", "test", "all"}, default="all"
        Which rows, by FSDD's official split (see :func:`load_av_digits`).

    n_per_digit : int, default=None
        Keep the first this many rows of each digit (in the order of
        :func:`load_av_digits`); None keeps every row.

    frame_rate : int, default=15
        Frames per second of the videos.

    random_state : int, default=0
        Seeds the drift of the digits (row ``i`` of the full table always
        drifts alike for one seed, whatever ``subset`` and ``n_per_digit``).

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    as_frame : bool, default=True
        If True, ``data`` is a DataFrame and ``target`` a Series; else an
        object ndarray and an int ndarray, and ``frame`` is None.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : {DataFrame, ndarray} of shape (n_samples, 3)
            Columns ``video`` (str, absolute path of the MP4 file),
            ``speaker`` (str) and ``split`` (``"train"`` or ``"test"``).
        target : {Series, ndarray} of shape (n_samples,)
            The digit, an int 0-9, named ``digit``.
        frame : DataFrame of shape (n_samples, 4) or None
            ``data`` with the target as last column.
        feature_names : list of str
            The columns of ``data``.
        target_names : list of int
            The digits 0 to 9.
        modalities : dict of str to list of str
            ``{"frames": ["video"], "sound": ["video"]}``: both modalities
            read the ``video`` column (the frames, and the audio track).
        DESCR : str
            Description of the videos, their licences and citations.

    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileExistsError
        For a file of a video's name in ``directory`` that this function did
        not write, or that changed since it wrote it.
    ValueError
        For a ``directory`` inside the skfusion package, or invalid options.
    ImportError
        Without PyAV.

    See Also
    --------
    load_av_digits : The same rows as a WAV path and an image array.
    skfusion.extractors.VideoFeatures : The frames of the videos.
    skfusion.extractors.VideoAudioFeatures : Their audio track.

    Examples
    --------
    >>> import tempfile
    >>> from skfusion.datasets import make_av_digit_videos
    >>> folder = tempfile.mkdtemp()
    >>> bunch = make_av_digit_videos(folder, subset="test", n_per_digit=2)
    >>> bunch.data.shape, bunch.target.tolist()[:4]
    ((20, 3), [0, 0, 1, 1])
    >>> bunch.data["video"].iloc[0].endswith("0_george_0.mp4")
    True
    >>> again = make_av_digit_videos(folder, subset="test", n_per_digit=2)
    >>> again.data.equals(bunch.data)  # the files are reused
    True
    """
    check_subset(subset)
    check_bool(return_X_y, "return_X_y")
    check_bool(as_frame, "as_frame")
    _check_count(n_per_digit, "n_per_digit", allow_none=True)
    _check_count(frame_rate, "frame_rate", allow_none=False)
    if not isinstance(random_state, int | np.integer):
        raise ValueError(f"random_state must be an int, got {random_state!r} instead.")
    folder = _video_folder(directory)
    av = _import_av()

    source, digits = load_av_digits(return_X_y=True)
    keep = np.ones(len(source), dtype=bool)
    if subset != "all":
        keep &= (source["split"] == subset).to_numpy()
    rows = np.flatnonzero(keep)
    if n_per_digit is not None:
        kept = digits.iloc[rows]
        rows = rows[(kept.groupby(kept).cumcount() < n_per_digit).to_numpy()]
    names = [Path(source["audio"].iloc[i]).with_suffix(".mp4").name for i in rows]

    params = {
        "frame_rate": int(frame_rate),
        "random_state": int(random_state),
        "writer": _WRITER_VERSION,
    }
    files = _read_manifest(folder)
    reused = _check_ownership(folder, names, files, params)
    folder.mkdir(parents=True, exist_ok=True)
    for row, name in zip(rows, names, strict=True):
        if name in reused:
            continue
        path = folder / name
        image, wav = source["image"].iloc[row], source["audio"].iloc[row]
        _write_video(av, path, image, wav, frame_rate, _drift(random_state, row))
        # Listed at once, so that an interrupted call leaves no file unlisted.
        files[name] = {"sha256": _sha256(path), **params}
        _write_manifest(folder, files)

    data = pd.DataFrame(
        {
            "video": pd.Series([str(folder / n) for n in names], dtype="str"),
            "speaker": source["speaker"].iloc[rows].to_numpy(),
            "split": source["split"].iloc[rows].to_numpy(),
        }
    ).astype({"speaker": "str", "split": "str"})
    target = digits.iloc[rows].reset_index(drop=True).rename("digit")
    return make_bunch(
        data,
        target,
        target_names=list(range(10)),
        modalities=_MODALITIES,
        descr=_DESCR,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )


def _check_count(value, name, *, allow_none):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r} instead.")


def _video_folder(directory):
    """The absolute folder; refused inside the installed package."""
    folder = Path(os.fspath(directory)).expanduser().resolve()
    package = Path(__file__).resolve().parents[1]
    if folder == package or folder.is_relative_to(package):
        raise ValueError(
            f"directory {str(folder)!r} lies inside the skfusion package "
            f"({str(package)!r}); write the videos into a folder of your own."
        )
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"directory {str(folder)!r} is a file, not a folder.")
    return folder


def _import_av():
    try:
        import av
    except ImportError as exc:
        raise ImportError(
            "make_av_digit_videos needs the 'av' package (PyAV), which is not "
            "installed: pip install 'skfusion[video]'"
        ) from exc
    return av


def _read_manifest(folder):
    """The files an earlier call wrote, by name, each with its SHA-256 and
    parameters; none for a missing manifest (a foreign one is refused)."""
    path = folder / MANIFEST
    if not path.exists():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if (
        manifest is None
        or manifest.get("generator") != _GENERATOR
        or not (
            isinstance(files, dict)
            and all(isinstance(entry, dict) for entry in files.values())
        )
    ):
        raise FileExistsError(
            f"{path} exists and was not written by make_av_digit_videos; "
            "write the videos into another folder."
        )
    return dict(files)


def _check_ownership(folder, names, files, params):
    """The names to reuse; raise, before anything is written, for a file
    that is not ours.

    A file listed with its recorded SHA-256 is ours: reused when it was made
    with the same parameters, else replaced. A file not listed, or changed
    since it was written, is the user's.
    """
    reused = set()
    for name in names:
        path = folder / name
        if not path.exists():
            continue
        entry = files.get(name)
        if entry is None or _sha256(path) != entry.get("sha256"):
            why = "was not written by" if entry is None else "changed since"
            raise FileExistsError(
                f"{path} exists and {why} make_av_digit_videos (see {MANIFEST} "
                "in its folder); it would be replaced. Write the videos into "
                "another folder, or move the file."
            )
        if all(entry.get(key) == value for key, value in params.items()):
            reused.add(name)
    return reused


def _write_manifest(folder, files):
    manifest = {
        "generator": _GENERATOR,
        "licence": "CC BY-SA 4.0: adaptations of FSDD (CC BY-SA 4.0) and MNIST "
        "(CC BY-SA 3.0); credits in the DESCR of make_av_digit_videos",
        "files": dict(sorted(files.items())),
    }
    _replace(folder / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())


def _replace(path, data):
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".skfusion-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _drift(random_state, row):
    return np.random.default_rng([int(random_state), int(row)])


def _frames(image, n_frames, frame_rate, rng):
    """The digit, scaled twice, drifting smoothly inside the frame (uint8 RGB)."""
    digit = np.kron(
        np.asarray(image, dtype=np.uint8), np.ones((_SCALE, _SCALE), np.uint8)
    )
    margin = (_FRAME_SIZE - digit.shape[0]) // 2
    frequency = rng.uniform(0.5, 1.5, size=2)
    phase = rng.uniform(0, 2 * np.pi, size=2)
    times = np.arange(n_frames) / frame_rate
    frames = np.zeros((n_frames, _FRAME_SIZE, _FRAME_SIZE, 3), dtype=np.uint8)
    for t, moment in enumerate(times):
        dy, dx = np.rint(_DRIFT * np.sin(2 * np.pi * frequency * moment + phase))
        top, left = margin + int(dy), margin + int(dx)
        frames[t, top : top + digit.shape[0], left : left + digit.shape[1]] = digit[
            ..., None
        ]
    return frames


def _write_video(av, path, image, wav, frame_rate, rng):
    """One MP4: H.264 frames of the digit and the recording as AAC."""
    rate, samples = wavfile.read(wav)
    samples = samples.astype(np.float32) / 32768.0
    n_frames = max(2, int(np.ceil(len(samples) / rate * frame_rate)))
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=".skfusion-", suffix=".mp4"
    )
    os.close(handle)
    try:
        with av.open(temporary, "w", format="mp4") as container:
            video = container.add_stream("libx264", rate=frame_rate)
            video.width = video.height = _FRAME_SIZE
            video.pix_fmt = "yuv420p"
            sound = container.add_stream("aac", rate=int(rate), layout="mono")
            sound.bit_rate = _AUDIO_BIT_RATE
            for pixels in _frames(image, n_frames, frame_rate, rng):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                for packet in video.encode(frame):
                    container.mux(packet)
            for packet in video.encode():
                container.mux(packet)
            track = av.AudioFrame.from_ndarray(
                samples[None], format="fltp", layout="mono"
            )
            # A first timestamp lets the muxer record the encoder's priming
            # samples, which a reader then skips.
            track.sample_rate, track.pts = int(rate), 0
            for packet in [*sound.encode(track), *sound.encode()]:
                container.mux(packet)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
