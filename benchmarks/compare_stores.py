"""Stored correlations of the same sweep written by two checkouts, compared variable by variable.

Runs ``sweeps run DEFINITION`` once with this checkout and once with ``--other`` (each in a
subprocess with its own PYTHONPATH, one thread), then prints, for every ``corr*`` variable,
whether the values are identical and otherwise the largest absolute difference; every other
variable except the timing ones must be identical.

    python benchmarks/compare_stores.py experiments/quickstart.toml --other /path/to/old/checkout
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]
TIMING = ("build_seconds", "simulation_seconds", "updates_per_second")


def _run(checkout: Path, definition: Path, store: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "sweeps", "run", str(definition), "--store", str(store),
                    "--threads", "1"], cwd=checkout, env=env, check=True, capture_output=True)


def _load(checkout: Path, store: Path) -> dict:
    code = ("import sys, pickle, numpy as np; from sweeps import open_results; ds = open_results(sys.argv[1]);"
            "pickle.dump({k: np.asarray(ds[k].values) for k in ds.data_vars}, sys.stdout.buffer)")
    out = subprocess.run([sys.executable, "-c", code, str(store)], cwd=checkout, check=True,
                         capture_output=True, env={**os.environ, "PYTHONPATH": str(checkout)}).stdout
    import pickle
    return pickle.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("definition", type=Path)
    parser.add_argument("--other", type=Path, required=True, help="checkout of the code before the change")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stores = {}
        for name, checkout in (("this", HERE), ("other", args.other.resolve())):
            stores[name] = Path(tmp) / f"{name}.zarr"
            _run(checkout, args.definition.resolve(), stores[name])
        new, old = _load(HERE, stores["this"]), _load(HERE, stores["other"])
    print(f"{args.definition}: {len(new)} variables")
    worst = 0.0
    for key in sorted(new):
        if key in TIMING or key not in old:
            continue
        a, b = np.asarray(new[key]), np.asarray(old[key])
        same = a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        if key.startswith(("corr", "episode_corr")):
            diff = float(np.nanmax(np.abs(a.astype(float) - b.astype(float)), initial=0.0))
            nan_same = np.array_equal(np.isnan(a.astype(float)), np.isnan(b.astype(float)))
            print(f"  {key:28s} {'identical' if same else f'max |diff| {diff:.3g}'}"
                  f"{'' if nan_same else '  (NaN pattern differs!)'}")
            if key.endswith("_pairs") and not same:
                worst = np.inf
            if "fields" not in key and not same:
                worst = max(worst, diff)
        elif not same:
            print(f"  {key:28s} DIFFERS")
            worst = np.inf
    print(f"largest difference outside the float32 fields path: {worst:.3g}")


if __name__ == "__main__":
    main()
