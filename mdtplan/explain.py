"""Why: which rules conflict when no plan exists, and what the binding rules are worth.

Infeasible scenarios (:func:`explain_infeasible`)
    1. A cheap bound: the least cost of opening the fewest hubs allowed, each staffed to its
       minimum MDT, against the budget cap.
    2. Elastic re-solves: for each rule family on its own, the model is re-solved with that
       family made elastic (a non-negative slack on each of its rows, the total slack minimised)
       and every other rule kept hard. A family whose slack makes a plan possible is one way out,
       and the slack says by how much ("the budget cap £48.0m is £3.2m below the least cost of
       a plan that meets every other rule").
    3. When no single family suffices, all families are made elastic together (each slack scaled
       by its family's natural unit) and the combination is reported.

Binding rules (:func:`marginal_summary`)
    With the plan's integer decisions fixed, the LP's shadow prices: what one more £100k of
    budget buys, which population bands and capacities bind, what one more FTE of each role is
    worth.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

import numpy as np
import pyomo.environ as pyo

from .errors import InfeasibleError, ModelError, Problem
from .model import families
from .model.families.base import gbp

#: relaxations of variable bounds rather than of rows, tried after the rule families:
#: name -> (natural unit used to scale its slack when relaxed with others, label)
BOUND_RELAXATIONS: dict[str, tuple[float, str]] = {
    "demand_covered": (1_000.0, "all demand met"),
    "site_required": (1.0, "required sites open"),
}


def relaxable() -> dict[str, tuple[float, str]]:
    """Everything an explanation may relax, in the order it tries them: the registered rule
    families with a slack unit (:func:`mdtplan.model.families.relaxable`), then
    :data:`BOUND_RELAXATIONS`. Name -> (natural unit of its slack, label)."""
    out = {f.name: (float(f.slack_unit), f.label) for f in families.relaxable()}
    out.update(BOUND_RELAXATIONS)
    return out


@dataclass(frozen=True)
class _Elastic:
    family: str
    total: float
    by_index: dict
    status: str


# ---------------------------------------------------------------------------------------------
# 1. Bounds


def budget_floor(data) -> tuple[float, int] | None:
    """Least cost of the fewest hubs allowed, each at its minimum MDT [GBP/year], and that count.

    A lower bound on any plan's cost: ``k`` = the most of ``hub_count_min``, the required sites
    and ``ceil(population / hub_population_max)``; cost = ``k`` x the minimum-MDT staff cost
    + the ``k`` cheapest site costs (required sites always counted). ``None`` without roles or
    site costs.
    """
    roles = data.roles
    sites = data.sites[data.sites["status"] != "excluded"]
    if sites.empty:
        return None
    required = sites["status"].eq("required")
    k = int(data.hub_count_min or 0)
    k = max(k, int(required.sum()))
    if data.hub_population_max:
        k = max(k, int(np.ceil(float(data.areas["population"].sum())
                               / float(data.hub_population_max) - 1e-9)))
    k = min(max(k, 1), len(sites))
    core = roles[roles["kind"] == "core"] if len(roles) else roles
    mdt = float((core["min_fte_per_hub"].astype(float)
                 * core["cost_gbp_per_fte"].astype(float)).sum()) if len(core) else 0.0
    cost = sites["fixed_cost_gbp"].astype(float) + np.where(
        sites["status"].eq("candidate"), sites["opening_cost_gbp"].astype(float), 0.0)
    chosen = list(cost[required]) + sorted(cost[~required])[: max(0, k - int(required.sum()))]
    total = k * mdt + float(sum(chosen))
    return (total, k) if total > 0 else None


def _bound_problems(data) -> list[Problem]:
    out = []
    floor = budget_floor(data)
    if floor is not None and data.budget_cap_gbp is not None:
        cost, k = floor
        if data.budget_cap_gbp < cost - 1e-6:
            out.append(Problem(
                None, None, "budget.cap",
                f"the budget cap {gbp(data.budget_cap_gbp)} is "
                f"{gbp(cost - data.budget_cap_gbp)} below the least cost of staffing {k} "
                f"hub{'s' if k != 1 else ''} to their minimum MDT, with the cheapest sites "
                f"({gbp(cost)})",
                f"raise budget.cap to at least {gbp(cost)}, or lower hubs.count.min or the "
                "roles' min_fte_per_hub"))
    return out


# ---------------------------------------------------------------------------------------------
# 2. Elastic re-solves


def _strip_objectives(m) -> None:
    for name in ("objective", "STAGES", "stage_optimum_held", "stage_optimum_bound"):
        if hasattr(m, name):
            m.del_component(name)


def _make_elastic(m, family: str, scale: float = 1.0):
    """Add slack to ``family``'s rows; return the expression of its total slack (unscaled)."""
    if family == "demand_covered":
        if not hasattr(m, "unmet_hours") or len(m.unmet_hours) == 0:
            return None
        if all(v.ub is None for v in m.unmet_hours.values()):
            return None  # unmet hours are already free (max_demand_met): nothing to relax
        for v in m.unmet_hours.values():
            v.setub(None)
        return sum(m.unmet_hours.values())
    if family == "site_required":
        req = [s for s in m.SITES if m.open_site[s].lb == 1]
        if not req:
            return None
        for s in req:
            m.open_site[s].setlb(0)
        return sum(1 - m.open_site[s] for s in req)
    comp = m.component(family)
    if comp is None or not comp.active or len(comp) == 0:
        return None
    idx = list(comp.keys())
    up = pyo.Var(range(len(idx)), domain=pyo.NonNegativeReals)
    down = pyo.Var(range(len(idx)), domain=pyo.NonNegativeReals)
    rows = pyo.ConstraintList()
    m.add_component(f"elastic_up_{family}", up)
    m.add_component(f"elastic_down_{family}", down)
    m.add_component(f"elastic_rows_{family}", rows)
    for i, key in enumerate(idx):
        con = comp[key]
        lb, body, ub = con.lower, con.body, con.upper
        con.deactivate()
        rows.add((lb, body + up[i] - down[i], ub))
    m.add_component(f"elastic_keys_{family}", pyo.Param(range(len(idx)), initialize=dict(
        enumerate(idx)), within=pyo.Any))
    return sum(up.values()) + sum(down.values())


