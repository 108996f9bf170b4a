"""The data path of the deep estimators: a dataset of tensors, sliced per batch.

:class:`BlockDataset` holds the prepared blocked matrix (inputs, availability
mask, target) as whole tensors; :class:`TensorBatchIterator` cuts mini-batches
by slicing them, without per-sample indexing and collation. They are the
default ``dataset`` and ``iterator_train`` / ``iterator_valid`` of
:class:`~skfusion.deep.DeepFusionClassifier` and its siblings; skorch's own
(``torch.utils.data.DataLoader``, any ``Dataset``) work in their place.
"""

import torch

__all__ = ["BlockDataset", "TensorBatchIterator"]


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
