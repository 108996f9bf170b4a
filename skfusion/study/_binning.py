"""Quantile bins before class-weighted gradient boosting (the study's early:hgb).

Given sample weights, scikit-learn's histogram gradient boosting finds its bin
edges with one weighted percentile per edge and feature: 75x slower on a
470 x 305 blocked matrix (23 s against 0.3 s per fit, measured in
benchmarks/RESULTS.md), which made ``early:hgb`` most of a default study's time.
Binning the columns first at the edges the unweighted model would use, then
boosting on the bin numbers, gives that model exactly (same splits, same
predictions); with class weights, only the bin edges stop depending on the
weights, as without them.
"""

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data


class QuantileBinning(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Replace each value by its quantile bin, as histogram boosting bins.

    A column with at most ``max_bins`` distinct values passes unchanged; any
    other column becomes the number of its bin among ``max_bins`` bins with
    edges at the column's unweighted quantiles (``np.percentile`` with
    ``method="averaged_inverted_cdf"``, the rule of
    :class:`~sklearn.ensemble.HistGradientBoostingClassifier`), a value ``x``
    going to bin ``i`` when ``edges[i - 1] < x <= edges[i]``. NaN stays NaN.

    Parameters
    ----------
    max_bins : int, default=255
        Bins of a column, the default ``max_bins`` of histogram boosting.

    Attributes
    ----------
    edges_ : list of ndarray or None
        Bin edges of each column; None for a column that passes unchanged.

    n_features_in_ : int
        Number of columns seen in ``fit``.

    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when they were all strings.
    """

    def __init__(self, max_bins=255):
        self.max_bins = max_bins

    def fit(self, X, y=None):
        """Find the bin edges of every column.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; NaN is ignored.

        y : None
            Ignored.

        Returns
        -------
        self : QuantileBinning
        """
        X = validate_data(self, X, ensure_all_finite="allow-nan", dtype=np.float64)
        levels = np.linspace(0, 100, self.max_bins + 1)[1:-1]
        self.edges_ = []
        for column in X.T:
            observed = column[~np.isnan(column)]
            if len(np.unique(observed)) <= self.max_bins:
                self.edges_.append(None)
            else:
                edges = np.percentile(observed, levels, method="averaged_inverted_cdf")
                self.edges_.append(np.unique(edges))
        return self

    def transform(self, X):
        """Bin numbers of the binned columns; the other columns unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with the columns of ``fit``.

        Returns
        -------
        X_binned : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self, "edges_")
        X = validate_data(
            self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64
        )
        binned = X.copy()
        for j, edges in enumerate(self.edges_):
            if edges is None:
                continue
            column = X[:, j]
            missing = np.isnan(column)
            binned[:, j] = np.searchsorted(edges, column, side="left")
            binned[missing, j] = np.nan
        return binned

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
