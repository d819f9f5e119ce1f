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
