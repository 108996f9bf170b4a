"""The study-table workflow end to end: extraction, early fusion, model selection."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfusion.compose import make_modality_transformer
from skfusion.fusion import BlockScaler, FeatureFusion


def _study_table(n_subjects=60, images_per_subject=2, missing_rate=0.2, seed=0):
    """Subjects with several rows each; 20% of rows lack the image modality."""
    rng = np.random.default_rng(seed)
    n = n_subjects * images_per_subject
    subject = np.repeat(np.arange(n_subjects), images_per_subject)
    label = rng.integers(0, 2, n_subjects)[subject]
    table = pd.DataFrame(
        {
            "age": 50 + 10 * label + rng.normal(0, 8, n),
            "crp": rng.normal(label, 1.0, n),
            **{f"img{j}": rng.normal(0.8 * label, 1.0, n) for j in range(12)},
        },
        index=pd.Index([f"row{i}" for i in range(n)], name="image_id"),
    )
    missing = rng.permutation(n)[: int(round(missing_rate * n))]
    table.iloc[missing, 2:] = np.nan
    return table, pd.Series(label, index=table.index), subject, table.index[missing]


def _pipeline(final=None):
    return make_pipeline(
        make_modality_transformer(
            ("clinical", StandardScaler(), ["age", "crp"]),
            ("image", "passthrough", [f"img{j}" for j in range(12)]),
        ),
        BlockScaler(add_indicator=True),
        final or LogisticRegression(),
    )


def test_grid_search_with_group_folds_and_missing_modality():
    table, y, groups, missing_rows = _study_table()
    search = GridSearchCV(
        _pipeline(),
        param_grid={
            "blockscaler__block_weights": [None, {"image": 0.5}, {"image": 2.0}],
            "logisticregression__C": [0.1, 1.0],
        },
        cv=StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=0),
    )
    search.fit(table, y, groups=groups)
    assert search.best_score_ > 0.7
    proba = search.predict_proba(table.loc[missing_rows])
    assert proba.shape == (len(missing_rows), 2)
    assert np.isfinite(proba).all()
    assert len(search.predict(table)) == len(table)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_cross_validate_with_stratified_group_kfold(n_jobs):
    table, y, groups, _ = _study_table(seed=1)
    scores = cross_validate(
        _pipeline(),
        table,
        y,
        groups=groups,
        cv=StratifiedGroupKFold(n_splits=3),
        scoring="accuracy",
        n_jobs=n_jobs,
    )
    assert np.all(scores["test_score"] > 0.6)


def test_feature_fusion_in_the_same_workflow():
    table, y, groups, missing_rows = _study_table(seed=2)
    pipeline = make_pipeline(
        _pipeline().steps[0][1],
        FeatureFusion("mean", n_components=2),
        LogisticRegression(),
    )
    search = GridSearchCV(
        pipeline,
        {"featurefusion__method": ["concat", "sum", "mean", "product"]},
        cv=StratifiedGroupKFold(n_splits=3),
    ).fit(table, y, groups=groups)
    assert np.isfinite(search.predict_proba(table.loc[missing_rows])).all()


def test_predictions_keep_row_order_and_count():
    table, y, _, _ = _study_table(seed=3)
    model = _pipeline().fit(table, y)
    shuffled = table.sample(frac=1.0, random_state=0)
    expected = pd.Series(model.predict_proba(table)[:, 1], index=table.index)
    got = model.predict_proba(shuffled)[:, 1]
    np.testing.assert_allclose(got, expected.loc[shuffled.index].to_numpy())


def test_infinity_in_study_table_names_modality_column_and_row():
    table, y, _, _ = _study_table(seed=4)
    table.iloc[7, table.columns.get_loc("crp")] = np.inf
    with pytest.raises(
        ValueError, match=r"Modality 'clinical': column 'crp' .* row 'row7' of the"
    ):
        _pipeline().fit(table, y)
    model = _pipeline().fit(table.drop(index="row7"), y.drop(index="row7"))
    with pytest.raises(ValueError, match=r"Modality 'clinical': column 'crp'"):
        model.predict(table)


def test_infinity_in_a_study_names_the_table_row_not_the_fold_position():
    # Issue 26, C9: row 11 of the table is row 6 of its training fold.
    from skfusion.study import FusionStudy

    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        rng.normal(size=(30, 4)), columns=["a__x0", "a__x1", "b__x2", "b__x3"]
    )
    X.loc[11, "b__x2"] = np.inf
    study = FusionStudy(
        [("a", "passthrough", ["a__x0", "a__x1"]), ("b", "passthrough", ["b__x2"])],
        strategies=["early:linear"],
        cv=3,
        random_state=0,
        contributions=None,
    )
    with pytest.raises(ValueError, match="infinity at row 11 of the table") as error:
        study.fit(X, np.tile([0, 1], 15))
    assert "np.int64" not in str(error.value) and "row 6" not in str(error.value)


def test_infinity_in_blocked_matrix_names_modality_column_and_row():
    table, y, _, _ = _study_table(seed=4)
    blocked = _pipeline().steps[0][1].fit_transform(table)
    blocked.iloc[5, 1] = -np.inf
    with pytest.raises(
        ValueError,
        match=r"infinity in column 'clinical__crp' of modality 'clinical', row 'row5'",
    ):
        BlockScaler().fit(blocked, y)


def test_modality_absent_at_predict_is_named():
    table, y, _, _ = _study_table(seed=5)
    model = _pipeline().fit(table, y)
    with pytest.raises(ValueError, match=r"Modality 'image'.*'img0'"):
        model.predict(table.drop(columns=["img0"]))


def test_blocked_matrix_with_modality_dropped_at_predict():
    table, y, _, _ = _study_table(seed=6)
    blocked = _pipeline().steps[0][1].fit_transform(table)
    model = make_pipeline(BlockScaler(), LogisticRegression()).fit(blocked, y)
    image_columns = [c for c in blocked.columns if c.startswith("image__")]
    with pytest.raises(ValueError, match=r"Modality 'image' was present"):
        model.predict(blocked.drop(columns=image_columns))


def test_target_with_one_class_is_refused():
    table, _, _, _ = _study_table(seed=7)
    with pytest.raises(ValueError, match="class"):
        _pipeline().fit(table, np.zeros(len(table)))


def test_late_fusion_grid_search_over_combiner_and_a_modality_c():
    from skfusion.fusion import LateFusionClassifier

    table, y, groups, missing_rows = _study_table(seed=8)
    pipeline = make_pipeline(
        _pipeline().steps[0][1],
        LateFusionClassifier(
            modality_estimators={"image": LogisticRegression()}, random_state=0
        ),
    )
    search = GridSearchCV(
        pipeline,
        {
            "latefusionclassifier__combiner": ["mean", "weighted", "stacking"],
            "latefusionclassifier__modality_estimators__image__C": [0.01, 1.0],
        },
        cv=StratifiedGroupKFold(n_splits=3),
    ).fit(table, y, groups=groups)
    best = search.best_estimator_[-1]
    assert best.estimators_["image"].C in (0.01, 1.0)
    proba = search.predict_proba(table.loc[missing_rows])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("kind", ["shared", "kernel"])
def test_shared_space_fusion_in_the_study_workflow(kind):
    from skfusion.fusion import MultipleKernelClassifier, SharedSpace

    table, y, groups, missing_rows = _study_table(seed=9)
    if kind == "shared":
        fusion = [SharedSpace(n_components=2), LogisticRegression()]
        grid = {"sharedspace__n_components": [1, 2]}
    else:
        fusion = [MultipleKernelClassifier(random_state=0)]
        grid = {"multiplekernelclassifier__C": [0.1, 1.0]}
    pipeline = make_pipeline(_pipeline().steps[0][1], *fusion)
    search = GridSearchCV(pipeline, grid, cv=StratifiedGroupKFold(n_splits=3))
    search.fit(table, y, groups=groups)
    assert search.best_score_ > 0.6
    assert np.isfinite(search.predict_proba(table.loc[missing_rows])).all()
