"""The central tables for the estimator checks: test instances, expected failures.

Every public estimator found by :func:`skfusion.utils.all_estimators` must have
an entry in ``INSTANCES`` (``tests/test_common.py`` fails otherwise). Plain
arrays carry no ``modality__feature`` names, so the instances name their blocks
by position: the first column is one modality, the rest another.
"""

import numpy as np
from sklearn.preprocessing import StandardScaler

from ..compose import ModalityTransformer
from ..extractors import (
    ImageFeatures,
    ImageLoader,
    SentenceEmbedder,
    TextStatistics,
    TorchImageEmbedder,
)
from ..fusion import BlockScaler, FeatureFusion

TWO_BLOCKS = {"first": [0], "rest": slice(1, None)}


class CharacterCountModel:
    """A stand-in text model: character and space counts, fast and picklable."""

    def encode(self, texts, **kwargs):
        return np.array([[len(t), t.count(" ")] for t in texts], dtype=float)

    def __repr__(self):
        return "CharacterCountModel()"


INSTANCES = {
    BlockScaler: [
        BlockScaler(modalities=TWO_BLOCKS),
        BlockScaler(
            modalities=TWO_BLOCKS, block_weights={"rest": 2.0}, add_indicator=True
        ),
    ],
    FeatureFusion: [
        FeatureFusion(modalities=TWO_BLOCKS),
        FeatureFusion("sum", modalities=TWO_BLOCKS),
        FeatureFusion("mean", n_components=1, modalities=TWO_BLOCKS),
        FeatureFusion("product", modalities=TWO_BLOCKS),
        FeatureFusion("concat", n_components=1, modalities=TWO_BLOCKS),
    ],
    TextStatistics: [TextStatistics(), TextStatistics(lowercase=False, n_jobs=2)],
    SentenceEmbedder: [SentenceEmbedder(model=CharacterCountModel(), batch_size=2)],
    ImageLoader: [
        ImageLoader(size=(8, 8)),
        ImageLoader(size=(8, 8), mode="RGB", n_jobs=2),
    ],
    ImageFeatures: [ImageFeatures(size=(32, 32))],
    TorchImageEmbedder: [
        TorchImageEmbedder(
            "torch.nn:Flatten", size=(4, 4), normalize=None, device="cpu"
        )
    ],
    ModalityTransformer: [
        ModalityTransformer([("first_two", StandardScaler(), [0, 1])]),
    ],
}

# {estimator class: {check name: reason}}; kept empty unless a check cannot pass.
_UNCHECKED_PASSTHROUGH = (
    "inherited from ColumnTransformer, which leaves input checks to the "
    "modality transformers (scikit-learn lists the same failure)"
)
EXPECTED_FAILED_CHECKS = {
    ModalityTransformer: dict.fromkeys(
        [
            "check_estimators_empty_data_messages",
            "check_estimators_nan_inf",
            "check_estimator_sparse_array",
            "check_estimator_sparse_matrix",
            "check_fit1d",
            "check_fit2d_predict1d",
            "check_complex_data",
            "check_fit2d_1feature",
        ],
        _UNCHECKED_PASSTHROUGH,
    )
    | {
        "check_dataframe_column_names_consistency": (
            "columns chosen by integer position are not compared by name at "
            "transform, as in ColumnTransformer"
        ),
    },
}


_NOTES = ["No fever. Cough!", None, "Patient denies chest pain", "", "CRP 12 mg/L"]

def _image_column(tmp_path):
    """Grey, colour and float images as array cells, and missing ones."""
    from PIL import Image

    rng = np.random.default_rng(0)
    png = tmp_path / "image.png"
    Image.fromarray(rng.integers(0, 256, (12, 10), dtype=np.uint8)).save(png)
    return [
        rng.random((20, 24)),
        None,
        rng.integers(0, 256, (18, 22, 3), dtype=np.uint8),
        "",
        str(png),
    ]


# {extractor class: callable(tmp_path) -> column with present and missing items}
EXTRACTOR_COLUMNS = {
    ImageLoader: _image_column,
    ImageFeatures: _image_column,
    TorchImageEmbedder: _image_column,
    TextStatistics: lambda tmp_path: list(_NOTES),
    SentenceEmbedder: lambda tmp_path: list(_NOTES),
}


def instances_to_check():
    """Yield every instance of the table, in a stable order."""
    for instances in INSTANCES.values():
        yield from instances


def expected_failed_checks(estimator):
    """The expected failures of one estimator, as parametrize_with_checks wants."""
    return EXPECTED_FAILED_CHECKS.get(type(estimator), {})
