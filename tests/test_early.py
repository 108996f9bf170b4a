import contextlib
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skfusion.datasets import make_multimodal_classification
from skfusion.fusion import BlockScaler, FeatureFusion
from skfusion.utils._test_common import scale_modality

ELEMENTWISE = ["sum", "mean", "product"]


def _data(n_samples=40, sizes=(2, 5), missing_rate=0.0, random_state=0):
    X, y = make_multimodal_classification(
        n_samples,
        modality_sizes=sizes,
        missing_rate=missing_rate,
        random_state=random_state,
    )
    return X, y


def _blocks(X):
    """Column positions of each modality of a make_multimodal_classification X."""
    groups = {}
    for position, name in enumerate(X.columns):
        groups.setdefault(name.split("__")[0], []).append(position)
    return {name: np.asarray(idx) for name, idx in groups.items()}


# --------------------------------------------------------------------------------
# BlockScaler
# --------------------------------------------------------------------------------


def test_block_scaler_block_variance_equals_default_weight_whatever_width():
    X, _ = _data(60, sizes=(2, 50))
    Xt = BlockScaler().fit_transform(X)
    for indices in _blocks(X).values():
        assert_allclose(Xt[:, indices].var(axis=0, ddof=0).sum(), 1.0)


def test_block_scaler_block_weights_set_block_variance():
    X, _ = _data(60, sizes=(2, 50))
    scaler = BlockScaler(block_weights={"m1": 3.0}).fit(X)
    Xt = scaler.transform(X)
    blocks = _blocks(X)
    assert_allclose(Xt[:, blocks["m0"]].var(axis=0).sum(), 1.0)
    assert_allclose(Xt[:, blocks["m1"]].var(axis=0).sum(), 3.0)
    assert scaler.block_weights_ == {"m0": 1.0, "m1": 3.0}


def test_block_scaler_statistics_are_nan_mean_and_std_of_training_rows():
    X, _ = _data(50, sizes=(3, 4), missing_rate=0.3)
    values = X.to_numpy().copy()
    values[0, 0] = np.nan  # a scattered missing value too
    X.iloc[0, 0] = np.nan
    scaler = BlockScaler().fit(X)
    assert_allclose(scaler.mean_, np.nanmean(values, axis=0))
    assert_allclose(scaler.scale_, np.nanstd(values, axis=0))


def test_block_scaler_transform_uses_training_statistics():
    X_train, _ = _data(50, sizes=(3, 4), random_state=0)
    X_new, _ = _data(20, sizes=(3, 4), random_state=1)
    X_new = X_new * 5.0 + 2.0  # statistics very different from training
    scaler = BlockScaler().fit(X_train)
    train = X_train.to_numpy()
    mean, std = train.mean(axis=0), train.std(axis=0)
    factors = np.r_[np.full(3, np.sqrt(1 / 3)), np.full(4, np.sqrt(1 / 4))]
    expected = (X_new.to_numpy() - mean) / std * factors
    assert_allclose(scaler.transform(X_new), expected)


def test_block_scaler_imputes_missing_modality_and_values_with_zero():
    X, _ = _data(40, sizes=(3, 4), missing_rate=0.25)
    X.iloc[1, 4] = np.nan  # scattered NaN in a present block
    X.iloc[2, 0] = np.nan
    values = X.to_numpy()
    Xt = BlockScaler().fit_transform(X)
    assert not np.isnan(Xt).any()
    nan = np.isnan(values)
    assert nan.sum() > 20
    assert_array_equal(Xt[nan], 0.0)
    assert (Xt[~nan] != 0).all()


def test_block_scaler_add_indicator_columns_match_availability():
    X, _ = _data(40, sizes=(3, 4), missing_rate=0.4)
    X.iloc[0, 0] = np.nan  # a missing value does not make the modality missing
    scaler = BlockScaler(add_indicator=True).fit(X)
    Xt = scaler.transform(X)
    assert Xt.shape == (40, 9)
    blocks = _blocks(X)
    values = X.to_numpy()
    expected = np.column_stack(
        [~np.isnan(values[:, blocks[m]]).all(axis=1) for m in ("m0", "m1")]
    ).astype(float)
    assert 0 < expected.sum() < expected.size
    assert_array_equal(Xt[:, -2:], expected)
    assert_array_equal(Xt[:, :7], BlockScaler().fit_transform(X))
    names = scaler.get_feature_names_out()
    assert list(names) == [*X.columns, "availability__m0", "availability__m1"]


