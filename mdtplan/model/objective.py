"""Objectives, chosen by name, each solved as a short lexicographic sequence of stages.

Every objective is a list of *stages*, each a quantity to minimise. The first stage is the
objective proper; later stages break its ties (so the plan users see is not an arbitrary one
among equally good plans). :mod:`mdtplan.solve` solves them in turn: after stage k it holds stage
k's quantity at its optimum (``stage_optimum_held[k]``: quantity <= optimum + tolerance, or
<= optimum x (1 + gap) for the cost stage of ``max_demand_met``) and minimises stage k+1.

================ ==============================================================================
objective        stages (the first one is the objective reported)
================ ==============================================================================
min_travel       ``travel``; then ``cost_gbp`` when there are roles or site costs
min_cost         ``cost_gbp``; then ``travel`` when travel is not costed
                 (``travel_cost_gbp_per_unit`` = 0)
min_max_travel   ``max_travel``; then ``travel``; then ``cost_gbp`` when there are roles or
                 site costs
max_demand_met   ``unmet_hours`` (0 when there are no roles); ``cost_gbp``; ``travel``
================ ==============================================================================

Quantities (Pyomo Expressions on the model):

- ``total_travel`` = :math:`\\sum_{(a,s)} w_a\\, t_{a,s}\\, assign_{a,s}` with :math:`w_a` the
  population when ``travel_weight_by_population``, else 1 [travel unit (x people)]. With no
  roles, exactly p hubs and a travel table this is the p-median objective.
- ``total_cost_gbp`` = staff cost + agency premium + site fixed/opening cost
  + ``travel_cost_gbp_per_unit`` x ``total_travel`` [GBP/year]. With no roles, fixed costs,
  capacities and travel at 1 per unit counted once per area it is Beasley's capacitated
  facility location objective. ``min_cost`` (and ``min_travel``, ``min_max_travel``) require all
  demand met: ``unmet_hours`` is fixed at 0. With levers (:mod:`mdtplan.care`), the cost
  stage also counts the care spend each person a lever reaches avoids, :math:`-\\gamma_k
  q_{k,s}`: the cost to the council of staff and care together, so a lever goes as far as the
  rules let it whenever its care saving exceeds the staff it needs.
- ``total_unmet_hours`` = :math:`\\sum_{u,r} unmet_{u,r}` [hours/year].
- ``max_travel_cost`` (a variable, p-center): :math:`T \\ge \\sum_s t_{a,s}\\, assign_{a,s}\\;
  \\forall a`, declared by the rule family ``max_travel_bound``
  (:mod:`mdtplan.model.families.max_travel_bound`), unweighted.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .families.base import INF
from .families.budget_cap import cost_columns, cost_terms, site_cost_gbp
from .families.lever_reach import objective_terms as lever_objective_terms

OBJECTIVES = ("max_demand_met", "min_cost", "min_travel", "min_max_travel")

#: stage name -> the model component holding its quantity
STAGE_COMPONENTS = {
    "unmet_hours": "total_unmet_hours",
    "cost_gbp": "total_cost_gbp",
    "travel": "total_travel",
    "max_travel": "max_travel_cost",
}


def objective_stages(data, ix) -> list[str]:
    """The lexicographic stages of ``data.objective`` (see the module docstring)."""
    priced = bool(ix.staff) or bool(np.any(site_cost_gbp(data, ix.site_ids) != 0))
    if data.objective == "min_travel":
        return ["travel"] + (["cost_gbp"] if priced else [])
    if data.objective == "min_cost":
        return ["cost_gbp"] + (["travel"] if data.travel_cost_gbp_per_unit == 0 else [])
    if data.objective == "min_max_travel":
        return ["max_travel", "travel"] + (["cost_gbp"] if priced else [])
    if data.objective == "max_demand_met":
        return ["unmet_hours", "cost_gbp", "travel"]
    raise ValueError(f"unknown objective {data.objective!r}; use one of {OBJECTIVES}")


def travel_coefficients(data, ix) -> np.ndarray:
    """Objective coefficient of each pair's ``assign`` in ``total_travel``."""
    if data.travel_weight_by_population:
        return ix.travel_cost * ix.weight[ix.pair_area]
    return ix.travel_cost.copy()


def add_objective(m, data, ix) -> None:
    """Add the stage quantities, ``STAGES``, ``objective`` (the first stage) and the hold rows."""
    assign = list(m.assign.values())
    tc = travel_coefficients(data, ix)
    m.total_travel = pyo.Expression(expr=LinearExpression(
        constant=0.0, linear_coefs=tc.tolist(), linear_vars=assign))

    coefs, xs = cost_terms(m, data, ix)
    if data.travel_cost_gbp_per_unit:
        coefs = coefs + (tc * float(data.travel_cost_gbp_per_unit)).tolist()
        xs = xs + assign
    keys, saving = lever_objective_terms(data, ix)
    if len(keys):
        q = list(m.lever_people.values())
        coefs = coefs + saving.tolist()
        xs = xs + [q[n] for n in keys.tolist()]
    m.total_cost_gbp = pyo.Expression(expr=LinearExpression(
        constant=0.0, linear_coefs=coefs, linear_vars=xs), doc="[GBP/year]")
    unmet = list(m.unmet_hours.values())
    m.total_unmet_hours = pyo.Expression(expr=LinearExpression(
        constant=0.0, linear_coefs=[1.0] * len(unmet), linear_vars=unmet), doc="[hours/year]")

    stages = objective_stages(data, ix)
    m.STAGES = pyo.Set(initialize=stages, ordered=True)
    m.objective = pyo.Objective(expr=getattr(m, STAGE_COMPONENTS[stages[0]]),
                                sense=pyo.minimize)
    held = stages[:-1]
    if held:
        m.params.stage_optimum_bound = pyo.Param(held, mutable=True, initialize=float("inf"))
        bound = m.params.stage_optimum_bound

        def _stage_optimum_held_rule(m, stage):
            return getattr(m, STAGE_COMPONENTS[stage]) <= bound[stage]

        m.stage_optimum_held = pyo.Constraint(held, rule=_stage_optimum_held_rule)


# --------------------------------------------------------------------------------------------
# The same for the direct build (:func:`mdtplan.model.matrix.build_matrix`)


def stage_terms(cols, stage: str) -> tuple[np.ndarray, np.ndarray]:
    """Columns and coefficients of a stage's quantity in the direct build (the Pyomo
    Expressions' terms, in the same order)."""
    data, ix = cols.data, cols.ix
    if stage == "travel":
        return cols.assign_cols, travel_coefficients(data, ix).astype(float)
    if stage == "cost_gbp":
        c, v = cost_columns(cols)
        if data.travel_cost_gbp_per_unit:
            c = np.concatenate([c, cols.assign_cols])
            v = np.concatenate([v, travel_coefficients(data, ix)
                                * float(data.travel_cost_gbp_per_unit)])
        keys, saving = lever_objective_terms(data, ix)
        if len(keys):
            c = np.concatenate([c, cols.offset["lever_people"] + keys])
            v = np.concatenate([v, saving])
        return c, v
    if stage == "unmet_hours":
        return cols.offset["unmet_hours"] + np.arange(cols.n_staff), np.ones(cols.n_staff)
    if stage == "max_travel":
        return np.array([cols.offset["max_travel_cost"]]), np.ones(1)
    raise ValueError(stage)


def stage_optimum_held_rows(cols, R, terms: dict) -> None:
    """``stage_optimum_held``: every stage but the last at most its bound (``terms``: stage ->
    :func:`stage_terms`)."""
    held = cols.stages[:-1]
    if not held:
        return
    rows, col, vals = [], [], []
    for q, s in enumerate(held):
        c, v = terms[s]
        rows.append(np.full(len(c), q))
        col.append(c)
        vals.append(v)
    bounds = cols.params["stage_optimum_bound"] or {}
    R.add("stage_optimum_held", len(held), np.concatenate(rows), np.concatenate(col),
          np.concatenate(vals), -INF, np.array([float(bounds.get(s, INF)) for s in held]), held)
