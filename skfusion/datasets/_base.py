"""What the bundled-dataset loaders share: data folder, argument checks, Bunch."""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

_SUBSETS = ("train", "test", "all")


def data_dir():
    """Return the folder that holds the bundled data files."""
    return Path(__file__).resolve().parent / "data"


def check_subset(subset):
    if subset not in _SUBSETS:
        raise ValueError(
            f"subset must be one of {list(_SUBSETS)}, got {subset!r} instead."
        )


def check_bool(value, name):
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be a bool, got {value!r} instead.")


def make_bunch(data, target, *, target_names, modalities, descr, as_frame, return_X_y):
    """Package a study table and its target the way sklearn's loaders do.

    Parameters
    ----------
    data : pandas.DataFrame
        The study table without the target.
    target : pandas.Series or pandas.DataFrame
        The target, aligned with ``data``; its name (a multi-label target's
        column names) becomes the target column of ``frame``.
    target_names : list
        Class labels for a classification target, the target name otherwise.
    modalities : dict of str to list of str
        Suggested grouping of the columns of ``data`` into modalities.
    descr : str
        Description of the dataset.
    as_frame : bool
        Return pandas objects (and ``frame``) when True, numpy arrays otherwise.
    return_X_y : bool
        Return ``(data, target)`` instead of the Bunch.
    """
    feature_names = list(data.columns)
    frame = None
    if as_frame:
        frame = pd.concat([data, target], axis=1)
    else:
        # Object array so that mixed columns (text, paths, arrays) keep their
        # values; NaN marks a missing value as it does in the frame.
        values = np.empty(data.shape, dtype=object)
        for j, column in enumerate(feature_names):
            values[:, j] = data[column].to_numpy(dtype=object)
        data = values
        if isinstance(target, pd.DataFrame):
            # A multi-label indicator matrix: one numeric column per label.
            target = target.to_numpy()
        else:
            numeric = pd.api.types.is_numeric_dtype(target.dtype)
            target = target.to_numpy(dtype=None if numeric else object)

    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        feature_names=feature_names,
        target_names=list(target_names),
        modalities={name: list(cols) for name, cols in modalities.items()},
        DESCR=descr,
    )
