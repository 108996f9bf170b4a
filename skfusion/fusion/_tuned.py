"""The hyperparameters a self-tuning model chose, as an unfitted model.

Stacking needs out-of-fold predictions of every per-modality model. When that
model tunes itself by an inner cross-validation (``LogisticRegressionCV``,
``RidgeCV``, a search), refitting it in every outer fold repeats the whole
search inside every fold: for late fusion's default models, 5 folds x 7
penalties x 3 inner folds of fits per modality. The model fitted on all
training rows has already chosen; its choice, fixed, is refitted instead.
"""

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import (
    LogisticRegression,
    LogisticRegressionCV,
    Ridge,
    RidgeCV,
)
from sklearn.pipeline import Pipeline

__all__ = ["with_chosen_hyperparameters"]

# LogisticRegressionCV parameters that LogisticRegression takes as they are.
_LOGISTIC_SHARED = (
    "class_weight",
    "dual",
    "fit_intercept",
    "intercept_scaling",
    "max_iter",
    "random_state",
    "solver",
    "tol",
)


def with_chosen_hyperparameters(fitted, unfitted):
    """An unfitted copy of ``unfitted`` with the hyperparameters ``fitted`` chose.

    ``LogisticRegressionCV`` becomes ``LogisticRegression`` with its ``C_``
    and ``l1_ratio_``, ``RidgeCV`` becomes ``Ridge`` with its ``alpha_``, a
    refitted search (``GridSearchCV``, ...) its best estimator; the steps of
    a :class:`~sklearn.pipeline.Pipeline` are treated one by one. Any other
    model is cloned from ``unfitted`` unchanged.

    Parameters
    ----------
    fitted : estimator
        ``unfitted`` after ``fit`` (or an estimator of another class, e.g. a
        fallback, in which case ``unfitted`` is cloned).

    unfitted : estimator
        The estimator as configured.

    Returns
    -------
    estimator : estimator
        Unfitted.
    """
    if isinstance(fitted, Pipeline) and isinstance(unfitted, Pipeline):
        if len(fitted.steps) != len(unfitted.steps):
            return clone(unfitted)
        pipeline = clone(unfitted)
        pipeline.steps = [
            (name, with_chosen_hyperparameters(done, step))
            for (name, step), (_, done) in zip(
                unfitted.steps, fitted.steps, strict=True
            )
        ]
        return pipeline
    if type(fitted) is not type(unfitted):
        return clone(unfitted)
    if isinstance(fitted, LogisticRegressionCV) and hasattr(fitted, "C_"):
        chosen_c = np.unique(np.ravel(fitted.C_))
        chosen_l1 = np.unique(np.ravel(fitted.l1_ratio_))
        if chosen_c.size != 1 or chosen_l1.size != 1:
            # One penalty per class (one-vs-rest): keep the search.
            return clone(unfitted)
        params = fitted.get_params(deep=False)
        return LogisticRegression(
            C=float(chosen_c[0]),
            l1_ratio=float(chosen_l1[0]),
            **{name: params[name] for name in _LOGISTIC_SHARED},
        )
    if isinstance(fitted, RidgeCV) and np.ndim(getattr(fitted, "alpha_", None)) == 0:
        return Ridge(alpha=float(fitted.alpha_), fit_intercept=fitted.fit_intercept)
    if hasattr(fitted, "best_estimator_") and hasattr(fitted, "cv_results_"):
        return clone(fitted.best_estimator_)
    return clone(unfitted)
