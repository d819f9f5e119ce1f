"""A point that would run for hours does not hold the driver: SIGTERM and Ctrl-C stop it within
seconds on the threads and processes backends, the finished point is kept, the store resumes.

The runaway point is ``tau_e = 1e-9`` ms: 1.2e11 updates per ms of model time, so its 100 ms
warm-up alone is 1.2e13 updates (hours at any speed); the other point (``tau_e = 10``) takes
milliseconds.  The bound of 60 s only tells a stop from a hang (the point would need hours).
"""

from __future__ import annotations

import signal
import time

import pytest

from sweeps.store.sweep_store import OK, TODO, SweepStore
from tests.reliability.conftest import ok_count, stop, sweeps_cli, wait_for_points

RUNAWAY = """\
[experiment]
name = "runaway"
model = "clustered_ei"
seed = 1
[parameters]
N_E = 80
N_I = 20
Q = 2
R_Eplus = 1.5
[sweep]
tau_e = [10.0, 1e-9]
[simulation]
duration = "20 ms"
warmup = "100 ms"
sample_interval = "2 ms"
[output]
correlation_neurons = 4
"""


@pytest.mark.parametrize("backend", [("--threads", "2"), ("--processes", "2")], ids=["threads", "processes"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_a_runaway_point_does_not_hold_the_driver(sig, backend, tmp_path, reliability):
    definition, store = tmp_path / "runaway.toml", tmp_path / "s.zarr"
    definition.write_text(RUNAWAY)
    proc = sweeps_cli("run", definition, "--store", store, *backend)
    try:
        wait_for_points(store, proc, minimum=1, timeout=300)  # the first run may compile the kernels
        time.sleep(1.0)  # the runaway point is inside its warm-up
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        stop(proc)
    assert proc.returncode == (130 if sig == signal.SIGINT else 143), err
    assert "interrupted: 1/2 points done; run the same command to resume" in err
    assert not (tmp_path / "s.zarr.lock").exists()
    assert ok_count(store) == 1
    resumable = SweepStore.open(store)
    assert resumable.status().ravel().tolist() == [OK, TODO] and resumable.pending() == [1]
