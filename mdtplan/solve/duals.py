"""Row duals and marginal values: what one more unit of a bound is worth, by constraint name.

The functions take the :class:`~mdtplan.solve.session.Session` whose last plan they price;
:func:`marginal_values` restores the session afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable

import highspy
import numpy as np
import pandas as pd

from ..errors import SolveError
from .stages import hold_bound, set_hold

INF = highspy.kHighsInf
_MS = highspy.HighsModelStatus


def row_duals(session, names: Iterable[str] | None = None) -> dict[str, pd.Series]:
    """Row duals of ``session``'s last solve (meaningful for an LP), by constraint name and
    index.

    Sign: the change in the objective per unit increase of the constraint's bound
    (for a ``<=`` budget cap under minimisation, a negative number is what one more unit of
    budget saves).
    """
    sol = session.highs.getSolution()
    duals = np.asarray(sol.row_dual, dtype=float)
    out: dict[str, dict] = {}
    wanted = None if names is None else set(names)
    for i, (name, key) in enumerate(session._row_keys()):
        if wanted is not None and name not in wanted:
            continue
        out.setdefault(name, {})[key] = duals[i] if i < len(duals) else np.nan
    return {n: pd.Series(v, dtype=float) for n, v in out.items()}


def marginal_values(session, names: Iterable[str] = ("budget_cap",), stage: int = 0,
                    time_limit_s: float | None = None) -> dict[str, pd.Series]:
    """Shadow prices with the plan's structure fixed: what one more unit of a bound buys.

    Fixes every binary column (hubs open, single-source assignment) at the last plan,
    relaxes general integers (FTE steps) to continuous, restores stage ``stage``'s objective
    with every hold released, solves that LP and returns its row duals (see
    :func:`row_duals` for the sign). The session is restored afterwards. E.g. the budget
    cap's value under ``max_demand_met`` is the unmet hours saved per extra GBP (x 1e5 for
    "what one more GBP 100k buys"). The LP may take ``time_limit_s`` (default: the
    session's time limit; none in reproducible mode) [s].
    """
    if session._last_x is None:
        raise SolveError("solve first: marginal values need a plan")
    h = session.highs
    k = session._compiled
    n = session._ncols()
    x = np.pad(session._last_x, (0, max(0, n - len(session._last_x))))[:n]
    ints = np.flatnonzero(k.integrality[:n])
    binary = ints[(k.col_lower[ints] >= 0) & (k.col_upper[ints] <= 1)]
    holds = [hold for *_, hold in session._stages if hold is not None]
    saved_bounds = [hold_bound(session, hd) for hd in holds]
    try:
        for hd in holds:
            set_hold(session, hd, INF)
        _, vec, off, _ = session._stages[stage]
        vec = np.pad(vec, (0, n - len(vec)))
        h.changeColsCost(n, np.arange(n, dtype=np.int32), vec)
        h.changeObjectiveOffset(off)
        if len(binary):
            xb = np.round(x[binary])
            h.changeColsBounds(len(binary), binary.astype(np.int32), xb, xb)
        cont = np.full(len(ints), int(highspy.HighsVarType.kContinuous), dtype=np.int32)
        if len(ints):
            h.changeColsIntegrality(len(ints), ints.astype(np.int32), cont)
        if time_limit_s is None:
            time_limit_s = (float("inf") if session.options.reproducible
                            else float(session.options.time_limit_s))
        session.handle.set_time_limit(float(time_limit_s), lp=True)
        session.handle.run()
        if h.getModelStatus() != _MS.kOptimal:
            raise SolveError(f"the fixed LP did not solve: "
                             f"{h.modelStatusToString(h.getModelStatus())}")
        return row_duals(session, names)
    finally:
        if len(binary):
            h.changeColsBounds(len(binary), binary.astype(np.int32), k.col_lower[binary],
                               k.col_upper[binary])
        if len(ints):
            h.changeColsIntegrality(len(ints), ints.astype(np.int32),
                                    k.integrality[ints].astype(np.int32))
        for hd, b in zip(holds, saved_bounds, strict=True):
            set_hold(session, hd, b)