def test_block_scaler_feature_names_keep_input_names():
    X, _ = _data(20, sizes=(2, 3))
    names = BlockScaler().fit(X).get_feature_names_out()
    assert list(names) == list(X.columns)


def test_block_scaler_pandas_output_keeps_columns_and_index():
    X, _ = _data(20, sizes=(2, 3), missing_rate=0.2)
    X.index = np.arange(100, 120)[::-1]
    scaler = BlockScaler(add_indicator=True).set_output(transform="pandas")
    Xt = scaler.fit_transform(X)
    assert isinstance(Xt, pd.DataFrame)
    assert list(Xt.columns) == [*X.columns, "availability__m0", "availability__m1"]
    assert_array_equal(Xt.index, X.index)
    assert_allclose(Xt.to_numpy(), BlockScaler(add_indicator=True).fit_transform(X))


def test_block_scaler_numpy_input_with_modalities_mapping():
    X, _ = _data(30, sizes=(2, 3), missing_rate=0.2)
    values = X.to_numpy()
    scaler = BlockScaler(modalities={"a": [0, 1], "b": slice(2, None)})
    Xt = scaler.fit_transform(values)
    assert list(scaler.modalities_) == ["a", "b"]
    assert_array_equal(scaler.modalities_["a"], [0, 1])
    assert_array_equal(scaler.modalities_["b"], [2, 3, 4])
    assert_allclose(Xt, BlockScaler().fit_transform(X))
    assert list(scaler.get_feature_names_out()) == [f"x{i}" for i in range(5)]


def test_block_scaler_numpy_input_without_modalities_raises():
    X, _ = _data(20, sizes=(2, 3))
    with pytest.raises(ValueError, match="modalities"):
        BlockScaler().fit(X.to_numpy())


def test_block_scaler_column_without_prefix_raises_naming_it():
    X, _ = _data(20, sizes=(2, 3))
    X = X.rename(columns={"m1__x1": "noprefix"})
    with pytest.raises(ValueError, match="'noprefix'"):
        BlockScaler().fit(X)


def test_block_scaler_unknown_modality_in_block_weights_raises():
    X, _ = _data(20, sizes=(2, 3))
    with pytest.raises(ValueError, match="'ghost'"):
        BlockScaler(block_weights={"ghost": 2.0}).fit(X)


@pytest.mark.parametrize("weight", [-1.0, np.inf, np.nan])
def test_block_scaler_invalid_weight_raises(weight):
    X, _ = _data(20, sizes=(2, 3))
    with pytest.raises(ValueError, match="'m1'"):
        BlockScaler(block_weights={"m1": weight}).fit(X)


def test_block_scaler_zero_weight_zeroes_block():
    X, _ = _data(20, sizes=(2, 3))
    Xt = BlockScaler(block_weights={"m0": 0.0}).fit_transform(X)
    assert_array_equal(Xt[:, :2], 0.0)


@pytest.mark.parametrize("stage", ["fit", "transform"])
def test_block_scaler_infinity_error_names_column_modality_and_row(stage):
    X, _ = _data(20, sizes=(2, 3))
    X_inf = X.copy()
    X_inf.iloc[7, 3] = np.inf
    scaler = BlockScaler()
    if stage == "transform":
        scaler.fit(X)
    with pytest.raises(ValueError, match="infinity") as excinfo:
        getattr(scaler, stage)(X_inf)
    message = str(excinfo.value)
    assert "'m1__x1'" in message
    assert "'m1'" in message
    assert "row 7" in message


def test_block_scaler_infinity_in_numpy_input_names_position():
    X, _ = _data(20, sizes=(2, 3))
    values = X.to_numpy().copy()
    values[4, 1] = -np.inf
    with pytest.raises(ValueError, match=r"position 1.*'a'.*row 4"):
        BlockScaler(modalities={"a": [0, 1], "b": [2, 3, 4]}).fit(values)


