"""Tests of the torch part of deep fusion: encoders, fusion layers, FusionNet."""

import numpy as np
import pytest
import torch

from skfusion.datasets import make_multimodal_classification
from skfusion.deep.encoders import (
    CNN1dEncoder,
    CNN2dEncoder,
    MLPEncoder,
    build_encoder,
)
from skfusion.deep.layers import (
    FUSION_LAYERS,
    LowRankFusion,
    TensorFusion,
    build_fusion,
)
from skfusion.deep.module import FusionNet, _drop_modalities

# Three modalities: a tabular block, an 8x8 grey image, a 2-channel sequence.
MODALITY_DIMS = [("tab", 5), ("img", 64), ("seq", 32)]
CNN_ENCODERS = {
    "img": ("cnn2d", {"shape": (1, 8, 8), "channels": (4, 8)}),
    "seq": ("cnn1d", {"shape": (2, 16), "channels": (4, 8)}),
}
WEIGHTED_LAYERS = ("attention", "gated")
INTERACTION_LAYERS = ("product", "gated", "tensor", "lowrank")


def _net(fusion, encoders=None, **params):
    params = {"embed_dim": 6, "hidden_dim": 8, "n_outputs": 3, **params}
    return FusionNet(MODALITY_DIMS, encoders=encoders, fusion=fusion, **params)


def _batch(n=7, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, sum(width for _, width in MODALITY_DIMS), generator=generator)
    mask = torch.rand(n, len(MODALITY_DIMS), generator=generator) < 0.6
    mask[:, 0] |= ~mask.any(dim=1)  # every row keeps a modality
    mask[0] = True
    return x, mask


@pytest.mark.parametrize("encoders", [None, CNN_ENCODERS], ids=["mlp", "cnn"])
@pytest.mark.parametrize("fusion", FUSION_LAYERS)
def test_output_shape(fusion, encoders):
    torch.manual_seed(0)
    net = _net(fusion, encoders)
    x, mask = _batch()
    for train in (True, False):
        net.train(train)
        out = net(x, mask)
        assert out.shape == (7, 3)
        assert torch.isfinite(out).all()
    # A batch of one row works in both modes (no BatchNorm).
    net.train()
    assert net(x[:1], mask[:1]).shape == (1, 3)


@pytest.mark.parametrize("fusion", FUSION_LAYERS)
def test_layer_out_dim(fusion):
    layer = build_fusion(fusion, 3, 6, 8, rank=2)
    out = layer(torch.randn(4, 3, 6), torch.ones(4, 3, dtype=torch.bool))
    assert out.shape == (4, layer.out_dim)


@pytest.mark.parametrize("fusion", FUSION_LAYERS)
def test_every_parameter_gets_a_gradient(fusion):
    torch.manual_seed(0)
    net = _net(fusion, CNN_ENCODERS, rank=3)
    x, _ = _batch(n=16)
    mask = torch.ones(16, len(MODALITY_DIMS), dtype=torch.bool)
    net.train()
    loss = torch.nn.functional.cross_entropy(
        net(x, mask), torch.arange(16) % 3, reduction="sum"
    )
    loss.backward()
    for name, param in net.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name


def test_lowrank_factors_are_registered_and_trained():
    torch.manual_seed(0)
    net = _net("lowrank", rank=3)
    layer = net.fusion_layer
    assert isinstance(layer, LowRankFusion)
    registered = {id(p) for p in net.parameters()}
    assert len(layer.factors) == len(MODALITY_DIMS)
    for factor in layer.factors:
        assert factor.shape == (3, 6 + 1, 8)
        assert id(factor) in registered
    assert id(layer.fusion_weights) in registered
    assert id(layer.fusion_bias) in registered

    x, _ = _batch(n=16)
    mask = torch.ones(16, len(MODALITY_DIMS), dtype=torch.bool)
    before = [factor.detach().clone() for factor in layer.factors]
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    torch.nn.functional.cross_entropy(net(x, mask), torch.arange(16) % 3).backward()
    for factor in layer.factors:
        assert factor.grad.abs().sum() > 0
    optimizer.step()
    for old, factor in zip(before, layer.factors, strict=True):
        assert not torch.equal(old, factor)


