"""The reference's numbers for docs/PAPER.md, computed by the reference's own code.

Runs in a separate environment with the reference repository (schmitfe/EI-Clustering) on the
path; it imports nothing from this project:

    python3 -m venv /work/refvenv21b
    /work/refvenv21b/bin/pip install "numpy<2" "scipy<1.15" "matplotlib<3.11" pyyaml "numba<0.62" sympy pandas
    git clone https://github.com/schmitfe/EI-Clustering /tmp/ref21b
    /work/refvenv21b/bin/python docs/paper_reference.py --reference /tmp/ref21b spectrum \
        -O N_E=1600 -O N_I=400 -O R_Eplus=7.25 -O R_j=0.8 --kappas 0 0.5 1 --seeds 0 1 2 3 4
    /work/refvenv21b/bin/python docs/paper_reference.py --reference /tmp/ref21b meanfield \
        -O R_j=0.75 -O kappa=0 --r-eplus 4 6 8 --focus-counts 1 2

Subcommands:
  spectrum   the reference's FigureS1 computation (ClusteredEI_network, dense weights,
             numpy.linalg.eigvals) per kappa and seed: rho_95, max|lambda|, max Re lambda
  meanfield  the reference's Figure 2 fixed points (EIClusterNetwork.generate_erf_curve and
             compute_fixpoints with the script's defaults) per R_Eplus and focus count
  dwell      the reference's Figure 3 state inference and dwell times
             (analysis.episode_inference.infer_active_set_episodes with the options of
             scripts/plot_figure3_dwell_times.py) on traces written by
             `docs/paper_numbers.py dwell --export`; needs scikit-learn (and ruptures or
             skchange/sktime for --segmentation pelt) in the reference's environment
  episodes   the episode selection of Figure4_HighState.py (infer_active_set_episodes with its
             options: PELT segments, merging after the EM; then as its _accepted_segments: one
             active cluster, >= 200 ms, edges excluded) on traces written by
             `docs/paper_numbers.py episodes --export`
  same-data  Figure 4's statistics by the reference's functions (_analyze_trace's pair
             correlations, variance split and cluster-pair matrices; Figure4_HighState's
             episode selection and episode statistics) on the project's arrays written by
             `docs/paper_numbers.py same-data`, next to the project's values with the
             standard error of the reference's pair sampling
  simulate   the reference's binary simulation (pipelines.binary.run_binary_simulation) of
             one parameter set: mean E and I activity over the measured window
Parameters start from the reference's sim_config/default_simulation.yaml; -O key=value
overrides them as the reference's own -O does.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from copy import deepcopy

import numpy as np


def _parameters(overrides):
    from sim_config import deep_update, load_config, parse_overrides

    parameter = load_config("default_simulation")
    return deep_update(parameter, parse_overrides(overrides)) if overrides else parameter


def spectrum(args) -> None:
    from BinaryNetwork.ClusteredEI_network import ClusteredEI_network

    base = _parameters(args.override)
    print(f"{'kappa':>6} {'seed':>5} {'rho_95':>9} {'max|l|':>9} {'max Re l':>9}")
    for kappa in args.kappas:
        for seed in args.seeds:
            np.random.seed(seed)  # as FigureS1.py: np.random.seed(base_seed + index)
            parameter = deepcopy(base)
            parameter["kappa"] = float(kappa)
            network = ClusteredEI_network(parameter)
            network.initialize(weight_mode="dense")
            values = np.linalg.eigvals(np.asarray(network.weights_dense, dtype=float))
            magnitude = np.abs(values)
            print(f"{kappa:>6g} {seed:>5d} {np.percentile(magnitude, 95):>9.4g} {magnitude.max():>9.4g} "
                  f"{values.real.max():>9.4g}")


def meanfield(args) -> None:
    from MeanField.ei_cluster_network import EIClusterNetwork

    base = _parameters(args.override)
    print(f"{'R_Eplus':>7} {'focus':>5} {'fixed points (focus E rate, stability)'}")
    for r_eplus in args.r_eplus:
        for focus in args.focus_counts:
            parameter = deepcopy(base)
            parameter["R_Eplus"] = float(r_eplus)
            parameter["focus_count"] = int(focus)
            result = EIClusterNetwork.generate_erf_curve(parameter, start=args.v_start, end=args.v_end,
                                                         step_number=args.v_steps)
            if not result.completed:
                print(f"{r_eplus:>7g} {focus:>5d} ERF incomplete")
                continue
            points = EIClusterNetwork.compute_fixpoints((result.x_data, result.y_data, result.solves, parameter),
                                                        kappa=parameter.get("kappa"),
                                                        connection_type=parameter.get("connection_type"))
            text = ", ".join(f"{float(v):.4f} {entry.get('stability')}" for v, entry in sorted(points.items()))
            print(f"{r_eplus:>7g} {focus:>5d} {text}")


def simulate(args) -> None:
    from pipelines.binary import run_binary_simulation

    parameter = _parameters(args.override)
    binary = dict(parameter.get("binary") or {})
    binary.update(warmup_steps=args.warmup_steps, simulation_steps=args.simulation_steps,
                  sample_interval=args.sample_interval, seed=args.seed, output_name="paper_reference",
                  log_step_states=False)
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        result = run_binary_simulation(parameter, binary, output_name="paper_reference")
        data = np.load(result["trace_path"], allow_pickle=True)
        rates, names = np.asarray(data["rates"], float), [str(n) for n in data["names"]]
    e = [i for i, n in enumerate(names) if n.upper().startswith("E")]
    i = [k for k, n in enumerate(names) if n.upper().startswith("I")]
    print(f"mean E activity {rates[:, e].mean():.4f}  mean I activity {rates[:, i].mean():.4f}  "
          f"(samples {rates.shape[0]})")


def dwell(args) -> None:
    import json

    from analysis.episode_inference import infer_active_set_episodes
    from analysis.types import AnalysisInput

    data = np.load(args.npz)
    options = {"segmentation": args.segmentation, "fixed_width": 1,
               "changepoint_backend": args.changepoint_backend, "merge_after_em": args.merge_after_em,
               "min_flicker_duration": args.min_flicker_duration}
    print(f"options {json.dumps(options)}")
    print(f"{'trace':<28} {'episodes':>8} {'dwells':>6} {'mean ms':>9} {'sd ms':>9} {'median ms':>9}")
    means = {}
    for i in range(int(data["n"])):
        y = np.asarray(data[f"trace_{i}"], float)
        q = y.shape[1]
        inp = AnalysisInput(dt=float(data["dt_ms"]) / 1000.0, source_type="binary", X_rate=y,
                            cluster_ids=list(range(q)), cluster_names=[f"E{c}" for c in range(q)],
                            cluster_cell_types=["E"] * q)
        s = infer_active_set_episodes(inp, options, condition="c", title="t", seed=0).summary
        label = str(data["labels"][i])
        print(f"{label:<28} {s['n_episodes']:>8d} {s['n_dwells_used']:>6d} "
              f"{1000 * s['mean_dwell_time_s']:>9.1f} {1000 * s['std_dwell_time_s']:>9.1f} "
              f"{1000 * s['median_dwell_time_s']:>9.1f}")
        means.setdefault(label.split(", network=")[0], []).append(1000 * s["mean_dwell_time_s"])
    print("\ncolumn: networks, mean and SD over networks of the mean dwell time (ms)")
    for column, values in means.items():
        sd = np.std(values, ddof=1) if len(values) > 1 else float("nan")
        print(f"{column}: {len(values)}, {np.mean(values):.1f}, {sd:.1f}")


#: Figure4_HighState.py's analysis defaults (its parse_args; importing it needs numba)
HIGH_STATE = {"segmentation": "pelt", "fixed_width": 1, "pelt_penalty": 10.0, "pelt_min_size": 2,
              "pelt_jump": 2, "pelt_refine": True, "pelt_smooth_width": 1,
              "changepoint_backend": "skchange", "em_max_iter": 30, "merge_after_em": True,
              "beta_merge": 0.0, "min_flicker_duration": 3, "flicker_max_hamming": 2,
              "canonical_kmax": 2, "canonical_z_threshold": 3.0, "canonical_similarity": 0.5,
              "canonical_noise_floor": 1e-6}
MINIMUM_EPISODE_MS = 200.0


def episodes(args) -> None:
    import math

    from analysis.episode_inference import infer_active_set_episodes
    from analysis.types import AnalysisInput

    options = dict(HIGH_STATE)
    if args.changepoint_backend:
        options["changepoint_backend"] = args.changepoint_backend
    data = np.load(args.npz)
    dt = float(data["dt_ms"]) / 1000.0
    minimum = max(2, int(math.ceil(MINIMUM_EPISODE_MS / (1000.0 * dt))))
    print(f"options {options}, minimum bins {minimum}")
    print(f"{'trace':<36} {'n':>6} {'mean ms':>8}")
    for i in range(int(data["n"])):
        y = np.asarray(data[f"trace_{i}"], float)
        q = y.shape[1]
        inp = AnalysisInput(dt=dt, source_type="binary", X_rate=y, cluster_ids=list(range(q)),
                            cluster_names=[f"E{c}" for c in range(q)], cluster_cell_types=["E"] * q)
        seg = infer_active_set_episodes(inp, options, condition="c", title="t", seed=0,
                                        population_source="excitatory", canonicalize=True,
                                        exclude_edges=False).result.segments
        # as its _accepted_segments: one active cluster, >= minimum bins, first and last excluded
        keep = (seg["K"].to_numpy(int) == 1) & (seg["duration_bins"].to_numpy(int) >= minimum)
        if len(keep):
            keep[0] = keep[-1] = False
        n = int(keep.sum())
        mean = 1000.0 * float(seg.loc[keep, "duration_time"].mean()) if n else float("nan")
        print(f"{str(data['labels'][i]):<36} {n:>6d} {mean:>8.1f}")


#: _analyze_trace's categories (Figure 4), in the order of docs/paper_numbers.py same-data
SAME_DATA_CATEGORIES = [f"{q}_{cell}_{rel}" for q in ("state", "field") for cell in ("excit", "inhib")
                        for rel in ("within", "between")]
EPISODE_COLUMNS = ("output_active_within_z", "output_active_across_z", "input_active_within_z",
                   "input_active_across_z", "input_var_temporal_active", "input_var_temporal_inactive",
                   "input_var_quenched_active", "input_var_quenched_inactive")


def _z_mean_and_error(r):
    """The reference's Fisher mean (_fisher_mean) and its standard error over the sampled pairs."""
    from pipelines.figure_helpers import FISHER_EPS, _fisher_mean

    z = np.arctanh(np.clip(np.asarray(r, float), -1.0 + FISHER_EPS, 1.0 - FISHER_EPS))
    return _fisher_mean(r), float(np.std(z, ddof=1) / np.sqrt(z.size)), z.size


def _print_comparison(name, project, reference, error, pairs):
    deviation = (project - reference) / error if error > 0 else float("nan")
    print(f"  {name:<34} {project:>10.5f} {reference:>10.5f} {error:>9.5f} {pairs:>8d} {deviation:>7.2f}")


def _repeated_draws(series, ids, cluster, count, draws):
    """Mean and SD over ``draws`` seeds of the reference's active-within z (its _random_pairs of
    ``count`` pairs as sample_episode_pairs draws them, pair_correlations, fisher_summary): how
    far one draw may fall from the all-pairs value."""
    from analysis.high_state import _random_pairs, fisher_summary, pair_correlations

    selected = np.flatnonzero(ids == cluster)
    values = []
    for seed in range(1, draws + 1):
        pairs = _random_pairs(selected, selected, max_pairs=count, rng=np.random.default_rng(seed), same=True)
        values.append(fisher_summary(pair_correlations(series, pairs))[1])
    return float(np.mean(values)), float(np.std(values, ddof=1))


def _same_data_point(data, i, q, max_pairs, dt, draws=0):
    """One point: Figure 4's _analyze_trace statistics and Figure4_HighState's episode statistics
    by the reference's functions on the project's arrays, next to the project's values."""
    import math

    from analysis.episode_inference import infer_active_set_episodes
    from analysis.high_state import episode_statistics, pair_correlations, sample_episode_pairs
    from analysis.types import AnalysisInput
    from pipelines.figure_helpers import (
        _cluster_pair_correlation_stats,
        _compute_pairwise_correlations,
        _compute_variance_decomposition,
        _pair_index_sample,
    )

    key = f"p{i}_"
    states = np.asarray(data[key + "states"], np.float32)
    fields = np.asarray(data[key + "fields"], np.float32)
    ids = np.asarray(data[key + "membership"], np.int64)
    names = [f"E{c + 1}" for c in range(q)] + [f"I{c + 1}" for c in range(q)]
    # as _analyze_trace: one generator (init 0: seed 17), states' pairs then fields' pairs
    rng = np.random.default_rng(17)
    excit, inhib = ids < q, ids >= q
    print(f"\n{data['labels'][i]}: {states.shape[0]} samples, {states.shape[1]} neurons")
    print(f"  {'Fisher mean z (_analyze_trace)':<34} {'project':>10} {'reference':>10} {'ref. SE':>9} "
          f"{'pairs':>8} {'(p-r)/SE':>7}")
    project_z = data[key + "corr_z"]
    within_r = None
    for k, (series, quantity) in enumerate(((states, "state"), (fields, "field"))):
        for j, (mask, cell) in enumerate(((excit, "excit"), (inhib, "inhib"))):
            for m, within in enumerate((True, False)):
                pairs = _pair_index_sample(ids, max_pairs=max_pairs, within=within, rng=rng, allowed_mask=mask)
                r = _compute_pairwise_correlations(series, pairs)
                if quantity == "state" and cell == "excit" and within:
                    within_r, valid = r, r.size / max(1, len(pairs))  # pairs of non-constant neurons
                z, error, n = _z_mean_and_error(r)
                _print_comparison(SAME_DATA_CATEGORIES[4 * k + 2 * j + m], float(project_z[4 * k + 2 * j + m]),
                                  z, error, n)
    variance = _compute_variance_decomposition(fields, ids, names)
    for name, project in (("mu_emp", "fields_mean"), ("var_temporal", "fields_var_temporal"),
                          ("var_quenched", "fields_var_quenched")):
        ours = np.asarray(data[key + project], float)
        theirs = np.asarray(variance[name], float)
        print(f"  input {name:<28} max relative difference over the {q * 2} assemblies: "
              f"{np.max(np.abs(ours - theirs) / np.abs(theirs)):.1e}")
    limit = max(1, max_pairs // (2 * q) ** 2)
    diagonal = np.eye(2 * q, dtype=bool)[:q, :q]
    sd = float(np.std(within_r, ddof=1))
    for series, quantity in ((states, "states"), (fields, "fields")):
        mean, median = _cluster_pair_correlation_stats(series, ids, list(range(2 * q)), rng=rng,
                                                       max_pairs=max_pairs)
        for kind, matrix in (("mean", mean), ("median", median)):
            ours = np.asarray(data[f"{key}{quantity}_matrix_{kind}"], float)[:q, :q]
            theirs = np.asarray(matrix, float)[:q, :q]
            print(f"  {quantity} cluster-pair {kind:<6} E-E: diagonal {ours[diagonal].mean():.5f} / "
                  f"{theirs[diagonal].mean():.5f}, off-diagonal {ours[~diagonal].mean():.5f} / "
                  f"{theirs[~diagonal].mean():.5f} (project / reference; {limit} pairs per block)")
    if within_r is not None:
        print(f"  (SE of a diagonal mean of {q} blocks x {limit} pairs, states: about "
              f"{sd / math.sqrt(q * limit * valid):.5f}, {100 * valid:.0f} % of the pairs non-constant)")
    # Figure4_HighState: its episode selection, pairs and per-episode statistics
    trace = np.asarray(data[key + "traces"], float)
    inp = AnalysisInput(dt=dt, source_type="binary", X_rate=trace, cluster_ids=list(range(q)),
                        cluster_names=[f"E{c}" for c in range(q)], cluster_cell_types=["E"] * q)
    result = infer_active_set_episodes(inp, dict(HIGH_STATE), condition="c", title="t", seed=0,
                                       population_source="excitatory", canonicalize=True,
                                       exclude_edges=False).result
    seg = result.segments
    analyzed = list(result.metadata.get("canonical_cluster_names", []))
    minimum = max(2, int(math.ceil(MINIMUM_EPISODE_MS / (1000.0 * dt))))
    keep = (seg["K"].to_numpy(int) == 1) & (seg["duration_bins"].to_numpy(int) >= minimum)
    if len(keep):
        keep[0] = keep[-1] = False
    accepted = seg.loc[keep]
    ours = np.asarray(data[key + "episodes"], int).reshape(-1, 3)
    # as _run_shard: the active population is the first cluster's place among the analysed ones
    theirs = np.array([[int(r.start_bin), int(r.stop_bin), analyzed.index(str(r.clusters).split(",")[0])]
                       for r in accepted.itertuples()], int).reshape(-1, 3)
    same = ours.shape == theirs.shape and np.array_equal(ours, theirs)
    print(f"  Figure4_HighState episodes: project {len(ours)}, reference {len(theirs)}"
          f" ({'identical' if same else 'DIFFERENT'} start, stop and cluster)")
    if not same or not len(ours):
        return
    pairs = sample_episode_pairs(ids, q=q, max_pairs=max_pairs, seed=0)
    values = np.asarray(data[key + "episode_values"], float)
    activity = np.zeros((states.shape[0], 2 * q), np.float32)
    for g in range(2 * q):
        activity[:, g] = states[:, ids == g].mean(axis=1)
    for e, (start, stop, cluster) in enumerate(theirs):
        stats = episode_statistics(states=states[start:stop], fields=fields[start:stop],
                                   rates=activity[start:stop], membership=ids, active_population=cluster,
                                   q=q, pairs=pairs)
        print(f"  episode {e} (samples {start}-{stop}, cluster E{cluster}):")
        for c, name in enumerate(EPISODE_COLUMNS):
            if name.endswith("_z"):
                prefix, scope = name.split("_", 1)[0], name.split("_", 1)[1][:-2]
                r = pair_correlations((states if prefix == "output" else fields)[start:stop],
                                      pairs[f"pairs_active_{cluster}_{scope.split('_')[1]}"])
                z, error, n = _z_mean_and_error(r)
                _print_comparison(name, values[e, c], float(stats[name]), error, n)
                if draws and scope == "active_within":
                    mean, sd = _repeated_draws((states if prefix == "output" else fields)[start:stop], ids,
                                               cluster, max(1, max_pairs // q), draws)
                    print(f"  {'':<34} {draws} other draws of its pairs: mean {mean:.5f}, SD {sd:.5f}")
            else:
                print(f"  {name:<34} {values[e, c]:>10.5f} {float(stats[name]):>10.5f} "
                      f"(relative difference {abs(values[e, c] - stats[name]) / abs(stats[name]):.1e})")


def same_data(args) -> None:
    data = np.load(args.npz)
    q, dt = int(data["Q"]), float(data["dt_ms"]) / 1000.0
    print(f"the project's data (docs/paper_numbers.py same-data) through the reference's functions; "
          f"max_pairs {args.max_pairs}")
    for i in args.points or range(int(data["n"])):
        _same_data_point(data, i, q, args.max_pairs, dt, args.episode_draws)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, help="checkout of schmitfe/EI-Clustering")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("spectrum")
    p.add_argument("-O", "--override", action="append", default=[])
    p.add_argument("--kappas", type=float, nargs="+", default=[0.0, 0.5, 1.0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.set_defaults(func=spectrum)
    p = sub.add_parser("meanfield")
    p.add_argument("-O", "--override", action="append", default=[])
    p.add_argument("--r-eplus", type=float, nargs="+", required=True)
    p.add_argument("--focus-counts", type=int, nargs="+", default=[1])
    p.add_argument("--v-start", type=float, default=0.0)
    p.add_argument("--v-end", type=float, default=1.0)
    p.add_argument("--v-steps", type=int, default=1000)
    p.set_defaults(func=meanfield)
    p = sub.add_parser("simulate")
    p.add_argument("-O", "--override", action="append", default=[])
    p.add_argument("--warmup-steps", type=int, default=200_000)
    p.add_argument("--simulation-steps", type=int, default=3_000_000)
    p.add_argument("--sample-interval", type=int, default=1200)
    p.add_argument("--seed", type=int, default=3)
    p.set_defaults(func=simulate)
    p = sub.add_parser("episodes")
    p.add_argument("npz", help="traces from docs/paper_numbers.py episodes --export")
    p.add_argument("--changepoint-backend", choices=("skchange", "ruptures"))
    p.set_defaults(func=episodes)
    p = sub.add_parser("same-data")
    p.add_argument("npz", help="data and project statistics from docs/paper_numbers.py same-data")
    p.add_argument("--max-pairs", type=int, default=200_000, help="as the reference's --max-pairs")
    p.add_argument("--points", type=int, nargs="+", help="only these points of the file (0, 1, ...)")
    p.add_argument("--episode-draws", type=int, default=0,
                   help="also redraw the active-cluster pairs of each episode with this many seeds")
    p.set_defaults(func=same_data)
    p = sub.add_parser("dwell")
    p.add_argument("npz", help="traces from docs/paper_numbers.py dwell --export")
    p.add_argument("--segmentation", choices=("fixed", "pelt"), default="fixed")
    p.add_argument("--changepoint-backend", choices=("skchange", "ruptures"), default="skchange")
    p.add_argument("--merge-after-em", action="store_true")
    p.add_argument("--min-flicker-duration", type=int, default=0)
    p.set_defaults(func=dwell)
    args = parser.parse_args()
    sys.path.insert(0, os.path.abspath(args.reference))
    args.func(args)


if __name__ == "__main__":
    main()
