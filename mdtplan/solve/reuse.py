"""Re-solves that need no solver: a budget cap that provably changes nothing.

A session remembers the last plan when it was proven optimal at every stage
(:func:`remember_proof`); a re-solve whose only change since is the budget cap returns it again
when the new cap provably leaves it optimal (:func:`unchanged_result`).
"""

from __future__ import annotations

from dataclasses import replace
from time import perf_counter

import highspy
import numpy as np

from .status import SolveOptions, SolveResult, SolveStatus

INF = highspy.kHighsInf


def budget_row(session) -> int | None:
    """The HiGHS row of the budget cap (``budget_cap``), or None."""
    if session._mm is not None:
        start, stop = session._mm.row_spans.get("budget_cap", (0, 0))
        return start if stop > start else None
    con = session.model.component("budget_cap")
    if con is None:
        return None
    return session._compiled.row_of.get(id(con))


def remember_proof(session, result: SolveResult, held_at: dict, options: SolveOptions) -> None:
    """Keep what :func:`unchanged_result` needs when ``result`` is proven at every stage."""
    session._proof = None
    row = budget_row(session)
    if (row is None or result.status != SolveStatus.optimal or result.cancelled
            or session._last_x is None
            or len(result.stage_objectives) != len(session._stages)
            or any(v != SolveStatus.optimal.value for v in result.stage_status.values())):
        return
    session._proof = {"result": result, "row": row, "upper": float(session._compiled.row_upper[row]),
                   "lower": float(session._compiled.row_lower[row]), "held_at": dict(held_at),
                   "mip_gap": float(options.mip_gap)}


def unchanged_result(session, options: SolveOptions, t_start: float) -> SolveResult | None:
    """The last result again, when the only change since it was proven is the budget cap
    and that provably leaves its plan optimal at every stage (within the same gap).

    With ``x`` the proven plan, ``b`` the cap it was proven under and ``b'`` the new one
    (both as the budget row's upper bound), ``B(x)`` the budget row's activity:

    * ``b' < b``: the plans allowed now are a subset of those then; if ``B(x) <= b'``
      the plan is still allowed, so it is still the best at every stage (and every bound
      proven then still holds).
    * ``b' > b``: the new plans all have ``B > b``. Stage ``i`` keeps its optimum when
      (a) an earlier stage ``j`` costs at least ``B`` (its cost vector minus the budget
      row's is non-negative on non-negative columns) and was held at ``h_j <= b + offset``,
      so no new plan enters stage ``i``; or (b) stage ``i`` itself costs at least ``B``
      and its value is at most ``b + offset``, so every new plan is worse; or (c) its value
      is the least its cost vector can take on the column bounds.

    Returns None (solve as usual) in every other case.
    """
    proof = session._proof
    if proof is None or float(options.mip_gap) < proof["mip_gap"]:
        return None
    k, row = session._compiled, proof["row"]
    upper, lower = float(k.row_upper[row]), float(k.row_lower[row])
    if lower != proof["lower"]:
        return None
    x = np.asarray(session._last_x, float)  # the proven plan: only a solve changes it
    n = session._ncols()
    x = np.pad(x, (0, max(0, n - len(x))))[:n]
    _, cols, vals = session.highs.getRowEntries(row)
    a = np.zeros(n)
    a[np.asarray(cols, dtype=np.int64)] = np.asarray(vals, dtype=float)
    old = proof["upper"]
    result = proof["result"]
    if upper < old:
        ok = float(a @ x) <= upper + 1e-9 * max(1.0, abs(upper))
    elif upper > old:
        ok = _stages_keep_optimum(session, a, old, result, proof["held_at"])
    else:
        ok = True
    if not ok:
        return None
    proof["upper"] = upper  # proven under the new cap now
    return replace(result, solve_seconds=perf_counter() - t_start, build_seconds=None,
                   compile_seconds=0.0, highs_run_seconds=0.0, load_seconds=0.0,
                   node_count=0, cuts_seconds=0.0,
                   message=f"{result.message} (the previous plan: proven unchanged by the "
                           f"new budget cap, no solver run)")


def _stages_keep_optimum(session, a: np.ndarray, old_upper: float, result: SolveResult,
                         held_at: dict) -> bool:
    """Case ``b' > b`` of :func:`unchanged_result`: (a), (b) or (c) for every stage."""
    k = session._compiled
    n = session._ncols()
    lo, hi = k.col_lower[:n], k.col_upper[:n]
    shut_out = False  # an earlier stage's hold keeps every new plan out
    for stage, vec, off, _ in session._stages:
        v = np.pad(vec, (0, n - len(vec)))[:n]
        value = float(result.stage_objectives[stage])
        diff = v - a
        costs_at_least_budget = bool(np.all(diff >= -1e-12)
                                     and np.all(lo[diff > 1e-12] >= 0))
        least = (np.where(v > 0, lo, 0.0) @ v + np.where(v < 0, hi, 0.0) @ v
                 if np.all(np.isfinite(lo[v > 0])) and np.all(np.isfinite(hi[v < 0]))
                 else -INF) + off
        tol = 1e-9 * max(1.0, abs(value))
        if not (shut_out or (costs_at_least_budget and value <= old_upper + off + tol)
                or value <= least + tol):
            return False
        held = held_at.get(stage)
        if costs_at_least_budget and held is not None and held < old_upper + off:
            shut_out = True
    return True
