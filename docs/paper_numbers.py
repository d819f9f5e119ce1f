"""The project's numbers and figures for docs/PAPER.md, read from the stores the reduced runs
write (see docs/PAPER.md for the commands that make them).

    python docs/paper_numbers.py meanfield results/paper/f2.zarr
    python docs/paper_numbers.py rates results/paper/f1.zarr
    python docs/paper_numbers.py rasters results/paper/f1.zarr -o docs/figures/paper_figure1.png
    python docs/paper_numbers.py spectra results/paper/s1.npz -o docs/figures/paper_figure_s1.png
    python docs/paper_numbers.py dwell results/paper/f3d.zarr --export results/paper/f3d_traces.npz
    python docs/paper_numbers.py figure4 results/paper/f4.zarr -o docs/figures/paper_figure4.png
    python docs/paper_numbers.py fixed-points results/paper/f2full.zarr -o docs/figures/meanfield_fixed_points.png
    python docs/paper_numbers.py same-data experiments/paper/figure4.toml KEY=VALUE ... \
        --store results/paper/f4s.zarr --export results/paper/f4s_data.npz

(``same-data`` re-simulates the points of a store, which must have been run from the same
definition and overrides, and needs the reference's functions on the other side:
docs/PAPER.md.)
"""
from __future__ import annotations

import argparse

import numpy as np

import sweeps


def meanfield(args) -> None:
    """Every fixed point's focus-E rate and stability per parameter set and focus count, as
    docs/paper_reference.py prints them."""
    ds = sweeps.open_results(args.store)
    rate, stable = ds["mf_point_E_focus"], ds["mf_point_stable"]
    swept = [d for d in rate.dims if d not in ("focus_count", "mf_point", "network", "init", "seed")]
    for index in np.ndindex(*[ds.sizes[d] for d in swept]):
        at = dict(zip(swept, index, strict=True))
        where = ds.isel(at)
        names = [c for c in ds.coords if ds[c].dims and ds[c].dims[0] in swept and c not in swept]
        label = ", ".join(f"{c}={where[c].values}" for c in [*swept, *names] if where[c].size == 1)
        print(f"{label}\nfocus fixed points (focus E rate, stability)")
        # the fixed points do not depend on the network or init: the first one's
        first = {d: 0 for d in ("network", "init", "seed") if d in rate.dims}
        for focus in ds.focus_count.values:
            values = rate.isel(at).isel(first).sel(focus_count=focus).values.ravel()
            flags = stable.isel(at).isel(first).sel(focus_count=focus).values.ravel()
            text = ", ".join(f"{v:.4f} {'stable' if s == 1 else 'unstable'}"
                             for v, s in zip(values, flags, strict=True) if v == v)
            print(f"{focus:>5d} {text}")


def fixed_points(args) -> None:
    """Figure 2's (and S3's) top row: every fixed point's focus-E rate against R_Eplus per
    kappa and focus count, filled when stable (``docs/meanfield_figure.py``)."""
    from pathlib import Path

    from meanfield_figure import fixed_point_figure  # docs/, next to this file

    fixed_point_figure(sweeps.open_results(args.store), Path(args.output))
    print(f"wrote {args.output}")


def starts(args) -> None:
    """What each point started from: source, focus count, stability, focus-E rate."""
    ds = sweeps.open_results(args.store)
    for at in _points(ds):
        p = ds.isel(at)
        label = ", ".join(f"{d}={p[d].values}" for d in at)
        rates = p["initial_rates"].values
        print(f"{label}: initial_source {int(p.initial_source)}, focus count {float(p.initial_focus_count):g}, "
              f"stable {float(p.initial_stable):g}, largest initial E rate {np.nanmax(rates[:len(rates) // 2]):.4f}")


def _points(ds):
    swept = [d for d in ds["mean_activity_E"].dims]
    for index in np.ndindex(*[ds.sizes[d] for d in swept]):
        yield {d: i for d, i in zip(swept, index, strict=True)}


def rates(args) -> None:
    """Mean E and I activity and up-transition rates per point; the raster neurons' rate."""
    ds = sweeps.open_results(args.store)
    for at in _points(ds):
        p = ds.isel(at)
        label = ", ".join(f"{d}={p[d].values}" for d in at)
        text = (f"{label}: mean E activity {float(p.mean_activity_E):.4f}, mean I activity "
                f"{float(p.mean_activity_I):.4f}, up rate E {float(p.up_rate_E):.3f}/s, I {float(p.up_rate_I):.3f}/s")
        if "raster_count" in ds:
            counts = p["raster_count"].values
            is_e = np.array([str(name).startswith("E") for name in p["raster_population"].values])
            if ds["time"].attrs.get("units") == "ms":
                seconds = float(p["time"].values[-1]) / 1000.0
            elif args.seconds:
                seconds = args.seconds
            else:
                raise SystemExit("the window is in steps: give its length with --seconds")
            text += (f"; raster neurons {counts.size}: {counts[is_e].mean() / seconds:.3f}/s (E), "
                     f"{counts[~is_e].mean() / seconds:.3f}/s (I)")
        print(text)


def rasters(args) -> None:
    """Figure 1's panels: the raster of each point (E by cluster, then I) over its E cluster
    activity."""
    from matplotlib.figure import Figure

    ds = sweeps.open_results(args.store)
    if args.network is not None:
        ds = ds.isel(network=[args.network])
    points = list(_points(ds))
    fig = Figure(figsize=(6.5 * len(points), 6.0), layout="constrained")
    grid = fig.add_gridspec(2, len(points), height_ratios=[3, 1])
    for column, at in enumerate(points):
        p = ds.isel(at)
        times, ids = p["raster_times"].values, p["raster_neuron"].values
        ax = fig.add_subplot(grid[0, column])
        rows = np.repeat(ids, times.shape[1])
        keep = np.isfinite(times.ravel())
        ax.scatter(times.ravel()[keep], rows[keep], s=0.2, c="k", linewidths=0, rasterized=True)
        ax.set_title(", ".join(_coordinate_label(ds, d, i) for d, i in at.items()))
        ax.set_ylabel("neuron")
        ax2 = fig.add_subplot(grid[1, column], sharex=ax)
        e = np.array([str(t) == "E" for t in ds["population_type"].values])
        time = p["time"].values.astype(float)
        if ds["time"].attrs.get("units") != "ms":  # samples in steps: spread over the window
            time = time / time[-1] * 1000.0 * args.seconds
        ax2.plot(time, p["activity"].values[:, e], lw=0.5)
        ax2.set_xlabel("time after warm-up (ms)")
        ax2.set_ylabel("E cluster activity")
    fig.savefig(args.output, dpi=80)
    print(f"wrote {args.output}")


def spectra(args) -> None:
    """Figure S1's panels: the eigenvalues of network 0 per parameter set, rho_95 drawn."""
    from matplotlib.figure import Figure

    saved = np.load(args.npz)
    labels = [str(v) for v in saved["labels"]]
    keys = [k for k in saved.files if k.startswith("point")]
    first = [k for k, label in zip(keys, labels, strict=True) if label.endswith("=0")]
    fig = Figure(figsize=(4.0 * len(first), 4.0), layout="constrained")
    for column, key in enumerate(first):
        values = saved[key]
        ax = fig.add_subplot(1, len(first), column + 1)
        ax.scatter(values.real, values.imag, s=4, c="k", alpha=0.35, linewidths=0)
        radius = np.percentile(np.abs(values), 95)
        ax.add_patch(__import__("matplotlib.patches", fromlist=["Circle"]).Circle(
            (0, 0), radius, edgecolor="red", facecolor="none"))
        ax.set_aspect("equal")
        ax.set_title(labels[keys.index(key)])
        ax.set_xlabel("Re lambda")
    fig.savefig(args.output, dpi=150)
    print(f"wrote {args.output}")


def spectra_table(args) -> None:
    """Mean and sample standard deviation over networks of rho_95, max |lambda| and max Re
    lambda per kappa: the project's (.npz of ``sweeps spectrum``) and the reference's (the
    table ``docs/paper_reference.py spectrum`` printed)."""
    saved = np.load(args.npz)
    labels = [str(v) for v in saved["labels"]]
    keys = [k for k in saved.files if k.startswith("point")]
    project: dict[float, list] = {}
    for key, label in zip(keys, labels, strict=True):
        kappa = float(label.split(",")[0].split("=")[1])
        values = saved[key]
        project.setdefault(kappa, []).append(
            [np.percentile(np.abs(values), 95), np.abs(values).max(), values.real.max()])
    rows = [line.split() for line in open(args.reference) if line.strip() and line.split()[0][0].isdigit()]
    reference: dict[float, list] = {}
    for row in rows:
        reference.setdefault(float(row[0]), []).append([float(x) for x in row[2:5]])
    print("kappa | rho_95 project | reference | max|l| project | reference | max Re l project | reference")
    for kappa in sorted(project):
        a, b = np.array(project[kappa]), np.array(reference[kappa])
        cells = []
        for j in range(3):
            cells += [f"{a[:, j].mean():.3f} ± {a[:, j].std(ddof=1):.3f} (n={len(a)})",
                      f"{b[:, j].mean():.3f} ± {b[:, j].std(ddof=1):.3f} (n={len(b)})"]
        print(f"{kappa:g} | " + " | ".join(cells))


def stats(args) -> None:
    """Figure 4's statistics per condition, means over networks and inits (E activity, E-E spike
    correlation within and across clusters, fraction of samples with one active cluster)."""
    ds = sweeps.open_results(args.store)
    reduce = [d for d in ("network", "init") if d in ds["mean_activity_E"].dims]
    ee = ds["corr_states"].sel(pair_type="E-E")
    table = {"mean E activity": ds["mean_activity_E"], "E-E corr within": ee.sel(relation="within"),
             "E-E corr across": ee.sel(relation="across"), "one cluster active": ds["fraction_one_active"]}
    swept = [d for d in ds["mean_activity_E"].dims if d not in reduce]
    print(f"{'condition':<32}" + "".join(f"{name:>20}" for name in table) + f"  ({reduce} averaged)")
    for index in np.ndindex(*[ds.sizes[d] for d in swept]):
        at = dict(zip(swept, index, strict=True))
        where = ds.isel(at)
        names = [c for c in ds.coords if ds[c].dims and ds[c].dims[0] in swept and c != "p0_ie"
                 and c not in ("p0_ei", "p0_ii")]
        label = ", ".join(f"{c}={where[c].values}" for c in names if where[c].size == 1)
        print(f"{label:<32}" + "".join(f"{float(v.isel(at).mean(reduce)):>20.4f}" for v in table.values()))


def figure4(args) -> None:
    """Figure 4's panels (and S4's): E-E correlations of the states and the inputs, within and
    across clusters, against kappa; a line per connectivity, the mean over networks and inits
    with the paper's bootstrap interval (``sweeps.analysis.summarize``)."""
    from matplotlib.figure import Figure

    from sweeps.analysis import summarize

    ds = sweeps.open_results(args.store)
    over = tuple(d for d in ("network", "init") if d in ds["corr_states"].dims)
    fig = Figure(figsize=(10, 7), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True)
    for row, (var, word) in enumerate((("corr_states", "states"), ("corr_fields", "inputs"))):
        summary = summarize(ds, var, over=over).sel(pair_type="E-E")
        for column, relation in enumerate(("within", "across")):
            ax = axes[row, column]
            for k in range(ds.sizes["connectivity"]):
                line = summary.isel(connectivity=k).sel(relation=relation)
                kappa = ds["kappa"].values
                ax.plot(kappa, line["mean"], marker="o", label=f"p0 {float(ds['p0_ee'].values[k]):g}")
                ax.fill_between(kappa, line["lower"], line["upper"], alpha=0.2)
            ax.set_title(f"E-E {word}, {relation} clusters")
            ax.set_ylabel("Fisher-z mean r")
            ax.axhline(0.0, color="0.7", lw=0.5)
    for ax in axes[1]:
        ax.set_xlabel("kappa")
    axes[0, 0].legend()
    fig.suptitle(f"{', '.join(f'{d} {ds.sizes[d]}' for d in over)}; {summary.attrs.get('ci', 0.95):g} interval")
    fig.savefig(args.output, dpi=80)
    print(f"wrote {args.output}")


def _dwell_options(args):
    from sweeps.analysis.states import ActiveSetEM

    return ActiveSetEM(segmentation=args.segmentation, merge_after_em=args.merge_after_em,
                       min_flicker_duration=args.min_flicker_duration)


def _point_label(traces, point, dim: str) -> str:
    """``dim=value`` of a stacked point; a zip dimension by its columns (e.g. ``kappa, R_j``)."""
    columns = [c for c in traces.coords if traces[c].dims == (dim,) and c != dim]
    return ", ".join(f"{c}={point[c].values}" for c in columns) if columns else f"{dim}={point[dim].values}"


def dwell(args) -> None:
    """Figure 3's dwell-time summary per trace (the paper's state inference) and, per column,
    the mean and SD over networks of the mean dwell times; ``--export`` writes the E traces for
    ``docs/paper_reference.py dwell`` (the same arrays through the reference's code)."""
    from sweeps.analysis.states import dwell_summary, excitatory_traces, infer_states

    traces = excitatory_traces(sweeps.open_results(args.store)).compute()
    dt = float(np.diff(traces["time"].values[:2])[0])
    others = [d for d in traces.dims if d not in ("time", "population")]
    stacked = traces.stack(point=others).transpose("point", "time", "population")
    opts = _dwell_options(args)
    arrays, labels, means, columns = {}, [], {}, {}
    print(f"{'trace':<28} {'episodes':>8} {'dwells':>6} {'mean ms':>9} {'sd ms':>9} {'median ms':>9}")
    for i in range(stacked.sizes["point"]):
        point = stacked.isel(point=i)
        label = ", ".join(_point_label(traces, point, d) for d in others if d != "init")
        s = dwell_summary(infer_states(np.asarray(point.values, float), opts), dt)
        print(f"{label:<28} {s.n_episodes:>8d} {s.n_dwells:>6d} {s.mean_ms:>9.1f} {s.std_ms:>9.1f} "
              f"{s.median_ms:>9.1f}")
        arrays[f"trace_{i}"] = np.asarray(point.values, float)
        labels.append(label)
        means.setdefault(label.split(", network=")[0], []).append(s.mean_ms)
        columns.setdefault(label.split(", network=")[0], []).append((s.mean_ms, s.std_ms))
    print("\ncolumn: networks, mean and SD over networks of the mean dwell time (ms)")
    for column, values in means.items():
        sd = np.std(values, ddof=1) if len(values) > 1 else float("nan")
        print(f"{column}: {len(values)}, {np.mean(values):.1f}, {sd:.1f}")
    if args.export:
        np.savez(args.export, n=len(labels), dt_ms=dt, labels=np.array(labels), **arrays)
    if args.figure:
        _dwell_figure(columns, args.figure)


