"""Mean-field benchmark (prints figures; not a timed test).

1. Fixed points of the reference network for 190 R_Eplus values (1.0-19.9) x 3 kappa x 5
   focus counts (target <= 1 s on one core).
2. A bifurcation line: the bifurcation R_Eplus for 60 connectivity values 0.01-0.31
   (target <= 5 s).

Both run on one thread and are medians of ``--repeat`` runs after one warm-up (numba
compilation excluded), as wall time and as CPU time of this process (``process_time``: the
figure to compare with the targets on a shared machine). A plain Python loop of 10^6
additions is timed alongside as a yardstick of the machine's load (about 0.04 s on an idle
core); on a shared machine compare the ratios.

Run from the repository root::

    python benchmarks/bench_meanfield.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from binnet_core.meanfield import bifurcation, theory_table


def fixed_point_grid():
    sets = [{"R_Eplus": float(r), "kappa": k} for k in (0.0, 0.5, 1.0)
            for r in np.round(np.arange(1.0, 19.95, 0.1), 10)]
    table = theory_table(sets, [1, 2, 3, 4, 5], threads=1)  # one core
    return len(sets) * 5, table


def bifurcation_line():
    values = np.linspace(0.01, 0.31, 60)
    return [bifurcation({f"p0_{ab}": float(c) for ab in ("ee", "ei", "ie", "ii")}
                        | {"R_j": 0.75, "kappa": 0.0}) for c in values]


def python_loop():
    total = 0
    for i in range(10**6):
        total += i
    return total


def timed(fn, repeat):
    """Median wall and CPU seconds of ``repeat`` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    systems, table = fixed_point_grid()  # warm-up (compiles once)
    line = bifurcation_line()
    t_loop = timed(python_loop, args.repeat)
    t_grid = timed(fixed_point_grid, args.repeat)
    t_line = timed(bifurcation_line, args.repeat)
    print("                                         wall      CPU")
    print(f"yardstick: 10^6 Python additions   {t_loop[0]:7.3f} s {t_loop[1]:7.3f} s"
          "  (about 0.04 s idle)")
    print(f"fixed points, {systems} systems      {t_grid[0]:7.3f} s {t_grid[1]:7.3f} s"
          f"  (target <= 1 s; {int((table.fixed_points > 1).sum())} multistable)")
    print(f"bifurcation line, 60 connectivities {t_line[0]:6.3f} s {t_line[1]:7.3f} s"
          f"  (target <= 5 s; {np.nanmin(line):.2f}..{np.nanmax(line):.2f},"
          f" {int(np.isnan(line).sum())} NaN)")
    print(f"CPU ratio to the yardstick: grid {t_grid[1] / t_loop[1]:.1f}x, "
          f"line {t_line[1] / t_loop[1]:.1f}x")

if __name__ == "__main__":
    main()
