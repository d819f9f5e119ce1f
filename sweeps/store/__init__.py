"""The result store: one Zarr group per experiment (schema, region writes, status, lock, provenance)."""

from sweeps.errors import StoreError, StoreLockedError, StoreMismatchError, StoreWriteError
from sweeps.store.lock import StoreLock
from sweeps.store.results import open_results
from sweeps.store.status import Status
from sweeps.store.sweep_store import FAILED, OK, TODO, FailureGroup, SweepStore

__all__ = ["FAILED", "OK", "TODO", "FailureGroup", "Status", "StoreError", "StoreLock", "StoreLockedError",
           "StoreMismatchError", "StoreWriteError", "SweepStore", "open_results"]
