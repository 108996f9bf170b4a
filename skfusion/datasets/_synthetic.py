"""Synthetic multimodal classification data with controllable modality roles."""

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ..blocks import MODALITY_SEPARATOR
from ..utils._docstrings import fill_docstring
from ._base import check_bool


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_sequence(value, name):
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray):
        raise ValueError(f"{name} must be a sequence, got {value!r} instead.")
    return list(np.ravel(value)) if isinstance(value, np.ndarray) else list(value)


def _class_labels(n_samples, weights, n_classes):
    """Labels 0 .. n_classes - 1 in the given proportions, every class present."""
    weights = np.asarray(weights, dtype=float)
    if (
        weights.shape != (n_classes,)
        or not np.isfinite(weights).all()
        or (weights <= 0).any()
    ):
        raise ValueError(
            f"weights must be {n_classes} positive proportions (one per class), "
            f"got {weights.tolist()!r} instead."
        )
    if n_samples < n_classes:
        raise ValueError(
            f"weights needs n_samples >= n_classes ({n_classes}); got {n_samples}."
        )
    counts = np.maximum(1, np.round(weights / weights.sum() * n_samples)).astype(int)
    # Rounding may miss n_samples by a few rows: the largest class absorbs them.
    counts[np.argmax(counts)] += n_samples - counts.sum()
    return np.repeat(np.arange(n_classes), counts)


def _check_modalities(n_samples, modality_sizes, informativeness):
    """Validate the sizes of the data; return the block sizes and strengths."""
    if not _is_int(n_samples) or n_samples < 1:
        raise ValueError(
            f"n_samples must be a positive int, got {n_samples!r} instead."
        )
    sizes = _check_sequence(modality_sizes, "modality_sizes")
    if not sizes or not all(_is_int(s) and s >= 1 for s in sizes):
        raise ValueError(
            "modality_sizes must be a non-empty sequence of positive ints, got "
            f"{modality_sizes!r} instead."
        )
    sizes = [int(s) for s in sizes]
    n_modalities = len(sizes)

    if _is_real(informativeness):
        strengths = [informativeness] * n_modalities
    else:
        strengths = _check_sequence(informativeness, "informativeness")
        if len(strengths) != n_modalities:
            raise ValueError(
                f"informativeness has {len(strengths)} values but there are "
                f"{n_modalities} modalities."
            )
    if not all(_is_real(s) and np.isfinite(s) and s >= 0 for s in strengths):
        raise ValueError(
            "informativeness must be a non-negative float or one non-negative "
            f"float per modality, got {informativeness!r} instead."
        )
    return sizes, [float(s) for s in strengths]


def _check_target(interaction, n_classes, missing_rate, n_modalities):
    """Validate the classes, their interaction and the missing rate."""
    check_bool(interaction, "interaction")
    if not _is_int(n_classes) or n_classes < 2:
        raise ValueError(f"n_classes must be an int >= 2, got {n_classes!r} instead.")
    if interaction and (n_classes != 2 or n_modalities < 2):
        raise ValueError(
            "interaction=True needs n_classes=2 and at least 2 modalities, got "
            f"n_classes={n_classes} and {n_modalities} modalities."
        )
    if not _is_real(missing_rate) or not 0 <= missing_rate < 1:
        raise ValueError(
            f"missing_rate must be a float in [0, 1), got {missing_rate!r} instead."
        )
    if missing_rate > 0 and n_modalities < 2:
        raise ValueError(
            "missing_rate > 0 needs at least 2 modalities: a row never loses "
            "every modality."
        )


def _check_names(modality_names, n_modalities):
    """Validate the modality names; return them, ``m0, m1, ...`` by default."""
    if modality_names is None:
        return [f"m{i}" for i in range(n_modalities)]
    names = _check_sequence(modality_names, "modality_names")
    if len(names) != n_modalities:
        raise ValueError(
            f"modality_names has {len(names)} names but there are "
            f"{n_modalities} modalities."
        )
    if not all(isinstance(n, str) and n and MODALITY_SEPARATOR not in n for n in names):
        raise ValueError(
            f"modality_names must be non-empty strings without "
            f"{MODALITY_SEPARATOR!r} (the "
            f"modality/feature separator), got {modality_names!r} instead."
        )
    if len(set(names)) != len(names):
        raise ValueError(f"modality_names must be unique, got {names!r}.")
    return names


def _hide_one_modality(rng, blocks, missing_rate):
    """Set one modality, at random, to NaN in a ``missing_rate`` share of rows.

    ``blocks`` (one (n_samples, size) array per modality) are changed in place;
    the rows and their modalities are drawn from ``rng`` only when
    ``missing_rate`` is positive, so a complete data set draws nothing.
    """
    if missing_rate <= 0:
        return
    n_samples = len(blocks[0])
    n_missing = int(round(missing_rate * n_samples))
    rows = rng.choice(n_samples, size=n_missing, replace=False)
    dropped = rng.randint(len(blocks), size=n_missing)
    for row, m in zip(rows, dropped, strict=True):
        blocks[m][row] = np.nan


