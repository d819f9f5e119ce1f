"""The store lock: one driver at a time."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sweeps.errors import StoreError, StoreLockedError
from sweeps.store.provenance import utc_now

logger = logging.getLogger(__name__)


#: seconds a lock stays valid without renewal (the holder renews it every third of that)
LEASE_SECONDS = float(os.environ.get("SWEEPS_LOCK_LEASE_SECONDS", "600"))


class StoreLock:
    """An exclusive lock on a store for one driver: the file ``<store>.lock``.

    Raises :class:`StoreLockedError` naming the holder if another live driver has it; a lock
    left by a dead process on this host is taken over.  The holder renews a lease: a thread
    rewrites the lock's ``renewed`` time (seconds since the epoch) every third of
    :data:`LEASE_SECONDS` (environment ``SWEEPS_LOCK_LEASE_SECONDS``, default 600), so a lock of a
    job that died on another host (the usual case on a cluster) expires after the lease and is
    then taken over like a dead process's.  ``sweeps unlock STORE`` removes a lock after the same
    checks.  A malformed lock file (empty, junk, a directory) is refused with the remedy.

    Race-free on a local or NFS file system: a lock file appears whole (written to a private
    file, then hard-linked into place, which fails if a lock exists), and a stale lock is taken
    over by one driver only: the taker first creates ``<store>.lock.takeover-<holder>`` (exclusive,
    one per stale holder), checks that the stale lock is still in place, then atomically renames
    its own lock file over it.  Every other driver that saw the same dead holder is refused.
    """

    def __init__(self, store_path: str | Path, lease_seconds: float | None = None):
        self.store = Path(store_path)
        self.path = Path(f"{self.store}.lock")
        self.lease = LEASE_SECONDS if lease_seconds is None else float(lease_seconds)
        self.info = {"host": socket.gethostname(), "pid": os.getpid(), "since": utc_now(),
                     "token": uuid.uuid4().hex, "lease_seconds": self.lease, "renewed": time.time()}
        self._text = json.dumps(self.info)
        self._held = False
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _read(self) -> str:
        try:
            return self.path.read_text()
        except OSError:
            return ""

    @staticmethod
    def _parse(text: str) -> dict[str, Any]:
        try:
            holder = json.loads(text)
        except ValueError:
            return {}
        return holder if isinstance(holder, dict) else {}

    def _holder(self) -> dict[str, Any]:
        return self._parse(self._read())

    @staticmethod
    def _alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def _stale(self, holder: dict[str, Any]) -> bool:
        pid = holder.get("pid")
        if holder.get("host") == self.info["host"] and isinstance(pid, int):
            return not self._alive(pid)
        return self._expired(holder)

    @staticmethod
    def _expired(holder: dict[str, Any]) -> bool:
        """The holder's lease ran out (a lock without a lease, from an older version, never expires)."""
        renewed, lease = holder.get("renewed"), holder.get("lease_seconds")
        if not isinstance(renewed, int | float) or not isinstance(lease, int | float):
            return False
        return time.time() - renewed > lease

    def _malformed_error(self, what: str) -> StoreLockedError:
        return StoreLockedError(f"lock file {self.path} is {what}, not a lock of sweeps: if no driver uses the "
                                f"store, remove it with: sweeps unlock {self.store}")

    def _locked_error(self, holder: dict[str, Any]) -> StoreLockedError:
        lease = ""
        if isinstance(holder.get("renewed"), int | float) and isinstance(holder.get("lease_seconds"), int | float):
            left = holder["lease_seconds"] - (time.time() - holder["renewed"])
            lease = f"; its lease expires in {max(left, 0):.0f} s unless renewed"
        return StoreLockedError(
            f"store is in use by pid {holder.get('pid', '?')} on host {holder.get('host', '?')} "
            f"since {holder.get('since', '?')} (lock file {self.path}{lease}; if that process is gone: "
            f"sweeps unlock {self.store})"
        )

    def _private_copy(self) -> Path:
        """Our lock text in a file of our own next to the lock (renamed or linked into place)."""
        private = self.path.with_name(f"{self.path.name}.{self.info['pid']}.{self.info['token']}")
        try:
            fd = os.open(private, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except OSError as err:
            raise StoreError(f"cannot create lock file {self.path}: {err.strerror}") from None
        try:
            with os.fdopen(fd, "w") as f:
                f.write(self._text)
        except OSError as err:  # e.g. disk full: never leave an empty lock file behind
            private.unlink(missing_ok=True)
            raise StoreError(f"cannot write lock file {self.path}: {err.strerror}") from None
        return private

    def _create(self, private: Path) -> bool:
        """Put our lock in place if there is none (atomic); False if a lock exists."""
        try:
            os.link(private, self.path)
        except FileExistsError:
            return False
        except OSError:  # no hard links on this file system: exclusive create, then write
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            except OSError as err:
                raise StoreError(f"cannot create lock file {self.path}: {err.strerror}") from None
            try:
                with os.fdopen(fd, "w") as f:
                    f.write(self._text)
            except OSError as err:
                self.path.unlink(missing_ok=True)
                raise StoreError(f"cannot write lock file {self.path}: {err.strerror}") from None
        return True

    def _take_over(self, stale_text: str, holder: dict[str, Any], private: Path) -> bool:
        """Replace the stale lock ``stale_text`` by ours; False if another driver does it."""
        key = hashlib.sha256(stale_text.encode()).hexdigest()[:16]
        guard = self.path.with_name(f"{self.path.name}.takeover-{key}")
        try:
            fd = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False  # another driver is taking over (or took over) this stale lock
        except OSError as err:
            raise StoreError(f"cannot create lock file {guard}: {err.strerror}") from None
        os.close(fd)
        try:
            if self._read() != stale_text:  # replaced or removed since we looked: start again
                return False
            logger.warning("taking over stale lock %s of dead pid %s", self.path, holder.get("pid"))
            os.replace(private, self.path)  # atomic: the lock file never disappears
            return True
        finally:
            guard.unlink(missing_ok=True)

    def acquire(self) -> None:
        if self.path.parent.exists() and not self.path.parent.is_dir():
            raise StoreError(f"cannot create lock file {self.path}: {self.path.parent} is not a directory")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # e.g. results/ in a fresh clone
        except OSError as err:
            raise StoreError(f"cannot create lock file {self.path}: {err.strerror}") from None
        if self.path.is_dir():
            raise self._malformed_error("a directory")
        private = self._private_copy()
        try:
            for attempt in range(5):
                if self._create(private):
                    break
                if self.path.is_dir():
                    raise self._malformed_error("a directory")
                text = self._read()
                holder = self._parse(text)
                if not (holder.get("host") or holder.get("pid")):
                    if not self.path.exists():  # released between our attempt and the read
                        continue
                    if attempt < 4:  # a lock being written (file systems without hard links)
                        time.sleep(0.1)
                        continue
                    raise self._malformed_error("empty" if not text.strip() else "not valid JSON of a lock")
                if not (self._stale(holder) and self._take_over(text, holder, private)):
                    raise self._locked_error(self._holder() or holder) from None
                break
            else:
                raise StoreLockedError(f"could not take the lock {self.path} (other drivers keep taking it)")
        finally:
            private.unlink(missing_ok=True)
        self._held = True
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew_loop, name="sweeps-lock-lease", daemon=True)
        self._renewer.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.lease / 3):
            try:
                self.renew()
            except OSError as err:  # e.g. disk full: the lease may run out; keep running
                logger.warning("could not renew the lock %s: %s", self.path, err)

    def renew(self) -> None:
        """Rewrite our lock with the current time (atomic); nothing if it is no longer ours."""
        if not self._held or self._holder().get("token") != self.info["token"]:
            return
        self.info["renewed"] = time.time()
        self._text = json.dumps(self.info)
        private = self._private_copy()
        try:
            os.replace(private, self.path)
        finally:
            private.unlink(missing_ok=True)

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None and self._renewer is not threading.current_thread():
            self._renewer.join(timeout=5)
        if self._held and self._holder().get("token") == self.info["token"]:
            self.path.unlink(missing_ok=True)
        self._held = False

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def unlock(store_path: str | Path, force: bool = False) -> str:
    """Remove the lock of ``store_path`` if it is safe (``sweeps unlock``); what was done.

    Safe: the lock is malformed (empty, junk, a directory), its holder is a dead process on this
    host, or its lease ran out.  ``force`` removes a lock of another host whose lease still runs
    (only when that job is known to be gone).

    Raises
    ------
    StoreLockedError
        If a live driver (or an unexpired lease of another host) holds the lock.
    """
    lock = StoreLock(store_path)
    path = lock.path
    if path.is_dir():
        if any(path.iterdir()):
            raise StoreError(f"{path} is a directory with files in it: look at it and remove it yourself")
        path.rmdir()
        return f"removed the empty directory {path} that stood in place of the lock"
    if not path.exists():
        return f"{store_path} is not locked"
    holder = lock._holder()
    if not (holder.get("host") or holder.get("pid")):
        path.unlink(missing_ok=True)
        return f"removed the malformed lock file {path}"
    here = holder.get("host") == lock.info["host"]
    pid = holder.get("pid")
    if here and isinstance(pid, int) and lock._alive(pid):
        raise lock._locked_error(holder)
    if not here and not lock._expired(holder) and not force:
        raise StoreLockedError(str(lock._locked_error(holder)).replace(
            f"if that process is gone: sweeps unlock {lock.store}",
            f"wait for the lease, or if that job is gone: sweeps unlock --force {lock.store}"))
    path.unlink(missing_ok=True)
    return (f"removed the lock of pid {pid} on host {holder.get('host')} "
            f"({'dead' if here else 'lease expired' if lock._expired(holder) else 'forced'})")
