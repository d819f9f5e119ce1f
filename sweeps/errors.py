"""Errors of the result store, in a module without heavy imports (the CLI catches them)."""

from __future__ import annotations

__all__ = ["StoreError", "StoreLockedError", "StoreMismatchError", "StoreWriteError"]


class StoreError(RuntimeError):
    """A store cannot be used (unreadable, not a sweep store, write failure)."""


class StoreWriteError(StoreError):
    """Writing results failed mid-run (disk full, I/O error); finished points stay done."""


class StoreMismatchError(StoreError):
    """The store was created from a different definition."""


class StoreLockedError(StoreError):
    """Another driver holds the store's lock."""
