"""Deep fusion estimators: :class:`FusionNet` trained with skorch.

``DeepFusionClassifier`` and ``DeepFusionRegressor`` are skorch
:class:`~skorch.NeuralNet` subclasses, so every skorch parameter (``lr``,
``max_epochs``, ``batch_size``, ``optimizer__weight_decay``, ``callbacks``,
...) works as usual and ``GridSearchCV`` tunes them like any scikit-learn
parameter. On top of skorch they take the blocked matrix directly, as clients
of :class:`skfusion.blocks.FusionMixin`: modality groups are resolved from the
column prefixes (or the ``modalities`` mapping), columns are standardised with
training statistics inside ``fit`` (in float64, without overflow: a column of
1e300 or 1e-300 trains as one of 1), missing modalities become availability
masks, and the data go to the network as tensors sliced per batch (no
per-sample indexing and collation, which is where skorch's default data path
spends its time on small networks). Early stopping watches an inner
:class:`skorch.dataset.ValidSplit` of the training rows.
"""

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from scipy.special import expit, softmax
from sklearn.base import ClassifierMixin, RegressorMixin, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping
from skorch.dataset import unpack_data
from skorch.utils import to_device, to_tensor

from ..blocks import FusionMixin, nan_column_statistics, standardize_columns
from ..utils._device import resolve_device
from ..utils._docstrings import fill_docstring
from ..utils._sklearn_compat import (
    Interval,
    Options,
    StrOptions,
    set_training,
    validate_parameter_constraints,
)
from ..utils.validation import encode_class_labels, n_target_columns
from ._epochs import FastEpochMixin
from ._persist import SavedStateMixin, device_name
from .data import (
    BlockDataset,
    NetworkInputsMixin,
    TensorBatchIterator,
    early_stopping_split,
)
from .layers import FUSION_LAYERS
from .module import FusionNet

__all__ = ["DeepFusionClassifier", "DeepFusionRegressor"]


# FusionNet arguments that the estimators set: the hyperparameters from their
# top-level parameters of the same name, the layout from the data.
_MODULE_HYPERPARAMETERS = (
    "fusion",
    "encoders",
    "embed_dim",
    "hidden_dim",
    "dropout",
    "modality_dropout",
    "rank",
)
_MODULE_LAYOUT = ("modality_dims", "n_outputs")


# Rows of an evaluation batch: as many as make about 2**22 input values
# (16 MB of float32), at least ``batch_size``. Evaluation needs no gradient,
# so large batches cost no memory beyond one layer's activations and save the
# per-batch Python work.
_EVALUATION_VALUES = 2**22


def _on_device(tensor, device):
    """``tensor`` on ``device``: itself when it is there (or device is None)."""
    if not isinstance(tensor, torch.Tensor):
        return to_tensor(tensor, device=device)
    # ``Tensor.to`` returns the tensor itself when it is on ``device``.
    return tensor if device is None else tensor.to(device)


def _label_names(y):
    """The string column names of a DataFrame target of several columns."""
    if isinstance(y, pd.DataFrame) and y.shape[1] > 1:
        if all(isinstance(column, str) for column in y.columns):
            return np.asarray(y.columns, dtype=object)
    return None


def _discard_message(*args, **kwargs):
    """A callback sink that drops skorch's messages when ``verbose=0``."""
    return None