def test_block_scaler_transform_missing_modality_columns_raises_naming_it():
    X, _ = _data(20, sizes=(2, 3))
    scaler = BlockScaler().fit(X)
    with pytest.raises(ValueError, match="Modality 'm0'"):
        scaler.transform(X.drop(columns=["m0__x0", "m0__x1"]))


def test_block_scaler_transform_unseen_modality_raises_naming_it():
    X, _ = _data(20, sizes=(2, 3))
    scaler = BlockScaler().fit(X)
    with pytest.raises(ValueError, match="newmod"):
        scaler.transform(X.assign(newmod__x=1.0))


def test_block_scaler_string_column_raises_naming_column_and_modality():
    X, _ = _data(20, sizes=(2, 3))
    X["m1__x2"] = X["m1__x2"].astype(object)
    X.loc[5, "m1__x2"] = "high"
    with pytest.raises(ValueError, match=r"'m1__x2' of modality 'm1'.*row 5"):
        BlockScaler().fit(X)
    scaler = BlockScaler().fit(_data(20, sizes=(2, 3))[0])
    with pytest.raises(ValueError, match=r"'m1__x2' of modality 'm1'"):
        scaler.transform(X)


def test_block_scaler_never_observed_column_warns_and_outputs_zero():
    X, _ = _data(20, sizes=(2, 3))
    X["m1__x2"] = np.nan
    with pytest.warns(UserWarning, match="m1"):
        scaler = BlockScaler().fit(X)
    assert scaler.mean_[4] == 0.0
    assert scaler.scale_[4] == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Xt = scaler.transform(X)
    assert_array_equal(Xt[:, 4], 0.0)
    assert not np.isnan(Xt).any()


def test_block_scaler_never_observed_column_outputs_zero_on_new_data():
    # The fit warning says such columns "are set to 0": values that appear in
    # that column at transform time must not leak through unscaled.
    X, _ = _data(20, sizes=(2, 3))
    X_train = X.assign(m1__x2=np.nan)
    with pytest.warns(UserWarning, match="set to 0"):
        scaler = BlockScaler().fit(X_train)
    X_new = X.assign(m1__x2=100.0)
    assert_array_equal(scaler.transform(X_new)[:, 4], 0.0)


def test_block_scaler_preserves_row_order_and_count():
    X, _ = _data(30, sizes=(2, 3), missing_rate=0.3)
    scaler = BlockScaler(add_indicator=True).fit(X)
    order = np.random.RandomState(0).permutation(len(X))
    Xt = scaler.transform(X)
    Xt_shuffled = scaler.transform(X.iloc[order])
    assert Xt_shuffled.shape == (30, 7)
    assert_array_equal(Xt_shuffled, Xt[order])


def test_block_scaler_clone_and_pickle():
    X, _ = _data(30, sizes=(2, 3), missing_rate=0.3)
    scaler = BlockScaler(block_weights={"m0": 2.0}, add_indicator=True).fit(X)
    Xt = scaler.transform(X)
    assert_array_equal(clone(scaler).fit(X).transform(X), Xt)
    assert_array_equal(pickle.loads(pickle.dumps(scaler)).transform(X), Xt)


# --------------------------------------------------------------------------------
# FeatureFusion
# --------------------------------------------------------------------------------


def _projections(fusion, X):
    """Per-modality projections of the standardised blocks, computed by hand."""
    standardized = (X.to_numpy() - fusion.mean_) / fusion.scale_
    return {
        modality: fusion.projections_[modality].transform(
            np.nan_to_num(standardized[:, indices], nan=0.0)
        )
        for modality, indices in fusion.modalities_.items()
    }


def test_feature_fusion_concat_without_projection_is_standardized_input():
    X, _ = _data(40, sizes=(3, 4), missing_rate=0.25)
    X.iloc[0, 1] = np.nan
    fusion = FeatureFusion(method="concat").fit(X)
    values = X.to_numpy()
    expected = (values - np.nanmean(values, axis=0)) / np.nanstd(values, axis=0)
    expected = np.nan_to_num(expected, nan=0.0)
    assert fusion.n_components_ is None
    assert fusion.projections_ == {}
    assert_allclose(fusion.transform(X), expected)
    assert list(fusion.get_feature_names_out()) == list(X.columns)


