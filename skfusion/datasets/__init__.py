"""Small bundled multimodal datasets and synthetic multimodal data generators.

The real datasets ship with the package, with their licences in
``skfusion/datasets/data/LICENSES``; no download is needed.
"""

from ._av_digits import load_av_digits, load_av_digits_findings
from ._druglib import load_druglib
from ._synthetic import make_multimodal_classification

__all__ = [
    "load_av_digits",
    "load_av_digits_findings",
    "load_druglib",
    "make_multimodal_classification",
]