@pytest.mark.parametrize("encoders", [None, CNN_ENCODERS], ids=["mlp", "cnn"])
@pytest.mark.parametrize("fusion", FUSION_LAYERS)
def test_missing_modality_values_do_not_matter(fusion, encoders):
    torch.manual_seed(0)
    net = _net(fusion, encoders, modality_dropout=0.5).eval()
    x, mask = _batch(n=12)
    out = net(x, mask)
    missing_columns = torch.repeat_interleave(
        ~mask, torch.tensor([width for _, width in MODALITY_DIMS]), dim=1
    )
    assert missing_columns.any()
    for garbage in (torch.randn_like(x) * 100, torch.full_like(x, float("nan"))):
        changed = torch.where(missing_columns, garbage, x)
        torch.testing.assert_close(net(changed, mask), out)
    # Present values do matter.
    assert not torch.allclose(net(x + 1.0, mask), out)


@pytest.mark.parametrize("fusion", WEIGHTED_LAYERS)
def test_modality_weights(fusion):
    torch.manual_seed(0)
    net = _net(fusion).train()
    x, mask = _batch(n=20)
    weights = net.modality_weights(x, mask)
    assert net.training  # the mode is restored
    assert weights.shape == mask.shape
    assert not weights.requires_grad
    assert (weights[~mask] == 0).all()
    assert (weights[mask] > 0).all()
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(20))


@pytest.mark.parametrize("fusion", sorted(set(FUSION_LAYERS) - set(WEIGHTED_LAYERS)))
def test_modality_weights_unavailable(fusion):
    net = _net(fusion)
    x, mask = _batch()
    with pytest.raises(ValueError, match="no modality weights"):
        net.modality_weights(x, mask)


def test_drop_modalities_keeps_a_modality_per_row():
    torch.manual_seed(0)
    mask = torch.rand(2000, 4) < 0.7
    mask[:10] = False  # rows without any modality stay empty
    for p in (0.3, 0.99):
        dropped = _drop_modalities(mask, p)
        assert not (dropped & ~mask).any()
        assert torch.equal(dropped.any(dim=1), mask.any(dim=1))
    # With p=0.99 almost every row is rescued by one random present modality.
    dropped = _drop_modalities(mask, 0.99)
    rows = mask.sum(dim=1) == 4
    counts = dropped[rows].float().mean(dim=0)
    assert (counts > 0.15).all()  # the kept modality is drawn uniformly
    assert torch.equal(_drop_modalities(mask, 0.0), mask)


def test_modality_dropout_only_in_training():
    torch.manual_seed(0)
    x, _ = _batch(n=64)
    mask = torch.ones(64, len(MODALITY_DIMS), dtype=torch.bool)
    seen = []

    def hook(module, args):
        seen.append(args[1].clone())

    net = _net("sum", modality_dropout=0.99, dropout=0.0)
    net.fusion_layer.register_forward_pre_hook(hook)
    net.train()(x, mask)
    assert seen[-1].any(dim=1).all()
    assert (seen[-1].sum(dim=1) < len(MODALITY_DIMS)).any()
    net.eval()(x, mask)
    assert torch.equal(seen[-1], mask)

    # p=0 in training mode is the same network as in evaluation mode.
    torch.manual_seed(1)
    out = _net("sum", dropout=0.0).train()(x, mask)
    torch.manual_seed(1)
    plain = _net("sum", dropout=0.0, modality_dropout=0.0).eval()(x, mask)
    torch.testing.assert_close(out, plain)


@pytest.mark.parametrize("fusion", FUSION_LAYERS)
def test_row_without_modality_does_not_crash(fusion):
    torch.manual_seed(0)
    net = _net(fusion, modality_dropout=0.5)
    x, mask = _batch(n=4)
    mask[1] = False
    for train in (True, False):
        out = net.train(train)(x, mask)
        assert torch.isfinite(out).all()
    # Nothing present: the fused representation is zeros, the output the head's.
    with torch.no_grad():
        expected = net.head(torch.zeros(1, net.fusion_layer.out_dim))[0]
    torch.testing.assert_close(out[1], expected)


