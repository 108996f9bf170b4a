"""Fusion layers: combine per-modality embeddings under an availability mask.

Every layer is called as ``layer(embeddings, mask)`` with

- ``embeddings``, a float tensor of shape ``(batch, n_modalities, embed_dim)``
  (the embeddings of missing modalities are zeros, but a layer never lets
  them influence its output), and
- ``mask``, a bool tensor of shape ``(batch, n_modalities)``, True where the
  modality is present, or None when every modality of every row is (the
  layer then skips the masking: no arithmetic for data with nothing
  missing),

and returns a tensor of shape ``(batch, out_dim)``; ``out_dim`` is an
attribute of the layer. A row with no present modality does not raise; the
network zeroes its fused representation.

Followed by a linear head, ``concat``, ``sum`` and ``shared`` give a decision
function that is a sum of per-modality terms, and so does ``attention`` (one
scalar weight per modality); they cannot represent a pure cross-modal
interaction such as an XOR of two modalities. ``product``, ``gated`` (one gate
per hidden unit), ``tensor`` and ``lowrank`` model interactions.
"""

import math
from numbers import Integral

import torch
from torch import nn

from ..utils._docstrings import fill_docstring
from .encoders import _dropout

__all__ = [
    "FUSION_LAYERS",
    "AttentionFusion",
    "ConcatFusion",
    "GatedFusion",
    "LowRankFusion",
    "ProductFusion",
    "SharedFusion",
    "SumFusion",
    "TensorFusion",
    "build_fusion",
]

FUSION_LAYERS = (
    "concat",
    "sum",
    "product",
    "attention",
    "gated",
    "tensor",
    "lowrank",
    "shared",
)

_MAX_TENSOR_SIZE = 1_000_000


def _masked(embeddings, mask):
    if mask is None:
        return embeddings
    # ``where`` rather than a product: 0 * inf would be NaN.
    return torch.where(mask.unsqueeze(-1), embeddings, 0.0)


def _masked_softmax(scores, mask, dim=1):
    """Softmax over the present entries of ``dim``; missing entries get 0.

    A row with no present entry gets all zeros rather than NaN. ``mask=None``
    (everything present) is a plain softmax.
    """
    if mask is None:
        return torch.softmax(scores, dim=dim)
    scores = scores.masked_fill(~mask, float("-inf"))
    any_present = mask.any(dim=dim, keepdim=True)
    scores = torch.where(any_present, scores, 0.0)
    return torch.softmax(scores, dim=dim) * mask


@fill_docstring
class _FusionLayer(nn.Module):
    """Base of the fusion layers: ``forward`` documented once, ``_fuse`` computes.

    Parameters
    ----------
    out_dim : int
        Size of the fused representation.
    """

    def __init__(self, out_dim):
        super().__init__()
        self.out_dim = out_dim

    def forward(self, embeddings, mask):
        """Fuse a batch.

        Parameters
        ----------
        %(fusion_batch)s

        Returns
        -------
        Tensor of shape (batch, out_dim)
            The fused representation.
        """
        return self._fuse(embeddings, mask)


@fill_docstring
class ConcatFusion(_FusionLayer):
    """Concatenate the modality embeddings.

    A missing modality contributes a block of zeros; the layers downstream
    learn what a zero block means.

    Parameters
    ----------
    %(fusion_sizes)s

    Attributes
    ----------
    out_dim : int
        ``n_modalities * embed_dim``.

    Examples
    --------
    >>> import torch
    >>> from skfusion.deep.layers import ConcatFusion
    >>> layer = ConcatFusion(2, 4)
    >>> layer(torch.ones(3, 2, 4), torch.tensor([[True, False]] * 3)).shape
    torch.Size([3, 8])
    """

    def __init__(self, n_modalities, embed_dim):
        super().__init__(n_modalities * embed_dim)

    def _fuse(self, embeddings, mask):
        return _masked(embeddings, mask).flatten(1)