def test_feature_fusion_concat_with_projection():
    X, _ = _data(40, sizes=(3, 4), missing_rate=0.25)
    fusion = FeatureFusion(method="concat", n_components=2).fit(X)
    Xt = fusion.transform(X)
    assert Xt.shape == (40, 4)
    assert list(fusion.get_feature_names_out()) == [
        "m0__pc0",
        "m0__pc1",
        "m1__pc0",
        "m1__pc1",
    ]
    projected = _projections(fusion, X)
    present = ~np.isnan(X.to_numpy()[:, [0, 3]])
    expected = np.hstack(
        [np.where(present[:, [i]], projected[m], 0.0) for i, m in enumerate(projected)]
    )
    assert_allclose(Xt, expected)


@pytest.mark.parametrize("method", ELEMENTWISE)
def test_feature_fusion_elementwise_output_width(method):
    X, _ = _data(30, sizes=(3, 4, 5))
    fusion = FeatureFusion(method=method, n_components=2).fit(X)
    assert fusion.transform(X).shape == (30, 2)
    assert list(fusion.get_feature_names_out()) == [
        f"fused__{method}{i}" for i in (0, 1)
    ]


@pytest.mark.parametrize("method", ELEMENTWISE)
def test_feature_fusion_elementwise_on_complete_data(method):
    X, _ = _data(40, sizes=(3, 4, 5))
    fusion = FeatureFusion(method=method, n_components=2).fit(X)
    projected = np.stack(list(_projections(fusion, X).values()))
    expected = {
        "sum": projected.sum(axis=0),
        "mean": projected.sum(axis=0) / 3,
        "product": projected.prod(axis=0),
    }[method]
    assert_allclose(fusion.transform(X), expected)


@pytest.mark.parametrize("method", ELEMENTWISE)
def test_feature_fusion_row_with_one_modality_missing_uses_the_other(method):
    X, _ = _data(40, sizes=(3, 4))
    X.iloc[0, :3] = np.nan  # m0 missing
    X.iloc[1, 3:] = np.nan  # m1 missing
    fusion = FeatureFusion(method=method, n_components=2).fit(X)
    Xt = fusion.transform(X)
    projected = _projections(fusion, X)
    assert_allclose(Xt[0], projected["m1"][0])
    assert_allclose(Xt[1], projected["m0"][1])
    both = projected["m0"][2:], projected["m1"][2:]
    expected = {
        "sum": both[0] + both[1],
        "mean": (both[0] + both[1]) / 2,
        "product": both[0] * both[1],
    }[method]
    assert_allclose(Xt[2:], expected)


@pytest.mark.parametrize("method", [*ELEMENTWISE, "concat"])
def test_feature_fusion_row_with_every_modality_missing_gets_fallback(method):
    X, _ = _data(40, sizes=(3, 4), missing_rate=0.2)
    fusion = FeatureFusion(method=method, n_components=2).fit(X)
    X_new = X.iloc[:3].copy()
    X_new.iloc[1] = np.nan
    Xt = fusion.transform(X_new)
    assert_allclose(Xt[1], fusion.fallback_)
    assert fusion.fallback_.shape == (Xt.shape[1],)
    assert_allclose(fusion.fallback_, fusion.transform(X).mean(axis=0))
    assert_allclose(Xt[[0, 2]], fusion.transform(X.iloc[[0, 2]]))


@pytest.mark.parametrize("method", ELEMENTWISE)
def test_feature_fusion_default_n_components_is_narrowest_width(method):
    X, _ = _data(30, sizes=(4, 2, 5))
    fusion = FeatureFusion(method=method).fit(X)
    assert fusion.n_components_ == 2
    assert fusion.transform(X).shape == (30, 2)


def test_feature_fusion_n_components_wider_than_a_block_raises_naming_it():
    X, _ = _data(30, sizes=(4, 2, 5))
    with pytest.raises(ValueError, match="'m1'"):
        FeatureFusion(method="sum", n_components=3).fit(X)
    with pytest.raises(ValueError, match="'m1'"):
        FeatureFusion(method="concat", n_components=3).fit(X)