def test_tensor_fusion_size_cap():
    with pytest.raises(ValueError, match="lowrank"):
        TensorFusion(4, 32, 8)
    with pytest.raises(ValueError, match="lowrank"):
        FusionNet([(f"m{i}", 2) for i in range(5)], fusion="tensor")


def test_product_fusion_ignores_missing():
    layer = build_fusion("product", 3, 2, 4)
    embeddings = torch.tensor([[[2.0, 3.0], [5.0, 7.0], [11.0, 13.0]]])
    out = layer(embeddings, torch.tensor([[True, False, True]]))
    torch.testing.assert_close(out, torch.tensor([[22.0, 39.0]]))


def test_encoders():
    x = torch.arange(2 * 12, dtype=torch.float32).reshape(2, 12)
    assert MLPEncoder(12, embed_dim=5)(x).shape == (2, 5)
    assert CNN2dEncoder(12, (3, 2, 2), embed_dim=5)(x).shape == (2, 5)
    assert CNN1dEncoder(12, (3, 4), embed_dim=5)(x).shape == (2, 5)
    # Images too small to pool, and even kernels, still work.
    assert CNN2dEncoder(12, (3, 1, 4), kernel_size=2)(x).shape == (2, 32)
    assert CNN1dEncoder(12, (12, 1), kernel_size=4)(x).shape == (2, 32)


def test_cnn2d_encoder_reads_channels_last():
    # A (H, W, C) image flattened row-major: channel 1 is all ones.
    image = np.zeros((4, 4, 2), dtype=np.float32)
    image[..., 1] = 1.0
    flat = torch.from_numpy(image.reshape(1, -1))
    encoder = CNN2dEncoder(32, (2, 4, 4), channels=(1,), kernel_size=1)
    with torch.no_grad():
        encoder.features[0].weight.zero_()
        encoder.features[0].weight[0, 1] = 1.0
    seen = []
    encoder.features[0].register_forward_hook(lambda m, args, out: seen.append(args))
    encoder(flat)
    (images,) = seen[0]
    assert images.shape == (1, 2, 4, 4)
    assert (images[0, 0] == 0).all() and (images[0, 1] == 1).all()
    encoder = CNN2dEncoder(32, (2, 4, 4), channels_last=False)
    assert encoder(flat).shape == (1, 32)


@pytest.mark.parametrize(
    "spec, match",
    [
        ("resnet", "Unknown encoder 'resnet'"),
        (("mlp", {"width": 3}), "Encoder 'mlp' has no option 'width'"),
        (("cnn2d", {"shape": (1, 3, 3)}), r"shape \(1, 3, 3\) holds 9 values .* 16"),
        ("cnn2d", "Encoder 'cnn2d' needs a 'shape' option"),
        (("cnn1d", {"shape": (16,)}), "CNN1dEncoder: shape must be a tuple of 2"),
        (("cnn1d", {"shape": (1, 16), "channels": ()}), "CNN1dEncoder: channels"),
        (("mlp", {"embed_dim": 3}), "embed_dim is shared"),
        (("mlp", [1, 2]), "options of encoder 'mlp' must be a dict"),
        (3, "encoder specification"),
    ],
)
def test_build_encoder_errors(spec, match):
    with pytest.raises(ValueError, match=match):
        build_encoder(spec, 16, embed_dim=4, hidden_dim=8, dropout=0.1)


def test_build_encoder_options_override_defaults():
    encoder = build_encoder(
        ("mlp", {"hidden_dim": 3}), 16, embed_dim=4, hidden_dim=8, dropout=0.1
    )
    assert encoder.net[0].out_features == 3
    assert isinstance(
        build_encoder(None, 16, embed_dim=4, hidden_dim=8, dropout=0), MLPEncoder
    )


def test_fusion_net_errors():
    with pytest.raises(ValueError, match="Unknown fusion 'mean'.*lowrank"):
        FusionNet([("a", 2), ("b", 3)], fusion="mean")
    with pytest.raises(ValueError, match=r"unknown modalities \['c'\]"):
        FusionNet([("a", 2), ("b", 3)], encoders={"c": "mlp"})
    with pytest.raises(ValueError, match="unique"):
        FusionNet([("a", 2), ("a", 3)])
    with pytest.raises(ValueError, match="positive integer width"):
        FusionNet([("a", 0)])
    with pytest.raises(ValueError, match="modality_dropout"):
        FusionNet([("a", 2)], modality_dropout=1.0)
    net = FusionNet([("a", 2), ("b", 3)])
    with pytest.raises(ValueError, match=r"shape \(batch, 5\)"):
        net(torch.zeros(2, 4), torch.ones(2, 2, dtype=torch.bool))


