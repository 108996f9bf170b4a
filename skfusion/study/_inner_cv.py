"""The inner folds that choose the default strategies' penalties.

:func:`inner_cv` gives the splitter of a study's default linear models; in a
grouped study its folds keep groups together and adapt to training folds that
hold fewer groups than inner folds.
"""

import warnings

import numpy as np
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
)

from ..utils._docstrings import fill_docstring

__all__ = ["InnerGroupKFold", "InnerStratifiedGroupKFold", "inner_cv"]

INNER_SPLITS = 3


class _InnerFoldsForFewGroups:
    """Grouped inner folds that adapt to the groups of the rows they split.

    A training fold of a grouped study may hold fewer groups than the three
    inner folds (a small cohort, a modality measured in few groups): with
    ``k >= 2`` groups the rows are split into ``k`` grouped folds instead,
    with a warning; with a single group there is nothing to hold apart and
    the inner folds are ungrouped (stratified for a classification), with a
    warning. Otherwise the folds are those of the splitter itself.
    """

    def split(self, X, y=None, groups=None):
        n_groups = 0 if groups is None else len(np.unique(groups))
        if groups is None or n_groups >= self.n_splits:
            yield from super().split(X, y, groups)
            return
        if n_groups >= 2:
            warnings.warn(
                f"Inner cross-validation: these rows hold {n_groups} groups, "
                f"fewer than {self.n_splits} folds; using {n_groups} grouped folds.",
                UserWarning,
                stacklevel=2,
            )
            folds = self._grouped(
                n_groups, shuffle=self.shuffle, random_state=self.random_state
            )
            yield from folds.split(X, y, groups)
            return
        warnings.warn(
            "Inner cross-validation: these rows hold a single group; using "
            f"{self.n_splits} ungrouped folds.",
            UserWarning,
            stacklevel=2,
        )
        folds = self._ungrouped(
            self.n_splits, shuffle=self.shuffle, random_state=self.random_state
        )
        yield from folds.split(X, y)

    def get_n_splits(self, X=None, y=None, groups=None):
        if groups is None:
            return self.n_splits
        n_groups = len(np.unique(groups))
        return n_groups if 2 <= n_groups < self.n_splits else self.n_splits


@fill_docstring
class InnerStratifiedGroupKFold(_InnerFoldsForFewGroups, StratifiedGroupKFold):
    """``StratifiedGroupKFold`` that uses fewer folds when the rows hold fewer groups.

    The inner folds of the default classification strategies of a grouped
    study (see :func:`inner_cv`).

    %(inner_folds)s
    """

    _grouped, _ungrouped = StratifiedGroupKFold, StratifiedKFold


@fill_docstring
class InnerGroupKFold(_InnerFoldsForFewGroups, GroupKFold):
    """``GroupKFold`` that uses fewer folds when the rows hold fewer groups.

    The inner folds of the default regression strategies of a grouped study
    (see :func:`inner_cv`).

    %(inner_folds)s
    """

    _grouped, _ungrouped = GroupKFold, KFold


def inner_cv(*, classification, grouped, random_state=None):
    """The inner cross-validation that chooses a default strategy's penalty.

    Parameters
    ----------
    classification : bool
        Stratify the inner folds by class.

    grouped : bool
        Keep each group in one inner fold: the splitter then needs ``groups``
        at ``fit``, which scikit-learn's metadata routing passes on
        (:class:`FusionStudy` enables it for the strategies that request
        them).

    random_state : int or None, default=None
        Seed of the shuffled folds.

    Returns
    -------
    cv : cross-validation splitter
        ``StratifiedGroupKFold``, ``GroupKFold``, ``StratifiedKFold`` or
        ``KFold`` with three shuffled folds. The grouped ones use fewer folds,
        with a warning, when the rows they split hold fewer than three groups
        (ungrouped folds for a single group), rather than fail.
    """
    if grouped:
        if classification:
            return InnerStratifiedGroupKFold(
                INNER_SPLITS, shuffle=True, random_state=random_state
            )
        return InnerGroupKFold(INNER_SPLITS, shuffle=True, random_state=random_state)
    if classification:
        return StratifiedKFold(INNER_SPLITS, shuffle=True, random_state=random_state)
    return KFold(INNER_SPLITS, shuffle=True, random_state=random_state)
