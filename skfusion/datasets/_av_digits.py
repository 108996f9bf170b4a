"""Loader for spoken (FSDD) and handwritten (MNIST) digits paired by label."""

import numpy as np
import pandas as pd

from ..utils._docstrings import fill_docstring
from ._base import check_bool, check_subset, data_dir, make_bunch

_MODALITIES = {"audio": ["audio"], "image": ["image"]}

_DESCR = """\
Audio-visual digits (FSDD recordings + MNIST images)
----------------------------------------------------

600 spoken digits from the Free Spoken Digit Dataset (FSDD: 6 speakers x 10
digits x recordings 0-9, mono 8 kHz WAV), each paired with a handwritten digit
of the same class from the MNIST test set (28x28 uint8). The pairing is by label
only, as in AV-MNIST: the recording and the image of a row are
conditionally independent given the digit. The split is FSDD's official one
(recordings 0-4 are test, 300 rows; 5-9 train, 300 rows); the speakers appear
in both splits and no image is shared between them.

Modalities
    audio: path to the WAV file inside the installed package
    image: 28x28 uint8 array

Target
    digit: 0-9, 60 rows per digit.

Licences: FSDD recordings CC BY-SA 4.0
(https://creativecommons.org/licenses/by-sa/4.0/); MNIST images CC BY-SA 3.0
(https://creativecommons.org/licenses/by-sa/3.0/). Both files are unchanged.

Citations: Z. Jackson and contributors, "Free Spoken Digit Dataset (FSDD)",
https://github.com/Jakobovski/free-spoken-digit-dataset. Y. LeCun, C. Cortes,
C. J. C. Burges, "The MNIST database of handwritten digits". V. Vielzeuf,
A. Lechervy, S. Pateux, F. Jurie, "CentralNet: a Multilayer Approach for
Multimodal Fusion", ECCV Workshops 2018 (AV-MNIST pairing).
"""


@fill_docstring
def load_av_digits(*, subset="all", return_X_y=False, as_frame=True):
    """Load spoken and handwritten digits paired by label (AV-MNIST style).

    Each row pairs a recording of a spoken digit from the Free Spoken Digit
    Dataset (FSDD) with an MNIST image of the same digit. The audio modality
    is given as a path to a WAV file bundled with the package, the image
    modality as a 28x28 uint8 array.

    =================  ===========================================
    Samples            600 (train 300, test 300)
    Modalities         audio (8 kHz mono WAV), image (28x28 uint8)
    Classes            10 digits, 60 rows each
    =================  ===========================================

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="all"
        Which rows to load, by FSDD's official split (recordings 0-4 of every
        speaker and digit are the test split).

    %(loader_return_X_y)s

    as_frame : bool, default=True
        If True, ``data`` is a DataFrame and ``target`` a Series. If False,
        ``data`` is an object ndarray, ``target`` an int ndarray and ``frame``
        is None.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : {DataFrame, ndarray} of shape (n_samples, 4)
            Columns ``audio`` (str, absolute path of the WAV file),
            ``image`` (object, one 28x28 uint8 array per row), ``speaker``
            (str) and ``split`` (``"train"`` or ``"test"``).
        target : {Series, ndarray} of shape (n_samples,)
            The digit, an int 0-9, named ``digit``.
        frame : DataFrame of shape (n_samples, 5) or None
            ``data`` with the target as last column; None when
            ``as_frame=False``.
        target_names : list of int
            The digits 0 to 9.
    %(loader_bunch_fields)s

    Notes
    -----
    The pairing of a recording with an image is by label only, so the two
    modalities are conditionally independent given the digit; a fusion model
    can gain from combining them but cannot learn any audio-image interaction.
    FSDD's split is by recording index, not by speaker: every speaker appears
    in both splits. Use ``speaker`` as ``groups`` for speaker-independent
    evaluation.

    The recordings are a subset of FSDD, distributed under the Creative
    Commons Attribution-ShareAlike 4.0 licence (CC BY-SA 4.0); the images are a
    subset of the MNIST test set, distributed under CC BY-SA 3.0. Both are
    bundled unchanged; the licence files are in the package's
    ``datasets/data/LICENSES`` folder.

    References
    ----------
    .. [1] Z. Jackson and contributors. "Free Spoken Digit Dataset (FSDD)."
       https://github.com/Jakobovski/free-spoken-digit-dataset
    .. [2] Y. LeCun, C. Cortes, C. J. C. Burges. "The MNIST database of
       handwritten digits." http://yann.lecun.com/exdb/mnist/
    .. [3] V. Vielzeuf, A. Lechervy, S. Pateux, F. Jurie. "CentralNet: a
       Multilayer Approach for Multimodal Fusion." ECCV Workshops, 2018.

    Examples
    --------
    >>> from skfusion.datasets import load_av_digits
    >>> bunch = load_av_digits()
    >>> bunch.data.shape
    (600, 4)
    >>> bunch.data["image"].iloc[0].shape
    (28, 28)
    >>> bunch.data["audio"].iloc[0].endswith(".wav")
    True
    >>> X, y = load_av_digits(subset="test", return_X_y=True)
    >>> X.shape, sorted(set(y.tolist())) == list(range(10))
    ((300, 4), True)
    """
    return _load(subset, return_X_y, as_frame, _digit, list(range(10)), _DESCR)