@pytest.mark.slow
@pytest.mark.parametrize("fusion", FUSION_LAYERS)
def test_learns_cross_modal_xor(fusion):
    # The label is the XOR of one latent variable per modality: each modality
    # alone is at chance. The interaction layers represent it directly; the
    # others (concat, sum, attention, shared) rely on the head's hidden layer.
    X, y = make_multimodal_classification(
        600,
        modality_sizes=(4, 4),
        informativeness=4.0,
        interaction=True,
        random_state=0,
        as_frame=False,
    )
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    x = torch.tensor(X, dtype=torch.float32)
    target = torch.tensor(y, dtype=torch.long)
    mask = torch.ones(len(y), 2, dtype=torch.bool)
    torch.manual_seed(0)
    net = FusionNet([("m0", 4), ("m1", 4)], fusion=fusion, embed_dim=16, hidden_dim=32)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    net.train()
    for _ in range(150):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(x, mask), target).backward()
        optimizer.step()
    with torch.no_grad():
        accuracy = (net.eval()(x, mask).argmax(dim=1) == target).float().mean()
    assert accuracy >= 0.9, accuracy


@pytest.mark.parametrize("fusion", FUSION_LAYERS)
def test_mask_none_is_every_modality_present(fusion):
    # mask=None skips the mask arithmetic; it must compute what a mask of
    # all-True does, for every fusion layer, in training and evaluation mode.
    torch.manual_seed(0)
    net = FusionNet([("a", 3), ("b", 4), ("c", 2)], fusion=fusion, n_outputs=2)
    net.eval()
    x = torch.randn(5, 9)
    ones = torch.ones(5, 3, dtype=torch.bool)
    torch.testing.assert_close(net(x), net(x, ones))
    if fusion in ("attention", "gated"):
        torch.testing.assert_close(
            net.modality_weights(x), net.modality_weights(x, ones)
        )
    net.train()
    torch.manual_seed(1)
    dropped = net(x)
    torch.manual_seed(1)
    torch.testing.assert_close(dropped, net(x, ones))


def test_mask_none_keeps_modality_dropout():
    # With modality dropout on, a batch without a mask still drops modalities.
    torch.manual_seed(0)
    net = FusionNet([("a", 3), ("b", 3)], modality_dropout=0.5, dropout=0.0)
    x = torch.randn(64, 6)
    net.train()
    torch.manual_seed(2)
    without_mask = net(x)
    torch.manual_seed(2)
    with_mask = net(x, torch.ones(64, 2, dtype=torch.bool))
    torch.testing.assert_close(without_mask, with_mask)
    net.eval()
    assert not torch.allclose(without_mask, net(x))


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_mlp_encoder_layers(n_layers):
    encoder = MLPEncoder(7, embed_dim=5, hidden_dim=9, dropout=0.0, n_layers=n_layers)
    linears = [m for m in encoder.net if isinstance(m, torch.nn.Linear)]
    assert len(linears) == n_layers
    assert linears[0].in_features == 7 and linears[-1].out_features == 5
    # One layer: a rectified embedding; more: a linear projection last.
    assert isinstance(encoder.net[-1], torch.nn.Linear) == (n_layers > 1)
    if n_layers == 1:
        assert (encoder(torch.randn(4, 7)) >= 0).all()
    with pytest.raises(ValueError, match="n_layers must be a positive integer"):
        MLPEncoder(7, n_layers=0)


def test_zero_dropout_builds_no_dropout_layer():
    net = FusionNet([("a", 3), ("b", 3)], dropout=0.0, fusion="shared")
    assert not any(isinstance(m, torch.nn.Dropout) for m in net.modules())
    assert any(
        isinstance(m, torch.nn.Dropout)
        for m in FusionNet([("a", 3)], dropout=0.1).modules()
    )