def test_feature_fusion_too_few_present_rows_raises_naming_modality():
    X, _ = _data(10, sizes=(3, 4))
    X.iloc[2:, 3:] = np.nan  # m1 present in 2 rows only
    with pytest.raises(ValueError, match="'m1'"):
        FeatureFusion(method="sum", n_components=3).fit(X)


def test_feature_fusion_whiten_gives_unit_variance_per_modality():
    X, _ = _data(60, sizes=(3, 5), missing_rate=0.2)
    fusion = FeatureFusion(method="sum", n_components=3, whiten=True).fit(X)
    present = ~np.isnan(X.to_numpy()[:, [0, 3]])
    for i, (modality, projected) in enumerate(_projections(fusion, X).items()):
        rows = projected[present[:, i]]
        assert_allclose(rows.var(axis=0, ddof=1), 1.0, err_msg=modality)
        assert_allclose(rows.mean(axis=0), 0.0, atol=1e-12)


def test_feature_fusion_without_whiten_keeps_pca_variance():
    X, _ = _data(60, sizes=(3, 5))
    fusion = FeatureFusion(method="sum", n_components=3, whiten=False).fit(X)
    for modality, projected in _projections(fusion, X).items():
        assert_allclose(
            projected.var(axis=0, ddof=1),
            fusion.projections_[modality].explained_variance_,
        )


@pytest.mark.parametrize("method", [*ELEMENTWISE, "concat"])
def test_feature_fusion_reproducible_clone_and_pickle(method):
    X, _ = _data(40, sizes=(3, 4), missing_rate=0.2)
    params = {"method": method, "n_components": 2, "random_state": 0}
    Xt = FeatureFusion(**params).fit(X).transform(X)
    fusion = FeatureFusion(**params).fit(X)
    assert_array_equal(fusion.transform(X), Xt)
    assert_array_equal(clone(fusion).fit(X).transform(X), Xt)
    restored = pickle.loads(pickle.dumps(fusion))
    assert_array_equal(restored.transform(X), Xt)


@pytest.mark.parametrize(
    "method, n_components, names",
    [
        ("sum", 2, ["fused__sum0", "fused__sum1"]),
        ("mean", 2, ["fused__mean0", "fused__mean1"]),
        ("product", 1, ["fused__product0"]),
        ("concat", 1, ["m0__pc0", "m1__pc0"]),
        ("concat", None, ["m0__x0", "m0__x1", "m0__x2", "m1__x0", "m1__x1"]),
    ],
)
def test_feature_fusion_pandas_output(method, n_components, names):
    X, _ = _data(30, sizes=(3, 2), missing_rate=0.2)
    X.index = np.arange(30) * 2
    fusion = FeatureFusion(method=method, n_components=n_components, random_state=0)
    Xt = fusion.set_output(transform="pandas").fit_transform(X)
    assert isinstance(Xt, pd.DataFrame)
    assert list(Xt.columns) == names
    assert_array_equal(Xt.index, X.index)
    plain = clone(fusion).set_output(transform="default").fit(X).transform(X)
    assert_allclose(Xt.to_numpy(), plain)


def test_feature_fusion_numpy_input_with_modalities_mapping():
    X, _ = _data(30, sizes=(3, 4), missing_rate=0.2)
    fusion = FeatureFusion(
        method="mean", n_components=2, modalities={"a": [0, 1, 2], "b": slice(3, None)}
    )
    Xt = fusion.fit_transform(X.to_numpy())
    expected = FeatureFusion(method="mean", n_components=2).fit_transform(X)
    assert_allclose(Xt, expected)
    with pytest.raises(ValueError, match="modalities"):
        FeatureFusion(method="sum").fit(X.to_numpy())


@pytest.mark.parametrize("method", [*ELEMENTWISE, "concat"])
def test_feature_fusion_preserves_row_order(method):
    X, _ = _data(30, sizes=(3, 4), missing_rate=0.3)
    fusion = FeatureFusion(method=method, n_components=2).fit(X)
    order = np.random.RandomState(1).permutation(len(X))
    assert_allclose(fusion.transform(X.iloc[order]), fusion.transform(X)[order])


