"""Multi-label targets (a 0/1 indicator matrix) in the non-deep classifiers."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, train_test_split
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import (
    check_classifier_multioutput,
    check_classifiers_multilabel_output_format_predict,
    check_classifiers_multilabel_output_format_predict_proba,
    check_classifiers_multilabel_representation_invariance,
)

from skfusion.compose import make_modality_transformer
from skfusion.datasets import (
    load_av_digits,
    load_av_digits_findings,
    make_multimodal_classification,
)
from skfusion.extractors import AudioFeatures, ImageFeatures
from skfusion.fusion import (
    BlockScaler,
    LateFusionClassifier,
    MultipleKernelClassifier,
    make_modality_pipeline,
)

COMBINERS = ["mean", "weighted", "product", "stacking", "vote"]
FINDINGS = ["even", "greater_than_4", "prime"]


def _data(n_samples=240, missing_rate=0.3, informativeness=2.0, random_state=0):
    return make_multimodal_classification(
        n_samples,
        modality_sizes=(4, 4),
        informativeness=informativeness,
        n_labels=3,
        missing_rate=missing_rate,
        random_state=random_state,
    )


def _auc(Y, proba):
    Y = np.asarray(Y)
    return [roc_auc_score(Y[:, j], proba[:, j]) for j in range(Y.shape[1])]


# -- LateFusionClassifier on synthetic multi-label data ---------------------------


@pytest.mark.parametrize("combiner", COMBINERS)
def test_late_fusion_learns_every_label_of_held_out_rows(combiner):
    X, Y = _data()
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, random_state=0)
    model = LateFusionClassifier(combiner=combiner, cv=3, random_state=0)
    model.fit(X_train, Y_train)

    proba = model.predict_proba(X_test)
    assert proba.shape == (len(X_test), 3)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert min(_auc(Y_test, proba)) > 0.75
    predicted = model.predict(X_test)
    assert predicted.dtype == Y_train.to_numpy().dtype
    assert_array_equal(predicted, (proba > 0.5).astype(int))
    assert [c.tolist() for c in model.classes_] == [[0, 1]] * 3
    assert model.label_names_.tolist() == ["y0", "y1", "y2"]
    assert_allclose(model.class_prior_, Y_train.mean().to_numpy())


@pytest.mark.parametrize("combiner", COMBINERS)
def test_each_label_is_combined_as_its_own_binary_target(combiner):
    # With the same folds, the multi-label model's label j is the binary
    # late-fusion model fitted on column j alone: the rules apply per label.
    X, Y = _data(n_samples=150)
    cv = KFold(3, shuffle=True, random_state=0)
    model = LateFusionClassifier(combiner=combiner, cv=cv).fit(X, Y)
    proba = model.predict_proba(X)
    for j, label in enumerate(Y.columns):
        binary = LateFusionClassifier(combiner=combiner, cv=cv).fit(X, Y[label])
        assert_allclose(proba[:, j], binary.predict_proba(X)[:, 1], atol=1e-6)
        if combiner == "weighted":
            for modality, weights in model.modality_weights_.items():
                assert weights[j] == pytest.approx(
                    binary.modality_weights_[modality], abs=1e-6
                )


def test_stacking_trains_one_final_estimator_per_label():
    X, Y = _data(n_samples=150)
    model = LateFusionClassifier(combiner="stacking", cv=3, random_state=0)
    model.fit(X, Y)
    assert model.modality_weights_ is None
    assert len(model.final_estimator_) == 3
    for final in model.final_estimator_:
        assert isinstance(final, LogisticRegression)
        # Per modality the label's two binary probabilities, then availability.
        assert final.n_features_in_ == 2 * 2 + 2
    assert len({id(final) for final in model.final_estimator_}) == 3


def test_a_row_is_predicted_from_its_available_modalities():
    X, Y = _data(missing_rate=0.0)
    model = LateFusionClassifier().fit(X, Y)
    X_new = X.iloc[:4].copy()
    X_new.iloc[0, :4] = np.nan  # m0 missing
    X_new.iloc[1, 4:] = np.nan  # m1 missing
    X_new.iloc[2, :] = np.nan  # nothing
    proba = model.predict_proba(X_new)
    by_modality = model.predict_proba_by_modality(X_new)
    assert np.isnan(by_modality["m0"][[0, 2]]).all()
    assert_allclose(proba[0], by_modality["m1"][0])
    assert_allclose(proba[1], by_modality["m0"][1])
    assert_allclose(proba[2], model.class_prior_)
    assert_allclose(proba[3], (by_modality["m0"][3] + by_modality["m1"][3]) / 2)


def test_rows_missing_a_modality_at_fit_are_left_out_of_its_model():
    X, Y = _data(missing_rate=0.4)
    model = LateFusionClassifier().fit(X, Y)
    for modality in ("m0", "m1"):
        present = X.filter(like=f"{modality}__").notna().any(axis=1).sum()
        assert present < len(X)
        for label_model in model.estimators_[modality].estimators_:
            scaler = label_model.estimator_["standardscaler"]
            assert_array_equal(scaler.n_samples_seen_, present)


def test_predict_by_modality_has_one_column_per_modality_and_label():
    X, Y = _data(n_samples=120)
    model = LateFusionClassifier().fit(X, Y)
    table = model.predict_by_modality(X)
    assert list(table.columns) == [(m, y) for m in ("m0", "m1") for y in Y.columns]
    missing = X.filter(like="m0__").isna().all(axis=1).to_numpy()
    assert table["m0"][missing].isna().all().all()
    assert set(np.unique(table["m0"][~missing])) <= {0.0, 1.0}


def test_the_wrapping_rule_follows_the_estimators_tags():
    X, Y = _data(n_samples=120)
    model = LateFusionClassifier(
        modality_estimators={
            "m0": KNeighborsClassifier(),
            "m1": MultiOutputClassifier(LogisticRegression()),
        }
    ).fit(X, Y)
    # Both take the indicator matrix themselves; the default pipeline does not.
    assert isinstance(model.estimators_["m0"], KNeighborsClassifier)
    assert isinstance(model.estimators_["m1"], MultiOutputClassifier)
    assert isinstance(model.estimators_["m1"].estimator, LogisticRegression)
    default = LateFusionClassifier().fit(X, Y).estimators_["m0"]
    assert isinstance(default, MultiOutputClassifier)
    assert len(default.estimators_) == 3


def test_a_single_class_label_among_a_modalitys_rows_gets_its_prior():
    X, Y = _data(missing_rate=0.0)
    # m1 is only measured in rows where y0 is 1.
    X.loc[Y["y0"] == 0, X.columns[4:]] = np.nan
    with pytest.warns(UserWarning, match=r"Modality 'm1' has a single class in "):
        model = LateFusionClassifier().fit(X, Y)
    present = X["m1__x0"].notna().to_numpy()
    m1 = model.predict_proba_by_modality(X)["m1"]
    assert_allclose(m1[present, 0], 1.0)
    # The other labels still vary in those rows and are learned.
    assert m1[present, 1].std() > 0.05


def test_class_weight_balanced_weighs_each_labels_classes():
    X, Y = make_multimodal_classification(
        400,
        modality_sizes=(4, 4),
        informativeness=1.0,
        n_labels=2,
        weights=(0.9, 0.1),
        random_state=0,
    )
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, random_state=0)

    def recall(class_weight):
        logistic = LogisticRegression(class_weight=class_weight)
        model = LateFusionClassifier(make_modality_pipeline(logistic))
        model.fit(X_train, Y_train)
        for label_model in model.estimators_["m0"].estimators_:
            assert label_model.estimator_[-1].class_weight == class_weight
        predicted = model.predict(X_test)
        positive = Y_test.to_numpy() == 1
        return [predicted[positive[:, j], j].mean() for j in range(2)]

    plain, balanced = recall(None), recall("balanced")
    assert all(b > p + 0.2 for b, p in zip(balanced, plain, strict=True))


def test_fitted_model_survives_pickle_and_clone():
    X, Y = _data(n_samples=120)
    model = LateFusionClassifier(combiner="stacking", cv=3, random_state=0)
    model.fit(X, Y)
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    assert_array_equal(restored.label_names_, model.label_names_)
    refitted = clone(model).fit(X, Y)
    assert_allclose(refitted.predict_proba(X), model.predict_proba(X))


def test_a_1d_refit_forgets_the_labels():
    X, Y = _data(n_samples=120)
    model = LateFusionClassifier().fit(X, Y)
    model.fit(X, Y["y0"])
    assert not hasattr(model, "label_names_")
    assert isinstance(model.classes_, np.ndarray)
    assert model.predict_proba(X).shape == (len(X), 2)


def test_a_plain_array_target_keeps_no_label_names():
    X, Y = _data(n_samples=120)
    model = LateFusionClassifier(modalities={"m0": slice(0, 4), "m1": slice(4, 8)})
    model.fit(X.to_numpy(), Y.to_numpy().astype(bool))
    assert not hasattr(model, "label_names_")
    assert model.predict(X.to_numpy()).dtype == bool


def test_late_fusion_passes_sklearns_multilabel_checks_with_a_native_model():
    # test_common.py runs these checks on the default (wrapped) models; here
    # the model takes the indicator matrix itself. Not the neighbours: the
    # check wants probabilities strictly inside (0, 1) from an array.
    model = LateFusionClassifier(
        MultiOutputClassifier(LogisticRegression()),
        modalities={"first": [0], "rest": slice(1, None)},
    )
    for check in (
        check_classifier_multioutput,
        check_classifiers_multilabel_representation_invariance,
        check_classifiers_multilabel_output_format_predict,
        check_classifiers_multilabel_output_format_predict_proba,
    ):
        check("LateFusionClassifier", model)


# -- named refusals ---------------------------------------------------------------


def test_late_fusion_refuses_a_2d_target_that_is_not_an_indicator_matrix():
    X, Y = _data(n_samples=60, missing_rate=0.0)
    multiclass = Y.to_numpy() + np.arange(60)[:, None] % 3
    with pytest.raises(ValueError, match="'multiclass-multioutput'"):
        LateFusionClassifier().fit(X, multiclass)
    with pytest.raises(ValueError, match="0/1 multi-label indicator matrix"):
        LateFusionClassifier().fit(X, Y + 1)


def test_late_fusion_refuses_a_label_with_a_single_value():
    X, Y = _data(n_samples=60, missing_rate=0.0)
    Y["y1"] = 1
    with pytest.raises(ValueError, match=r"label\(s\) \['y1' \(1\)\] take a single"):
        LateFusionClassifier().fit(X, Y)


def test_multiple_kernel_classifier_refuses_a_multilabel_target():
    X, Y = _data(n_samples=60, missing_rate=0.0)
    with pytest.raises(
        ValueError,
        match=(
            r"MultipleKernelClassifier does not support multi-label targets "
            r"\(y has 3 columns\); use LateFusionClassifier"
        ),
    ):
        MultipleKernelClassifier().fit(X, Y)
    # A column vector is one label, as in scikit-learn.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MultipleKernelClassifier().fit(X, Y[["y0"]])


# -- early fusion -----------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator",
    [
        KNeighborsClassifier(n_neighbors=10),
        RandomForestClassifier(n_estimators=50, random_state=0),
        MultiOutputClassifier(LogisticRegression()),
    ],
    ids=lambda e: type(e).__name__,
)
def test_early_fusion_pipeline_takes_a_multilabel_target(estimator):
    X, Y = _data()
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, random_state=0)
    model = make_pipeline(BlockScaler(add_indicator=True), estimator)
    model.fit(X_train, Y_train)
    predicted = model.predict(X_test)
    assert predicted.shape == Y_test.shape
    proba = np.column_stack([p[:, 1] for p in model.predict_proba(X_test)])
    assert min(_auc(Y_test, proba)) > 0.75


# -- the bundled digits as findings -----------------------------------------------


def test_findings_are_functions_of_the_digit():
    digits = load_av_digits()
    findings = load_av_digits_findings()
    assert findings.target_names == FINDINGS
    assert list(findings.target.columns) == FINDINGS
    assert findings.target.dtypes.eq(np.int64).all()
    digit = digits.target
    expected = pd.DataFrame(
        {
            "even": digit % 2 == 0,
            "greater_than_4": digit >= 5,
            "prime": digit.isin([2, 3, 5, 7]),
        }
    ).astype(np.int64)
    pd.testing.assert_frame_equal(findings.target, expected)
    pd.testing.assert_frame_equal(findings.data, digits.data)
    assert list(findings.frame.columns) == list(digits.data.columns) + FINDINGS
    assert "load_av_digits_findings" in findings.DESCR


def test_findings_as_arrays_and_subsets():
    X, Y = load_av_digits_findings(subset="test", return_X_y=True, as_frame=False)
    assert X.shape == (300, 4) and Y.shape == (300, 3)
    assert Y.dtype == np.int64
    with pytest.raises(ValueError, match="subset must be one of"):
        load_av_digits_findings(subset="validation")
    with pytest.raises(ValueError, match="as_frame must be a bool"):
        load_av_digits_findings(as_frame="yes")


@pytest.fixture(scope="module")
def digit_findings_blocks():
    """Compact audio and image blocks of the digits, FSDD's train/test split."""
    X, Y = load_av_digits_findings(return_X_y=True)
    train = (X["split"] == "train").to_numpy()
    blocks = make_modality_transformer(
        ("audio", AudioFeatures(features=("mfcc",)), "audio"),
        (
            "image",
            ImageFeatures(features=("hog",), size=(28, 28), hog_pixels_per_cell=(7, 7)),
            "image",
        ),
    )
    return (
        blocks.fit_transform(X[train], Y[train]),
        blocks.transform(X[~train]),
        Y[train],
        Y[~train],
    )


