"""FusionNet: per-modality encoders, a fusion layer and a prediction head."""

from collections.abc import Mapping
from numbers import Integral

import torch
from torch import nn

from .encoders import _dropout, build_encoder
from .layers import build_fusion

__all__ = ["FusionNet"]


def _drop_modalities(mask, p):
    """Drop each present modality with probability ``p``, never a whole row.

    Parameters
    ----------
    mask : bool Tensor of shape (batch, n_modalities)
        True where the modality is present.

    p : float
        Probability of dropping each present modality.

    Returns
    -------
    bool Tensor of shape (batch, n_modalities)
        A subset of ``mask``. A row that had a present modality keeps at
        least one, drawn uniformly among its present modalities when all
        were dropped. Only torch's global random generator is used.
    """
    if p <= 0:
        return mask
    kept = mask & (torch.rand(mask.shape, device=mask.device) >= p)
    emptied = mask.any(dim=1) & ~kept.any(dim=1)
    if emptied.any():
        # A uniform draw among the present modalities: argmax of uniform
        # scores restricted to them.
        scores = torch.rand(mask.shape, device=mask.device).masked_fill(~mask, -1.0)
        rescue = nn.functional.one_hot(
            scores.argmax(dim=1), num_classes=mask.shape[1]
        ).bool()
        kept = kept | (rescue & emptied.unsqueeze(1))
    return kept


