"""Safe persistence: every fitted skfusion object round-trips through skops."""

import ast
import importlib.util
import io
import json
import os
import pickle
import pkgutil
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import BaseEstimator, TransformerMixin, clone, is_classifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import get_tags

import skfusion
from skfusion import persist
from skfusion.compose import make_modality_transformer
from skfusion.datasets import make_multimodal_classification
from skfusion.deep import DeepFusionClassifier, DeepFusionRegressor
from skfusion.extractors import (
    BaseExtractor,
    ImageFeatures,
    SentenceEmbedder,
    TorchImageEmbedder,
)
from skfusion.fusion import BlockScaler, LateFusionClassifier
from skfusion.utils._test_common import EXTRACTOR_COLUMNS, instances_to_check

sio = pytest.importorskip("skops.io", reason="skfusion.persist needs skops")
from skops.io.exceptions import UntrustedTypesFoundException  # noqa: E402

SMALL = {"embed_dim": 8, "hidden_dim": 16, "lr": 0.01, "random_state": 0}

# Classes of the models that the test instances give their extractors: a
# user's own classes, which the user names in ``load(..., trusted=[...])``.
USER_TYPES = {
    TorchImageEmbedder: ["torch.nn.modules.flatten.Flatten"],
    SentenceEmbedder: ["skfusion.utils._test_common.CharacterCountModel"],
}
_TINY_NET_TYPES = [
    "torch.nn.modules.container.Sequential",
    "torch.nn.modules.conv.Conv2d",
    "torch.nn.modules.flatten.Flatten",
    "torch.nn.modules.pooling.AdaptiveAvgPool2d",
]


def _tiny_net():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()
    )


def _is_deep(estimator):
    steps = estimator.steps if isinstance(estimator, Pipeline) else [(0, estimator)]
    return any(
        isinstance(step, DeepFusionClassifier | DeepFusionRegressor)
        for _, step in steps
    )


def _block_case(estimator):
    def make(tmp_path):
        rng = np.random.RandomState(0)
        X = 3 * rng.uniform(size=(30, 3))
        y = X[:, 0].astype(int) if is_classifier(estimator) else X @ [1.0, -2.0, 0.5]
        if is_classifier(estimator):
            # Two classes for a classifier that takes only binary targets.
            binary = not get_tags(estimator).classifier_tags.multi_class
            y = (X[:, 0] > 1.5).astype(int) if binary else y
        if type(estimator).__name__.endswith("Survival"):
            # Times to event from the same risk, a quarter of them censored.
            target = np.empty(len(y), dtype=[("event", bool), ("time", float)])
            target["time"] = rng.exponential(size=len(y)) * np.exp(-y / 4)
            target["event"] = rng.random(len(y)) < 0.75
            y = target
        return clone(estimator), (X, y), X

    return make


def _multilabel_case(estimator):
    """The classifier fitted on a 0/1 indicator of three labels, one of them
    constant in the training rows (the single-class fallback)."""

    def make(tmp_path):
        rng = np.random.RandomState(0)
        X = 3 * rng.uniform(size=(40, 3))
        Y = np.column_stack(
            [X[:, 0] > 1.5, X[:, 1] > 1.0, np.r_[np.ones(39), 0.0]]
        ).astype(int)
        return clone(estimator), (X, Y), X

    return make


def _extractor_case(estimator):
    def make(tmp_path):
        values = EXTRACTOR_COLUMNS[type(estimator)](tmp_path)
        return clone(estimator), (values,), values

    return make


def _rooted_image_case(tmp_path):
    values = EXTRACTOR_COLUMNS[ImageFeatures](tmp_path)
    return ImageFeatures(root=tmp_path), (values,), values


def _study_table():
    X, y = make_multimodal_classification(
        60, modality_sizes=(3, 4), informativeness=3.0, random_state=0
    )
    table = X.rename(columns=lambda c: c.replace("__", "_"))
    table["site"] = np.where(np.arange(60) % 3, "A", "B")
    return table, y


def _pipeline_case(final_step):
    def make(tmp_path):
        table, y = _study_table()
        blocks = make_modality_transformer(
            ("clinical", StandardScaler(), ["m0_x0", "m0_x1", "m0_x2"]),
            ("site", OneHotEncoder(sparse_output=False), ["site"]),
            ("image", "passthrough", [f"m1_x{j}" for j in range(4)]),
        )
        return make_pipeline(blocks, final_step), (table, y), table

    return make


