"""sweeps: distributed parameter sweeps of binary networks into one chunked Zarr store.

Public API
----------
load_experiment(path)            read and validate an experiment definition (TOML)
run_sweep(experiment, store)     run (or resume) a sweep into a Zarr store
open_results(path)               the store as a lazily loaded xarray.Dataset
"""

from sweeps.definition import DefinitionError, Experiment, load_experiment
from sweeps.execution import LocalProcesses, LocalThreads, RunSummary, Scheduler, run_sweep
from sweeps.store import open_results

__all__ = [
    "DefinitionError",
    "Experiment",
    "LocalProcesses",
    "LocalThreads",
    "RunSummary",
    "Scheduler",
    "load_experiment",
    "open_results",
    "run_sweep",
]
