"""WideBlockReducer: which blocks are wide, their fold-fitted projections."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import (
    LogisticRegression,
    LogisticRegressionCV,
    Ridge,
    RidgeCV,
)
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfusion.fusion import LateFusionClassifier, WideBlockReducer
from skfusion.fusion._tuned import with_chosen_hyperparameters


def _projection(reducer, modality, sub_block=""):
    """The fitted PCA of one (modality, sub_block), or None if kept."""
    for (name, part, _), projection in zip(
        reducer.sub_blocks_, reducer.projections_, strict=True
    ):
        if (name, part) == (modality, sub_block):
            return projection
    raise KeyError((modality, sub_block))


def _table(n_rows, widths, seed=0):
    """A blocked DataFrame with one block per ``name: width`` of ``widths``."""
    rng = np.random.default_rng(seed)
    columns = [f"{name}__f{i}" for name, width in widths.items() for i in range(width)]
    return pd.DataFrame(rng.normal(size=(n_rows, len(columns))), columns=columns)


@pytest.mark.parametrize(
    ("n_rows", "width", "reduced"),
    [
        (1000, 1280, True),  # an image embedding on a study's training fold
        (1000, 64, False),  # not wider than n_components
        (1000, 80, False),  # 12.5 rows per column: not wide for its rows
        (600, 80, True),  # 7.5 rows per column
        (15000, 384, False),  # a text embedding on many rows
    ],
)
def test_the_rule_decides_which_blocks_are_wide(n_rows, width, reduced):
    X = _table(n_rows, {"clinical": 3, "image": width})
    reducer = WideBlockReducer().fit(X)
    assert (_projection(reducer, "image") is not None) is reduced
    assert _projection(reducer, "clinical") is None
    expected = 3 + (64 if reduced else width)
    assert reducer.transform(X).shape == (n_rows, expected)


def test_sub_blocks_are_judged_one_by_one():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        rng.normal(size=(300, 2 + 200 + 30)),
        columns=["clinical__numeric__age", "clinical__categorical__sex_F"]
        + [f"image__embedding__emb{i}" for i in range(200)]
        + [f"image__statistics__s{i}" for i in range(30)],
    )
    reducer = WideBlockReducer(n_components=16).set_output(transform="pandas")
    out = reducer.fit_transform(X)
    reduced = [
        (modality, part)
        for (modality, part, _), projection in zip(
            reducer.sub_blocks_, reducer.projections_, strict=True
        )
        if projection is not None
    ]
    assert reduced == [("image", "embedding")]
    assert out.columns.tolist() == (
        ["clinical__numeric__age", "clinical__categorical__sex_F"]
        + [f"image__embedding__pc{i}" for i in range(16)]
        + [f"image__statistics__s{i}" for i in range(30)]
    )
    # The kept columns pass unchanged.
    kept = [c for c in X.columns if "embedding" not in c]
    pd.testing.assert_frame_equal(out[kept], X[kept])


def test_projection_is_learned_from_the_training_rows_only():
    X = _table(400, {"a": 2, "b": 150}, seed=1)
    train, test = X.iloc[:300], X.iloc[300:]
    reducer = WideBlockReducer(n_components=10, random_state=0).fit(train)
    block = [c for c in X.columns if c.startswith("b__")]
    scaler = StandardScaler().fit(train[block])
    pca = PCA(10, random_state=0).fit(scaler.transform(train[block]))
    expected = pca.transform(scaler.transform(test[block]))
    np.testing.assert_allclose(reducer.transform(test)[:, 2:], expected, atol=1e-8)


def test_missing_block_stays_missing_and_missing_values_are_imputed():
    X = _table(300, {"a": 2, "b": 120})
    block = [c for c in X.columns if c.startswith("b__")]
    X.loc[:19, block] = np.nan  # 20 rows without the modality
    X.loc[25, block[:5]] = np.nan  # a few missing values in a present block
    reducer = WideBlockReducer(n_components=8).fit(X)
    out = reducer.transform(X)
    assert np.isnan(out[:20, 2:]).all()
    assert not np.isnan(out[20:, 2:]).any()
    np.testing.assert_array_equal(out[:, :2], X.iloc[:, :2].to_numpy())
    # Fitted on the 280 rows where the block is present.
    assert _projection(reducer, "b").n_samples_ == 280


def test_a_block_is_reduced_alike_whatever_else_is_present():
    X = _table(300, {"a": 3, "b": 100, "c": 120}, seed=2)
    both = WideBlockReducer(n_components=8, random_state=3).fit(X)
    alone = WideBlockReducer(n_components=8, random_state=3).fit(
        X[[c for c in X.columns if c.startswith("c__")]]
    )
    np.testing.assert_array_equal(
        both.transform(X)[:, -8:],
        alone.transform(X[[c for c in X.columns if c.startswith("c__")]]),
    )


def test_few_present_rows_limit_the_components():
    X = _table(50, {"a": 2, "b": 100})
    X.iloc[5:, 2:] = np.nan
    reducer = WideBlockReducer(n_components=10).fit(X)
    assert _projection(reducer, "b").n_components_ == 4


@settings(max_examples=20, deadline=None)
@given(st.permutations(list(range(12))))
def test_transform_keeps_rows_in_their_order(order):
    X = _table(12, {"a": 1, "b": 30}, seed=4)
    reducer = WideBlockReducer(n_components=3, rows_per_column=1).fit(X)
    np.testing.assert_allclose(
        reducer.transform(X.iloc[order]), reducer.transform(X)[order], atol=1e-12
    )


# -- the hyperparameters a self-tuning model chose ----------------------------------


def test_chosen_hyperparameters_of_tuned_models():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(120, 4)), rng.integers(0, 3, 120)
    search = LogisticRegressionCV(
        Cs=[1e-3, 1.0], l1_ratios=(0.0,), class_weight="balanced", max_iter=500,
        scoring="neg_log_loss", use_legacy_attributes=False,
    )  # fmt: skip
    pipeline = make_pipeline(StandardScaler(), search)
    fitted = clone(pipeline).fit(X, y)
    tuned = with_chosen_hyperparameters(fitted, pipeline)
    final = tuned[-1]
    assert isinstance(final, LogisticRegression)
    assert final.C == fitted[-1].C_ and final.class_weight == "balanced"
    assert not hasattr(final, "coef_")
    # Refitted with the chosen C on the same rows, it is the search's refit
    # (up to the solver's tolerance: the search warm-starts its refit).
    np.testing.assert_allclose(
        tuned.fit(X, y).predict_proba(X), fitted.predict_proba(X), atol=2e-3
    )

    ridge = RidgeCV(alphas=[0.1, 10.0]).fit(X, y.astype(float))
    chosen = with_chosen_hyperparameters(ridge, RidgeCV(alphas=[0.1, 10.0]))
    assert isinstance(chosen, Ridge) and chosen.alpha == ridge.alpha_

    grid = GridSearchCV(LogisticRegression(), {"C": [0.01, 10.0]}, cv=3).fit(X, y)
    chosen = with_chosen_hyperparameters(grid, GridSearchCV(LogisticRegression(), {}))
    assert chosen.get_params() == clone(grid.best_estimator_).get_params()

    plain = LogisticRegression(C=3.0)
    assert with_chosen_hyperparameters(plain.fit(X, y), plain).C == 3.0


def test_stacking_does_not_search_again_in_every_fold(monkeypatch):
    calls = {"search": 0}
    original = LogisticRegressionCV.fit

    def counting(self, *args, **kwargs):
        calls["search"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LogisticRegressionCV, "fit", counting)
    X = _table(150, {"a": 3, "b": 5}, seed=5)
    y = np.random.default_rng(5).integers(0, 2, 150)
    search = LogisticRegressionCV(
        Cs=3, l1_ratios=(0.0,), scoring="neg_log_loss", use_legacy_attributes=False
    )
    model = LateFusionClassifier(
        search, combiner="stacking", final_estimator=LogisticRegression(), cv=4,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    # One search per modality on all training rows; the 4 out-of-fold fits
    # of each reuse its C.
    assert calls["search"] == 2
    assert model.predict_proba(X).shape == (150, 2)


def test_a_fitted_reducer_round_trips_through_skops(tmp_path):
    pytest.importorskip("skops")
    from skfusion.persist import dump, load

    X = _table(200, {"a": 2, "b": 100})
    reducer = WideBlockReducer(n_components=5, random_state=0).fit(X)
    dump(reducer, tmp_path / "reducer.skops")
    loaded = load(tmp_path / "reducer.skops")
    np.testing.assert_array_equal(loaded.transform(X), reducer.transform(X))