def _cases():
    for estimator in instances_to_check():
        trusted = USER_TYPES.get(type(estimator), [])
        if isinstance(estimator, BaseExtractor):
            yield repr(estimator), _extractor_case(estimator), trusted
        else:
            yield repr(estimator), _block_case(estimator), trusted
        if is_classifier(estimator) and get_tags(estimator).classifier_tags.multi_label:
            # Every target kind an estimator accepts loads with the published list.
            yield f"multi-label {estimator!r}", _multilabel_case(estimator), trusted
    yield (
        "TorchImageEmbedder(<a torch module instance>)",
        _extractor_case(TorchImageEmbedder(_tiny_net(), size=(8, 8), device="cpu")),
        _TINY_NET_TYPES,
    )
    # A root given as a pathlib.Path, as a Python user writes it.
    yield "ImageFeatures(root=<a pathlib.Path>)", _rooted_image_case, []
    yield (
        "Pipeline(make_modality_transformer, LateFusionClassifier)",
        _pipeline_case(LateFusionClassifier()),
        [],
    )
    yield (
        "Pipeline(make_modality_transformer, DeepFusionClassifier)",
        _pipeline_case(DeepFusionClassifier(max_epochs=3, device="cpu", **SMALL)),
        [],
    )


def _default_strategy_case(name, classification=True, grouped=False):
    """A study's default strategy as ``refit`` builds it: extraction + model.

    Grouped, it is fitted here, with the groups its inner folds need (the
    case then has no fit arguments).
    """

    def make(tmp_path):
        from sklearn import config_context

        from skfusion.study import default_modality_transformer, default_strategies

        table, y = _study_table()
        if not classification:
            y = table["m0_x0"] - table["m1_x1"]
        columns = {
            "clinical": ["m0_x0", "m0_x1", "m0_x2", "site"],
            "image": [f"m1_x{j}" for j in range(4)],
        }
        strategies, _ = default_strategies(
            list(columns),
            classification=classification,
            grouped=grouped,
            random_state=0,
        )
        estimator, seen = strategies[name]
        extract = make_modality_transformer(
            *[
                (
                    m,
                    default_modality_transformer("tabular", table, columns[m]),
                    columns[m],
                )
                for m in seen
            ]
        ).set_output(transform="pandas")
        pipeline = Pipeline([("extract", extract), ("model", estimator)])
        if not grouped:
            return pipeline, (table, y), table
        with config_context(enable_metadata_routing=True):
            pipeline.fit(table, y, groups=np.arange(len(y)) // 2)
        return pipeline, None, table

    return make


_DEFAULT_STRATEGIES = [
    "unimodal:clinical",
    "early:linear",
    "early:hgb",
    "late:mean",
    "late:stacking",
    "shared:mcca",
    "deep:concat",
    "deep:attention",
]


def _survival_strategy_case(name):
    """A default survival strategy on the study table's blocks."""

    def make(tmp_path):
        from skfusion.datasets import make_multimodal_survival
        from skfusion.study import default_strategies

        X, y = make_multimodal_survival(90, modality_sizes=(3, 3), random_state=0)
        strategies, _ = default_strategies(
            ["m0", "m1"], classification=False, survival=True, random_state=0
        )
        estimator, _ = strategies[name]
        if name.startswith("deep"):
            estimator.set_params(max_epochs=3)
        return estimator, (X, y), X

    return make


_SURVIVAL_STRATEGIES = [
    "unimodal:m0",
    "early:coxnet",
    "early:gbsa",
    "late:mean",
    "late:stacking",
    "deep:concat",
]


def _all_cases():
    yield from _cases()
    if importlib.util.find_spec("sksurv") is not None:
        for name in _SURVIVAL_STRATEGIES:
            yield f"default survival strategy {name}", _survival_strategy_case(name), []
    for name in _DEFAULT_STRATEGIES:
        yield f"refitted default strategy {name}", _default_strategy_case(name), []
    # The inner splitters of the other kinds of study.
    for classification, grouped in ((True, True), (False, False), (False, True)):
        kind = "classification" if classification else "regression"
        yield (
            f"refitted unimodal:clinical, {kind}, grouped={grouped}",
            _default_strategy_case("unimodal:clinical", classification, grouped),
            [],
        )


CASES = {name: (make, trusted) for name, make, trusted in _all_cases()}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Fit and save each case once per module: name -> (fitted, X, path)."""
    done = {}

    def get(name):
        if name not in done:
            tmp_path = tmp_path_factory.mktemp("case")
            estimator, fit_args, X = CASES[name][0](tmp_path)
            if fit_args is not None:  # else fitted by the case itself
                estimator.fit(*fit_args)
            path = tmp_path / "model.skops"
            attributes = dict(vars(estimator))
            persist.dump(estimator, path)
            # Saving leaves the saved object as it was (its network included).
            assert vars(estimator).keys() == attributes.keys()
            changed = [k for k, v in vars(estimator).items() if v is not attributes[k]]
            assert not changed, f"dump changed {changed}"
            done[name] = estimator, X, path
        return done[name]

    return get


def _outputs(estimator, X):
    return {
        method: getattr(estimator, method)(X)
        for method in ("predict", "predict_proba", "transform")
        if hasattr(estimator, method)
    }


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_fitted_object_round_trips_with_only_published_trusted_types(name, saved):
    estimator, X, path = saved(name)
    trusted = CASES[name][1]
    untrusted = sio.get_untrusted_types(file=path)
    assert set(untrusted) <= set(persist.TRUSTED_TYPES) | set(trusted)
    # The user's own classes are needed, and refused until named.
    assert set(trusted) <= set(untrusted)
    if trusted:
        with pytest.raises(UntrustedTypesFoundException, match=re.escape(trusted[0])):
            persist.load(path)
    assert persist.untrusted_types(path) == sorted(untrusted)

    restored = persist.load(path, trusted=trusted)
    assert type(restored) is type(estimator)
    expected, got = _outputs(estimator, X), _outputs(restored, X)
    assert expected and got.keys() == expected.keys()
    for method, values in expected.items():
        if _is_deep(estimator):
            np.testing.assert_allclose(got[method], values, rtol=1e-6, atol=1e-7)
        else:
            np.testing.assert_array_equal(np.asarray(got[method]), np.asarray(values))


def test_every_published_type_is_needed_and_a_class(saved):
    seen = set()
    for name in CASES:
        seen.update(sio.get_untrusted_types(file=saved(name)[2]))
    assert set(persist.TRUSTED_TYPES) <= seen, "drop the types no fitted object uses"
    assert len(set(persist.TRUSTED_TYPES)) == len(persist.TRUSTED_TYPES)
    for type_name in persist.TRUSTED_TYPES:
        module, _, name = type_name.rpartition(".")
        # A class, never a function that could run code when loaded.
        assert isinstance(pkgutil.resolve_name(f"{module}:{name}"), type), type_name
        assert module.split(".")[0] in {
            "skfusion",
            "sklearn",
            "sksurv",
            "torch",
            "numpy",
            "pathlib",
        }


def _tamper(path, node):
    """The bytes of the skops file at ``path``, ``block_weights`` made ``node``."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(members["schema.json"])
    attributes = schema["content"]["content"]
    assert "block_weights" in attributes
    attributes["block_weights"] = node
    members["schema.json"] = json.dumps(schema).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _node(loader, module, name, **extra):
    return {"__class__": name, "__module__": module, "__loader__": loader, **extra}


def test_a_file_that_calls_os_system_is_refused_without_calling_it(
    tmp_path, monkeypatch
):
    X = np.arange(12.0).reshape(4, 3)
    path = tmp_path / "model.skops"
    persist.dump(BlockScaler(modalities={"a": [0], "b": [1, 2]}).fit(X), path)
    command = _node("JsonNode", "builtins", "str", content='"echo owned"', is_json=True)
    arguments = _node("TupleNode", "builtins", "tuple", content=[command])
    data = _tamper(path, _node("ConstructorFromReduceNode", "os", "system",
                               content=arguments))  # fmt: skip
    calls = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args) or 0)

    assert "os.system" in persist.untrusted_types(io.BytesIO(data))
    with pytest.raises(UntrustedTypesFoundException, match=r"os\.system"):
        persist.load(io.BytesIO(data))
    assert calls == []
    # The tampered file is live: trusting os.system would run the command.
    sio.loads(data, trusted=[*persist.TRUSTED_TYPES, "os.system"])
    assert calls == [("echo owned",)]


