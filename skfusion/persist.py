"""Safe persistence of fitted skfusion objects with :mod:`skops.io`.

A pickle runs whatever code its file names, so a pickled model is only as
safe as its source. skops writes a zip archive of a JSON schema and NumPy
arrays instead, and refuses to load a type it does not trust. skops trusts
scikit-learn's estimators, NumPy arrays and Python's containers by default;
:data:`TRUSTED_TYPES` lists the few more that skfusion's own fitted objects
need. It holds classes only, none of which runs code when loaded: no
function (``builtins.eval``, ``os.system``, ``functools.partial``, a
``torch.load``), so a file that names one is refused.

Torch networks are saved as their weights in NumPy arrays (no
``torch.save`` pickle inside), and rebuilt from the estimator's parameters
at load, on the device the model was fitted on or, where that device is
missing (a GPU-trained model on a CPU-only machine), on the CPU.

A model holding classes of your own, e.g. a
:class:`~skfusion.extractors.TorchImageEmbedder` of your torch module, loads
once you name those classes: ``load(file, trusted=[...])``, after checking
them with :func:`untrusted_types`. Requires ``pip install 'skfusion[persist]'``.
"""

import os

__all__ = ["TRUSTED_TYPES", "dump", "load", "untrusted_types"]

# Types that skfusion's fitted objects hold and skops does not trust by
# default. Every one is a class: loading it creates an instance (or returns
# the class) and runs no code named by the file. No function belongs here.
TRUSTED_TYPES = (
    # skfusion's public estimators, transformers and extractors.
    "skfusion.compose.ModalityTransformer",
    "skfusion.deep.estimators.DeepFusionClassifier",
    "skfusion.deep.estimators.DeepFusionRegressor",
    "skfusion.extractors.audio.AudioFeatures",
    "skfusion.extractors.image.ImageFeatures",
    "skfusion.extractors.image.ImageLoader",
    "skfusion.extractors.image.PretrainedImageEmbedder",
    "skfusion.extractors.image.TorchImageEmbedder",
    "skfusion.extractors.signal.SignalFeatures",
    "skfusion.extractors.text.SentenceEmbedder",
    "skfusion.extractors.text.TextStatistics",
    "skfusion.extractors.video.VideoAudioFeatures",
    "skfusion.extractors.video.VideoFeatures",
    "skfusion.fusion.early.BlockScaler",
    "skfusion.fusion.decision.PrevalenceDecisionClassifier",
    "skfusion.fusion.early.FeatureFusion",
    "skfusion.fusion.kernel.MultipleKernelClassifier",
    "skfusion.fusion.late.LateFusionClassifier",
    "skfusion.fusion.late.LateFusionRegressor",
    "skfusion.fusion.shared.SharedSpace",
    "skfusion.fusion.reduction.WideBlockReducer",
    # The survival models: late fusion of risks, deep fusion with its Cox
    # loss (the default criterion class), the Coxnet tuned by inner CV.
    "skfusion.fusion.survival.LateFusionSurvival",
    "skfusion.fusion.survival._InnerCVCoxnet",
    "skfusion.deep.survival.DeepFusionSurvival",
    "skfusion.deep.survival.CoxPartialLikelihoodLoss",
    # scikit-survival's models and their fitted parts: Cox models, Breslow's
    # baseline and its step functions (arrays), gradient-boosted Cox models.
    "sksurv.linear_model.coxnet.CoxnetSurvivalAnalysis",
    "sksurv.linear_model.coxph.CoxPHSurvivalAnalysis",
    "sksurv.linear_model.coxph.BreslowEstimator",
    "sksurv.functions.StepFunction",
    "sksurv.ensemble.boosting.GradientBoostingSurvivalAnalysis",
    # ... whose loss is a class and whose regression trees hold node arrays.
    "sksurv.ensemble.survival_loss.CoxPH",
    "sklearn.tree._tree.Tree",
    # Steps of the study's default strategies, inside a refitted pipeline:
    # the tabular modality's cell-to-category step (a callable object of
    # FunctionTransformer) and the quantile binning before gradient boosting.
    "skfusion.study._strategies._AsCategories",
    "skfusion.study._binning.QuantileBinning",
    # The per-modality pipelines of the late-fusion estimators scale with it;
    # a multi-label one falls back to a label's prior where the label has one
    # class in the training rows.
    "skfusion.fusion.late._PowerOfTwoScaler",
    "skfusion.fusion.late._PriorIfSingleClass",
    # An extractor's ``root`` given as a path object (rebuilt from its parts).
    "pathlib.PosixPath",
    # Default parameters of the deep estimators (classes, not instances):
    # ``module``, ``dataset``, ``iterator_train`` / ``iterator_valid``.
    "skfusion.deep.module.FusionNet",
    "skfusion.deep.data.BlockDataset",
    "skfusion.deep.data.TensorBatchIterator",
    # Default ``criterion`` and ``optimizer`` of the deep estimators, saved as
    # class references; their weights and state are saved as NumPy arrays.
    "torch.nn.modules.loss.CrossEntropyLoss",
    "torch.nn.modules.loss.MSELoss",
    "torch.optim.adamw.AdamW",
    # The fitted trees of the default gradient boosting (early:hgb).
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    # MultipleKernelClassifier's fitted CalibratedClassifierCV holds these.
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
    # The other inner splitters of the study's default linear models: grouped
    # (fewer folds for fewer groups) and for a regression (KFold).
    "skfusion.study._inner_cv.InnerGroupKFold",
    "skfusion.study._inner_cv.InnerStratifiedGroupKFold",
    "sklearn.model_selection._split.KFold",
    # A SimpleImputer's fitted dtype (``_fit_dtype``), inside late fusion.
    "numpy.dtype",
)

