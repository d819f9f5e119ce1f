"""warm_numba_caches: idempotent, and safe for processes sharing one empty cache directory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import binnet_core
from binnet_core import warmup

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = (
    "import time, binnet_core; t = time.perf_counter(); binnet_core.warm_numba_caches(); "
    "from tests.test_engine import _fingerprint; s, f, u = _fingerprint(3); "
    "print(round(time.perf_counter() - t, 3), s.tobytes().hex())"
)


def test_warm_numba_caches_is_idempotent():
    binnet_core.warm_numba_caches()
    assert warmup._warmed
    started = time.perf_counter()
    binnet_core.warm_numba_caches()
    assert time.perf_counter() - started < 0.01


def _start(cache_dir):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_warm_one_empty_cache_directory_at_once(tmp_path):
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
            if proc.poll() is None:
                proc.kill()
    assert any(cache.rglob("*.nbi")) and any(cache.rglob("*.nbc"))
    third = _start(cache)  # loads the shared cache: same results, no corrupt entries
    out, err = third.communicate(timeout=600)
    assert third.returncode == 0, err
    seconds, fingerprint = out.split()
    assert outputs[0][1] == outputs[1][1] == fingerprint
    assert float(seconds) < min(float(o[0]) for o in outputs)
