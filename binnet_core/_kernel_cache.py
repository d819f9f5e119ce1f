"""Numba cache entries that go stale with any source of the package, not just their own file.

Numba keys a cached kernel on the source of the file that defines it. The kernels of this
package inline helpers from other modules (``_rng``, ``_prefetch``, the flip routines), and
the machine code of an inlined or called helper is part of the cached entry, so an edit to
a helper alone would leave the old code running. :func:`install` puts locators in front of
numba's own ones that, for functions defined in this package only, add a digest of every
module of the package to the source stamp: an edit anywhere in ``binnet_core`` recompiles
its kernels on the next call. Other packages' kernels keep numba's behaviour.

It must run before the first ``@njit(cache=True)`` of the package is decorated; the package
``__init__`` imports this module first.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from numba.core import caching

_PACKAGE = Path(__file__).resolve().parent


@functools.cache
def package_digest() -> str:
    """SHA-256 of the names and contents of every module of the package."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class _PackageStamp:
    """Locator mixin: claims the package's functions and stamps them with the digest."""

    def get_source_stamp(self):
        return super().get_source_stamp(), package_digest()

    @classmethod
    def from_function(cls, py_func, py_file):
        if Path(py_file).resolve().parent != _PACKAGE:
            return None
        return super().from_function(py_func, py_file)


def install() -> None:
    """Put a package-stamped copy of each of numba's locators in front of them (idempotent)."""
    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
    locators = impl._locator_classes
    if any(issubclass(c, _PackageStamp) for c in locators):
        return
    locators[:0] = [type(f"Package{c.__name__}", (_PackageStamp, c), {}) for c in locators]


install()
