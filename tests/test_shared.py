"""SharedSpace and MultipleKernelClassifier.

scikit-learn's estimator checks run on both in tests/test_common.py, on the
instances of skfusion/utils/_test_common.py.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import linalg
from sklearn.base import clone
from sklearn.cross_decomposition import CCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from skfusion.datasets import make_multimodal_classification
from skfusion.fusion import MultipleKernelClassifier, SharedSpace
from skfusion.utils._test_common import scale_modality


def _latent_blocks(n_samples=500, sizes=(4, 3, 5), strengths=(2.0, 1.0), seed=0):
    """Blocks that share latent variables of decreasing strength, plus noise."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_samples, len(strengths))) * strengths
    blocks = [
        latent @ rng.standard_normal((len(strengths), size))
        + rng.standard_normal((n_samples, size)) * (1.0 + 0.5 * i)
        for i, size in enumerate(sizes)
    ]
    return blocks


def _frame(blocks, names=None):
    names = names or [f"m{i}" for i in range(len(blocks))]
    columns = [
        f"{name}__x{j}"
        for name, block in zip(names, blocks, strict=True)
        for j in range(block.shape[1])
    ]
    return pd.DataFrame(np.hstack(blocks), columns=columns)


def _standardized(block):
    return (block - block.mean(axis=0)) / block.std(axis=0)


def _data(n_samples=120, sizes=(4, 3), missing_rate=0.0, random_state=0, **kwargs):
    return make_multimodal_classification(
        n_samples,
        modality_sizes=sizes,
        missing_rate=missing_rate,
        random_state=random_state,
        **kwargs,
    )


# --------------------------------------------------------------------------------
# SharedSpace
# --------------------------------------------------------------------------------


def test_shared_space_two_modalities_recovers_cca_correlations():
    first, second = _latent_blocks(sizes=(4, 3))
    shared = SharedSpace(n_components=2, regularization=1e-8)
    shared.fit(_frame([first, second]))
    cca = CCA(n_components=2, scale=True, max_iter=2000, tol=1e-10)
    x_scores, y_scores = cca.fit(first, second).transform(first, second)
    expected = [np.corrcoef(x_scores[:, k], y_scores[:, k])[0, 1] for k in range(2)]
    assert expected[0] > expected[1] > 0.2
    assert_allclose(shared.canonical_correlations_, expected, atol=1e-2)
    assert_allclose(shared.eigenvalues_, 1 + shared.canonical_correlations_)


def test_shared_space_projections_have_unit_variance_and_canonical_correlation():
    first, second = _latent_blocks(sizes=(4, 3))
    shared = SharedSpace(n_components=2, regularization=1e-8)
    shared.fit(_frame([first, second]))
    p_first = _standardized(first) @ shared.weights_["m0"]
    p_second = _standardized(second) @ shared.weights_["m1"]
    assert shared.weights_["m0"].shape == (4, 2)
    assert shared.weights_["m1"].shape == (3, 2)
    assert_allclose(p_first.std(axis=0), 1.0)
    assert_allclose(p_second.std(axis=0), 1.0)
    correlations = [np.corrcoef(p_first[:, k], p_second[:, k])[0, 1] for k in range(2)]
    assert_allclose(correlations, shared.canonical_correlations_, atol=1e-6)
    # Components of one modality are uncorrelated, as in CCA.
    assert abs(np.corrcoef(p_first.T)[0, 1]) < 1e-6
    # transform averages the two projections.
    assert_allclose(shared.transform(_frame([first, second])), (p_first + p_second) / 2)