def _slack_by_index(m, family: str) -> dict:
    if family == "demand_covered":
        return {k: float(v.value or 0.0) for k, v in m.unmet_hours.items()
                if (v.value or 0.0) > 1e-6}
    if family == "site_required":
        return {s: 1.0 for s in m.SITES if m.open_site[s].lb == 0
                and (m.open_site[s].value or 0.0) < 0.5 and s in _required(m)}
    up = m.component(f"elastic_up_{family}")
    down = m.component(f"elastic_down_{family}")
    keys = m.component(f"elastic_keys_{family}")
    out = {}
    for i in up:
        v = float(up[i].value or 0.0) + float(down[i].value or 0.0)
        if v > 1e-6:
            out[keys[i]] = v
    return out


def _required(m) -> set:
    data = m.mdtplan_data
    return set(data.sites.index[data.sites["status"] == "required"].astype(str))


def _families_present(m) -> list[str]:
    out = []
    for fam in relaxable():
        if fam == "demand_covered":
            if hasattr(m, "unmet_hours") and len(m.unmet_hours) and any(
                    v.ub is not None for v in m.unmet_hours.values()):
                out.append(fam)
        elif fam == "site_required":
            if any(m.open_site[s].lb == 1 for s in m.SITES):
                out.append(fam)
        else:
            comp = m.component(fam)
            if comp is not None and len(comp):
                out.append(fam)
    return out


def _solve_elastic(data, names: list[str], options, weights: dict | None = None):
    from .model.build import build_model
    from .solve import Session, SolveOptions

    m = build_model(data, check=False)
    _strip_objectives(m)
    terms = []
    for fam in names:
        expr = _make_elastic(m, fam)
        if expr is not None:
            terms.append(expr / (weights or {}).get(fam, 1.0))
    if not terms:
        return None, None
    m.elastic_objective = pyo.Objective(expr=sum(terms), sense=pyo.minimize)
    opts = SolveOptions(time_limit_s=options.time_limit_s, mip_gap=1e-4,
                        threads=options.threads, seed=options.seed,
                        presolve=options.presolve, warm_start=False,
                        reproducible=options.reproducible, node_limit=options.node_limit)
    session = Session(m, opts)
    try:
        res = session.solve()
    finally:
        session.close()
    return m, res


def _elastic_family(data, family: str, options) -> _Elastic | None:
    m, res = _solve_elastic(data, [family], options)
    if res is None or not res.has_solution:
        return None
    by_index = _slack_by_index(m, family)
    return _Elastic(family, float(sum(by_index.values())), by_index,
                    getattr(res.status, "value", str(res.status)))


def _describe(e: _Elastic, data) -> Problem:
    """The planner's words for one relaxation: the family's own (its ``describe``), else the
    generic "the <label> rule must give way by ..."."""
    fam, amount, idx = e.family, e.total, e.by_index
    approx = "" if e.status == "optimal" else "about "
    n = len(idx)
    where = ", ".join(str(k) for k in list(idx)[:5]) + (f" and {n - 5} more" if n > 5 else "")
    if fam == "demand_covered":
        return Problem(None, where, "objective",
                       f"not all demand can be met under the other rules: {approx}{amount:,.0f} "
                       "hours a year stay unmet",
                       "raise the budget cap or supply, or use objective max_demand_met")
    if fam == "site_required":
        return Problem("sites", where, "status",
                       f"{n} required site(s) cannot be open under the other rules",
                       "change their status to candidate, or widen the population band")
    family = families.family(fam)
    if family.describe is not None:
        return Problem(None, *family.describe(amount, idx, approx, where, data))
    return Problem(None, where, fam,
                   f"the {family.label} rule must give way by {approx}{amount:,.1f} in {n} "
                   "place(s)", "relax it")


def explain_infeasible(data, options=None, *, time_budget_s: float | None = None
                       ) -> list[Problem]:
    """Say which rules conflict, and by how much, for an infeasible ``data``.

    Parameters
    ----------
    data : ModelData
    options : SolveOptions, optional
        Threads and time limit per elastic solve.
    time_budget_s : float, optional
        Everything here takes at most about this long [s]: each elastic solve gets what is
        left, at most half of it or the options' time limit, and families not tried for want
        of time are said so (default: the larger of the options' time limit and 30 s; no
        limit in reproducible mode, where each solve stops at its node limit).

    Returns
    -------
    list of Problem
        Bound violations first, then each rule family that on its own can be relaxed to make a
        plan possible (the amount in its message), or the combination when none can alone.
    """
    from .model.build import build_model
    from .model.checks import check_data
    from .solve import SolveOptions

    options = options or SolveOptions()
    try:
        check_data(data)
    except (InfeasibleError, ModelError) as err:
        return list(err.problems)
    problems = _bound_problems(data)
    probe = build_model(data, check=False)
    present = _families_present(probe)
    if options.reproducible:
        budget = float("inf")
    else:
        budget = time_budget_s if time_budget_s is not None else max(options.time_limit_s,
                                                                      30.0)
    t0 = perf_counter()
    found = []
    per_s = min(options.time_limit_s, max(budget / 2, min(5.0, budget)))

    def per():
        """The next elastic solve's options: at most ``per_s``, never more than is left."""
        left = budget - (perf_counter() - t0)
        if left < 0.5:
            return None
        return SolveOptions(time_limit_s=min(per_s, left), threads=options.threads,
                            seed=options.seed, reproducible=options.reproducible,
                            node_limit=options.node_limit)

    untried = []
    for fam in present:
        opts = per()
        if opts is None:
            untried.append(fam)
            continue
        e = _elastic_family(data, fam, opts)
        if e is not None and e.total > 1e-6:
            found.append(e)
    late = ([Problem(None, None, None,
                     f"the time limit ended the search before {len(untried)} rule "
                     f"famil{'y' if len(untried) == 1 else 'ies'} could be tried: "
                     + ", ".join(untried), "give the run longer (--time-limit)")]
            if untried else [])
    if found:
        described = [_describe(e, data) for e in found]
        if problems and any(e.family == "budget_cap" for e in found):
            # the elastic budget figure is sharper than the bound; keep the bound only if alone
            problems = []
        return problems + described + late
    units = relaxable()
    weights = {f: units[f][0] for f in present}
    opts = per()
    if opts is None:
        return problems + late if problems or late else [Problem(
            None, None, None, "no plan satisfies every rule; the time limit ended the search "
            "for which rules conflict", "give the run longer (--time-limit)")]
    m, res = _solve_elastic(data, present, opts, weights)
    if res is not None and res.has_solution:
        combo = []
        for fam in present:
            idx = _slack_by_index(m, fam)
            if idx:
                combo.append(_describe(_Elastic(fam, sum(idx.values()), idx,
                                                res.status.value), data))
        if combo:
            head = Problem(None, None, None,
                           "no single rule can give way alone; together these conflict:",
                           None)
            return problems + [head] + combo
    return problems or [Problem(None, None, None,
                                "no plan satisfies every rule, and no combination of the rule "
                                "families could be singled out",
                                "check the travel limit and the sites' status")]