def _modality_columns(names, sizes):
    """Column names of the blocked matrix: ``f"{name}__x{j}"``, block by block."""
    return [
        f"{name}{MODALITY_SEPARATOR}x{j}"
        for name, size in zip(names, sizes, strict=True)
        for j in range(size)
    ]


def _class_means(rng, n_features, n_classes, separation):
    """Class means ``separation`` apart, in a random orientation.

    The means are the vertices of a regular simplex with edge ``separation``,
    rotated at random into the block. A block narrower than ``n_classes - 1``
    cannot hold a regular simplex: it gets a random projection of one, so some
    means are closer together.
    """
    vertices = (np.eye(n_classes) - 1 / n_classes) * (separation / np.sqrt(2))
    # Coordinates of the vertices in their (n_classes - 1)-dimensional span.
    u, s, _ = np.linalg.svd(vertices)
    simplex = u[:, : n_classes - 1] * s[: n_classes - 1]
    dim = n_classes - 1
    gaussian = rng.standard_normal((max(n_features, dim), min(n_features, dim)))
    rotation, _ = np.linalg.qr(gaussian)
    if n_features >= dim:
        return simplex @ rotation.T
    return simplex @ rotation


def _check_labels(n_labels, n_classes, interaction):
    """Validate ``n_labels`` against the other target options."""
    if n_labels is None:
        return
    if not _is_int(n_labels) or n_labels < 2:
        raise ValueError(
            f"n_labels must be None or an int >= 2, got {n_labels!r} instead."
        )
    if interaction or n_classes != 2:
        raise ValueError(
            "n_labels needs n_classes=2 and interaction=False: each label is "
            f"binary; got n_classes={n_classes} and interaction={interaction}."
        )


def _label_directions(rng, n_features, n_labels):
    """Unit directions of a block along which the labels shift, one per column.

    Orthonormal when the block has at least ``n_labels`` features, so that
    the projection on one label's direction ignores the other labels; in a
    narrower block they are random unit vectors, and the labels blur each
    other.
    """
    gaussian = rng.standard_normal((n_features, n_labels))
    if n_features >= n_labels:
        return np.linalg.qr(gaussian)[0]
    return gaussian / np.linalg.norm(gaussian, axis=0)