def test_shared_space_three_modalities():
    blocks = _latent_blocks(sizes=(4, 3, 5))
    shared = SharedSpace(n_components=2).fit(_frame(blocks))
    assert list(shared.weights_) == ["m0", "m1", "m2"]
    projections = [
        _standardized(block) @ shared.weights_[f"m{i}"]
        for i, block in enumerate(blocks)
    ]
    for projection in projections:
        assert_allclose(projection.std(axis=0), 1.0)
    for k in range(2):
        pairwise = np.corrcoef([p[:, k] for p in projections])[np.triu_indices(3, 1)]
        assert (pairwise > 0.2).all()
        assert_allclose(shared.canonical_correlations_[k], pairwise.mean(), atol=0.02)
    assert shared.canonical_correlations_[0] > shared.canonical_correlations_[1]
    Xt = shared.transform(_frame(blocks))
    assert_allclose(Xt, np.mean(projections, axis=0))


def test_shared_space_missing_modalities_at_fit_and_transform():
    X, _ = _data(200, sizes=(4, 3, 3), missing_rate=0.3)
    X.iloc[0, 5] = np.nan  # a scattered missing value in a present block
    shared = SharedSpace(n_components=2).fit(X)
    assert np.isfinite(shared.canonical_correlations_).all()
    assert all(np.isfinite(w).all() for w in shared.weights_.values())

    X_new = X.iloc[:6].copy()
    X_new.iloc[1, 4:] = np.nan  # m1, m2 missing: only m0 left
    X_new.iloc[2, :] = np.nan  # no modality at all
    Xt = shared.transform(X_new)
    assert not np.isnan(Xt).any()
    assert_array_equal(Xt[2], 0.0)
    standardized = (X_new.to_numpy()[1, :4] - shared.mean_[:4]) / shared.scale_[:4]
    assert_allclose(Xt[1], standardized @ shared.weights_["m0"])


def test_shared_space_learns_from_training_rows_only():
    X, _ = _data(120, sizes=(4, 3))
    X_train, X_test = X.iloc[:80], X.iloc[80:]
    shared = SharedSpace().fit(X_train)
    train = X_train.to_numpy()
    assert_allclose(shared.mean_, train.mean(axis=0))
    assert_allclose(shared.scale_, train.std(axis=0))
    standardized = (X_test.to_numpy() - train.mean(axis=0)) / train.std(axis=0)
    expected = (
        standardized[:, :4] @ shared.weights_["m0"]
        + standardized[:, 4:] @ shared.weights_["m1"]
    ) / 2
    assert_allclose(shared.transform(X_test), expected)


def test_shared_space_is_reproducible_and_independent_of_row_order():
    X, _ = _data(150, sizes=(4, 3), missing_rate=0.2)
    first = SharedSpace().fit(X)
    second = SharedSpace().fit(X.sample(frac=1.0, random_state=1))
    for modality in first.weights_:
        assert_allclose(first.weights_[modality], second.weights_[modality])
    assert_allclose(first.transform(X), second.transform(X))
    restored = pickle.loads(pickle.dumps(first))
    assert_allclose(restored.transform(X), first.transform(X))


def test_shared_space_feature_names_and_pandas_output():
    X, _ = _data(60, sizes=(4, 3))
    X.index = np.arange(200, 260)
    shared = SharedSpace(n_components=3).set_output(transform="pandas")
    Xt = shared.fit_transform(X)
    assert list(Xt.columns) == ["shared0", "shared1", "shared2"]
    assert_array_equal(Xt.index, X.index)
    assert list(shared.get_feature_names_out()) == ["shared0", "shared1", "shared2"]


def test_shared_space_numpy_input_with_modalities_mapping():
    X, _ = _data(60, sizes=(4, 3))
    shared = SharedSpace(modalities={"a": slice(0, 4), "b": [4, 5, 6]})
    Xt = shared.fit_transform(X.to_numpy())
    assert list(shared.weights_) == ["a", "b"]
    assert_allclose(Xt, SharedSpace().fit_transform(X))


def test_shared_space_n_components_wider_than_a_modality_raises():
    X, _ = _data(40, sizes=(4, 2))
    with pytest.raises(ValueError, match="modality 'm1' \\(2 column"):
        SharedSpace(n_components=3).fit(X)


