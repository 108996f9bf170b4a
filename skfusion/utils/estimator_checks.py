"""The package's own checks for extractors.

scikit-learn's estimator checks feed 2-D numeric arrays, so they skip the
extractors, which take one column of paths, texts or array cells. These
checks cover what matters for them instead.
"""

import pickle

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from ..compose import make_modality_transformer
from ..extractors._io import is_missing

__all__ = ["check_extractor"]


def check_extractor(extractor, column):
    """Check that an extractor keeps the package's contract.

    Parameters
    ----------
    extractor : BaseExtractor
        An unfitted extractor.

    column : list
        Valid inputs for it (paths, texts or arrays) with at least two
        non-missing items and at least one missing one (None, NaN or "").

    Raises
    ------
    AssertionError
        Naming the first broken rule: transform before fit, output shape and
        dtype, NaN rows exactly for missing inputs, row order and subsets,
        Series / list / array inputs, clone, pickle, feature names, pandas
        output, use inside ``make_modality_transformer``.
    """
    name = type(extractor).__name__
    column = list(column)
    missing = np.array([is_missing(value) for value in column])
    assert missing.any() and (~missing).sum() >= 2, "need missing and present items"

    try:
        clone(extractor).transform(column)
    except NotFittedError:
        pass
    else:
        raise AssertionError(f"{name}.transform before fit did not raise")

    fitted = clone(extractor).fit(column)
    block = fitted.transform(column)
    assert isinstance(block, np.ndarray) and block.ndim == 2, f"{name}: not 2-D"
    assert block.shape == (len(column), fitted.n_features_out_), f"{name}: shape"
    assert np.issubdtype(block.dtype, np.floating), f"{name}: not float"
    assert np.isnan(block[missing]).all(), f"{name}: missing input, non-NaN row"
    assert not np.isnan(block[~missing]).all(axis=1).any(), f"{name}: NaN row"

    order = np.random.default_rng(0).permutation(len(column))
    reordered = fitted.transform([column[i] for i in order])
    np.testing.assert_allclose(reordered, block[order], err_msg=f"{name}: order")
    subset = fitted.transform(column[1:])
    np.testing.assert_allclose(subset, block[1:], err_msg=f"{name}: subset")

    series = pd.Series(column, index=[f"s{i}" for i in range(len(column))])
    array = np.empty(len(column), dtype=object)
    for position, value in enumerate(column):
        array[position] = value
    for variant in (series, array, series.to_frame("input")):
        np.testing.assert_allclose(
            fitted.transform(variant), block, err_msg=f"{name}: input container"
        )

    np.testing.assert_allclose(
        clone(extractor).fit(column).transform(column), block, err_msg=f"{name}: clone"
    )
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(
        restored.transform(column), block, err_msg=f"{name}: pickle"
    )

    names = fitted.get_feature_names_out()
    assert isinstance(names, np.ndarray) and names.dtype == object, f"{name}: names"
    assert len(names) == block.shape[1], f"{name}: one name per column"
    assert len(set(names)) == len(names), f"{name}: duplicate feature names"
    assert list(fitted.get_feature_names_out(["input"])) == list(names)

    frame = clone(extractor).set_output(transform="pandas").fit(series)
    frame = frame.transform(series)
    assert isinstance(frame, pd.DataFrame), f"{name}: set_output(pandas)"
    assert list(frame.columns) == list(names), f"{name}: pandas columns"
    assert list(frame.index) == list(series.index), f"{name}: pandas index"

    table = pd.DataFrame({"input": series})
    blocked = make_modality_transformer(("m", clone(extractor), "input"))
    blocked = blocked.fit_transform(table)
    assert list(blocked.columns) == [f"m__{n}" for n in names], f"{name}: prefix"
    np.testing.assert_allclose(blocked.to_numpy(), block, err_msg=f"{name}: table")