@fill_docstring
def make_multimodal_classification(
    n_samples=200,
    *,
    modality_sizes=(10, 10),
    informativeness=1.0,
    interaction=False,
    n_classes=2,
    n_labels=None,
    weights=None,
    missing_rate=0.0,
    modality_names=None,
    as_frame=True,
    random_state=None,
):
    """Generate a classification problem whose modalities carry known signal.

    Each modality is a block of Gaussian features. By default every block
    carries the label on its own: the class means of the block are
    ``informativeness`` apart (in units of the noise standard deviation, 1)
    along random directions, so a larger value gives a higher single-modality
    accuracy and 0 makes the block pure noise. The modalities are
    conditionally independent given the label, so fusing them helps the way
    combining independent redundant views does.

    With ``interaction=True`` the label is instead the XOR of the signs of two
    latent variables, the first expressed in modality 0 and the second in
    modality 1: each of these modalities alone is at chance level, and only a
    model that combines them can predict the label (synergy).

    Parameters
    ----------
    %(generated_sizes)s

    informativeness : float or sequence of float, default=1.0
        Non-negative signal strength of each modality (one value for all, or
        one per modality): the distance between class means, or with
        ``interaction=True`` between the two states of the latent variable of
        modality 0 and 1. 0 makes the block pure noise.

    interaction : bool, default=False
        If True, the label is ``sign(z0) XOR sign(z1)`` where ``z0`` takes
        the values ``-informativeness[0] / 2`` and ``+informativeness[0] / 2``
        along a random direction of modality 0, and ``z1`` likewise in
        modality 1. Further modalities carry the label as they do by default.
        Requires ``n_classes=2`` and at least 2 modalities.

    n_classes : int, default=2
        Number of classes. The classes are balanced, except with
        ``interaction=True`` where each latent sign is balanced.

    n_labels : int, default=None
        Number of labels of a multi-label target; None gives one class label
        per row. With an int (at least 2), ``y`` is a 0/1 indicator matrix of
        independent balanced labels (or in the proportions of ``weights``,
        the same for every label), and every block is noise plus, for each
        label, a shift of ``informativeness`` between its two values along
        its own direction (orthogonal to the other labels' when the block has
        ``n_labels`` features or more): each modality informs every label as
        much as it informs a binary target. Requires ``n_classes=2`` and
        ``interaction=False``.

    missing_rate : float, default=0.0
        Fraction of rows, in [0, 1), in which exactly one modality, chosen
        uniformly at random, is set to all-NaN: the package's encoding of a
        missing modality. A row never loses every modality. Requires at least
        2 modalities when positive.

    weights : sequence of float, default=None
        Proportion of each class (``n_classes`` values, normalised to sum to
        1), for an imbalanced target; the class counts are the rounded
        proportions of ``n_samples``, each at least 1. ``None`` gives every
        class the same share. Not with ``interaction=True``. With
        ``n_labels``, the proportions of 0 and 1 in each label.

    modality_names : sequence of str, default=None
        Name of each modality; ``["m0", "m1", ...]`` when None. The names must
        be unique and must not contain ``"__"``.

    as_frame : bool, default=True
        If True, return ``X`` as a DataFrame and ``y`` as a Series named
        ``"y"`` (a DataFrame with columns ``"y0"``, ``"y1"``, ... with
        ``n_labels``); otherwise as ndarrays with the same column order.

    random_state : int, RandomState instance or None, default=None
        Determines the random numbers. Pass an int for reproducible output
        across multiple function calls.

    Returns
    -------
    X : {DataFrame, ndarray} of shape (n_samples, sum(modality_sizes))
        The blocked matrix. Column ``j`` of modality ``name`` is named
        ``f"{name}__x{j}"``; the modalities come in the given order.

    y : {Series, DataFrame, ndarray} of shape (n_samples,) or (n_samples, n_labels)
        The integer class labels, 0 to ``n_classes - 1``; with ``n_labels``,
        the 0/1 indicator matrix.

    See Also
    --------
    sklearn.datasets.make_classification : Unimodal generator of classification
        problems.

    Notes
    -----
    Without interaction, the class means of a block are the vertices of a
    regular simplex with edge ``informativeness``, randomly rotated into the
    block, plus N(0, 1) noise on every feature. For two classes the Bayes
    accuracy of one modality is ``Phi(informativeness / 2)`` (about 0.69 for
    1, 0.84 for 2, 0.93 for 3). A block narrower than ``n_classes - 1``
    receives a random projection of the simplex, so its classes overlap more.

    Examples
    --------
    >>> from skfusion.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(
    ...     100, modality_sizes=(3, 2), modality_names=["image", "text"],
    ...     missing_rate=0.2, random_state=0)
    >>> X.shape, y.shape
    ((100, 5), (100,))
    >>> list(X.columns)
    ['image__x0', 'image__x1', 'image__x2', 'text__x0', 'text__x1']
    >>> int(X.isna().all(axis=1).sum())
    0
    >>> X, y = make_multimodal_classification(
    ...     50, interaction=True, as_frame=False, random_state=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((50, 20), [0, 1])
    >>> X, Y = make_multimodal_classification(60, n_labels=3, random_state=0)
    >>> list(Y.columns), sorted(set(Y.to_numpy().ravel().tolist()))
    (['y0', 'y1', 'y2'], [0, 1])
    """
    sizes, strengths = _check_modalities(n_samples, modality_sizes, informativeness)
    _check_target(interaction, n_classes, missing_rate, len(sizes))
    names = _check_names(modality_names, len(sizes))
    check_bool(as_frame, "as_frame")
    _check_labels(n_labels, n_classes, interaction)
    if interaction and weights is not None:
        raise ValueError("weights cannot be combined with interaction=True.")
    rng = check_random_state(random_state)

    if n_labels is not None:
        labels = _class_labels(n_samples, [1.0, 1.0] if weights is None else weights, 2)
        y = np.column_stack([rng.permutation(labels) for _ in range(n_labels)])
        # +/- informativeness / 2 around 0: the two values of a label lie
        # informativeness apart along the label's direction.
        signs = y - 0.5
        blocks = [
            rng.standard_normal((n_samples, size))
            + strength * signs @ _label_directions(rng, size, n_labels).T
            for size, strength in zip(sizes, strengths, strict=True)
        ]
    elif interaction:
        latent = [rng.permutation(np.arange(n_samples) % 2) for _ in range(2)]
        y = latent[0] ^ latent[1]
    elif weights is not None:
        y = rng.permutation(_class_labels(n_samples, weights, n_classes))
    else:
        y = rng.permutation(np.arange(n_samples) % n_classes)

    if n_labels is None:
        blocks = []
        for m, (size, strength) in enumerate(zip(sizes, strengths, strict=True)):
            noise = rng.standard_normal((n_samples, size))
            if interaction and m < 2:
                means, state = _class_means(rng, size, 2, strength), latent[m]
            else:
                means, state = _class_means(rng, size, n_classes, strength), y
            blocks.append(noise + means[state])

    _hide_one_modality(rng, blocks, missing_rate)
    X = np.hstack(blocks)
    y = y.astype(np.int64)
    if not as_frame:
        return X, y
    X = pd.DataFrame(X, columns=_modality_columns(names, sizes))
    if n_labels is not None:
        return X, pd.DataFrame(y, columns=[f"y{j}" for j in range(n_labels)])
    return X, pd.Series(y, name="y")
