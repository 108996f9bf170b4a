"""External cohorts the study cannot score are named (issue 26, C11-C12)."""

import numpy as np
import pandas as pd
import pytest

from skfusion.study import FusionStudy


def _table(n=45, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})


def _study(y, table, **params):
    return FusionStudy(
        [("m", "passthrough", ["a", "b"])],
        strategies=["unimodal:m"],
        cv=3,
        random_state=0,
        contributions=None,
        refit="best",
        **params,
    ).fit(table, y)


def test_a_text_target_of_a_regression_cohort_names_its_row():
    table = _table()
    study = _study(table["a"] * 2.0, table)
    cohort = _table(10, seed=1)
    y = (cohort["a"] * 2.0).astype(object)
    y.iloc[2] = "soon"
    with pytest.raises(ValueError, match=r"not numbers, first at row 2 \('soon'\)"):
        study.evaluate(cohort, y)


def test_a_non_numeric_survival_time_names_its_field_and_row():
    pytest.importorskip("sksurv")
    table = _table(60)
    rng = np.random.default_rng(0)
    y = np.empty(60, dtype=[("event", bool), ("time", float)])
    y["event"], y["time"] = rng.random(60) < 0.7, rng.exponential(size=60) + 0.1
    study = _study(y, table)
    cohort = _table(10, seed=1)
    times = np.empty(10, dtype=[("event", bool), ("time", object)])
    times["event"], times["time"] = True, list(np.arange(1.0, 11.0))
    times["time"][3] = "soon"
    with pytest.raises(ValueError, match=r"'time' holds a value .* row 3 \('soon'\)"):
        study.evaluate(cohort, times)


def test_a_multiclass_cohort_without_a_class_names_the_class():
    table = _table(60)
    y = np.array(["a", "b", "c"] * 20)
    study = _study(y, table)
    cohort = _table(10, seed=1)
    with pytest.raises(ValueError, match=r"no row of class\(es\) \['c'\]"):
        study.evaluate(cohort, np.array(["a", "b"] * 5))
