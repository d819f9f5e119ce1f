"""sweeps: distributed parameter sweeps of binary networks into one chunked Zarr store.

Public API
----------
run(definition, store)           run (or resume) a sweep, return the results (xarray.Dataset)
start(definition, store)         the same in the background: a handle with progress and results
open_results(path)               the store as a lazily loaded xarray.Dataset
load_experiment(path)            read and validate an experiment definition (TOML);
                                 Experiment.from_dict(dict) and parse_experiment(text) likewise
run_sweep(experiment, store)     the driver itself (returns a RunSummary)
"""

from sweeps.api import Progress, SweepRun, run, start
from sweeps.definition import DefinitionError, Experiment, load_experiment, parse_experiment
from sweeps.execution import (
    ClientExecutor,
    Executor,
    LocalProcesses,
    LocalThreads,
    RunSummary,
    Scheduler,
    run_sweep,
)
from sweeps.store import StoreError, StoreLockedError, StoreMismatchError, open_results

__all__ = [
    "ClientExecutor",
    "DefinitionError",
    "Executor",
    "Experiment",
    "LocalProcesses",
    "LocalThreads",
    "Progress",
    "RunSummary",
    "Scheduler",
    "StoreError",
    "StoreLockedError",
    "StoreMismatchError",
    "SweepRun",
    "load_experiment",
    "open_results",
    "parse_experiment",
    "run",
    "run_sweep",
    "start",
]
