"""Small bundled multimodal datasets and synthetic multimodal data generators.

The real datasets ship with the package, with their licences in
``skfusion/datasets/data/LICENSES``; no download is needed.
:func:`load_breast_cancer_modalities` reads the cohort that scikit-survival
ships (the ``survival`` extra).
"""

from ._av_digits import load_av_digits, load_av_digits_findings
from ._av_video import make_av_digit_videos
from ._druglib import load_druglib
from ._survival import load_breast_cancer_modalities, make_multimodal_survival
from ._synthetic import make_multimodal_classification

__all__ = [
    "load_av_digits",
    "load_av_digits_findings",
    "load_breast_cancer_modalities",
    "load_druglib",
    "make_av_digit_videos",
    "make_multimodal_classification",
    "make_multimodal_survival",
]
