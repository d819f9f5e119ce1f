"""Two processes fill one empty numba cache directory at the same time."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT
from tests.reliability.conftest import stop

#: Runs a dense and a sparse network (their kernels compile on first use, or load from the
#: cache) and prints one line per kernel compiled in this process, then the final states.
SCRIPT = (
    "import logging, sys; from tests.engine.test_engine import _fingerprint; "
    "compiles = logging.getLogger('binnet_core.compile'); compiles.setLevel(logging.DEBUG); "
    "compiles.addHandler(logging.StreamHandler(sys.stdout)); "
    "states = [_fingerprint(3, mode=m)[0].tobytes().hex() for m in ('dense', 'sparse')]; "
    "print('states', *states)"
)


def _start(cache_dir):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc) -> tuple[list[str], list[str]]:
    """(lines naming a compiled kernel, final states) of a finished script."""
    try:
        out, err = proc.communicate(timeout=600)
    finally:
        stop(proc)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert lines[-1].startswith("states "), out
    return [line for line in lines if line.startswith("compiled ")], lines[-1].split()[1:]


def test_two_processes_fill_one_empty_cache_directory_at_once(tmp_path, reliability):
    cache = tmp_path / "numba-cache"
    racing = [_finish(proc) for proc in [_start(cache), _start(cache)]]
    assert racing[0][0] or racing[1][0]  # the cache was empty: somebody compiled
    assert any(cache.rglob("*.nbi")) and any(cache.rglob("*.nbc"))
    compiled, states = _finish(_start(cache))  # loads the shared cache: no corrupt entries
    assert compiled == []
    assert racing[0][1] == racing[1][1] == states