def test_a_file_that_references_eval_is_refused(tmp_path):
    X = np.arange(12.0).reshape(4, 3)
    path = tmp_path / "model.skops"
    persist.dump(BlockScaler(modalities={"a": [0], "b": [1, 2]}).fit(X), path)
    data = _tamper(path, _node("FunctionNode", "builtins", "eval"))
    with pytest.raises(UntrustedTypesFoundException, match=r"builtins\.eval"):
        persist.load(io.BytesIO(data))
    trusted = [*persist.TRUSTED_TYPES, "builtins.eval"]
    assert sio.loads(data, trusted=trusted).block_weights is eval


def test_trusted_must_name_types():
    with pytest.raises(TypeError, match="type names"):
        persist.load(io.BytesIO(b""), trusted=[1])


# -- deep models --------------------------------------------------------------------


def _deep_model(**params):
    X, y = make_multimodal_classification(80, modality_sizes=(3, 4), random_state=9)
    params = {"max_epochs": 3, "device": "cpu", **SMALL, **params}
    return DeepFusionClassifier(**params).fit(X, y), X, y


def _skops_round_trip(model, trusted=()):
    buffer = io.BytesIO()
    persist.dump(model, buffer)
    buffer.seek(0)
    return persist.load(buffer, trusted=trusted)


