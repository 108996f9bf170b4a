"""The package's own estimator checks.

scikit-learn's estimator checks feed 2-D numeric arrays, so they skip the
extractors, which take one column of paths, texts or array cells:
:func:`check_extractor` covers what matters for them instead.

scikit-learn's subset and sample-order invariance checks compare predictions
to 1e-7 (absolute) or tighter. A float32 network cannot promise that: a matrix
product's result depends on the batch's size and on the CPU's kernel, by a few
float32 ulps. :func:`check_prediction_batch_invariance` checks the same
properties at a stated float32 tolerance, so that a real regression still fails.
"""

import copy
import pickle

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from ..compose import make_modality_transformer
from ..extractors import is_missing

__all__ = ["check_extractor", "check_prediction_batch_invariance"]


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

    # Other batches: a network's float32 outputs agree to rounding, not exactly.
    batching = {"rtol": 1e-5, "atol": 1e-6}
    order = np.random.default_rng(0).permutation(len(column))
    reordered = fitted.transform([column[i] for i in order])
    np.testing.assert_allclose(
        reordered, block[order], **batching, err_msg=f"{name}: order"
    )
    subset = fitted.transform(column[1:])
    np.testing.assert_allclose(subset, block[1:], **batching, err_msg=f"{name}: subset")

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


_PREDICTION_METHODS = ("predict_proba", "decision_function", "predict", "transform")


def check_prediction_batch_invariance(
    estimator, X, y, *, rtol=1e-5, atol=1e-6, random_state=0
):
    """Check that predictions do not depend on how the rows are batched.

    The estimator is fitted once on ``X, y``; then every prediction method
    (``predict_proba``, ``decision_function``, ``predict``, ``transform``)
    must give, row
    for row, the same result on the whole of ``X``, one row at a time, on a
    shuffled copy and on a subset, and, for an estimator with a
    ``batch_size`` parameter, with a different prediction batch size.

    Parameters
    ----------
    estimator : estimator object
        An unfitted estimator.

    X : array-like of shape (n_samples, n_features)
        Training and prediction rows.

    y : array-like of shape (n_samples,)
        Training target.

    rtol, atol : float, default=1e-5, 1e-6
        Tolerances of the comparison of continuous outputs: a few hundred
        float32 ulps, far below any difference that changes a conclusion.

    random_state : int, default=0
        Seed of the shuffled order and the subset.

    Raises
    ------
    AssertionError
        Naming the method and the batching that disagree. Class labels are
        compared on rows whose two most probable classes differ by more than
        the tolerance (a tie within rounding may break either way).
    """
    name = type(estimator).__name__
    X = np.asarray(X)
    fitted = clone(estimator).fit(X, y)
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(X))
    subset = np.sort(rng.choice(len(X), size=max(1, len(X) // 3), replace=False))
    batchings = {
        "one row at a time": lambda method: np.concatenate(
            [method(X[i : i + 1]) for i in range(len(X))]
        ),
        "a shuffled order": lambda method: _unshuffled(method(X[order]), order),
        "a subset": lambda method: method(X[subset]),
    }
    expected_rows = {"a subset": subset}
    clear = _rows_with_a_clear_winner(fitted, X, rtol, atol)

    for method_name in _PREDICTION_METHODS:
        if not hasattr(fitted, method_name):
            continue
        full = np.asarray(getattr(fitted, method_name)(X))
        for batching, predict in batchings.items():
            got = np.asarray(predict(getattr(fitted, method_name)))
            rows = expected_rows.get(batching, slice(None))
            _assert_same_predictions(
                got,
                full[rows],
                method_name,
                clear[rows],
                rtol,
                atol,
                f"{name}.{method_name} differs on {batching}",
            )
        if "batch_size" in fitted.get_params():
            rebatched = copy.deepcopy(fitted).set_params(batch_size=3)
            got = np.asarray(getattr(rebatched, method_name)(X))
            _assert_same_predictions(
                got,
                full,
                method_name,
                clear,
                rtol,
                atol,
                f"{name}.{method_name} differs with batch_size=3",
            )


def _unshuffled(result, order):
    restored = np.empty_like(result)
    restored[order] = result
    return restored


def _rows_with_a_clear_winner(fitted, X, rtol, atol):
    if not hasattr(fitted, "predict_proba"):
        return np.ones(len(X), dtype=bool)
    proba = np.sort(np.asarray(fitted.predict_proba(X)), axis=1)
    if proba.shape[1] < 2:
        return np.ones(len(X), dtype=bool)
    margin = proba[:, -1] - proba[:, -2]
    return margin > 2 * (atol + rtol * proba[:, -1])


def _assert_same_predictions(got, expected, method_name, clear, rtol, atol, message):
    if method_name == "predict" and not np.issubdtype(expected.dtype, np.floating):
        np.testing.assert_array_equal(got[clear], expected[clear], err_msg=message)
    else:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=message)
