"""Docstring fragments that several public classes share, filled in at import.

The way :mod:`scipy.stats` documents its distributions: a docstring holds a
placeholder such as ``%(fitted_blocks)s`` on a line of its own, and
:func:`fill_docstring` replaces it by the fragment, indented like the
placeholder. A shared text is then written (and corrected) once.
"""

import re
import textwrap
import types

__all__ = ["FRAGMENTS", "fill_docstring"]

FRAGMENTS = {
    # How a study's default strategies treat the classes.
    "study_class_weight": """
        class_weight : "balanced" or None, default=None
            Class weights of every default strategy of a classification study
            (the logistic models, gradient boosting, late fusion's models and
            stacker, the deep-fusion loss). ``None`` leaves the classes
            unweighted, so that the predicted risks are calibrated to the
            training prevalence (the Brier score, the calibration and the
            decision curves score them as they are), and handles imbalance at
            the decision: each default strategy predicts the class with the
            largest ratio of predicted risk to its share of the fold's
            training rows (binary: positive when the risk exceeds the
            training prevalence; see
            :class:`~skfusion.fusion.PrevalenceDecisionClassifier`), which the
            balanced accuracy, the accuracy and the other metrics of labels
            score; ``late:mean``'s average of risks is recalibrated on
            out-of-fold predictions (see :func:`default_strategies`).
            ``"balanced"`` weights each class by the inverse of its
            frequency and predicts the class of largest probability: the same
            kind of decision, but risks too high for a minority class (van den
            Goorbergh et al., JAMIA 2022). Strategies given as estimators are
            used as given. The report states the rule.
        """,
    # What the subgroup analyses of a study take.
    "subgroup_inputs": """
        results : StudyResults
            The analysed comparison.

        table : DataFrame
            The study table, holding ``columns``.

        columns : list of str
            The subgroup columns.
        """,
    # The optional evaluation a study runs after its analysis.
    "study_evaluation": """
        subgroup_scores_, subgroup_gaps_ : DataFrame or None
            With ``subgroups``: every strategy's metrics per level
            (``subgroup, level, n_samples, strategy, metric, score, low,
            high``; NaN for a level of fewer than 10 tested rows), and per
            subgroup and strategy the largest gap of the primary score between
            two levels with its bootstrap interval and p-value (``subgroup,
            strategy, metric, best_level, worst_level, gap, low, high,
            p_value``). None otherwise.

        subgroup_calibration_ : DataFrame or None
            With ``subgroups`` and a binary target: calibration in the large
            per level, ``subgroup, level, n_samples, strategy, observed,
            predicted, ratio`` (the observed share of the positive class, the
            mean predicted probability of the first repeat, and observed over
            expected). None otherwise.

        learning_curve_ : DataFrame or None
            With ``learning_curve``: the primary score of each chosen strategy
            refitted on each share of each fold's training rows (whole groups
            with ``groups``, every class kept), scored on the fold's test rows:
            ``strategy, fraction, repeat, fold, n_train, score``; the share 1.0
            is the study's fold score. None otherwise.

        robustness_ : DataFrame or None
            With ``robustness``: each strategy's primary score on each fold
            with one modality it sees withheld from a share of the test rows
            or degraded by Gaussian noise, from the fitted fold models:
            ``strategy, modality, perturbation, level, repeat, fold, score``
            (``perturbation`` ``"withheld"`` with ``level`` the share 0 to 1,
            the share 0 the fold score; or ``"noise"`` with ``level`` the noise's
            standard deviation in training standard deviations). None
            otherwise.
        """,
    # What a study's design is, as FusionStudy and StudyResults hold it.
    "study_design": """
        task_ : {"binary", "multiclass", "multilabel", "regression", "survival"}
            The kind of target: ``"multilabel"`` for a 2-D 0/1 indicator ``y``
            (one column per label, e.g. the findings of an X-ray),
            ``"survival"`` for a structured (event, time) ``y``.

        classes_ : ndarray or None
            Class labels; for a multi-label target the label names (the columns
            of a DataFrame ``y``); None for a regression.

        pos_label_ : object or None
            The positive class of a binary target (None otherwise).

        metrics_ : list of str
            The metrics; ``primary_metric_`` is the first.

        strategies_ : dict of str to estimator
            The (unfitted) estimator of every strategy, in report order.

        strategy_modalities_ : dict of str to tuple of str
            The modalities each strategy sees.

        strategy_kinds_ : dict of str to str
            ``"unimodal"``, ``"early"``, ``"late"``, ``"shared"``, ``"deep"`` or
            ``"custom"``.

        n_samples_, n_groups_ : int
            Rows of the table and number of distinct groups (None without
            groups).
        """,
    # The folds, stored predictions and statistics of a study, as FusionStudy
    # and StudyResults hold them.
    "study_results": """
        label_scores_ : DataFrame or None
            For a multi-label target, each strategy's ROC AUC and average
            precision of each label on the pooled out-of-fold rows (columns
            ``strategy, label, n_positive, roc_auc, average_precision``); None
            otherwise.

        splits_ : list of (ndarray, ndarray)
            Train and test row positions of every fold, repeat after repeat.

        split_ids_ : list of (int, int)
            ``(repeat, fold)`` of each split.

        availability_ : DataFrame of bool
            Which modality each row has (indexed like the table).

        fold_scores_ : DataFrame
            One row per strategy, repeat, fold and metric, with columns
            ``strategy, repeat, fold, metric, score, fit_time, n_train, n_test``.
            Scores follow sklearn's sign: greater is better.

        oof_predictions_ : dict of str to ndarray of shape (n_repeats, n_samples)
            Out-of-fold predictions of each strategy.

        oof_proba_ : dict of str to ndarray or None
            Out-of-fold class probabilities, shape ``(n_repeats, n_samples,
            n_classes)``; None for a regression or a model without
            ``predict_proba``.

        summary_ : DataFrame
            One row per strategy: ``kind``, ``modalities``, and for each metric
            ``<metric>_mean``, ``_std``, ``_ci_low``, ``_ci_high`` (bootstrap 95%
            interval of the fold scores; NaN with a single split), then
            ``<metric>_pooled``, ``_boot_low``, ``_boot_high``: the metric on the
            pooled out-of-fold predictions of all tested rows (mean over
            repeats) and its subject-bootstrap interval (see ``bootstrap_``).
            For a binary target, ``sensitivity`` and ``specificity`` of each
            strategy's pooled predicted labels (its own decision rule, as its
            balanced accuracy scores them), each with ``_boot_low`` and
            ``_boot_high``. Then
            ``brier`` (pooled out-of-fold Brier score) and ``fit_time`` (mean
            seconds per fold).

        bootstrap_ : dict
            How the intervals of the pooled metrics were computed: percentile
            intervals (``confidence``) of ``n_resamples`` resamples of the
            ``n_resampled`` tested ``"rows"`` or ``"groups"`` (``resampled``),
            drawn with replacement, seeded by ``random_state`` (derived from the
            study's: the shuffling seed of the first repeat, or with a splitter
            ``cv`` the study's own draw). Every strategy and repeat is scored on
            the same resamples; a resample's value is the mean over repeats.

        threshold_ : None
            None: the sensitivity and specificity are of each strategy's
            predicted labels (its decision rule), so no single probability
            threshold applies. Kept so that code reading it still runs.

        best_unimodal_ : str or None
            The unimodal strategy with the best primary score, the reference of
            the comparison.

        comparison_ : DataFrame
            Every strategy against ``best_unimodal_``: ``reference``,
            ``difference``, ``t_statistic`` and ``p_value`` of the corrected
            resampled t-test (Nadeau and Bengio) on the primary fold scores (NaN
            with a single split, which gives one paired score), and, for a binary
            target, ``auc``, ``reference_auc``, ``delong_z`` and
            ``delong_p_value`` of DeLong's test on the pooled out-of-fold
            probabilities of the first repeat.

        calibration_ : dict of str to DataFrame
            Reliability table of each strategy (first repeat): the positive class
            of a binary target, the top-label confidence of a multiclass one.

        availability_scores_ : DataFrame
            Primary score of each strategy on the pooled out-of-fold rows of
            each availability pattern (for instance ``clinical+xray``), mean over
            repeats; columns ``strategy, pattern, n_samples, metric, score``.

        decision_curve_ : DataFrame or None
            For a binary target, the net benefit of each strategy (and of
            "treat all" and "treat none") at each decision threshold, from
            the pooled out-of-fold probabilities of the first repeat:
            ``strategy, threshold, net_benefit, low, high`` (subject-bootstrap
            band); None otherwise.
        """,
    # The parameters every deep-fusion estimator shares.
    "deep_parameters": """
        fusion : {"concat", "sum", "product", "attention", "gated", \
"tensor", "lowrank", "shared"}, default="concat"
            The fusion layer (see :mod:`skfusion.deep.layers`).

        encoders : dict of str to encoder spec, default=None
            Encoder per modality: ``"mlp"``, ``"cnn2d"``, ``"cnn1d"`` or
            ``(name, options)``, e.g. ``{"image": ("cnn2d", {"shape": (1, 28,
            28)})}`` for a block produced by ``ImageLoader(size=(28, 28))``.
            Modalities not listed get an MLP.

        embed_dim : int, default=32
            Width of every modality embedding.

        hidden_dim : int, default=64
            Width of the encoders' hidden layer and of the fused representation
            of the tensor, low-rank, gated and shared layers.

        dropout : float, default=0.0
            Dropout in the encoders and before the head. No dropout by default: on
            the four datasets of ``benchmarks/bench_defaults_choices.py
            --architecture`` dropout 0.1 scored no better on average
            (``benchmarks/RESULTS.md``), AdamW's weight decay and early stopping
            regularise already, and on the CPU dropout costs a third of a small
            network's training step.

        modality_dropout : float, default=0.0
            Probability of dropping each present modality of a training row
            (never all of them).

        rank : int, default=4
            Rank of the low-rank fusion layer.

        modalities : dict of str to columns, default=None
            Column groups, see :func:`skfusion.compose.resolve_modalities`.

        early_stopping : bool, default=True
            Hold out ``validation_fraction`` of the training rows (stratified, or
            by group when ``groups`` is passed to :meth:`fit`) and stop when their
            loss has not improved for ``n_iter_no_change`` epochs, keeping the
            best weights. Never looks at data outside ``fit``.

        validation_fraction : float, default=0.1
            Share of training rows held out for early stopping.

        n_iter_no_change : int, default=10
            Patience of early stopping, in epochs.

        random_state : int, RandomState instance or None, default=None
            Seeds module initialisation, dropout (torch's global generator is
            seeded in ``fit``), batch shuffling and the validation split. Two
            fits with the same seed give identical predictions on CPU.

        optimizer : torch optimizer class, default=torch.optim.AdamW
            Tune its options as ``optimizer__weight_decay`` etc.

        lr : float, default=1e-3
            Learning rate.

        max_epochs : int, default=100
            Maximum number of epochs.

        device : str or None, default="auto"
            ``"auto"`` trains on CUDA when available, else on the CPU; any torch
            device string otherwise. Resolved in :meth:`fit` into ``device_``;
            the parameter keeps its value. A model trained on a GPU unpickles on
            a CPU-only machine (on the CPU, with skorch's ``DeviceWarning``).

        verbose : int, default=0
            skorch's epoch log when 1.
        """,
    # The parameters of the study's grouped inner splitters.
    "inner_folds": """
        Parameters
        ----------
        n_splits : int, default=5
            Number of folds when the rows hold at least that many groups.

        shuffle : bool, default=False
            Shuffle the groups before splitting.

        random_state : int, RandomState instance or None, default=None
            Seed of the shuffling.
        """,
    # The sizes every fusion layer of skfusion.deep.layers is built from.
    "fusion_sizes": """
        n_modalities : int
            Number of modalities.

        embed_dim : int
            Size of each embedding.
        """,
    # What every encoder of skfusion.deep.encoders sets.
    "encoder_attributes": """
        Attributes
        ----------
        out_features : int
            Size of the embedding, ``embed_dim``.
        """,
    # How the late-fusion classifier and regressor refit a self-tuning model
    # in the folds of their out-of-fold predictions (the end of ``cv``).
    "late_fusion_refits": """
        A per-modality model that tunes itself (``LogisticRegressionCV``,
        ``RidgeCV``, a refitted search, also as a pipeline step) is not tuned
        again in every fold: each fold refits it with the hyperparameters it
        chose on all the training rows (its ``C_``, ``alpha_`` or
        ``best_params_``), which costs one fit instead of a whole search.
        """,
    # The last parameters of the late-fusion classifier and regressor.
    "late_fusion_options": """
        modalities : dict of str to columns, default=None
            Column groups, see :func:`skfusion.blocks.resolve_modalities`.

        n_jobs : int, default=None
            Modalities fitted in parallel.

        random_state : int, RandomState instance or None, default=None
            Seeds the shuffling of the out-of-fold splits.
        """,
    # The batch every fusion layer of skfusion.deep.layers is called on.
    "fusion_batch": """
        embeddings : Tensor of shape (batch, n_modalities, embed_dim)
            The modality embeddings.

        mask : bool Tensor of shape (batch, n_modalities) or None
            True where the modality is present; None when every modality of
            every row is (the layer then does no masking at all).
        """,
    # Attributes that validate_blocked_data sets on every fusion estimator.
    "fitted_blocks": """
        modalities_ : dict of str to ndarray of int
            Column positions of each modality.

        n_features_in_ : int
            Number of columns seen in :meth:`fit`.

        feature_names_in_ : ndarray of shape (``n_features_in_``,)
            Column names seen in :meth:`fit`, when ``X`` had string column names.
        """,
    # The one parameter of a fitted estimator's predict, transform and the like.
    "blocked_X": """
        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix.
        """,
    # The blocked matrix as the X of a transformer's fit.
    "blocked_X_unsupervised": """
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix; NaN marks missing values and modalities.

        y : None
            Ignored.
        """,
    # Parameters every extractor takes from BaseExtractor.
    "extractor_jobs": """
        n_jobs : int, default=None
            Number of joblib workers; None means 1.

        verbose : bool, default=False
            Show a progress bar.
        """,
    # Reading options of the image extractors beyond ImageLoader.
    "image_reading": """
        volume : {"middle", "mip", "mean"}, default="middle"
            How a 3-D volume becomes an image; see :class:`ImageLoader`.

        axis : int, default=2
            Volume axis that slices are taken along or projected over.

        window : {"auto", "minmax"} or (center, width), default="auto"
            Intensity window of DICOM and NIfTI inputs; see :class:`ImageLoader`.

        max_pixels : int, default=2**27
            Refuse an image with more pixels (voxels), checked before decoding.
        """,
    "image_on_error": """
        on_error : {"raise", "nan"}, default="raise"
            An unreadable file, or an input holding NaN or infinite pixel
            values, raises a ValueError naming the extractor, the row and the
            path (or the array's shape), or (``"nan"``) gives a NaN row and one
            warning.
        """,
    # Batching of the torch image embedders.
    "embedder_batches": """
        batch_size : int, default=32
            Images per forward pass.

        n_jobs : int, default=None
            Threads that read images; None means 1. The model itself always
            runs in this process.

        verbose : bool, default=False
            Show a progress bar.
        """,
    "extractor_files": """
        root : str or path-like, default=None
            Directory that relative paths resolve under and that every file must
            lie in.

        max_file_bytes : int, default=512 MiB
            Files larger than this are refused before they are read; None means
            no limit.
        """,
    # What the two video extractors do with a bad file, and where files lie.
    "video_files": """
        on_error : {"raise", "nan"}, default="raise"
            An unreadable, corrupt, truncated or oversized file raises a
            ValueError naming the extractor, the row and the path, or
            (``"nan"``) gives a NaN row and one warning. A path outside
            ``root`` always raises.

        root : str or path-like, default=None
            Directory that relative paths resolve under and that every file
            must lie in.

        max_file_bytes : int, default=2**32
            Files larger than this (4 GiB) are refused before they are
            opened; None means no limit.
        """,
    # The one parameter of the study's analysis, plotting and report helpers.
    "fitted_study": """
        Parameters
        ----------
        study : FusionStudy
            A fitted study.
        """,
    # The seed of the study's bootstrap intervals.
    "resampling_random_state": """
        random_state : int, RandomState instance or None, default=None
            Controls the resampling. Pass an int for reproducible output across
            multiple function calls.
        """,
    # The one parameter of the study's availability summaries.
    "availability_table": """
        Parameters
        ----------
        availability : DataFrame of shape (n_samples, n_modalities)
            Boolean table, one column per modality.
        """,
    # The size of the data the synthetic multimodal generators make.
    "generated_sizes": """
        n_samples : int, default=200
            Number of rows.

        modality_sizes : sequence of int, default=(10, 10)
            Number of features of each modality block.
        """,
    # The option of the bundled-dataset loaders that skips the Bunch.
    "loader_return_X_y": """
        return_X_y : bool, default=False
            If True, return ``(data, target)`` instead of a Bunch.
        """,
    # The Bunch fields every bundled-dataset loader fills the same way, and
    # the tuple returned instead; placed at the indentation of ``Returns``.
    "loader_bunch_fields": """
            feature_names : list of str
                The columns of ``data``.
            modalities : dict of str to list of str
                Suggested grouping of the columns of ``data`` into modalities
                (the keys are the modality names).
            DESCR : str
                Description of the dataset: its sources, licences and citations.

        (data, target) : tuple if ``return_X_y`` is True
        """,
}

