"""Tests for the ``skfusion`` command line."""

import subprocess
import sys

import pandas as pd
import pytest

from skfusion.cli import main, run_demo


def test_run_demo_compares_each_modality_with_early_fusion():
    results = run_demo(cv=2, max_samples=300, random_state=0)
    assert list(results["strategy"]) == [
        "tabular only",
        "text only",
        "early fusion (BlockScaler)",
    ]
    assert results["accuracy_mean"].between(0, 1).all()
    # Both modalities carry signal: each beats always predicting "positive".
    assert (results["accuracy_mean"] > 0.5).all()


def test_demo_command_prints_table_and_writes_csv(tmp_path, capsys):
    output = tmp_path / "demo.csv"
    status = main(
        ["demo", "--cv", "2", "--max-samples", "200", "--output", str(output)]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "early fusion (BlockScaler)" in printed
    assert str(output.resolve()) in printed
    assert len(pd.read_csv(output)) == 3


def test_unknown_dataset_is_refused():
    with pytest.raises(ValueError, match="dataset must be one of"):
        run_demo("imagenet")
    with pytest.raises(SystemExit):
        main(["demo", "--dataset", "imagenet"])


def test_import_skfusion_does_not_import_torch():
    code = (
        "import sys, skfusion, skfusion.fusion, skfusion.compose, skfusion.datasets;"
        "heavy = [m for m in ('torch', 'skorch') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