def test_feature_fusion_transform_missing_modality_raises_naming_it():
    X, _ = _data(20, sizes=(2, 3))
    fusion = FeatureFusion(method="sum").fit(X)
    with pytest.raises(ValueError, match="Modality 'm1'"):
        fusion.transform(X.drop(columns=["m1__x0"]))


def test_feature_fusion_in_grid_searched_pipeline_with_missing_modalities():
    X, y = make_multimodal_classification(
        90, modality_sizes=(4, 3), missing_rate=0.2, random_state=0
    )
    pipe = make_pipeline(FeatureFusion(random_state=0), LogisticRegression())
    search = GridSearchCV(
        pipe,
        param_grid={"featurefusion__method": ["concat", "sum", "mean", "product"]},
        cv=3,
    )
    search.fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    missing = X.isna().all(axis=1) | X.iloc[:, :4].isna().all(axis=1)
    missing |= X.iloc[:, 4:].isna().all(axis=1)
    assert missing.sum() == 18
    predictions = search.predict(X[missing])
    assert predictions.shape == (18,)
    assert set(predictions) <= {0, 1}


def test_feature_fusion_never_observed_column_outputs_zero_on_new_data():
    X, _ = _data(20, sizes=(2, 3))
    with pytest.warns(UserWarning, match="set to 0"):
        fusion = FeatureFusion(method="concat").fit(X.assign(m1__x2=np.nan))
    assert_array_equal(fusion.transform(X.assign(m1__x2=100.0))[:, 4], 0.0)


def test_block_scaler_indicator_of_an_always_present_modality_is_zero():
    X, _ = _data(40, sizes=(3, 4), missing_rate=0.0)
    X.iloc[:5, 3:] = np.nan  # m1 missing in some rows, m0 never
    scaler = BlockScaler(add_indicator=True).fit(X)
    assert_array_equal(scaler.indicator_factors_, [0.0, 1.0])
    Xt = scaler.transform(X)
    assert_array_equal(Xt[:, -2], 0.0)  # constant in training: no information
    assert_array_equal(Xt[:, -1], np.r_[np.zeros(5), np.ones(35)])
    # Still 0 when m0 goes missing at predict time: it never did in training.
    X_new = X.copy()
    X_new.iloc[:3, :3] = np.nan
    assert_array_equal(scaler.transform(X_new)[:, -2], 0.0)


# --------------------------------------------------------------------------------
# Degenerate modalities and extreme scales (issue 12)
# --------------------------------------------------------------------------------

DEGENERATE_SETTINGS = [
    ("sum", None),
    ("mean", None),
    ("product", None),
    ("sum", 1),
    ("mean", 1),
    ("product", 1),
    ("concat", 1),
]


