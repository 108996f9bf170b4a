"""Slice-wise embedding of volumes: evenly spaced slices, embedded, averaged.

The torch image embedders take ``volume="slices"``: a volume (NIfTI,
multi-frame DICOM, DICOM series, 3-D array) is cut into at most
``POOLED_SLICES`` slices along its slice axis, each embedded as a 2-D image,
and the embeddings averaged: a fixed-width row whatever the slice count.
"""

import numpy as np

from ._readers import resize

__all__ = ["POOLED_SLICES", "pooled_embeddings", "slice_stack"]

#: The most slices of one volume that go through the network.
POOLED_SLICES = 16


def slice_stack(volume, size, channels, needed_by):
    """Evenly spaced slices of a volume, resized, as a stack of images.

    Parameters
    ----------
    volume : ndarray of shape (depth, height, width)
        The volume, its slice axis first and its values in [0, 1].

    size : tuple of int
        (height, width) of each slice.

    channels : {1, 3}
        Channels of each image (grey repeated to three for colour networks).

    needed_by : str
        Name used in the message when scikit-image is missing.

    Returns
    -------
    stack : ndarray of shape (n_slices, height, width, channels), float32
        ``min(depth, POOLED_SLICES)`` slices: slice ``i`` is the one at the
        centre of the ``i``-th of ``n_slices`` equal parts of the depth.
    """
    depth = volume.shape[0]
    n_slices = min(depth, POOLED_SLICES)
    index = ((np.arange(n_slices) + 0.5) * depth / n_slices).astype(int)
    stack = resize(volume[index], (n_slices, *size), needed_by).astype(np.float32)
    return np.repeat(stack[..., np.newaxis], channels, axis=-1)


def pooled_embeddings(stacks, embed, batch_size):
    """The mean embedding of each stack's slices.

    Parameters
    ----------
    stacks : sequence of ndarray of shape (n_slices, height, width, channels)
        One stack per volume, from :func:`slice_stack`.

    embed : callable
        Embeds a list of (height, width, channels) images as a 2-D array.

    batch_size : int
        Slices per call of ``embed``, over the stacks together.

    Returns
    -------
    embeddings : ndarray of shape (len(stacks), width)
    """
    images = [image for stack in stacks for image in stack]
    rows = np.vstack(
        [
            embed(images[start : start + batch_size])
            for start in range(0, len(images), batch_size)
        ]
    )
    ends = np.cumsum([len(stack) for stack in stacks])
    starts = ends - [len(stack) for stack in stacks]
    return np.stack(
        [rows[start:end].mean(axis=0) for start, end in zip(starts, ends, strict=True)]
    )
