"""Figures from a results Dataset: phase diagrams, activity traces, and the ``sweeps plot`` call.

Functions draw on a given :class:`matplotlib.axes.Axes` or on a new
:class:`matplotlib.figure.Figure` (no pyplot, so no global state and nothing is shown; PNGs
are rendered by Agg whatever the interactive backend) and return the Figure.
Axis and colorbar labels come from the ``long_name`` and ``units`` attributes.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sweeps.analysis.datasets import (
    INNER_DIMS,
    STATUS,
    ok_mask,
    only_ok,
    point_dims,
    select,
    status_text,
    summarize,
)
from sweeps.store.export import output_file
from sweeps.store.status import ROUND_VARIABLE as ROUND

logger = logging.getLogger(__name__)

TRACE_VAR = "activity"
MAX_TICK_LABELS = 20
#: file formats of ``sweeps plot`` / :func:`plot_command`, by file extension
FORMATS = ("png", "pdf", "svg")
#: longest line of an axis label or title, in characters per inch of figure width / height
_CHARS_PER_INCH = 10.0
#: replicates a confidence band needs at a point (fewer: the band is not drawn there)
MIN_CI_NETWORKS = 2


def _wrap(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width`` characters (at spaces)."""
    import textwrap

    return "\n".join(textwrap.fill(line, max(width, 10), break_long_words=False) for line in text.splitlines())


def _label(da: xr.DataArray, width: int = 45) -> str:
    """``long_name [units]`` (falls back to the name; units ``1`` are left out), wrapped."""
    name = str(da.attrs.get("long_name", da.name))
    units = da.attrs.get("units")
    return _wrap(f"{name} [{units}]" if units and units != "1" else name, width)


def _wrap_labels(ax: Axes) -> None:
    """Wrap the axis labels and the title of ``ax`` to the size of its figure."""
    w, h = ax.figure.get_size_inches()
    ax.set_xlabel(_wrap(ax.get_xlabel(), int(w * _CHARS_PER_INCH)))
    ax.set_ylabel(_wrap(ax.get_ylabel(), int(h * _CHARS_PER_INCH)))
    ax.set_title(_wrap(ax.get_title(), int(w * _CHARS_PER_INCH)))


def output_format(path: str | os.PathLike) -> str:
    """The figure format of ``path`` from its extension (``png`` without one).

    Raises
    ------
    ValueError
        Another extension; the message lists :data:`FORMATS`.
    """
    suffix = Path(path).suffix.lower().lstrip(".")
    if not suffix:
        return "png"
    if suffix not in FORMATS:
        raise ValueError(f"plot: cannot write {Path(path).name!r}: the extension must be one of "
                         f"{', '.join('.' + f for f in FORMATS)}")
    return suffix


def _new_axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    return Figure(layout="constrained").add_subplot()


def _is_log_spaced(values: np.ndarray) -> bool:
    """True for >= 3 positive values evenly spaced in log but not in linear scale."""
    if values.dtype.kind not in "iuf" or values.size < 3 or np.any(values <= 0):
        return False
    steps, log_steps = np.diff(values), np.diff(np.log(values))
    return not np.allclose(steps, steps[0]) and bool(np.allclose(log_steps, log_steps[0]))


def _point_text(da: xr.DataArray) -> str:
    """``name=value`` for the scalar coordinates of ``da`` (the selected grid point)."""
    parts = []
    for name, coord in da.coords.items():
        if coord.ndim == 0 and name not in INNER_DIMS:
            value = coord.values.item()
            parts.append(f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}")
    return ", ".join(parts)


