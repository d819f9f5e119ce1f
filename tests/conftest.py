"""Shared fixtures: toy definitions, temporary stores, a real dask scheduler with two workers."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

TOY_TOML = """\
[experiment]
name = "toy"
model = "tests.reference.toymodel:build"
seed = 7

[parameters]
N_E = 40
N_I = 10
Q = 2
{extra_parameters}

[sweep]
R_Eplus = [1.0, 2.0, 3.0]
g = {{start = 1.0, stop = 1.2, step = 0.1}}
replicates = 2

[simulation]
duration = "20 ms"
warmup = "5 ms"
sample_interval = "2 ms"

[output]
correlation_neurons = 10
{extra_output}
"""


def subprocess_env() -> dict[str, str]:
    """Environment for subprocesses: the worktree importable, no output buffering."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(autouse=True)
def _process_environment_restored():
    """Whatever a test changes in ``os.environ`` (``sweeps.cli.main`` sets
    ``DASK_LOGGING__DISTRIBUTED`` when called in-process) is undone after it, so later tests, and
    the processes and batch jobs they start, see the environment pytest started with."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def toy_definition(tmp_path):
    """Factory: write a toy definition (18 points) and return its path."""

    def make(extra_parameters: str = "", extra_output: str = "", name: str = "toy.toml") -> Path:
        path = tmp_path / name
        path.write_text(TOY_TOML.format(extra_parameters=extra_parameters, extra_output=extra_output))
        return path

    return make


@pytest.fixture
def store_path(tmp_path) -> Path:
    """A fresh store path (not created yet)."""
    return tmp_path / "results.zarr"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def dask_cluster(directory: Path, n_workers: int = 2):
    """Start ``dask scheduler`` + ``n_workers`` single-threaded ``dask worker`` processes.

    Yields ``(address, worker_processes)``; every process is stopped by its pid on exit.
    """
    from distributed import Client

    scheduler_file = directory / "scheduler.json"
    env = subprocess_env()
    procs: list[subprocess.Popen] = []
    with open(directory / "dask.log", "w") as log:
        try:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                 "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=directory,
            ))
            deadline = time.monotonic() + 60
            while not scheduler_file.exists():
                if time.monotonic() > deadline or procs[0].poll() is not None:
                    raise RuntimeError(f"dask scheduler did not start; see {directory / 'dask.log'}")
                time.sleep(0.1)
            for _ in range(n_workers):
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file),
                     "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard"],
                    env=env, stdout=log, stderr=subprocess.STDOUT, cwd=directory,
                ))
            with Client(scheduler_file=str(scheduler_file), timeout=60) as client:
                client.wait_for_workers(n_workers, timeout=60)
                address = client.scheduler.address
            yield address, procs[1:]
        finally:
            for proc in reversed(procs):
                _stop(proc)


@pytest.fixture(scope="session")
def dask_scheduler(tmp_path_factory):
    """A real ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1 (address)."""
    with dask_cluster(tmp_path_factory.mktemp("dask")) as (address, _):
        yield address
