"""Property-based tests: every fusion estimator on random blocked matrices.

Each estimator must either raise a ``ValueError`` that names a modality, a row
or a column, or return one finite output row per input row, in input order
(probabilities summing to 1, known class labels), with no numpy warning. On
inputs its documentation accepts it must not raise at all, and a row with no
modality gets the documented fallback. Profiles are set in ``conftest.py``
(``HYPOTHESIS_PROFILE=slow`` explores more).
"""

import os
import re
import warnings
from functools import partial

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline

from skfusion.deep import FUSION_LAYERS
from skfusion.fusion import (
    BlockScaler,
    FeatureFusion,
    LateFusionClassifier,
    LateFusionRegressor,
    MultipleKernelClassifier,
    SharedSpace,
)

# Names that no library message contains by chance, so that finding one in an
# error message means the message names the modality.
MODALITY_NAMES = ("clinical", "imaging", "omics")
LABEL_SETS = ([0, 1], ["neg", "pos"], [-1, 3], [0, 1, 2], ["a", "b", "c"])
SCALE_EXPONENTS = st.one_of(
    st.just(0.0),
    st.sampled_from([-300.0, -154.0, 154.0, 155.0, 300.0]),
    st.floats(-300.0, 300.0),
)
MODERATE_EXPONENTS = st.one_of(st.just(0.0), st.floats(-3.0, 3.0))
RTOL, ATOL = 1e-5, 1e-6
# UserWarnings (never-observed columns, convergence) are documented, not tested.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
# "mixed" (extreme scales and rare modalities together) only in the slow profile:
# in the default one a scale defect would hide the missingness defects.
FAMILIES = ("scales", "missingness")
if os.environ.get("HYPOTHESIS_PROFILE", "default") == "slow":
    FAMILIES += ("mixed",)


class Case:
    """Training frame and target; test frame = training rows + a no-modality row."""

    def __init__(self, X, y, X_test, permutation, spec):
        self.X, self.y, self.X_test = X, y, X_test
        self.permutation, self.spec = permutation, spec

    def __repr__(self):
        return f"Case({self.spec})"

    @property
    def present(self):
        """Training availability, (n_rows, n_modalities)."""
        return np.column_stack(
            [self.X.filter(like=f"{m}__").notna().any(axis=1) for m in self.modalities]
        )

    @property
    def modalities(self):
        return list(dict.fromkeys(c.split("__")[0] for c in self.X.columns))


