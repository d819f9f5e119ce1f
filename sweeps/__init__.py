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
the ``sweeps`` command start without importing Dask, xarray, Zarr or numba.  The package's
layout is described in ``docs/ARCHITECTURE.md``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: public name -> module defining it
_WHERE = {
    "Progress": "sweeps.api", "SweepRun": "sweeps.api", "run": "sweeps.api", "start": "sweeps.api",
    "DefinitionError": "sweeps.errors", "Experiment": "sweeps.spec.definition",
    "load_experiment": "sweeps.spec.definition", "parse_experiment": "sweeps.spec.definition",
    "ClientExecutor": "sweeps.execution.executors", "Executor": "sweeps.execution.executors",
    "LocalProcesses": "sweeps.execution.executors", "LocalThreads": "sweeps.execution.executors",
    "RunSummary": "sweeps.execution.driver", "Scheduler": "sweeps.execution.executors", "run_sweep": "sweeps.execution.driver",
    "StoreError": "sweeps.errors", "StoreLockedError": "sweeps.errors",
    "StoreMismatchError": "sweeps.errors", "open_results": "sweeps.store.results",
}

__all__ = sorted(_WHERE)

#: module paths of the flat layout before version 0.2 -> where the module lives now (the old
#: path imports the new module; listed in the README's changelog)
_MOVED = {
    "sweeps.definition": "sweeps.spec.definition",
    "sweeps.grid": "sweeps.spec.grid",
    "sweeps.seeds": "sweeps.spec.seeds",
    "sweeps.clustered_model": "sweeps.models.clustered_ei",
    "sweeps.null_model": "sweeps.models.null",
    "sweeps.registry": "sweeps.measure.registry",
    "sweeps.measurements": "sweeps.measure.measurements",
    "sweeps.statistics": "sweeps.measure.statistics",
    "sweeps.simulate": "sweeps.execution.task",
    "sweeps.initial": "sweeps.execution.initial",
    "sweeps.cost": "sweeps.execution.cost",
    "sweeps.cluster_config": "sweeps.execution.batch.config",
    "sweeps.batch": "sweeps.execution.batch.submit",
    "sweeps.cluster": "sweeps.execution.batch.jobqueue",
    "sweeps.growth": "sweeps.store.growth",
    "sweeps.export": "sweeps.store.export",
    "sweeps.bootstrap": "sweeps.analysis.bootstrap",
    "sweeps.states": "sweeps.analysis.states",
    "sweeps.plots": "sweeps.analysis.plots",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import sweeps.plots`` (an old path) gives the module ``sweeps.analysis.plots``."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return importlib.import_module(_MOVED[spec.name])

    def exec_module(self, module) -> None:
        sys.modules[module.__spec__.name] = module


if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
    sys.meta_path.append(_MovedModules())


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'sweeps' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
