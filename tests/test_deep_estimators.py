"""DeepFusionClassifier / DeepFusionRegressor in the scikit-learn workflow."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfusion.compose import make_modality_transformer
from skfusion.datasets import make_multimodal_classification
from skfusion.deep import FUSION_LAYERS, DeepFusionClassifier, DeepFusionRegressor
from skfusion.deep.estimators import BlockDataset, TensorBatchIterator

SMALL = {"embed_dim": 8, "hidden_dim": 16, "lr": 0.01, "random_state": 0}


def _study_table(n=120, seed=0):
    X, y = make_multimodal_classification(
        n, modality_sizes=(3, 4), informativeness=3.0, random_state=seed
    )
    table = X.rename(columns=lambda c: c.replace("__", "_"))
    groups = np.arange(n) // 2
    return table, y, groups


def _modality_transformer():
    return make_modality_transformer(
        ("clinical", StandardScaler(), ["m0_x0", "m0_x1", "m0_x2"]),
        ("image", "passthrough", [f"m1_x{j}" for j in range(4)]),
    )


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_and_grouped_cross_validation(n_jobs):
    table, y, groups = _study_table()
    pipeline = make_pipeline(
        _modality_transformer(), DeepFusionClassifier(max_epochs=4, **SMALL)
    )
    search = GridSearchCV(
        pipeline,
        {
            "deepfusionclassifier__fusion": ["concat", "attention"],
            "deepfusionclassifier__lr": [0.01, 0.03],
        },
        cv=StratifiedGroupKFold(n_splits=3),
        n_jobs=n_jobs,
    ).fit(table, y, groups=groups)
    assert search.best_score_ > 0.7
    scores = cross_validate(
        pipeline, table, y, groups=groups, cv=StratifiedGroupKFold(3), n_jobs=n_jobs
    )
    assert np.all(scores["test_score"] > 0.6)


def test_same_seed_same_predictions_and_device_parameter_kept():
    # Same seed, same process, same batch sizes: bit for bit.
    X, y = make_multimodal_classification(150, random_state=1)
    first = DeepFusionClassifier(fusion="gated", max_epochs=5, **SMALL).fit(X, y)
    second = DeepFusionClassifier(fusion="gated", max_epochs=5, **SMALL).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    regressors = [
        DeepFusionRegressor(max_epochs=5, batch_size=32, **SMALL).fit(X, y * 2.5)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(regressors[0].predict(X), regressors[1].predict(X))
    assert first.get_params()["device"] == "auto"
    assert clone(first).get_params()["fusion"] == "gated"


def test_pickle_and_save_params_round_trip(tmp_path):
    X, y = make_multimodal_classification(100, random_state=2)
    model = DeepFusionClassifier(fusion="lowrank", max_epochs=3, **SMALL).fit(X, y)
    expected = model.predict_proba(X)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(restored.predict_proba(X), expected, rtol=1e-6)
    model.save_params(f_params=tmp_path / "model.pt")
    other = DeepFusionClassifier(fusion="lowrank", max_epochs=1, **SMALL).fit(X, y)
    other.load_params(f_params=tmp_path / "model.pt")
    np.testing.assert_allclose(other.predict_proba(X), expected, rtol=1e-6)


def test_early_stopping_uses_an_inner_group_split_of_training_rows():
    X, y = make_multimodal_classification(200, random_state=3)
    groups = np.arange(200) // 4
    model = DeepFusionClassifier(
        max_epochs=200, n_iter_no_change=3, validation_fraction=0.2, **SMALL
    ).fit(X, y, groups=groups)
    train_rows, valid_rows = model.validation_rows_
    assert set(groups[train_rows]).isdisjoint(groups[valid_rows])
    assert len(train_rows) + len(valid_rows) == 200
    assert "valid_loss" in model.history_[-1]
    assert len(model.history_) < 200  # it stopped
    no_stopping = DeepFusionClassifier(max_epochs=4, early_stopping=False, **SMALL)
    no_stopping.fit(X, y)
    assert len(no_stopping.history_) == 4
    assert "valid_loss" not in no_stopping.history_[-1]


def test_missing_modalities_at_fit_and_predict():
    X, y = make_multimodal_classification(
        600,
        modality_sizes=(4, 4),
        informativeness=3.0,
        missing_rate=0.3,
        random_state=4,
    )
    train, test = slice(0, 400), slice(400, None)
    model = DeepFusionClassifier(
        fusion="attention", max_epochs=60, modality_dropout=0.3, **SMALL
    ).fit(X[train], y[train])
    X_test, y_test = X[test], y[test].to_numpy()
    proba = model.predict_proba(X_test)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    missing_m1 = X_test.filter(like="m1__").isna().all(axis=1).to_numpy()
    alone = LogisticRegression().fit(
        X[train].filter(like="m0__").dropna(),
        y[train][X[train].filter(like="m0__").notna().all(axis=1)],
    )
    fused_accuracy = np.mean(model.predict(X_test)[missing_m1] == y_test[missing_m1])
    alone_accuracy = alone.score(
        X_test.filter(like="m0__")[missing_m1], y_test[missing_m1]
    )
    assert fused_accuracy >= alone_accuracy
    nothing = X_test.iloc[:2].copy()
    nothing[:] = np.nan
    np.testing.assert_allclose(model.predict_proba(nothing), [model.class_prior_] * 2)


@pytest.mark.slow
@pytest.mark.parametrize("fusion", FUSION_LAYERS)
def test_cross_modal_interaction(fusion):
    X, y = make_multimodal_classification(
        1200,
        modality_sizes=(4, 4),
        informativeness=4.0,
        interaction=True,
        random_state=0,
    )
    train, test = slice(0, 800), slice(800, None)
    model = DeepFusionClassifier(
        fusion=fusion,
        embed_dim=16,
        hidden_dim=32,
        lr=0.01,
        max_epochs=60,
        batch_size=128,
        n_iter_no_change=15,
        random_state=0,
    ).fit(X[train], y[train])
    assert model.score(X[test], y[test]) >= 0.9
    for modality in ("m0", "m1"):
        block = X.filter(like=f"{modality}__")
        alone = LogisticRegression().fit(block[train], y[train])
        assert alone.score(block[test], y[test]) <= 0.6


def test_modality_attention_and_layers_without_weights():
    X, y = make_multimodal_classification(80, random_state=5)
    gated = DeepFusionClassifier(fusion="gated", max_epochs=2, **SMALL).fit(X, y)
    weights = gated.modality_attention(X.iloc[:4])
    assert list(weights.columns) == ["m0", "m1"]
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
    concat = DeepFusionClassifier(max_epochs=1, **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="weights"):
        concat.modality_attention(X)


def test_string_labels_class_weight_and_one_class():
    X, y = make_multimodal_classification(90, n_classes=3, random_state=6)
    labels = np.array(["covid", "other", "healthy"])[y]
    model = DeepFusionClassifier(max_epochs=3, class_weight="balanced", **SMALL)
    model.fit(X, labels)
    assert set(model.predict(X)) <= {"covid", "other", "healthy"}
    assert list(model.classes_) == ["covid", "healthy", "other"]
    with pytest.raises(ValueError, match="class"):
        DeepFusionClassifier(max_epochs=1).fit(X, np.zeros(90))


def test_cnn_encoder_for_an_image_block():
    rng = np.random.default_rng(7)
    images = rng.normal(size=(64, 64))
    y = (images[:, :32].mean(axis=1) > 0).astype(int)
    X = pd.DataFrame(
        np.hstack([images, rng.normal(size=(64, 3))]),
        columns=[f"image__pixel{i}" for i in range(64)]
        + [f"clinical__x{i}" for i in range(3)],
    )
    model = DeepFusionClassifier(
        encoders={"image": ("cnn2d", {"shape": (1, 8, 8), "channels": (4,)})},
        max_epochs=2,
        **SMALL,
    ).fit(X, y)
    assert model.predict_proba(X).shape == (64, 2)


def test_regressor():
    rng = np.random.default_rng(8)
    X = pd.DataFrame(
        rng.normal(size=(200, 4)), columns=["a__x0", "a__x1", "b__x0", "b__x1"]
    )
    y = 3 * X["a__x0"] * X["b__x1"] + 10
    model = DeepFusionRegressor(
        fusion="product", max_epochs=80, lr=0.01, random_state=0
    ).fit(X, y)
    assert model.score(X, y) > 0.5
    assert not hasattr(model, "predict_proba")
    nothing = X.iloc[:1].copy()
    nothing[:] = np.nan
    assert model.predict(nothing)[0] == pytest.approx(y.mean())


def test_model_saved_for_cuda_loads_on_a_cpu_only_machine():
    import torch
    from skorch.exceptions import DeviceWarning

    if torch.cuda.is_available():
        pytest.skip("this test needs a machine without CUDA")
    X, y = make_multimodal_classification(80, random_state=9)
    model = DeepFusionClassifier(max_epochs=2, device="cpu", **SMALL).fit(X, y)
    expected = model.predict_proba(X)
    # As if trained on a GPU: the pickle asks for CUDA, which is absent here.
    model.device = "cuda"
    with pytest.warns(DeviceWarning):
        restored = pickle.loads(pickle.dumps(model))
    assert str(restored.device) == "cpu"
    np.testing.assert_allclose(restored.predict_proba(X), expected, rtol=1e-6)


def test_device_is_resolved_into_device_and_the_parameter_kept():
    X, y = make_multimodal_classification(60, random_state=9)
    model = DeepFusionClassifier(max_epochs=1, **SMALL)
    assert model.get_params()["device"] == "auto"
    model.fit(X, y)
    assert model.get_params()["device"] == "auto"
    assert model.device_ in ("cpu", "cuda")
    assert next(model.module_.parameters()).device.type == model.device_
    restored = pickle.loads(pickle.dumps(model))
    assert restored.get_params()["device"] == "auto"
    assert restored.device_ == model.device_
    cpu = DeepFusionRegressor(max_epochs=1, device="cpu", **SMALL).fit(X, y)
    assert cpu.device == cpu.device_ == "cpu"


def test_auto_model_fitted_on_cuda_loads_on_a_cpu_only_machine():
    import torch
    from skorch.exceptions import DeviceWarning

    if torch.cuda.is_available():
        pytest.skip("this test needs a machine without CUDA")
    X, y = make_multimodal_classification(80, random_state=9)
    model = DeepFusionClassifier(max_epochs=2, **SMALL).fit(X, y)
    expected = model.predict_proba(X)
    model.device_ = "cuda"  # as if fitted where CUDA was available
    with pytest.warns(DeviceWarning):
        restored = pickle.loads(pickle.dumps(model))
    assert restored.device == "auto" and restored.device_ == "cpu"
    np.testing.assert_allclose(restored.predict_proba(X), expected, rtol=1e-6)


@pytest.mark.parametrize("name", ["hidden_dim", "embed_dim", "fusion", "rank"])
def test_module_hyperparameters_have_one_route(name):
    X, y = make_multimodal_classification(40, random_state=0)
    model = DeepFusionClassifier(max_epochs=1, **{f"module__{name}": 8})
    with pytest.raises(ValueError, match=rf"module__{name}.*{name}=\.\.\."):
        model.fit(X, y)
    with pytest.raises(ValueError, match="module__n_outputs.*from the data"):
        DeepFusionRegressor(max_epochs=1, module__n_outputs=3).fit(X, y)


def test_early_stopping_split_is_stratified_for_classifiers():
    X, y = make_multimodal_classification(200, weights=[0.8, 0.2], random_state=3)
    model = DeepFusionClassifier(max_epochs=2, validation_fraction=0.25, **SMALL).fit(
        X, y
    )
    _, valid_rows = model.validation_rows_
    assert len(valid_rows) == 50
    labels = np.asarray(y)
    proportional = 50 * np.bincount(labels) / len(labels)
    assert np.all(np.abs(np.bincount(labels[valid_rows]) - proportional) < 1)


def test_a_column_no_training_row_observes_is_ignored():
    X, y = make_multimodal_classification(
        80, modality_sizes=(3, 3), missing_rate=0.0, random_state=0
    )
    X = X.copy()
    X["m1__x0"] = np.nan
    model = DeepFusionClassifier(max_epochs=3, random_state=0)
    with pytest.warns(UserWarning, match="no observed value"):
        model.fit(X, y)
    column = X.columns.get_loc("m1__x0")
    assert model.n_samples_seen_[column] == 0 and model.scale_[column] == 1
    zeros = model.predict_proba(X.assign(m1__x0=0.0))
    large = model.predict_proba(X.assign(m1__x0=1e6))
    np.testing.assert_allclose(large, zeros)
    np.testing.assert_allclose(model.predict_proba(X), zeros)


def _scaled(X, modality, factor):
    X = X.copy()
    columns = [c for c in X.columns if c.startswith(f"{modality}__")]
    X[columns] = X[columns] * factor
    return X


@pytest.mark.parametrize("factor", [1e300, 1e-300])
@pytest.mark.parametrize("estimator", [DeepFusionClassifier, DeepFusionRegressor])
def test_standardisation_is_scale_invariant(estimator, factor):
    # Issue 12: a modality beyond ~1e154 squared to infinity and was ignored.
    X, y = make_multimodal_classification(
        60, modality_sizes=(3, 2), missing_rate=0.2, random_state=0
    )
    params = {"max_epochs": 2, "early_stopping": False, **SMALL}
    model = estimator(**params).fit(X, y)
    scaled = _scaled(X, "m1", factor)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model_scaled = estimator(**params).fit(scaled, y)
        inputs = model_scaled._network_inputs(
            scaled.to_numpy(), np.ones((60, 2), dtype=bool)
        )["x"]
        predicted = model_scaled.predict(scaled)
    expected = model._network_inputs(X.to_numpy(), np.ones((60, 2), dtype=bool))["x"]
    np.testing.assert_allclose(inputs.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(predicted, model.predict(X), rtol=1e-4, atol=1e-5)


def test_regressor_target_of_any_scale():
    rng = np.random.default_rng(3)
    X = pd.DataFrame(
        rng.normal(size=(50, 4)), columns=["a__x0", "a__x1", "b__x0", "b__x1"]
    )
    y = X["a__x0"] - X["b__x1"]
    params = {"max_epochs": 3, "early_stopping": False, **SMALL}
    expected = DeepFusionRegressor(**params).fit(X, y).predict(X)
    for factor in (1e300, 1e-300):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            predicted = DeepFusionRegressor(**params).fit(X, y * factor).predict(X)
        np.testing.assert_allclose(predicted / factor, expected, rtol=1e-4, atol=1e-6)


class _BatchCounter:
    """A callback with per-batch hooks: it must see every batch."""

    def __new__(cls):
        from skorch.callbacks import Callback

        class Counter(Callback):
            def initialize(self):
                self.begun = self.ended = self.grads = 0
                return self

            def on_batch_begin(self, net, batch=None, training=False, **kwargs):
                self.begun += 1

            def on_batch_end(self, net, batch=None, training=False, **kwargs):
                self.ended += 1

            def on_grad_computed(self, net, named_parameters, **kwargs):
                self.grads += 1

        return Counter()


def test_history_per_epoch_without_per_batch_records():
    # The lean loop records per epoch what skorch's default callbacks would
    # (losses, *_best, batch counts) and nothing per batch.
    X, y = make_multimodal_classification(100, random_state=0)
    model = DeepFusionClassifier(max_epochs=3, batch_size=16, **SMALL).fit(X, y)
    n_train = len(model.validation_rows_[0])
    for epoch in model.history_:
        assert {"train_loss", "valid_loss", "train_loss_best", "valid_loss_best"} <= (
            set(epoch)
        )
        assert np.isfinite(epoch["train_loss"]) and np.isfinite(epoch["valid_loss"])
        assert epoch["batches"] == []
        assert epoch["train_batch_count"] == -(-n_train // 16)
        assert epoch["valid_batch_count"] == 1  # one large validation batch
    losses = model.history_[:, "valid_loss"]
    best = model.history_[:, "valid_loss_best"]
    assert best == [loss == min(losses[: i + 1]) for i, loss in enumerate(losses)]
    assert set(dict(model.callbacks_)) == {"epoch_timer", "early_stopping"}
    verbose = DeepFusionClassifier(max_epochs=1, verbose=1, **SMALL)
    verbose.fit(X, y)
    assert "print_log" in dict(verbose.callbacks_)


def test_train_loss_is_the_mean_over_the_rows():
    # The epoch's train_loss is the row-weighted mean of its batch losses, as
    # skorch's PassthroughScoring computes it: with lr=0 nothing changes, so
    # it equals the loss of the whole training set.
    X, y = make_multimodal_classification(50, random_state=1)
    params = {**SMALL, "lr": 1e-12, "dropout": 0.0}
    model = DeepFusionClassifier(max_epochs=1, batch_size=7, **params)
    model.fit(X, y, groups=None)
    train_rows = model.validation_rows_[0]
    proba = model.predict_proba(X.iloc[train_rows])
    expected = -np.mean(np.log(proba[np.arange(len(train_rows)), y[train_rows]]))
    assert model.history_[-1, "train_loss"] == pytest.approx(expected, rel=1e-4)


def test_callbacks_with_per_batch_hooks_see_every_batch():
    X, y = make_multimodal_classification(80, random_state=0)
    counter = _BatchCounter()
    model = DeepFusionClassifier(
        max_epochs=2,
        batch_size=16,
        early_stopping=False,
        callbacks=[("counter", counter)],
        **SMALL,
    ).fit(X, y)
    assert counter.begun == counter.ended == counter.grads == 2 * 5
    assert len(model.history_[-1, "batches"]) == 5
    assert "train_loss" in model.history_[-1, "batches", -1]
    assert "train_loss" in model.history_[-1]


def test_complete_and_incomplete_data_train_alike():
    # A complete training set goes to the network without a mask; the same
    # rows with one missing cell block (a row lacking a modality) take the
    # masked path. Both train, predict and stay reproducible.
    X, y = make_multimodal_classification(120, random_state=0)
    first = DeepFusionClassifier(max_epochs=3, **SMALL).fit(X, y)
    again = DeepFusionClassifier(max_epochs=3, **SMALL).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))
    missing = X.copy()
    missing.iloc[0, [c.startswith("m1__") for c in X.columns]] = np.nan
    masked = DeepFusionClassifier(max_epochs=3, **SMALL).fit(missing, y)
    proba = masked.predict_proba(missing)
    assert np.isfinite(proba).all()
    # The row without its modality is predicted from the other one alone:
    # changing the missing block's (NaN) values cannot change it.
    assert not np.allclose(proba, first.predict_proba(X))


def test_optimizer_is_fused_unless_the_user_decides():
    X, y = make_multimodal_classification(200, modality_sizes=(3, 4), random_state=0)
    params = {"max_epochs": 3, "random_state": 0}
    fused = DeepFusionClassifier(**params).fit(X, y)
    assert fused.optimizer_.defaults["fused"] is True
    loop = DeepFusionClassifier(**params, optimizer__fused=False).fit(X, y)
    assert not loop.optimizer_.defaults["fused"]
    foreach = DeepFusionClassifier(**params, optimizer__foreach=True).fit(X, y)
    assert not foreach.optimizer_.defaults["fused"]
    # The same update up to float rounding.
    np.testing.assert_allclose(
        fused.predict_proba(X), loop.predict_proba(X), rtol=1e-4, atol=1e-5
    )
    # An optimizer without a fused kernel is built as skorch builds it.
    rprop = DeepFusionClassifier(**params, optimizer=torch.optim.Rprop).fit(X, y)
    assert isinstance(rprop.optimizer_, torch.optim.Rprop)
    assert pickle.loads(pickle.dumps(fused)).optimizer_.defaults["fused"] is True


class _RefusesFused(torch.optim.AdamW):
    """An optimizer that takes ``fused`` but has no kernel for it here."""

    def __init__(self, params, lr=1e-3, fused=None, **kwargs):
        if fused:
            raise RuntimeError("no fused kernel for this device")
        super().__init__(params, lr=lr, **kwargs)


def test_an_optimizer_refusing_fused_is_built_without_it():
    X, y = make_multimodal_classification(120, modality_sizes=(3, 4), random_state=0)
    model = DeepFusionClassifier(max_epochs=2, optimizer=_RefusesFused, random_state=0)
    model.fit(X, y)
    assert isinstance(model.optimizer_, _RefusesFused)
    assert not model.optimizer_.defaults["fused"]


def test_network_inputs_do_not_depend_on_chunks_memory_order_or_column_layout(
    monkeypatch,
):
    from skfusion.deep import data

    X, y = make_multimodal_classification(
        300, modality_sizes=(3, 4), missing_rate=0.2, random_state=0
    )
    model = DeepFusionClassifier(max_epochs=2, random_state=0).fit(X, y)
    validated = X.to_numpy()
    whole, missing = model._network_matrix(validated)
    assert missing and not np.isnan(whole).any()
    monkeypatch.setattr(data, "_STANDARDIZE_CHUNK_VALUES", 7)
    for layout in (validated, np.ascontiguousarray(validated)):
        chunked, _ = model._network_matrix(layout)
        np.testing.assert_array_equal(chunked, whole)
    # Modalities interleaved by position: the network sees each block whole,
    # as a model fitted on the columns in block order does.
    interleaved = [0, 3, 1, 4, 2, 5, 6]
    by_position = {"m0": [0, 2, 4], "m1": [1, 3, 5, 6]}
    shuffled = X.iloc[:, interleaved].to_numpy()
    apart = DeepFusionClassifier(max_epochs=2, random_state=0, modalities=by_position)
    apart.fit(shuffled, y)
    np.testing.assert_array_equal(
        apart._network_matrix(shuffled)[0], model._network_matrix(validated)[0]
    )
    np.testing.assert_allclose(
        apart.predict_proba(shuffled), model.predict_proba(X), rtol=1e-5, atol=1e-6
    )


class _RecordingIterator(TensorBatchIterator):
    """TensorBatchIterator recording the batch sizes it is built with."""

    sizes = []

    def __init__(self, dataset, batch_size, **kwargs):
        type(self).sizes.append(batch_size)
        super().__init__(dataset, batch_size, **kwargs)


class _CountingDataset(BlockDataset):
    """The default dataset, counting how often it is built."""

    built = 0

    def __init__(self, X, y=None):
        type(self).built += 1
        super().__init__(X, y)


def test_skorch_iterator_parameters_reach_the_batches():
    X, y = make_multimodal_classification(80, modality_sizes=(3, 4), random_state=0)

    def batch_rows(model, training):
        dataset = model.get_dataset(model._prepared_rows(X)[0])
        return [len(batch[0]["x"]) for batch in model.get_iterator(dataset, training)]

    model = DeepFusionClassifier(
        max_epochs=2, iterator_train__batch_size=7, early_stopping=False, **SMALL
    ).fit(X, y)
    train = batch_rows(model, training=True)
    assert train == [7] * 11 + [3]
    assert model.history[-1, "train_batch_count"] == len(train)
    # Evaluation: iterator_valid__batch_size, else the large default.
    assert batch_rows(model, training=False) == [80]
    chosen = DeepFusionClassifier(max_epochs=1, iterator_valid__batch_size=30, **SMALL)
    assert batch_rows(chosen.fit(X, y), training=False) == [30, 30, 20]


def test_another_iterator_and_dataset_are_used_as_skorch_uses_them():
    X, y = make_multimodal_classification(60, modality_sizes=(3, 4), random_state=0)
    _CountingDataset.built = 0
    _RecordingIterator.sizes = []
    model = DeepFusionClassifier(
        max_epochs=2,
        dataset=_CountingDataset,
        iterator_train=torch.utils.data.DataLoader,
        iterator_train__batch_size=16,
        iterator_train__shuffle=True,
        iterator_valid=_RecordingIterator,
        **SMALL,
    ).fit(X, y)
    assert _CountingDataset.built >= 1
    assert model.history[-1, "train_batch_count"] == -(-54 // 16)
    assert _RecordingIterator.sizes  # the validation rows went through it
    reference = DeepFusionClassifier(max_epochs=2, **SMALL).fit(X, y)
    assert model.predict_proba(X).shape == reference.predict_proba(X).shape


def test_the_tensor_iterator_refuses_a_dataset_it_cannot_slice():
    X, y = make_multimodal_classification(40, modality_sizes=(3, 4), random_state=0)

    class _Plain(torch.utils.data.Dataset):
        def __init__(self, X, y=None):
            self.inner = BlockDataset(X, y)

        def __len__(self):
            return len(self.inner)

        def __getitem__(self, index):
            return self.inner[index]

    model = DeepFusionClassifier(max_epochs=1, dataset=_Plain, **SMALL)
    with pytest.raises(TypeError, match="iterator_train=TensorBatchIterator slices"):
        model.fit(X, y)
    model = DeepFusionClassifier(
        max_epochs=1,
        dataset=_Plain,
        iterator_train=torch.utils.data.DataLoader,
        iterator_valid=torch.utils.data.DataLoader,
        **SMALL,
    )
    assert model.fit(X, y).predict(X).shape == (40,)