class FusionNet(nn.Module):
    """Deep fusion network: one encoder per modality, a fusion layer, a head.

    The input is the blocked matrix: the columns of each modality are
    contiguous, in the order of ``modality_dims``. Each block is encoded to an
    embedding of ``embed_dim`` values; the embeddings of missing modalities
    are set to zero (their input values never reach the output); the fusion
    layer combines the embeddings under the availability mask, and a head (one
    hidden layer of ``hidden_dim`` units) maps the fused representation to
    ``n_outputs`` values (class logits or regression targets).

    In training mode, modality dropout removes each present modality of a row
    with probability ``modality_dropout`` (never all of them), which teaches
    the network to predict from any subset of modalities.

    Parameters
    ----------
    modality_dims : list of (str, int)
        Name and number of columns of each modality, in column order.

    encoders : dict of str to encoder specification, default=None
        Encoder of each modality, by name, in the form accepted by
        :func:`skfusion.deep.encoders.build_encoder`: ``"mlp"``,
        ``"cnn2d"``, ``"cnn1d"`` or a ``(name, options)`` tuple such as
        ``("cnn2d", {"shape": (1, 28, 28)})``. Modalities not listed get
        ``"mlp"``; ``None`` gives every modality an MLP.

    fusion : {"concat", "sum", "product", "attention", "gated", "tensor", \
            "lowrank", "shared"}, default="concat"
        The fusion layer, see :mod:`skfusion.deep.layers`.

    embed_dim : int, default=32
        Size of every modality embedding.

    hidden_dim : int, default=64
        Hidden width of the head, of deeper MLP encoders and of the fusion
        layers that have one.

    n_outputs : int, default=2
        Number of outputs of the head.

    dropout : float, default=0.0
        Dropout probability in the encoders and before the head.

    modality_dropout : float, default=0.0
        Probability, in [0, 1), of dropping each present modality of a row in
        training mode.

    rank : int, default=4
        Rank of ``"lowrank"`` fusion.

    Attributes
    ----------
    modality_names : list of str
        Name of each modality.

    encoders : nn.ModuleList
        The encoder of each modality.

    fusion_layer : nn.Module
        The fusion layer.

    head : nn.Sequential
        The prediction head (Linear, ReLU, Dropout, Linear).

    See Also
    --------
    skfusion.deep.layers.build_fusion : The fusion layers.
    skfusion.deep.encoders.build_encoder : The encoders.

    Examples
    --------
    >>> import torch
    >>> from skfusion.deep.module import FusionNet
    >>> _ = torch.manual_seed(0)
    >>> net = FusionNet([("clinical", 5), ("image", 16)],
    ...                 encoders={"image": ("cnn2d", {"shape": (1, 4, 4)})},
    ...                 fusion="attention", embed_dim=8, n_outputs=3)
    >>> x = torch.randn(4, 21)
    >>> mask = torch.tensor([[True, True], [True, False],
    ...                      [False, True], [True, True]])
    >>> net(x, mask).shape
    torch.Size([4, 3])
    >>> net.modality_weights(x, mask)[1]
    tensor([1., 0.])
    """

    def __init__(
        self,
        modality_dims,
        encoders=None,
        fusion="concat",
        embed_dim=32,
        hidden_dim=64,
        n_outputs=2,
        dropout=0.0,
        modality_dropout=0.0,
        rank=4,
    ):
        super().__init__()
        modality_dims = [tuple(item) for item in modality_dims]
        if not modality_dims:
            raise ValueError("modality_dims must name at least one modality.")
        for item in modality_dims:
            if (
                len(item) != 2
                or not isinstance(item[1], Integral)
                or isinstance(item[1], bool)
                or item[1] < 1
            ):
                raise ValueError(
                    "modality_dims must be a list of (name, width) pairs with a "
                    f"positive integer width, got {item!r}."
                )
        names = [str(name) for name, _ in modality_dims]
        if len(set(names)) != len(names):
            raise ValueError(f"Modality names must be unique, got {names}.")
        if encoders is None:
            encoders = {}
        if not isinstance(encoders, Mapping):
            raise ValueError(
                "encoders must be None or a dict mapping modality names to "
                f"encoder specifications, got {type(encoders).__name__}."
            )
        unknown = sorted(set(encoders) - set(names))
        if unknown:
            raise ValueError(
                f"encoders names unknown modalities {unknown}; the modalities "
                f"are {names}."
            )
        if not 0.0 <= float(modality_dropout) < 1.0:
            raise ValueError(
                f"modality_dropout must be in [0, 1), got {modality_dropout!r}."
            )
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")

        self.modality_names = names
        self.widths = [int(width) for _, width in modality_dims]
        self.n_features = sum(self.widths)
        self.modality_dropout = float(modality_dropout)
        self.encoders = nn.ModuleList(
            build_encoder(
                encoders.get(name),
                width,
                embed_dim=embed_dim,
                hidden_dim=hidden_dim,
                dropout=dropout,
            )
            for name, width in zip(names, self.widths, strict=True)
        )
        self.fusion_layer = build_fusion(
            fusion, len(names), embed_dim, hidden_dim, rank=rank, dropout=dropout
        )
        self.dropout = _dropout(dropout)
        # A one-hidden-layer head: with a linear head, layers whose output is a
        # sum of per-modality terms (concat, sum, attention, shared) could not
        # represent a cross-modal interaction at all.
        self.head = nn.Sequential(
            nn.Linear(self.fusion_layer.out_dim, hidden_dim),
            nn.ReLU(),
            _dropout(dropout),
            nn.Linear(hidden_dim, n_outputs),
        )

    def _embed(self, x, mask):
        x = torch.nan_to_num(x)
        blocks = torch.split(x, self.widths, dim=1)
        if mask is None:
            # Every modality present: nothing to mask.
            return torch.stack(
                [
                    encoder(block)
                    for encoder, block in zip(self.encoders, blocks, strict=True)
                ],
                dim=1,
            )
        embeddings = []
        for m, (encoder, block) in enumerate(zip(self.encoders, blocks, strict=True)):
            # A missing block is zeroed before its encoder too, so that huge
            # or infinite values in it cannot turn into NaN.
            block = torch.where(mask[:, m : m + 1], block, 0.0)
            embeddings.append(encoder(block))
        embeddings = torch.stack(embeddings, dim=1)
        return torch.where(mask.unsqueeze(-1), embeddings, 0.0)

    def _check_input(self, x, mask):
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(
                f"x must have shape (batch, {self.n_features}), got {tuple(x.shape)}."
            )
        if mask is None:
            return None
        if mask.shape != (x.shape[0], len(self.widths)):
            raise ValueError(
                f"mask must have shape ({x.shape[0]}, {len(self.widths)}), got "
                f"{tuple(mask.shape)}."
            )
        return mask.bool()

    def forward(self, x, mask=None):
        """Predict a batch.

        Parameters
        ----------
        x : Tensor of shape (batch, n_features)
            The standardised blocked matrix; NaN is replaced by 0.

        mask : bool Tensor of shape (batch, n_modalities), default=None
            True where the modality is present. A row without any present
            modality gets a fused representation of zeros. None means every
            modality of every row is present: no mask arithmetic at all
            (modality dropout, when on, still applies in training mode).

        Returns
        -------
        Tensor of shape (batch, n_outputs)
            The head's outputs (logits for a classifier).
        """
        mask = self._check_input(x, mask)
        if self.training and self.modality_dropout > 0:
            if mask is None:
                mask = torch.ones(
                    (x.shape[0], len(self.widths)), dtype=torch.bool, device=x.device
                )
            mask = _drop_modalities(mask, self.modality_dropout)
        embeddings = self._embed(x, mask)
        fused = self.fusion_layer(embeddings, mask)
        if mask is not None:
            fused = torch.where(mask.any(dim=1, keepdim=True), fused, 0.0)
        return self.head(self.dropout(fused))

    def modality_weights(self, x, mask=None):
        """Per-row weight of each modality, for attention and gated fusion.

        Computed in evaluation mode (no dropout) without gradient.

        Parameters
        ----------
        x : Tensor of shape (batch, n_features)
            The standardised blocked matrix.

        mask : bool Tensor of shape (batch, n_modalities), default=None
            True where the modality is present; None when all are.

        Returns
        -------
        Tensor of shape (batch, n_modalities)
            The attention weights or mean gates: 0 for a missing modality,
            summing to 1 over the present ones.

        Raises
        ------
        ValueError
            If the fusion layer has no weights.
        """
        if not hasattr(self.fusion_layer, "weights"):
            raise ValueError(
                f"{type(self.fusion_layer).__name__} has no modality weights; "
                "only 'attention' and 'gated' fusion have them."
            )
        mask = self._check_input(x, mask)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                return self.fusion_layer.weights(self._embed(x, mask), mask)
        finally:
            self.train(was_training)
