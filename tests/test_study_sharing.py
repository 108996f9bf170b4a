"""One fit per split of what strategies share: the study's common first step."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skfusion.datasets import make_multimodal_classification
from skfusion.fusion import BlockScaler, WideBlockReducer
from skfusion.study import FusionStudy
from skfusion.study._runner import shared_first_steps


def _wide_table():
    X, y = make_multimodal_classification(
        200,
        modality_sizes=(3, 120),
        informativeness=(1.0, 2.0),
        n_classes=3,
        modality_names=["clinical", "image"],
        random_state=0,
    )
    table = X.rename(columns=lambda c: c.replace("__", "_"))
    modalities = [
        (name, "passthrough", [c for c in table.columns if c.startswith(f"{name}_")])
        for name in ("clinical", "image")
    ]
    return table, y.to_numpy(), modalities


def _scores(study):
    return study.fold_scores_.set_index(["strategy", "repeat", "fold", "metric"])[
        "score"
    ]


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_sharing_the_first_step_changes_no_score(n_jobs):
    table, y, modalities = _wide_table()
    names = ["unimodal:image", "early:linear", "late:stacking"]
    study = FusionStudy(
        modalities, strategies=names, cv=3, random_state=0, contributions=None
    )
    study.fit(table, y)
    shared = shared_first_steps(study.strategies_, study.strategy_modalities_)
    # The fusion strategies share their reducer; the unimodal one is alone.
    assert set(shared) == {"early:linear", "late:stacking"}
    alone = {}
    for name in names:
        single = FusionStudy(
            modalities,
            strategies={
                name: (study.strategies_[name], study.strategy_modalities_[name])
            },
            cv=3,
            random_state=0,
            contributions=None,
            n_jobs=n_jobs,
        ).fit(table, y)
        alone[name] = _scores(single)
    pd.testing.assert_series_equal(
        _scores(study).sort_index(), pd.concat(alone.values()).sort_index()
    )


def test_kept_models_are_whole_pipelines():
    table, y, modalities = _wide_table()
    study = FusionStudy(
        modalities, strategies=["early:linear", "late:mean"], cv=2, random_state=0
    ).fit(table, y)
    # The contributions refit early:linear and permute blocks of its kept
    # fold models: those are whole pipelines, reducer first, that predict.
    assert study.contribution_strategy_ == "early:linear"
    assert np.isfinite(study.contributions_["importance_mean"]).all()


def test_only_identical_first_steps_are_shared():
    reducer = WideBlockReducer(random_state=0)
    strategies = {
        "a": make_pipeline(reducer, BlockScaler(), LogisticRegression()),
        "b": make_pipeline(WideBlockReducer(random_state=0), LogisticRegression()),
        "c": make_pipeline(WideBlockReducer(random_state=1), LogisticRegression()),
        "d": make_pipeline(WideBlockReducer(random_state=0), LogisticRegression()),
        "e": LogisticRegression(),
    }
    seen = {"a": ("m",), "b": ("m",), "c": ("m",), "d": ("m", "n"), "e": ("m",)}
    shared = shared_first_steps(strategies, seen)
    # a and b: same step on the same modalities; c another seed; d other columns.
    assert set(shared) == {"a", "b"}
    assert shared["a"] == shared["b"]