@fill_docstring
class _DeepFusionBase(
    FusionMixin, NetworkInputsMixin, FastEpochMixin, SavedStateMixin, NeuralNet
):
    """What the classifier and the regressor share."""

    # The parameters the fusion estimators add to skorch's, or constrain.
    _fusion_parameter_constraints = {
        "fusion": [StrOptions(set(FUSION_LAYERS))],
        "encoders": [dict, None],
        "embed_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "modality_dropout": [Interval(Real, 0, 1, closed="left")],
        "rank": [Interval(Integral, 1, None, closed="left")],
        "modalities": [dict, None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            Options(Integral, {-1}),
        ],
        "verbose": ["verbose"],
        "device": [str, None],
    }

    def __init__(
        self,
        module,
        criterion,
        optimizer=torch.optim.AdamW,
        lr=1e-3,
        max_epochs=100,
        batch_size=64,
        iterator_train=TensorBatchIterator,
        iterator_valid=TensorBatchIterator,
        dataset=BlockDataset,
        train_split=None,
        callbacks=None,
        predict_nonlinearity="auto",
        warm_start=False,
        verbose=0,
        device="auto",
        compile=False,
        use_caching="auto",
        torch_load_kwargs=None,
        *,
        fusion="concat",
        encoders=None,
        embed_dim=32,
        hidden_dim=64,
        dropout=0.0,
        modality_dropout=0.0,
        rank=4,
        modalities=None,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=None,
        **kwargs,
    ):
        # Every parameter the estimators share, with its default, once; a
        # subclass names only the defaults it changes (as skorch's
        # NeuralNetClassifier does).
        super().__init__(
            module,
            criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            iterator_train=iterator_train,
            iterator_valid=iterator_valid,
            dataset=dataset,
            train_split=train_split,
            callbacks=callbacks,
            predict_nonlinearity=predict_nonlinearity,
            warm_start=warm_start,
            verbose=verbose,
            device=device,
            compile=compile,
            use_caching=use_caching,
            torch_load_kwargs=torch_load_kwargs,
            **kwargs,
        )
        self.fusion = fusion
        self.encoders = encoders
        self.embed_dim = embed_dim
        self.hidden_dim = hidden_dim
        self.dropout = dropout
        self.modality_dropout = modality_dropout
        self.rank = rank
        self.modalities = modalities
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state

    # Group labels keep early stopping's split grouped: requested by default,
    # so that a pipeline, a search or a study routes them here.
    __metadata_request__fit = {"groups": True}  # noqa: RUF012 (sklearn's name)

    def _get_param_names(self):
        # skorch 1.4 lists every attribute not ending in "_" as a parameter but
        # misses its own ``_params_to_validate``, which scikit-learn would then
        # clone and set (``check_set_params``); skorch has no hook for this.
        return [n for n in super()._get_param_names() if n != "_params_to_validate"]

    @property
    def _parameter_constraints(self):
        # Every other parameter skorch reports (its own, the prefixed
        # ``module__*``, ``optimizer__*``, ...) is skorch's to validate, which
        # it does when it initialises the net.
        skorch_owned = dict.fromkeys(self.get_params(deep=False), "no_validation")
        return {**skorch_owned, **self._fusion_parameter_constraints}

    # -- fitting ------------------------------------------------------------------

    def fit(self, X, y, groups=None, **fit_params):
        """Standardise, mask, split for early stopping, and train the network.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix; an all-NaN block marks a missing modality.

        y : array-like of shape (n_samples,)
            Targets.

        groups : array-like of shape (n_samples,), default=None
            Group labels (e.g. patients) for the inner early-stopping split,
            which then keeps each group on one side. Requested by default in
            metadata routing: a ``Pipeline`` or a search passes them on.

        **fit_params : dict
            Passed to skorch's ``fit``.

        Returns
        -------
        self : estimator instance
            The fitted estimator.
        """
        validate_parameter_constraints(
            self._parameter_constraints,
            self.get_params(deep=False),
            caller_name=type(self).__name__,
        )
        self._check_module_parameters()
        label_names = _label_names(y)
        X, y = self._validate_blocks(
            X, y, reset=True, y_numeric=False, multi_output=n_target_columns(y) > 1
        )
        targets = self._encode_targets(y)
        if label_names is not None and np.ndim(targets) == 2:
            self.label_names_ = label_names
        present = self._present(X)
        # A column no training row observes standardises to 0 (blocks' rule).
        self._fit_column_statistics(X)
        self.column_order_ = np.concatenate(list(self.modalities_.values()))
        rows = present.any(axis=1)
        if not rows.any():
            raise ValueError(
                f"{type(self).__name__}: every training row misses every modality."
            )
        inputs = self._network_inputs(X[rows], present[rows])
        targets = targets[rows]
        self.device_ = resolve_device(self.device)

        seed = None
        if self.random_state is not None:
            seed = int(check_random_state(self.random_state).randint(2**31 - 1))
            torch.manual_seed(seed)
        self.shuffle_generator_ = torch.Generator()
        if seed is not None:
            self.shuffle_generator_.manual_seed(seed)
        else:
            self.shuffle_generator_.seed()
        self.validation_rows_ = self._inner_split(
            targets, None if groups is None else np.asarray(groups)[rows], seed
        )
        self._train(inputs, targets, initialize=True, **fit_params)
        return self

    def partial_fit(self, X, y, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initialising.

        The first call fits (as :meth:`fit`); later calls keep the network,
        the standardisation, the device and the classes of the first; early
        stopping, when on, watches a fresh inner split of the new rows.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix, with the columns seen in the first call.

        y : array-like of shape (n_samples,)
            Targets.

        classes : array-like, default=None
            Unused; the classes are those of the first call.

        **fit_params : dict
            Passed to skorch's ``partial_fit``.

        Returns
        -------
        self : estimator instance
            The updated estimator.
        """
        if not hasattr(self, "module_") or not self.initialized_:
            return self.fit(X, y, **fit_params)
        X, y = self._validate_blocks(
            X, y, reset=False, y_numeric=False, multi_output=n_target_columns(y) > 1
        )
        targets = self._encode_more_targets(y)
        present = self._present(X)
        rows = present.any(axis=1)
        self.validation_rows_ = self._inner_split(targets[rows], None, None)
        self.shuffle_generator_ = torch.Generator()
        self.shuffle_generator_.seed()
        self.initialize_callbacks()
        self._train(
            self._network_inputs(X[rows], present[rows]),
            targets[rows],
            initialize=False,
            **fit_params,
        )
        return self

    def _train(self, inputs, targets, *, initialize, **fit_params):
        """skorch's training loop on prepared tensors."""
        try:
            if initialize and (not self.warm_start or not self.initialized_):
                self.initialize()
            NeuralNet.partial_fit(
                self, inputs, self._target_tensor(targets), **fit_params
            )
        finally:
            # A generator does not pickle; it is only needed while training.
            self.__dict__.pop("shuffle_generator_", None)

    def _check_module_parameters(self):
        """Refuse ``module__*`` for the FusionNet arguments the estimator sets."""
        given = self.get_params_for("module")
        for name in _MODULE_HYPERPARAMETERS:
            if name in given:
                raise ValueError(
                    f"{type(self).__name__} got module__{name}; set the top-level "
                    f"parameter instead: {type(self).__name__}({name}=...)."
                )
        for name in _MODULE_LAYOUT:
            if name in given:
                raise ValueError(
                    f"{type(self).__name__} got module__{name}, which is set from "
                    "the data in fit; remove it."
                )

    def _inner_split(self, targets, groups, seed):
        """(train, validation) row indices for early stopping, or None."""
        if not self.early_stopping:
            return None
        return early_stopping_split(
            targets,
            groups,
            self.validation_fraction,
            self._stratification_labels(targets),
            seed,
        )

    def _stratification_labels(self, targets):
        """Labels (0, 1, ...) to stratify the early-stopping split on, or None.

        A classifier's encoded classes; a survival model overrides it with
        the event indicator.
        """
        if is_classifier(self) and np.ndim(targets) == 1:
            return targets
        return None

    def get_split_datasets(self, X, y=None, **fit_params):
        """Training and validation datasets: the inner early-stopping split."""
        dataset = self.get_dataset(X, y)
        split = getattr(self, "validation_rows_", None)
        if split is None:
            if self.train_split:
                return self.train_split(dataset, y, **fit_params)
            return dataset, None
        train_rows, valid_rows = split
        if isinstance(dataset, BlockDataset):
            return dataset.rows(train_rows), dataset.rows(valid_rows)
        subset = torch.utils.data.Subset
        return subset(dataset, list(train_rows)), subset(dataset, list(valid_rows))

    def get_iterator(self, dataset, training=False):
        """The batches of ``iterator_train`` or ``iterator_valid``, as in skorch.

        Another iterator (``torch.utils.data.DataLoader``, say) is built as
        skorch builds it, with its ``iterator_train__*`` or
        ``iterator_valid__*`` parameters. The default,
        :class:`TensorBatchIterator`, slices the :class:`BlockDataset` as
        whole tensors on ``device_`` (moved once, here), shuffled when
        training; evaluation runs in batches of about 2**22 input values, at
        least ``batch_size`` rows, unless ``iterator_valid__batch_size``
        says otherwise; data with every modality in every row go to a
        :class:`FusionNet` without a mask. Its prefixed parameters override
        these choices.
        """
        prefix = "iterator_train" if training else "iterator_valid"
        if getattr(self, prefix) is not TensorBatchIterator:
            return super().get_iterator(dataset, training=training)
        if not isinstance(dataset, BlockDataset):
            raise TypeError(
                f"{type(self).__name__}: {prefix}=TensorBatchIterator slices a "
                f"BlockDataset, not a {type(dataset).__name__}; with another "
                f"dataset, give {prefix}=torch.utils.data.DataLoader."
            )
        kwargs = self.get_params_for(prefix)
        dataset = dataset.to(getattr(self, "device_", None))
        chosen = "batch_size" in kwargs
        batch_size = kwargs.pop("batch_size", self.batch_size)
        if batch_size == -1:
            batch_size = len(dataset)
        if not (training or chosen):
            width = max(1, dataset.x.shape[1])
            batch_size = max(batch_size, _EVALUATION_VALUES // width)
        defaults = {
            "shuffle": training,
            "generator": getattr(self, "shuffle_generator_", None),
            # A custom ``module`` may not accept mask=None.
            "omit_mask": dataset.complete
            and isinstance(getattr(self, "module_", None), FusionNet),
        }
        return TensorBatchIterator(dataset, max(1, batch_size), **defaults | kwargs)

    def get_default_callbacks(self):
        """The callbacks every fit has: only those that do something.

        skorch's defaults less the two ``PassthroughScoring`` callbacks
        (:meth:`run_single_epoch` records ``train_loss`` and ``valid_loss``
        itself, and their ``*_best`` flags) and, with ``verbose=0``, less
        ``PrintLog``; plus early stopping on the inner validation rows.
        """
        callbacks = [
            (name, callback)
            for name, callback in super().get_default_callbacks()
            if name not in ("train_loss", "valid_loss")
            and (self.verbose or name != "print_log")
        ]
        if getattr(self, "validation_rows_", None) is not None:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        load_best=True,
                        sink=print if self.verbose else _discard_message,
                    ),
                )
            )
        return callbacks

    def initialize_module(self):
        """Build :class:`FusionNet` for the modalities seen in ``fit``."""
        self._check_module_parameters()
        kwargs = {
            "modality_dims": [
                (name, len(indices)) for name, indices in self.modalities_.items()
            ],
            "encoders": self.encoders,
            "fusion": self.fusion,
            "embed_dim": self.embed_dim,
            "hidden_dim": self.hidden_dim,
            "n_outputs": self._n_outputs(),
            "dropout": self.dropout,
            "modality_dropout": self.modality_dropout,
            "rank": self.rank,
            **self.get_params_for("module"),
        }
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    # -- device -------------------------------------------------------------------
    # ``device_`` is resolved once, in ``fit``; ``device`` keeps the user's value.
    # skorch 1.4 places the module and criterion, moves batches and maps loaded
    # weights with ``self.device`` and cannot parse "auto", so those steps run
    # on ``device_``: the training and inference steps directly, skorch's own
    # ``initialize`` and ``load_params`` on a view of the estimator.

    def infer(self, x, **fit_params):
        """The module's output for a batch, computed on ``device_``."""
        if isinstance(x, dict) and x.keys() == {"x", "mask"}:
            # A batch of TensorBatchIterator (its mask may be None).
            mask = x["mask"]
            if mask is not None:
                mask = _on_device(mask, self.device_)
            return self.module_(_on_device(x["x"], self.device_), mask, **fit_params)
        x = to_tensor(x, device=self.device_)
        if isinstance(x, Mapping):
            return self.module_(**x, **fit_params)
        return self.module_(x, **fit_params)

    def evaluation_step(self, batch, training=False):
        """The module's output for a batch; see skorch's ``evaluation_step``.

        The mode is switched only where the module is not in it already
        (walking every submodule costs more than a small network's pass).
        """
        self.check_is_fitted()
        Xi, _ = unpack_data(batch)
        with torch.set_grad_enabled(training):
            if self.module_.training != training:
                set_training(self, training)
            return self.infer(Xi)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion, with the target on ``device_``."""
        return self.criterion_(y_pred, _on_device(y_true, self.device_))

    def initialize(self):
        """skorch's ``initialize``, with module and criterion on ``device_``.

        :meth:`fit` calls it; the network's layout comes from the data.
        """
        check_is_fitted(self, "device_")
        self._on_fitted_device(NeuralNet.initialize)
        return self

    def load_params(self, *args, **kwargs):
        """skorch's ``load_params`` into a fitted estimator.

        See :meth:`skorch.NeuralNet.load_params`; the weights are mapped to
        ``device_`` with :func:`skorch.utils.get_map_location` (the CPU, with
        a ``DeviceWarning``, where that device is missing).
        """
        check_is_fitted(self, "device_")
        return self._on_fitted_device(NeuralNet.load_params, *args, **kwargs)

    def _on_fitted_device(self, method, *args, **kwargs):
        """Run a skorch method that reads ``self.device`` on ``device_``.

        It runs on a shallow view of the estimator whose ``device`` is
        ``device_``; what it sets is kept, and the device it settled on (skorch
        falls back to the CPU where a device is missing) becomes ``device_``.
        """
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__, device=self.device_)
        result = method(view, *args, **kwargs)
        state = vars(view)
        settled = device_name(state["device"])
        self.__dict__.update(state, device=self.device, device_=settled)
        return None if result is view else result

    # -- prediction ---------------------------------------------------------------

    def _network_outputs(self, X):
        """Network outputs for rows with a modality; mask of those rows."""
        inputs, rows = self._prepared_rows(X)
        outputs = None
        if inputs is not None:
            outputs = self.forward(inputs, training=False).float().numpy()
        return outputs, rows

    def modality_attention(self, X):
        """Per-sample modality weights of the attention or gated fusion layer.

        %(blocked_X)s

        Returns
        -------
        weights : DataFrame of shape (n_samples, n_modalities)
            The weight of each modality in each row (0 where it is missing,
            NaN for rows with no modality).
        """
        inputs, rows = self._prepared_rows(X)
        weights = np.full((rows.size, len(self.modalities_)), np.nan)
        if inputs is not None:
            inputs = to_device(inputs, self.device_)
            # modality_weights runs in evaluation mode without gradients.
            weights[rows] = (
                self.module_.modality_weights(inputs["x"], inputs["mask"]).cpu().numpy()
            )
        index = X.index if hasattr(X, "index") else None
        return pd.DataFrame(weights, columns=list(self.modalities_), index=index)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


@fill_docstring
class DeepFusionClassifier(ClassifierMixin, _DeepFusionBase):
    """Deep fusion classifier: per-modality encoders, a fusion layer, a head.

    A :class:`~skfusion.deep.FusionNet` trained with skorch on the blocked
    matrix. Each modality's block goes through its encoder (an MLP unless
    ``encoders`` says otherwise), the embeddings are fused by ``fusion`` and a
    linear head gives the class scores.

    Missing modalities: a modality missing in a row (all-NaN block) is masked
    out of the fusion layer, never fed to the network as NaN; NaN values in a
    present block are imputed with the training column mean, and a column no
    training row observes is set to 0 (it carries nothing learned). Modality
    dropout (``modality_dropout``) teaches the network to predict from any
    subset. A row with no modality at all gets the training class prior.

    Multi-label targets (a 0/1 indicator matrix, one column per label, such
    as the findings of an X-ray) get one output per label and the binary
    cross-entropy of each (``BCEWithLogitsLoss`` in place of the default
    criterion; with ``class_weight="balanced"`` each label's 0s and 1s are
    weighted on their own); :meth:`predict_proba` gives the probability that
    each label is 1, :meth:`predict` the 0/1 matrix.

    Module hyperparameters have one route: the top-level parameters
    ``fusion``, ``encoders``, ``embed_dim``, ``hidden_dim``, ``dropout``,
    ``modality_dropout`` and ``rank`` (tune them as such in a grid search).
    :meth:`fit` refuses ``module__<name>`` for any of them, and for
    ``module__modality_dims`` and ``module__n_outputs``, which come from the
    data; other ``module__*`` parameters reach a custom ``module`` unchanged.

    Parameters
    ----------
    %(deep_parameters)s

    class_weight : dict, "balanced" or None, default=None
        Class weights of the cross-entropy loss.

    batch_size : int, default=64
        Rows per batch (-1: all rows).

    module, criterion, iterator_train, iterator_valid, dataset, train_split, \
