"""The data path of the deep estimators: a dataset of tensors, sliced per batch.

:class:`BlockDataset` holds the prepared blocked matrix (inputs, availability
mask, target) as whole tensors; :class:`TensorBatchIterator` cuts mini-batches
by slicing them, without per-sample indexing and collation. They are the
default ``dataset`` and ``iterator_train`` / ``iterator_valid`` of
:class:`~skfusion.deep.DeepFusionClassifier` and its siblings; skorch's own
(``torch.utils.data.DataLoader``, any ``Dataset``) work in their place.
"""

import math

import numpy as np
import torch
from sklearn.model_selection import GroupShuffleSplit
from sklearn.utils.validation import check_is_fitted
from skorch.dataset import ValidSplit

from ..blocks import standardize_columns

__all__ = [
    "BlockDataset",
    "NetworkInputsMixin",
    "TensorBatchIterator",
    "early_stopping_split",
]

# Standardised inputs beyond this many standard deviations are clipped.
_MAX_STANDARDIZED = 1e6
# Values standardised at a time for the network (512 KB of float64).
_STANDARDIZE_CHUNK_VALUES = 2**16


class BlockDataset(torch.utils.data.Dataset):
    """The prepared blocked matrix as tensors: inputs, availability mask, target.

    Parameters
    ----------
    X : dict with keys "x" and "mask"
        ``x`` a float tensor (n_samples, n_features), ``mask`` a bool tensor
        (n_samples, n_modalities).

    y : tensor of shape (n_samples,) or (n_samples, 1), default=None
        Targets; None at prediction time.

    Attributes
    ----------
    complete : bool
        Whether every row has every modality (checked once, here): batches
        of such data need no mask.
    """

    def __init__(self, X, y=None):
        self.x = torch.as_tensor(X["x"])
        self.mask = torch.as_tensor(X["mask"])
        self.y = None if y is None else torch.as_tensor(y)
        self.complete = bool(self.mask.all())

    def __len__(self):
        return self.x.shape[0]

    def __getitem__(self, index):
        target = self.y[index] if self.y is not None else torch.tensor(0)
        return {"x": self.x[index], "mask": self.mask[index]}, target

    def rows(self, index):
        """A dataset of the given rows (tensor slicing, no copy per sample)."""
        index = torch.as_tensor(index, dtype=torch.long)
        return BlockDataset(
            {"x": self.x[index], "mask": self.mask[index]},
            None if self.y is None else self.y[index],
        )

    def to(self, device):
        """The dataset on ``device`` (itself where it is there already)."""
        if device is None or self.x.device == torch.device(device):
            return self
        return BlockDataset(
            {"x": self.x.to(device), "mask": self.mask.to(device)},
            None if self.y is None else self.y.to(device),
        )


class TensorBatchIterator:
    """Mini-batches of a :class:`BlockDataset`, sliced as whole tensors.

    Parameters
    ----------
    dataset : BlockDataset
        The data, on the device the batches are wanted on.

    batch_size : int
        Rows per batch; -1 means all rows.

    shuffle : bool, default=False
        Draw a new row order at every pass.

    generator : torch.Generator, default=None
        Source of the shuffling, for reproducible epochs.

    omit_mask : bool, default=False
        Give ``mask=None`` (every modality present) instead of the mask; only
        for a dataset whose ``complete`` is True.
    """

    def __init__(
        self, dataset, batch_size, shuffle=False, generator=None, omit_mask=False
    ):
        self.dataset = dataset
        self.batch_size = len(dataset) if batch_size == -1 else batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.omit_mask = omit_mask

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        n_rows = len(self.dataset)
        x, mask, y = self.dataset.x, self.dataset.mask, self.dataset.y
        order = None
        if self.shuffle:
            # Drawn on the CPU (the generator's device), indexed on the data's.
            order = torch.randperm(n_rows, generator=self.generator).to(x.device)
        elif n_rows <= self.batch_size:
            yield {"x": x, "mask": None if self.omit_mask else mask}, y
            return
        for start in range(0, n_rows, self.batch_size):
            if order is None:
                rows = slice(start, start + self.batch_size)
            else:
                rows = order[start : start + self.batch_size]
            batch_mask = None if self.omit_mask else mask[rows]
            yield {"x": x[rows], "mask": batch_mask}, None if y is None else y[rows]


def _as_network_inputs(values, present):
    """The dict of tensors a :class:`BlockDataset` holds."""
    return {
        "x": torch.as_tensor(values),
        "mask": torch.as_tensor(present, dtype=torch.bool),
    }


