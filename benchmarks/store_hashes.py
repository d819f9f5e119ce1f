"""SHA-256 of every variable and coordinate of the stores that the shipped experiments write at
reduced size, for checking that a refactor leaves results bit-identical (not a timed benchmark).

Every ``experiments/*.toml`` runs with ``duration = "60 ms"``, ``warmup = "10 ms"``, at most 2
networks / inits / replicates and 3 values per listed axis, plus two toy definitions of the
test suite; wall-time variables are left out.  Run it on both trees, then compare::

    python benchmarks/store_hashes.py before.json          # in the old checkout
    python benchmarks/store_hashes.py after.json           # in this one
    python benchmarks/store_hashes.py --compare before.json after.json

It takes about 9 minutes on one quiet core (the main sweep's 324 points dominate).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TIMING = {"build_seconds", "simulation_seconds", "updates_per_second", "error"}


def digest(ds) -> dict[str, str]:
    """Variable or coordinate name -> SHA-256 (first 16 hex digits) of its values, shape and dtype."""
    out = {}
    for name in sorted(list(ds.data_vars) + list(ds.coords)):
        if name in TIMING:
            continue
        values = ds[name].values
        data = (json.dumps([str(x) for x in values.ravel()]).encode() if values.dtype.kind in "OUS"
                else np.ascontiguousarray(values).tobytes())
        out[name] = hashlib.sha256(data + str(values.shape).encode() + str(values.dtype).encode()).hexdigest()[:16]
    return out


def definitions() -> dict[str, dict]:
    """The reduced experiments and the toy definitions, by name."""
    from tests.conftest import TOY_TOML

    defs = {}
    for path in sorted((ROOT / "experiments").glob("*.toml")):
        doc = tomllib.loads(path.read_text())
        sim = doc.setdefault("simulation", {})
        sim.pop("steps", None)
        sim.update(duration="60 ms", warmup="10 ms")
        sweep = doc.get("sweep", {})
        for key in ("networks", "inits", "replicates"):
            if key in sweep:
                sweep[key] = min(sweep[key], 2)
        for key, values in sweep.items():
            if isinstance(values, list) and len(values) > 3 and key != "zip":
                sweep[key] = values[:3]
        doc.pop("cluster", None)
        defs[path.stem] = doc
    defs["toy"] = tomllib.loads(TOY_TOML.format(extra_parameters="", extra_output=""))
    defs["toy_inits"] = tomllib.loads(TOY_TOML.format(extra_parameters="", extra_output="keep_traces = true")
                                      .replace("replicates = 2", "networks = 2\ninits = 2"))
    return defs


def compare(before: Path, after: Path) -> int:
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    differ = [(e, v) for e in a for v in a[e] if b.get(e, {}).get(v) != a[e][v]]
    for experiment, var in differ:
        print(f"differs: {experiment} {var}")
    total = sum(len(v) for v in a.values())
    print(f"{total - len(differ)}/{total} variables identical across {len(a)} stores")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", type=Path, help="JSON file to write")
    parser.add_argument("--only", nargs="+", help="experiment names to run")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    import sweeps

    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, doc in definitions().items():
            if args.only and name not in args.only:
                continue
            ds = sweeps.run(doc, Path(tmp) / f"{name}.zarr", progress=False)
            result[name] = digest(ds)
            print(f"{name}: {len(result[name])} variables, {int((ds.status.values == 1).sum())} points ok")
    args.output.write_text(json.dumps(result, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
