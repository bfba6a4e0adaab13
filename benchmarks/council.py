"""The council examples with the plan rules a locality planner expects, against the same runs
without them: ``python -m benchmarks.council [--only york,kent] [--limits 60,300]``.

Each example (``examples/*.yaml``, and Kent at LSOA level) is solved twice per time limit, each
in a fresh process through ``mdtplan solve`` with the same solver options (``--threads``, gap
0 so every stage runs to its limit or its proof):

- **rules**: the example as shipped (contiguous catchments, hubs serving their own area, hubs
  apart, staff travel, fair shortfall, locality teams where the example asks for them);
- **plain**: the same with those rules switched off (:data:`PLAIN`).

For each run the table gives the status, wall time, the proven gap of *every* lexicographic
stage (``stages`` in ``summary.json``) and the worst of them, the plan's cost, and what the
map shows (``geography``): catchments in pieces, share of areas at their nearest open hub, hubs
not serving their own area, the closest two hubs. ``rules`` rows carry ratios to the ``plain``
run of the same example and limit: time, cost and worst gap. Output: ``council.csv`` and
``council.md`` in ``--out`` (default ``out/bench-council``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path("out") / "bench-council"

#: example -> scenario file (relative to the repository) and ``--set`` overrides
EXAMPLES: dict[str, tuple[str, dict]] = {
    "demo": ("examples/demo.yaml", {}),
    "york": ("examples/york.yaml", {}),
    "medway": ("examples/medway.yaml", {}),
    "leicestershire": ("examples/leicestershire.yaml", {}),
    "kent": ("examples/kent.yaml", {}),
    "kent-lsoa": ("examples/kent.yaml", {}),  # overrides filled by kent_lsoa_overrides
}

#: the plan rules of issue 18 switched off: the "plain" run of each example
PLAIN = {
    "hubs.contiguous": False,
    "hubs.serve_own_area": False,
    "hubs.min_separation_km": 0,
    "hubs.max_shortfall_spread": None,
    "travel.staff_travel": False,
    "localities": None,
}

COLUMNS = ("example", "variant", "limit_s", "status", "wall_s", "worst_gap", "stage_gaps",
           "total_cost", "hubs", "catchments_in_pieces", "at_nearest", "not_own_area",
           "min_separation_km", "localities", "time_ratio", "cost_ratio", "message")


def _overrides(example: str, shared: Path) -> dict:
    if example == "kent-lsoa":
        from .instances import kent_lsoa_overrides

        # as the main suite's kent-lsoa: the default operating model (Kent's pools are by
        # district name, which the LSOA tables do not carry), so no locality teams either
        return {**kent_lsoa_overrides(shared), "localities": None}
    return dict(EXAMPLES[example][1])


def _set_args(overrides: dict) -> list[str]:
    out = []
    for key, value in overrides.items():
        out += ["--set", f"{key}={json.dumps(value)}"]
    return out


def solve_one(example: str, variant: str, limit: float, out: Path, *, threads: int,
              shared: Path) -> dict:
    """Solve one example in a fresh process and read its summary back into a row."""
    path = REPO / EXAMPLES[example][0]
    over = _overrides(example, shared)
    if variant == "plain":
        over.update(PLAIN)
    folder = out / "runs" / f"{example}-{variant}-{limit:g}"
    cmd = [sys.executable, "-m", "mdtplan.cli", "solve", str(path), "--out", str(folder),
           "--time-limit", str(limit), "--threads", str(threads), "--mip-gap", "0",
           *_set_args(over)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)
    wall = time.perf_counter() - t0
    row = {"example": example, "variant": variant, "limit_s": limit, "wall_s": wall}
    summary_path = folder / "summary.json"
    if not summary_path.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {**row, "status": f"exit {proc.returncode}", "message": " | ".join(tail)}
    s = json.loads(summary_path.read_text())
    gaps = [(st["name"], st.get("gap")) for st in s.get("stages") or []]
    known = [g for _, g in gaps if g is not None]
    geo = s.get("geography") or {}
    loc = s.get("localities")
    return {**row, "status": s["status"],
            "worst_gap": (max(known) if known and len(known) == len(gaps) else None),
            "stage_gaps": "; ".join(f"{n} {'-' if g is None else f'{g:.2%}'}"
                                    for n, g in gaps),
            "total_cost": s.get("total_cost"), "hubs": s.get("hubs_open"),
            "catchments_in_pieces": geo.get("catchments_in_pieces"),
            "at_nearest": geo.get("share_areas_at_nearest_open_hub"),
            "not_own_area": (None if geo.get("hubs_not_serving_own_area") is None
                             else len(geo["hubs_not_serving_own_area"])),
            "min_separation_km": geo.get("min_hub_separation_km"),
            "localities": (loc or {}).get("count") if isinstance(loc, dict) else None,
            "message": s.get("message", "")}


def add_ratios(rows: list[dict]) -> None:
    """Each ``rules`` row's time and cost as ratios to the ``plain`` run of its example and
    limit."""
    plain = {(r["example"], r["limit_s"]): r for r in rows if r["variant"] == "plain"}
    for r in rows:
        p = plain.get((r["example"], r["limit_s"]))
        if r["variant"] != "rules" or p is None:
            continue
        if p.get("wall_s"):
            r["time_ratio"] = r["wall_s"] / p["wall_s"]
        if p.get("total_cost") and r.get("total_cost") is not None:
            r["cost_ratio"] = r["total_cost"] / p["total_cost"]


def _fmt(key: str, v) -> str:
    if v is None or v == "":
        return "—"
    if key in ("worst_gap", "at_nearest"):
        return f"{v:.2%}" if key == "worst_gap" else f"{v:.0%}"
    if key == "total_cost":
        return f"£{v / 1e6:,.3f}m"
    if key in ("wall_s", "min_separation_km"):
        return f"{v:.1f}"
    if key in ("time_ratio", "cost_ratio"):
        return f"{v:.3f}x"
    return str(v)


def write_report(rows: list[dict], out: Path, *, name: str = "council",
                 columns: tuple = COLUMNS, fmt=None) -> tuple[Path, Path]:
    """``NAME.csv`` (every column) and ``NAME.md`` (a table without the messages, each value
    through ``fmt(column, value)``) in ``out``."""
    fmt = fmt or _fmt
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out / f"{name}.csv", out / f"{name}.md"
    with csv_path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k) for k in columns})
    shown = [c for c in columns if c != "message"]
    lines = ["| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    lines += ["| " + " | ".join(fmt(c, r.get(c)) for c in shown) + " |" for r in rows]
    md_path.write_text("\n".join(lines) + "\n")
    return csv_path, md_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.council",
        description="The council examples with contiguity, own areas, hubs apart, staff travel, "
                    "fair shortfall and locality teams, against the same runs without them: "
                    "status, time, the gap of every stage, cost and the map's figures.")
    parser.add_argument("--only", default=",".join(EXAMPLES),
                        help=f"comma-separated examples (default all: {', '.join(EXAMPLES)})")
    parser.add_argument("--limits", default="60",
                        help="comma-separated time limits [s] (default 60; e.g. 60,300)")
    parser.add_argument("--variants", default="rules,plain",
                        help="rules (as shipped), plain (the rules off), or both (default)")
    parser.add_argument("--threads", type=int, default=1, help="HiGHS threads (default 1)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--shared", type=Path, default=None,
                        help="the shared folder with data/ (default ../shared)")
    args = parser.parse_args(argv)
    from .instances import shared_dir

    shared = args.shared or shared_dir(REPO)
    examples = [e.strip() for e in args.only.split(",") if e.strip()]
    unknown = [e for e in examples if e not in EXAMPLES]
    if unknown:
        parser.error(f"unknown example(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(EXAMPLES)}")
    limits = [float(x) for x in args.limits.split(",") if x.strip()]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    rows = []
    for example in examples:
        for limit in limits:
            for variant in variants:
                row = solve_one(example, variant, limit, args.out, threads=args.threads,
                                shared=shared)
                print(json.dumps({k: row.get(k) for k in ("example", "variant", "limit_s",
                                                          "status", "wall_s", "worst_gap")}),
                      flush=True)
                rows.append(row)
    add_ratios(rows)
    _, md = write_report(rows, args.out)
    print(md.read_text())
    return 0 if all(r["status"] in ("optimal", "feasible_at_limit") for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
