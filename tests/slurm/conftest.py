"""Fixtures and helpers for tests against a real SLURM cluster (see .ci/slurm/start.sh).

The tests here skip when SLURM is absent (no ``SLURM_CONF`` or no ``sinfo``) and fail when it
is configured but not answering, or when ``SWEEPS_REQUIRE_SLURM=1`` (set by ``.ci/run``).
"""

import os
import shutil
import subprocess
import time
from pathlib import Path

import dask
import numpy as np
import pytest

from sweeps import LocalThreads, load_experiment, open_results, run_sweep
from sweeps.execution.batch.systems import parse_sinfo
from sweeps.execution.task import TIMING_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
START_HINT = "SLURM not running: start it with .ci/slurm/start.sh"


class Slurm:
    """Queries and job control on the running SLURM, by job id only."""

    def __init__(self, nodes):
        self.nodes = nodes
        self.max_cpus = max(n.cpus for n in nodes)

    @staticmethod
    def _run(*command: str) -> str:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, f"{' '.join(command)}: {done.stderr.strip()}"
        return done.stdout

    def job_ids(self) -> set[str]:
        """Ids of all pending or running jobs."""
        return set(self._run("squeue", "-h", "-o", "%i").split())

    def job(self, job_id: str) -> dict[str, str]:
        """``scontrol show job`` fields of one job (kept for MinJobAge after it ends)."""
        text = self._run("scontrol", "show", "job", "-o", str(job_id))
        return dict(item.split("=", 1) for item in text.split() if "=" in item)

    def state(self, job_id: str) -> str:
        return self.job(job_id)["JobState"]

    def cancel(self, *job_ids: str) -> None:
        if job_ids:
            self._run("scancel", *job_ids)

    @staticmethod
    def wait(predicate, timeout: float, what: str, interval: float = 0.5):
        """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        pytest.fail(f"timed out after {timeout} s waiting for {what}")


def _problem() -> tuple[str, bool] | None:
    """(reason, absent) when SLURM cannot be used; absent=True means not installed/configured."""
    if not os.environ.get("SLURM_CONF"):
        return "SLURM_CONF is not set", True
    if shutil.which("sinfo") is None:
        return "sinfo not found", True
    try:
        done = subprocess.run(["sinfo", "-h", "-o", "%P %c %m %l"], capture_output=True,
                              text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "sinfo did not answer within 20 s", False
    if done.returncode != 0 or not done.stdout.strip():
        return f"sinfo failed: {done.stderr.strip()[:200]}", False
    return None


@pytest.fixture(scope="session")
def slurm_cluster() -> Slurm:
    """The running SLURM cluster; skips with a reason when SLURM is not available."""
    problem = _problem()
    if problem is not None:
        reason, absent = problem
        if absent and os.environ.get("SWEEPS_REQUIRE_SLURM") != "1":
            pytest.skip(f"{START_HINT} ({reason})")
        pytest.fail(f"SLURM is required but unusable: {reason}")
    return Slurm(parse_sinfo(Slurm._run("sinfo", "-h", "-o", "%P %c %m %l")))


#: The scheduler's dashboard on loopback (dask-jobqueue's default ":8787" is every interface).
LOOPBACK_DASHBOARD = {"dashboard_address": "127.0.0.1:0"}


@pytest.fixture
def slurm(slurm_cluster, monkeypatch):
    """Per test: worker jobs can import the project and log at dask's default level, schedulers (in this process, in CLI
    processes and in driver jobs) serve their dashboard on loopback only, and jobs the test
    left are cancelled."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("DASK_JOBQUEUE__SLURM__SCHEDULER_OPTIONS", repr(LOOPBACK_DASHBOARD))
    # worker jobs inherit this environment: they log at dask's default level, whatever an
    # in-process ``sweeps`` command of an earlier (module-scoped) fixture set
    monkeypatch.delenv("DASK_LOGGING__DISTRIBUTED", raising=False)
    before = slurm_cluster.job_ids()
    import dask_jobqueue  # noqa: F401  (its config defaults first, then this one key over them)

    with dask.config.set({"jobqueue.slurm.scheduler-options": LOOPBACK_DASHBOARD}):
        yield slurm_cluster
    leftover = slurm_cluster.job_ids() - before
    slurm_cluster.cancel(*sorted(leftover))


POINTS = 18  # the toy definition of tests/conftest.py


def cluster_table(tmp_path, jobs: int) -> str:
    """A ``[cluster]`` table the 2-CPU CI node can run (1-core jobs, logs under tmp_path)."""
    return f"""
[cluster]
cores = 1
memory = "1GB"
walltime = "00:10:00"
jobs = {jobs}
interface = "lo"
log_directory = "{tmp_path / 'logs'}"
driver_memory = "1GB"
"""


@pytest.fixture
def slurm_definition(toy_definition, tmp_path):
    """Factory: the toy definition with a [cluster] table for the local SLURM."""

    def make(jobs: int = 2, extra_parameters: str = ""):
        path = toy_definition(extra_parameters=extra_parameters)
        path.write_text(path.read_text() + cluster_table(tmp_path, jobs))
        return path

    return make


def threaded_baseline(definition, tmp_path):
    """Run ``definition`` with local threads into ``tmp_path/threads.zarr`` (the reference)."""
    path = tmp_path / "threads.zarr"
    assert run_sweep(load_experiment(definition), path, LocalThreads(2)).complete
    return path


def assert_same_data(a, b) -> None:
    """The stores ``a`` and ``b`` hold bit-identical data (timings excepted)."""
    da, db = open_results(a), open_results(b)
    names = sorted(n for n in da.data_vars if n not in TIMING_VARIABLES)
    assert names == sorted(n for n in db.data_vars if n not in TIMING_VARIABLES)
    for name in names:
        assert da[name].dtype == db[name].dtype, name
        np.testing.assert_array_equal(da[name].values, db[name].values, err_msg=name)
