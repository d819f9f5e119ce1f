"""Stopping a run from another thread: a stop event checked between the kernel's slices.

``BinaryNetwork.run`` calls the compiled kernel in slices of at most
:data:`binnet_core.network.MAX_CHUNK` updates (and at every recorder sample), well under a
second each at the reference size.  Inside ``with stop_when(event):`` every run on this thread
checks ``event`` before its first slice and then once per ``MAX_CHUNK`` updates (not at every
recorder sample: a sample every 0.1 ms would pay the check every ~100 updates) and raises
:class:`RunStopped` once it is set; the network is then as after its last whole slice.  Slicing does not change results: the updates of a run
depend only on the seed and on their number, not on how they are split into kernel calls.

A thread-local setting rather than an argument of ``run``: code between the caller and the
network (a model's builder, the measurements) passes nothing on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["RunStopped", "current_event", "stop_when"]


class RunStopped(BaseException):
    """A run ended by its stop event (:func:`stop_when`).

    A ``BaseException``, as ``KeyboardInterrupt``: code that records the errors of a run as
    its results (``except Exception``) lets it through.
    """


_local = threading.local()


@contextmanager
def stop_when(event: threading.Event) -> Iterator[None]:
    """Within the block, runs on this thread raise :class:`RunStopped` once ``event`` is set."""
    previous = getattr(_local, "event", None)
    _local.event = event
    try:
        yield
    finally:
        _local.event = previous


def current_event() -> threading.Event | None:
    """This thread's stop event (:func:`stop_when`), None outside such a block."""
    return getattr(_local, "event", None)
