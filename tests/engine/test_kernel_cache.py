"""Cached kernels never run stale code after an edit to another module of the package.

A kernel in ``_build_kernels`` or ``_sim_kernels`` inlines helpers from ``_rng`` (and the
flip routine); numba's own cache only checks the file that defines the kernel. The test
works on a temporary copy of the package with a temporary ``NUMBA_CACHE_DIR``: it fills the
cache, edits a helper module, and checks that the next run behaves like a fresh compile of
the edited sources.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import binnet_core

PACKAGE = Path(binnet_core.__file__).resolve().parent

SCRIPT = """
import hashlib, json, logging
import numpy as np
import binnet_core as bc
from binnet_core import _build_kernels, _sim_kernels

status = []
handler = logging.Handler()
handler.emit = status.append
logging.getLogger("binnet_core.compile").addHandler(handler)
logging.getLogger("binnet_core.compile").setLevel(logging.INFO)

net = bc.BinaryNetwork("cache")
a = net.add_population(bc.BinaryNeuronPopulation(net, N=24, threshold=0.5, initializer=0.5))
net.add_synapse(bc.PairwiseBernoulliSynapse(net, a, a, p=0.3, j=0.25))
net.initialize(weight_mode="dense", seed=3)
field = net.field.copy()
net.run(200)
dispatchers = [v for m in (_build_kernels, _sim_kernels) for v in vars(m).values()
               if hasattr(v, "stats")]
print(json.dumps({
    "wiring": hashlib.sha256(net.weight_matrix().toarray().tobytes()).hexdigest(),
    "dynamics": hashlib.sha256(field.tobytes() + net.state.tobytes()).hexdigest(),
    "cache_hits": sum(sum(d.stats.cache_hits.values()) for d in dispatchers),
    "status_lines": sum(r.levelno == logging.INFO for r in status),
    "signatures": {d.py_func.__name__: len(d.signatures) for d in dispatchers},
}))
"""

#: An edit of a helper that kernels of two other modules inline: the random stream's mixer.
EDIT = ("_rng.py", "_M1 = np.uint64(0xBF58476D1CE4E5B9)", "_M1 = np.uint64(0xBF58476D1CE4E5B7)")


def _start(root: Path, cache: Path) -> subprocess.Popen:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(root)}
    return subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> dict:
    try:
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    return json.loads(out.splitlines()[-1])


def _run(root: Path, cache: Path) -> dict:
    return _finish(_start(root, cache))


def test_editing_a_helper_module_invalidates_the_kernels_that_use_it(tmp_path):
    root = tmp_path / "src"
    shutil.copytree(PACKAGE, root / "binnet_core", ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "cache"
    before = _run(root, cache)
    again = _run(root, cache)
    assert again["cache_hits"] > 0, "the second run should load the kernels from the cache"
    assert again["wiring"] == before["wiring"] and again["dynamics"] == before["dynamics"]
    # compiling shows one status line, loading from the cache none
    assert (before["status_lines"], again["status_lines"]) == (1, 0)
    # only what the network uses: one signature of the simulation kernel, no sparse kernels
    assert before["signatures"]["simulate"] == 1 and before["signatures"]["pairs_sparse"] == 0

    name, old, new = EDIT
    helper = root / "binnet_core" / name
    text = helper.read_text()
    assert text.count(old) == 1
    helper.write_text(text.replace(old, new))
    # the edited sources with the filled cache and with an empty one (at the same time)
    edited, fresh = map(_finish, [_start(root, cache), _start(root, tmp_path / "fresh-cache")])
    assert fresh["wiring"] != before["wiring"], "the edit must change the network"
    assert (edited["wiring"], edited["dynamics"]) == (fresh["wiring"], fresh["dynamics"])