@fill_docstring
class SumFusion(_FusionLayer):
    """Sum the embeddings of the present modalities.

    Parameters
    ----------
    %(fusion_sizes)s

    Attributes
    ----------
    out_dim : int
        ``embed_dim``.

    Examples
    --------
    >>> import torch
    >>> from skfusion.deep.layers import SumFusion
    >>> layer = SumFusion(2, 4)
    >>> layer(torch.ones(1, 2, 4), torch.tensor([[True, False]]))
    tensor([[1., 1., 1., 1.]])
    """

    def __init__(self, n_modalities, embed_dim):
        super().__init__(embed_dim)

    def _fuse(self, embeddings, mask):
        return _masked(embeddings, mask).sum(dim=1)


@fill_docstring
class ProductFusion(_FusionLayer):
    """Element-wise (Hadamard) product of the present modalities' embeddings.

    A missing modality acts as a vector of ones, so the product runs over the
    present modalities only; a row with no present modality fuses to zeros.

    Parameters
    ----------
    %(fusion_sizes)s

    Attributes
    ----------
    out_dim : int
        ``embed_dim``.

    Examples
    --------
    >>> import torch
    >>> from skfusion.deep.layers import ProductFusion
    >>> layer = ProductFusion(2, 2)
    >>> embeddings = torch.tensor([[[2.0, 3.0], [4.0, 5.0]]])
    >>> layer(embeddings, torch.tensor([[True, True]]))
    tensor([[ 8., 15.]])
    >>> layer(embeddings, torch.tensor([[True, False]]))
    tensor([[2., 3.]])
    """

    def __init__(self, n_modalities, embed_dim):
        super().__init__(embed_dim)

    def _fuse(self, embeddings, mask):
        if mask is None:
            return embeddings.prod(dim=1)
        fused = torch.where(mask.unsqueeze(-1), embeddings, 1.0).prod(dim=1)
        return torch.where(mask.any(dim=1, keepdim=True), fused, 0.0)


@fill_docstring
class AttentionFusion(_FusionLayer):
    """Attention-weighted average of the present modalities' embeddings.

    Each modality gets a score ``s_m = v^T tanh(W e_m + b)``; the weights
    ``alpha`` are the softmax of the scores over the present modalities and
    the output is ``sum_m alpha_m e_m``. The weights depend on each row, so
    they say which modality the network relied on for it.

    Parameters
    ----------
    %(fusion_sizes)s

    hidden_dim : int, default=64
        Width of the scoring layer ``W``.

    Attributes
    ----------
    out_dim : int
        ``embed_dim``.

    Examples
    --------
    >>> import torch
    >>> from skfusion.deep.layers import AttentionFusion
    >>> layer = AttentionFusion(3, 4, hidden_dim=8)
    >>> mask = torch.tensor([[True, False, True]])
    >>> alpha = layer.weights(torch.randn(1, 3, 4), mask)
    >>> alpha[0, 1].item(), round(alpha.sum().item(), 5)
    (0.0, 1.0)
    """

    def __init__(self, n_modalities, embed_dim, hidden_dim=64):
        super().__init__(embed_dim)
        self.project = nn.Linear(embed_dim, hidden_dim)
        self.score = nn.Linear(hidden_dim, 1, bias=False)

    def weights(self, embeddings, mask):
        """Attention weight of each modality.

        Parameters
        ----------
        %(fusion_batch)s

        Returns
        -------
        Tensor of shape (batch, n_modalities)
            The weights: 0 for a missing modality, summing to 1 over the
            present ones.
        """
        scores = self.score(torch.tanh(self.project(embeddings))).squeeze(-1)
        return _masked_softmax(scores, mask)

    def _fuse(self, embeddings, mask):
        embeddings = _masked(embeddings, mask)
        alpha = self.weights(embeddings, mask)
        return (alpha.unsqueeze(-1) * embeddings).sum(dim=1)


