"""The private scikit-learn helpers of utils/_sklearn_compat.py, one check each.

Supported: scikit-learn 1.9 (the floor of pyproject.toml, ``scikit-learn>=1.9``)
through the newest release tested here. A check failing after an upgrade names
the helper to fix in that one module.
"""

from numbers import Integral

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.metrics import f1_score, get_scorer
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skfusion.utils import _sklearn_compat as compat

SUPPORTED_FROM = (1, 9)


def test_the_installed_scikit_learn_is_a_supported_one():
    major, minor = (int(part) for part in sklearn.__version__.split(".")[:2])
    assert (major, minor) >= SUPPORTED_FROM


def test_scorer_with_pos_label_reads_the_scorer_internals():
    X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    y = np.array(["a", "b", "a", "b", "b", "a"])
    model = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)
    scorer = compat.scorer_with_pos_label(get_scorer("f1"), "a")
    assert scorer(model, X, y) == f1_score(y, model.predict(X), pos_label="a")
    # A symmetric metric takes no pos_label: the same scorer comes back.
    roc_auc = get_scorer("roc_auc")
    assert compat.scorer_with_pos_label(roc_auc, "a") is roc_auc


def test_is_constant_feature_flags_a_zero_variance_column():
    mean = np.array([1.0, 0.5])
    var = np.array([0.0, 0.25])
    flags = compat.is_constant_feature(var, mean, n_samples=10)
    assert flags.tolist() == [True, False]


def test_routing_enabled_follows_the_config():
    assert not compat.routing_enabled()
    with sklearn.config_context(enable_metadata_routing=True):
        assert compat.routing_enabled()


def test_safe_set_output_and_the_set_output_mixin():
    scaler = StandardScaler()
    compat.safe_set_output(scaler, transform="pandas")
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    assert isinstance(scaler.fit_transform(frame), pd.DataFrame)
    assert issubclass(TransformerMixin, compat.SetOutputMixin)


def test_check_feature_names_in_gives_the_fitted_names():
    scaler = StandardScaler().fit(pd.DataFrame({"a": [1.0, 2.0], "b": [0.0, 1.0]}))
    names = compat.check_feature_names_in(scaler, None)
    assert names.tolist() == ["a", "b"]


def test_fit_context_and_parameter_validation():
    class _Tiny(BaseEstimator):
        _parameter_constraints = {
            "k": [compat.Interval(Integral, 1, None, closed="left")]
        }

        def __init__(self, k=1):
            self.k = k

        @compat.fit_context(prefer_skip_nested_validation=True)
        def fit(self, X, y=None):
            return self

    @compat.validate_params({"n": [Integral]}, prefer_skip_nested_validation=True)
    def _twice(n):
        return 2 * n

    assert _twice(2) == 4
    with pytest.raises(ValueError, match="'n' parameter"):
        _twice("2")
    _Tiny(k=2).fit(None)
    with pytest.raises(ValueError, match="'k' parameter"):
        _Tiny(k=0).fit(None)
    with pytest.raises(ValueError, match="'mode' parameter"):
        compat.validate_parameter_constraints(
            {"mode": [compat.StrOptions({"a"}), compat.Options(Integral, {-1})]},
            {"mode": "b"},
            caller_name="f",
        )
    assert compat.HasMethods(["fit"]).is_satisfied_by(StandardScaler())


def test_state_dict_metadata_survives_a_rebuilt_state_dict():
    torch = pytest.importorskip("torch")
    from collections import OrderedDict

    state = torch.nn.BatchNorm1d(2).state_dict()
    metadata = compat.state_dict_metadata(state)
    assert metadata[""]["version"] == 2
    rebuilt = compat.set_state_dict_metadata(OrderedDict(state), metadata)
    assert compat.state_dict_metadata(rebuilt) == metadata
    torch.nn.BatchNorm1d(2).load_state_dict(rebuilt)


def test_efficientnet_features_gives_the_pooled_features():
    torch = pytest.importorskip("torch")
    network = pytest.importorskip("efficientnet_lite_pytorch")
    model = network.EfficientNet.from_name("efficientnet-lite0").eval()
    features = compat.efficientnet_features(model)
    with torch.inference_mode():
        assert features(torch.zeros(1, 3, 64, 64)).shape == (1, 1280)