# Trusted names of the types above from earlier skfusion releases, where they
# lived in another module that still imports them: files saved then still load.
_FORMER_TYPE_NAMES = (
    "skfusion.deep.estimators.BlockDataset",
    "skfusion.deep.estimators.TensorBatchIterator",
)


def _skops_io():
    try:
        import skops.io
    except ImportError as exc:
        raise ImportError(
            "skfusion.persist needs the 'skops' package, which is not installed: "
            "pip install 'skfusion[persist]'"
        ) from exc
    return skops.io


def _read(file):
    """The bytes of a saved file, from a path or a binary file object."""
    if hasattr(file, "read"):
        return file.read()
    with open(os.fspath(file), "rb") as handle:
        return handle.read()


def _type_name(value):
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if not isinstance(value, str):
        raise TypeError(f"trusted must hold type names (str) or types; got {value!r}.")
    return value


def dump(obj, file):
    """Save a fitted estimator, transformer or pipeline with skops.

    Parameters
    ----------
    obj : object
        The object to save, e.g. a fitted
        :class:`~skfusion.fusion.LateFusionClassifier` or a ``Pipeline``.

    file : str, path-like or binary file object
        Where to write the skops file (a zip archive; ``.skops`` by
        convention).

    See Also
    --------
    load : Load it back, trusting only :data:`TRUSTED_TYPES`.

    Examples
    --------
    >>> import numpy as np
    >>> from io import BytesIO
    >>> from skfusion.fusion import BlockScaler
    >>> from skfusion.persist import dump, load
    >>> X = np.array([[0.0, 1.0, 2.0], [1.0, 3.0, 5.0], [2.0, 5.0, 7.0]])
    >>> scaler = BlockScaler(modalities={"a": [0], "b": [1, 2]}).fit(X)
    >>> file = BytesIO()
    >>> dump(scaler, file)
    >>> _ = file.seek(0)
    >>> np.array_equal(load(file).transform(X), scaler.transform(X))
    True
    """
    _skops_io().dump(obj, file)


def untrusted_types(file):
    """The types in a skops file that skops does not trust by default.

    Inspect them before loading a file from elsewhere: :func:`load` accepts
    those in :data:`TRUSTED_TYPES` and those you pass as ``trusted``.

    Parameters
    ----------
    file : str, path-like or binary file object
        A file written by :func:`dump` (or :func:`skops.io.dump`).

    Returns
    -------
    types : list of str
        Fully qualified type names, sorted.

    Examples
    --------
    >>> import numpy as np
    >>> from io import BytesIO
    >>> from skfusion.fusion import BlockScaler
    >>> from skfusion.persist import dump, untrusted_types
    >>> X = np.array([[0.0, 1.0, 2.0], [1.0, 3.0, 5.0], [2.0, 5.0, 7.0]])
    >>> file = BytesIO()
    >>> dump(BlockScaler(modalities={"a": [0], "b": [1, 2]}).fit(X), file)
    >>> _ = file.seek(0)
    >>> untrusted_types(file)
    ['skfusion.fusion.early.BlockScaler']
    """
    return sorted(_skops_io().get_untrusted_types(data=_read(file)))


def load(file, trusted=None):
    """Load an object saved by :func:`dump`, refusing any unexpected type.

    Every type of the file that skops does not trust by default must be in
    :data:`TRUSTED_TYPES` or in ``trusted``; otherwise nothing is loaded
    and no code of the file runs.

    Parameters
    ----------
    file : str, path-like or binary file object
        A file written by :func:`dump`.

    trusted : list of str or type, default=None
        Types to trust beyond :data:`TRUSTED_TYPES`: your own classes (a
        torch module of a :class:`~skfusion.extractors.TorchImageEmbedder`
        and its submodules' classes, a custom ``criterion`` or
        ``optimizer`` of a deep estimator). See :func:`untrusted_types`.

    Returns
    -------
    obj : object
        The loaded object. A deep model goes to the device it was fitted
        on, or to the CPU with skorch's ``DeviceWarning`` where that device
        is missing.

    Raises
    ------
    skops.io.exceptions.UntrustedTypesFoundException
        When the file holds a type that is trusted neither by skops, nor by
        :data:`TRUSTED_TYPES`, nor by ``trusted``; the message names them.

    Examples
    --------
    >>> import numpy as np
    >>> from io import BytesIO
    >>> from skfusion.fusion import LateFusionClassifier
    >>> from skfusion.persist import dump, load
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 4))
    >>> y = (X[:, 0] + X[:, 2] > 0).astype(int)
    >>> model = LateFusionClassifier(modalities={"a": [0, 1], "b": [2, 3]})
    >>> model = model.fit(X, y)
    >>> file = BytesIO()
    >>> dump(model, file)
    >>> _ = file.seek(0)
    >>> restored = load(file)
    >>> np.array_equal(restored.predict_proba(X), model.predict_proba(X))
    True
    """
    sio = _skops_io()
    from skops.io.exceptions import UntrustedTypesFoundException

    allowed = [
        *TRUSTED_TYPES,
        *_FORMER_TYPE_NAMES,
        *(_type_name(t) for t in trusted or ()),
    ]
    # Read once: the bytes checked are the bytes loaded, even if the file
    # changes in between.
    data = _read(file)
    refused = set(sio.get_untrusted_types(data=data)) - set(allowed)
    if refused:
        raise UntrustedTypesFoundException(refused)
    return sio.loads(data, trusted=allowed)