callbacks, predict_nonlinearity, warm_start, compile, use_caching, \
torch_load_kwargs : see :class:`skorch.NeuralNet`
        ``module`` defaults to :class:`~skfusion.deep.FusionNet`,
        ``criterion`` to ``torch.nn.CrossEntropyLoss``.

    **kwargs : dict
        skorch's prefixed parameters (``optimizer__*``, ``callbacks__*``,
        ``module__*`` for a custom ``module``, ...).

    Attributes
    ----------
    module_ : FusionNet
        The trained network.

    classes_ : ndarray of shape (n_classes,) or list of ndarray
        Class labels; for a multi-label target, as for scikit-learn's
        multi-label classifiers, ``n_labels`` arrays ``[0, 1]``.

    class_prior_ : ndarray of shape (n_classes,) or (n_labels,)
        Training class frequencies; for a multi-label target, the training
        frequency of 1 in each label.

    label_names_ : ndarray of shape (n_labels,)
        Column names of a multi-label ``y`` given as a DataFrame with string
        column names; defined only then.

    mean_, scale_ : ndarray of shape (``n_features_in_``,)
        Training column statistics used to standardise the input (mean 0 and
        scale 1 for a column no training row observes).

    n_samples_seen_ : ndarray of shape (``n_features_in_``,)
        Number of training rows observing each column; a column with 0 is
        standardised to 0.

    device_ : str or None
        The torch device the network is on: ``device`` with ``"auto"``
        resolved in :meth:`fit`.

    history_ : skorch History
        Per-epoch losses (``train_loss``, ``valid_loss``).

    %(fitted_blocks)s

    See Also
    --------
    DeepFusionRegressor : The regression counterpart.

    Notes
    -----
    Save and restore: :func:`skfusion.persist.dump` and
    :func:`~skfusion.persist.load` (skops, no pickle: the weights and the
    optimizer's state are saved as NumPy arrays and the network rebuilt at
    load, so ``partial_fit`` continues where it stopped), pickle or joblib
    the whole estimator (the same state), or skorch's
    ``save_params(f_params="model.pt")`` and, on a new estimator with the same
    parameters that has been fitted or initialised on data of the same
    layout, ``load_params(f_params="model.pt")``. Callbacks are rebuilt at
    load, as ``partial_fit`` rebuilds them, and a custom ``module``,
    ``criterion`` or ``optimizer`` class needs ``trusted=[...]`` in
    :func:`~skfusion.persist.load`.

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_classification
    >>> from skfusion.deep import DeepFusionClassifier
    >>> X, y = make_multimodal_classification(
    ...     200, modality_sizes=(5, 5), informativeness=2.0, random_state=0
    ... )
    >>> model = DeepFusionClassifier(
    ...     fusion="attention", max_epochs=20, random_state=0
    ... ).fit(X, y)
    >>> model.predict_proba(X[:2]).shape
    (2, 2)
    >>> list(model.modality_attention(X[:1]).columns)
    ['m0', 'm1']
    """

    _fusion_parameter_constraints = {
        **_DeepFusionBase._fusion_parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        module=FusionNet,
        criterion=torch.nn.CrossEntropyLoss,
        *,
        class_weight=None,
        **kwargs,
    ):
        super().__init__(module, criterion, **kwargs)
        self.class_weight = class_weight

    def predict_proba(self, X):
        """Class probabilities.

        %(blocked_X)s

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or (n_samples, n_labels)
            Softmax of the network's scores; the class prior for rows with
            no modality. For a multi-label target, the sigmoid of each
            label's score: the probability that the label is 1 (its training
            frequency for rows with no modality).
        """
        outputs, rows = self._network_outputs(X)
        # In float64, so that every row sums to 1 to float64 precision.
        network_proba = None
        if outputs is not None:
            outputs = outputs.astype(np.float64)
            network_proba = (
                expit(outputs) if self._is_multilabel() else softmax(outputs, axis=1)
            )
            if rows.all():
                return network_proba
        proba = np.tile(self.class_prior_, (rows.size, 1))
        if network_proba is not None:
            proba[rows] = network_proba
        return proba

    def predict(self, X):
        """Class labels.

        %(blocked_X)s

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            The most probable class of each row; for a multi-label target,
            the 0/1 matrix of the labels whose probability exceeds 0.5.
        """
        check_is_fitted(self, "module_")
        if self._is_multilabel():
            return (self.predict_proba(X) > 0.5).astype(int)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def _is_multilabel(self):
        return isinstance(getattr(self, "classes_", None), list)

    def initialize_criterion(self):
        """Cross-entropy, weighted by ``class_weight`` when given.

        For a multi-label target the default criterion is the binary
        cross-entropy of each label (``BCEWithLogitsLoss``), each label's
        classes weighted on their own.
        """
        kwargs = self.get_params_for("criterion")
        criterion = self.criterion
        if self._is_multilabel():
            if criterion is torch.nn.CrossEntropyLoss:
                criterion = torch.nn.BCEWithLogitsLoss
            if self.class_weight is not None and "weight" not in kwargs:
                # weight * (pos_weight * y * log p + (1 - y) * log(1 - p)):
                # each label's 0s weighted by w0 and its 1s by w1.
                negative, positive = self.class_weights_
                kwargs["weight"] = torch.as_tensor(negative, dtype=torch.float32)
                kwargs["pos_weight"] = torch.as_tensor(
                    positive / negative, dtype=torch.float32
                )
        elif self.class_weight is not None and "weight" not in kwargs:
            kwargs["weight"] = torch.as_tensor(self.class_weights_, dtype=torch.float32)
        self.criterion_ = self.initialized_instance(criterion, kwargs)
        return self

    def _encode_multilabel_targets(self, y):
        """A 0/1 indicator target: ``classes_`` per label, priors, weights."""
        values = np.asarray(y)
        if not np.isin(values, [0, 1]).all():
            raise ValueError(
                f"{type(self).__name__}: a 2-D target must be a 0/1 indicator "
                "matrix (one column per label)."
            )
        values = values.astype(np.float32)
        n_rows = len(values)
        positives = values.sum(axis=0)
        constant = np.flatnonzero((positives == 0) | (positives == n_rows))
        if constant.size:
            raise ValueError(
                f"{type(self).__name__}: label {int(constant[0])} of the "
                "multi-label target has a single value in every training row."
            )
        self.classes_ = [np.array([0, 1])] * values.shape[1]
        self.class_prior_ = positives / n_rows
        if isinstance(self.class_weight, dict):
            raise ValueError(
                f"{type(self).__name__}: class_weight must be 'balanced' or None "
                "for a multi-label target."
            )
        if self.class_weight is not None:
            # "balanced" within each label: n / (2 * count) of its 0s and 1s.
            self.class_weights_ = np.vstack(
                [n_rows / (2 * (n_rows - positives)), n_rows / (2 * positives)]
            )
        return values

    def _encode_targets(self, y):
        # A name of the labels of an earlier fit must not outlive it.
        self.__dict__.pop("label_names_", None)
        if n_target_columns(y) > 1:
            return self._encode_multilabel_targets(y)
        kind = type_of_target(y, input_name="y")
        if kind not in ("binary", "multiclass"):
            check_classification_targets(y)  # scikit-learn's message, if its case
            raise ValueError(
                f"{type(self).__name__} supports binary and multiclass targets; "
                f"got {kind!r}."
            )
        targets = encode_class_labels(self, y)
        self.class_prior_ = np.bincount(targets) / len(targets)
        if self.class_weight is not None:
            self.class_weights_ = compute_class_weight(
                self.class_weight, classes=np.arange(len(self.classes_)), y=targets
            )
        return targets

    def _encode_more_targets(self, y):
        if self._is_multilabel():
            values = np.asarray(y)
            if values.ndim != 2 or values.shape[1] != len(self.classes_):
                raise ValueError(
                    f"{type(self).__name__}.partial_fit needs the "
                    f"{len(self.classes_)} labels of the first fit; got shape "
                    f"{values.shape}."
                )
            if not np.isin(values, [0, 1]).all():
                raise ValueError(
                    f"{type(self).__name__}.partial_fit: labels must be 0 or 1."
                )
            return values.astype(np.float32)
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"{type(self).__name__}.partial_fit got class(es) {unseen.tolist()} "
                f"unseen in the first fit; the classes are {self.classes_.tolist()}."
            )
        return np.searchsorted(self.classes_, y)

    def _target_tensor(self, targets):
        if self._is_multilabel():
            return torch.as_tensor(targets, dtype=torch.float32)
        return torch.as_tensor(targets, dtype=torch.long)

    def _n_outputs(self):
        return len(self.classes_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_label = True
        return tags


class _OneOutputMixin:
    """What the deep estimators with one network output share.

    Left of :class:`_DeepFusionBase` in the regressor and the survival model,
    whose network gives one value per row (a standardised target, a
    log-risk).
    """

    def _n_outputs(self):
        return 1

    def _first_output(self, X, fill):
        """Each row's network output, in float64; ``fill`` where it has no modality."""
        outputs, rows = self._network_outputs(X)
        values = np.full(rows.size, fill, dtype=np.float64)
        if outputs is not None:
            values[rows] = outputs[:, 0]
        return values