@st.composite
def blocked_cases(draw, task, family, min_class_count=1):
    """A random blocked matrix.

    ``family="scales"``: per-modality scales 1e-300 ... 1e300, every modality
    present in all or random rows. ``family="missingness"``: moderate scales,
    modalities present in 0, 1 or 2 rows or in one class only. Kept apart so
    that a defect of one family does not hide those of the other;
    ``family="mixed"`` draws both.
    """
    n_rows = draw(st.integers(8, 30))
    n_modalities = draw(st.integers(2, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    spec = {"family": family, "n_rows": n_rows, "seed": seed}

    codes = None
    if task == "classification":
        labels = draw(st.sampled_from(LABEL_SETS))
        n_classes = len(labels)
        sizes = [k for k in (2, 1, 3) if k >= min_class_count]  # shrinks to 2
        smallest = min(draw(st.sampled_from(sizes)), n_rows // n_classes)
        # Class 0 has exactly `smallest` rows, the others at least as many.
        extra = rng.multinomial(
            n_rows - n_classes * smallest,
            np.r_[0.0, np.ones(n_classes - 1)] / (n_classes - 1),
        )
        codes = rng.permutation(np.repeat(np.arange(n_classes), smallest + extra))
        dtype = object if isinstance(labels[0], str) else int
        y = np.asarray(labels, dtype=dtype)[codes]
        spec.update(labels=labels, class_counts=np.bincount(codes).tolist())
    else:
        kind = draw(st.sampled_from(["normal", "constant", "large"]))
        y = {
            "normal": rng.standard_normal(n_rows),
            "constant": np.full(n_rows, 3.0),
            "large": 1e6 * rng.standard_normal(n_rows),
        }[kind]
        spec["y"] = kind

    kinds = ["all", "random"]
    if family != "scales":
        kinds += ["count"] + (["one_class"] if codes is not None else [])
    exponents = MODERATE_EXPONENTS if family == "missingness" else SCALE_EXPONENTS
    columns = {}
    for name in MODALITY_NAMES[:n_modalities]:
        width = draw(st.integers(1, 4))
        scale = 10.0 ** draw(exponents)
        kind = draw(st.sampled_from(kinds))
        if kind == "all":
            rows = np.ones(n_rows, dtype=bool)
        elif kind == "random":
            rows = rng.random(n_rows) < 0.6
        elif kind == "count":
            count = draw(st.integers(0, 2))
            rows = np.zeros(n_rows, dtype=bool)
            rows[rng.choice(n_rows, count, replace=False)] = True
            kind = f"count={count}"
        else:
            only = draw(st.integers(0, len(spec["labels"]) - 1))
            rows = codes == only
            kind = f"one_class={spec['labels'][only]!r}"
        constant = [draw(st.booleans()) for _ in range(width)]
        nan_rate = draw(st.sampled_from([0.0, 0.25]))

        block = np.clip(rng.standard_normal((n_rows, width)), -5, 5) * scale
        for j in np.flatnonzero(constant):
            block[:, j] = block[0, j]
        holes = rng.random((n_rows, width)) < nan_rate
        # Keep one observed cell per present row, so that a hole never turns a
        # present block into a missing modality.
        holes[np.arange(n_rows), rng.integers(0, width, n_rows)] = False
        block[holes] = np.nan
        block[~rows] = np.nan
        for j in range(width):
            columns[f"{name}__f{j}"] = block[:, j]
        spec[name] = {
            "width": width,
            "scale": scale,
            "present": kind,
            "constant": sum(constant),
            "nan_cells": int(holes[rows].sum()),
        }

    X = pd.DataFrame(columns)
    X_test = pd.concat([X, pd.DataFrame(np.nan, index=[n_rows], columns=X.columns)])
    permutation = rng.permutation(n_rows + 1)
    return Case(X, y, X_test, permutation, spec)


# --- what the documentation promises ------------------------------------------------


def _always(case):
    return True


def _some_modality_trained(case):
    return bool(case.present.any())


def _every_modality_trained(case):
    return bool(case.present.any(axis=0).all())


def _class_prior(case):
    _, counts = np.unique(case.y, return_counts=True)
    return counts / counts.sum()


def _target_mean(case):
    return np.mean(case.y)


def _deep(cls, fusion, **kwargs):
    from skfusion.deep import DeepFusionClassifier, DeepFusionRegressor

    estimator = {"classifier": DeepFusionClassifier, "regressor": DeepFusionRegressor}
    return estimator[cls](
        fusion=fusion,
        embed_dim=4,
        hidden_dim=8,
        rank=2,
        max_epochs=3,
        n_iter_no_change=2,
        device="cpu",
        random_state=0,
        **kwargs,
    )


# name -> (factory, predicate: no error is documented for this case, fallback)
CLASSIFIERS = {
    "blockscaler-logistic": (
        lambda: make_pipeline(BlockScaler(), LogisticRegression()),
        _always,
        None,
    ),
    "blockscaler-indicator-logistic": (
        lambda: make_pipeline(BlockScaler(add_indicator=True), LogisticRegression()),
        _always,
        None,
    ),
    **{
        f"latefusion-{combiner}": (
            partial(LateFusionClassifier, combiner=combiner, random_state=0),
            _some_modality_trained,
            _class_prior,
        )
        for combiner in ("mean", "weighted", "product", "stacking", "vote")
    },
    **{
        f"multiplekernel-{kernel}": (
            partial(MultipleKernelClassifier, kernel=kernel, random_state=0),
            _always,
            None,
        )
        for kernel in ("rbf", "linear")
    },
    **{
        f"deep-{fusion}": (
            partial(_deep, "classifier", fusion),
            _some_modality_trained,
            _class_prior,
        )
        for fusion in FUSION_LAYERS
    },
}

REGRESSORS = {
    "blockscaler-ridge": (lambda: make_pipeline(BlockScaler(), Ridge()), _always, None),
    **{
        f"latefusion-{combiner}": (
            partial(LateFusionRegressor, combiner=combiner, random_state=0),
            _some_modality_trained,
            _target_mean,
        )
        for combiner in ("mean", "weighted", "stacking")
    },
    **{
        f"deep-{fusion}": (
            partial(_deep, "regressor", fusion),
            _some_modality_trained,
            _target_mean,
        )
        for fusion in ("concat", "attention", "lowrank")
    },
}

TRANSFORMERS = {
    **{
        f"featurefusion-{method}": (partial(FeatureFusion, method), _always)
        for method in ("concat", "sum", "mean", "product")
    },
    # n_components=1 is documented to fail for a modality in no training row.
    **{
        f"featurefusion-{method}-1": (
            partial(FeatureFusion, method, n_components=1),
            _every_modality_trained,
        )
        for method in ("concat", "product")
    },
    "sharedspace": (partial(SharedSpace, n_components=1), _always),
}


# --- the checks -----------------------------------------------------------------------


def _names_something(message, case):
    return any(name in message for name in case.modalities) or bool(
        re.search(r"\b(rows?|columns?)\b", message, flags=re.IGNORECASE)
    )


def _fit_and_run(case, fit, outputs):
    """Fit, then outputs on the test frame and on its permutation; warnings raise."""
    note(f"training frame:\n{case.X.to_string()}\ny = {case.y.tolist()}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        estimator = fit()
        result = outputs(estimator, case.X_test)
        permuted = outputs(estimator, case.X_test.iloc[case.permutation])
    return estimator, result, permuted


def _check(case, documented_ok, fit, outputs):
    """Run; a ValueError must be named and undocumented inputs must not raise.

    Returns the fitted estimator and outputs, or None after a ValueError.
    """
    try:
        estimator, result, permuted = _fit_and_run(case, fit, outputs)
    except ValueError as exc:
        message = str(exc)
        assert _names_something(message, case), f"unnamed ValueError: {message}"
        assert not documented_ok, f"ValueError on a documented input: {message}"
        return None
    n_test = len(case.X_test)
    for key, value in result.items():
        assert value.shape[0] == n_test, key
        if value.dtype.kind == "f":
            assert np.isfinite(value).all(), f"non-finite {key}:\n{value}"
            # atol in units of the output's magnitude: a float32 network's 1-ulp
            # row-order noise times a target scale of 1e6 is not a defect.
            assert_allclose(
                permuted[key],
                value[case.permutation],
                rtol=RTOL,
                atol=ATOL * max(1.0, np.abs(value).max()),
                err_msg=f"{key} depends on the row order",
            )
    return estimator, result


def _classifier_outputs(estimator, X):
    outputs = {
        "predict_proba": np.asarray(estimator.predict_proba(X), dtype=float),
        "predict": np.asarray(estimator.predict(X)),
    }
    if hasattr(estimator, "decision_function"):
        outputs["decision_function"] = np.asarray(
            estimator.decision_function(X), dtype=float
        )
    return outputs


def _regressor_outputs(estimator, X):
    return {"predict": np.asarray(estimator.predict(X), dtype=float)}


def _transformer_outputs(estimator, X):
    return {"transform": np.asarray(estimator.transform(X), dtype=float)}


@pytest.mark.parametrize("name", list(CLASSIFIERS))
@pytest.mark.parametrize("family", FAMILIES)
@given(data=st.data())
def test_classifier_named_error_or_valid_output(name, family, data):
    case = data.draw(blocked_cases("classification", family), label="case")
    make, documented, fallback = CLASSIFIERS[name]
    # A class with fewer than 2 rows may legitimately give a (named) error.
    documented_ok = min(case.spec["class_counts"]) >= 2 and documented(case)
    checked = _check(
        case, documented_ok, lambda: make().fit(case.X, case.y), _classifier_outputs
    )
    if checked is None:
        return
    estimator, result = checked
    proba, predicted = result["predict_proba"], result["predict"]
    classes = np.unique(case.y)
    assert np.array_equal(np.asarray(estimator.classes_), classes)
    assert proba.shape == (len(case.X_test), classes.size)
    assert ((proba >= 0) & (proba <= 1)).all(), proba
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-6)
    assert np.isin(predicted, classes).all(), predicted
    if fallback is not None:
        # The last test row has no modality: the documented fallback.
        assert_allclose(proba[-1], fallback(case), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", list(REGRESSORS))
@pytest.mark.parametrize("family", FAMILIES)
@given(data=st.data())
def test_regressor_named_error_or_valid_output(name, family, data):
    case = data.draw(blocked_cases("regression", family), label="case")
    make, documented, fallback = REGRESSORS[name]
    checked = _check(
        case,
        documented(case),
        lambda: make().fit(case.X, case.y),
        _regressor_outputs,
    )
    if checked is None:
        return
    _, result = checked
    if fallback is not None:
        assert_allclose(result["predict"][-1], fallback(case), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", list(TRANSFORMERS))
@pytest.mark.parametrize("family", FAMILIES)
@given(data=st.data())
def test_transformer_named_error_or_valid_output(name, family, data):
    case = data.draw(blocked_cases("classification", family), label="case")
    make, documented = TRANSFORMERS[name]
    checked = _check(
        case, documented(case), lambda: make().fit(case.X), _transformer_outputs
    )
    if checked is None:
        return
    estimator, result = checked
    fused = result["transform"]
    # The last test row has no modality.
    if isinstance(estimator, SharedSpace):
        expected = np.zeros(fused.shape[1])  # documented: zeros
    else:
        # Documented: the training mean of the fused output of rows with a modality.
        rows = case.present.any(axis=1)
        expected = fused[:-1][rows].mean(axis=0) if rows.any() else estimator.fallback_
    assert_allclose(fused[-1], expected, rtol=RTOL, atol=ATOL)
