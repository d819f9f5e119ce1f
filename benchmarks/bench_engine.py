"""Engine benchmarks (build, simulation, threads). Prints medians and ratios measured side by side.

    python benchmarks/bench_engine.py           # build, simulation, threads (~1 min)
    python benchmarks/bench_engine.py --big     # also N = 100,000 (~1 min more, ~5 GB)
    python benchmarks/bench_engine.py --imported-only   # only the explicit-matrix comparison
    python benchmarks/bench_engine.py --compare-with ../other-checkout   # this tree vs another

Reference network: the clustered E/I model's defaults (Q = 20, N_E = 8,000, N_I = 2,000) with
R_Eplus = 7.25 (N = 10,000, ~30 M contacts), built through ``ClusteredEINetwork``. Targets: <= 0.04 s wall per second of model time on one
core, build <= 0.3 s, connectivity <= 150 MB, two threads >= 1.8x one, N = 100,000 within
12 GB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.core_probe import two_thread_gains  # noqa: E402
from benchmarks.plain_loop import PlainLoop  # noqa: E402
from binnet_core import explicit, warm_numba_caches  # noqa: E402
from binnet_core.clustered import ClusteredEINetwork  # noqa: E402

REFERENCE = {"R_Eplus": 7.25}


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def build_figures(repeats):
    rows = {}
    for mode in ("dense", "sparse"):
        nets = []
        seconds = median_time(lambda mode=mode, nets=nets: nets.append(
            ClusteredEINetwork(REFERENCE, seed=1, weight_mode=mode)), repeats)
        stats = nets[-1].connectivity_stats()
        rows[mode] = (seconds, stats["connectivity_bytes"] / 1e6, stats["synapse_count"])
    return rows


def byte_counts(net):
    """Switch a network built with 4-bit dense counts to 8-bit ones (same network)."""
    net.connectivity = net.connectivity.with_byte_counts()
    return net


LAYOUTS = {
    "dense": lambda seed: ClusteredEINetwork(REFERENCE, seed=seed, weight_mode="dense"),
    "dense 8-bit": lambda seed: byte_counts(
        ClusteredEINetwork(REFERENCE, seed=seed, weight_mode="dense")),
    "sparse": lambda seed: ClusteredEINetwork(REFERENCE, seed=seed, weight_mode="sparse"),
}


def simulation_figures(repeats):
    rows = {}
    model_second = None
    for layout, make in LAYOUTS.items():
        net = make(1)
        model_second = net.ms_to_steps(1000)
        net.run(net.ms_to_steps(200))
        flips = []

        def one_second(net=net, flips=flips, model_second=model_second):
            before = net.up_transitions.sum()
            net.run(model_second)
            flips.append(2 * (net.up_transitions.sum() - before))

        rows[layout] = (median_time(one_second, repeats), statistics.median(flips))
    plain = PlainLoop(ClusteredEINetwork(REFERENCE, seed=1, weight_mode="sparse"))
    plain.run(model_second // 5)
    flips = []
    rows["plain loop"] = (median_time(lambda: flips.append(plain.run(model_second)), repeats),
                          statistics.median(flips))
    return rows, model_second


#: The same model at smaller sizes: how the two-thread gain depends on the bytes read.
SMALLER = {
    f"dense, N = {n_e + n_i:,}": lambda seed, n_e=n_e, n_i=n_i: ClusteredEINetwork(
        {**REFERENCE, "N_E": n_e, "N_I": n_i}, seed=seed, weight_mode="dense")
    for n_e, n_i in ((4000, 1000), (2000, 500))
}


def thread_figures(repeats, layouts):
    """Per entry of ``layouts``: (one thread seconds, two-thread gain), two networks x 1 model s.

    The two timings alternate, ``repeats`` times, and the ratio is the median of the
    per-repeat ratios: the machine's slow spells then hit both sides alike.
    """
    rows = {}
    for layout, make in layouts.items():
        nets = [make(seed) for seed in (1, 2)]
        steps = nets[0].ms_to_steps(1000)
        for net in nets:
            net.run(nets[0].ms_to_steps(200))
        serial, ratios = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            for net in nets:
                net.run(steps)
            serial.append(time.perf_counter() - started)
            threads = [threading.Thread(target=n.run, args=(steps,)) for n in nets]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            ratios.append(serial[-1] / (time.perf_counter() - started))
        rows[layout] = (statistics.median(serial), statistics.median(ratios))
        del nets
    return rows


def reimported(seed, floats=False):
    """The reference network exported with ``weight_matrix()`` and re-imported as ``weights=W``.

    ``floats=True`` switches the count detection off: the float layouts of general matrices.
    """
    net = ClusteredEINetwork(REFERENCE, seed=seed)
    weights = net.weight_matrix()
    detect = explicit.shared_blocks
    if floats:
        explicit.shared_blocks = lambda *args, **kwargs: None
    try:
        net.initialize(weights=weights, seed=seed)
    finally:
        explicit.shared_blocks = detect
    return net


IMPORTED = {
    "ClusteredEINetwork": lambda seed: ClusteredEINetwork(REFERENCE, seed=seed),
    "weights=W": reimported,
    "weights=W, floats": lambda seed: reimported(seed, floats=True),
}


def imported_figures(repeats):
    """Seconds per model second of each entry of ``IMPORTED``, runs alternating, and the
    median over repeats of each one's ratio to the first (same repeat)."""
    nets = {name: make(1) for name, make in IMPORTED.items()}
    steps = next(iter(nets.values())).ms_to_steps(1000)
    for net in nets.values():
        net.run(steps // 5)
    seconds = {name: [] for name in nets}
    for _ in range(repeats):
        for name, net in nets.items():
            started = time.perf_counter()
            net.run(steps)
            seconds[name].append(time.perf_counter() - started)
    first = next(iter(seconds.values()))
    return {name: (statistics.median(times), statistics.median(t / f for t, f in zip(times, first)),
                   nets[name].connectivity_stats()) for name, times in seconds.items()}


def print_imported(repeats):
    print(f"\n{'explicit matrix, 1 model s':<28}{'layout':>8}{'counts':>8}{'conn. MB':>10}"
          f"{'seconds':>9}{'ratio':>8}")
    for name, (seconds, ratio, stats) in imported_figures(repeats).items():
        print(f"{name:<28}{stats['weight_mode']:>8}{str(stats['shared_weights']):>8}"
              f"{stats['connectivity_bytes'] / 1e6:>10.1f}{seconds:>9.3f}{ratio:>7.2f}x")


BIG_SCRIPT = """
import json, resource, time
from binnet_core.clustered import ClusteredEINetwork
t = time.perf_counter()
net = ClusteredEINetwork({"N_E": 80000, "N_I": 20000, "R_Eplus": 7.25}, seed=1)
build = time.perf_counter() - t
steps = net.ms_to_steps(100)
t = time.perf_counter(); net.run(steps); sim = time.perf_counter() - t
stats = net.connectivity_stats()
print(json.dumps({"build_s": build, "sim_s_per_model_s": sim * 10, "mode": stats["weight_mode"],
                  "connectivity_GB": stats["connectivity_bytes"] / 1e9,
                  "contacts": stats["synapse_count"],
                  "peak_rss_GB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""


def big_figures():
    out = subprocess.run([sys.executable, "-c", BIG_SCRIPT], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


#: A worker serving timings of one source tree: builds one network per layout, then answers
#: each layout name read from stdin with the seconds of one model second of that network.
COMPARE_WORKER = """
import sys, time
sys.path.insert(0, sys.argv[1])
from binnet_core import explicit
from binnet_core.clustered import ClusteredEINetwork
REFERENCE = {"R_Eplus": 7.25}
def reference(mode):
    return ClusteredEINetwork(REFERENCE, seed=1, weight_mode=mode)
def byte_counts():
    net = reference("dense")
    net.connectivity = net.connectivity.with_byte_counts()
    return net
def sparse_floats():
    net = reference("sparse")
    weights = net.weight_matrix()
    explicit.shared_blocks = lambda *args, **kwargs: None  # general matrix: float layout
    net.initialize(weights=weights, weight_mode="sparse", seed=1)
    return net
nets = {"dense 4-bit": reference("dense"), "dense 8-bit": byte_counts(),
        "sparse": reference("sparse"), "sparse floats": sparse_floats()}
for net in nets.values():
    net.run(net.ms_to_steps(200))
print(__import__("binnet_core").__file__, flush=True)
from binnet_core import PopulationActivityRecorder
SAMPLED = "dense 4-bit, sampled every 0.1 ms"  # a kernel call per 0.1 ms: the per-call cost
for line in sys.stdin:
    name = line.strip()
    net = nets[name.split(",")[0]]
    steps = net.ms_to_steps(1000)
    recorders = [PopulationActivityRecorder(net.ms_to_steps(0.1))] if name == SAMPLED else []
    started = time.perf_counter()
    net.run(steps, recorders=recorders)
    print(time.perf_counter() - started, flush=True)
"""


def compare_trees(other, repeats):
    """Seconds per model second of each layout in this tree and in ``other``, measured side
    by side: two worker processes, runs alternating between them layout by layout.

    Returns ``{layout: (this median, other median, median of per-round ratios this/other)}``.
    """
    trees = {"this": str(ROOT), "other": str(Path(other).resolve())}
    workers = {name: subprocess.Popen([sys.executable, "-c", COMPARE_WORKER, path], cwd=path,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for name, path in trees.items()}
    for name, worker in workers.items():
        loaded = worker.stdout.readline().strip()
        if not loaded.startswith(trees[name]):
            raise RuntimeError(f"the {name} worker imported {loaded}, not {trees[name]}")
    layouts = ("dense 4-bit", "dense 8-bit", "sparse", "sparse floats",
               "dense 4-bit, sampled every 0.1 ms")
    times = {(name, layout): [] for name in workers for layout in layouts}
    try:
        for round_ in range(repeats):
            for layout in layouts:
                order = list(workers) if round_ % 2 == 0 else list(workers)[::-1]
                for name in order:
                    workers[name].stdin.write(layout + "\n")
                    workers[name].stdin.flush()
                    times[(name, layout)].append(float(workers[name].stdout.readline()))
    finally:
        for worker in workers.values():
            worker.stdin.close()
            worker.wait()
    return {layout: (statistics.median(times[("this", layout)]),
                     statistics.median(times[("other", layout)]),
                     statistics.median(a / b for a, b in zip(times[("this", layout)],
                                                             times[("other", layout)])))
            for layout in layouts}


def print_comparison(other, repeats):
    print(f"Seconds per model second, this tree ({ROOT}) vs {other}; medians of {repeats} "
          "rounds, runs alternating\n")
    print(f"{'layout':<36}{'this':>10}{'other':>10}{'this/other':>12}")
    for layout, (this, that, ratio) in compare_trees(other, repeats).items():
        print(f"{layout:<36}{this:>10.4f}{that:>10.4f}{ratio:>11.3f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--big", action="store_true", help="also build and run N = 100,000")
    parser.add_argument("--imported-only", action="store_true",
                        help="only the exported-and-re-imported matrix against the built network")
    parser.add_argument("--compare-with", metavar="PATH",
                        help="only: seconds per model second of each layout in this source tree "
                             "and in the checkout at PATH, side by side")
    args = parser.parse_args(argv)
    if args.compare_with:
        print_comparison(args.compare_with, max(9, args.repeats))
        return
    warm_numba_caches()
    ClusteredEINetwork({"N_E": 80, "N_I": 20, "Q": 4, "R_Eplus": 2.0}, seed=0)
    if args.imported_only:
        print_imported(max(7, args.repeats))
        return

    print("Reference network (clustered E/I defaults, R_Eplus = 7.25, N = 10,000); medians of "
          f"{args.repeats} runs\n")
    print(f"{'build':<10}{'seconds':>10}{'conn. MB':>11}{'contacts':>13}")
    for mode, (seconds, mb, contacts) in build_figures(args.repeats).items():
        print(f"{mode:<10}{seconds:>10.3f}{mb:>11.1f}{contacts:>13,}")

    rows, steps = simulation_figures(args.repeats)
    plain = rows["plain loop"][0]
    print(f"\n{'simulate':<12}{'s / model s':>12}{'updates/s':>12}{'flips/model s':>15}{'vs plain':>10}")
    for mode, (seconds, flips) in rows.items():
        print(f"{mode:<12}{seconds:>12.4f}{steps / seconds:>12.3g}{flips:>15,.0f}{plain / seconds:>9.2f}x")

    print_imported(max(7, args.repeats))

    print(f"\n{'two networks x 1 model s':<26}{'one thread s':>13}{'two threads':>13}")
    for layout, (serial, ratio) in thread_figures(max(7, args.repeats), {**LAYOUTS, **SMALLER}).items():
        print(f"{layout:<26}{serial:>13.3f}{ratio:>12.2f}x")
    probe = two_thread_gains()
    print(f"{'this machine, vector loop':<26}{'':>13}{probe['vector']:>12.2f}x")
    print(f"{'this machine, scalar loop':<26}{'':>13}{probe['scalar']:>12.2f}x")

    if args.big:
        big = big_figures()
        print(f"\nN = 100,000 ({big['mode']}, {big['contacts']:,} contacts, "
              f"{big['connectivity_GB']:.2f} GB): build {big['build_s']:.1f} s, "
              f"{big['sim_s_per_model_s']:.2f} s per model second, peak RSS {big['peak_rss_GB']:.2f} GB")


if __name__ == "__main__":
    main()
