"""How points run: the task of a worker, starts, executors, the driver, batch systems and cost."""

import sys
import types


class _Package(types.ModuleType):
    """Importing a submodule (``from sweeps.run.executors import ...``) binds this package as
    the attribute ``run`` of ``sweeps``, in place of the function :func:`sweeps.api.run`; so
    that ``sweeps.run(definition, store)`` works in any import order, calling the package
    calls the function."""

    def __call__(self, *args, **kwargs):
        from sweeps.api import run

        return run(*args, **kwargs)


sys.modules[__name__].__class__ = _Package
