"""The API reference (docs/api, sphinx autodoc) builds from the docstrings without a warning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import subprocess_env

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.docs
def test_api_reference_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="the docs extra (sphinx) is not installed")
    out = tmp_path / "html"
    result = subprocess.run([sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html",
                             str(ROOT / "docs" / "api"), str(out)], env=subprocess_env(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    analysis = (out / "analysis.html").read_text()
    assert "sweeps.analysis.datasets.summarize" in analysis and "n_boot" in analysis
    assert "sweeps.api.start" in (out / "running.html").read_text()
