"""Decision-level (late) fusion: one model per modality, then combine outputs.

Each modality gets its own model, fitted only on the training rows where that
modality is present; their outputs are combined by a fixed rule (mean,
product, vote), by weights fitted on out-of-fold predictions, or by a final
estimator (stacking). A row's missing modalities are simply left out of the
combination, which is why late fusion is the natural strategy when many
subjects lack a modality.
"""

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
    clone,
    is_classifier,
)
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV
from sklearn.model_selection import KFold, StratifiedKFold, check_cv
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from ..blocks import FusionMixin, MissingModalityWarning
from ..utils._docstrings import fill_docstring
from ..utils._sklearn_compat import HasMethods, StrOptions, fit_context
from ..utils.validation import encode_class_labels, n_target_columns, preview
from ._tuned import with_chosen_hyperparameters

__all__ = ["LateFusionClassifier", "LateFusionRegressor", "make_modality_pipeline"]

_PREFIX = "modality_estimators__"


class _BaseLateFusion(FusionMixin, BaseEstimator):
    """Shared machinery of the late-fusion classifier and regressor."""

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "modality_estimators": [dict, None],
        "final_estimator": [HasMethods(["fit", "predict"]), None],
        "cv": ["cv_object"],
        "modalities": [dict, None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    # The classifier and the regressor take the same parameters.
    def __init__(
        self,
        estimator=None,
        *,
        modality_estimators=None,
        combiner="mean",
        final_estimator=None,
        cv=5,
        modalities=None,
        n_jobs=None,
        random_state=None,
    ):
        self.estimator = estimator
        self.modality_estimators = modality_estimators
        self.combiner = combiner
        self.final_estimator = final_estimator
        self.cv = cv
        self.modalities = modalities
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- parameters: modality_estimators__<modality>__<param> -------------------------

    def get_params(self, deep=True):
        """Parameters of this estimator, with per-modality estimators nested.

        With ``deep=True``, each entry of ``modality_estimators`` is exposed as
        ``modality_estimators__<modality>`` and its own parameters as
        ``modality_estimators__<modality>__<param>``, so that a grid search can
        tune one modality's model.

        Parameters
        ----------
        deep : bool, default=True
            Include the parameters of the sub-estimators.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        if deep and isinstance(self.modality_estimators, dict):
            for modality, estimator in self.modality_estimators.items():
                params[f"{_PREFIX}{modality}"] = estimator
                if hasattr(estimator, "get_params"):
                    for key, value in estimator.get_params(deep=True).items():
                        params[f"{_PREFIX}{modality}__{key}"] = value
        return params

    def set_params(self, **params):
        """Set parameters, including ``modality_estimators__<modality>[__<param>]``.

        Parameters
        ----------
        **params : dict
            Parameters to set.

        Returns
        -------
        self : estimator instance
            This estimator.
        """
        nested = {
            key: params.pop(key) for key in list(params) if key.startswith(_PREFIX)
        }
        if "modality_estimators" in params:
            super().set_params(modality_estimators=params.pop("modality_estimators"))
        if nested:
            estimators = dict(self.modality_estimators or {})
            by_modality = {}
            for key, value in nested.items():
                modality, _, sub_key = key[len(_PREFIX) :].partition("__")
                if not sub_key:
                    estimators[modality] = value
                else:
                    by_modality.setdefault(modality, {})[sub_key] = value
            for modality, sub_params in by_modality.items():
                if modality not in estimators:
                    raise ValueError(
                        f"Cannot set {sorted(sub_params)} of modality {modality!r}: "
                        "it has no entry in modality_estimators. Set "
                        f"modality_estimators__{modality}=<estimator> first."
                    )
                estimators[modality].set_params(**sub_params)
            self.modality_estimators = estimators
        return super().set_params(**params)

    # -- fitting ----------------------------------------------------------------------

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit one model per modality and the combination.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The blocked matrix; an all-NaN block marks a missing modality.

        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            A classifier's class labels, or a 0/1 indicator matrix for a
            multi-label target (a DataFrame's column names are kept as
            ``label_names_``); a regressor's targets.

        Returns
        -------
        self : estimator instance
            The fitted estimator.
        """
        y_given = y
        X, y = self._validate_blocks(X, y, reset=True, **self._target_checks(y))
        present = self._present(X)
        self._check_modality_estimators()
        trained = present.any(axis=0)
        if not trained.any():
            raise ValueError(
                f"{type(self).__name__}: every modality is missing in every "
                "training row."
            )
        if not trained.all():
            unused = [
                m for m, t in zip(self.modalities_, trained, strict=True) if not t
            ]
            warnings.warn(
                f"Modality(ies) {unused} are missing in every training row: they "
                "get no model and count as missing at predict time.",
                MissingModalityWarning,
                stacklevel=3,
            )
        targets = self._encode_targets(y, y_given)
        for modality, column in zip(self.modalities_, present.T, strict=True):
            if column.any() and self._degenerate(targets[column]):
                # Like a modality missing in every row, it cannot be learned
                # from; but its presence is informative, so it keeps a model.
                warnings.warn(
                    f"Modality {modality!r} {self._fallback_reason(targets[column])}"
                    f": its model is {self._fallback_name()}.",
                    UserWarning,
                    stacklevel=3,
                )

        def fit_one(modality, indices, rows):
            if not rows.any():
                return None
            return self._fit_modality(
                modality, X[rows][:, indices], targets[rows], targets[rows]
            )

        fitted = Parallel(n_jobs=self.n_jobs)(
            delayed(fit_one)(modality, indices, present[:, column])
            for column, (modality, indices) in enumerate(self.modalities_.items())
        )
        self.estimators_ = dict(zip(self.modalities_, fitted, strict=True))

        uniform = trained / trained.sum()
        weights = [uniform] * self._n_problems()
        if self.combiner in ("weighted", "stacking"):
            oof = self._out_of_fold_outputs(X, targets, present)
            problems = self._problems(oof, targets)
        if self.combiner == "weighted":
            weights = []
            for outputs, problem_targets, fallback in problems:
                fitted = self._fit_weights(outputs, present, problem_targets, fallback)
                fitted = fitted * trained
                weights.append(fitted / fitted.sum() if fitted.sum() > 0 else uniform)
        if self.combiner == "stacking":
            self.modality_weights_ = None
            finals = []
            for outputs, problem_targets, fallback in problems:
                final = (
                    self._default_final()
                    if self.final_estimator is None
                    else clone(self.final_estimator)
                )
                features = self._stacking_features(outputs, present, fallback)
                finals.append(final.fit(features, problem_targets))
            self.final_estimator_ = finals if self._is_multilabel() else finals[0]
        else:
            self.modality_weights_ = self._weights_by_modality(np.column_stack(weights))
        return self

    def _check_modality_estimators(self):
        """Refuse a ``modality_estimators`` entry for a modality not in X."""
        unknown = set(self.modality_estimators or {}) - set(self.modalities_)
        if unknown:
            raise ValueError(
                f"modality_estimators names modality(ies) {sorted(unknown)} that "
                f"are not in X; the modalities are {list(self.modalities_)}."
            )

    def _weights_by_modality(self, weights):
        """``{modality: weight}`` from an (n_modalities, n_problems) array."""
        return dict(zip(self.modalities_, weights[:, 0].tolist(), strict=True))

    def _problems(self, outputs, targets):
        """The combination problems: ``(outputs, targets, fallback)`` triples.

        One problem here: every modality's outputs, the targets and the
        answer for a row with no modality. A multi-label classifier has one
        binary problem per label.
        """
        return [(outputs, targets, self._fallback_output())]

    def _n_problems(self):
        return 1

    def _is_multilabel(self):
        return False

    def _target_checks(self, y):
        """Extra ``validate_data`` parameters for the target ``y``."""
        return {}

    def _degenerate(self, targets):
        """Whether these training targets cannot teach a full model (warned)."""
        return self._needs_fallback(targets)

    def _modality_estimator(self, modality):
        chosen = (self.modality_estimators or {}).get(modality)
        if chosen is not None:
            return clone(chosen)
        return (
            clone(self.estimator)
            if self.estimator is not None
            else (self._default_estimator())
        )

    def _folds(self, X, targets):
        """The (train, test) splits over all training rows, computed once."""
        if isinstance(self.cv, Integral):
            classifier = is_classifier(self)
            strata = self._strata(targets) if classifier else targets
            # Stratified folds need as many rows in some class as folds.
            most = int(np.bincount(strata).max()) if classifier else len(targets)
            what = "the largest class has" if classifier else "there are"
            if most < 2:
                where = "in every class" if classifier else "in all"
                raise ValueError(
                    f"{type(self).__name__}(combiner={self.combiner!r}) needs "
                    "out-of-fold predictions, but there is 1 training row "
                    f"(1 sample) {where}: no row can be held out. Use "
                    "combiner='mean' or more rows."
                )
            n_splits = self.cv
            if most < n_splits:
                n_splits = most
                warnings.warn(
                    f"{type(self).__name__}: cv={self.cv} folds, but {what} "
                    f"only {most} training rows: using {n_splits} folds.",
                    UserWarning,
                    stacklevel=5,
                )
            splitter = StratifiedKFold if classifier else KFold
            cv = splitter(n_splits, shuffle=True, random_state=self.random_state)
            return list(cv.split(X, strata))
        # A splitter of the user's sees the targets themselves (a multi-label
        # splitter needs the indicator matrix).
        cv = check_cv(self.cv, targets, classifier=is_classifier(self))
        return list(cv.split(X, targets))

    def _fit_modality(self, modality, X, targets, all_targets, estimator=None):
        """Fit the modality's model, or its fallback where it cannot learn.

        ``targets`` are those of the rows holding the modality, ``all_targets``
        those of every row of the same training set: the fallback's prior
        when the modality is in none of them. ``estimator`` replaces the
        modality's configured model (unfitted).
        """
        if targets.size == 0:
            return self._fallback_estimator().fit(
                np.zeros((len(all_targets), X.shape[1])), all_targets
            )
        if self._needs_fallback(targets):
            return self._fallback_estimator().fit(X, targets)
        if estimator is None:
            estimator = self._modality_estimator(modality)
        try:
            return estimator.fit(X, targets)
        except ValueError as exc:
            raise ValueError(f"Modality {modality!r}: {exc}") from exc

    def _out_of_fold_outputs(self, X, targets, present):
        """Per modality, out-of-fold outputs on the training rows (NaN if absent).

        Every modality uses the same folds, defined over all training rows and
        restricted to the rows where that modality is present. A fold whose
        training part cannot teach the modality's model (no row with it, or a
        single class) uses the fallback model, with a warning.
        """
        folds = self._folds(X, targets)
        covered = np.zeros(len(targets), dtype=bool)
        for _, test in folds:
            covered[test] = True
        if not covered.all():
            raise ValueError(
                f"{type(self).__name__}: the cv splits must hold every training "
                f"row out once (a partition); {int((~covered).sum())} row(s) are "
                "in no test fold."
            )

        def oof_one(modality, indices, rows):
            block = np.full((len(targets), self._output_width()), np.nan)
            n_fallbacks = 0
            # The hyperparameters the full model chose, not searched again.
            tuned = self.estimators_[modality]
            if tuned is not None:
                tuned = with_chosen_hyperparameters(
                    tuned, self._modality_estimator(modality)
                )
            for train, test in folds:
                test = test[rows[test]]
                if not test.size:
                    continue
                train_rows = train[rows[train]]
                n_fallbacks += self._degenerate(targets[train_rows])
                estimator = self._fit_modality(
                    modality,
                    X[train_rows][:, indices],
                    targets[train_rows],
                    targets[train],
                    None if tuned is None else clone(tuned),
                )
                block[test] = self._predict_modality(estimator, X[test][:, indices])
            return block, n_fallbacks

        results = Parallel(n_jobs=self.n_jobs)(
            delayed(oof_one)(modality, indices, present[:, column])
            for column, (modality, indices) in enumerate(self.modalities_.items())
        )
        # A modality that already falls back on all its rows was warned about.
        failing = {
            modality: count
            for modality, (_, count), column in zip(
                self.modalities_, results, present.T, strict=True
            )
            if count and not self._degenerate(targets[column])
        }
        for modality, count in failing.items():
            warnings.warn(
                f"Modality {modality!r}: in {count} of {len(folds)} out-of-fold "
                f"fit(s) of the {self.combiner!r} combiner, the training part "
                f"{self._fold_fallback_reason()}; those fits use "
                f"{self._fallback_name()}.",
                UserWarning,
                stacklevel=4,
            )
        return [self._bounded_outputs(block, targets) for block, _ in results]

    def _fit_weights(self, outputs, present, targets, fallback):
        """Non-negative weights summing to 1 that minimise the combined loss."""
        n_modalities = len(outputs)
        usable = present.any(axis=1)

        def loss(weights):
            combined = self._combine_weighted(outputs, present, weights, fallback)
            combined = combined[usable]
            return self._loss(combined, targets[usable])

        start = np.full(n_modalities, 1.0 / n_modalities)
        result = minimize(
            loss,
            start,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * n_modalities,
            constraints=[{"type": "eq", "fun": lambda w: np.sum(w) - 1.0}],
        )
        weights = np.clip(result.x if result.success else start, 0.0, None)
        return weights / weights.sum()

    def _combine_weighted(self, outputs, present, weights, fallback):
        """Weighted mean of the available outputs, weights renormalised per row."""
        stacked = np.stack([np.nan_to_num(o, nan=0.0) for o in outputs])
        row_weights = present.T * np.asarray(weights)[:, np.newaxis]
        total = row_weights.sum(axis=0)
        combined = np.einsum("mn,mnk->nk", row_weights, stacked)
        with np.errstate(invalid="ignore", divide="ignore"):
            combined = combined / total[:, np.newaxis]
        combined[total <= 0] = fallback
        return combined

    def _stacking_features(self, outputs, present, fallback):
        filled = [np.where(np.isnan(block), fallback, block) for block in outputs]
        return np.hstack([*filled, present.astype(float)])

    # -- prediction -------------------------------------------------------------------

    def _modality_outputs(self, X):
        """Validated X, availability, and each modality's outputs (NaN if absent)."""
        X = self._validate_blocks(X, reset=False)
        present = self._present(X)
        # A modality never seen in training has no model: it counts as missing.
        present &= np.array([e is not None for e in self.estimators_.values()])
        outputs = []
        for column, (modality, indices) in enumerate(self.modalities_.items()):
            block = np.full((X.shape[0], self._output_width()), np.nan)
            rows = present[:, column]
            if rows.any():
                block[rows] = self._predict_modality(
                    self.estimators_[modality], X[rows][:, indices]
                )
            outputs.append(block)
        return X, present, outputs

    def _combined_output(self, X):
        _, present, outputs = self._modality_outputs(X)
        problems = self._problems(outputs, None)
        if self.combiner == "stacking":
            finals = self.final_estimator_
            finals = finals if self._is_multilabel() else [finals]
        else:
            weights = np.array([self.modality_weights_[m] for m in self.modalities_])
            weights = weights.reshape(len(self.modalities_), -1)
        combined = []
        for j, (problem_outputs, _, fallback) in enumerate(problems):
            if self.combiner == "stacking":
                features = self._stacking_features(problem_outputs, present, fallback)
                output = self._predict_final(finals[j], features)
            elif self.combiner == "product":
                output = _geometric_mean(problem_outputs, present)
            elif self.combiner == "vote":
                output = _vote_fractions(problem_outputs, present)
            else:
                output = self._combine_weighted(
                    problem_outputs, present, weights[:, j], fallback
                )
            output[~present.any(axis=1)] = fallback
            combined.append(output)
        return self._join_problems(combined)

    def _join_problems(self, combined):
        """The estimator's output from the combined output of each problem."""
        return combined[0]

    def _single_output_by_modality(self, X):
        """Each modality's one output, as the combination sees it, by column.

        A DataFrame of one column per modality (NaN where it is missing),
        with the index of ``X`` when it is a DataFrame.
        """
        check_is_fitted(self)
        index = X.index if hasattr(X, "index") else None
        _, _, outputs = self._modality_outputs(X)
        [(outputs, _, _)] = self._problems(outputs, None)
        return pd.DataFrame(
            np.hstack(outputs), columns=list(self.modalities_), index=index
        )


class _PowerOfTwoScaler(TransformerMixin, BaseEstimator):
    """Divide each column by the power of two just below its largest |value|.

    The division is exact, so a following ``SimpleImputer`` and
    ``StandardScaler`` give the same output as without it, but they then see
    values in [-2, 2]: their variance neither overflows (values beyond ~1e154)
    nor underflows (below ~1e-154), which would turn such a column into NaN
    or 0. NaN is kept.
    """

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        observed = ~np.isnan(X)
        largest = np.max(np.where(observed, np.abs(X), 0.0), axis=0, initial=0.0)
        # largest = m * 2**e with 0.5 <= m < 1: dividing by 2**(e - 1) is exact.
        exponent = np.frexp(largest)[1] - 1
        self.scale_ = np.where(largest > 0, np.ldexp(1.0, exponent), 1.0)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        check_is_fitted(self)
        return np.asarray(X, dtype=float) / self.scale_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def make_modality_pipeline(model):
    """The per-modality pipeline of late fusion: imputation, scaling, ``model``.

    Each column is first divided by the power of two just below its largest
    absolute training value (exact, so ordinary data gives the same output as
    without it), then mean-imputed and standardised: the standardisation
    neither overflows nor underflows for any finite scale, where a plain
    ``StandardScaler`` turns a column beyond ~1e154 into NaN and one below
    ~1e-154 into 0. :class:`LateFusionClassifier` and
    :class:`LateFusionRegressor` use it around their default models; pass it
    your own ``model`` to keep that safety.

    Parameters
    ----------
    model : estimator
        The model fitted on the standardised block.

    Returns
    -------
    pipeline : Pipeline
        ``powerscaler -> simpleimputer -> standardscaler -> model``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfusion.fusion import make_modality_pipeline
    >>> [name for name, _ in make_modality_pipeline(LogisticRegression()).steps]
    ['powerscaler', 'simpleimputer', 'standardscaler', 'logisticregression']
    """
    return Pipeline(
        [
            ("powerscaler", _PowerOfTwoScaler()),
            ("simpleimputer", SimpleImputer()),
            ("standardscaler", StandardScaler()),
            (type(model).__name__.lower(), model),
        ]
    )


def _geometric_mean(outputs, present, eps=1e-12):
    """Normalised geometric mean of the available probability outputs."""
    logs = np.stack(
        [np.log(np.clip(np.nan_to_num(o, nan=1.0), eps, 1.0)) for o in outputs]
    )
    counts = np.maximum(present.sum(axis=1), 1)[:, np.newaxis]
    mean_log = np.einsum("mn,mnk->nk", present.T.astype(float), logs) / counts
    proba = np.exp(mean_log - mean_log.max(axis=1, keepdims=True))
    return proba / proba.sum(axis=1, keepdims=True)


def _vote_fractions(outputs, present, tie_break=1e-3):
    """Share of the available modalities voting for each class.

    Ties are broken by the mean probability, given a weight small enough
    (``tie_break``) that it never overturns a majority.
    """
    n_classes = outputs[0].shape[1]
    votes = np.zeros((present.shape[0], n_classes))
    for column, output in enumerate(outputs):
        rows = present[:, column]
        winners = np.argmax(output[rows], axis=1)
        votes[np.flatnonzero(rows), winners] += 1
    counts = np.maximum(votes.sum(axis=1, keepdims=True), 1)
    mean_proba = np.ones(len(outputs), dtype=float) @ np.stack(
        [np.nan_to_num(o, nan=0.0) for o in outputs]
    ).reshape(len(outputs), -1)
    mean_proba = mean_proba.reshape(-1, n_classes) / counts
    shares = votes / counts + tie_break * mean_proba
    total = shares.sum(axis=1, keepdims=True)
    # Rows without any modality have no vote; the caller gives them the prior.
    return np.divide(shares, total, out=np.zeros_like(shares), where=total > 0)


@fill_docstring
class LateFusionClassifier(ClassifierMixin, _BaseLateFusion):
    """Late fusion: one classifier per modality, probabilities combined.

    Each modality's model is a clone of ``estimator`` (by default imputer +
    scaler + logistic regression) unless ``modality_estimators`` gives one for
    it, and is fitted only on the training rows where that modality is
    present. The models' class probabilities are then combined:

    - ``"mean"``: soft voting, the average of the available modalities;
    - ``"weighted"``: a weighted average whose non-negative weights, summing
      to 1, minimise the log loss of out-of-fold predictions on the training
      rows (``cv`` folds, nothing from the rows being predicted);
    - ``"product"``: the normalised geometric mean;
    - ``"stacking"``: ``final_estimator`` (default logistic regression)
      trained on the out-of-fold probabilities plus one availability
      indicator per modality;
    - ``"vote"``: hard voting; ``predict_proba`` gives the share of votes
      (ties broken by the mean probability, with a weight of 1e-3).

    Missing modalities: at predict time a row's missing modalities are left
    out and the weights of the others renormalised (mean, weighted, product,
    vote); for stacking a missing modality's probabilities are replaced by the
    training class prior and its indicator is 0. A row with no modality at all
    gets the training class prior, whatever the combiner (as does, with
    ``"weighted"``, a row whose available modalities all have weight 0).

    Modalities that cannot be learned from: a modality missing in every
    training row gets no model and always counts as missing. A modality whose
    training rows hold a single class (an exam done only for suspected
    positives, or a modality present in one row) gets a
    ``DummyClassifier(strategy="prior")`` fitted on those rows: it predicts
    their class prior, and its presence still informs the combination. Both
    warn, naming the modality. The same fallback serves an out-of-fold fit
    (``"weighted"``, ``"stacking"``) whose training part holds a single class
    or no row with the modality, with a warning naming the modality.

    Multi-label targets: ``y`` may be a 0/1 indicator matrix of shape
    ``(n_samples, n_labels)`` (scikit-learn's ``"multilabel-indicator"``
    type, such as a DataFrame with one column per finding). Each modality's
    model then learns every label: an estimator whose tags say it takes such
    a target (``classifier_tags.multi_label`` or ``target_tags.multi_output``,
    as for ``KNeighborsClassifier``, ``RandomForestClassifier`` or a
    ``MultiOutputClassifier``) is fitted on the whole matrix; any other (the
    default logistic pipeline included) is wrapped in
    :class:`~sklearn.multioutput.MultiOutputClassifier`, one clone per label,
    so that its ``class_weight="balanced"`` weighs each label's classes on
    their own. A label with a single class among a modality's training rows
    is warned about, naming the modality and the label; a wrapped estimator
    gets the class prior of those rows for it, as a single-class modality
    does, while one fitted on the whole matrix handles it itself (the
    forests and neighbours predict that class; a ``MultiOutputClassifier``
    of logistic regressions raises). Each label is then its own binary
    problem, combined by the same rule as a binary target: per-label weights for
    ``"weighted"``, one ``final_estimator`` per label for ``"stacking"``
    (trained on that label's out-of-fold probabilities and the
    availability indicators), and the same handling of missing modalities.
    The integer ``cv`` folds are stratified on the label whose rarer class
    is rarest. :meth:`predict_proba` returns the probability that each
    label is 1, an array of shape ``(n_samples, n_labels)`` (the convention
    across skfusion; scikit-learn's ``MultiOutputClassifier`` returns a
    list of ``(n_samples, 2)`` arrays instead), and :meth:`predict` returns
    the indicator matrix of the probabilities above 0.5. Every label needs
    both values in the training rows.

    Per-modality models are searchable with ``GridSearchCV`` through
    ``modality_estimators__<modality>__<param>``, e.g.
    ``modality_estimators__image__C`` when ``modality_estimators={"image":
    LogisticRegression()}`` (or ``..._image__logisticregression__C`` for a
    pipeline).

    Parameters
    ----------
    estimator : classifier, default=None
        Model cloned for every modality without an entry in
        ``modality_estimators``; needs ``predict_proba``. None means mean
        imputation, standardisation and ``LogisticRegression(max_iter=1000)``
        (``SimpleImputer()``, ``StandardScaler()``, preceded by an exact
        power-of-two rescaling of each column so that values of any finite
        magnitude, 1e300 or 1e-300, standardise without overflow).

    modality_estimators : dict of str to classifier, default=None
        Models for specific modalities.

    combiner : {"mean", "weighted", "product", "stacking", "vote"}, \
            default="mean"
        How to combine the per-modality probabilities.

    final_estimator : classifier, default=None
        The stacking model; None means ``LogisticRegression(max_iter=1000)``.

    cv : int, cross-validation generator or iterable, default=5
        Folds for the out-of-fold predictions of ``"weighted"`` and
        ``"stacking"``. An int means stratified, shuffled folds seeded by
        ``random_state``, lowered (with a warning) to the number of training
        rows of the largest class when that is smaller.
        %(late_fusion_refits)s

    %(late_fusion_options)s

    Attributes
    ----------
    estimators_ : dict of str to classifier
        The fitted model of each modality; None for a modality missing in
        every training row (it then always counts as missing, with a warning
        at fit); a ``DummyClassifier`` for a modality whose training rows
        hold a single class (of every label, for a multi-label target). For a
        multi-label target, a ``MultiOutputClassifier`` around the model
        unless the model handles multi-label targets natively.

    modality_weights_ : dict of str to float or ndarray or None
        Combination weight of each modality (uniform except for
        ``"weighted"``); for a multi-label target an ndarray of shape
        ``(n_labels,)``, one weight per label; None for ``"stacking"``.

    final_estimator_ : classifier or list of classifier
        The fitted stacking model (``combiner="stacking"`` only); for a
        multi-label target a list of one model per label.

    classes_ : ndarray of shape (n_classes,) or list of ndarray
        The class labels; for a multi-label target, as for scikit-learn's
        multi-label classifiers, a list of ``n_labels`` arrays, each
        ``[0, 1]`` in the dtype of ``y``.

    class_prior_ : ndarray of shape (n_classes,) or (n_labels,)
        Training class frequencies, the answer for rows with no modality;
        for a multi-label target the training frequency of 1 in each label.

    label_names_ : ndarray of shape (n_labels,)
        Column names of a multi-label ``y`` given as a DataFrame with string
        column names; defined only then.

    %(fitted_blocks)s

    See Also
    --------
    LateFusionRegressor : The regression counterpart.
    sklearn.ensemble.StackingClassifier : Stacking without missing modalities.

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_classification
    >>> from skfusion.fusion import LateFusionClassifier
    >>> X, y = make_multimodal_classification(
    ...     200, modality_sizes=(5, 5), missing_rate=0.3, random_state=0
    ... )
    >>> model = LateFusionClassifier(combiner="weighted", random_state=0).fit(X, y)
    >>> sorted(model.modality_weights_)
    ['m0', 'm1']
    >>> model.predict_proba(X[:3]).sum(axis=1).round(6).tolist()
    [1.0, 1.0, 1.0]

    A multi-label target, one column per finding:

    >>> X, Y = make_multimodal_classification(
    ...     200, modality_sizes=(5, 5), n_labels=3, random_state=0
    ... )
    >>> model = LateFusionClassifier(combiner="stacking", random_state=0).fit(X, Y)
    >>> model.predict_proba(X[:2]).shape, model.predict(X[:2]).shape
    ((2, 3), (2, 3))
    >>> model.label_names_.tolist()
    ['y0', 'y1', 'y2']
    """

    _parameter_constraints = {
        **_BaseLateFusion._parameter_constraints,
        "combiner": [StrOptions({"mean", "weighted", "product", "stacking", "vote"})],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_label = True
        return tags

    def predict_proba(self, X):
        """Combined class probabilities.

        %(blocked_X)s

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or (n_samples, n_labels)
            Rows sum to 1; columns follow ``classes_``. For a multi-label
            target, the probability that each label is 1.
        """
        check_is_fitted(self)
        return self._combined_output(X)

    def predict(self, X):
        """Predicted class labels.

        %(blocked_X)s

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            The most probable class of each row; for a multi-label target
            the indicator matrix of the labels whose probability is above
            0.5, in the dtype of ``y``.
        """
        check_is_fitted(self)
        proba = self.predict_proba(X)
        if self._is_multilabel():
            return (proba > 0.5).astype(self.classes_[0].dtype)
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_proba_by_modality(self, X):
        """Each modality's own class probabilities.

        %(blocked_X)s

        Returns
        -------
        proba : dict of str to ndarray of shape (n_samples, n_classes)
            NaN rows where the modality is missing. For a multi-label
            target, arrays of shape (n_samples, n_labels): the probability
            that each label is 1.
        """
        check_is_fitted(self)
        _, _, outputs = self._modality_outputs(X)
        return dict(zip(self.modalities_, outputs, strict=True))

    def predict_by_modality(self, X):
        """Each modality's own predicted labels.

        %(blocked_X)s

        Returns
        -------
        y_pred : DataFrame of shape (n_samples, n_modalities)
            One column per modality, NaN where the modality is missing; keeps
            the index of ``X`` when it is a DataFrame. For a multi-label
            target, one column per (modality, label) pair, a two-level
            column index, holding 0/1.
        """
        index = X.index if hasattr(X, "index") else None
        columns = {}
        for modality, proba in self.predict_proba_by_modality(X).items():
            missing = np.isnan(proba).all(axis=1)
            if self._is_multilabel():
                labels = getattr(self, "label_names_", range(proba.shape[1]))
                predicted = np.where(proba > 0.5, 1.0, 0.0)
                predicted[missing] = np.nan
                for label, values in zip(labels, predicted.T, strict=True):
                    columns[(modality, label)] = values
                continue
            labels = pd.Series(self.classes_[np.argmax(np.nan_to_num(proba), axis=1)])
            columns[modality] = labels.where(~missing).to_numpy()
        return pd.DataFrame(columns, index=index)

    # -- hooks --------------------------------------------------------------------

    def _is_multilabel(self):
        # scikit-learn's multi-label classifiers keep one class array per label.
        return isinstance(getattr(self, "classes_", None), list)

    def _n_problems(self):
        return len(self.classes_) if self._is_multilabel() else 1

    def _target_checks(self, y):
        # A 2-D y with several columns is validated as such; a column vector
        # is left to validate_data, which ravels it with a warning.
        return {"multi_output": True} if n_target_columns(y) > 1 else {}

    def _encode_targets(self, y, y_given):
        if hasattr(self, "label_names_"):
            del self.label_names_  # from an earlier multi-label fit
        if y.ndim == 2:
            return self._encode_indicator(y, y_given)
        targets = encode_class_labels(self, y)
        counts = np.bincount(targets, minlength=len(self.classes_))
        self.class_prior_ = counts / len(targets)
        return targets

    def _encode_indicator(self, y, y_given):
        """Check a multi-label 0/1 indicator matrix; store its classes and prior."""
        name = type(self).__name__
        kind = type_of_target(y)
        values = np.unique(y)
        if kind != "multilabel-indicator" or not np.isin(values, [0, 1]).all():
            raise ValueError(
                f"{name} takes a 1-D y (class labels) or a 0/1 multi-label "
                f"indicator matrix; y has {y.shape[1]} columns of type {kind!r} "
                f"with values {preview(values.tolist())}. For one multi-class "
                "target per column, fit one classifier per column."
            )
        columns = getattr(y_given, "columns", None)
        if columns is not None and all(isinstance(c, str) for c in columns):
            self.label_names_ = np.asarray(columns, dtype=object)
        targets = y.astype(np.int64)
        constant = np.flatnonzero(targets.min(axis=0) == targets.max(axis=0))
        if constant.size:
            raise ValueError(
                f"{name} needs both 0 and 1 in every label of y; label(s) "
                f"{self._label_list(constant, targets[0])} take a single value "
                "in every training row. Drop those columns of y."
            )
        self.classes_ = [np.array([0, 1], dtype=y.dtype) for _ in range(y.shape[1])]
        self.class_prior_ = targets.mean(axis=0)
        return targets

    def _label_list(self, labels, values):
        """``['name' (value), ...]`` of the labels, for messages."""
        names = getattr(self, "label_names_", None)
        return preview(
            f"{names[j] if names is not None else j!r} ({int(values[j])})"
            for j in labels
        )

    def _modality_estimator(self, modality):
        estimator = super()._modality_estimator(modality)
        if not self._is_multilabel():
            return estimator
        try:
            tags = get_tags(estimator)
        except AttributeError:  # no scikit-learn tags: assume a 1-D classifier
            native = False
        else:
            # multi_output alone: MultiOutputClassifier itself, or a pipeline
            # ending in one, takes the indicator matrix as it is.
            native = tags.classifier_tags.multi_label or tags.target_tags.multi_output
        if native:
            return estimator
        return MultiOutputClassifier(_PriorIfSingleClass(estimator))

    def _default_estimator(self):
        return make_modality_pipeline(LogisticRegression(max_iter=1000))

    def _single_class_labels(self, targets):
        """Per label, whether the rows ``targets`` hold a single value."""
        return targets.min(axis=0) == targets.max(axis=0)

    def _needs_fallback(self, targets):
        if self._is_multilabel():
            return targets.size == 0 or self._single_class_labels(targets).all()
        return np.unique(targets).size < 2

    def _degenerate(self, targets):
        if self._is_multilabel():
            return targets.size == 0 or self._single_class_labels(targets).any()
        return self._needs_fallback(targets)

    def _bounded_outputs(self, outputs, targets):
        return outputs

    def _fallback_estimator(self):
        return DummyClassifier(strategy="prior")

    def _fallback_reason(self, targets):
        if self._is_multilabel():
            labels = np.flatnonzero(self._single_class_labels(targets))
            return (
                f"has a single class in label(s) {self._label_list(labels, targets[0])}"
                f" of its {len(targets)} training row(s)"
            )
        label = self.classes_[targets[0]]
        label = label.item() if isinstance(label, np.generic) else label
        return f"has a single class ({label!r}) in its {targets.size} training row(s)"

    def _fold_fallback_reason(self):
        if self._is_multilabel():
            return "holds a single class of some label (or no row) with it"
        return "holds a single class (or no row) with it"

    def _fallback_name(self):
        if self._is_multilabel():
            return "the class prior of its rows for those labels"
        return "DummyClassifier(strategy='prior'), the class prior of its rows"

    def _default_final(self):
        return LogisticRegression(max_iter=1000)

    def _output_width(self):
        return len(self.classes_)

    def _predict_modality(self, estimator, X):
        """Probabilities over all classes (a class unseen by the model gets 0).

        For a multi-label target, the probability that each label is 1.
        """
        proba = estimator.predict_proba(X)
        if self._is_multilabel():
            return _positive_proba(proba, estimator.classes_, len(self.classes_))
        return _over_all_classes(proba, estimator.classes_, len(self.classes_))

    def _predict_final(self, final, features):
        n_classes = 2 if self._is_multilabel() else len(self.classes_)
        proba = final.predict_proba(features)
        return _over_all_classes(proba, final.classes_, n_classes)

    def _strata(self, targets):
        """The 1-D labels that the integer ``cv`` folds are stratified on."""
        if not self._is_multilabel():
            return targets
        positives = targets.sum(axis=0)
        rarer = np.minimum(positives, len(targets) - positives)
        # The rarest finding is the one a fold most easily goes without.
        return targets[:, np.argmin(rarer)]

    def _problems(self, outputs, targets):
        """One binary problem per label of a multi-label target.

        Each modality's probability ``p`` of the label is seen as the binary
        probabilities ``[1 - p, p]`` (NaN where the modality is missing), so
        that every combiner applies to each label exactly as to a binary
        target.
        """
        if not self._is_multilabel():
            return super()._problems(outputs, targets)
        problems = []
        for j, prior in enumerate(self.class_prior_):
            views = [np.column_stack([1.0 - o[:, j], o[:, j]]) for o in outputs]
            label_targets = None if targets is None else targets[:, j]
            problems.append((views, label_targets, np.array([1.0 - prior, prior])))
        return problems

    def _weights_by_modality(self, weights):
        if not self._is_multilabel():
            return super()._weights_by_modality(weights)
        return dict(zip(self.modalities_, weights, strict=True))

    def _join_problems(self, combined):
        if not self._is_multilabel():
            return super()._join_problems(combined)
        return np.column_stack([output[:, 1] for output in combined])

    def _fallback_output(self):
        return self.class_prior_

    def _loss(self, proba, targets):
        picked = proba[np.arange(len(targets)), targets]
        return -np.mean(np.log(np.clip(picked, 1e-12, None)))


class _PriorIfSingleClass(ClassifierMixin, BaseEstimator):
    """``estimator``, or the class prior where the training rows hold one class.

    :class:`~sklearn.multioutput.MultiOutputClassifier` fits one clone per
    label, and most classifiers refuse a label with a single class; among the
    rows holding a modality (or in an out-of-fold training part) one label of
    a multi-label target can be constant while the others still teach.

    Parameters
    ----------
    estimator : classifier
        The model fitted when the rows hold two classes.
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        if np.unique(y).size < 2:
            self.estimator_ = DummyClassifier(strategy="prior").fit(X, y)
        else:
            self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X):
        check_is_fitted(self)
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)


def _over_all_classes(proba, seen_classes, n_classes):
    """Place the columns of ``proba`` (encoded ``seen_classes``) in a full table."""
    full = np.zeros((proba.shape[0], n_classes))
    full[:, np.asarray(seen_classes, dtype=int)] = proba
    return full


def _positive_proba(proba, classes, n_labels):
    """The probability that each label is 1, shape (n_samples, n_labels).

    Multi-label classifiers answer either with a list of one
    ``(n_samples, n_classes_seen)`` array per label (``MultiOutputClassifier``,
    random forests, nearest neighbours; a label seen with a single class has
    one column) or with that matrix already (``MLPClassifier``, this module).
    """
    if not isinstance(proba, list):
        proba = np.asarray(proba, dtype=float)
        if proba.shape[1:] != (n_labels,):
            raise ValueError(
                f"A multi-label model's predict_proba gave an array of shape "
                f"{proba.shape}; expected (n_samples, {n_labels}) or a list of "
                f"{n_labels} arrays."
            )
        return proba
    return np.column_stack(
        [
            _over_all_classes(label_proba, label_classes, 2)[:, 1]
            for label_proba, label_classes in zip(proba, classes, strict=True)
        ]
    )


@fill_docstring
class LateFusionRegressor(RegressorMixin, _BaseLateFusion):
    """Late fusion: one regressor per modality, predictions combined.

    Each modality's model is a clone of ``estimator`` (by default imputer +
    scaler + ridge) unless ``modality_estimators`` gives one for it, and is
    fitted only on the training rows where that modality is present. The
    predictions are combined by their mean, by a weighted mean whose
    non-negative weights, summing to 1, minimise the squared error of
    out-of-fold predictions on the training rows (``"weighted"``), or by a
    ``final_estimator`` trained on those out-of-fold predictions plus one
    availability indicator per modality (``"stacking"``).

    Missing modalities: a row's missing modalities are left out and the
    weights renormalised; for stacking a missing prediction is replaced by the
    training mean of ``y`` and its indicator is 0. A row with no modality at
    all gets the training mean of ``y``. A modality missing in every training
    row gets no model, with a warning. An out-of-fold fit (``"weighted"``,
    ``"stacking"``) whose training part has no row with a modality uses a
    ``DummyRegressor`` (the mean target of that training part), with a
    warning naming the modality; out-of-fold predictions are clipped to the
    training target range widened by its width on each side, so that a
    held-out outlier (a value of 1e300) cannot dominate the combination.

    Parameters
    ----------
    estimator : regressor, default=None
        Model cloned for every modality without an entry in
        ``modality_estimators``. None means mean imputation, standardisation
        and ``Ridge()`` (``SimpleImputer()``, ``StandardScaler()``, preceded by
        an exact power-of-two rescaling of each column so that values of any
        finite magnitude standardise without overflow).

    modality_estimators : dict of str to regressor, default=None
        Models for specific modalities, searchable as
        ``modality_estimators__<modality>__<param>``.

    combiner : {"mean", "weighted", "stacking"}, default="mean"
        How to combine the per-modality predictions.

    final_estimator : regressor, default=None
        The stacking model; None means ``RidgeCV()``.

    cv : int, cross-validation generator or iterable, default=5
        Folds for the out-of-fold predictions (shuffled, seeded by
        ``random_state``, when an int; lowered, with a warning, to the number
        of training rows when that is smaller).
        %(late_fusion_refits)s

    %(late_fusion_options)s

    Attributes
    ----------
    estimators_ : dict of str to regressor
        The fitted model of each modality; None for a modality missing in
        every training row.

    modality_weights_ : dict of str to float or None
        Combination weight of each modality; None for ``"stacking"``.

    final_estimator_ : regressor
        The fitted stacking model (``combiner="stacking"`` only).

    target_mean_ : float
        Training mean of ``y``, the answer for rows with no modality.

    %(fitted_blocks)s

    See Also
    --------
    LateFusionClassifier : The classification counterpart.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skfusion.fusion import LateFusionRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(100, 4)),
    ...                  columns=["a__x0", "a__x1", "b__x0", "b__x1"])
    >>> y = X["a__x0"] + X["b__x1"] + rng.normal(0, 0.1, 100)
    >>> model = LateFusionRegressor(combiner="stacking", random_state=0).fit(X, y)
    >>> model.predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints = {
        **_BaseLateFusion._parameter_constraints,
        "combiner": [StrOptions({"mean", "weighted", "stacking"})],
    }

    def predict(self, X):
        """Combined predictions.

        %(blocked_X)s

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Combined prediction of each row.
        """
        check_is_fitted(self)
        return self._combined_output(X)[:, 0]

    def predict_by_modality(self, X):
        """Each modality's own predictions.

        %(blocked_X)s

        Returns
        -------
        y_pred : DataFrame of shape (n_samples, n_modalities)
            One column per modality, NaN where the modality is missing.
        """
        return self._single_output_by_modality(X)

    # -- hooks --------------------------------------------------------------------

    def _encode_targets(self, y, y_given):
        targets = np.asarray(y, dtype=float)
        self.target_mean_ = float(targets.mean())
        return targets

    def _default_estimator(self):
        return make_modality_pipeline(Ridge())

    def _needs_fallback(self, targets):
        return targets.size == 0

    def _bounded_outputs(self, outputs, targets):
        """Out-of-fold predictions clipped to the target range widened by its width.

        A held-out row far outside its fold's training range (a value of
        1e300) is extrapolated to an absurd prediction whose square
        overflows; the combination is learned from plausible ones.
        """
        low, high = targets.min(), targets.max()
        width = high / 2 - low / 2  # half the range, without overflow
        return np.clip(outputs, low - 2 * width, high + 2 * width)

    def _fallback_estimator(self):
        return DummyRegressor(strategy="mean")

    def _fallback_reason(self, targets):
        return "has no training row"  # not reached: such a modality has no model

    def _fold_fallback_reason(self):
        return "has no row with it"

    def _fallback_name(self):
        return "DummyRegressor(strategy='mean'), the mean target of their rows"

    def _default_final(self):
        return RidgeCV()

    def _output_width(self):
        return 1

    def _predict_modality(self, estimator, X):
        return np.asarray(estimator.predict(X), dtype=float).reshape(-1, 1)

    def _predict_final(self, final, features):
        return np.asarray(final.predict(features)).reshape(-1, 1)

    def _fallback_output(self):
        return np.array([self.target_mean_])

    def _loss(self, predictions, targets):
        return np.mean((predictions[:, 0] - targets) ** 2)
