"""Torch device names: the one place where ``device="auto"`` is resolved."""


def resolve_device(device):
    """The torch device to use for a ``device`` parameter.

    Parameters
    ----------
    device : str or None
        ``"auto"`` means CUDA when available, else the CPU; any other torch
        device name is checked and returned as given; None stays None
        (skorch's "leave the module where it is").

    Returns
    -------
    device : str or None
        A concrete device name.
    """
    if device is None:
        return None
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    torch.device(device)  # raises for a malformed name
    return device
