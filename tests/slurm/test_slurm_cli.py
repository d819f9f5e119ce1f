"""The ``sweeps`` command against a real SLURM: impossible requests, ``sweeps submit``."""

import re
import subprocess
import sys

import pytest

from sweeps import open_results
from tests.slurm.conftest import POINTS, assert_same_data, threaded_baseline

pytestmark = pytest.mark.slurm


def sweeps(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m sweeps ARGS`` as a subprocess (PYTHONPATH set by the ``slurm`` fixture)."""
    return subprocess.run([sys.executable, "-m", "sweeps", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_run_with_too_many_cores_exits_2_before_any_work(slurm, slurm_definition, tmp_path):
    definition = slurm_definition(jobs=1)
    path = tmp_path / "never.zarr"
    cores = slurm.max_cpus + 1
    before = slurm.job_ids()
    run = sweeps("run", str(definition), "--store", str(path), "--cluster", "slurm",
                 "--cores", str(cores))
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines() == [
        f"{definition}: cluster.cores: {cores} cores per job, but the largest node in partition "
        f"'debug' has {slurm.max_cpus} CPUs; such a job would wait forever"]
    assert not path.exists()
    assert slurm.job_ids() == before


def test_submit_with_too_much_memory_exits_2_and_submits_nothing(slurm, slurm_definition, tmp_path):
    definition = slurm_definition(jobs=1)
    path = tmp_path / "never.zarr"
    before = slurm.job_ids()
    run = sweeps("submit", str(definition), "--store", str(path), "--cluster", "slurm",
                 "--memory", "100TB")
    assert run.returncode == 2, run.stderr
    [line] = run.stderr.splitlines()
    assert line.startswith(f"{definition}: cluster.memory: 100TB (") and "wait forever" in line
    assert not path.exists()
    assert slurm.job_ids() == before


def test_submit_refused_by_sbatch_exits_1(slurm, slurm_definition, tmp_path):
    definition = slurm_definition(jobs=1)
    definition.write_text(definition.read_text() + 'job_extra_directives = ["--no-such-option"]\n')
    path = tmp_path / "never.zarr"
    before = slurm.job_ids()
    submit = sweeps("submit", str(definition), "--store", str(path), "--cluster", "slurm")
    assert submit.returncode == 1, submit.stderr
    [line] = submit.stderr.splitlines()[-1:]  # one line after the preflight log
    assert re.fullmatch(r"error: sbatch --parsable \S+ failed: .*--no-such-option.*", line), line
    assert submit.stdout == "" and not path.exists()
    assert slurm.job_ids() == before


def test_cli_submit_finishes_the_sweep(slurm, slurm_definition, tmp_path):
    # driver (1 CPU) + one worker job (1 CPU) fit the 2-CPU CI node together
    definition = slurm_definition(jobs=2)
    path = tmp_path / "submitted.zarr"
    submit = sweeps("submit", str(definition), "--store", str(path), "--cluster", "slurm",
                    "--jobs", "1")  # an override, passed on to the driver job
    assert submit.returncode == 0, submit.stderr
    match = re.fullmatch(r"submitted driver job (\d+)\nlog: (\S+)\nprogress: sweeps status (\S+)\n",
                         submit.stdout)
    assert match, submit.stdout
    job_id, log = match.group(1), tmp_path / "logs" / f"sweeps-driver-{match.group(1)}.log"
    assert match.group(2) == str(log) and match.group(3) == str(path)
    assert slurm.job(job_id)["JobName"] == "sweeps-driver"

    def driver_gone():
        return job_id not in slurm._run("squeue", "-h", "-j", job_id, "-o", "%i").split()

    slurm.wait(driver_gone, 600, f"driver job {job_id} to leave the queue", interval=2)
    text = log.read_text()
    assert slurm.state(job_id) == "COMPLETED", text[-3000:]
    assert f"{POINTS}/{POINTS} ok" in text
    # the --jobs override reached the driver
    assert "slurm (1 jobs x 1 cores" in open_results(path).attrs["runs"][-1]["backend"]
    status = sweeps("status", str(path))
    assert status.returncode == 0, status.stderr
    assert f"{POINTS} points: 0 todo, {POINTS} ok, 0 failed" in status.stdout
    assert_same_data(threaded_baseline(definition, tmp_path), path)
