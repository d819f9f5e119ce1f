"""sweeps: distributed parameter sweeps of binary networks into one chunked Zarr store.

Public API
----------
run(definition, store)           run (or resume) a sweep, return the results (xarray.Dataset)
start(definition, store)         the same in the background: a handle with progress and results
open_results(path)               the store as a lazily loaded xarray.Dataset
load_experiment(path)            read and validate an experiment definition (TOML);
                                 Experiment.from_dict(dict) and parse_experiment(text) likewise
run_sweep(experiment, store)     the driver itself (returns a RunSummary)

The names are imported on first use (module ``__getattr__``), so that ``import sweeps`` and
the ``sweeps`` command start without importing Dask, xarray, Zarr or numba.
"""

from __future__ import annotations

import importlib

#: public name -> module defining it
_WHERE = {
    "Progress": "sweeps.api", "SweepRun": "sweeps.api", "run": "sweeps.api", "start": "sweeps.api",
    "DefinitionError": "sweeps.definition", "Experiment": "sweeps.definition",
    "load_experiment": "sweeps.definition", "parse_experiment": "sweeps.definition",
    "ClientExecutor": "sweeps.execution", "Executor": "sweeps.execution",
    "LocalProcesses": "sweeps.execution", "LocalThreads": "sweeps.execution",
    "RunSummary": "sweeps.execution", "Scheduler": "sweeps.execution", "run_sweep": "sweeps.execution",
    "StoreError": "sweeps.store", "StoreLockedError": "sweeps.store",
    "StoreMismatchError": "sweeps.store", "open_results": "sweeps.store",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'sweeps' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
