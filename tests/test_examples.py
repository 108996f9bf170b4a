"""The gallery examples run on the real data (skipped without ../shared/data)."""

import runpy
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


@pytest.mark.slow
@pytest.mark.skipif(
    not (DATA / "covid_chestxray").is_dir(), reason="../shared/data is absent"
)
def test_chest_xray_example_runs(capsys, monkeypatch):
    pytest.importorskip("skimage")
    monkeypatch.setattr(sys, "argv", ["plot_chest_xray_modalities.py", str(DATA)])
    monkeypatch.setenv("MPLBACKEND", "Agg")
    runpy.run_path(str(REPO / "examples" / "plot_chest_xray_modalities.py"))
    printed = capsys.readouterr().out
    assert "early fusion   ROC AUC" in printed
    assert "xray        0.98" in printed
