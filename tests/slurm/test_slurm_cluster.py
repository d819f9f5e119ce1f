"""dask-jobqueue workers as real SLURM jobs, started from a ClusterConfig."""

import os

import dask
import pytest

from sweeps.errors import PreflightError
from sweeps.execution.batch.config import ClusterConfig
from sweeps.execution.batch.jobqueue import client_for
from sweeps.execution.batch.submit import preflight

pytestmark = pytest.mark.slurm


def config(tmp_path, **changes) -> ClusterConfig:
    table = {"cores": 1, "memory": "1GB", "walltime": "00:10:00", "jobs": 1, "interface": "lo",
             "log_directory": str(tmp_path / "logs")}
    return ClusterConfig.from_mapping({**table, **changes}, "slurm")


def ask(client):
    """The process id of a worker and the SLURM job it runs in."""

    def where():  # nested: pickled by value, the test module is not importable on workers
        import os

        return os.getpid(), os.environ.get("SLURM_JOB_ID")

    return client.submit(where, pure=False).result(timeout=60)


def test_worker_runs_as_slurm_job(slurm, tmp_path):
    cluster, client = client_for(config(tmp_path))
    try:
        client.wait_for_workers(1, timeout=120)
        sockets = cluster.scheduler.http_server._sockets.values()  # the dashboard's, bound
        assert {sock.getsockname()[0] for sock in sockets} == {"127.0.0.1"}  # loopback only
        pid, job_id = ask(client)
        assert pid != os.getpid()
        assert job_id in {job.job_id for job in cluster.workers.values()}
        job = slurm.job(job_id)
        assert job["JobState"] == "RUNNING"
        assert (job["NumCPUs"], job["MinMemoryNode"], job["TimeLimit"]) == ("1", "954M", "00:10:00")
        assert job["JobName"] == "sweeps-worker"
        assert (tmp_path / "logs" / f"sweeps-worker-{job_id}.err").exists()
    finally:
        client.close()
        cluster.close()
    slurm.wait(lambda: slurm.state(job_id) in ("CANCELLED", "COMPLETED"), 60,
               f"worker job {job_id} to end after cluster.close()")


def test_preflight_against_sinfo(slurm, tmp_path):
    fits = config(tmp_path, cores=slurm.max_cpus)
    assert preflight(fits)
    too_many = config(tmp_path, cores=slurm.max_cpus + 1)
    before = slurm.job_ids()
    with pytest.raises(PreflightError, match=rf"^cluster\.cores: {slurm.max_cpus + 1} cores per "
                       rf"job, but the largest node in partition '\w+' has {slurm.max_cpus} CPUs"):
        client_for(too_many)
    with pytest.raises(PreflightError, match=r"^cluster\.memory: "):
        preflight(config(tmp_path, memory="64TB"))
    with pytest.raises(PreflightError, match=r"^cluster\.queue: partition 'nonexistent' "):
        preflight(config(tmp_path, queue="nonexistent"))
    assert slurm.job_ids() == before  # nothing was submitted


def test_cancelled_job_is_replaced(slurm, tmp_path):
    with dask.config.set({"distributed.deploy.lost-worker-timeout": "1s"}):
        cluster, client = client_for(config(tmp_path))
        try:
            client.wait_for_workers(1, timeout=120)
            _, first = ask(client)
            slurm.cancel(first)
            slurm.wait(lambda: len(client.scheduler_info()["workers"]) == 0, 60,
                       "the cancelled worker to leave")
            client.wait_for_workers(1, timeout=120)
            _, second = ask(client)
            assert second != first
            assert slurm.state(first) == "CANCELLED"
            assert slurm.state(second) == "RUNNING"
        finally:
            client.close()
            cluster.close()


@pytest.mark.slow
def test_worker_leaves_before_walltime_and_is_replaced(slurm, tmp_path):
    # walltime 60 s, margin 30 s, stagger 5 s: the worker leaves 20-30 s after it starts
    cfg = config(tmp_path, walltime="00:01:00", lifetime_margin=30, lifetime_stagger=5)
    assert cfg.worker_lifetime == (25, 5)
    with dask.config.set({"distributed.deploy.lost-worker-timeout": "1s"}):
        cluster, client = client_for(cfg)
        try:
            client.wait_for_workers(1, timeout=120)
            _, first = ask(client)
            slurm.wait(lambda: slurm.state(first) != "RUNNING", 100,
                       f"job {first} to end by worker lifetime")
            job = slurm.job(first)
            # ended well before walltime, not by TIMEOUT (the scancel that dask-jobqueue sends
            # once the worker is gone may win the race against the job's own exit)
            assert job["JobState"] in ("COMPLETED", "CANCELLED")
            assert job["RunTime"] < "00:00:55"  # its start, then at most 30 s; walltime is 60 s
            log = (tmp_path / "logs" / f"sweeps-worker-{first}.err").read_text()
            assert "worker-lifetime-reached" in log
            client.wait_for_workers(1, timeout=120)
            _, second = ask(client)
            assert second != first
        finally:
            client.close()
            cluster.close()
