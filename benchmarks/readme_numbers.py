"""The README's headline figures, measured now, each printed with the machine's load.

Every figure line ends with ``[load 1/5/15 min: a b c; N CPUs]`` read with
:func:`os.getloadavg` just before the measurement, so a number is never quoted without the
load it was taken under.  The header names the machine (CPU model, cores, Python, host).

Run from the repository root (a few minutes on 2 idle cores; ``--only`` for a part)::

    python benchmarks/readme_numbers.py [--only engine,sweep,quickstart,validate,install] [--repeats 5]
    python benchmarks/readme_numbers.py --only install [--compare-with REV --repeats 3]

Figures:

* ``engine``: the reference network (N = 10,000, dense): build time and wall time per second
  of model time on one core (medians of ``--repeats``; kernels compiled first, not timed);
* ``sweep``: 1,000 tiny points (N = 200, 10^4 updates) on 2 threads: points/s end to end, and
  the store's size and file count;
* ``quickstart``: ``sweeps run experiments/quickstart.toml`` in a subprocess: wall and CPU
  seconds (children included);
* ``validate``: what ``sweeps validate`` predicts for the quick start;
* ``install``: the README's first command in a fresh clone of the committed HEAD: ``pip install
  -e .`` into a new venv, then the quick start with an empty kernel cache (only with ``--only
  install``: it downloads); ``--compare-with REV`` also for a fresh clone of REV, ``--repeats``
  alternating cold runs of each and the ratio of their medians.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT = ("engine", "sweep", "quickstart", "validate")


def load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"[load 1/5/15 min: {one:.2f} {five:.2f} {fifteen:.2f}; {os.cpu_count()} CPUs]"


def figure(name: str, text: str, load: str) -> None:
    print(f"{name:<34} {text}  {load}", flush=True)


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{model or platform.processor() or platform.machine()}, {os.cpu_count()} CPUs "
            f"({len(os.sched_getaffinity(0))} usable), Python {platform.python_version()}, "
            f"host {socket.gethostname()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def engine(repeats: int) -> None:
    from binnet_core.clustered import ClusteredEINetwork

    params = {"R_Eplus": 7.25}
    net = ClusteredEINetwork(params, seed=1, weight_mode="dense")  # compiles (not timed)
    net.run(net.ms_to_steps(100))
    load = load_text()
    build = median_time(lambda: ClusteredEINetwork(params, seed=1, weight_mode="dense"), repeats)
    figure("engine: build N = 10,000 (dense)", f"{build:.3f} s (median of {repeats})", load)
    net.run(net.ms_to_steps(200))
    load = load_text()
    second = median_time(lambda: net.run(net.ms_to_steps(1000)), repeats)
    figure("engine: 1 s of model time, 1 core", f"{second:.3f} s (median of {repeats})", load)


def sweep(directory: Path) -> None:
    from benchmarks.bench_sweeps import TINY, store_files
    from sweeps import LocalThreads, load_experiment, run_sweep

    definition = directory / "tiny.toml"
    definition.write_text(TINY)
    experiment = load_experiment(definition)
    run_sweep(experiment, directory / "warm.zarr", LocalThreads(2), limit=20)  # compile (not timed)
    store = directory / "tiny.zarr"
    load = load_text()
    started = time.perf_counter()
    summary = run_sweep(experiment, store, LocalThreads(2))
    wall = time.perf_counter() - started
    assert summary.complete, summary
    figure("sweep: 1,000 tiny points, 2 threads", f"{summary.executed / wall:.0f} points/s ({wall:.1f} s)", load)
    files, nbytes = store_files(store)
    figure("sweep: 1,000-point store", f"{nbytes / 1e6:.2f} MB in {files} files", load)


def _timed(command: list[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result


def quickstart(directory: Path) -> None:
    load = load_text()
    wall, cpu, result = _timed([sys.executable, "-m", "sweeps", "run", str(ROOT / "experiments" / "quickstart.toml"),
                                "--store", str(directory / "quickstart.zarr")], directory)
    if result.returncode != 0:
        raise SystemExit(f"quickstart failed:\n{result.stderr}")
    figure("quickstart: sweeps run", f"{wall:.1f} s wall, {cpu:.1f} s CPU (kernels from the cache)", load)


def validate(directory: Path) -> None:
    load = load_text()
    wall, _, result = _timed([sys.executable, "-m", "sweeps", "validate", str(ROOT / "experiments" / "quickstart.toml")],
                             directory)
    line = next((line.strip() for line in result.stdout.splitlines() if "run time" in line), "no prediction")
    figure("validate: quickstart prediction", f"{line} ({wall:.1f} s to validate)", load)


def _fresh_install(directory: Path, revision: str) -> Path:
    """A fresh clone of ``revision`` with ``pip install -e .`` into its new ``.venv`` (timed)."""
    clone = directory / f"clone-{revision}"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "-q", revision], cwd=clone, check=True)
    venv = clone / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    load = load_text()
    started = time.perf_counter()
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-e", str(clone)], check=True)
    figure(f"install {revision}: pip install -e .", f"{time.perf_counter() - started:.0f} s", load)
    return clone


def _cold_quickstart(clone: Path) -> tuple[float, float]:
    """``sweeps run`` of the quick start in ``clone`` with an empty kernel cache: (wall, CPU) s."""
    for pattern in ("*.nbi", "*.nbc"):
        for path in clone.rglob(pattern):
            path.unlink()
    shutil.rmtree(clone / "results", ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NUMBA_CACHE_DIR")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([str(clone / ".venv" / "bin" / "sweeps"), "run", "experiments/quickstart.toml",
                             "--store", "results/quickstart.zarr"], cwd=clone, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"quickstart in {clone.name} failed:\n{result.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def install(directory: Path, repeats: int = 1, compare_with: str | None = None) -> None:
    """The README's first command in a fresh clone of the committed HEAD: ``pip install -e .``
    into a new venv, then the quick start with an empty kernel cache, ``repeats`` times (the
    cache emptied before each).  With ``compare_with`` (a git revision) the same for it, the
    runs of both alternating, and the ratio of their median wall times."""
    revisions = ["HEAD"] + ([compare_with] if compare_with else [])
    clones = {revision: _fresh_install(directory, revision) for revision in revisions}
    walls: dict[str, list[float]] = {revision: [] for revision in revisions}
    for _ in range(repeats):
        for revision, clone in clones.items():
            load = load_text()
            wall, cpu = _cold_quickstart(clone)
            walls[revision].append(wall)
            figure(f"install {revision}: then quickstart", f"{wall:.1f} s wall, {cpu:.1f} s CPU (kernels compiled)",
                   load)
    if compare_with:
        old, new = statistics.median(walls[compare_with]), statistics.median(walls["HEAD"])
        figure(f"quickstart {compare_with} / HEAD", f"{old:.1f} s / {new:.1f} s = {old / new:.1f}x (median wall "
               f"of {repeats} alternating runs)", load_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(DEFAULT),
                        help=f"comma-separated parts (default {','.join(DEFAULT)}; also: install)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compare-with", metavar="REV",
                        help="install: also time the quick start of this git revision, runs alternating")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(parts) - {*DEFAULT, "install"})
    if unknown:
        parser.error(f"unknown parts {unknown}")
    print(f"machine: {machine()}")
    directory = Path(tempfile.mkdtemp(prefix="readme-numbers-"))
    try:
        for part in parts:
            if part == "engine":
                engine(args.repeats)
            elif part == "install":
                install(directory, args.repeats if args.compare_with else 1, args.compare_with)
            else:
                globals()[part](directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
