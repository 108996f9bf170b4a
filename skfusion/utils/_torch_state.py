"""Torch state as plain data: NumPy arrays in dicts, lists and tuples.

A fitted torch component pickled with ``torch.save`` is a pickle inside the
saved file, which :mod:`skops.io` cannot inspect and ``torch.load`` can only
read safely with ``weights_only=True``. The estimators save their networks
through these helpers instead: tensors become NumPy arrays (their dtype and
shape kept), containers stay plain containers, and a module's class is kept as
a class reference, which skops checks against its trusted types before
loading. The same state serves pickle, so there is one saving path.
"""

from collections import OrderedDict

import numpy as np
import torch

from ._sklearn_compat import set_state_dict_metadata, state_dict_metadata


def _tensor_to_array(tensor):
    try:
        return tensor.detach().cpu().numpy()
    except TypeError as error:  # e.g. bfloat16, which NumPy has no dtype for
        raise TypeError(
            f"a {tensor.dtype} tensor cannot be saved as a NumPy array; cast the "
            "model to float32 or float16 before saving it."
        ) from error


def _convert_leaves(value, leaf_type, convert):
    """``value`` with every ``leaf_type`` converted, through dicts, lists, tuples."""
    if isinstance(value, leaf_type):
        return convert(value)
    if isinstance(value, dict):
        return {
            key: _convert_leaves(item, leaf_type, convert)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_convert_leaves(item, leaf_type, convert) for item in value)
    return value


def tensors_to_arrays(value):
    """``value`` with every tensor a NumPy array, through dicts, lists, tuples.

    Parameters
    ----------
    value : object
        A tensor, or a dict, list or tuple that may hold tensors (an
        optimizer's ``state_dict()``, say). Other values are kept.

    Returns
    -------
    value : object
        The same structure, tensors replaced by arrays on the CPU.
    """
    return _convert_leaves(value, torch.Tensor, _tensor_to_array)


def arrays_to_tensors(value):
    """The inverse of :func:`tensors_to_arrays`: every NumPy array a tensor.

    Parameters
    ----------
    value : object
        An array, or a dict, list or tuple that may hold arrays.

    Returns
    -------
    value : object
        The same structure, arrays replaced by CPU tensors that own their
        memory (a copy, so no loaded tensor shares memory with the state).
    """
    return _convert_leaves(value, np.ndarray, torch.tensor)


def state_dict_to_arrays(state_dict):
    """A module's ``state_dict()`` as NumPy arrays and its version metadata.

    Parameters
    ----------
    state_dict : dict of str to Tensor
        ``module.state_dict()``.

    Returns
    -------
    state : dict
        ``{"arrays": {name: ndarray}, "metadata": {prefix: dict}}``; the
        metadata (layer versions) is what ``load_state_dict`` reads to upgrade
        an old layout.
    """
    metadata = state_dict_metadata(state_dict) or {}
    return {
        "arrays": {name: _tensor_to_array(t) for name, t in state_dict.items()},
        "metadata": {prefix: dict(values) for prefix, values in metadata.items()},
    }


def arrays_to_state_dict(state):
    """The inverse of :func:`state_dict_to_arrays`, for ``load_state_dict``.

    Parameters
    ----------
    state : dict
        As returned by :func:`state_dict_to_arrays`.

    Returns
    -------
    state_dict : OrderedDict of str to Tensor
        CPU tensors; ``load_state_dict`` copies them to the module's device.
    """
    state_dict = OrderedDict(
        (name, torch.from_numpy(np.array(array)))
        for name, array in state["arrays"].items()
    )
    return set_state_dict_metadata(
        state_dict,
        OrderedDict(
            (prefix, dict(values)) for prefix, values in state["metadata"].items()
        ),
    )


def module_to_state(module, _memo=None):
    """A module as plain data: its class, attributes, arrays and submodules.

    For a module the estimator cannot rebuild itself (one the user gave as
    an instance or a factory). Each submodule's class is kept as a class
    reference, so :func:`skops.io.load` refuses the state unless the user
    trusts those classes. A submodule or parameter shared by several
    parents is saved once and shared again by :func:`module_from_state`.

    Parameters
    ----------
    module : torch.nn.Module
        The module.

    Returns
    -------
    state : dict
        ``{"class", "attributes", "parameters", "buffers", "modules"}``; a
        parameter is ``[array, requires_grad]``.
    """
    memo = {} if _memo is None else _memo
    if id(module) in memo:
        return memo[id(module)]
    attributes = module.__dict__.copy()
    parameters = attributes.pop("_parameters")
    buffers = attributes.pop("_buffers")
    children = attributes.pop("_modules")
    state = memo[id(module)] = {"class": type(module), "attributes": attributes}

    def parameter_state(parameter):
        if id(parameter) not in memo:
            memo[id(parameter)] = [_tensor_to_array(parameter), parameter.requires_grad]
        return memo[id(parameter)]

    state["parameters"] = {
        name: None if p is None else parameter_state(p)
        for name, p in parameters.items()
    }
    state["buffers"] = {
        name: None if b is None else _tensor_to_array(b) for name, b in buffers.items()
    }
    state["modules"] = {
        name: None if child is None else module_to_state(child, memo)
        for name, child in children.items()
    }
    return state


def module_from_state(state, _memo=None):
    """The module that :func:`module_to_state` described, on the CPU.

    The module is created as pickle creates one (``__new__`` and
    ``__setstate__``, without ``__init__``), so no code of the module's
    class runs but its ``__setstate__``.

    Parameters
    ----------
    state : dict
        As returned by :func:`module_to_state`.

    Returns
    -------
    module : torch.nn.Module
        The rebuilt module.
    """
    memo = {} if _memo is None else _memo
    if id(state) in memo:
        return memo[id(state)]
    cls = state["class"]
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise TypeError(
            f"a saved module's class must be a torch.nn.Module, got {cls!r}"
        )
    module = memo[id(state)] = cls.__new__(cls)

    def parameter(saved):
        if id(saved) not in memo:
            array, requires_grad = saved
            memo[id(saved)] = torch.nn.Parameter(
                torch.tensor(array), requires_grad=requires_grad
            )
        return memo[id(saved)]

    attributes = dict(state["attributes"])
    attributes["_parameters"] = {
        name: None if saved is None else parameter(saved)
        for name, saved in state["parameters"].items()
    }
    attributes["_buffers"] = {
        name: None if array is None else torch.tensor(array)
        for name, array in state["buffers"].items()
    }
    attributes["_modules"] = {
        name: None if child is None else module_from_state(child, memo)
        for name, child in state["modules"].items()
    }
    module.__setstate__(attributes)
    return module