@pytest.mark.parametrize(
    ("sizes", "expected"), [((4, 2), 2), ((30, 25), 20), ((1, 9), 1)]
)
def test_shared_space_auto_components_fit_the_narrowest_modality(sizes, expected):
    X, _ = _data(60, sizes=sizes)
    shared = SharedSpace(n_components="auto").fit(X)
    assert shared.n_components == "auto"
    assert shared.n_components_ == expected
    assert shared.transform(X).shape == (60, expected)
    assert len(shared.get_feature_names_out()) == expected
    assert_allclose(
        shared.transform(X), SharedSpace(n_components=expected).fit_transform(X)
    )


def test_shared_space_needs_two_modalities():
    X, _ = _data(40, sizes=(4,))
    with pytest.raises(ValueError, match="at least 2 modalities.*4 feature\\(s\\)"):
        SharedSpace().fit(X)


def test_shared_space_singular_covariance_without_regularization_raises():
    X, _ = _data(40, sizes=(3, 3))
    X["m0__x1"] = 1.0
    with pytest.raises(ValueError, match="regularization"):
        SharedSpace(regularization=0.0).fit(X)
    assert np.isfinite(SharedSpace().fit_transform(X)).all()


def test_shared_space_in_a_grid_search_pipeline():
    X, y = _data(120, sizes=(5, 4), informativeness=2.0)
    pipe = make_pipeline(SharedSpace(), LogisticRegression())
    search = GridSearchCV(pipe, {"sharedspace__n_components": [1, 3]}, cv=3)
    search.fit(X, y)
    assert search.best_params_["sharedspace__n_components"] in (1, 3)
    assert search.score(X, y) > 0.7


def _noise_block_split(width, n_train=300, random_state=0):
    """An informative 5-column block and a pure-noise block, 3 classes."""
    X, y = _data(
        2 * n_train,
        sizes=(5, width),
        informativeness=(3.0, 0.0),
        n_classes=3,
        random_state=random_state,
    )
    return train_test_split(X, y, train_size=n_train, stratify=y, random_state=0)


def test_shared_space_auto_shrinkage_prevents_collapse_on_a_wide_noise_block():
    # A noise block about as wide as the training rows is the worst case: with
    # almost no shrinkage some projection of it matches any projection of the
    # other block on the training rows (correlations ~1), with weights so
    # large that on new rows it drowns the informative block. (Far wider
    # blocks, 1,500 columns here, collapse too, but their minimum-norm
    # weights are small and held-out accuracy suffers less.)
    X_train, X_test, y_train, y_test = _noise_block_split(320)
    scores, correlations = {}, {}
    for regularization in ("auto", 1e-3):
        pipe = make_pipeline(
            SharedSpace(n_components="auto", regularization=regularization),
            LogisticRegression(),
        ).fit(X_train, y_train)
        scores[regularization] = pipe.score(X_test, y_test)
        correlations[regularization] = pipe[0].canonical_correlations_
    assert correlations[1e-3].min() > 0.99
    assert scores[1e-3] < 0.55  # chance is 1/3
    assert correlations["auto"].max() < 0.9
    assert scores["auto"] > 0.65
    # The correlations are those of the training projections.
    shared = SharedSpace(n_components="auto").fit(X_train)
    p_first = _standardized(X_train.to_numpy()[:, :5]) @ shared.weights_["m0"]
    p_second = _standardized(X_train.to_numpy()[:, 5:]) @ shared.weights_["m1"]
    expected = [np.corrcoef(p_first[:, k], p_second[:, k])[0, 1] for k in range(5)]
    assert_allclose(shared.canonical_correlations_, expected, atol=1e-10)


@pytest.mark.parametrize("width", [320, 1500])
def test_shared_space_auto_shrinks_the_wider_noisier_block_more(width):
    X_train, *_ = _noise_block_split(width)
    shared = SharedSpace(n_components="auto").fit(X_train)
    assert set(shared.shrinkage_) == {"m0", "m1"}
    assert shared.shrinkage_["m1"] > 0.9
    assert shared.shrinkage_["m0"] < 0.3
    # A narrow block of strongly correlated columns, well sampled, barely.
    first, second = _latent_blocks(n_samples=500, sizes=(4, 3), strengths=(4.0, 3.0))
    correlated = SharedSpace().fit(_frame([first, second]))
    assert max(correlated.shrinkage_.values()) < 0.05


