"""examples/python run end to end (a few steps each) and write their figures."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"


@pytest.mark.parametrize("name, figure, printed", [
    ("rotation", "rotation.png", "KL(truth || model)"),
    ("flow_zoo", "flow_zoo.png", "| energy4 |"),
    ("bernstein_regression", "bernstein_regression.png", "| Bernstein, order 16 |"),
])
def test_example_runs(tmp_path, name, figure, printed):
    result = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--steps", "20", "--out", str(tmp_path)],
                            capture_output=True, text=True, env=dict(os.environ), timeout=600)
    assert result.returncode == 0, result.stderr
    assert printed in result.stdout
    assert (tmp_path / figure).stat().st_size > 10_000
