"""How points run: the task of a worker, starts, executors, the driver, batch systems and cost.

The names of the flat module ``sweeps.execution`` of version 0.1 (``run_sweep``,
``RunSummary``, the executors) are still importable from here, on first use.
"""

import importlib

#: names of the former module sweeps.execution -> the module defining them now
_FORMER = {name: "sweeps.execution.executors" for name in (
    "ClientExecutor", "DaskExecutor", "Executor", "LocalProcesses", "LocalThreads", "Scheduler", "WarmNumbaCaches")}
_FORMER.update(RunSummary="sweeps.execution.driver", run_sweep="sweeps.execution.driver")


def __getattr__(name: str):
    if name not in _FORMER:
        raise AttributeError(f"module 'sweeps.execution' has no attribute {name!r}")
    return getattr(importlib.import_module(_FORMER[name]), name)