@fill_docstring
class GatedFusion(_FusionLayer):
    """Gated multimodal unit, generalised to any number of modalities.

    Each modality is projected to ``h_m = tanh(W_m e_m)`` of size
    ``hidden_dim``. A linear layer of the concatenated (masked) embeddings
    gives one gate logit per modality and hidden unit; a softmax over the
    present modalities turns them into gates ``z_m`` that sum to 1 on every
    unit, and the output is ``sum_m z_m * h_m``. With two modalities this is
    the unit of Arevalo et al. (2017), ``z * h_1 + (1 - z) * h_2`` with
    ``z = sigmoid(W_z [e_1; e_2])``. Because the gates depend on all the
    modalities jointly, the unit can model cross-modal interactions.

    Parameters
    ----------
    %(fusion_sizes)s

    hidden_dim : int, default=64
        Size of the projections ``h_m`` and of the output.

    Attributes
    ----------
    out_dim : int
        ``hidden_dim``.

    References
    ----------
    .. [1] J. Arevalo, T. Solorio, M. Montes-y-Gómez and F. A. González,
       "Gated Multimodal Units for Information Fusion", ICLR Workshop, 2017.
       https://arxiv.org/abs/1702.01992

    Examples
    --------
    >>> import torch
    >>> from skfusion.deep.layers import GatedFusion
    >>> layer = GatedFusion(2, 4, hidden_dim=6)
    >>> mask = torch.tensor([[True, True], [False, True]])
    >>> layer(torch.randn(2, 2, 4), mask).shape
    torch.Size([2, 6])
    >>> layer.weights(torch.randn(2, 2, 4), mask)[1].tolist()
    [0.0, 1.0]
    """

    def __init__(self, n_modalities, embed_dim, hidden_dim=64):
        super().__init__(hidden_dim)
        self.n_modalities = n_modalities
        self.hidden_dim = hidden_dim
        # One bias-free projection per modality, stored as one batched weight.
        self.proj_weight = nn.Parameter(
            torch.empty(n_modalities, embed_dim, hidden_dim)
        )
        nn.init.uniform_(
            self.proj_weight, -1.0 / math.sqrt(embed_dim), 1.0 / math.sqrt(embed_dim)
        )
        self.gate = nn.Linear(n_modalities * embed_dim, n_modalities * hidden_dim)

    def _gates(self, embeddings, mask):
        logits = self.gate(embeddings.flatten(1))
        logits = logits.view(-1, self.n_modalities, self.hidden_dim)
        if mask is not None:
            mask = mask.unsqueeze(-1).expand_as(logits)
        return _masked_softmax(logits, mask, dim=1)

    def weights(self, embeddings, mask):
        """Gate of each modality, averaged over the hidden units.

        Parameters
        ----------
        %(fusion_batch)s

        Returns
        -------
        Tensor of shape (batch, n_modalities)
            The mean gates: 0 for a missing modality, summing to 1 over the
            present ones.
        """
        return self._gates(_masked(embeddings, mask), mask).mean(dim=-1)

    def _fuse(self, embeddings, mask):
        embeddings = _masked(embeddings, mask)
        hidden = torch.tanh(torch.einsum("bme,meh->bmh", embeddings, self.proj_weight))
        return (self._gates(embeddings, mask) * hidden).sum(dim=1)


def _append_one(embeddings):
    # [e_m; 1]: the constant keeps every lower-order term of the outer product.
    ones = embeddings.new_ones(*embeddings.shape[:-1], 1)
    return torch.cat([embeddings, ones], dim=-1)


