"""The epoch loop of the deep estimators, without skorch's per-batch work.

skorch notifies every callback and records the loss and size of every batch
in the history, which costs more than a small network's step. Here that
per-batch work runs only when a callback has a per-batch hook or reads the
per-batch records; otherwise an epoch is the bare loop, and the history gets
per epoch what skorch's default callbacks would record. The optimizer is
built with torch's fused kernel where it has one.
"""

import inspect
import itertools

import torch
from skorch.callbacks import Callback, PassthroughScoring
from skorch.dataset import get_len, unpack_data

from ..utils._sklearn_compat import set_training, step_optimizer, zero_grad_optimizer

__all__ = ["FastEpochMixin"]

# The callback methods skorch calls for every batch.
_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_grad_computed")


class FastEpochMixin:
    """skorch's epoch loop and step without needless per-batch work; fused optimizer.

    Per-batch work runs only when a callback needs it, and the optimizer is
    built fused where torch has a fused kernel for it. Mixed in before
    :class:`skorch.NeuralNet`, whose ``train_step``, ``_set_training``,
    ``notify`` and ``history`` it uses.
    """

    def _needs_batch_hooks(self):
        """Whether a callback has a per-batch hook or reads per-batch records."""
        for _, callback in getattr(self, "callbacks_", ()):
            if isinstance(callback, PassthroughScoring):
                return True
            kind = type(callback)
            if any(
                getattr(kind, hook, None) is not getattr(Callback, hook)
                for hook in _BATCH_HOOKS
            ):
                return True
        return False

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One pass over the training or validation data.

        Records ``<prefix>_loss`` (the mean loss over the rows),
        ``<prefix>_loss_best`` and ``<prefix>_batch_count`` in the history.
        Callbacks are notified of every batch, and the batch losses recorded,
        only when a callback has a per-batch hook (see skorch's
        :meth:`~skorch.NeuralNet.run_single_epoch`).

        Parameters
        ----------
        iterator : iterable of batches or None
            The batches; None skips the pass.

        training : bool
            Whether this is the training pass.

        prefix : str
            ``"train"`` or ``"valid"``: the prefix of the history keys.

        step_fn : callable
            :meth:`train_step` or :meth:`validation_step`.

        **fit_params : dict
            Passed to ``step_fn``.
        """
        if iterator is None:
            return
        batch_hooks = self._batch_hooks_ = self._needs_batch_hooks()
        # The mode once per pass (skorch sets it at every step).
        set_training(self, training)
        losses, sizes = [], []
        for batch in iterator:
            if batch_hooks:
                self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            size = _batch_length(batch)
            losses.append(step["loss"].detach())
            sizes.append(size)
            if batch_hooks:
                self.history.record_batch(prefix + "_loss", step["loss"].item())
                self.history.record_batch(prefix + "_batch_size", size)
                self.notify("on_batch_end", batch=batch, training=training, **step)
        self.history.record(prefix + "_batch_count", len(losses))
        if not losses:
            return
        # One transfer per epoch: the batch losses stay on the device until here.
        weights = torch.as_tensor(sizes, dtype=torch.float64)
        batch_losses = torch.stack(losses).double().cpu()
        loss = float((batch_losses * weights).sum() / weights.sum())
        key = prefix + "_loss"
        epochs = len(self.history)
        earlier = [
            row[key] for row in itertools.islice(self.history, epochs - 1) if key in row
        ]
        self.history.record(key, loss)
        self.history.record(key + "_best", not earlier or loss < min(earlier))

    def train_step(self, batch, **fit_params):
        """One optimisation step; see :meth:`skorch.NeuralNet.train_step`.

        Without per-batch callbacks the step skips skorch's step accumulator
        and its ``on_grad_computed`` notification.
        """
        if getattr(self, "_batch_hooks_", True):
            return super().train_step(batch, **fit_params)
        first = []

        def step_fn():
            zero_grad_optimizer(self)
            step = self.train_step_single(batch, **fit_params)
            if not first:
                first.append(step)
            return step["loss"]

        step_optimizer(self, step_fn)
        return first[0]

    def train_step_single(self, batch, **fit_params):
        """Forward, loss and backward; see skorch's ``train_step_single``.

        The training mode is set once per epoch by :meth:`run_single_epoch`,
        and again here only when per-batch callbacks might have changed it.
        """
        if getattr(self, "_batch_hooks_", True):
            set_training(self, True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def initialize_optimizer(self, triggered_directly=None):
        """skorch's optimizer, fused where torch has a fused kernel for it.

        An optimizer class that takes ``fused`` (Adam, AdamW, SGD, ...) is
        built with ``fused=True`` when the parameters are on the CPU or a
        CUDA device: one kernel updates every parameter, the same update as
        the per-parameter loop up to float rounding, and several times
        faster for small networks. ``optimizer__fused`` or
        ``optimizer__foreach``, when given, decide instead; where torch
        refuses the fused kernel, the optimizer is built as skorch builds it.
        """
        named_parameters = self.get_all_learnable_params()
        args, kwargs = self.get_params_for_optimizer("optimizer", named_parameters)
        if _takes_fused(self.optimizer, args, kwargs):
            try:
                self.optimizer_ = self.optimizer(*args, **kwargs, fused=True)
                return self
            except (RuntimeError, ValueError, TypeError):
                # e.g. a torch without the fused kernel for this device.
                args, kwargs = self.get_params_for_optimizer(
                    "optimizer", self.get_all_learnable_params()
                )
        self.optimizer_ = self.optimizer(*args, **kwargs)
        return self


def _batch_length(batch):
    """Rows of a batch: of its ``x``, of a tensor, or as skorch counts."""
    data = batch[0] if isinstance(batch, (tuple, list)) else batch
    if isinstance(data, dict) and isinstance(data.get("x"), torch.Tensor):
        return data["x"].shape[0]
    return get_len(data)


def _takes_fused(optimizer, args, kwargs):
    """Whether to build ``optimizer`` fused: it takes ``fused``, none was
    chosen, and every parameter is on the CPU or a CUDA device."""
    if "fused" in kwargs or "foreach" in kwargs:
        return False
    try:
        if "fused" not in inspect.signature(optimizer).parameters:
            return False
    except (TypeError, ValueError):
        return False
    groups = args[0] if args else kwargs.get("params", ())
    devices = {
        parameter.device.type
        for group in groups
        for parameter in (group["params"] if isinstance(group, dict) else [group])
    }
    return bool(devices) and devices <= {"cpu", "cuda"}
