"""Numba kernel caching: entries keyed on every source of the package; a compile status line.

Numba keys a cached kernel on the source of the file that defines it. The kernels of this
package inline helpers from other modules (``_rng``, ``_prefetch``, the flip routines), and
the machine code of an inlined or called helper is part of the cached entry, so an edit to
a helper alone would leave the old code running. :func:`install` puts locators in front of
numba's own ones that, for functions defined in this package only, add a digest of every
module of the package to the source stamp: an edit anywhere in ``binnet_core`` recompiles
its kernels on the next call. Other packages' kernels keep numba's behaviour.

It must run before the first ``@njit(cache=True)`` of the package is decorated; the package
``__init__`` imports this module first.

Kernels compile lazily, for the signatures a network uses, on its first use of them. The
first compilation in a process logs one INFO line on the ``binnet_core.compile`` logger (a
cached kernel loads silently); each compilation logs its seconds at DEBUG.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from pathlib import Path

from numba.core import caching
from numba.core import event as numba_event

log = logging.getLogger("binnet_core.compile")

_PACKAGE = Path(__file__).resolve().parent


@functools.cache
def package_digest() -> str:
    """SHA-256 of the paths and contents of every module of the package (subpackages
    included)."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        name = path.relative_to(_PACKAGE).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class _PackageStamp:
    """Locator mixin: claims the package's functions and stamps them with the digest."""

    def get_source_stamp(self):
        return super().get_source_stamp(), package_digest()

    @classmethod
    def from_function(cls, py_func, py_file):
        if _PACKAGE not in Path(py_file).resolve().parents:
            return None
        return super().from_function(py_func, py_file)


def install() -> None:
    """Put a package-stamped copy of each of numba's locators in front of them (idempotent)."""
    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
    locators = impl._locator_classes
    if any(issubclass(c, _PackageStamp) for c in locators):
        return
    locators[:0] = [type(f"Package{c.__name__}", (_PackageStamp, c), {}) for c in locators]


class _CompileStatus(numba_event.Listener):
    """Logs the package's compilations (numba ``numba:compile`` events, cache misses only)."""

    def __init__(self):
        self._announced = False
        self._started = threading.local()

    @staticmethod
    def _ours(event):
        dispatcher = event.data.get("dispatcher") if isinstance(event.data, dict) else None
        py_func = getattr(dispatcher, "py_func", None)
        return py_func is not None and py_func.__module__.startswith("binnet_core.")

    def on_start(self, event):
        if not self._ours(event):
            return
        if not self._announced:
            self._announced = True
            log.info("compiling numba kernels for this network's layout (first use only; "
                     "later runs load them from the cache) ...")
        stack = getattr(self._started, "stack", None) or []
        stack.append(time.perf_counter())
        self._started.stack = stack

    def on_end(self, event):
        if self._ours(event) and getattr(self._started, "stack", None):
            seconds = time.perf_counter() - self._started.stack.pop()
            log.debug("compiled %s%s in %.2f s", event.data["dispatcher"].py_func.__name__,
                      event.data.get("args", ""), seconds)


install()
numba_event.register("numba:compile", _CompileStatus())
