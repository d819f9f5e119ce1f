"""Scenario 8: two processes warm one empty numba cache directory at the same time."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.reliability.conftest import stop

SCRIPT = (
    "import time, binnet_core; t = time.perf_counter(); binnet_core.warm_numba_caches(); "
    "from tests.test_engine import _fingerprint; s, f, u = _fingerprint(3); "
    "print(round(time.perf_counter() - t, 3), s.tobytes().hex())"
)


def _start(cache_dir):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_processes_warm_one_empty_cache_directory_at_once(tmp_path, reliability):
    cache = tmp_path / "numba-cache"
    procs = [_start(cache), _start(cache)]
    outputs = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err
            outputs.append(out.split())
    finally:
        for proc in procs:
            stop(proc)
    assert any(cache.rglob("*.nbi")) and any(cache.rglob("*.nbc"))
    third = _start(cache)  # loads the shared cache: same results, no corrupt entries
    try:
        out, err = third.communicate(timeout=600)
    finally:
        stop(third)
    assert third.returncode == 0, err
    seconds, fingerprint = out.split()
    assert outputs[0][1] == outputs[1][1] == fingerprint
    assert float(seconds) < min(float(o[0]) for o in outputs)
