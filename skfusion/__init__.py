"""skfusion: multimodal learning and fusion with the scikit-learn API.

A study table (one row per subject, media as path or text columns) becomes a
blocked matrix through :func:`~skfusion.compose.make_modality_transformer`,
and every fusion strategy in :mod:`skfusion.fusion` consumes that matrix.

Submodules are imported on first use, so ``import skfusion`` stays fast and
never imports torch or skorch.
"""

import importlib

__version__ = "0.1.0.dev0"

_SUBMODULES = [
    "blocks",
    "cli",
    "compose",
    "datasets",
    "deep",
    "extractors",
    "fusion",
    "inspection",
    "persist",
    "study",
    "utils",
]

__all__ = [*_SUBMODULES, "__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"skfusion.{name}")
    raise AttributeError(f"module 'skfusion' has no attribute {name!r}")


def __dir__():
    return __all__