@pytest.mark.parametrize("shape", [(200, 6), (40, 90), (50, 1)])
def test_ledoit_wolf_shrinkage_matches_scikit_learn(shape):
    from sklearn.covariance import ledoit_wolf_shrinkage

    from skfusion.fusion.shared import _ledoit_wolf_shrinkage

    rng = np.random.default_rng(0)
    block = rng.standard_normal(shape) @ rng.standard_normal((shape[1],) * 2)
    block -= block.mean(axis=0)
    n_rows = shape[0]
    gram = block.T @ block if shape[1] <= n_rows else block @ block.T
    assert _ledoit_wolf_shrinkage(block, gram / n_rows) == pytest.approx(
        ledoit_wolf_shrinkage(block, assume_centered=True), rel=1e-10, abs=1e-12
    )
    # A block whose covariance is already a multiple of the identity.
    orthogonal = np.linalg.qr(rng.standard_normal((30, 4)))[0] * np.sqrt(30)
    assert _ledoit_wolf_shrinkage(orthogonal, orthogonal.T @ orthogonal / 30) == 1.0


def test_shared_space_auto_shrinkage_uses_the_rows_where_the_block_is_present():
    from sklearn.covariance import ledoit_wolf_shrinkage

    X, _ = _data(150, sizes=(4, 6, 3), missing_rate=0.3)
    X.iloc[0, 5] = np.nan  # a scattered missing value, imputed with the mean
    shared = SharedSpace().fit(X)
    standardized = np.nan_to_num((X.to_numpy() - shared.mean_) / shared.scale_)
    for modality, columns in shared.modalities_.items():
        rows = X.iloc[:, columns].notna().any(axis=1).to_numpy()
        expected = ledoit_wolf_shrinkage(
            standardized[rows][:, columns], assume_centered=True
        )
        assert shared.shrinkage_[modality] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(
    ("sizes", "regularization"),
    [((4, 3, 5), 1e-3), ((4, 60), 0.5), ((4, 60, 45), 2.0), ((3, 50), "auto")],
)
def test_shared_space_solves_the_shrunk_generalised_eigenproblem(sizes, regularization):
    # Reference: C w = l D w in full, D_ii = (1 - lambda_i) S_ii + lambda_i mu_i I.
    # The fit works in each block's row space when it is wider than its 40 rows.
    X, _ = _data(40, sizes=sizes, informativeness=2.0)
    shared = SharedSpace(n_components=2, regularization=regularization).fit(X)
    Z = _standardized(X.to_numpy())
    covariance = Z.T @ Z / len(Z)
    within = np.zeros_like(covariance)
    for modality, columns in shared.modalities_.items():
        block = np.ix_(columns, columns)
        shrinkage = shared.shrinkage_[modality]
        average = np.trace(covariance[block]) / columns.size
        shrunk = (1 - shrinkage) * covariance[block]
        covariance[block] = shrunk + shrinkage * average * np.eye(columns.size)
        within[block] = covariance[block]
    values, vectors = linalg.eigh(covariance, within)
    assert_allclose(shared.eigenvalues_, values[::-1][:2], rtol=1e-8)
    for modality, columns in shared.modalities_.items():
        for k in range(2):
            expected = vectors[columns, -1 - k]
            fitted = shared.weights_[modality][:, k]
            cosine = (
                expected @ fitted / np.linalg.norm(expected) / np.linalg.norm(fitted)
            )
            assert abs(cosine) > 1 - 1e-8


