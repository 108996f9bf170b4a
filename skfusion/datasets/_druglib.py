"""Loader for the Drug Review Dataset (Druglib.com): tabular fields + review texts."""

import numpy as np
import pandas as pd

from ..utils._docstrings import fill_docstring
from ._base import check_bool, check_subset, data_dir, make_bunch

_FILES = {"train": "drugLibTrain_raw.tsv.gz", "test": "drugLibTest_raw.tsv.gz"}

_EFFECTIVENESS = {
    "Ineffective": 1,
    "Marginally Effective": 2,
    "Moderately Effective": 3,
    "Considerably Effective": 4,
    "Highly Effective": 5,
}
_SIDE_EFFECTS = {
    "No Side Effects": 1,
    "Mild Side Effects": 2,
    "Moderate Side Effects": 3,
    "Severe Side Effects": 4,
    "Extremely Severe Side Effects": 5,
}
_COLUMNS = {
    "urlDrugName": "drug",
    "condition": "condition",
    "effectiveness": "effectiveness",
    "sideEffects": "side_effects",
    "benefitsReview": "benefits_review",
    "sideEffectsReview": "side_effects_review",
    "commentsReview": "comments_review",
}
_TEXT_COLUMNS = ["benefits_review", "side_effects_review", "comments_review"]
_MODALITIES = {
    "tabular": ["drug", "condition", "effectiveness", "side_effects"],
    "text": _TEXT_COLUMNS,
}
_RATING_CLASSES = ["negative", "neutral", "positive"]
_TARGETS = ("rating_class", "rating")

_DESCR = """\
Drug Review Dataset (Druglib.com)
---------------------------------

Patient reviews of prescription drugs from druglib.com: 4,143 reviews (official
split: 3,107 train, 1,036 test), one row per review, indexed by review id.

Modalities
    tabular: drug, condition, effectiveness (1-5), side_effects (1-5)
    text:    benefits_review, side_effects_review, comments_review

Target
    rating_class: "negative" (rating 1-4), "neutral" (5-6), "positive" (7-10),
    or rating: the overall satisfaction rating, 1-10.
    effectiveness and side_effects are strongly correlated with the rating.

Licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). The texts are
user-generated content from druglib.com. Source: UCI Machine Learning
Repository, "Drug Review Dataset (Druglib.com)", doi:10.24432/C55G6J.

Citation: F. Graesser, S. Kallumadi, H. Malberg, S. Zaunseder. "Aspect-Based
Sentiment Analysis of Drug Reviews Applying Cross-Domain and Cross-Data
Learning." Proc. 2018 Int. Conf. on Digital Health (DH'18), 121-125.
"""


def _read_split(name):
    raw = pd.read_csv(data_dir() / "druglib" / _FILES[name], sep="\t", index_col=0)
    raw.index.name = "review_id"
    data = raw[list(_COLUMNS)].rename(columns=_COLUMNS)
    for column, mapping in [
        ("effectiveness", _EFFECTIVENESS),
        ("side_effects", _SIDE_EFFECTS),
    ]:
        codes = data[column].map(mapping)
        if codes.isna().any():
            unknown = sorted(set(data.loc[codes.isna(), column].astype(str)))
            raise ValueError(f"Unknown {column} levels in {_FILES[name]}: {unknown}")
        data[column] = codes.astype(np.int64)
    for column in ["condition", *_TEXT_COLUMNS]:
        # The texts keep the CRLF line ends of the source files; a blank text
        # carries no information and is a missing value.
        text = data[column].str.replace("\r\n", "\n").str.replace("\r", "\n")
        data[column] = text.where(text.str.strip() != "")
    return data, raw["rating"].astype(np.int64)


