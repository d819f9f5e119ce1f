"""warm_numba_caches is idempotent (two processes sharing one empty cache: tests/reliability)."""

from __future__ import annotations

import time

import binnet_core
from binnet_core import warmup


def test_warm_numba_caches_is_idempotent():
    binnet_core.warm_numba_caches()
    assert warmup._warmed
    started = time.perf_counter()
    binnet_core.warm_numba_caches()
    assert time.perf_counter() - started < 0.01