@fill_docstring
class DeepFusionRegressor(RegressorMixin, _OneOutputMixin, _DeepFusionBase):
    """Deep fusion regressor: per-modality encoders, a fusion layer, a head.

    The regression counterpart of :class:`DeepFusionClassifier` (see it for
    the fusion layers, encoders, missing modalities, early stopping, devices
    and seeding). The target is standardised inside ``fit`` and the mean
    squared error minimised; a row with no modality at all gets the training
    mean of ``y``.

    Parameters
    ----------
    %(deep_parameters)s

    batch_size : int, default=64
        Rows per batch (-1: all rows).

    module, criterion, iterator_train, iterator_valid, dataset, train_split, \
callbacks, predict_nonlinearity, warm_start, compile, use_caching, \
torch_load_kwargs : see :class:`skorch.NeuralNet`
        ``criterion`` defaults to ``torch.nn.MSELoss``.

    **kwargs : dict
        skorch's prefixed parameters; module hyperparameters only as the
        top-level parameters above, as for :class:`DeepFusionClassifier`.

    Attributes
    ----------
    module_ : FusionNet
        The trained network.

    target_mean_, target_scale_ : float
        Training mean and standard deviation of ``y`` (computed without
        overflow; the scale is 1 for a constant target).

    mean_, scale_, n_samples_seen_ : ndarray of shape (``n_features_in_``,)
        Training column statistics and observed counts, as for
        :class:`DeepFusionClassifier` (a column no training row observes is
        standardised to 0).

    device_ : str or None
        The torch device the network is on.

    history_ : skorch History
        Per-epoch losses.

    %(fitted_blocks)s

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skfusion.deep import DeepFusionRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(100, 4)),
    ...                  columns=["a__x0", "a__x1", "b__x0", "b__x1"])
    >>> y = X["a__x0"] * X["b__x1"]
    >>> model = DeepFusionRegressor(fusion="product", max_epochs=5,
    ...                             random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        module=FusionNet,
        criterion=torch.nn.MSELoss,
        **kwargs,
    ):
        super().__init__(module, criterion, **kwargs)

    def predict(self, X):
        """Predictions.

        %(blocked_X)s

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The network's prediction; the training mean of ``y`` for rows
            with no modality.
        """
        # In float64: float32 would overflow for targets beyond ~3e38. A row
        # with no modality is 0 (the mean) standardised.
        standardized = self._first_output(X, fill=0.0)
        return standardized * self.target_scale_ + self.target_mean_

    def _encode_targets(self, y):
        targets = np.asarray(y, dtype=float)
        if targets.ndim != 1:
            raise ValueError(
                f"{type(self).__name__} supports a 1-D target; got shape "
                f"{targets.shape}."
            )
        # Overflow-free statistics: a target of 1e300 trains as one of 1.
        statistics = nan_column_statistics(targets[:, np.newaxis])
        self.target_mean_ = float(statistics.mean[0])
        self.target_scale_ = float(statistics.scale[0])
        return self._encode_more_targets(targets)

    def _encode_more_targets(self, y):
        return standardize_columns(
            np.asarray(y, dtype=float), self.target_mean_, self.target_scale_
        )

    def _target_tensor(self, targets):
        return torch.as_tensor(targets, dtype=torch.float32).reshape(-1, 1)

    @property
    def predict_proba(self):
        """Not available: a regressor has no class probabilities."""
        raise AttributeError("DeepFusionRegressor has no predict_proba; use predict.")
