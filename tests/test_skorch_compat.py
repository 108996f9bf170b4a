"""The skorch NeuralNet members reached in utils/_sklearn_compat.py, one check each.

Supported: skorch 1.4 (the floor of pyproject.toml, ``skorch>=1.4``) through
the newest release tested here. A check failing after an upgrade names the
helper to fix in that one module.
"""

import warnings

import pytest

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from skfusion.utils import _sklearn_compat as compat  # noqa: E402

SUPPORTED_FROM = (1, 4)


def _net():
    net = skorch.NeuralNet(
        torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5)),
        torch.nn.MSELoss,
        optimizer=torch.optim.SGD,
        lr=0.1,
    )
    return net.initialize()


def test_the_installed_skorch_is_a_supported_one():
    major, minor = (int(part) for part in skorch.__version__.split(".")[:2])
    assert (major, minor) >= SUPPORTED_FROM


def test_component_and_optimizer_names():
    net = _net()
    assert compat.torch_component_names(net) == ["module", "criterion"]
    assert compat.optimizer_names(net) == ["optimizer"]


def test_set_training_switches_the_module_mode():
    net = _net()
    compat.set_training(net, False)
    assert not net.module_.training
    compat.set_training(net, True)
    assert net.module_.training


def test_zero_grad_and_step_the_optimizer():
    net = _net()
    weight = net.module_[0].weight
    before = weight.detach().clone()

    def step():
        compat.zero_grad_optimizer(net)
        loss = net.module_(torch.ones(1, 2)).sum()
        loss.backward()
        return loss

    compat.step_optimizer(net, step)
    assert not torch.equal(before, weight.detach())
    compat.zero_grad_optimizer(net)
    assert weight.grad is None or not weight.grad.any()


def test_check_device_falls_back_to_the_cpu_for_a_missing_device():
    net = _net()
    assert str(compat.check_device(net, "cpu", "cpu")) == "cpu"
    if not torch.cuda.is_available():
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            assert str(compat.check_device(net, "cuda", "cpu")) == "cpu"
