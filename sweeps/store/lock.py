"""The store lock: one driver at a time."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import uuid
from pathlib import Path
from typing import Any

from sweeps.errors import StoreError, StoreLockedError
from sweeps.store.provenance import utc_now

logger = logging.getLogger(__name__)


class StoreLock:
    """An exclusive lock on a store for one driver: the file ``<store>.lock``.

    Raises :class:`StoreLockedError` naming the holder if another live driver has it; a lock
    left by a dead process on this host is taken over.

    Race-free on a local or NFS file system: a lock file appears whole (written to a private
    file, then hard-linked into place, which fails if a lock exists), and a stale lock is taken
    over by one driver only: the taker first creates ``<store>.lock.takeover-<holder>`` (exclusive,
    one per stale holder), checks that the stale lock is still in place, then atomically renames
    its own lock file over it.  Every other driver that saw the same dead holder is refused.
    """

    def __init__(self, store_path: str | Path):
        self.path = Path(f"{Path(store_path)}.lock")
        self.info = {"host": socket.gethostname(), "pid": os.getpid(), "since": utc_now(),
                     "token": uuid.uuid4().hex}
        self._text = json.dumps(self.info)
        self._held = False

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
        return holder.get("host") == self.info["host"] and isinstance(pid, int) and not self._alive(pid)

    def _locked_error(self, holder: dict[str, Any]) -> StoreLockedError:
        return StoreLockedError(
            f"store is in use by pid {holder.get('pid', '?')} on host {holder.get('host', '?')} "
            f"since {holder.get('since', '?')} (lock file {self.path}; delete it only if that process is gone)"
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
        private = self._private_copy()
        try:
            for _ in range(3):
                if self._create(private):
                    break
                text = self._read()
                if not text:  # released between our attempt and the read
                    continue
                holder = self._parse(text)
                if not (self._stale(holder) and self._take_over(text, holder, private)):
                    raise self._locked_error(self._holder() or holder) from None
                break
            else:
                raise StoreLockedError(f"could not take the lock {self.path} (other drivers keep taking it)")
        finally:
            private.unlink(missing_ok=True)
        self._held = True

    def release(self) -> None:
        if self._held and self._holder().get("token") == self.info["token"]:
            self.path.unlink(missing_ok=True)
        self._held = False

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


