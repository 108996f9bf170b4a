"""Per-modality encoders: map one modality block to a fixed-size embedding.

Every encoder takes the flat block of one modality, a float tensor of shape
``(batch, in_features)`` cut out of the blocked matrix, and returns an
embedding of shape ``(batch, embed_dim)``. All modalities of a
:class:`~skfusion.deep.module.FusionNet` share ``embed_dim`` so that the
fusion layers can combine them. The convolutional encoders use
``GroupNorm`` rather than ``BatchNorm``: a batch of one row (the last batch
of an epoch, or a single prediction) must work.
"""

import inspect
from collections.abc import Mapping
from numbers import Integral

from torch import nn

from ..utils._docstrings import fill_docstring

__all__ = ["CNN1dEncoder", "CNN2dEncoder", "MLPEncoder", "build_encoder"]


def _check_positive_int(value, name, owner):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}.")
    return int(value)


def _check_dropout(dropout, owner):
    if isinstance(dropout, bool) or not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"{owner}: dropout must be in [0, 1), got {dropout!r}.")
    return float(dropout)


def _dropout(p):
    """``nn.Dropout(p)``, or nothing at all for ``p=0`` (no per-batch call)."""
    return nn.Dropout(p) if p > 0 else nn.Identity()


def _check_shape(shape, n_dims, in_features, owner):
    try:
        shape = tuple(shape)
    except TypeError:
        shape = None
    if shape is None or len(shape) != n_dims:
        raise ValueError(
            f"{owner}: shape must be a tuple of {n_dims} positive integers, "
            f"got {shape!r}."
        )
    shape = tuple(_check_positive_int(s, "shape", owner) for s in shape)
    size = 1
    for s in shape:
        size *= s
    if size != in_features:
        raise ValueError(
            f"{owner}: shape {shape} holds {size} values but the modality has "
            f"{in_features} columns."
        )
    return shape


def _check_channels(channels, owner):
    try:
        channels = tuple(channels)
    except TypeError:
        channels = ()
    if not channels:
        raise ValueError(
            f"{owner}: channels must be a non-empty sequence of positive "
            f"integers, got {channels!r}."
        )
    return tuple(_check_positive_int(c, "channels", owner) for c in channels)


class _Encoder(nn.Module):
    """Base of the encoders: ``forward`` documented once, ``_encode`` computes."""

    def forward(self, x):
        """Encode a batch.

        Parameters
        ----------
        x : Tensor of shape (batch, in_features)
            The modality block.

        Returns
        -------
        Tensor of shape (batch, embed_dim)
            The embedding.
        """
        return self._encode(x)


@fill_docstring
class MLPEncoder(_Encoder):
    """Perceptron encoder for a tabular or embedding block.

    The block of ``in_features`` columns is mapped to an embedding of
    ``embed_dim`` values. With ``n_layers=1`` the encoder is
    ``Linear -> ReLU -> Dropout`` (the embedding is a rectified layer); with
    ``n_layers=k > 1`` it is ``k - 1`` hidden layers
    ``Linear -> ReLU -> Dropout`` of ``hidden_dim`` units and a linear
    projection to ``embed_dim``.

    Parameters
    ----------
    in_features : int
        Number of columns of the modality block.

    embed_dim : int, default=32
        Size of the embedding.

    hidden_dim : int, default=64
        Width of the hidden layers (unused with ``n_layers=1``).

    dropout : float, default=0.1
        Dropout probability after every rectified layer, in [0, 1).

    n_layers : int, default=2
        Number of linear layers.

    %(encoder_attributes)s

    See Also
    --------
    CNN2dEncoder : Encoder for a flattened image block.
    CNN1dEncoder : Encoder for a flattened multichannel sequence.

    Examples
    --------
    >>> import torch
    >>> from skfusion.deep.encoders import MLPEncoder
    >>> encoder = MLPEncoder(10, embed_dim=8)
    >>> encoder(torch.zeros(4, 10)).shape
    torch.Size([4, 8])
    >>> len(MLPEncoder(10, embed_dim=8, n_layers=3).net)
    7
    """

    def __init__(
        self, in_features, embed_dim=32, hidden_dim=64, dropout=0.1, n_layers=2
    ):
        super().__init__()
        owner = type(self).__name__
        in_features = _check_positive_int(in_features, "in_features", owner)
        embed_dim = _check_positive_int(embed_dim, "embed_dim", owner)
        hidden_dim = _check_positive_int(hidden_dim, "hidden_dim", owner)
        dropout = _check_dropout(dropout, owner)
        n_layers = _check_positive_int(n_layers, "n_layers", owner)
        self.out_features = embed_dim
        if n_layers == 1:
            layers = [nn.Linear(in_features, embed_dim), nn.ReLU(), _dropout(dropout)]
        else:
            layers, width = [], in_features
            for _ in range(n_layers - 1):
                layers += [nn.Linear(width, hidden_dim), nn.ReLU(), _dropout(dropout)]
                width = hidden_dim
            layers.append(nn.Linear(width, embed_dim))
        self.net = nn.Sequential(*layers)

    def _encode(self, x):
        return self.net(x)


