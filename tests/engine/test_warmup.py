"""After warm_numba_caches() nothing compiles.

Two processes sharing one empty cache: tests/reliability/test_warmup.py.

A fresh process, so that no other test has compiled anything yet: it warms the caches, then
builds and runs clustered networks in each layout (and a re-imported weight matrix) and
reports every kernel signature added after the warm-up. Loading from the disk cache adds
signatures too, so this does not depend on what the cache already holds.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT, subprocess_env

SCRIPT = """
import json
import numpy as np
import binnet_core
from binnet_core import PopulationActivityRecorder, _build_kernels, _sim_kernels
from binnet_core.clustered import ClusteredEINetwork

def signatures():
    return {(module.__name__, name, str(sig))
            for module in (_build_kernels, _sim_kernels)
            for name, value in vars(module).items() if hasattr(value, "signatures")
            for sig in value.signatures}

binnet_core.warm_numba_caches()
warmed = signatures()
params = {"N_E": 80, "N_I": 20, "Q": 4, "R_Eplus": 2.0}
for mode in ("dense", "sparse"):
    for connection_type in ("bernoulli", "poisson", "fixed_indegree"):
        net = ClusteredEINetwork(params, connection_type=connection_type, weight_mode=mode, seed=1)
        net.run(500, recorders=[PopulationActivityRecorder(100)])
        net.connectivity_stats()
        net.initialize(weights=net.weight_matrix(), weight_mode=mode, seed=1)
        net.run(500)
print(json.dumps(sorted(signatures() - warmed)))
"""


def test_building_and_running_after_warm_numba_caches_compiles_nothing():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=subprocess_env(),
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []
