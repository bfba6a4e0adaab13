"""The hub-column bound against HiGHS's on the council examples:
``python -m benchmarks.columns [--only york,medway] [--limit 60] [--threads 1]``.

For each example (as shipped, ``min_cost``): ``mdtplan solve`` in a fresh process at the
limit (gap 0) gives the plan and HiGHS's proven bound of the cost stage; then
:func:`mdtplan.solve.hub_columns.column_bound` is given the same limit, starting from the
compact LP's duals and the plan's hubs as its first columns. The table gives both bounds,
the plan's gap to each, when the column bound passed HiGHS's, and whether it converged.
Output: ``columns.csv`` and ``columns.md`` in ``--out`` (default ``out/bench-columns``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from . import council
from .council import EXAMPLES, REPO, _overrides, solve_one

DEFAULT_OUT = Path("out") / "bench-columns"
COLUMNS = ("example", "limit_s", "plan", "highs_bound", "highs_gap", "columns_bound",
           "columns_gap", "gap_ratio", "passed_highs_s", "converged", "columns_s", "rounds",
           "hub_columns", "message")


def column_row(example: str, limit: float, run_dir: Path, shared: Path, row: dict) -> dict:
    """The column bound for ``example`` (its plan in ``run_dir``) beside HiGHS's."""
    import numpy as np
    import pandas as pd

    from mdtplan import pipeline
    from mdtplan.model.families.lever_reach import lever_index
    from mdtplan.model.index import index_data
    from mdtplan.model.matrix import build_matrix
    from mdtplan.scenario import load_scenario
    from mdtplan.solve import hub_columns as hc

    over = [f"{k}={json.dumps(v)}" for k, v in _overrides(example, shared).items()]
    data = pipeline.prepare(load_scenario(REPO / EXAMPLES[example][0], over)).data
    if data.objective != "min_cost":
        return {**row, "message": f"objective {data.objective}: the bound is for min_cost"}
    t0 = time.perf_counter()
    ix = index_data(data)
    mm = build_matrix(data, ix)
    levers = lever_index(data, ix)
    costs = hc.hub_costs(ix, mm.c0, mm.offset0, hc.matrix_columns(mm), mm.col_upper, levers,
                         mm.col_lower)
    if isinstance(costs, str):
        return {**row, "message": costs}
    duals = hc.compact_duals(mm, ix, time_limit=0.25 * limit)
    plan = {}
    assignment = run_dir / "assignment.csv"
    if assignment.exists():
        apos = {a: i for i, a in enumerate(ix.area_ids)}
        spos = {s: i for i, s in enumerate(ix.site_ids)}
        for site, g in pd.read_csv(assignment, dtype={"area_id": str, "site_id": str}).groupby(
                "site_id"):
            plan[spos[site]] = [apos[a] for a in g["area_id"] if a in apos]
    left = limit - (time.perf_counter() - t0)
    out = hc.column_bound(data, ix, costs, scale=1.0, population_min=data.hub_population_min,
                          population_max=data.hub_population_max,
                          count_min=data.hub_count_min, count_max=data.hub_count_max,
                          levers=levers, plan=plan, duals=duals, seconds=max(left, 1.0))
    spent = time.perf_counter() - t0 - out.seconds
    value, hb = row.get("plan"), row.get("highs_bound")
    passed = next((t + spent for t, b in out.history if hb is not None and b >= hb), None)
    gap = (value - out.bound) / abs(value) if value and np.isfinite(out.bound) else None
    return {**row, "columns_bound": out.bound if np.isfinite(out.bound) else None,
            "columns_gap": gap,
            "gap_ratio": (gap / row["highs_gap"] if gap is not None and row.get("highs_gap")
                          else None),
            "passed_highs_s": passed, "converged": out.converged,
            "columns_s": out.seconds + spent, "rounds": out.rounds, "hub_columns": out.columns}


def run_example(example: str, limit: float, out: Path, *, threads: int, shared: Path) -> dict:
    solved = solve_one(example, "rules", limit, out, threads=threads, shared=shared)
    row = {"example": example, "limit_s": limit}
    run_dir = out / "runs" / f"{example}-rules-{limit:g}"
    summary = run_dir / "summary.json"
    if not summary.exists():
        return {**row, "message": solved.get("message", solved.get("status", ""))}
    stages = json.loads(summary.read_text()).get("stages") or []
    if stages:
        first = stages[0]
        value, bound = first.get("objective"), first.get("bound")
        row.update(plan=value, highs_bound=bound,
                   highs_gap=(None if value is None or bound is None
                              else (value - bound) / abs(value)))
    return column_row(example, limit, run_dir, shared, row)


def _fmt(key: str, v) -> str:
    if v is None or v == "":
        return "—"
    if key in ("plan", "highs_bound", "columns_bound"):
        return f"£{v / 1e6:.3f}m"
    if key in ("highs_gap", "columns_gap"):
        return f"{v:.2%}"
    if key == "gap_ratio":
        return f"{v:.2f}x"
    if key in ("passed_highs_s", "columns_s"):
        return f"{v:.1f}"
    return str(v)


def write_report(rows: list[dict], out: Path) -> tuple[Path, Path]:
    return council.write_report(rows, out, name="columns", columns=COLUMNS, fmt=_fmt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.columns",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="york,medway,leicestershire,kent",
                        help="examples, comma-separated (min_cost ones: york, medway, "
                             "leicestershire, kent, kent-lsoa)")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds for each side")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    bad = [n for n in names if n not in EXAMPLES]
    if bad:
        parser.error(f"--only: unknown {', '.join(bad)}; choose from {', '.join(EXAMPLES)}")
    rows = []
    for name in names:
        rows.append(run_example(name, args.limit, args.out, threads=args.threads,
                                shared=args.shared))
        print(json.dumps({k: rows[-1].get(k) for k in COLUMNS}, default=str), flush=True)
    csv_path, md_path = write_report(rows, args.out)
    print(f"wrote {csv_path} and {md_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