@pytest.mark.parametrize("combiner", ["mean", "stacking"])
def test_late_fusion_finds_the_digit_findings_of_held_out_rows(
    combiner, digit_findings_blocks
):
    X_train, X_test, Y_train, Y_test = digit_findings_blocks
    model = LateFusionClassifier(combiner=combiner, random_state=0)
    model.fit(X_train, Y_train)
    fused = _auc(Y_test, model.predict_proba(X_test))
    assert min(fused) > 0.7
    # Fusing the two modalities beats either one alone, averaged over labels.
    for modality, proba in model.predict_proba_by_modality(X_test).items():
        assert np.mean(fused) > np.mean(_auc(Y_test, proba)), modality


# -- the synthetic generator ------------------------------------------------------


def test_synthetic_labels_keep_each_modalitys_informativeness():
    X, Y = make_multimodal_classification(
        600,
        modality_sizes=(5, 5),
        informativeness=(3.0, 0.0),
        n_labels=3,
        random_state=0,
    )
    assert list(Y.columns) == ["y0", "y1", "y2"]
    assert_allclose(Y.mean().to_numpy(), 0.5)
    for modality, low, high in (("m0", 0.85, 1.0), ("m1", 0.0, 0.62)):
        block = X.filter(like=f"{modality}__")
        for label in Y.columns:
            X_train, X_test, y_train, y_test = train_test_split(
                block, Y[label], random_state=0
            )
            score = LogisticRegression().fit(X_train, y_train).score(X_test, y_test)
            # Phi(3 / 2) = 0.93 is the Bayes accuracy of the informative block.
            assert low < score < high, (modality, label, score)


