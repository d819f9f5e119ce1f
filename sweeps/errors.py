"""Every error the package raises on purpose, in one module without heavy imports.

All derive from :class:`SweepsError`, which carries the definition ``field`` concerned (when
there is one) and the ``allowed`` values (when they are a short list), so the CLI and
scripts can report them the same way.  Each also derives from the builtin its callers
expect (``ValueError`` for bad input, ``RuntimeError`` for a store or batch system that
cannot be used).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ArgumentError", "ClusterConfigError", "DefinitionError", "MissingDependencyError", "ModelError",
           "OptionError", "PreflightError",
           "StoreError", "require_optional",
           "StoreLockedError", "StoreMismatchError", "StoreWriteError", "SubmitError", "SweepsError"]


class SweepsError(Exception):
    """Base class: ``field`` names the definition field (or None), ``allowed`` its allowed values."""

    def __init__(self, message: str, *, field: str | None = None, allowed: Sequence[str] | None = None):
        self.field = field
        self.allowed = tuple(allowed) if allowed is not None else None
        super().__init__(message)


class DefinitionError(SweepsError, ValueError):
    """An invalid experiment definition; ``str(err)`` is one line naming the field."""

    def __init__(self, field: str, message: str, allowed: Sequence[str] | None = None):
        super().__init__(f"{field}: {message}", field=field, allowed=allowed)


class ArgumentError(SweepsError, ValueError):
    """A bad argument of a command or function (not of the definition): ``field`` names it
    (``limit``, ``scheduler``, ``output``, ...); ``str(err)`` is one line starting with it."""

    def __init__(self, field: str, message: str, allowed: Sequence[str] | None = None):
        super().__init__(f"{field}: {message}", field=field, allowed=allowed)


class ModelError(SweepsError, ValueError):
    """An unknown model or invalid model parameters; ``field`` names the definition field."""

    def __init__(self, field: str, message: str, allowed: Sequence[str] | None = None):
        super().__init__(message, field=field, allowed=allowed)


class OptionError(SweepsError, ValueError):
    """An invalid option of an analysis function; ``str(err)`` names the option and what is allowed."""

    def __init__(self, option: str, message: str, allowed: Sequence[str] | None = None):
        text = f"{option}: {message}" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
        super().__init__(text, field=option, allowed=allowed)


class ClusterConfigError(SweepsError, ValueError):
    """A ``[cluster]`` setting is invalid; the message names the field and what is allowed."""


class PreflightError(ClusterConfigError):
    """The requested jobs can never start on this cluster (checked before submitting)."""


class SubmitError(SweepsError, RuntimeError):
    """The batch system refused a submission."""


class StoreError(SweepsError, RuntimeError):
    """A store cannot be used (unreadable, not a sweep store, write failure)."""


class StoreWriteError(StoreError):
    """Writing results failed mid-run (disk full, I/O error); finished points stay done."""


class StoreMismatchError(StoreError):
    """The store was created from a different definition."""


class StoreLockedError(StoreError):
    """Another driver holds the store's lock."""


class MissingDependencyError(SweepsError, ImportError):
    """A feature needs a package of an optional extra that is not installed (the message says
    which ``pip install`` adds it)."""


#: the optional extras of the distribution and what they hold (see pyproject.toml)
OPTIONAL_EXTRAS = {"cluster": "dask-jobqueue", "netcdf": "h5netcdf and h5py", "adaptive": "python-adaptive"}


def require_optional(module: str, extra: str, purpose: str):
    """Import ``module``, or raise :class:`MissingDependencyError` naming the extra that has it.

    >>> require_optional("json", "netcdf", "reading JSON").__name__
    'json'
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingDependencyError(
            f"{purpose} needs {OPTIONAL_EXTRAS.get(extra, module)}, which is not installed: "
            f"pip install 'binnet-sweeps[{extra}]'") from err
