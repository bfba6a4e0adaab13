"""Locality teams, a second tier: the open hubs of a solved plan grouped into teams.

A scenario's ``localities`` section asks for teams of whole MDT hubs: a count band, a population
band per team, contiguity and roles staffed once per team (e.g. a locality manager). The hub
plan is solved first (the MDT model, told what it can be told: at least
``localities.count.min`` hubs, and the least the teams' roles cost reserved from ``budget.cap``);
the teams are then chosen optimally *given that plan* (:mod:`mdtplan.solve.localities`). The
two stages are honest but not joint: a hub plan that is cheapest on its own may allow only
worse teams than a plan chosen with the teams in view (docs/scenario.md, "Locality teams").

- :func:`check_localities`: before solving, every way the section cannot be met by counting.
- :func:`hub_pools`, :func:`hub_edges`: each open hub's pool (the pool serving most of its
  people) and which hubs are neighbours (their catchments hold neighbouring areas, or share an
  area when it is split).
- :func:`plan_teams`: the second stage on a finished plan; the teams as tables, or the reasons
  in words why no teams exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import Problem, ScenarioError

KEY = "localities"
#: columns of ``localities.csv``
LOCALITY_COLUMNS = ["locality_id", "name", "pool", "lead_hub", "hubs", "hub_ids", "areas",
                    "population", "fte", "cost"]


def team_cost_gbp(scenario, operating_model) -> tuple[float, float, dict[str, tuple[float, float]]]:
    """Cost and FTE of one team's roles, and per role (FTE, cost) [GBP/year, FTE].

    Roles the operating model does not have count nothing (:func:`check_localities` refuses
    them before a solve).
    """
    loc = scenario.localities
    by_role: dict[str, tuple[float, float]] = {}
    if loc is None or operating_model is None:
        return 0.0, 0.0, by_role
    known = {r.id: r for r in operating_model.roles}
    for lr in loc.roles:
        role = known.get(lr.role)
        if role is not None:
            by_role[lr.role] = (float(lr.fte_per_team),
                                float(lr.fte_per_team) * float(role.cost_gbp_per_fte))
    return (sum(c for _, c in by_role.values()), sum(f for f, _ in by_role.values()), by_role)


def check_localities(scenario, inputs, data) -> None:
    """Refuse, before solving, a ``localities`` section that cannot be met.

    Raises
    ------
    ScenarioError
        Unknown or non-locality roles; a count the hubs cannot reach (``hubs.count.max``, the
        candidate sites); a population band no team of whole hubs can meet, or that the
        count band and the people served cannot meet; a budget the minimum teams already
        exceed; contiguity without area geometry.
    """
    loc = scenario.localities
    if loc is None:
        return
    file = scenario.base_dir
    problems: list[Problem] = []
    om = inputs.operating_model
    for i, lr in enumerate(loc.roles):
        col = f"{KEY}.roles.{i}.role"
        if om is None:
            problems.append(Problem(file, None, col, "locality roles need an operating model",
                                    "set operating_model, or remove localities.roles"))
            continue
        role = next((r for r in om.roles if r.id == lr.role), None)
        if role is None:
            kinds = [r.id for r in om.locality_roles]
            problems.append(Problem(file, None, col,
                                    f"'{lr.role}' is not a role of operating model '{om.name}'",
                                    f"use one of its locality roles {kinds}" if kinds else
                                    "add a role of kind: locality (e.g. locality_manager) to "
                                    "the operating model"))
        elif role.kind != "locality":
            problems.append(Problem(file, None, col,
                                    f"'{lr.role}' is a {role.kind} role, staffed by demand in "
                                    "each hub or pool, not per locality team",
                                    "name a role of kind: locality (add one to the operating "
                                    "model, e.g. locality_manager)"))
    cmin, cmax = loc.count.bounds()
    hmin, hmax = scenario.hubs.count.bounds()
    if hmax is not None and cmin > hmax:
        problems.append(Problem(file, None, f"{KEY}.count.min",
                                f"{cmin} teams need at least {cmin} hubs (a team is one or more "
                                f"whole hubs), but hubs.count.max is {hmax}",
                                "lower localities.count.min, or raise hubs.count.max"))
    usable = int((data.sites["status"].astype(str) != "excluded").sum())
    if cmin > usable:
        problems.append(Problem(file, None, f"{KEY}.count.min",
                                f"{cmin} teams need at least {cmin} hubs, but only {usable} "
                                "candidate sites may open",
                                "lower localities.count.min, or add candidate sites"))
    pmin, pmax = loc.population.min, loc.population.max
    if pmax is not None and scenario.hubs.population.min is not None \
            and pmax < scenario.hubs.population.min:
        problems.append(Problem(file, None, f"{KEY}.population.max",
                                f"a team holds at least one hub of at least "
                                f"{scenario.hubs.population.min:,.0f} people (hubs.population."
                                f"min), more than localities.population.max {pmax:,.0f}",
                                "raise localities.population.max, or lower hubs.population.min"))
    people = float(data.areas["population"].sum())
    if pmin and cmin * pmin > people * (1 + 1e-9):
        problems.append(Problem(file, None, f"{KEY}.count.min",
                                f"{cmin} teams of at least {pmin:,.0f} people need "
                                f"{cmin * pmin:,.0f} people; the areas hold {people:,.0f}",
                                "lower localities.count.min or localities.population.min"))
    if pmax is not None and cmax is not None and cmax * pmax < people * (1 - 1e-9):
        problems.append(Problem(file, None, f"{KEY}.count.max",
                                f"{cmax} teams of at most {pmax:,.0f} people hold "
                                f"{cmax * pmax:,.0f} people; the areas hold {people:,.0f}",
                                "raise localities.count.max or localities.population.max"))
    cost, _, _ = team_cost_gbp(scenario, om)
    if scenario.budget.cap is not None and cmin * cost > scenario.budget.cap:
        problems.append(Problem(file, None, "budget.cap",
                                f"the roles of {cmin} locality teams alone cost "
                                f"£{cmin * cost:,.0f} a year, above the cap "
                                f"£{scenario.budget.cap:,.0f}",
                                "raise budget.cap, or lower localities.count.min"))
    if loc.contiguous:
        geom = getattr(inputs.areas, "geometry", None)
        if geom is None or geom.isna().all():
            problems.append(Problem(file, None, f"{KEY}.contiguous",
                                    "contiguous teams need the areas' geometry (which areas "
                                    "are neighbours); the areas have none",
                                    "give the areas polygons or coordinates, or set "
                                    "localities.contiguous: false"))
    if problems:
        raise ScenarioError(problems)


def hub_pools(assignment: pd.DataFrame, pairs: pd.DataFrame, population: pd.Series) -> pd.Series:
    """Each open hub's specialist pool: the pool serving the most of its people.

    A hub's catchment may cross a pool boundary (``pools.by: area_group``: the pool is the
    area's); the hub, and its team, then belong to the pool of most of its people (ties: the
    first pool by name). Pairs without a pool count as pool ``all``.
    """
    pool = pairs.assign(area_id=pairs["area_id"].astype(str),
                        site_id=pairs["site_id"].astype(str)).set_index(
        ["area_id", "site_id"])["pool"]
    a = assignment[["area_id", "site_id", "share"]].copy()
    a["area_id"] = a["area_id"].astype(str)
    a["site_id"] = a["site_id"].astype(str)
    a["pool"] = pool.reindex(pd.MultiIndex.from_frame(a[["area_id", "site_id"]])).astype(
        object).to_numpy()
    a["pool"] = [p if isinstance(p, str) else "all" for p in a["pool"]]
    a["people"] = a["area_id"].map(population).astype(float).fillna(0.0) * a["share"]
    by = a.groupby(["site_id", "pool"])["people"].sum().reset_index()
    by = by.sort_values(["site_id", "people", "pool"], ascending=[True, False, True])
    return by.drop_duplicates("site_id").set_index("site_id")["pool"].astype(str)


def hub_edges(assignment: pd.DataFrame, edges: pd.DataFrame) -> set[tuple[str, str]]:
    """Neighbouring hubs: one serves an area next to (or the same as) an area the other serves.

    Returns
    -------
    set of (str, str)
        Hub id pairs, smaller id first.
    """
    a = assignment[assignment["share"] > 1e-9]
    hubs_of: dict[str, set[str]] = {}
    for area, site in zip(a["area_id"].astype(str), a["site_id"].astype(str), strict=True):
        hubs_of.setdefault(area, set()).add(site)
    out: set[tuple[str, str]] = set()
    for hubs in hubs_of.values():  # a split area joins the hubs sharing it
        for h in hubs:
            for g in hubs:
                if h < g:
                    out.add((h, g))
    for x, y in zip(edges["area_a"].astype(str), edges["area_b"].astype(str), strict=True):
        for h in hubs_of.get(x, ()):
            for g in hubs_of.get(y, ()):
                if h != g:
                    out.add((min(h, g), max(h, g)))
    return out


@dataclass(frozen=True)
class Teams:
    """The second stage's outcome: the teams as tables, or why there are none.

    Attributes
    ----------
    status : str
        ``optimal``, ``feasible_at_limit``, ``infeasible`` or ``no_solution``.
    localities : DataFrame or None
        One row per team (:data:`LOCALITY_COLUMNS`).
    hub_locality : Series or None
        Index ``site_id``: the team's ``locality_id``.
    problems : tuple of Problem
        Without teams: why, in words.
    fte_by_role, cost_by_role : dict
        The teams' roles, summed [FTE, GBP/year].
    seconds : float
    """

    status: str
    localities: pd.DataFrame | None = None
    hub_locality: pd.Series | None = None
    problems: tuple[Problem, ...] = ()
    fte_by_role: dict | None = None
    cost_by_role: dict | None = None
    seconds: float = 0.0


def _count_band(scenario, spent_gbp: float, team_gbp: float) -> tuple[int, int | None, bool]:
    """The teams' count band, the budget's room included: (min, max, whether the budget set
    the max)."""
    cmin, cmax = scenario.localities.count.bounds()
    cap = scenario.budget.cap
    if cap is None or team_gbp <= 0:
        return cmin, cmax, False
    room = int(np.floor((cap - spent_gbp) / team_gbp + 1e-9))
    if cmax is None or room < cmax:
        return cmin, max(room, 0), True
    return cmin, cmax, False


def plan_teams(scenario, inputs, data, hubs: pd.DataFrame, assignment: pd.DataFrame,
               edges: pd.DataFrame | None, *, spent_gbp: float, time_limit_s: float = 60.0,
               threads: int = 1, node_limit: int | None = None) -> Teams:
    """Choose the locality teams of a solved plan (the second stage).

    Parameters
    ----------
    scenario : Scenario
        With a ``localities`` section.
    inputs : Inputs
        Site coordinates (EPSG:27700) and the operating model.
    data : ModelData
        The pairs' pools and the areas' populations.
    hubs, assignment : DataFrame
        The plan's open hubs (``site_id``, ``population``) and assignment (``area_id``,
        ``site_id``, ``share``).
    edges : DataFrame or None
        The areas' neighbour graph (``area_a``, ``area_b``); needed when contiguous.
    spent_gbp : float
        What the hub plan costs [GBP/year] (the budget left pays for the teams' roles).
    time_limit_s : float
        For both solves of the teams together [s].
    threads : int
        HiGHS threads.
    node_limit : int, optional
        Reproducible mode: node limits instead of seconds.
    """
    from .solve.localities import plan_localities

    loc = scenario.localities
    ids = [str(s) for s in hubs["site_id"]]
    pos = {s: i for i, s in enumerate(ids)}
    population = hubs["population"].astype(float).to_numpy()
    pool_of = hub_pools(assignment, data.pairs, data.areas["population"])
    pools = [str(pool_of.get(s, "all")) for s in ids]
    pairs = hub_edges(assignment, edges) if (loc.contiguous and edges is not None) else set()
    graph = [(pos[a], pos[b]) for a, b in pairs if a in pos and b in pos]
    sites = inputs.sites
    if "x" in sites and "y" in sites:
        xy = sites[["x", "y"]].reindex(ids).astype(float).fillna(0.0).to_numpy()
    else:
        xy = np.zeros((len(ids), 2))
    km = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) / 1000.0
    team_gbp, team_fte, by_role = team_cost_gbp(scenario, inputs.operating_model)
    cmin, cmax, budget_max = _count_band(scenario, spent_gbp, team_gbp)
    band = dict(population_min=loc.population.min, population_max=loc.population.max,
                contiguous=loc.contiguous, time_limit_s=time_limit_s, threads=threads,
                node_limit=node_limit)
    plan = plan_localities(population, pools, graph, km, count_min=cmin, count_max=cmax, **band)
    if plan.lead is None:
        problems = _why_no_teams(scenario, ids, population, pools, graph, km, cmin, cmax,
                                 budget_max, plan.status, band)
        return Teams(plan.status, problems=tuple(problems), seconds=plan.seconds)

    # name the teams: by pool, then by their first hub id
    teams: dict[int, list[int]] = {}
    for j, k in enumerate(plan.lead):
        teams.setdefault(int(k), []).append(j)
    order = sorted(teams, key=lambda k: (pools[k], min(ids[j] for j in teams[k])))
    npools = len(set(pools))
    served = assignment[assignment["share"] > 1e-9]
    areas_of = served.groupby(served["site_id"].astype(str))["area_id"].apply(
        lambda s: set(s.astype(str)))
    rows, hub_locality, counter = [], {}, {}
    for k in order:
        pool = pools[k]
        counter[pool] = counter.get(pool, 0) + 1
        name = f"{pool} {counter[pool]}" if npools > 1 or pool != "all" else \
            f"Locality {counter[pool]}"
        lid = f"L{len(rows) + 1:02d}"
        members = sorted(ids[j] for j in teams[k])
        areas = set().union(*(areas_of.get(s, set()) for s in members))
        rows.append({"locality_id": lid, "name": name, "pool": pool, "lead_hub": ids[k],
                     "hubs": len(members), "hub_ids": " ".join(members), "areas": len(areas),
                     "population": float(sum(population[j] for j in teams[k])),
                     "fte": team_fte, "cost": team_gbp})
        for s in members:
            hub_locality[s] = lid
    n = len(rows)
    return Teams(plan.status, pd.DataFrame(rows, columns=LOCALITY_COLUMNS),
                 pd.Series(hub_locality, name="locality", dtype=object),
                 fte_by_role={r: f * n for r, (f, _) in by_role.items()},
                 cost_by_role={r: c * n for r, (_, c) in by_role.items()}, seconds=plan.seconds)


def _why_no_teams(scenario, ids, population, pools, graph, km, cmin, cmax, budget_max,
                  status, band) -> list[Problem]:
    """Why the hubs of this plan form no teams, in words: a hub too large, a pool whose hubs
    cannot be grouped (with or without contiguity), or a count band the pools cannot meet."""
    from .solve.localities import plan_localities

    file = scenario.base_dir
    loc = scenario.localities
    pmin, pmax = loc.population.min, loc.population.max
    words = _band_words(pmin, pmax)
    if status == "no_solution":
        return [Problem(file, None, KEY, "no locality teams were found within the time limit",
                        "give the solver longer (--time-limit)")]
    out: list[Problem] = []
    for s, p in zip(ids, population, strict=True):
        if pmax is not None and p > pmax * (1 + 1e-9):
            out.append(Problem(file, None, f"{KEY}.population.max",
                               f"hub {s} serves {p:,.0f} people, more than a team may hold "
                               f"({pmax:,.0f})", "raise localities.population.max, or lower "
                               "hubs.population.max so that hubs fit in a team"))
    if out:
        return out
    ranges: dict[str, tuple[int, int]] = {}
    for pool in sorted(set(pools)):
        keep = [j for j, p in enumerate(pools) if p == pool]
        where = {j: i for i, j in enumerate(keep)}
        sub = dict(population=population[keep], pools=[pool] * len(keep),
                   edges=[(where[a], where[b]) for a, b in graph if a in where and b in where],
                   km=km[np.ix_(keep, keep)])
        few = plan_localities(**sub, **band)
        people = float(population[keep].sum())
        if few.lead is None:
            free = plan_localities(**sub, **{**band, "contiguous": False})
            if loc.contiguous and free.lead is not None:
                out.append(Problem(file, None, f"{KEY}.contiguous",
                                   f"pool {pool}: its {len(keep)} hubs ({people:,.0f} people) "
                                   f"can form teams of {words} only if a team's hubs need not "
                                   "touch", "widen localities.population, or set "
                                   "localities.contiguous: false"))
            else:
                out.append(Problem(file, None, f"{KEY}.population",
                                   f"pool {pool}: its {len(keep)} hubs ({people:,.0f} people; "
                                   f"hubs of {population[keep].min():,.0f}-"
                                   f"{population[keep].max():,.0f}) cannot be grouped whole "
                                   f"into teams of {words}", "widen localities.population"))
            continue
        most = plan_localities(**sub, **band, most=True)
        ranges[pool] = (few.teams, most.teams if most.lead is not None else few.teams)
    if out:
        return out
    low = sum(a for a, _ in ranges.values())
    high = sum(b for _, b in ranges.values())
    each = "; ".join(f"{p} {a}-{b}" for p, (a, b) in ranges.items())
    asked = f"{cmin}-{cmax}" if cmax is not None else f"at least {cmin}"
    if budget_max and cmax is not None and low > cmax:
        return [Problem(file, None, "budget.cap",
                        f"the hub plan leaves room in budget.cap for {cmax} teams' roles; the "
                        f"hubs form at least {low} teams of {words} ({each})",
                        "raise budget.cap, or widen localities.population")]
    return [Problem(file, None, f"{KEY}.count",
                    f"the plan's hubs form {low}-{high} teams of {words} ({each} by pool), "
                    f"and {asked} are asked for",
                    "change localities.count (or localities.population), or ask for more "
                    "hubs (hubs.count.min)")]


def _band_words(pmin, pmax) -> str:
    if pmin and pmax is not None:
        return f"{pmin:,.0f}-{pmax:,.0f} people"
    if pmin:
        return f"at least {pmin:,.0f} people"
    if pmax is not None:
        return f"at most {pmax:,.0f} people"
    return "any size"