def test_synthetic_labels_as_arrays_and_reproducible():
    X, Y = make_multimodal_classification(
        50, n_labels=4, as_frame=False, random_state=1
    )
    X2, Y2 = make_multimodal_classification(
        50, n_labels=4, as_frame=False, random_state=1
    )
    assert Y.shape == (50, 4) and Y.dtype == np.int64
    assert_array_equal(X, X2)
    assert_array_equal(Y, Y2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_labels": 1}, "n_labels must be None or an int >= 2"),
        ({"n_labels": 2.0}, "n_labels must be None or an int >= 2"),
        ({"n_labels": 3, "n_classes": 3}, "n_labels needs n_classes=2"),
        ({"n_labels": 3, "interaction": True}, "n_labels needs n_classes=2"),
    ],
)
def test_synthetic_labels_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_multimodal_classification(40, **kwargs)


# -- deep fusion ----------------------------------------------------------------------


def test_deep_fusion_predicts_every_label_with_balanced_label_weights():
    from skfusion.deep import DeepFusionClassifier

    X, Y = make_multimodal_classification(
        400, modality_sizes=(5, 5), n_labels=3, missing_rate=0.2, random_state=0
    )
    model = DeepFusionClassifier(
        max_epochs=30, class_weight="balanced", random_state=0
    ).fit(X.iloc[:300], Y.iloc[:300])
    proba = model.predict_proba(X.iloc[300:])
    assert proba.shape == (100, 3)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert_array_equal(model.predict(X.iloc[300:]), (proba > 0.5).astype(int))
    assert model.label_names_.tolist() == list(Y.columns)
    assert len(model.classes_) == 3
    for k in range(3):
        assert roc_auc_score(Y.iloc[300:, k], proba[:, k]) > 0.75
    # Each label's 1s weighted by n / (2 n_1), its 0s by n / (2 n_0).
    positives = Y.iloc[:300].to_numpy().sum(axis=0)
    criterion = model.criterion_
    assert type(criterion).__name__ == "BCEWithLogitsLoss"
    np.testing.assert_allclose(
        criterion.pos_weight.numpy(), (300 - positives) / positives, rtol=1e-6
    )
    # A row with no modality gets each label's training frequency.
    empty = X.iloc[:1].copy()
    empty[:] = np.nan
    np.testing.assert_allclose(model.predict_proba(empty)[0], positives / 300)
    np.testing.assert_allclose(
        pickle.loads(pickle.dumps(model)).predict_proba(X.iloc[300:]), proba
    )
    model.partial_fit(X.iloc[:300], Y.iloc[:300])
    with pytest.raises(ValueError, match="needs the 3 labels of the first fit"):
        model.partial_fit(X.iloc[:300], Y.iloc[:300, :2])