@fill_docstring
class TensorFusion(_FusionLayer):
    """Tensor fusion network: outer product of the augmented embeddings.

    Each embedding is extended with a constant, ``z_m = [e_m; 1]``; the
    outer product ``z_1 ⊗ ... ⊗ z_M`` holds every unimodal, bimodal, ...,
    M-modal product of features, and a linear layer maps it to
    ``hidden_dim`` values (Zadeh et al., 2017). A missing modality has
    ``e_m = 0``: only its constant survives, so the terms that involve it
    vanish.

    The outer product has ``(embed_dim + 1) ** n_modalities`` entries, and the
    linear layer as many weights per output: it grows exponentially with the
    number of modalities. Above 10**6 entries the layer refuses to build; use
    ``"lowrank"`` fusion, its low-rank factorisation, instead.

    Parameters
    ----------
    %(fusion_sizes)s

    hidden_dim : int, default=64
        Size of the output.

    Attributes
    ----------
    out_dim : int
        ``hidden_dim``.

    References
    ----------
    .. [1] A. Zadeh, M. Chen, S. Poria, E. Cambria and L.-P. Morency, "Tensor
       Fusion Network for Multimodal Sentiment Analysis", EMNLP, 2017.
       https://arxiv.org/abs/1707.07250

    Examples
    --------
    >>> import torch
    >>> from skfusion.deep.layers import TensorFusion
    >>> layer = TensorFusion(3, 4, hidden_dim=8)
    >>> layer(torch.randn(2, 3, 4), torch.ones(2, 3, dtype=torch.bool)).shape
    torch.Size([2, 8])
    """

    def __init__(self, n_modalities, embed_dim, hidden_dim=64):
        super().__init__(hidden_dim)
        size = (embed_dim + 1) ** n_modalities
        if size > _MAX_TENSOR_SIZE:
            raise ValueError(
                f"Tensor fusion of {n_modalities} modalities with embed_dim="
                f"{embed_dim} has (embed_dim + 1) ** n_modalities = {size} "
                f"entries, more than {_MAX_TENSOR_SIZE}; use fusion='lowrank' "
                "or a smaller embed_dim."
            )
        self.linear = nn.Linear(size, hidden_dim)

    def _fuse(self, embeddings, mask):
        z = _append_one(_masked(embeddings, mask))
        outer = z[:, 0]
        for m in range(1, z.shape[1]):
            outer = (outer.unsqueeze(-1) * z[:, m].unsqueeze(1)).flatten(1)
        return self.linear(outer)


@fill_docstring
class LowRankFusion(_FusionLayer):
    """Low-rank multimodal fusion: tensor fusion with a rank-``r`` weight.

    The weight of :class:`TensorFusion` is factorised into ``rank``
    modality-specific factors ``W_m`` of shape ``(rank, embed_dim + 1,
    hidden_dim)``. The output is
    ``sum_r w_r * prod_m ([e_m; 1] @ W_m[r]) + b`` (Liu et al., 2018), computed
    without forming the outer product, so the cost grows linearly with the
    number of modalities. A missing modality has ``e_m = 0``.

    The factors are registered parameters (an ``nn.ParameterList``): a
    well-known implementation kept them in a plain Python list, so they were
    never trained.

    Parameters
    ----------
    %(fusion_sizes)s

    hidden_dim : int, default=64
        Size of the output.

    rank : int, default=4
        Rank of the factorisation.

    Attributes
    ----------
    out_dim : int
        ``hidden_dim``.

    factors : nn.ParameterList
        The modality factors, one of shape ``(rank, embed_dim + 1,
        hidden_dim)`` per modality.

    fusion_weights : nn.Parameter of shape (1, rank)
        Weights of the rank-one terms.

    fusion_bias : nn.Parameter of shape (1, hidden_dim)
        Output bias.

    References
    ----------
    .. [1] Z. Liu, Y. Shen, V. B. Lakshminarasimhan, P. P. Liang, A. Zadeh and
       L.-P. Morency, "Efficient Low-rank Multimodal Fusion with
       Modality-Specific Factors", ACL, 2018. https://arxiv.org/abs/1806.00064

    Examples
    --------
    >>> import torch
    >>> from skfusion.deep.layers import LowRankFusion
    >>> layer = LowRankFusion(3, 4, hidden_dim=8, rank=2)
    >>> layer(torch.randn(2, 3, 4), torch.ones(2, 3, dtype=torch.bool)).shape
    torch.Size([2, 8])
    >>> len(list(layer.parameters()))
    5
    """

    def __init__(self, n_modalities, embed_dim, hidden_dim=64, rank=4):
        super().__init__(hidden_dim)
        if isinstance(rank, bool) or not isinstance(rank, Integral) or rank < 1:
            raise ValueError(f"rank must be a positive integer, got {rank!r}.")
        self.rank = rank
        std = 1.0 / math.sqrt(embed_dim + 1)
        self.factors = nn.ParameterList(
            nn.Parameter(torch.randn(rank, embed_dim + 1, hidden_dim) * std)
            for _ in range(n_modalities)
        )
        self.fusion_weights = nn.Parameter(
            torch.randn(1, rank) * math.sqrt(2.0 / (1 + rank))
        )
        self.fusion_bias = nn.Parameter(torch.zeros(1, hidden_dim))

    def _fuse(self, embeddings, mask):
        z = _append_one(_masked(embeddings, mask))
        product = None
        for m, factor in enumerate(self.factors):
            # (batch, E+1) x (rank, E+1, H) -> (batch, rank, H)
            term = torch.einsum("be,reh->brh", z[:, m], factor)
            product = term if product is None else product * term
        return torch.einsum("or,brh->bh", self.fusion_weights, product) + (
            self.fusion_bias
        )