@fill_docstring
def load_druglib(
    *, subset="train", target="rating_class", return_X_y=False, as_frame=True
):
    """Load the Drug Review Dataset (Druglib.com): tabular fields and texts.

    Patient reviews of prescription drugs, one row per review, with two
    modalities: structured fields (drug, condition, perceived effectiveness
    and side-effect severity, both ordinal 1-5) and three free-text reviews.
    The satisfaction rating is the target and is kept out of ``data``.

    =================  ===========================================
    Samples            4,143 (train 3,107, test 1,036)
    Features           7 (4 tabular, 3 text)
    Target             3 classes or an integer rating 1-10
    =================  ===========================================

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        Which official split to load; ``"all"`` stacks train then test.

    target : {"rating_class", "rating"}, default="rating_class"
        ``"rating_class"`` gives the strings ``"negative"`` (rating 1-4),
        ``"neutral"`` (5-6) and ``"positive"`` (7-10); ``"rating"`` gives the
        integer rating 1-10, for regression.

    %(loader_return_X_y)s

    as_frame : bool, default=True
        If True, ``data`` is a DataFrame indexed by ``review_id`` and
        ``target`` a Series. If False, ``data`` is an object ndarray, ``target``
        an ndarray and ``frame`` is None.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : {DataFrame, ndarray} of shape (n_samples, 7)
            Columns ``drug`` (str), ``condition`` (str), ``effectiveness``
            (int, 1 = "Ineffective" .. 5 = "Highly Effective"),
            ``side_effects`` (int, 1 = "No Side Effects" .. 5 = "Extremely
            Severe Side Effects"), ``benefits_review``,
            ``side_effects_review`` and ``comments_review`` (str). A missing
            condition or an empty review is NaN.
        target : {Series, ndarray} of shape (n_samples,)
            Named ``rating_class`` or ``rating``.
        frame : DataFrame of shape (n_samples, 8) or None
            ``data`` with the target as last column; None when
            ``as_frame=False``.
        target_names : list of str
            ``["negative", "neutral", "positive"]``, or ``["rating"]`` for the
            regression target.
    %(loader_bunch_fields)s

    Notes
    -----
    The effectiveness and side-effect levels are strongly correlated with the
    rating; drop them from the inputs to study the texts alone.

    The review texts are left as written (with spelling errors); only their
    line ends are normalised to ``"\\n"``. The data are distributed under the
    Creative Commons Attribution 4.0 licence (CC BY 4.0); the texts are
    user-generated content from druglib.com. The bundled files are the official
    UCI splits, unchanged.

    References
    ----------
    .. [1] F. Graesser, S. Kallumadi, H. Malberg, S. Zaunseder. "Aspect-Based
       Sentiment Analysis of Drug Reviews Applying Cross-Domain and
       Cross-Data Learning." Proceedings of the 2018 International Conference
       on Digital Health (DH'18), 121-125, 2018.
    .. [2] UCI Machine Learning Repository, "Drug Review Dataset
       (Druglib.com)", doi:10.24432/C55G6J.

    Examples
    --------
    >>> from skfusion.datasets import load_druglib
    >>> bunch = load_druglib()
    >>> bunch.data.shape
    (3107, 7)
    >>> bunch.target_names
    ['negative', 'neutral', 'positive']
    >>> bunch.modalities["text"]
    ['benefits_review', 'side_effects_review', 'comments_review']
    >>> X, y = load_druglib(subset="test", target="rating", return_X_y=True)
    >>> X.shape, int(y.min()), int(y.max())
    ((1036, 7), 1, 10)
    """
    check_subset(subset)
    if target not in _TARGETS:
        raise ValueError(
            f"target must be one of {list(_TARGETS)}, got {target!r} instead."
        )
    check_bool(return_X_y, "return_X_y")
    check_bool(as_frame, "as_frame")

    names = ["train", "test"] if subset == "all" else [subset]
    parts = [_read_split(name) for name in names]
    data = pd.concat([d for d, _ in parts])
    rating = pd.concat([r for _, r in parts])

    if target == "rating":
        y = rating.rename("rating")
        target_names = ["rating"]
    else:
        labels = np.select(
            [rating <= 4, rating <= 6], _RATING_CLASSES[:2], _RATING_CLASSES[2]
        )
        y = pd.Series(labels, index=rating.index, name="rating_class", dtype="str")
        target_names = _RATING_CLASSES

    return make_bunch(
        data,
        y,
        target_names=target_names,
        modalities=_MODALITIES,
        descr=_DESCR,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )
