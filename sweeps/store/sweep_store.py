"""The result store: one Zarr (v3) group holding every grid point of one experiment.

About 700 lines: one class whose methods all guard the same on-disk invariants (the schema
written once, region writes data-before-status, the theory arrays kept apart, integrity
checks that repair by marking points todo); chunk maths, locks, provenance, growth and
export live in their own modules of this package.

Layout
------
* Point dimensions: the experiment's dimensions in order (swept parameters, zips, ``seed``),
  as dimension coordinates with ``units`` and ``long_name``.  Zipped parameters are
  non-dimension coordinates along their zip dimension.
* Inner dimensions: ``population`` (with ``population_type``, ``population_cluster``,
  ``population_size``), ``cluster``, ``time`` (sample times after warm-up).
* Chunks: a chunk holds a block of whole grid points (consecutive in C order) and the whole
  inner extent, so a point is never split across chunks.  The layout depends on the class of
  variable (:class:`ChunkLayout`): ``status`` (0 todo, 1 ok, 2 failed, 3 unsampled by an adaptive sweep) and ``error`` in
  chunks of up to 2^20 points (``sweeps status`` reads one file for a million points);
  scalars and small per-point vectors in blocks of up to 2^16 points; traces in blocks of
  about 4 MiB.  A partial axis of a block is a divisor of the axis length where one is close
  (chunks tile the axes), so a 2-D slice over two swept parameters reads a few files.  A
  10^6-point sweep of the tiny clustered network without traces needs about 1,000 files.
  Zarr v3 sharding is not used: with these chunk sizes the file count is already small, and
  a shard is rewritten whole on every partial write, as a chunk is.
  ``output.points_per_chunk`` gives every array the same chunks of that many points.
* Creation writes the coordinates (with xarray) and then every variable as an empty Zarr
  array: metadata only, no dask graph, no chunk file; unwritten chunks read as fill values.
* Writes: only the driver process writes (its writer thread), batch by batch: every data
  variable first, then ``error`` (only where a point fails now or failed before), then
  ``status``; each array chunk by chunk.  Zarr's local store replaces chunk files atomically,
  so a crash at any moment leaves each point either ``ok`` with its data or not ``ok`` (it
  reruns).
* Provenance in the group attributes: definition text and sha256, the identity used to
  decide whether a definition matches, package versions, git commit, host, and one record
  per run (start/end times, backend, counts).
* Creation writes the whole store into a hidden sibling directory ``.<name>.creating-<pid>``
  and renames it into place when complete: the store appears whole or not at all (a sibling
  left by a process that died is removed by the next creation).  The creation marker, the
  attribute ``sweeps_schema_complete``, is written last; a store without it (made by an older
  version whose creation was interrupted) is refused on open with the command that clears it.  Metadata are consolidated after creation and
  after every run record, so ``xarray.open_zarr(path)`` opens a store without warnings.
* A lock file ``<store>.lock`` (JSON: host, pid, start time) admits one driver at a time;
  a lock left by a dead process on the same host is taken over.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import itertools
import json
import logging
import math
import os
import shutil
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import zarr

from sweeps.errors import StoreError, StoreLockedError, StoreMismatchError, StoreWriteError
from sweeps.measure import registry
from sweeps.measure.raster import raster_neurons
from sweeps.spec.types import DimensionKind
from sweeps.store.batch import PointBatch
from sweeps.store.chunks import ChunkLayout
from sweeps.store.provenance import git_commit, utc_now, versions
from sweeps.store.status import FLAG_MEANINGS, FLAG_VALUES, ROUND_ATTRS, ROUND_VARIABLE, Status

if TYPE_CHECKING:  # xarray only where it is used (creation, theory)
    import xarray as xr

    from sweeps.plan import SweepPlan

__all__ = [
    "FAILED",
    "OK",
    "FailureGroup",
    "Status",
    "TODO",
    "StoreError",
    "StoreLockedError",
    "StoreMismatchError",
    "StoreWriteError",
    "SweepStore",
]

logger = logging.getLogger(__name__)

TODO, OK, FAILED, UNSAMPLED = Status  # module-level aliases of the members
#: group attribute written last when a store is created: without it the creation was interrupted
_COMPLETE = "sweeps_schema_complete"
#: CF version the stores follow (group attribute ``Conventions``)
CONVENTIONS = "CF-1.10"
#: attribute describing the theory variables (focus counts, grid sizes covered, reasons) ...
THEORY_ATTR = "sweeps_theory"
#: ... kept in its own empty group (never in the store group's attributes, which hold the identity)
THEORY_GROUP = "sweeps_theory"
_REPLICATE_NAMES = {DimensionKind.NETWORK: "network (connectivity seed index)", DimensionKind.INIT: "initial condition index",
                    DimensionKind.SEED: "replicate (network seed index)"}


def _text_as_object(values: np.ndarray) -> np.ndarray:
    """Text values as an object array: xarray writes those in the Zarr v3 ``string`` type (as the
    population names), fixed-width ``<U`` arrays in the unstable ``fixed_length_utf32`` type."""
    return values.astype(object) if values.dtype.kind in "US" else values


def _coordinates(plan: SweepPlan) -> dict[str, Any]:
    experiment, model, layout = plan.experiment, plan.model, plan.layout  # the model knows the units

    def attrs(name: str) -> dict[str, str]:
        if name == "focus_count":
            return {"long_name": "focus clusters at the start", "units": "1"}
        return {"long_name": model.long_name(name), "units": model.units(name)}

    coords: dict[str, Any] = {}
    for dim in experiment.dimensions:
        if dim.kind == DimensionKind.AXIS:
            coords[dim.name] = (dim.name, _text_as_object(dim.coordinate()), attrs(dim.name))
        elif dim.kind == DimensionKind.ZIP:
            coords[dim.name] = (dim.name, dim.coordinate(), {"long_name": f"index along zipped {', '.join(dim.values)}", "units": "1"})
            for param, values in dim.values.items():
                coords[param] = (dim.name, _text_as_object(np.asarray(values)), attrs(param))
        else:
            coords[dim.name] = (dim.name, dim.coordinate(), {"long_name": _REPLICATE_NAMES.get(dim.kind, "replicate"), "units": "1"})
    pops = layout.populations
    coords["population"] = ("population", np.array([p.name for p in pops], dtype=object), {"long_name": "population"})
    coords["population_type"] = ("population", np.array([p.cell_type or "" for p in pops], dtype=object), {"long_name": "cell type"})
    coords["population_cluster"] = ("population", np.array([registry.NO_CLUSTER if p.cluster is None else p.cluster for p in pops]), {"long_name": "cluster index (-1: none)"})
    coords["population_size"] = ("population", np.array([p.size for p in pops]), {"long_name": "neurons", "units": "1"})
    coords["cluster"] = ("cluster", np.asarray(layout.clusters, dtype=np.int64), {"long_name": "cluster"})
    coords.update(registry.inner_coordinates(layout.names, [p.cell_type for p in pops]))
    out = experiment.output
    if out.get("raster_neurons", 0) > 0 or out.get("raster_stride", 0) > 0:
        ids, populations = raster_neurons([p.size for p in pops], out["raster_neurons"], out["raster_stride"])
        coords["raster_neuron"] = ("raster_neuron", ids, {"long_name": "neuron id of a raster neuron"})
        coords["raster_population"] = ("raster_neuron", np.array(layout.names, dtype=object)[populations],
                                       {"long_name": "population of a raster neuron"})
        coords["raster_event"] = ("raster_event", np.arange(experiment.output["raster_events"]),
                                  {"long_name": "up-transition number of a raster neuron"})
    sim = experiment.simulation
    time_units = "ms" if sim.sample_interval.is_time else "steps"
    coords["time"] = ("time", sim.sample_times(), {"long_name": "time after warm-up", "units": time_units})
    return coords


def checksummed() -> tuple:
    """The compressors of every array: zarr's default (zstd, level 0) followed by a crc32c
    checksum of the compressed chunk, so a damaged chunk fails to decode instead of reading as
    wrong values (``sweeps status --verify``).  The values stored are unchanged."""
    from zarr.codecs import Crc32cCodec, ZstdCodec

    return (ZstdCodec(level=0, checksum=False), Crc32cCodec())


def write_json_atomic(path: Path, doc: Any) -> None:
    """Write ``doc`` as JSON to ``path`` by an atomic rename (the old file or the new, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _remove_tree(path: Path) -> None:
    """Remove the directory ``path`` once no zarr write is in flight.

    An exception (a failed write, Ctrl-C, SIGTERM) reaches this thread while zarr's other
    concurrent writes of the same call go on in zarr's I/O thread; one finishing after the
    removal would recreate files in ``path``. So first wait until zarr's event loop has no
    task left (:func:`_settle_zarr_writes`), then remove.
    """
    _settle_zarr_writes()
    shutil.rmtree(path, ignore_errors=True)


#: longest wait for zarr's writes in flight before a tree is removed anyway
SETTLE_TIMEOUT_SECONDS = 60.0


def _settle_zarr_writes() -> None:
    """Wait (at most :data:`SETTLE_TIMEOUT_SECONDS`) until every task on zarr's event loop is done."""
    from zarr.core.sync import sync

    async def settle() -> None:
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        if pending:
            await asyncio.wait(pending, timeout=SETTLE_TIMEOUT_SECONDS)

    sync(settle())


def _read_json(path: Path) -> Any:
    """The JSON document at ``path``; None if there is none (or it is unreadable)."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def consolidate(path: str | Path) -> None:
    """Write the store's consolidated metadata (read by a plain ``xarray.open_zarr(path)``)."""
    with warnings.catch_warnings():  # zarr notes that v3 consolidation is not in the spec yet
        warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part")
        zarr.consolidate_metadata(str(path), zarr_format=3)


def identity_differences(stored: Any, current: Any, prefix: str = "") -> list[str]:
    """Human-readable differences between two identity documents."""
    if isinstance(stored, dict) and isinstance(current, dict):
        out = []
        for key in list(stored) + [k for k in current if k not in stored]:
            out += identity_differences(stored.get(key), current.get(key), f"{prefix}.{key}" if prefix else key)
        return out
    return [] if stored == current else [f"{prefix}: store has {stored!r}, definition has {current!r}"]


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:120]}" if text else type(err).__name__