def test_shared_space_float_regularization_is_a_relative_ridge():
    X, _ = _data(80, sizes=(4, 3, 5))
    for regularization in (0.0, 1e-3, 0.5):
        shared = SharedSpace(regularization=regularization).fit(X)
        expected = regularization / (1 + regularization)
        assert shared.shrinkage_ == pytest.approx(
            {"m0": expected, "m1": expected, "m2": expected}
        )


def test_shared_space_pads_components_beyond_the_blocks_ranks():
    X, _ = _data(30, sizes=(3, 3))
    X.iloc[:, [1, 2, 4, 5]] = 1.0  # one varying column per modality
    shared = SharedSpace(n_components=3).fit(X)
    Xt = shared.transform(X)
    assert Xt.shape == (30, 3)
    assert np.isfinite(Xt).all()
    # Two directions in all (1 + rho and 1 - rho); the third carries nothing.
    assert_array_equal(Xt[:, 2], 0.0)
    assert shared.eigenvalues_[2] == 1.0
    assert shared.canonical_correlations_[2] == 0.0


def test_shared_space_regularization_parameter():
    shared = SharedSpace()
    assert shared.get_params()["regularization"] == "auto"
    assert clone(shared).regularization == "auto"
    shared.set_params(regularization=0.25)
    assert clone(shared).get_params()["regularization"] == 0.25
    X, _ = _data(60, sizes=(4, 3))
    assert shared.fit(X).shrinkage_["m0"] == pytest.approx(0.2)
    for invalid in ("ledoit-wolf", -0.1, None):
        with pytest.raises(ValueError, match="regularization"):
            SharedSpace(regularization=invalid).fit(X)


# --------------------------------------------------------------------------------
# MultipleKernelClassifier
# --------------------------------------------------------------------------------


def test_mkc_alignment_weights_favour_the_informative_modality():
    X, y = _data(150, sizes=(4, 4), informativeness=(3.0, 0.0))
    clf = MultipleKernelClassifier(random_state=0).fit(X, y)
    assert set(clf.kernel_weights_) == {"m0", "m1"}
    assert_allclose(sum(clf.kernel_weights_.values()), 1.0)
    assert clf.kernel_weights_["m0"] > 0.8
    assert clf.alignments_["m0"] > clf.alignments_["m1"]
    assert -1 <= clf.alignments_["m1"] <= clf.alignments_["m0"] <= 1
    assert clf.score(X, y) > 0.85


@pytest.mark.parametrize(
    "weights, expected",
    [
        ("uniform", {"m0": 0.5, "m1": 0.5}),
        ([1.0, 3.0], {"m0": 0.25, "m1": 0.75}),
        ({"m1": 4.0}, {"m0": 0.2, "m1": 0.8}),
        ({"m0": 0.0}, {"m0": 0.0, "m1": 1.0}),
    ],
)
def test_mkc_given_weights_are_normalised(weights, expected):
    X, y = _data(60, sizes=(3, 3))
    clf = MultipleKernelClassifier(weights=weights).fit(X, y)
    assert clf.kernel_weights_ == pytest.approx(expected)


@pytest.mark.parametrize(
    "weights, match",
    [
        ([1.0], "1 value"),
        ([-1.0, 1.0], "non-negative"),
        ([0.0, 0.0], "not all 0"),
        ({"m9": 1.0}, "'m9'"),
    ],
)
def test_mkc_invalid_weights_raise(weights, match):
    X, y = _data(40, sizes=(3, 3))
    with pytest.raises(ValueError, match=match):
        MultipleKernelClassifier(weights=weights).fit(X, y)


def test_mkc_linear_uniform_kernel_is_svc_on_concatenated_blocks():
    X, y = _data(80, sizes=(3, 4))
    clf = MultipleKernelClassifier("linear", weights="uniform").fit(X, y)
    # K = (K_0 + K_1) / 2 is the linear kernel of the scaled concatenation.
    features = _standardized(X.to_numpy()) / np.sqrt(2)
    reference = SVC(kernel="linear").fit(features, y)
    assert_allclose(
        clf.decision_function(X), reference.decision_function(features), atol=1e-6
    )