def test_deep_pickle_and_skops_give_identical_predictions():
    model, X, _ = _deep_model(fusion="attention", class_weight="balanced")
    expected = model.predict_proba(X)
    pickled = pickle.loads(pickle.dumps(model))
    rng_state = torch.random.get_rng_state()
    skopsed = _skops_round_trip(model)
    # Rebuilding the network at load leaves torch's global generator alone.
    assert torch.equal(torch.random.get_rng_state(), rng_state)
    np.testing.assert_array_equal(skopsed.predict_proba(X), pickled.predict_proba(X))
    np.testing.assert_allclose(skopsed.predict_proba(X), expected, rtol=1e-6)
    np.testing.assert_array_equal(
        skopsed.criterion_.weight.numpy(), model.class_weights_.astype(np.float32)
    )
    assert [name for name, _ in skopsed.callbacks_] == [
        name for name, _ in model.callbacks_
    ]
    assert list(skopsed.history_) == list(model.history_)


@pytest.mark.parametrize("load", ["pickle", "skops"])
def test_partial_fit_after_loading_continues_with_the_optimizer_state(load):
    # One full batch and no inner split: partial_fit is then deterministic, so
    # the loaded model must train exactly as the original would go on.
    model, X, y = _deep_model(early_stopping=False, batch_size=-1)
    if load == "pickle":
        restored = pickle.loads(pickle.dumps(model))
    else:
        restored = _skops_round_trip(model)
    before = model.optimizer_.state_dict()
    after = restored.optimizer_.state_dict()
    assert after["param_groups"] == before["param_groups"]
    assert after["state"].keys() == before["state"].keys()
    for index, moments in before["state"].items():
        assert after["state"][index].keys() == moments.keys() >= {"exp_avg", "step"}
        for key, value in moments.items():
            assert torch.equal(after["state"][index][key], value), (index, key)

    model.partial_fit(X, y)
    restored.partial_fit(X, y)
    assert len(restored.history_) == len(model.history_) == 2 * model.max_epochs
    np.testing.assert_allclose(
        restored.predict_proba(X), model.predict_proba(X), rtol=1e-5, atol=1e-6
    )
    # A fresh optimizer (moments lost) would have moved the weights otherwise.
    fresh = pickle.loads(pickle.dumps(model))
    fresh.initialize_optimizer()
    fresh.partial_fit(X, y)
    restarted = pickle.loads(pickle.dumps(model))
    restarted.partial_fit(X, y)
    assert not np.allclose(fresh.predict_proba(X), restarted.predict_proba(X))


def test_deep_model_with_device_auto_round_trips():
    model, X, _ = _deep_model(device="auto")
    restored = _skops_round_trip(model)
    assert restored.get_params()["device"] == "auto"
    assert restored.device_ == model.device_
    assert next(restored.module_.parameters()).device.type == model.device_
    np.testing.assert_allclose(restored.predict_proba(X), model.predict_proba(X))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "auto"])
