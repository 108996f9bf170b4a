"""The README quickstart runs as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.skipif(not README.exists(), reason="README.md not found")
def test_quickstart_runs_and_fits_under_twenty_lines(capsys):
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "README has no python quickstart"
    quickstart = blocks[0]
    assert len([line for line in quickstart.splitlines() if line.strip()]) <= 20
    exec(compile(quickstart, str(README), "exec"), {})
    assert "blockscaler__block_weights" in capsys.readouterr().out