# ---------------------------------------------------------------------------------------------
# Binding rules and marginal values


def marginal_summary(session, data, time_limit_s: float | None = None) -> dict:
    """Shadow prices of the solved plan with its integer decisions fixed (an LP of at most
    ``time_limit_s`` seconds; default the session's limit).

    Returns a JSON-ready dict: the objective and its unit, and for the budget cap, the population
    bands, capacities and workforce supply, how many rows bind and what one more unit is worth;
    for ``max_demand_met`` the unmet hours avoided per extra £100k and per extra FTE of each role.
    """
    names = ("budget_cap", "hub_population_min", "hub_population_max", "site_capacity",
             "site_capacity_fte", "workforce_supply", "core_demand_covered",
             "pool_demand_covered")
    present = [n for n in names if session.has_constraint(n)]
    if not present:
        return {}
    duals = session.marginal_values(present, time_limit_s=time_limit_s)
    stage = session.stage_names[0]
    out: dict = {"objective_stage": stage, "binding": {}}
    for name, s in duals.items():
        s = s[np.abs(s.to_numpy()) > 1e-9]
        if name in ("core_demand_covered", "pool_demand_covered"):
            continue
        out["binding"][name] = {
            "rows_binding": int(len(s)),
            "value_per_unit": (float(s.iloc[0]) if len(s) == 1 and s.index[0] is None
                               else {str(k): float(v) for k, v in s.head(20).items()}),
        }
    if "budget_cap" in duals and len(duals["budget_cap"]):
        v = float(duals["budget_cap"].iloc[0])
        # a <= cap row under minimisation: a negative dual is what one more GBP saves
        out["per_100k_budget"] = {"stage": stage, "change": v * 1e5,
                                  "meaning": f"change in {stage} per extra £100k of budget"}
    roles = data.roles
    per_fte = {}
    for name in ("core_demand_covered", "pool_demand_covered"):
        s = duals.get(name)
        if s is None or not len(s):
            continue
        for key, v in s.items():
            role = key[1] if isinstance(key, tuple) else None
            if role is None or role not in roles.index:
                continue
            hours = float(roles.loc[role, "productive_hours_per_fte"])
            per_fte[role] = max(per_fte.get(role, 0.0), abs(float(v)) * hours)
    if per_fte:
        out["per_extra_fte"] = {"stage": stage, "best_unit_value": per_fte,
                                "meaning": f"fall in {stage} from one more FTE of the role, "
                                           "placed where it helps most"}
    return out
