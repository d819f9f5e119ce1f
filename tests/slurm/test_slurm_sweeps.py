"""Whole sweeps on a real SLURM: same data as threads, driver as a batch job, a cancelled job."""

import subprocess
import sys
import threading

import numpy as np
import pytest

from sweeps import load_experiment, open_results, run_sweep
from sweeps.errors import PreflightError
from sweeps.execution.batch.config import ClusterConfig
from sweeps.execution.batch.jobqueue import JobqueueExecutor
from sweeps.execution.batch.submit import submit_driver
from sweeps.store.sweep_store import OK, SweepStore
from tests.slurm.conftest import POINTS, assert_same_data, threaded_baseline

pytestmark = pytest.mark.slurm

def worker_job_ids(executor) -> set[str]:
    return {job.job_id for job in executor.cluster.workers.values() if job.job_id}


def test_slurm_sweep_equals_threads(slurm, slurm_definition, tmp_path):
    definition = slurm_definition(jobs=2)
    experiment = load_experiment(definition)
    executor = JobqueueExecutor("slurm", experiment.cluster)
    path = tmp_path / "slurm.zarr"
    summary = run_sweep(experiment, path, executor)
    assert summary.complete and summary.executed == POINTS and summary.failed == 0
    assert "slurm (2 jobs x 1 cores" in open_results(path).attrs["runs"][-1]["backend"]
    assert_same_data(threaded_baseline(definition, tmp_path), path)


def test_cli_run_on_slurm(slurm, slurm_definition, tmp_path):
    definition = slurm_definition(jobs=1)
    path = tmp_path / "cli.zarr"
    run = subprocess.run([sys.executable, "-m", "sweeps", "run", str(definition), "--store",
                          str(path), "--cluster", "slurm"], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"{POINTS}/{POINTS} ok" in run.stdout
    assert_same_data(threaded_baseline(definition, tmp_path), path)


def test_impossible_request_fails_before_any_work(slurm, slurm_definition, tmp_path):
    definition = slurm_definition()
    definition.write_text(definition.read_text().replace("cores = 1", f"cores = {slurm.max_cpus + 1}"))
    experiment = load_experiment(definition)
    before = slurm.job_ids()
    with pytest.raises(PreflightError, match=rf"^cluster\.cores: {slurm.max_cpus + 1} cores per job"):
        JobqueueExecutor("slurm", experiment.cluster)  # built before run_sweep touches a store
    assert slurm.job_ids() == before


def test_submitted_driver_finishes_sweep(slurm, slurm_definition, tmp_path):
    # driver (1 CPU) + one worker job (1 CPU) fit the 2-CPU CI node together
    definition = slurm_definition(jobs=1)
    path = tmp_path / "submitted.zarr"
    config = ClusterConfig.from_mapping(load_experiment(definition).cluster, "slurm")
    job = submit_driver(definition, path, config)
    assert job.log_path == tmp_path / "logs" / f"sweeps-driver-{job.job_id}.log"
    assert slurm.job(job.job_id)["JobName"] == "sweeps-driver"
    readings = []

    def finished():
        if path.exists() and (path / "zarr.json").exists():
            status = subprocess.run([sys.executable, "-m", "sweeps", "status", str(path)],
                                    capture_output=True, text=True, timeout=60)
            readings.append((status.returncode, status.stdout))
        return slurm.state(job.job_id) not in ("PENDING", "RUNNING", "COMPLETING")

    slurm.wait(finished, 600, f"driver job {job.job_id} to finish", interval=2)
    log = job.log_path.read_text()
    assert slurm.state(job.job_id) == "COMPLETED", log[-3000:]
    assert f"{POINTS}/{POINTS} ok" in log
    status = subprocess.run([sys.executable, "-m", "sweeps", "status", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0
    assert f"{POINTS} points: 0 todo, {POINTS} ok, 0 failed" in status.stdout
    assert all(code in (0, 1) for code, _ in readings)  # status readable while running
    assert_same_data(threaded_baseline(definition, tmp_path), path)


def test_scancel_worker_job_mid_sweep(slurm, slurm_definition, tmp_path):
    definition = slurm_definition(jobs=2, extra_parameters="sleep = 0.1")  # ~1 s per point
    experiment = load_experiment(definition)
    executor = JobqueueExecutor("slurm", experiment.cluster)
    path = tmp_path / "cancelled.zarr"
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(summary=run_sweep(experiment, path, executor)))
    runner.start()
    try:
        def two_workers_and_progress():
            if executor.client is None or len(worker_job_ids(executor)) < 2:
                return False
            if len(executor.client.scheduler_info()["workers"]) < 2 or not (path / "zarr.json").exists():
                return False
            done = int(np.sum(SweepStore.open(path, mode="r").status() == OK))
            return done if 2 <= done <= POINTS - 6 else False

        done_before = slurm.wait(two_workers_and_progress, 300, "two workers and some points done",
                                 interval=0.2)
        victim = sorted(worker_job_ids(executor))[0]
        slurm.cancel(victim)
    finally:
        runner.join(timeout=600)
    assert not runner.is_alive()
    summary = outcome["summary"]
    assert slurm.state(victim) == "CANCELLED"
    assert summary.complete and summary.executed == POINTS and summary.ok == POINTS
    assert summary.failed == 0
    assert done_before < POINTS  # cancelled mid-sweep
    assert_same_data(threaded_baseline(definition, tmp_path), path)


def test_adaptive_sweep_on_slurm_chooses_the_points_of_a_threaded_run(slurm, tmp_path):
    """Rounds are submitted to the SLURM workers as they are chosen; the chosen points and their
    data are those of a run with one local thread."""
    from sweeps import LocalThreads
    from tests.slurm.conftest import cluster_table
    from tests.sweeps.execution.test_adaptive import TOML

    definition = tmp_path / "adaptive.toml"
    definition.write_text(TOML.format(budget=40) + cluster_table(tmp_path, 2))
    experiment = load_experiment(definition)
    threads, on_slurm = tmp_path / "threads.zarr", tmp_path / "slurm.zarr"
    assert run_sweep(experiment, threads, LocalThreads(1)).complete
    assert run_sweep(experiment, on_slurm, JobqueueExecutor("slurm", experiment.cluster)).complete
    a, b = open_results(threads).load(), open_results(on_slurm).load()
    assert np.isfinite(a["adaptive_round"].values).sum() > 9  # rounds after the coarse lattice ran
    np.testing.assert_array_equal(b["adaptive_round"].values, a["adaptive_round"].values)
    np.testing.assert_array_equal(b["active"].values, a["active"].values)
    assert "slurm (2 jobs x 1 cores" in b.attrs["runs"][-1]["backend"]