def test_deep_fusion_refuses_what_is_no_indicator_matrix():
    from skfusion.deep import DeepFusionClassifier, DeepFusionRegressor

    X, Y = make_multimodal_classification(
        60, modality_sizes=(3, 3), n_labels=2, random_state=0
    )
    with pytest.raises(ValueError, match="0/1 indicator matrix"):
        DeepFusionClassifier(max_epochs=1).fit(X, Y * 2)
    with pytest.raises(ValueError, match="single value in every training row"):
        DeepFusionClassifier(max_epochs=1).fit(X, Y.assign(y0=1))
    with pytest.raises(ValueError, match="supports a 1-D target"):
        DeepFusionRegressor(max_epochs=1).fit(X, Y)


def test_every_classifier_takes_a_multilabel_target_or_names_its_refusal():
    from sklearn.base import is_classifier

    from skfusion.utils._test_common import instances_to_check

    X, Y = make_multimodal_classification(
        80, modality_sizes=(3, 3), n_labels=2, missing_rate=0.0, random_state=0
    )
    seen = set()
    for estimator in instances_to_check():
        if not is_classifier(estimator) or type(estimator) in seen:
            continue
        seen.add(type(estimator))
        model = clone(estimator)
        if model.__sklearn_tags__().classifier_tags.multi_label:
            proba = model.fit(X, Y).predict_proba(X)
            assert np.shape(proba) == (80, 2), type(model).__name__
        else:
            with pytest.raises(ValueError, match=type(model).__name__):
                model.fit(X, Y)
    assert {"LateFusionClassifier", "DeepFusionClassifier"} <= {
        kind.__name__ for kind in seen
    }
    assert "MultipleKernelClassifier" in {kind.__name__ for kind in seen}