@contextlib.contextmanager
def _no_numpy_warnings():
    """Context in which any RuntimeWarning (numpy's overflow, 0/0...) is an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


@pytest.mark.parametrize("method, n_components", DEGENERATE_SETTINGS)
def test_feature_fusion_modality_in_one_training_row_gives_finite_output(
    method, n_components
):
    X, _ = _data(20, sizes=(3, 2))
    X.iloc[1:, 3:] = np.nan  # m1 present in row 0 only
    X.iloc[0, :3] = np.nan  # ... where m0 is missing
    fusion = FeatureFusion(method=method, n_components=n_components, random_state=0)
    with _no_numpy_warnings():
        with pytest.warns(UserWarning, match=r"'m1'.*1 training row"):
            Xt = fusion.fit_transform(X)
    assert np.isfinite(Xt).all()
    # m1 contributes nothing: the other rows are those of m0 alone.
    alone = FeatureFusion(method=method, n_components=n_components, random_state=0)
    expected = alone.fit_transform(X.iloc[1:, :3])
    width = expected.shape[1]
    assert_allclose(Xt[1:, :width], expected)
    assert_allclose(Xt[1:, width:], 0.0)
    # The row with only m1 has no usable modality: the training mean.
    assert_allclose(Xt[0], fusion.fallback_)
    assert fusion.projections_["m1"] is None


@pytest.mark.parametrize("method, n_components", DEGENERATE_SETTINGS)
def test_feature_fusion_modality_absent_from_training_contributes_nothing(
    method, n_components
):
    X, _ = _data(20, sizes=(3, 2))
    X_train = X.copy()
    X_train.iloc[:, 3:] = np.nan
    fusion = FeatureFusion(method=method, n_components=n_components, random_state=0)
    with _no_numpy_warnings():
        with pytest.warns(UserWarning, match=r"'m1'.*0 training row"):
            fusion.fit(X_train)
        Xt = fusion.transform(X)  # m1 has values now: still ignored
    alone = FeatureFusion(method=method, n_components=n_components, random_state=0)
    expected = alone.fit_transform(X.iloc[:, :3])
    width = expected.shape[1]
    assert_allclose(Xt[:, :width], expected)
    assert_allclose(Xt[:, width:], 0.0)
    assert_allclose(fusion.transform(X_train), Xt)


@pytest.mark.parametrize("method", ELEMENTWISE)
def test_feature_fusion_constant_modality_contributes_nothing(method):
    X, _ = _data(20, sizes=(3, 2))
    X["m1__x0"], X["m1__x1"] = 4.0, -1.0
    with _no_numpy_warnings():
        with pytest.warns(UserWarning, match=r"'m1'.*does not vary"):
            Xt = FeatureFusion(method=method, n_components=2).fit_transform(X)
    expected = FeatureFusion(method=method, n_components=2).fit_transform(X.iloc[:, :3])
    assert_allclose(Xt, expected)


@pytest.mark.parametrize("method", ELEMENTWISE)
def test_feature_fusion_component_without_variance_contributes_nothing(method):
    # m1 is present in 2 rows: its second principal component has no variance
    # and must not be blown up by whitening.
    X, _ = _data(20, sizes=(3, 2))
    X.iloc[2:, 3:] = np.nan
    with _no_numpy_warnings():
        fusion = FeatureFusion(method=method, n_components=2).fit(X)
        Xt = fusion.transform(X)
    assert_array_equal(fusion.informative_components_["m1"], [True, False])
    assert_array_equal(fusion.informative_components_["m0"], [True, True])
    alone = FeatureFusion(method=method, n_components=2).fit(X.iloc[:, :3])
    assert_allclose(Xt[2:], alone.transform(X.iloc[2:, :3]))
    assert_allclose(Xt[:2, 1], alone.transform(X.iloc[:2, :3])[:, 1])


def test_feature_fusion_no_usable_modality_gives_zeros():
    X, _ = _data(20, sizes=(3, 2))
    one_row = X.iloc[:1]
    with pytest.warns(UserWarning, match="'m0'"):
        Xt = FeatureFusion(method="product").fit_transform(one_row)
    assert_array_equal(Xt, 0.0)


SCALE_INVARIANT = {
    "blockscaler": lambda: BlockScaler(add_indicator=True),
    "concat": lambda: FeatureFusion("concat"),
    "concat-pca": lambda: FeatureFusion("concat", n_components=2, random_state=0),
    "sum": lambda: FeatureFusion("sum", random_state=0),
    "mean": lambda: FeatureFusion("mean", random_state=0),
    "product": lambda: FeatureFusion("product", random_state=0),
}


@pytest.mark.parametrize("factor", [1e300, 1e-300])
@pytest.mark.parametrize("name", list(SCALE_INVARIANT))
def test_early_fusion_is_scale_invariant(name, factor):
    # Issue 12: beyond ~1e154 the variance overflowed and the modality was
    # standardised to 0; below ~1e-154 it underflowed.
    make = SCALE_INVARIANT[name]
    X, _ = _data(40, sizes=(3, 4), missing_rate=0.2)
    X.iloc[3, 1] = np.nan
    expected = make().fit_transform(X)
    with _no_numpy_warnings():
        scaled = make().fit_transform(scale_modality(X, "m1", factor))
    assert_allclose(scaled, expected, rtol=1e-9, atol=1e-12)


def test_block_scaler_pipeline_is_scale_invariant():
    X, y = _data(40, sizes=(3, 4), missing_rate=0.2)
    model = make_pipeline(BlockScaler(), LogisticRegression())
    expected = model.fit(X, y).predict_proba(X)
    scaled = scale_modality(X, "m0", 1e300)
    assert_allclose(model.fit(scaled, y).predict_proba(scaled), expected, rtol=1e-9)
