"""Modality extractors: one column of paths, texts or arrays to a float block.

Every extractor is a scikit-learn transformer over a single column of the
study table, meant to sit inside
:func:`~skfusion.compose.make_modality_transformer`. Missing inputs (None,
NaN, empty string) give all-NaN rows; unreadable files raise an error naming
the extractor, the row and the path, or give NaN rows with
``on_error="nan"``.
"""

from ._base import BaseExtractor
from ._io import PathOutsideRootError, check_file, is_missing, resolve_path
from .audio import AudioFeatures
from .image import (
    ImageFeatures,
    ImageLoader,
    PretrainedImageEmbedder,
    TorchImageEmbedder,
)
from .signal import SignalFeatures
from .text import SentenceEmbedder, TextStatistics
from .video import VideoAudioFeatures, VideoFeatures

__all__ = [
    "AudioFeatures",
    "BaseExtractor",
    "ImageFeatures",
    "ImageLoader",
    "PretrainedImageEmbedder",
    "SentenceEmbedder",
    "SignalFeatures",
    "TextStatistics",
    "TorchImageEmbedder",
    "VideoAudioFeatures",
    "VideoFeatures",
    "PathOutsideRootError",
    "check_file",
    "is_missing",
    "resolve_path",
]
