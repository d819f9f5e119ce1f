"""Compile kernels ahead of use: all of them (:func:`warm_numba_caches`) or one network's.

Kernels compile lazily anyway, on the first use of each signature, so neither is needed
for correct results: :func:`warm_numba_caches` is for those who want every layout ready
(about a minute of compilation with an empty cache), :func:`warm_network` keeps the
compilation of a network's simulation kernel out of a timed run.

Kernels are compiled with ``cache=True``: the first process writes the machine code to the
numba cache directory (``NUMBA_CACHE_DIR`` or ``__pycache__``) and later processes load it.
Numba writes cache files under temporary names and renames them into place, so processes
that warm one shared cache directory at the same time do not corrupt it.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import scipy.sparse as sp

log = logging.getLogger("binnet_core")

_lock = threading.Lock()
_warmed = False


def _tiny_network(dtype, weight_mode, shared, matrix=None, crowded=False):
    from binnet_core.network import BinaryNetwork
    from binnet_core.populations import BackgroundActivity, BinaryNeuronPopulation
    from binnet_core.synapses import FixedIndegreeSynapse, PairwiseBernoulliSynapse

    net = BinaryNetwork("warm-up")
    a = net.add_population(BinaryNeuronPopulation(net, N=3, threshold=0.5, initializer=[1, 0, 1]))
    b = net.add_population(BackgroundActivity(net, N=2, Activity=0.5, Stochastic=True))
    # more than 15 contacts on a pair need 8-bit dense counts instead of 4-bit ones
    net.add_synapse(PairwiseBernoulliSynapse(net, a, a, p=16.0 if crowded else 1.5, j=0.4))
    net.add_synapse(FixedIndegreeSynapse(net, b, a, p=0.5, j=0.3))
    if not shared:  # a second weight on one block forces per-contact float weights
        net.add_synapse(FixedIndegreeSynapse(net, b, a, p=0.5, j=0.2, multapses=False))
    net.initialize(weight_mode=weight_mode, weight_dtype=dtype, seed=0, weights=matrix)
    return net


def _exercise(net):
    net.enable_diff_logging(8)
    net.run(4)
    net.update_sequence([0, 1])
    updates, deltas = net.consume_diff_log()
    net.reconstruct_states_from_diff_logs(np.zeros(net.N, np.int8), updates, deltas)
    net.population_rates_from_diff_logs(np.zeros(net.N, np.int8), updates, deltas)
    net.connectivity_stats()


def _compile_wide_index_paths(dtype):
    """Sparse generation with int32 indices (populations above 65,536 neurons)."""
    from binnet_core import _build_kernels as bk

    counts = np.zeros((1, 1), np.int64)
    block = np.array([[0, 1, 0, 0]], np.int64)
    for vals in (np.zeros(0, dtype), np.zeros(1, dtype)):
        index = np.zeros(1, np.int32)
        bk.pairs_sparse(False, counts, counts, index, vals, 0, 0, block, np.ones(1, np.uint64),
                        np.zeros((1, 1), np.uint64), np.ones(1, np.int64), np.ones(1, dtype))
        bk.indegree_sparse(False, counts, counts, index, vals, 0, 0, 0,
                           np.zeros((0, 1), np.int64), 1.0)
    bk.distinct_targets(np.zeros(0, np.int32), np.zeros((0, 2), np.int64))


def warm_network(net) -> None:
    """Compile (or load) the simulation kernel for ``net``'s layout; the network is unchanged."""
    from binnet_core.network import BinaryNetwork

    if isinstance(net, BinaryNetwork) and net.connectivity is not None:
        net._advance(0, np.zeros(0, dtype=np.int64))  # zero updates: compiles, changes nothing


def warm_numba_caches() -> None:
    """Compile (or load from the cache) all kernels once per process; idempotent."""
    global _warmed
    with _lock:
        if _warmed:
            return
        started = time.perf_counter()
        for dtype in (np.float32, np.float64):
            for mode in ("dense", "sparse"):
                for shared in (True, False):
                    _exercise(_tiny_network(dtype, mode, shared))
                _exercise(_tiny_network(dtype, mode, True, matrix=np.eye(5)[::-1].copy()))
            _exercise(_tiny_network(dtype, "dense", True, crowded=True))  # 8-bit counts
            _exercise(_tiny_network(dtype, "sparse", True, matrix=sp.random(5, 5, 0.5, random_state=0)))
            _compile_wide_index_paths(dtype)
        _warmed = True
        log.info("numba kernels ready in %.2f s", time.perf_counter() - started)