def test_mkc_kernel_and_params_per_modality():
    X, y = _data(60, sizes=(3, 3))
    clf = MultipleKernelClassifier(
        kernel={"m1": "poly"}, kernel_params={"m1": {"degree": 2, "coef0": 1.0}}
    ).fit(X, y)
    assert clf.kernels_ == {
        "m0": ("rbf", {}),
        "m1": ("poly", {"degree": 2, "coef0": 1.0}),
    }
    shared = MultipleKernelClassifier(kernel_params={"gamma": 0.1}).fit(X, y)
    assert shared.kernels_ == {
        "m0": ("rbf", {"gamma": 0.1}),
        "m1": ("rbf", {"gamma": 0.1}),
    }
    with pytest.raises(ValueError, match="'m9'"):
        MultipleKernelClassifier(kernel={"m9": "rbf"}).fit(X, y)
    with pytest.raises(ValueError, match="a mix"):
        MultipleKernelClassifier(kernel_params={"gamma": 1.0, "m0": {}}).fit(X, y)
    with pytest.raises(ValueError, match="kernel\\['m0'\\]"):
        MultipleKernelClassifier(kernel={"m0": "chi2"}).fit(X, y)


def test_mkc_default_rbf_gamma_is_one_over_block_width():
    X, y = _data(50, sizes=(3, 5))
    clf = MultipleKernelClassifier(weights=[0.0, 1.0]).fit(X, y)
    block = _standardized(X.to_numpy())[:, 3:]
    distances = ((block[:, None, :] - block[None, :, :]) ** 2).sum(axis=-1)
    assert_allclose(clf._combined_kernel(X), np.exp(-distances / 5))


def test_mkc_missing_modalities_keep_the_kernel_psd_and_predictions_finite():
    X, y = _data(200, sizes=(4, 4), missing_rate=0.3, informativeness=2.5)
    X.iloc[0, 1] = np.nan  # a scattered missing value as well
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    clf = MultipleKernelClassifier(random_state=0).fit(X_train, y_train)
    kernel = clf._combined_kernel(X_train)
    assert_allclose(kernel, kernel.T, atol=1e-12)
    assert np.linalg.eigvalsh(kernel).min() > -1e-8
    for method in ("predict_proba", "decision_function"):
        assert np.isfinite(getattr(clf, method)(X_test)).all()
    assert clf.score(X_test, y_test) > 0.8


def test_mkc_missing_modality_stands_for_the_mean_feature_vector():
    X, y = _data(80, sizes=(3, 3))
    clf = MultipleKernelClassifier(weights=[1.0, 0.0]).fit(X, y)
    train_kernel = clf._combined_kernel(X)
    X_new = X.iloc[:2].copy()
    X_new.iloc[0, :3] = np.nan
    kernel = clf._combined_kernel(X_new)
    assert_allclose(kernel[0], train_kernel.mean(axis=0))
    assert_allclose(kernel[1], train_kernel[1])


def test_mkc_multiclass_string_labels_and_probabilities():
    X, y = _data(150, sizes=(3, 4), n_classes=3, informativeness=3.0)
    labels = np.array(["low", "mid", "high"])[y]
    clf = MultipleKernelClassifier(random_state=0).fit(X, labels)
    assert_array_equal(clf.classes_, ["high", "low", "mid"])
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.decision_function(X).shape == (150, 3)
    assert clf.score(X, labels) > 0.8


def test_mkc_one_class_raises():
    X, y = _data(30, sizes=(3, 3))
    with pytest.raises(ValueError, match="1 class"):
        MultipleKernelClassifier().fit(X, np.zeros(30))