def phase_diagram(ds: xr.Dataset, var: str, x: str, y: str, ax: Axes | None = None,
                  interpolate: bool = False) -> Figure:
    """Heatmap of ``var`` over two swept axes.

    Every other dim (``seed``, further swept axes, inner dims) is averaged over, ignoring
    points whose status is not ok; the title says which. Logarithmically spaced axes get a
    log scale; non-numeric axes (e.g. connection types) get one labelled column per value.
    An adaptive store (with ``adaptive_round``) draws its simulated lattice points as dots;
    the lattice points it did not simulate stay empty, or with ``interpolate`` are filled by
    linear interpolation between the simulated ones (:func:`scipy.interpolate.griddata`).

    Parameters
    ----------
    ds : xarray.Dataset
        Results Dataset (possibly after :func:`sweeps.analysis.datasets.select`).
    var : str
        Data variable to show.
    x, y : str
        Swept dims for the horizontal and vertical axis (each with >= 2 values).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new Figure.
    interpolate : bool
        Fill points without data by linear interpolation over ``x`` and ``y``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if var not in ds.data_vars or var == STATUS:
        allowed = [v for v in ds.data_vars if v != STATUS]
        raise ValueError(f"phase_diagram: unknown variable {var!r}; allowed: {', '.join(allowed)}")
    axes = [str(d) for d in point_dims(ds)]
    for flag, axis in (("x", x), ("y", y)):
        if axis not in axes:
            raise ValueError(f"phase_diagram: unknown {flag} axis {axis!r}; allowed: {', '.join(axes)}")
        if ds.sizes[axis] < 2:
            raise ValueError(f"phase_diagram: {flag} axis {axis!r} has {ds.sizes[axis]} value(s); "
                             "need at least 2")
    if x == y:
        raise ValueError(f"phase_diagram: x and y are both {x!r}; choose two different axes")
    da = only_ok(ds)[var]
    others = [d for d in da.dims if d not in (x, y)]
    if others:
        da = da.mean(others, keep_attrs=True)
    ax = _new_axes(ax)
    ticks = {}
    for axis in (x, y):
        if da[axis].dtype.kind not in "iuf":
            ticks[axis] = [str(v) for v in da[axis].values]
            da = da.assign_coords({axis: (axis, np.arange(da.sizes[axis]), da[axis].attrs)})
    if interpolate:
        da = _interpolated(da, x, y)
    da.plot.pcolormesh(
        x=x, y=y, ax=ax,
        xscale="log" if _is_log_spaced(da[x].values) else "linear",
        yscale="log" if _is_log_spaced(da[y].values) else "linear",
        center=False,  # one sequential colour map for every variable
        cbar_kwargs={"label": _label(ds[var])},
    )
    ax.set_xlabel(_label(ds[x]))
    ax.set_ylabel(_label(ds[y]))
    _draw_simulated(ds, da, x, y, ax)
    _draw_bifurcation(ds, x, y, ticks, ax)
    for axis, labels in ticks.items():
        setter = (ax.set_xticks if axis == x else ax.set_yticks)
        setter(np.arange(len(labels)), labels)
    title = [t for t in (_point_text(da), f"mean over {', '.join(others)}" if others else "") if t]
    ax.set_title("; ".join(title))
    _wrap_labels(ax)
    return ax.figure


def _interpolated(da: xr.DataArray, x: str, y: str) -> xr.DataArray:
    """``da`` (dims ``x``, ``y``) with its NaN points filled linearly between the finite ones."""
    from scipy.interpolate import griddata

    grid = da.transpose(x, y)
    xs, ys = np.meshgrid(np.asarray(grid[x].values, float), np.asarray(grid[y].values, float), indexing="ij")
    values = np.asarray(grid.values, float)
    known = np.isfinite(values)
    if known.sum() < 3 or known.all():
        return grid
    filled = griddata((xs[known], ys[known]), values[known], (xs, ys), method="linear")
    return grid.copy(data=np.where(known, values, filled))


def _draw_simulated(ds: xr.Dataset, da: xr.DataArray, x: str, y: str, ax: Axes) -> None:
    """Dots at the lattice points an adaptive sweep simulated (``adaptive_round`` set)."""
    if ROUND not in ds or not {x, y} <= set(ds[ROUND].dims):
        return
    chosen = (ds[ROUND] >= 0)
    chosen = chosen.any([d for d in chosen.dims if d not in (x, y)]).transpose(x, y)
    xs, ys = np.meshgrid(np.asarray(da[x].values), np.asarray(da[y].values), indexing="ij")
    mask = np.asarray(chosen.values, bool)
    ax.plot(xs[mask], ys[mask], linestyle="none", marker=".", markersize=3, color="black",
            label="simulated")
    ax.legend(loc="best", fontsize="small")


def _draw_bifurcation(ds: xr.Dataset, x: str, y: str, ticks: dict, ax: Axes) -> None:
    """The mean-field bifurcation line (focus count 1) over an R_Eplus phase diagram."""
    from sweeps.theory.compute import bifurcation_line

    line = bifurcation_line(ds, x, y)
    if line is None:
        return
    xs, ys = (np.arange(len(v)) if axis in ticks else v for axis, v in zip((x, y), line))
    ax.plot(xs, ys, color="white", linestyle="--", linewidth=1.5, marker="o", markersize=3,
            label="mean-field bifurcation")
    ax.legend(loc="best", fontsize="small")


def activity_traces(ds: xr.Dataset, point: Mapping[str, Any], ax: Axes | None = None) -> Figure:
    """Populations x time image of the activity trace of one grid point.

    Parameters
    ----------
    ds : xarray.Dataset
        Results Dataset with the ``activity`` trace ``[..., time, population]``.
    point : mapping
        Value of every swept axis with more than one value (``seed`` included), as for
        :func:`sweeps.analysis.datasets.select`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if TRACE_VAR not in ds.data_vars:
        raise ValueError(f"activity_traces: the store has no {TRACE_VAR!r} variable "
                         "(traces were not kept for this experiment)")
    inner = sorted(set(point) & {"population", "time"})
    if inner:
        raise ValueError(f"activity_traces: the point may not fix {inner}; give swept axes only")
    sel = select(ds, **point)
    loose = [str(d) for d in point_dims(sel) if sel.sizes[d] > 1]
    if loose:
        choices = "; ".join(
            f"{d}: {', '.join(map(str, sel[d].values)) if d in sel.coords else sel.sizes[d]}"
            for d in loose
        )
        raise ValueError(f"activity_traces: the point leaves axes {loose} open; give one value "
                         f"each ({choices})")
    if point_dims(sel):
        sel = sel.squeeze(point_dims(sel))
    mask = ok_mask(sel)
    if mask is not None and not bool(mask):
        raise ValueError(f"activity_traces: point {dict(point)} has status "
                         f"{status_text(sel[STATUS])!r}, not ok")
    da = sel[TRACE_VAR].transpose("population", "time")
    time = np.asarray(da["time"].values, np.float64) if "time" in da.coords else \
        np.arange(da.sizes["time"], dtype=np.float64)
    half = (time[1] - time[0]) / 2 if time.size > 1 else 0.5
    names = [str(p) for p in da["population"].values] if "population" in da.coords else \
        [str(i) for i in range(da.sizes["population"])]
    ax = _new_axes(ax)
    image = ax.imshow(
        np.asarray(da.values, np.float64), aspect="auto", interpolation="nearest", origin="upper",
        extent=(time[0] - half, time[-1] + half, len(names) - 0.5, -0.5), vmin=0.0,
    )
    ax.figure.colorbar(image, ax=ax, label=_label(da))
    step = max(1, -(-len(names) // MAX_TICK_LABELS))
    ax.set_yticks(np.arange(0, len(names), step), names[::step])
    ax.set_ylabel("population")
    ax.set_xlabel(_label(da["time"]) if "time" in da.coords else "sample")
    ax.set_title(_point_text(da))
    _wrap_labels(ax)
    return ax.figure


def parse_point(items: Iterable[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    """``["R_Eplus=7.25", "connection_type=poisson"]`` -> ``{"R_Eplus": 7.25, ...}``.

    Values that parse as numbers become numbers; others stay strings. A mapping is returned
    as a dict unchanged.
    """
    if items is None:
        return {}
    if isinstance(items, Mapping):
        return dict(items)
    point = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip() or not text.strip():
            raise ValueError(f"--point: expected AXIS=VALUE, got {item!r}")
        try:
            value: Any = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                value = text.strip()
        point[name.strip()] = value
    return point


def line_ci(ds: xr.Dataset, var: str, x: str, over="network", ci: float = 0.95,
            n_boot: int = 1000, seed: int = 0, ax: Axes | None = None) -> Figure:
    """Mean of ``var`` against one axis with its bootstrap confidence band.

    The mean and interval over the replicate dims ``over`` come from
    :func:`sweeps.analysis.datasets.summarize` (Fisher-z aware for correlations). One further dim may
    remain (e.g. ``relation``): it gives one line per value; fix others first with
    :func:`sweeps.analysis.datasets.select`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    summary = summarize(ds, var, over=over, ci=ci, n_boot=n_boot, seed=seed)
    if x not in summary.dims:
        allowed = [str(d) for d in summary.dims]
        raise ValueError(f"line_ci: unknown x axis {x!r}; allowed: {', '.join(allowed) or 'none'}")
    others = [str(d) for d in summary.dims if d != x]
    if len(others) > 1:
        raise ValueError(f"line_ci: {var} still has dims {others} besides {x!r}; fix all but one "
                         "(--point AXIS=VALUE or analysis.select)")
    networks = _networks(ds, var, summary)
    if not (networks >= MIN_CI_NETWORKS).any():
        raise ValueError(f"line_ci: a confidence band needs at least {MIN_CI_NETWORKS} ok networks "
                         f"(replicates along {summary.attrs['over'][0]!r}) at a point; {var} has at most "
                         f"{int(networks.max()) if networks.size else 0}")
    ax = _new_axes(ax)
    groups = [(None, summary, networks)] if not others else \
        [(summary[others[0]].values[i], summary.isel({others[0]: i}), networks.isel({others[0]: i}))
         for i in range(summary.sizes[others[0]])]
    few_total = 0
    for value, part, n in groups:
        xs = part[x].values
        few = np.asarray(n.transpose(x).values) < MIN_CI_NETWORKS
        few_total += int(few.sum())
        line, = ax.plot(xs, part["mean"].values, marker="o",
                        label=None if value is None else f"{others[0]}={value}")
        ax.fill_between(xs, np.where(few, np.nan, part["lower"].values), np.where(few, np.nan, part["upper"].values),
                        alpha=0.25, color=line.get_color(), linewidth=0)
        if few.any():  # hollow markers: no band there
            ax.plot(xs[few], part["mean"].values[few], linestyle="none", marker="o", markersize=9,
                    markerfacecolor="white", markeredgecolor=line.get_color(),
                    label=f"no CI: < {MIN_CI_NETWORKS} networks" if few_total == int(few.sum()) else None)
    if others or few_total:
        ax.legend(fontsize="small")
    ax.set_xlabel(_label(ds[x]))
    ax.set_ylabel(_label(ds[var]))
    if _is_log_spaced(np.asarray(summary[x].values)):
        ax.set_xscale("log")
    dims = ", ".join(summary.attrs["over"])
    title = [t for t in (_point_text(summary["mean"]),
                         f"mean and {100 * ci:g} % bootstrap CI over {dims}",
                         f"{few_total} point(s) with < {MIN_CI_NETWORKS} networks: no band" if few_total else "") if t]
    ax.set_title("; ".join(title))
    _wrap_labels(ax)
    return ax.figure


def _networks(ds: xr.Dataset, var: str, summary: xr.Dataset) -> xr.DataArray:
    """Networks (the outermost replicate dim) with an ok value of ``var``, over the dims of ``summary``."""
    outer = summary.attrs["over"][0]
    valid = only_ok(ds)[var].notnull()
    inner = [d for d in valid.dims if d not in summary.dims and d != outer]
    if inner:
        valid = valid.any(inner)
    return valid.sum(outer).compute()


def plot_command(
    store_path_or_ds: str | os.PathLike | xr.Dataset,
    output: str | os.PathLike,
    var: str | None = None,
    x: str | None = None,
    y: str | None = None,
    point: Iterable[str] | Mapping[str, Any] | None = None,
    width: float = 6.4,
    height: float = 4.8,
    dpi: float = 100.0,
    ci: float | None = None,
    over: str | tuple[str, ...] = "network",
    interpolate: bool = False,
) -> Path:
    """Write one figure: a phase diagram (``var``, ``x``, ``y``) or the traces of one ``point``.

    Parameters
    ----------
    store_path_or_ds : path or xarray.Dataset
        A results store (opened lazily with :func:`xarray.open_zarr`) or an opened Dataset.
    output : path
        File to write; its extension gives the format (:data:`FORMATS`: ``.png``, ``.pdf``,
        ``.svg``; PNG without an extension).
    var, x, y : str, optional
        Phase diagram of ``var`` over the swept axes ``x`` and ``y``; ``point`` then fixes
        further swept axes before the remaining ones are averaged.
    point : mapping or iterable of "AXIS=VALUE", optional
        Without ``var``: the grid point whose activity traces are drawn.
    width, height : float
        Figure size in inches; a PNG has ``round(width * dpi) x round(height * dpi)`` pixels.
    dpi : float
        Pixels per inch.
    ci : float, optional
        With ``var`` and ``x`` (no ``y``): a line of the mean of ``var`` against ``x`` with
        its ``ci`` bootstrap band over the replicate dims ``over`` (see :func:`line_ci`).
    over : str or tuple of str, default "network"
        Replicate dims of the band.
    interpolate : bool
        Phase diagram of an adaptive store: fill the unsampled points (see :func:`phase_diagram`).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    values = parse_point(point)
    fmt = output_format(output)
    if not (width > 0 and height > 0 and dpi > 0):
        raise ValueError(f"plot: width, height and dpi must be > 0, got {width}, {height}, {dpi}")
    if var is None and (x is not None or y is not None):
        raise ValueError("plot: --x/--y need --var VAR")
    if ci is not None and (var is None or x is None or y is not None):
        raise ValueError("plot: --ci draws a line: give --var VAR --x AXIS and no --y")
    if var is not None and ci is None and (x is None or y is None):
        raise ValueError("plot: --var needs both --x AXIS and --y AXIS "
                         "(or --x AXIS --ci LEVEL for a line with its confidence band)")
    if var is None and not values:
        raise ValueError("plot: give --var VAR --x AXIS --y AXIS, or --point AXIS=VALUE ...")
    output = output_file(output, None if isinstance(store_path_or_ds, xr.Dataset) else store_path_or_ds)
    ds = store_path_or_ds if isinstance(store_path_or_ds, xr.Dataset) else \
        xr.open_zarr(store_path_or_ds, consolidated=False)
    fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    if ci is not None:
        if x in values:
            raise ValueError(f"plot: --point fixes the plotted axis {x!r}; leave it open")
        line_ci(select(ds, **values) if values else ds, var, x, over=over, ci=ci, ax=ax)
    elif var is not None:
        fixed = [axis for axis in (x, y) if axis in values]
        if fixed:
            raise ValueError(f"plot: --point fixes the plotted axes {fixed}; leave them open")
        phase_diagram(select(ds, **values) if values else ds, var, x, y, ax=ax, interpolate=interpolate)
    else:
        activity_traces(ds, values, ax=ax)
    fig.savefig(output, dpi=dpi, format=fmt)
    logger.info("wrote %s", output)
    return output
