"""The central tables for the estimator checks: test instances, expected failures.

Every public estimator found by :func:`skfusion.utils.all_estimators` must have
an entry in ``INSTANCES`` (``tests/test_common.py`` fails otherwise). Plain
arrays carry no ``modality__feature`` names, so the instances name their blocks
by position: the first column is one modality, the rest another.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..compose import ModalityTransformer
from ..deep import DeepFusionClassifier, DeepFusionRegressor, DeepFusionSurvival
from ..extractors import (
    AudioFeatures,
    ImageFeatures,
    ImageLoader,
    PretrainedImageEmbedder,
    SentenceEmbedder,
    SignalFeatures,
    TextStatistics,
    TorchImageEmbedder,
    VideoAudioFeatures,
    VideoFeatures,
)
from ..fusion import (
    BlockScaler,
    FeatureFusion,
    LateFusionClassifier,
    LateFusionRegressor,
    LateFusionSurvival,
    MultipleKernelClassifier,
    PrevalenceDecisionClassifier,
    SharedSpace,
    WideBlockReducer,
)

TWO_BLOCKS = {"first": [0], "rest": slice(1, None)}
# A small network that still learns the checks' tiny problems.
_SMALL_NET = {
    "modalities": TWO_BLOCKS,
    "embed_dim": 8,
    "hidden_dim": 16,
    "lr": 0.05,
    "max_epochs": 25,
    "batch_size": -1,
}


class DelegatingClassifier(ClassifierMixin, BaseEstimator):
    """Base of test classifiers whose ``fit`` sets ``model_``: the rest delegates.

    Tests subclass it to record what ``fit`` receives (rows, groups) and fit
    an ordinary model as ``model_``.
    """

    def _fitted(self, model):
        self.model_ = model
        self.classes_ = model.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def scale_modality(X, modality, factor):
    """A copy of the blocked DataFrame ``X`` with one modality times ``factor``."""
    X = X.copy()
    columns = [c for c in X.columns if c.startswith(f"{modality}__")]
    X[columns] = X[columns] * factor
    return X


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
    PretrainedImageEmbedder: [PretrainedImageEmbedder(device="cpu")],
    AudioFeatures: [
        AudioFeatures(sr=8000, n_mfcc=4, n_mels=8),
        AudioFeatures(
            sr=8000, features=("spectral",), stats=("min", "max"), mono=False
        ),
    ],
    SignalFeatures: [
        SignalFeatures(fs=100.0, bands={"slow": (0.5, 4.0), "fast": (4.0, 30.0)}),
        SignalFeatures(fs=100.0, relative=False, nperseg=64, n_jobs=2),
    ],
    VideoFeatures: [
        VideoFeatures(
            ImageFeatures(size=(16, 16), features=("intensity",)), n_frames=3
        ),
        VideoFeatures(
            ImageFeatures(size=(16, 16), features=("intensity", "colour")),
            frame_rate=4.0,
            stats=("mean", "delta"),
            seek=False,
            audio=AudioFeatures(sr=8000, n_mfcc=4, n_mels=8),
        ),
    ],
    VideoAudioFeatures: [
        VideoAudioFeatures(AudioFeatures(sr=8000, n_mfcc=4, n_mels=8))
    ],
    LateFusionClassifier: [
        LateFusionClassifier(modalities=TWO_BLOCKS),
        LateFusionClassifier(combiner="weighted", cv=3, modalities=TWO_BLOCKS),
        LateFusionClassifier(combiner="product", modalities=TWO_BLOCKS),
        LateFusionClassifier(combiner="stacking", cv=3, modalities=TWO_BLOCKS),
        LateFusionClassifier(combiner="vote", modalities=TWO_BLOCKS),
    ],
    LateFusionRegressor: [
        LateFusionRegressor(modalities=TWO_BLOCKS),
        LateFusionRegressor(combiner="weighted", cv=3, modalities=TWO_BLOCKS),
        LateFusionRegressor(combiner="stacking", cv=3, modalities=TWO_BLOCKS),
    ],
    SharedSpace: [
        SharedSpace(n_components=1, modalities=TWO_BLOCKS),
        SharedSpace(n_components=1, regularization=0.1, modalities=TWO_BLOCKS),
    ],
    WideBlockReducer: [
        WideBlockReducer(modalities=TWO_BLOCKS),
        # The "rest" block counts as wide and is projected.
        WideBlockReducer(
            n_components=1, rows_per_column=1000, modalities=TWO_BLOCKS, random_state=0
        ),
    ],
    MultipleKernelClassifier: [
        MultipleKernelClassifier(modalities=TWO_BLOCKS, random_state=0),
        MultipleKernelClassifier(
            kernel={"first": "linear", "rest": "poly"},
            kernel_params={"rest": {"degree": 2}},
            weights="uniform",
            class_weight="balanced",
            modalities=TWO_BLOCKS,
            random_state=0,
        ),
    ],
    PrevalenceDecisionClassifier: [
        PrevalenceDecisionClassifier(LogisticRegression()),
        PrevalenceDecisionClassifier(
            make_pipeline(StandardScaler(), LogisticRegression()), threshold=0.5
        ),
        # Missing modalities (all-NaN blocks) pass through to late fusion.
        PrevalenceDecisionClassifier(LateFusionClassifier(modalities=TWO_BLOCKS)),
    ],
    DeepFusionClassifier: [
        DeepFusionClassifier(
            fusion="attention",
            **_SMALL_NET,
            n_iter_no_change=5,
            device="cpu",
            random_state=0,
        ),
    ],
    DeepFusionRegressor: [
        DeepFusionRegressor(
            fusion="lowrank",
            **_SMALL_NET,
            early_stopping=False,
            random_state=0,
        ),
    ],
    ModalityTransformer: [
        ModalityTransformer([("first_two", StandardScaler(), [0, 1])]),
    ],
    LateFusionSurvival: [
        LateFusionSurvival(modalities={"a": [0], "b": slice(1, None)}, cv=2),
        LateFusionSurvival(
            combiner="stacking", cv=2, modalities=TWO_BLOCKS, random_state=0
        ),
    ],
    DeepFusionSurvival: [
        DeepFusionSurvival(**_SMALL_NET, early_stopping=False, random_state=0),
    ],
}

# {estimator class: {check name: reason}}; kept empty unless a check cannot pass.
_UNCHECKED_PASSTHROUGH = (
    "inherited from ColumnTransformer, which leaves input checks to the "
    "modality transformers (scikit-learn lists the same failure)"
)
_SKORCH_INIT = {
    "check_no_attributes_set_in_init": (
        "skorch's NeuralNet.__init__ sets history_, initialized_ and virtual_params_"
    ),
}
# Checked instead at a float32 tolerance by check_prediction_batch_invariance.
_FLOAT32_NETWORK = dict.fromkeys(
    ["check_methods_subset_invariance", "check_methods_sample_order_invariance"],
    "float32 matrix products vary with the batch's size and the CPU's kernel "
    "by a few ulps, above the check's atol of 1e-7 / 1e-9",
)
# scikit-learn's checks fit with a 1-D y; a survival model needs the
# structured (event, time) target and refuses any other with a named error.
# tests/test_survival_models.py checks the same properties (fit, predict,
# pickle, scores, missing modalities) with survival targets.
_NEEDS_SURVIVAL_TARGET = dict.fromkeys(
    [
        "check_complex_data",
        "check_dataframe_column_names_consistency",
        "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_dtype_object",
        "check_estimator_sparse_array",
        "check_estimator_sparse_matrix",
        "check_estimator_sparse_tag",
        "check_estimators_dtypes",
        "check_estimators_empty_data_messages",
        "check_estimators_fit_returns_self",
        "check_estimators_overwrite_params",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_fit2d_1feature",
        "check_fit2d_1sample",
        "check_fit2d_predict1d",
        "check_fit_check_is_fitted",
        "check_fit_idempotent",
        "check_fit_score_takes_y",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_n_features_in",
        "check_n_features_in_after_fitting",
        "check_pipeline_consistency",
        "check_positive_only_tag_during_fit",
        "check_readonly_memmap_input",
    ],
    "fits with a 1-D y; a survival model needs a structured (event, time) target",
)
EXPECTED_FAILED_CHECKS = {
    PrevalenceDecisionClassifier: {
        "check_classifier_multioutput": (
            "asserts that a multi-label predict is predict_proba rounded at 0.5; "
            "the rule calls each label at its training prevalence"
        ),
    },
    LateFusionSurvival: _NEEDS_SURVIVAL_TARGET,
    DeepFusionSurvival: _NEEDS_SURVIVAL_TARGET | _SKORCH_INIT,
    DeepFusionClassifier: _SKORCH_INIT | _FLOAT32_NETWORK,
    DeepFusionRegressor: _SKORCH_INIT | _FLOAT32_NETWORK,
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


def _audio_column(tmp_path):
    """A WAV file, in-memory clips (mono, stereo, with a rate) and missing ones."""
    import soundfile

    rng = np.random.default_rng(0)
    t = np.arange(4000) / 8000
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    wav = tmp_path / "tone.wav"
    soundfile.write(wav, np.column_stack([tone, tone[::-1]]), 8000)
    noise = rng.normal(0, 0.1, (2000, 2)).astype(np.float32)
    return [str(wav), None, noise, "", (np.column_stack([tone, tone]), 16000)]


def _signal_column(tmp_path):
    """Two-channel recordings as arrays and a .npy file, and missing ones."""
    rng = np.random.default_rng(0)
    t = np.arange(0, 4, 0.01)
    recording = np.vstack([np.sin(2 * np.pi * 10 * t), np.sin(2 * np.pi * 2 * t)])
    npy = tmp_path / "recording.npy"
    np.save(npy, recording + rng.normal(0, 0.1, recording.shape))
    return [recording, None, str(npy), np.nan, rng.normal(0, 1, (2, 300))]


def write_video(path, frames, rate, *, audio=None, codec="libx264", options=None):
    """Encode frames, and a mono audio track, into a video file with PyAV.

    ``frames`` is a (T, H, W, 3) uint8 array (even H and W for libx264);
    ``audio`` a ``(samples, rate)`` pair of 1-D float samples in [-1, 1],
    encoded as AAC; ``options`` the encoder's options (e.g. ``{"g": "5"}``,
    the keyframe interval of libx264).
    """
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        stream.options = dict(options or {})
        sound = None
        if audio is not None:
            sound = container.add_stream("aac", rate=int(audio[1]), layout="mono")
        for pixels in frames:
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if sound is not None:
            samples = np.asarray(audio[0], dtype=np.float32)[None]
            track = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            track.sample_rate, track.pts = int(audio[1]), 0
            for packet in [*sound.encode(track), *sound.encode()]:
                container.mux(packet)
    return str(path)


def moving_square(n_frames, size=32, seed=0):
    """Frames of a bright square moving over a coloured background, uint8."""
    rng = np.random.default_rng(seed)
    background = rng.integers(0, 256, 3)
    frames = np.empty((n_frames, size, size, 3), dtype=np.uint8)
    frames[:] = background
    for t in range(n_frames):
        corner = (t * 3) % (size - 8)
        frames[t, corner : corner + 8, corner : corner + 8] = 255
    return frames


def _video_column(tmp_path):
    """Videos with an audio track (two lengths and frame rates), missing ones."""
    t = np.arange(8000) / 8000
    paths = [
        write_video(
            tmp_path / f"clip{i}.mp4",
            moving_square(n, seed=i),
            rate,
            audio=(
                0.3 * np.sin(2 * np.pi * (300 + 200 * i) * t[: n * 8000 // rate]),
                8000,
            ),
        )
        for i, (n, rate) in enumerate([(10, 10), (12, 8), (6, 12)])
    ]
    return [paths[0], None, paths[1], "", paths[2]]


# {extractor class: callable(tmp_path) -> column with present and missing items}
EXTRACTOR_COLUMNS = {
    AudioFeatures: _audio_column,
    SignalFeatures: _signal_column,
    VideoFeatures: _video_column,
    VideoAudioFeatures: _video_column,
    ImageLoader: _image_column,
    ImageFeatures: _image_column,
    TorchImageEmbedder: _image_column,
    # A PNG, a missing image, a colour array: each image is a 224 x 224 forward.
    PretrainedImageEmbedder: lambda tmp_path: [
        _image_column(tmp_path)[i] for i in (4, 1, 2)
    ],
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