def test_mkc_calibrates_in_sample_when_a_class_has_one_row():
    X, y = _data(30, sizes=(3, 3))
    y = np.zeros(30, dtype=int)
    y[0] = 1
    clf = MultipleKernelClassifier(random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (30, 2)
    assert np.isfinite(proba).all()


def test_mkc_is_reproducible_with_random_state():
    X, y = _data(80, sizes=(3, 3), missing_rate=0.2)
    first = MultipleKernelClassifier(random_state=3).fit(X, y).predict_proba(X)
    clf = MultipleKernelClassifier(random_state=3)
    second = clf.fit(X, y).predict_proba(X)
    assert_allclose(first, second)
    restored = pickle.loads(pickle.dumps(clf))
    assert_allclose(restored.predict_proba(X), second)
    assert_allclose(clone(clf).fit(X, y).predict_proba(X), second)


def test_mkc_in_a_grid_search():
    X, y = _data(90, sizes=(3, 3))
    search = GridSearchCV(
        MultipleKernelClassifier(random_state=0), {"C": [0.1, 10.0]}, cv=3
    ).fit(X, y)
    assert search.best_params_["C"] in (0.1, 10.0)


def test_kernel_classifier_predicts_rows_that_all_lack_a_modality():
    from skfusion.datasets import make_multimodal_classification
    from skfusion.fusion import MultipleKernelClassifier

    X, y = make_multimodal_classification(
        80, modality_sizes=(3, 4), informativeness=2.0, random_state=0
    )
    model = MultipleKernelClassifier(random_state=0).fit(X, y)
    only_m0 = X.iloc[:5].copy()
    only_m0[[c for c in X.columns if c.startswith("m1__")]] = np.nan
    proba = model.predict_proba(only_m0)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_shared_space_falls_back_when_lapack_returns_too_few_components(
    monkeypatch,
):
    # LAPACK's subset driver returned 5 of 7 eigenpairs on a DrugLib fold
    # (ill-conditioned one-hot blocks); the full solve must take over.
    import skfusion.fusion.shared as shared_module

    X, _ = make_multimodal_classification(
        120, modality_sizes=(6, 8), missing_rate=0.0, random_state=0
    )
    expected = SharedSpace(n_components=4).fit(X)
    eigh = shared_module.linalg.eigh

    def short_subset(*args, **kwargs):
        values, vectors = eigh(*args, **kwargs)
        if kwargs.get("subset_by_index") is not None:
            return values[1:], vectors[:, 1:]
        return values, vectors

    monkeypatch.setattr(shared_module.linalg, "eigh", short_subset)
    fallback = SharedSpace(n_components=4).fit(X)
    assert fallback.transform(X).shape == (120, 4)
    assert_allclose(fallback.eigenvalues_, expected.eigenvalues_, rtol=1e-8)
    assert_allclose(
        np.abs(fallback.transform(X)), np.abs(expected.transform(X)), atol=1e-8
    )


# --------------------------------------------------------------------------------
# Scale invariance (issue 12): a modality of 1e300 or 1e-300 is not ignored
# --------------------------------------------------------------------------------


@pytest.mark.parametrize("factor", [1e300, 1e-300])
def test_shared_space_is_scale_invariant(factor):
    X, _ = _data(80, missing_rate=0.2)
    expected = SharedSpace(n_components=2).fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        X_scaled = scale_modality(X, "m1", factor)
        scaled = SharedSpace(n_components=2).fit_transform(X_scaled)
    assert_allclose(scaled, expected, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("factor", [1e300, 1e-300])
@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_multiple_kernel_classifier_is_scale_invariant(kernel, factor):
    X, y = _data(80, missing_rate=0.2)
    model = MultipleKernelClassifier(kernel=kernel, random_state=0)
    expected = model.fit(X, y).predict_proba(X)
    scaled = scale_modality(X, "m0", factor)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        proba = model.fit(scaled, y).predict_proba(scaled)
    # The standardised blocks agree to rounding; libsvm stops its solver at
    # tol=1e-3, so a rounding-level change of the kernel can move the fitted
    # probabilities by ~1e-5 on one CPU and not another. A scale the model
    # did not undo would move them by far more.
    assert_allclose(proba, expected, rtol=0, atol=1e-4)