class NetworkInputsMixin:
    """The blocked matrix as the network's inputs: standardised, masked, float32.

    Mixed into the deep estimators, whose fitted column statistics
    (``mean_``, ``scale_``, ``n_samples_seen_``, ``column_order_``) and
    :class:`~skfusion.blocks.FusionMixin` methods it reads.
    """

    def _prepared_rows(self, X):
        """Network inputs of the rows that have a modality, and those rows."""
        check_is_fitted(self, "module_")
        X = self._validate_blocks(X, reset=False)
        # Standardised first: the pass finds whether anything is missing, and
        # rows standardise alone, so the rows to keep are sliced afterwards.
        values, missing = self._network_matrix(X)
        if not missing:  # every modality of every row: no mask to compute
            rows = np.ones(len(values), dtype=bool)
            present = np.ones((len(values), len(self.modalities_)), dtype=bool)
        else:
            present = self._present(X)
            rows = present.any(axis=1)
            if not rows.any():
                return None, rows
            if not rows.all():
                values, present = values[rows], present[rows]
        return _as_network_inputs(values, present), rows

    def _network_inputs(self, X, present):
        """The network's inputs for ``X`` (validated) and its availability mask."""
        return _as_network_inputs(self._network_matrix(X)[0], present)

    def _network_matrix(self, X):
        """Standardised float32 inputs, and whether ``X`` had a NaN.

        Missing values become 0 (see the comments for the rest).
        """
        # In float64 first (FusionMixin's standardisation): a column beyond
        # float32's range (1e300) must standardise as it would at any other
        # scale. Missing values and never-observed columns become 0. A value a
        # million standard deviations out (a 1e300 cell in an ordinary column)
        # is clipped: the float32 cast would make it inf, the network NaN.
        # Standardised a few hundred kilobytes at a time, along X's contiguous
        # axis, into the float32 matrix (in X's memory order): a float64 copy
        # of the whole matrix costs more in fresh memory than the arithmetic.
        mean, scale, counts = self.mean_, self.scale_, self.n_samples_seen_
        if not np.array_equal(self.column_order_, np.arange(X.shape[1])):
            order = self.column_order_
            X, mean, scale = X[:, order], mean[order], scale[order]
            counts = counts[order]
        n_rows, n_columns = X.shape
        by_column = X.flags.f_contiguous and not X.flags.c_contiguous
        values = np.empty(X.shape, dtype=np.float32, order="F" if by_column else "C")
        length = n_rows if by_column else n_columns
        step = max(1, _STANDARDIZE_CHUNK_VALUES // max(1, length))
        missing = False
        for start in range(0, n_columns if by_column else n_rows, step):
            part = slice(start, start + step)
            where = (slice(None), part) if by_column else (part, slice(None))
            columns = part if by_column else slice(None)
            chunk = standardize_columns(
                X[where], mean[columns], scale[columns], counts[columns]
            )
            # Clipped and cast to float32 in one pass; clipping keeps NaN, and
            # a sum is NaN when any value is.
            out = values[where]
            np.clip(chunk, -_MAX_STANDARDIZED, _MAX_STANDARDIZED, out=out)
            missing = missing or bool(np.isnan(np.sum(out)))
        if missing:
            values[np.isnan(values)] = 0.0
        return values, missing


def early_stopping_split(targets, groups, validation_fraction, labels, seed):
    """(train, validation) row indices of an early-stopping split, or None.

    skorch's :class:`~skorch.dataset.ValidSplit` draws them: by group
    (``GroupShuffleSplit``, to which it forwards ``groups``) when groups are
    given, else stratified on ``labels`` (a classifier's classes, a survival
    model's event indicator) where every label can be on both sides.

    Parameters
    ----------
    targets : ndarray
        The encoded training targets.

    groups : ndarray or None
        Group labels; a group stays on one side.

    validation_fraction : float
        Share of rows held out.

    labels : ndarray of int or None
        Labels to stratify on.

    seed : int or None
        Seed of the draw.

    Returns
    -------
    split : tuple of ndarray or None
        None when no row would be left to train on, or one group only.
    """
    n_rows = len(targets)
    # As scikit-learn's shuffle splits count the validation rows.
    n_valid = math.ceil(validation_fraction * n_rows)
    if n_rows - n_valid < 1:
        return None
    if groups is not None:
        if len(np.unique(groups)) < 2:
            return None
        splitter = ValidSplit(
            GroupShuffleSplit(1, test_size=validation_fraction, random_state=seed)
        )
    else:
        stratified = False
        if labels is not None:
            counts = np.bincount(labels)
            room = min(n_valid, n_rows - n_valid)
            stratified = counts.min() >= 2 and room >= len(counts)
        if stratified:
            targets = labels
        splitter = ValidSplit(
            validation_fraction, stratified=stratified, random_state=seed
        )
    train, valid = splitter(np.arange(n_rows), targets, groups=groups)
    return np.asarray(train.indices), np.asarray(valid.indices)
