"""The one place where other libraries' private names are used.

Their authors do not promise stability for these names; reaching them only
here means a future rename is fixed in a single file. Each helper is checked
by one test naming the versions it supports:

- scikit-learn's private helpers: scikit-learn 1.9 (the floor of
  ``pyproject.toml``) and later, ``tests/test_sklearn_compat.py``;
- skorch's ``NeuralNet`` members that a subclass needs (its training mode,
  optimizer steps, component names, device check): skorch 1.4 and later,
  ``tests/test_sklearn_compat.py``;
- torch's state-dict metadata and the EfficientNet-Lite model's head, in
  ``tests/test_sklearn_compat.py`` and the pretrained embedder's tests.
"""

import inspect

from sklearn.base import _fit_context as fit_context
from sklearn.metrics import make_scorer
from sklearn.preprocessing._data import _is_constant_feature as is_constant_feature
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    Options,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils._set_output import _safe_set_output as safe_set_output
from sklearn.utils._set_output import _SetOutputMixin as SetOutputMixin
from sklearn.utils.metadata_routing import _routing_enabled as routing_enabled
from sklearn.utils.validation import _check_feature_names_in as check_feature_names_in

__all__ = [
    "HasMethods",
    "Interval",
    "Options",
    "StrOptions",
    "SetOutputMixin",
    "check_feature_names_in",
    "fit_context",
    "is_constant_feature",
    "routing_enabled",
    "safe_set_output",
    "check_device",
    "efficientnet_features",
    "optimizer_names",
    "scorer_with_pos_label",
    "set_state_dict_metadata",
    "set_training",
    "state_dict_metadata",
    "step_optimizer",
    "torch_component_names",
    "zero_grad_optimizer",
    "validate_parameter_constraints",
    "validate_params",
]


def scorer_with_pos_label(scorer, pos_label):
    """The same scorer with ``pos_label`` passed to its metric, when it takes one.

    Reads the private ``_score_func``, ``_response_method``, ``_sign`` and
    ``_kwargs`` of scikit-learn's scorers; a scorer without them, or whose
    metric has no ``pos_label`` (a symmetric one such as ROC AUC), is returned
    unchanged.
    """
    metric = getattr(scorer, "_score_func", None)
    if metric is None or "pos_label" not in inspect.signature(metric).parameters:
        return scorer
    return make_scorer(
        metric,
        response_method=scorer._response_method,
        greater_is_better=scorer._sign > 0,
        **{**scorer._kwargs, "pos_label": pos_label},
    )


# -- skorch ---------------------------------------------------------------------


def set_training(net, training):
    """Put the net's modules and criteria in training (or evaluation) mode."""
    net._set_training(training)


def zero_grad_optimizer(net):
    """Zero the gradients of every optimizer of the net."""
    net._zero_grad_optimizer()


def step_optimizer(net, step_fn):
    """One step of every optimizer of the net, ``step_fn`` as its closure."""
    net._step_optimizer(step_fn)


def torch_component_names(net):
    """The names of the net's modules and criteria (``"module"``, ...)."""
    return list(net._modules) + list(net._criteria)


def optimizer_names(net):
    """The names of the net's optimizers (``"optimizer"``, ...)."""
    return list(net._optimizers)


def check_device(net, requested, map_location):
    """The device to load on: ``requested``, or the CPU with skorch's warning."""
    return net._check_device(requested, map_location)


# -- torch and the pretrained networks -------------------------------------------


def set_state_dict_metadata(state_dict, metadata):
    """Give a rebuilt state dict the ``_metadata`` torch's ``state_dict()`` has.

    ``load_state_dict`` reads it (each submodule's version) to convert old
    layouts; torch keeps it as a private attribute of the OrderedDict.
    """
    state_dict._metadata = metadata
    return state_dict


def state_dict_metadata(state_dict):
    """The ``_metadata`` of a state dict (an empty dict when it has none)."""
    return getattr(state_dict, "_metadata", {})


def efficientnet_features(model):
    """An ``efficientnet_lite_pytorch`` model whose forward gives pooled features.

    The package has no option for it: its dropout and classifier are the
    private ``_dropout`` and ``_fc``, replaced by identities.
    """
    import torch

    model._dropout = torch.nn.Identity()
    model._fc = torch.nn.Identity()
    return model