_PLACEHOLDER = re.compile(
    r"^(?P<indent>[ \t]*)%\((?P<name>\w+)\)s[ \t]*$", re.MULTILINE
)


# The torch embedders also embed a volume slice by slice.
FRAGMENTS["embedder_reading"] = FRAGMENTS["image_reading"].replace(
    """volume : {"middle", "mip", "mean"}, default="middle"
            How a 3-D volume becomes an image; see :class:`ImageLoader`.""",
    """volume : {"middle", "mip", "mean", "slices"}, default="middle"
            How a 3-D volume becomes an image; see :class:`ImageLoader`.
            ``"slices"`` embeds up to 16 slices along ``axis`` and averages
            their embeddings; see :class:`TorchImageEmbedder`.""",
)


def fill_docstring(obj):
    """Replace each ``%(name)s`` line of ``obj.__doc__`` by ``FRAGMENTS[name]``.

    On a class, the docstrings of the methods it defines are filled too.

    Parameters
    ----------
    obj : class or function
        Its docstring holds placeholders, each alone on its line.

    Returns
    -------
    obj : class or function
        The same object, its docstring filled in.

    Raises
    ------
    KeyError
        For a placeholder that names no fragment.

    Examples
    --------
    >>> from skfusion.utils._docstrings import fill_docstring
    >>> @fill_docstring
    ... class Example:
    ...     '''Attributes
    ...
    ...     %(fitted_blocks)s
    ...     '''
    >>> Example.__doc__.splitlines()[2]
    '    modalities_ : dict of str to ndarray of int'
    """

    def fill(match):
        fragment = textwrap.dedent(FRAGMENTS[match["name"]]).strip("\n")
        return textwrap.indent(fragment, match["indent"], lambda line: line.strip())

    if obj.__doc__:
        obj.__doc__ = _PLACEHOLDER.sub(fill, obj.__doc__)
    if isinstance(obj, type):
        for member in vars(obj).values():
            if isinstance(member, types.FunctionType) and member.__doc__:
                member.__doc__ = _PLACEHOLDER.sub(fill, member.__doc__)
    return obj
