"""How the deep estimators are saved: their torch components as NumPy arrays.

skorch pickles the module, criterion and optimizer with torch.save into
bytes inside the pickle: a pickle in the pickle, which skops cannot
inspect. The saved state holds their state dicts as NumPy arrays
instead, and no callbacks (they hold functions: ``print``, the message
sink) or virtual parameters (``functools.partial`` setters); loading
rebuilds all of them as ``fit`` does and then restores the weights and
the optimizer's moments. Pickle and :mod:`skops.io` read the same state.
The batch-shuffling generator needs no saving: ``fit`` drops it and
``partial_fit`` draws a fresh one.
"""

import torch
from skorch import NeuralNet
from skorch.history import History
from skorch.utils import get_map_location

from ..utils._sklearn_compat import (
    check_device,
    optimizer_names,
    torch_component_names,
)
from ..utils._torch_state import (
    arrays_to_state_dict,
    arrays_to_tensors,
    state_dict_to_arrays,
    tensors_to_arrays,
)

__all__ = ["SavedStateMixin", "device_name"]

# The key of the saved state that holds the torch components as plain data.
_SAVED_COMPONENTS = "__torch_components__"


def device_name(device):
    """A device as ``device_`` holds it: a string (skorch may give a torch.device)."""
    return None if device is None else str(device)


class SavedStateMixin:
    """``__getstate__`` and ``__setstate__`` of a skorch net, without torch.save.

    Mixed in before :class:`skorch.NeuralNet`; the estimator provides
    ``_on_fitted_device`` (skorch's ``initialize`` on ``device_``).
    """

    def __getstate__(self):
        state = self.__dict__.copy()
        # Both are rebuilt by initialize(), at load or at the next fit; an
        # unfitted estimator has the empty virtual parameters of __init__.
        state.pop("callbacks_", None)
        if "virtual_params_" in state:
            state["virtual_params_"] = {}
        if state.get("history_") is not None:
            # A History is a list of per-epoch dicts; saved as plain ones.
            state["history_"] = [dict(epoch) for epoch in state["history_"]]
        if not state.get("initialized_"):
            return state
        components = {}
        for name in torch_component_names(self):
            component = state.pop(name + "_", None)
            if isinstance(component, torch.nn.Module):
                components[name] = state_dict_to_arrays(component.state_dict())
        for name in optimizer_names(self):
            optimizer = state.pop(name + "_", None)
            if isinstance(optimizer, torch.optim.Optimizer):
                components[name] = tensors_to_arrays(optimizer.state_dict())
        state[_SAVED_COMPONENTS] = components
        return state

    def __setstate__(self, state):
        state = dict(state)
        components = state.pop(_SAVED_COMPONENTS, None)
        epochs = state.get("history_")
        if epochs is not None:
            state["history_"] = History(epochs)
        self.__dict__.update(state)
        if components is None:
            return
        # The components go to the device the estimator was fitted on (for
        # ``device="auto"``, ``device_``; skorch cannot parse "auto"), or to
        # the CPU with skorch's DeviceWarning where that device is missing
        # (a GPU-trained model loads on a CPU-only machine). A non-"auto"
        # ``device`` becomes the device loaded on, as skorch does.
        requested = state["device"]
        target = state.get("device_") if requested == "auto" else requested
        if target is not None:
            target = device_name(check_device(self, target, get_map_location(target)))
        if requested != "auto":
            self.__dict__["device"] = target
        self.__dict__["device_"] = target
        # Rebuilt as fit builds them, so the callbacks, virtual parameters and
        # a fused optimizer are as after fit; the module's random initial
        # weights (overwritten below) must not move torch's global generator.
        self.__dict__["initialized_"] = False
        with torch.random.fork_rng(devices=[]):
            self._on_fitted_device(NeuralNet.initialize)
        # initialize() cleared the history; it is the saved one.
        self.__dict__["history_"] = History(epochs or ())
        for name in torch_component_names(self):
            if name in components:
                getattr(self, name + "_").load_state_dict(
                    arrays_to_state_dict(components[name])
                )
        for name in optimizer_names(self):
            if name in components:
                # load_state_dict moves each moment to its parameter's device.
                getattr(self, name + "_").load_state_dict(
                    arrays_to_tensors(components[name])
                )