def _dwell_figure(columns: dict, output: str) -> None:
    """The panels of the reference's dwell-time plot: per column, each network's mean dwell
    time (error bar: SD of its dwells), the mean over networks +- SD as a band and a point."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.0 * len(columns), 4.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(columns), sharey=True))
    for ax, (column, rows) in zip(axes, columns.items(), strict=True):
        means = np.array([m for m, _ in rows]) / 1000.0
        sds = np.array([sd for _, sd in rows]) / 1000.0
        x = np.arange(1, len(rows) + 1)
        ax.errorbar(x, means, yerr=np.nan_to_num(sds), fmt="o", color="0.3", ecolor="0.7", capsize=2)
        mean, sd = float(np.mean(means)), float(np.std(means, ddof=1)) if len(means) > 1 else 0.0
        ax.axhspan(max(0.0, mean - sd), mean + sd, color="C0", alpha=0.2, label="network mean +- SD")
        ax.axhline(mean, color="C0", lw=2)
        ax.errorbar(len(rows) + 1, mean, yerr=sd, fmt="o", color="C3", capsize=4, label="aggregate")
        ax.set_xticks([*x, len(rows) + 1], [*map(str, x), "mean"])
        ax.set_title(column)
        ax.set_xlabel("network")
    axes[0].set_ylabel("mean state dwell time (s)")
    axes[-1].legend()
    fig.savefig(output, dpi=80)
    print(f"wrote {output}")


#: Figure4_HighState.py's state inference: PELT segments (least segment 2 samples), merging with
#: flickers of up to 3 samples removed
HIGH_STATE = dict(segmentation="pelt", pelt_min_size=2, merge_after_em=True, min_flicker_duration=3)


def _accepted(seg, minimum_bins: int) -> list[int]:
    """Lengths (samples) of Figure4_HighState's accepted episodes: one active cluster, at least
    ``minimum_bins`` samples, not the first or last segment."""
    lengths = (seg.end - seg.start).tolist()
    ones = seg.active.sum(axis=1) == 1
    return [n for i, n in enumerate(lengths) if ones[i] and n >= minimum_bins and 0 < i < len(lengths) - 1]


def episodes(args) -> None:
    """Single-cluster episodes of >= 200 ms per point: the stored measurement (hysteresis
    states) and Figure4_HighState's selection on the active-set EM states of the same traces;
    ``--export`` writes the E traces for ``docs/paper_reference.py episodes``."""
    from sweeps.analysis.states import ActiveSetEM, excitatory_traces, infer_states

    ds = sweeps.open_results(args.store)
    traces = excitatory_traces(ds).compute()
    dt = float(np.diff(traces["time"].values[:2])[0])
    if ds["time"].attrs.get("units") != "ms":
        dt = float(args.sample_ms)
    minimum = max(2, int(np.ceil(200.0 / dt)))
    others = [d for d in traces.dims if d not in ("time", "population")]
    stacked = traces.stack(point=others).transpose("point", "time", "population")
    opts = ActiveSetEM(**HIGH_STATE)
    arrays, labels = {}, []
    print(f"{'trace':<36} {'stored: n':>9} {'mean ms':>8} {'EM: n':>6} {'mean ms':>8}")
    for i in range(stacked.sizes["point"]):
        point = stacked.isel(point=i)
        at = {d: point[d].values for d in others}
        label = ", ".join(f"{d}={v}" for d, v in at.items() if d != "init")
        stored = ds.sel({d: v for d, v in at.items() if d in ds["long_episodes"].dims})
        got = _accepted(infer_states(np.asarray(point.values, float), opts), minimum)
        mean = np.mean(got) * dt if got else float("nan")
        print(f"{label:<36} {int(stored['long_episodes']):>9d} {float(stored['long_episode_mean_ms']):>8.1f} "
              f"{len(got):>6d} {mean:>8.1f}")
        arrays[f"trace_{i}"] = np.asarray(point.values, float)
        labels.append(label)
    if args.export:
        np.savez(args.export, n=len(labels), dt_ms=dt, labels=np.array(labels), **arrays)


#: The categories of the reference's ``_analyze_trace`` (Figure 4), in its order: quantity,
#: pair type and relation of the project's ``corr_<quantity>`` variables
SAME_DATA_CATEGORIES = [(q, pair, rel) for q in ("states", "fields") for pair in ("E-E", "I-I")
                        for rel in ("within", "across")]


def _episode_runs(recording, sample_ms: float):
    """Figure4_HighState's accepted episodes on the E traces of a recording (the project's EM
    variant, as ``episodes``): Runs labelled by the active cluster."""
    from sweeps.analysis.states import ActiveSetEM, infer_states
    from sweeps.measure.statistics import Runs

    is_e = np.array([t == "E" for t in recording.population_types])
    traces = np.asarray(recording.activity[:, is_e], float)
    seg = infer_states(traces, ActiveSetEM(**HIGH_STATE))
    minimum = max(2, int(np.ceil(200.0 / sample_ms)))
    ones = seg.active.sum(axis=1) == 1
    keep = [i for i in range(len(seg.start)) if ones[i] and seg.end[i] - seg.start[i] >= minimum
            and 0 < i < len(seg.start) - 1]
    clusters = recording.population_clusters[is_e]
    label = [int(clusters[np.flatnonzero(seg.active[i])[0]]) for i in keep]
    return Runs(np.asarray(seg.start)[keep].astype(int), np.asarray(seg.end)[keep].astype(int),
                np.asarray(label, int)), traces


def _coordinate_label(ds, dim: str, i: int) -> str:
    """``dim=value`` of position ``i``; a zip dimension by its first column (e.g. ``p0_ee``)."""
    columns = [c for c in ds.coords if ds[c].dims == (dim,) and c != dim]
    name = columns[0] if columns else dim
    return f"{name}={ds[name].values[i]}"


def same_data(args) -> None:
    """Re-simulate every point of a reduced run with all neurons sampled, check that the
    measurements equal the stored ones (the same data), and export the neurons' states and
    inputs, the E traces and the project's statistics for ``docs/paper_reference.py same-data``."""
    from threadpoolctl import threadpool_limits

    from sweeps.execution.task import TIMING_VARIABLES, record_point
    from sweeps.measure.measurements import measure
    from sweeps.measure.statistics import active_episode_statistics, pair_type_labels
    from sweeps.plan import SweepPlan
    from sweeps.spec.definition import load_experiment

    threadpool_limits(1)  # BLAS on one thread, as in every sweep worker (the same rounding)
    experiment = load_experiment(args.definition, args.override)
    plan = SweepPlan.build(experiment)
    ds = sweeps.open_results(args.store)
    out = {}
    labels = []
    for index in plan.grid:
        at = dict(zip(plan.grid.dims, plan.grid.coords(index), strict=True))
        recording = record_point(plan, index)
        if recording.sampled_neurons.size != int(np.sum(recording.population_sizes)):
            raise SystemExit("same-data needs every neuron sampled: override output.correlation_neurons "
                             f"to at least {int(np.max(recording.population_sizes))}")
        values = measure(recording, experiment.output)
        checked = [name for name in values if name not in TIMING_VARIABLES and name in ds]
        differ = [name for name in checked if not np.array_equal(
            np.asarray(ds[name].isel(at).values), np.asarray(values[name]), equal_nan=True)]
        if differ:
            raise SystemExit(f"point {at}: recomputed values differ from the store in {differ}")
        label = ", ".join(_coordinate_label(ds, d, i) for d, i in at.items() if d in ds.coords)
        print(f"{label}: {len(checked)} stored variables reproduced bit for bit")
        pairs = pair_type_labels(recording.population_types)
        out[f"p{len(labels)}_corr_z"] = np.array([
            np.arctanh(values[f"corr_{q}"][pairs.index(pair), ("within", "across").index(rel)])
            for q, pair, rel in SAME_DATA_CATEGORIES])
        for quantity in ("states", "fields"):
            for kind in ("mean", "median"):
                out[f"p{len(labels)}_{quantity}_matrix_{kind}"] = values[f"corr_matrix_{quantity}_{kind}"]
        for name in ("fields_mean", "fields_var_temporal", "fields_var_quenched"):
            out[f"p{len(labels)}_{name}"] = values[name]
        runs, traces = _episode_runs(recording, recording.sample_interval_ms)
        rows = []
        for k in range(runs.start.size):
            one = type(runs)(runs.start[k:k + 1], runs.end[k:k + 1], runs.label[k:k + 1])
            st_, fi = (active_episode_statistics(series, recording.sampled_populations,
                                                 recording.population_types, recording.population_clusters, one)
                       for series in (recording.sampled_states, recording.sampled_fields))
            rows.append([np.arctanh(st_.corr_within), np.arctanh(st_.corr_across), np.arctanh(fi.corr_within),
                         np.arctanh(fi.corr_across), fi.var_temporal_active, fi.var_temporal_inactive,
                         fi.var_quenched_active, fi.var_quenched_inactive])
        out[f"p{len(labels)}_episodes"] = np.stack([runs.start, runs.end, runs.label], axis=1)
        out[f"p{len(labels)}_episode_values"] = np.asarray(rows, float).reshape(-1, 8)
        # the data: every neuron's state and input at every sample, columns in population order
        # (the reference's assembly order: E clusters, then I clusters)
        out[f"p{len(labels)}_states"] = recording.sampled_states
        out[f"p{len(labels)}_fields"] = recording.sampled_fields
        out[f"p{len(labels)}_membership"] = recording.sampled_populations
        out[f"p{len(labels)}_traces"] = traces
        labels.append(label)
    np.savez(args.export, n=len(labels), labels=np.array(labels), Q=experiment.parameters["Q"],
             dt_ms=recording.sample_interval_ms, **out)
    print(f"wrote {args.export}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("meanfield")
    p.add_argument("store")
    p.set_defaults(func=meanfield)
    p = sub.add_parser("fixed-points")
    p.add_argument("store")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=fixed_points)
    p = sub.add_parser("starts")
    p.add_argument("store")
    p.set_defaults(func=starts)
    p = sub.add_parser("rates")
    p.add_argument("store")
    p.add_argument("--seconds", type=float, help="the measured window (when its samples are in steps)")
    p.set_defaults(func=rates)
    p = sub.add_parser("rasters")
    p.add_argument("store")
    p.add_argument("--seconds", type=float, default=1.0, help="the measured window (samples in steps)")
    p.add_argument("--network", type=int, help="draw only this network's points")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=rasters)
    p = sub.add_parser("spectra")
    p.add_argument("npz")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=spectra)
    p = sub.add_parser("spectra-table")
    p.add_argument("npz")
    p.add_argument("reference", help="the output of docs/paper_reference.py spectrum")
    p.set_defaults(func=spectra_table)
    p = sub.add_parser("stats")
    p.add_argument("store")
    p.set_defaults(func=stats)
    p = sub.add_parser("figure4")
    p.add_argument("store")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=figure4)
    p = sub.add_parser("episodes")
    p.add_argument("store")
    p.add_argument("--sample-ms", type=float, default=10.0, help="sample interval when time is in steps")
    p.add_argument("--export", help="write the E traces to this .npz")
    p.set_defaults(func=episodes)
    p = sub.add_parser("dwell")
    p.add_argument("store")
    p.add_argument("--segmentation", choices=("fixed", "pelt"), default="fixed")
    p.add_argument("--merge-after-em", action="store_true")
    p.add_argument("--min-flicker-duration", type=int, default=0)
    p.add_argument("--export", help="write the E traces to this .npz")
    p.add_argument("--figure", help="draw the dwell-time panels into this file")
    p.set_defaults(func=dwell)
    p = sub.add_parser("same-data")
    p.add_argument("definition", help="the definition the store was run from")
    p.add_argument("override", nargs="*", help="the run's KEY=VALUE overrides")
    p.add_argument("--store", required=True, help="the store the run wrote (its values are checked)")
    p.add_argument("--export", required=True, help="write the data and the project's statistics to this .npz")
    p.set_defaults(func=same_data)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
