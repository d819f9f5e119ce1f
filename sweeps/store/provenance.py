"""Provenance of a store: time stamps, package versions, git commit."""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

_VERSIONED = ("numpy", "numba", "scipy", "dask", "distributed", "zarr", "xarray", "binnet-sweeps")


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def git_commit() -> str:
    """Commit of the source tree of this package (``+dirty`` with local changes), or ""."""
    here = Path(__file__).parent

    def git(*args: str) -> subprocess.CompletedProcess | None:
        try:
            return subprocess.run(["git", *args], cwd=here, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None

    head = git("rev-parse", "HEAD")
    if head is None or head.returncode != 0:
        return ""
    status = git("status", "--porcelain", "--untracked-files=no")
    dirty = status is not None and status.stdout.strip() != ""
    return head.stdout.strip() + ("+dirty" if dirty else "")


def versions() -> dict[str, str]:
    versions = {}
    for name in _VERSIONED:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def software() -> dict[str, Any]:
    """Package versions and git commit of this process (for run records)."""
    return {"versions": versions(), "git_commit": git_commit()}


def software_changes(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between two :func:`software` records, e.g. ``["numpy 1.26.4 -> 2.1.0"]``."""
    old, new = before.get("versions", {}), now.get("versions", {})
    changes = [f"{name} {old.get(name, '-')} -> {new.get(name, '-')}"
               for name in sorted(set(old) | set(new)) if old.get(name) != new.get(name)]
    if before.get("git_commit", "") != now.get("git_commit", ""):
        changes.append(f"git {before.get('git_commit') or '-'} -> {now.get('git_commit') or '-'}")
    return changes


