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
}

_PLACEHOLDER = re.compile(
    r"^(?P<indent>[ \t]*)%\((?P<name>\w+)\)s[ \t]*$", re.MULTILINE
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