class _ConvEncoder(_Encoder):
    """Base of the convolutional encoders, for ``len(shape) - 1`` spatial axes.

    One ``Conv -> GroupNorm -> ReLU -> MaxPool(2)`` block per entry of
    ``channels`` (an axis shorter than 2 is no longer pooled), then an
    average over space, dropout and a projection to ``embed_dim``. A
    subclass unflattens the block to ``(batch, *shape)`` in ``_unflatten``.
    """

    _layers = {
        1: (nn.Conv1d, nn.MaxPool1d, nn.AdaptiveAvgPool1d),
        2: (nn.Conv2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d),
    }

    def __init__(self, in_features, shape, embed_dim, channels, kernel_size, dropout):
        super().__init__()
        owner = type(self).__name__
        n_dims = self._n_dims
        conv, max_pool, average_pool = self._layers[n_dims - 1]
        in_features = _check_positive_int(in_features, "in_features", owner)
        self.shape = _check_shape(shape, n_dims, in_features, owner)
        embed_dim = _check_positive_int(embed_dim, "embed_dim", owner)
        channels = _check_channels(channels, owner)
        kernel_size = _check_positive_int(kernel_size, "kernel_size", owner)
        dropout = _check_dropout(dropout, owner)
        self.out_features = embed_dim

        c_in, *sizes = self.shape
        blocks = []
        for c_out in channels:
            pool = tuple(2 if size >= 2 else 1 for size in sizes)
            blocks += [
                conv(c_in, c_out, kernel_size, padding=kernel_size // 2),
                nn.GroupNorm(1, c_out),
                nn.ReLU(),
                max_pool(pool if n_dims == 3 else pool[0])
                if max(pool) > 1
                else nn.Identity(),
            ]
            # Even kernels with "same" padding grow each side by one.
            grown = [size + 1 - kernel_size % 2 for size in sizes]
            sizes = [size // p for size, p in zip(grown, pool, strict=True)]
            c_in = c_out
        self.features = nn.Sequential(*blocks)
        self.pool = average_pool(1)
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(c_in, embed_dim)

    def _encode(self, x):
        x = self.pool(self.features(self._unflatten(x))).flatten(1)
        return self.proj(self.dropout(x))


@fill_docstring
class CNN2dEncoder(_ConvEncoder):
    """Small convolutional encoder for a flattened image block.

    The flat block is reshaped to ``(batch, C, H, W)``, passed through one
    ``Conv2d -> GroupNorm -> ReLU -> MaxPool2d(2)`` block per entry of
    ``channels`` (a spatial side shorter than 2 is no longer pooled), averaged
    over space and projected to ``embed_dim``.

    Parameters
    ----------
    in_features : int
        Number of columns of the modality block; must equal ``C * H * W``.

    shape : tuple of int
        The image shape ``(C, H, W)``.

    embed_dim : int, default=32
        Size of the embedding.

    channels : sequence of int, default=(16, 32)
        Output channels of each convolutional block.

    kernel_size : int, default=3
        Side of the square convolution kernels (same padding).

    dropout : float, default=0.1
        Dropout probability before the final projection, in [0, 1).

    channels_last : bool, default=True
        Whether the columns are the row-major flattening of an
        ``(H, W, C)`` array, as the package's image extractors produce;
        otherwise of a ``(C, H, W)`` array.

    %(encoder_attributes)s

    See Also
    --------
    MLPEncoder : Encoder for a tabular block.
    CNN1dEncoder : Encoder for a flattened multichannel sequence.

    Examples
    --------
    >>> import torch
    >>> from skfusion.deep.encoders import CNN2dEncoder
    >>> encoder = CNN2dEncoder(3 * 8 * 8, shape=(3, 8, 8), embed_dim=16)
    >>> encoder(torch.zeros(2, 192)).shape
    torch.Size([2, 16])
    """

    _n_dims = 3  # (C, H, W)

    def __init__(
        self,
        in_features,
        shape,
        embed_dim=32,
        channels=(16, 32),
        kernel_size=3,
        dropout=0.1,
        channels_last=True,
    ):
        super().__init__(in_features, shape, embed_dim, channels, kernel_size, dropout)
        self.channels_last = bool(channels_last)

    def _unflatten(self, x):
        c, h, w = self.shape
        if self.channels_last:
            return x.reshape(-1, h, w, c).permute(0, 3, 1, 2)
        return x.reshape(-1, c, h, w)


@fill_docstring
class CNN1dEncoder(_ConvEncoder):
    """Small 1-D convolutional encoder for a flattened multichannel sequence.

    The flat block is reshaped to ``(batch, C, L)`` (channels first: the
    first ``L`` columns are channel 0), passed through one
    ``Conv1d -> GroupNorm -> ReLU -> MaxPool1d(2)`` block per entry of
    ``channels`` (a sequence shorter than 2 is no longer pooled), averaged
    over time and projected to ``embed_dim``.

    Parameters
    ----------
    in_features : int
        Number of columns of the modality block; must equal ``C * L``.

    shape : tuple of int
        The sequence shape ``(C, L)``.

    embed_dim : int, default=32
        Size of the embedding.

    channels : sequence of int, default=(16, 32)
        Output channels of each convolutional block.

    kernel_size : int, default=5
        Length of the convolution kernels (same padding).

    dropout : float, default=0.1
        Dropout probability before the final projection, in [0, 1).

    %(encoder_attributes)s

    See Also
    --------
    MLPEncoder : Encoder for a tabular block.
    CNN2dEncoder : Encoder for a flattened image block.

    Examples
    --------
    >>> import torch
    >>> from skfusion.deep.encoders import CNN1dEncoder
    >>> encoder = CNN1dEncoder(2 * 50, shape=(2, 50), embed_dim=16)
    >>> encoder(torch.zeros(3, 100)).shape
    torch.Size([3, 16])
    """

    _n_dims = 2  # (C, L)

    def __init__(
        self,
        in_features,
        shape,
        embed_dim=32,
        channels=(16, 32),
        kernel_size=5,
        dropout=0.1,
    ):
        super().__init__(in_features, shape, embed_dim, channels, kernel_size, dropout)

    def _unflatten(self, x):
        return x.reshape(-1, *self.shape)


_ENCODERS = {"mlp": MLPEncoder, "cnn2d": CNN2dEncoder, "cnn1d": CNN1dEncoder}


def build_encoder(spec, in_features, *, embed_dim, hidden_dim, dropout):
    """Build the encoder of one modality from its specification.

    Parameters
    ----------
    spec : {"mlp", "cnn2d", "cnn1d"}, tuple of (str, dict) or None
        The encoder name, or a ``(name, options)`` pair whose options are
        passed to the encoder class, e.g.
        ``("cnn2d", {"shape": (1, 28, 28), "channels": (8, 16)})``. The
        convolutional encoders need a ``shape`` option. ``None`` means
        ``"mlp"``. ``embed_dim`` cannot be set per modality.

    in_features : int
        Number of columns of the modality block.

    embed_dim : int
        Size of the embedding, shared by all modalities.

    hidden_dim : int
        Hidden width of :class:`MLPEncoder` (an option overrides it).

    dropout : float
        Dropout probability (an option overrides it).

    Returns
    -------
    encoder : nn.Module
        The encoder, mapping ``(batch, in_features)`` to
        ``(batch, embed_dim)``.

    Raises
    ------
    ValueError
        If the name is unknown, an option is unknown, or an option value is
        invalid.

    Examples
    --------
    >>> from skfusion.deep.encoders import build_encoder
    >>> encoder = build_encoder(
    ...     ("cnn2d", {"shape": (1, 4, 4)}), 16, embed_dim=8, hidden_dim=16,
    ...     dropout=0.0,
    ... )
    >>> type(encoder).__name__
    'CNN2dEncoder'
    """
    if spec is None:
        name, options = "mlp", {}
    elif isinstance(spec, str):
        name, options = spec, {}
    elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        name, options = spec
        if options is None:
            options = {}
        if not isinstance(options, Mapping):
            raise ValueError(
                f"The options of encoder {name!r} must be a dict, got "
                f"{type(options).__name__}."
            )
    else:
        raise ValueError(
            "An encoder specification must be a name among "
            f"{sorted(_ENCODERS)}, a (name, options) tuple or None; got {spec!r}."
        )
    if name not in _ENCODERS:
        raise ValueError(
            f"Unknown encoder {name!r}; expected one of {sorted(_ENCODERS)}."
        )
    cls = _ENCODERS[name]
    allowed = set(inspect.signature(cls).parameters) - {"in_features", "embed_dim"}
    for key in options:
        if key == "embed_dim":
            raise ValueError(
                f"Encoder {name!r}: embed_dim is shared by all modalities; set it "
                "on the network, not as an encoder option."
            )
        if key not in allowed:
            raise ValueError(
                f"Encoder {name!r} has no option {key!r}; valid options are "
                f"{sorted(allowed)}."
            )
    if "shape" in allowed and "shape" not in options:
        raise ValueError(
            f"Encoder {name!r} needs a 'shape' option, e.g. "
            f"({name!r}, {{'shape': {(1, 28, 28) if name == 'cnn2d' else (1, 100)}}})."
        )
    kwargs = {"embed_dim": embed_dim, "dropout": dropout}
    if "hidden_dim" in allowed:
        kwargs["hidden_dim"] = hidden_dim
    kwargs.update(options)
    return cls(in_features, **kwargs)