@dataclass
class Damage:
    """One damaged part of a store: an array, its chunk (None: the whole array) and the ok points
    it held (reset to todo)."""

    name: str
    chunk: tuple[int, ...] | None
    problem: str
    points: list[int]
    fatal: bool


@dataclass
class VerifyReport:
    """What :meth:`SweepStore.check` found: damage per array, the points reset to todo, and
    whether damage remains that a resume cannot repair (coordinates, metadata, missing arrays)."""

    damage: list[Damage] = dataclasses.field(default_factory=list)
    reset: list[int] = dataclasses.field(default_factory=list)

    def add(self, name, chunk, problem, points=(), fatal=False) -> None:
        self.damage.append(Damage(name, None if chunk is None else tuple(int(k) for k in chunk), problem,
                                  [int(p) for p in points], fatal))

    @property
    def fatal(self) -> bool:
        return any(d.fatal for d in self.damage)


@dataclass(frozen=True)
class FailureGroup:
    """Failed points sharing one message: how many, and the first point's index."""

    message: str
    count: int
    first: int


class SweepStore:
    """Driver-side access to a sweep store (schema, status, batched region writes)."""

    def __init__(self, path: str | Path, group: zarr.Group):
        self.path = Path(path)
        self.group = group
        attrs = group.attrs.asdict()
        if "sweeps_identity" not in attrs:
            raise StoreError(f"{self.path} is not a sweeps store (no sweeps_identity attribute)")
        try:
            self.identity = json.loads(attrs["sweeps_identity"])
        except (TypeError, ValueError) as err:
            raise StoreError(f"{self.path}: its sweeps_identity attribute is damaged ({_short(err)})") from None
        self.dims: tuple[str, ...] = tuple(attrs["sweeps_point_dims"])
        self.variables: tuple[str, ...] = tuple(attrs["sweeps_variables"])
        if not attrs.get(_COMPLETE) or not (self.path / "status" / "zarr.json").is_file():
            raise StoreError(f"{self.path} is an incomplete sweeps store (its creation was interrupted, or "
                             f"it was made by a version without the creation marker): remove it (rm -r {self.path}) "
                             "and run again")
        try:
            status = group["status"]
        except Exception as err:  # junk metadata
            raise StoreError(f"{self.path}: the metadata of its status are unreadable ({_short(err)}); the store "
                             "cannot be repaired: run the definition into a new store") from None
        self.shape: tuple[int, ...] = tuple(status.shape)
        self.chunks: tuple[int, ...] = tuple(status.chunks)
        self._arrays: dict[str, zarr.Array] = {}

    def require_arrays(self) -> None:
        """Raise :class:`StoreError` naming every listed array that is missing or unreadable."""
        bad = []
        for name in (*self.variables, "status", "error", *self.dims):
            try:
                self.group[name]
            except KeyError:
                bad.append(f"{name} (missing)")
            except Exception as err:
                bad.append(f"{name} ({_short(err)})")
        if bad:
            raise StoreError(f"{self.path} is damaged: {', '.join(bad)}; `sweeps status --verify {self.path}` "
                             "lists the damage; run the definition into a new store")

    @property
    def min_chunk_points(self) -> int:
        """Points in the smallest point chunk of any variable (a write of that many fills it)."""
        sizes = [math.prod(self.group[name].chunks[: len(self.shape)]) for name in (*self.variables, "status")]
        return int(min(sizes))

    @classmethod
    def create(cls, path: str | Path, plan: SweepPlan) -> SweepStore:
        """Write the whole schema (coordinates, empty variables, status, provenance).

        The coordinates are written with xarray (small), every variable as an empty Zarr array
        (metadata only: no chunk is written, unwritten chunks read as the fill value), so
        creation costs the same for 10^2 or 10^6 points.  The creation marker comes last,
        then the consolidated metadata.
        """
        import xarray as xr

        path = Path(path)
        experiment, specs, inner = plan.experiment, plan.variables, plan.inner
        shape, dims = experiment.shape, experiment.dims
        chunking = ChunkLayout.of(experiment, specs, inner)
        coords = xr.Dataset(coords=_coordinates(plan))
        attrs = {
            "Conventions": CONVENTIONS,
            "title": f"sweep {experiment.name}",
            "experiment": experiment.name,
            "model": experiment.model,
            "description": experiment.description,
            "sweeps_definition": experiment.text,
            "sweeps_definition_sha256": experiment.sha256,
            "sweeps_identity": json.dumps(experiment.identity(), sort_keys=True),
            "sweeps_point_dims": list(dims),
            "sweeps_variables": [s.name for s in specs],
            "versions": versions(),
            "git_commit": git_commit(),
            "host": socket.gethostname(),
            "created": utc_now(),
            "runs": [],
        }
        attrs["history"] = f"{attrs['created']}: created by binnet-sweeps {attrs['versions'].get('binnet-sweeps', '')}".rstrip()

        coords.attrs.update(attrs)
        final = path
        for stale in final.parent.glob(f".{final.name}.creating-*"):  # left by a creation that died
            shutil.rmtree(stale, ignore_errors=True)
        path = final.with_name(f".{final.name}.creating-{os.getpid()}")
        try:
            coords.to_zarr(path, mode="w-", consolidated=False, zarr_format=3,
                           encoding={name: {"compressors": checksummed()} for name in coords.variables})
            group = zarr.open_group(str(path), mode="r+", zarr_format=3)
            sizes = {**inner, **dict(zip(dims, shape, strict=True))}
            extra = {name: set(c.dims) for name, c in coords.coords.items() if name not in coords.dims}

            def add(name: str, var_dims: tuple[str, ...], dtype, fill, chunks, var_attrs: dict) -> None:
                var_attrs = dict(var_attrs)
                linked = sorted(c for c, c_dims in extra.items() if c_dims <= set(var_dims))
                if linked:  # as xarray writes them: the non-dimension coordinates of this variable
                    var_attrs["coordinates"] = " ".join(linked)
                kind = np.dtype(dtype).kind
                if kind == "f":  # xarray's CF mask of a float fill value
                    var_attrs["_FillValue"] = base64.standard_b64encode(np.float64(fill).tobytes()).decode()
                elif kind in "iu" and name != "status":  # CF mask: xarray reads unwritten points as NaN
                    var_attrs["_FillValue"] = int(fill)  # (status is a flag variable: 0 means todo)
                group.create_array(name, shape=tuple(sizes[d] for d in var_dims), chunks=chunks, dtype=dtype, fill_value=fill, dimension_names=var_dims,
                                   attributes=var_attrs, compressors=checksummed())

            for spec in specs:
                inner_shape = tuple(inner[d] for d in spec.dims)
                add(spec.name, dims + tuple(spec.dims), spec.dtype, spec.fill, chunking.variables[spec.name] + inner_shape,
                    {"units": spec.units, "long_name": spec.long_name, **dict(spec.attrs)})
            unsampled = experiment.adaptive is not None  # an adaptive sweep runs the points it chooses
            add("status", dims, np.int8, int(Status.UNSAMPLED if unsampled else TODO), chunking.status, {
                "long_name": "point status", "flag_values": FLAG_VALUES, "flag_meanings": FLAG_MEANINGS})
            add("error", dims, str, registry.NO_ERROR, chunking.status, {"long_name": "error message of a failed point"})
            if unsampled:
                lattice = tuple(d.name for d in experiment.dimensions if not d.kind.is_replicate)
                add(ROUND_VARIABLE, lattice, np.int16, -1, chunking.status[: len(lattice)], ROUND_ATTRS)
            group.attrs[_COMPLETE] = True  # last: see open
            consolidate(path)
            if final.is_dir() and not any(final.iterdir()):
                final.rmdir()  # an empty directory given as the store path
            path.rename(final)  # the store appears complete, or not at all
        except BaseException as err:  # Ctrl-C included: leave no half-written store behind
            _remove_tree(path)
            if isinstance(err, OSError | ValueError):
                raise StoreError(f"cannot create store {final}: {err}") from err
            raise
        logger.info("created store %s: %d points; status chunks %s", final, math.prod(shape), chunking.status)
        return cls.open(final)

    @classmethod
    def open(cls, path: str | Path, mode: str = "r+") -> SweepStore:
        """Open an existing store."""
        try:
            group = zarr.open_group(str(path), mode=mode, zarr_format=3, use_consolidated=False)  # the real files
        except (FileNotFoundError, zarr.errors.GroupNotFoundError, ValueError) as err:
            raise StoreError(f"{path} is not a readable sweeps store: {err}") from None
        return cls(path, group)

    def _array(self, name: str) -> zarr.Array:
        if name not in self._arrays:
            # every written chunk gets a file, even if it holds only fill values: a missing
            # chunk of an ok point then always means damage (see verify)
            self._arrays[name] = self.group[name].with_config({"write_empty_chunks": True})
        return self._arrays[name]

    @property
    def attrs(self) -> dict[str, Any]:
        return self.group.attrs.asdict()

    def status(self) -> np.ndarray:
        """Per-point status array (point shape): 0 todo, 1 ok, 2 failed.

        Raises
        ------
        StoreError
            If the status cannot be read or holds other values (naming ``--verify``).
        """
        try:
            status = np.asarray(self._array("status")[...])
        except Exception as err:
            raise StoreError(f"{self.path}: the status is damaged ({_short(err)}); "
                             f"run: sweeps status --verify {self.path}") from None
        if not np.isin(status, FLAG_VALUES).all():
            raise StoreError(f"{self.path}: the status holds values other than todo/ok/failed/unsampled; "
                             f"run: sweeps status --verify {self.path}")
        return status

    def errors(self, full: bool = False) -> dict[int, str]:
        """Error message (first line) of every failed point, keyed by point index.

        With ``full=True``: the whole stored text, the message followed by the traceback.
        """
        status = self.status()
        failed = np.flatnonzero(status.ravel() == FAILED)
        if failed.size == 0:
            return {}
        errors = np.asarray(self._array("error")[...]).ravel()
        return {int(i): str(errors[i]) if full else str(errors[i]).split("\n", 1)[0] for i in failed}

    def failure_groups(self, status: np.ndarray | None = None) -> list[FailureGroup]:
        """Failed points grouped by the first line of their message, largest group first.

        Reads only the ``error`` chunks that hold a failed point.
        """
        status = self.status() if status is None else status
        failed = np.flatnonzero(status.ravel() == FAILED)
        groups: dict[str, list[int]] = {}
        error = self._array("error")
        for region, positions, local in self._blocks("error", failed):
            for index, text in zip(failed[positions], np.asarray(error[region])[local], strict=True):
                groups.setdefault(str(text).split("\n", 1)[0], []).append(int(index))
        found = [FailureGroup(message, len(points), min(points)) for message, points in groups.items()]
        return sorted(found, key=lambda g: (-g.count, g.first))

    def pending(self) -> list[int]:
        """Point indices (C order) to run: status todo or failed (not ok, not unsampled)."""
        return [int(i) for i in np.flatnonzero(np.isin(self.status().ravel(), (TODO, FAILED)))]

    def _blocks(self, name: str, indices: np.ndarray):
        """Group point ``indices`` by chunk of array ``name``: (region, positions, local coords)."""
        chunks = self._array(name).chunks[: len(self.shape)]
        coords = np.stack(np.unravel_index(indices, self.shape), axis=-1)
        keys = coords // np.asarray(chunks)
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        for group, start in enumerate(first):
            positions = np.flatnonzero(inverse.ravel() == group)
            key = keys[start]
            region = tuple(slice(int(k) * c, min((int(k) + 1) * c, n)) for k, c, n in zip(key, chunks, self.shape, strict=True))
            local = coords[positions] - np.array([r.start for r in region])
            yield region, positions, tuple(local.T)

    def write(self, batch) -> None:
        """Write a :class:`~sweeps.store.batch.PointBatch` (or a list of ``PointResult``): data first, then status.

        Each array is written chunk by chunk (read, update the batch's points, write back; a
        chunk file is replaced atomically), whole columns at once.  ``error`` is written only
        where a point fails now or failed before (a rerun clears its message).

        Raises
        ------
        StoreError
            If a write fails; points whose status was not written are not marked done.
        """
        if not isinstance(batch, PointBatch):
            batch = PointBatch.from_results(list(batch), {name: self._array(name).dtype for name in self.variables})
        if not len(batch):
            return
        try:
            ok = batch.ok
            for name in self.variables:
                self._write_rows(name, batch.index[ok], batch.values[name])
            old = np.empty(len(batch), np.int8)
            status = self._array("status")
            for region, positions, local in self._blocks("status", batch.index):
                old[positions] = np.asarray(status[region])[local]
            message = ~ok | (old == FAILED)
            self._write_rows("error", batch.index[message], np.array(batch.error, dtype=object)[message])
            self._write_rows("status", batch.index, np.where(ok, OK, FAILED).astype(np.int8))
        except OSError as err:
            raise StoreWriteError(f"writing to {self.path} failed: {err}") from err

    def _write_rows(self, name: str, indices: np.ndarray, rows: np.ndarray) -> None:
        """Write ``rows[k]`` at point ``indices[k]`` of array ``name``, chunk by chunk."""
        if not len(indices):
            return
        array = self._array(name)
        for region, positions, local in self._blocks(name, indices):
            block = np.asarray(array[region])
            block[local] = rows[positions]
            array[region] = block

    def verify(self) -> list[int]:
        """Read every chunk of every array; reset the ok points of damaged chunks to todo.

        See :meth:`check`; returns the indices of the points reset to todo.
        """
        return self.check().reset

    def check(self) -> VerifyReport:
        """Read every chunk of every array (variables, status, error, coordinates, theory).

        Every chunk is checksummed (crc32c), so one flipped byte fails to decode.  A damaged
        chunk of a point array (a data variable, ``error`` or ``status``) is removed (it then
        reads as fill values) and the ok points in it are marked todo, so the next run
        recomputes them; a chunk of a data variable missing where a point is ok is damage too.
        A status value that is not todo/ok/failed/unsampled counts as damage of its point.  A damaged
        theory chunk is removed and the theory record cleared (``sweeps theory`` recomputes
        it).  Damaged coordinates, unreadable array metadata and missing variables are
        reported; a resume cannot rebuild those (:attr:`VerifyReport.fatal`).
        """
        root = Path(self.path)
        report = VerifyReport()
        status_array = None
        try:
            status_array = self._array("status")
            status = np.asarray(status_array[...])
        except Exception as err:  # the status itself is damaged: every chunk of it is checked below
            status = np.full(self.shape, OK, np.int8)
            if status_array is None:
                report.add("status", None, f"unreadable metadata ({_short(err)})", fatal=True)
        invalid = ~np.isin(status, FLAG_VALUES)
        if invalid.any():
            report.add("status", None, f"{int(invalid.sum())} values are not todo/ok/failed/unsampled")
        ok = status == OK
        reset = invalid.copy()
        theory_damaged = False
        names = self._array_names(report)
        point_arrays = {*self.variables, "status", "error"}
        for name in names:
            try:
                array = self._array(name) if name in point_arrays else self.group[name]
            except Exception as err:
                report.add(name, None, f"unreadable metadata ({_short(err)})",
                           fatal=name in point_arrays or name in self.dims)
                if name in point_arrays:
                    reset |= ok
                continue
            is_point = name in point_arrays and tuple(array.metadata.dimension_names or ())[: len(self.shape)] == self.dims
            grid = [range(-(-n // c)) for n, c in zip(array.shape, array.chunks, strict=True)]
            for key in itertools.product(*grid):
                region = tuple(slice(k * c, min((k + 1) * c, n)) for k, c, n in zip(key, array.chunks, array.shape, strict=True))
                chunk_file = root / name / array.metadata.encode_chunk_key(key)
                problem = None
                if chunk_file.is_file():
                    try:
                        array[region]
                    except Exception as err:
                        problem = f"chunk {'.'.join(map(str, key))} unreadable ({_short(err)})"
                elif is_point and name in self.variables and ok[region[: len(self.shape)]].any():
                    problem = f"chunk {'.'.join(map(str, key))} missing"
                if problem is None:
                    continue
                if is_point:
                    points = region[: len(self.shape)]
                    hit = np.zeros(self.shape, bool)
                    hit[points] = True
                    reset |= hit & (ok | (name == "status"))
                    report.add(name, key, problem, points=np.flatnonzero((hit & ok).ravel()))
                    chunk_file.unlink(missing_ok=True)
                elif name in self.dims or name not in self._theory_names():
                    report.add(name, key, problem, fatal=True)
                else:
                    report.add(name, key, problem)
                    chunk_file.unlink(missing_ok=True)
                    theory_damaged = True
                logger.warning("damaged %s: %s", name, problem)
        if theory_damaged:
            self._write_theory_info(None)  # the next `sweeps theory` (or run) recomputes the theory
        reset &= ok | invalid
        if reset.any():  # damaged status chunks are gone now: read what is left
            try:
                current = np.asarray(self._array("status")[...])
            except Exception:
                current = np.full(self.shape, TODO, np.int8)
            current[reset | ~np.isin(current, FLAG_VALUES)] = TODO
            self._array("status")[...] = current
        report.reset = [int(i) for i in np.flatnonzero(reset.ravel())]
        return report

    def _array_names(self, report: VerifyReport) -> list[str]:
        """Every array of the store, from the directory (the listed variables included: one
        whose directory is gone is reported missing)."""
        root = Path(self.path)
        found = sorted(p.name for p in root.iterdir() if (p / "zarr.json").is_file() and p.name != THEORY_GROUP) \
            if root.is_dir() else []
        for name in (*self.variables, "status", "error", *self.dims):
            if name not in found:
                report.add(name, None, "missing (its directory is gone)", fatal=True)
        return found

    def _theory_names(self) -> set[str]:
        own = {*self.variables, "status", "error", *self.dims}
        names = set()
        for name in Path(self.path).iterdir():
            doc = _read_json(name / "zarr.json")
            if isinstance(doc, dict) and name.name not in own and "focus_count" in (doc.get("dimension_names") or ()):
                names.add(name.name)
        return names

    @property
    def theory_info(self) -> dict[str, Any] | None:
        """What the theory variables cover (None without theory, or while it is being replaced)."""
        doc = _read_json(self.path / THEORY_GROUP / "zarr.json")
        if isinstance(doc, dict):
            return (doc.get("attributes") or {}).get(THEORY_ATTR)
        return self.attrs.get(THEORY_ATTR)  # stores of older versions kept it in the group attributes

    def _theory_arrays(self, focus_dim: str) -> list[str]:
        """The arrays of the theory: variables along ``focus_dim`` and its coordinate."""
        own = {*self.variables, "status", "error"}
        names = [n for n, a in self.group.arrays() if n not in own and focus_dim in (a.metadata.dimension_names or ())]
        return [n for n in names if n != focus_dim or focus_dim not in self.dims]

    def replace_theory(self, ds: xr.Dataset, info: dict[str, Any], focus_dim: str) -> None:
        """Replace every theory variable by those of ``ds`` (dimension ``focus_dim``) and record ``info``.

        Crash-safe at every instant: the group's own ``zarr.json`` (identity, definition,
        provenance) is never written.  The record of what the theory covers is cleared first,
        the old theory arrays removed, the new ones written by xarray into a temporary sibling
        store and each moved into place with one rename, and the record written last (one
        atomic file replacement).  An interruption leaves a store without a theory record (the
        next ``sweeps theory`` or run recomputes it) and never touches the simulated points.
        """
        self._write_theory_info(None)
        protected = {*self.variables, *self.dims, "status", "error"}
        staging = self.path.with_name(f".{self.path.name}.theory-tmp")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            for name in self._theory_arrays(focus_dim):
                shutil.rmtree(self.path / name)
            ds.to_zarr(staging, mode="w", consolidated=False, zarr_format=3,
                       encoding={name: {"compressors": checksummed()} for name in ds.variables})
            for entry in sorted(staging.iterdir()):
                if not entry.is_dir() or entry.name in protected:
                    continue
                target = self.path / entry.name
                if target.exists():  # left by an interrupted removal
                    shutil.rmtree(target)
                entry.rename(target)
        finally:
            _remove_tree(staging)  # after zarr's writes in flight, which would recreate it
        self.group = zarr.open_group(str(self.path), mode="r+", zarr_format=3, use_consolidated=False)
        self._arrays.clear()
        self.set_theory_info(info)

    def theory_width(self, name: str) -> int:
        """Length of the trailing dimension of theory variable ``name``."""
        return int(self.group[name].shape[-1])

    def widen_theory(self, name: str, width: int, fill, written: int | None = None) -> None:
        """Grow the trailing dimension of theory variable ``name`` to ``width``; entries past
        ``written`` (default: the current width) are set to ``fill``.

        Pass the width recorded with the theory as ``written``: a widening interrupted after
        the resize is then completed by the next call.
        """
        array = self.group[name]
        stored = array.shape[-1] if written is None else min(written, array.shape[-1])
        if width > array.shape[-1]:
            array.resize(array.shape[:-1] + (width,))
        if width > stored:
            array[..., stored:] = fill

    def write_theory_block(self, name: str, region: tuple[slice, ...], values: np.ndarray) -> None:
        """Write ``values`` into ``region`` of theory variable ``name``."""
        self.group[name][region] = values

    def set_theory_info(self, info: dict[str, Any]) -> None:
        """Record what the theory covers (its own small group, one atomic file), then consolidate."""
        self._write_theory_info(info)
        consolidate(self.path)

    def _write_theory_info(self, info: dict[str, Any] | None) -> None:
        doc = {"zarr_format": 3, "node_type": "group", "attributes": {THEORY_ATTR: json.loads(json.dumps(info))}}
        write_json_atomic(self.path / THEORY_GROUP / "zarr.json", doc)

    def theory_dataset(self) -> xr.Dataset:
        """The theory variables of the store (lazily loaded)."""
        import xarray as xr

        names = set((self.theory_info or {}).get("variables", ()))
        ds = xr.open_zarr(self.path, consolidated=False, zarr_format=3)
        return ds[[n for n in ds.data_vars if n in names or (not names and n.startswith("mf_"))]]

    def record_run(self, run: dict[str, Any]) -> None:
        """Append a run record to the attrs, or update the one with the same ``id``."""
        attrs = self.attrs
        runs = [r for r in attrs.get("runs", []) if r.get("id") != run["id"]]
        update: dict[str, Any] = {"runs": runs + [run]}
        if len(runs) == len(attrs.get("runs", [])):  # a new run: one line of CF history
            line = f"{run.get('started') or utc_now()}: run {run['id'][:8]} ({run.get('backend', '')})"
            update["history"] = "\n".join(filter(None, [attrs.get("history", ""), line]))
        try:
            self.group.attrs.update(update)
            consolidate(self.path)  # plain xarray.open_zarr reads the new record, without warnings
        except OSError as err:
            raise StoreWriteError(f"writing the run record to {self.path} failed: {err}") from err