@fill_docstring
class SharedFusion(_FusionLayer):
    """One shared network applied to every modality, averaged over modalities.

    A trunk ``Linear -> ReLU -> Dropout -> Linear`` with the same weights for
    every modality maps each embedding to ``hidden_dim`` values, and the
    output is their mean over the present modalities. Followed by the
    network's linear head this is the average of per-modality predictions
    made by one shared model, so a row missing some modalities is predicted
    from the others without any imputation.

    Parameters
    ----------
    %(fusion_sizes)s

    hidden_dim : int, default=64
        Width of the trunk and size of the output.

    dropout : float, default=0.1
        Dropout probability inside the trunk.

    Attributes
    ----------
    out_dim : int
        ``hidden_dim``.

    Examples
    --------
    >>> import torch
    >>> from skfusion.deep.layers import SharedFusion
    >>> layer = SharedFusion(2, 4, hidden_dim=8)
    >>> layer(torch.randn(5, 2, 4), torch.ones(5, 2, dtype=torch.bool)).shape
    torch.Size([5, 8])
    """

    def __init__(self, n_modalities, embed_dim, hidden_dim=64, dropout=0.1):
        super().__init__(hidden_dim)
        self.trunk = nn.Sequential(
            nn.Linear(embed_dim, hidden_dim),
            nn.ReLU(),
            _dropout(dropout),
            nn.Linear(hidden_dim, hidden_dim),
        )

    def _fuse(self, embeddings, mask):
        if mask is None:
            return self.trunk(embeddings).mean(dim=1)
        outputs = _masked(self.trunk(_masked(embeddings, mask)), mask)
        count = mask.sum(dim=1, keepdim=True).clamp(min=1)
        return outputs.sum(dim=1) / count


@fill_docstring
def build_fusion(name, n_modalities, embed_dim, hidden_dim, *, rank=4, dropout=0.1):
    """Build a fusion layer by name.

    Parameters
    ----------
    name : {"concat", "sum", "product", "attention", "gated", "tensor", \
            "lowrank", "shared"}
        The fusion layer.

    %(fusion_sizes)s

    hidden_dim : int
        Hidden or output size of the layers that have one (attention
        scoring, gated, tensor, lowrank, shared).

    rank : int, default=4
        Rank of ``"lowrank"`` fusion; ignored by the others.

    dropout : float, default=0.1
        Dropout probability inside ``"shared"``; ignored by the others.

    Returns
    -------
    layer : nn.Module
        The layer, with an ``out_dim`` attribute.

    Raises
    ------
    ValueError
        If ``name`` is unknown, or tensor fusion would be too large.

    Examples
    --------
    >>> from skfusion.deep.layers import build_fusion
    >>> build_fusion("concat", 3, 8, 16).out_dim
    24
    >>> build_fusion("lowrank", 3, 8, 16, rank=2).out_dim
    16
    """
    if name == "concat":
        return ConcatFusion(n_modalities, embed_dim)
    if name == "sum":
        return SumFusion(n_modalities, embed_dim)
    if name == "product":
        return ProductFusion(n_modalities, embed_dim)
    if name == "attention":
        return AttentionFusion(n_modalities, embed_dim, hidden_dim)
    if name == "gated":
        return GatedFusion(n_modalities, embed_dim, hidden_dim)
    if name == "tensor":
        return TensorFusion(n_modalities, embed_dim, hidden_dim)
    if name == "lowrank":
        return LowRankFusion(n_modalities, embed_dim, hidden_dim, rank=rank)
    if name == "shared":
        return SharedFusion(n_modalities, embed_dim, hidden_dim, dropout=dropout)
    raise ValueError(
        f"Unknown fusion {name!r}; expected one of {', '.join(FUSION_LAYERS)}."
    )
