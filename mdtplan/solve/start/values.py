"""A heuristic plan as values of a built Pyomo model's variables: ``{VarData: value}``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pyomo.common.collections import ComponentMap

from . import search
from .instance import StartInput
from .search import StartPlan


def start_values(model, plan: StartPlan) -> dict:
    """``{VarData: value}`` for every variable of ``model`` the plan sets."""
    ix = model.mdtplan_index
    out = ComponentMap()
    for s_i, v in enumerate(model.open_site.values()):
        out[v] = 1.0 if plan.is_open[s_i] else 0.0
    hit = np.zeros(len(ix.pairs), dtype=bool)
    hit[plan.pair] = True
    for k, v in enumerate(model.assign.values()):
        out[v] = 1.0 if hit[k] else 0.0
    if ix.staff:
        for i, key in enumerate(ix.staff):
            out[model.fte_steps[key]] = float(plan.steps[i])
            out[model.agency_fte[key]] = float(plan.agency_fte[i])
            out[model.unmet_hours[key]] = float(plan.unmet_hours[i])
    if hasattr(model, "max_travel_cost"):
        out[model.max_travel_cost] = plan.max_travel
    for name, values in plan.extra.items():  # variables a rule declares, in key order
        comp = model.component(name)
        if comp is not None:
            for v, x in zip(comp.values(), values, strict=True):
                out[v] = float(x)
    if model.component("contiguity_flow") is not None and plan.flows is not None:
        for v, f in zip(model.contiguity_flow.values(), plan.flows.tolist(), strict=True):
            out[v] = f
    return out


def greedy_start(model, max_dense: int = 4_000_000, max_seconds: float = 5.0, seed: int = 0,
                 stop: Callable[[], bool] | None = None,
                 deterministic: bool = False, prior=None,
                 report: dict | None = None) -> ComponentMap | None:
    """A heuristic plan to start HiGHS from: ``{VarData: value}``, or ``None`` when none was
    found.

    The plan of :func:`mdtplan.solve.start.build_start`: hubs by greedy adding and swaps,
    areas packed into the population band, improved by local search on the plan's exact cost,
    staff rounded up to FTE steps with minimums and supervision, agency and unmet hours
    where supply and budget need them. Every variable is set when the plan keeps every rule
    the heuristic knows of; otherwise only ``open_site`` and ``assign`` (HiGHS completes the
    rest, or rejects the start). It is only a start: the optimum is never changed by it, only
    the time to reach it.

    Parameters
    ----------
    model : ConcreteModel
    max_dense : int
        Largest areas x sites the heuristic works on (it keeps a dense matrix).
    max_seconds : float
        Time for its search [s] (counted in deterministic units of work: the same model and
        seed give the same start on any machine).
    seed : int
        Seed of its random kicks.
    stop : callable, optional
        Polled during the search; true ends it at once with the best plan so far (a cancel).
    deterministic : bool
        Units of work only, no wall-clock backstop (:func:`~.search.build_start`).
    prior : PriorPlan, optional
        An earlier plan searched first (a what-if; :func:`~.search.build_start`).
    report : dict, optional
        Filled with ``prior``: how the earlier plan was used (:attr:`StartPlan.prior`).
    """
    plan = search.build_start(StartInput.of_model(model), max_seconds=max_seconds,
                              max_dense=max_dense, seed=seed, stop=stop,
                              deterministic=deterministic, prior=prior)
    if plan is None:
        return None
    if report is not None and plan.prior is not None:
        report["prior"] = plan.prior
    values = start_values(model, plan)
    if not plan.feasible:
        keep = ComponentMap()
        for v in list(model.open_site.values()) + list(model.assign.values()):
            keep[v] = values[v]
        return keep
    return values