def test_deep_model_saved_for_cuda_loads_on_the_cpu(device):
    from skorch.exceptions import DeviceWarning

    # device="auto" resolves to the CPU here; then, as if fitted on a GPU, the
    # saved state asks for CUDA, which is absent here.
    model, X, _ = _deep_model(device="auto" if device == "auto" else "cpu")
    expected = model.predict_proba(X)
    if device == "auto":
        model.device_ = "cuda"
    else:
        model.device = model.device_ = "cuda"
    with pytest.warns(DeviceWarning):
        restored = _skops_round_trip(model)
    assert restored.device_ == "cpu"
    assert restored.device == ("auto" if device == "auto" else "cpu")
    assert next(restored.module_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(restored.predict_proba(X), expected, rtol=1e-6)


def test_unfitted_deep_model_round_trips():
    model = DeepFusionRegressor(max_epochs=2, **SMALL)
    restored = _skops_round_trip(model)
    assert restored.get_params().keys() == model.get_params().keys()
    assert not restored.initialized_
    # Fits after loading, as in a parallel grid search's worker.
    X, y = make_multimodal_classification(40, random_state=0)
    assert restored.fit(X, y).history_[-1]["epoch"] == 2


def test_shared_submodules_stay_shared(tmp_path):
    shared = torch.nn.Linear(4, 4)
    net = torch.nn.Sequential(torch.nn.Flatten(), shared, torch.nn.ReLU(), shared)
    embedder = TorchImageEmbedder(net, size=(2, 2), mode="L", normalize=None)
    embedder.set_params(device="cpu").fit([np.ones((2, 2))])
    trusted = [
        "torch.nn.modules.container.Sequential",
        "torch.nn.modules.flatten.Flatten",
        "torch.nn.modules.linear.Linear",
        "torch.nn.modules.activation.ReLU",
    ]
    restored = _skops_round_trip(embedder, trusted=trusted)
    assert restored.model_[1] is restored.model_[3]
    assert restored.model[1] is restored.model[3]
    assert not restored.model_.training
    assert not any(p.requires_grad for p in restored.model_.parameters())
    image = [np.arange(4.0).reshape(2, 2) / 4]
    np.testing.assert_array_equal(restored.transform(image), embedder.transform(image))


# -- no unsafe loading in the package --------------------------------------------


def _torch_load_calls():
    root = Path(skfusion.__file__).parent
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "load"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "torch"
            ):
                yield f"{path.relative_to(root)}:{node.lineno}", node


def test_torch_load_is_only_called_with_weights_only():
    calls = list(_torch_load_calls())
    assert calls, "the pretrained preset loads its weights with torch.load"
    unsafe = [
        where
        for where, call in calls
        if not any(
            keyword.arg == "weights_only"
            and isinstance(keyword.value, ast.Constant)
            and keyword.value.value is True
            for keyword in call.keywords
        )
    ]
    assert not unsafe, f"torch.load without weights_only=True at {unsafe}"


def test_trusted_takes_types_as_well_as_names():
    X = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["a__x", "b__x", "b__y"])
    model = make_pipeline(BlockScaler(), _Doubler()).fit(X)
    buffer = io.BytesIO()
    persist.dump(model, buffer)
    with pytest.raises(UntrustedTypesFoundException, match="_Doubler"):
        persist.load(io.BytesIO(buffer.getvalue()))
    restored = persist.load(io.BytesIO(buffer.getvalue()), trusted=[_Doubler])
    np.testing.assert_array_equal(restored.transform(X), model.transform(X))


class _Doubler(TransformerMixin, BaseEstimator):
    """A user's own transformer, unknown to skops and to skfusion."""

    def fit(self, X, y=None):
        self.n_features_in_ = np.shape(X)[1]
        return self

    def transform(self, X):
        return 2 * np.asarray(X)


def test_a_file_saved_before_the_deep_data_module_moved_still_loads(saved, tmp_path):
    fitted, X, path = saved("refitted default strategy deep:concat")
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    schema = members["schema.json"].decode()
    assert '"skfusion.deep.data"' in schema
    members["schema.json"] = schema.replace(
        '"skfusion.deep.data"', '"skfusion.deep.estimators"'
    ).encode()
    old = tmp_path / "old.skops"
    with zipfile.ZipFile(old, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    loaded = persist.load(old)
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