def _load(subset, return_X_y, as_frame, target_of, target_names, descr):
    """Both loaders: check the options, read the rows, make the Bunch.

    ``target_of`` maps the digit of each row (a Series named ``digit``) to
    the target: the digit itself, or the findings.
    """
    check_subset(subset)
    check_bool(return_X_y, "return_X_y")
    check_bool(as_frame, "as_frame")
    data, digit = _read_rows(subset)
    return make_bunch(
        data,
        target_of(digit),
        target_names=target_names,
        modalities=_MODALITIES,
        descr=descr,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )


def _read_rows(subset):
    """The study table of ``subset`` and the digit of each row."""
    folder = data_dir() / "av_digits"
    pairs = pd.read_csv(folder / "pairs.csv")
    with np.load(folder / "images.npz") as arrays:
        images = arrays["images"]
    # The images are stored in the row order of pairs.csv.
    if subset != "all":
        keep = (pairs["split"] == subset).to_numpy()
        pairs, images = pairs[keep].reset_index(drop=True), images[keep]

    recordings = folder / "recordings"
    # Filled one cell at a time: assigning a list of arrays would broadcast.
    image_column = np.empty(len(images), dtype=object)
    for i, image in enumerate(images):
        image_column[i] = image
    data = pd.DataFrame(
        {
            "audio": pd.Series(
                [str(recordings / name) for name in pairs["wav"]], dtype="str"
            ),
            "image": image_column,
            "speaker": pairs["speaker"].astype("str"),
            "split": pairs["split"].astype("str"),
        }
    )
    return data, pairs["digit"].astype(np.int64).rename("digit")


def _digit(digit):
    """The target of :func:`load_av_digits`: the digit itself."""
    return digit


# Findings of a digit: each a 0/1 label, several per row, as in a radiology
# report that lists several findings per image.
_FINDINGS = {
    "even": lambda digit: digit % 2 == 0,
    "greater_than_4": lambda digit: digit > 4,
    "prime": lambda digit: digit.isin([2, 3, 5, 7]),
}

_FINDINGS_DESCR = (
    _DESCR
    + """
Multi-label target (load_av_digits_findings)
    Three 0/1 findings of the digit, several per row: even (0, 2, 4, 6, 8),
    greater_than_4 (5-9) and prime (2, 3, 5, 7); 300, 300 and 240 of the
    600 rows are positive.
"""
)


@fill_docstring
def load_av_digits_findings(*, subset="all", return_X_y=False, as_frame=True):
    """Load the audio-visual digits as a multi-label problem with three findings.

    The rows and modalities of :func:`load_av_digits`, with the digit replaced
    by three 0/1 findings that several rows share and most rows have more
    than one of, like the findings of a chest X-ray: ``even``,
    ``greater_than_4`` and ``prime``. Each finding is a binary function of
    the digit, so both modalities inform all three.

    =================  ===========================================
    Samples            600 (train 300, test 300)
    Modalities         audio (8 kHz mono WAV), image (28x28 uint8)
    Labels             even (300 rows), greater_than_4 (300), prime (240)
    =================  ===========================================

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="all"
        Which rows to load, by FSDD's official split as in
        :func:`load_av_digits`.

    %(loader_return_X_y)s

    as_frame : bool, default=True
        If True, ``data`` and ``target`` are DataFrames. If False, ``data``
        is an object ndarray, ``target`` an int ndarray of shape
        (n_samples, 3) and ``frame`` is None.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : {DataFrame, ndarray} of shape (n_samples, 4)
            As for :func:`load_av_digits`: ``audio``, ``image``, ``speaker``
            and ``split``.
        target : {DataFrame, ndarray} of shape (n_samples, 3)
            The 0/1 indicator matrix of the findings, one int column per
            finding in the order of ``target_names``.
        frame : DataFrame of shape (n_samples, 7) or None
            ``data`` with the findings as last columns; None when
            ``as_frame=False``.
        target_names : list of str
            ``["even", "greater_than_4", "prime"]``.
    %(loader_bunch_fields)s

    See Also
    --------
    load_av_digits : The same rows with the digit as a multi-class target.
    skfusion.fusion.LateFusionClassifier : Late fusion, multi-label included.

    Notes
    -----
    The findings are deterministic functions of the digit, so the label
    combinations are the ten digits' and the findings are correlated (of the
    even digits only 2 is prime). Licences and pairing are those of
    :func:`load_av_digits`.

    Examples
    --------
    >>> from skfusion.datasets import load_av_digits_findings
    >>> X, Y = load_av_digits_findings(subset="train", return_X_y=True)
    >>> X.shape, Y.shape
    ((300, 4), (300, 3))
    >>> list(Y.columns)
    ['even', 'greater_than_4', 'prime']
    >>> Y.sum().tolist()
    [150, 150, 120]
    """
    return _load(
        subset, return_X_y, as_frame, _findings, list(_FINDINGS), _FINDINGS_DESCR
    )


def _findings(digit):
    """The target of :func:`load_av_digits_findings`: one 0/1 column a finding."""
    return pd.DataFrame(
        {
            name: is_finding(digit).astype(np.int64)
            for name, is_finding in _FINDINGS.items()
        }
    )
