"""Tiny hand-solvable fixtures for the model tests (3 areas, 2 sites, 2 roles).

The base instance, whose optima the tests work out on paper::

    areas      population   sw demand [h/yr]   ot demand [h/yr]
    A1             10,000              1,000                500
    A2             20,000              2,000              1,000
    A3             30,000              3,000              1,500

    travel [minutes]    S1    S2
    A1                   5    20
    A2                  10    10
    A3                  25     5

    roles   kind         cost/FTE   productive h/FTE   min FTE/hub   step
    sw      core          50,000              1,000            1.0    1.0
    ot      specialist    60,000              1,000            0.0    0.5   (one pool "all")

    sites S1, S2: candidate, fixed cost 100,000 each, no capacity.

Staff needed for all demand: sw 6 FTE (300,000), ot 3 FTE (180,000), so one hub costs
580,000 and two hubs 680,000 (each hub still needs its 1 sw minimum, met by its own demand).
Population-weighted travel: S1 alone 1,000,000; S2 alone 550,000.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from mdtplan.model.data import ModelData, SupervisionRule, empty_roles


def roles_frame(rows: list[dict]) -> pd.DataFrame:
    base = {"agency_premium": 0.0, "min_fte_per_hub": 0.0, "fte_step": 0.5,
            "max_agency_share": 1.0}
    return pd.DataFrame([{**base, **r} for r in rows]).set_index("role_id")


def tiny_data(**changes) -> ModelData:
    """The base instance above, with any ModelData field replaced by ``changes``."""
    areas = pd.DataFrame({"population": [10_000.0, 20_000.0, 30_000.0],
                          "group": pd.array([pd.NA] * 3, dtype="string")},
                         index=pd.Index(["A1", "A2", "A3"], name="area_id"))
    demand = pd.DataFrame({"sw": [1000.0, 2000.0, 3000.0], "ot": [500.0, 1000.0, 1500.0]},
                          index=areas.index)
    sites = pd.DataFrame({
        "name": ["S1", "S2"], "status": ["candidate", "candidate"],
        "fixed_cost_gbp": [100_000.0, 100_000.0], "opening_cost_gbp": [0.0, 0.0],
        "capacity": [np.nan, np.nan], "capacity_fte": [np.nan, np.nan],
        "pool": pd.array([pd.NA, pd.NA], dtype="string"),
    }, index=pd.Index(["S1", "S2"], name="site_id"))
    travel = {("A1", "S1"): 5.0, ("A1", "S2"): 20.0, ("A2", "S1"): 10.0, ("A2", "S2"): 10.0,
              ("A3", "S1"): 25.0, ("A3", "S2"): 5.0}
    pairs = pd.DataFrame([{"area_id": a, "site_id": s, "travel_cost": t, "pool": "all"}
                          for (a, s), t in travel.items()])
    pairs["pool"] = pairs["pool"].astype("string")
    roles = roles_frame([
        {"role_id": "sw", "name": "Social worker", "kind": "core", "cost_gbp_per_fte": 50_000.0,
         "productive_hours_per_fte": 1000.0, "min_fte_per_hub": 1.0, "fte_step": 1.0},
        {"role_id": "ot", "name": "Occupational therapist", "kind": "specialist",
         "cost_gbp_per_fte": 60_000.0, "productive_hours_per_fte": 1000.0, "fte_step": 0.5},
    ])
    data = ModelData(name="tiny", areas=areas, demand_hours=demand, sites=sites, pairs=pairs,
                     roles=roles, objective="min_cost", assignment="single")
    return replace(data, **changes) if changes else data


def with_sites(data: ModelData, **columns) -> ModelData:
    """``data`` with site columns replaced, e.g. ``capacity_fte=[np.nan, 5]``."""
    sites = data.sites.copy()
    for col, values in columns.items():
        sites[col] = values
    return replace(data, sites=sites)


def with_roles(data: ModelData, **columns) -> ModelData:
    """``data`` with role columns replaced by {role: value} dicts."""
    roles = data.roles.copy()
    for col, values in columns.items():
        for r, v in values.items():
            roles.loc[r, col] = v
    return replace(data, roles=roles)


def add_team_manager(data: ModelData, ratio: float = 4.0) -> ModelData:
    """Add a core role ``tm`` (70,000/FTE, step 0.5, no minimum) supervising ``sw``."""
    roles = pd.concat([data.roles, roles_frame([
        {"role_id": "tm", "name": "Team manager", "kind": "core", "cost_gbp_per_fte": 70_000.0,
         "productive_hours_per_fte": 1000.0, "fte_step": 0.5}])])
    demand = data.demand_hours.copy()
    demand["tm"] = 0.0
    return replace(data, roles=roles, demand_hours=demand,
                   supervision=(SupervisionRule("tm", ("sw",), ratio),))


def no_roles(data: ModelData) -> ModelData:
    return replace(data, roles=empty_roles(), demand_hours=pd.DataFrame(index=data.areas.index))


def random_data(rng: np.random.Generator, *, n_areas: int, n_sites: int, n_roles: int,
                objective: str, assignment: str, band: bool, budget: bool, count: bool,
                capacity: bool, supply: bool, reach: float | None) -> ModelData:
    """A random small instance (for property tests); may be infeasible."""
    areas_ids = [f"A{i}" for i in range(n_areas)]
    site_ids = [f"S{j}" for j in range(n_sites)]
    pop = rng.integers(1, 10, n_areas).astype(float) * 1000
    areas = pd.DataFrame({"population": pop,
                          "group": pd.array(rng.choice(["g1", "g2"], n_areas), dtype="string")},
                         index=pd.Index(areas_ids, name="area_id"))
    xy_a = rng.random((n_areas, 2)) * 30
    xy_s = rng.random((n_sites, 2)) * 30
    dist = np.sqrt(((xy_a[:, None, :] - xy_s[None, :, :]) ** 2).sum(-1)).round(1)
    rows = [{"area_id": a, "site_id": s, "travel_cost": float(dist[i, j])}
            for i, a in enumerate(areas_ids) for j, s in enumerate(site_ids)
            if reach is None or dist[i, j] <= reach or j == int(np.argmin(dist[i]))]
    pairs = pd.DataFrame(rows)
    roles_rows = []
    kinds = ["core", "specialist", "core"]
    for k in range(n_roles):
        roles_rows.append({"role_id": f"r{k}", "name": f"r{k}", "kind": kinds[k],
                           "cost_gbp_per_fte": float(rng.integers(30, 70) * 1000),
                           "agency_premium": float(rng.choice([0.0, 0.5])),
                           "productive_hours_per_fte": 1000.0,
                           "min_fte_per_hub": float(rng.choice([0.0, 0.5, 1.0])) if kinds[k]
                           == "core" else 0.0,
                           "fte_step": float(rng.choice([0.5, 1.0])),
                           "max_agency_share": float(rng.choice([0.0, 0.3, 1.0]))})
    roles = roles_frame(roles_rows) if roles_rows else empty_roles()
    demand = pd.DataFrame({r: pop * rng.uniform(0.02, 0.2) for r in roles.index},
                          index=areas.index)
    status = rng.choice(["candidate", "candidate", "existing", "required"], n_sites)
    status[0] = "candidate"
    cap = rng.integers(5, 30, n_sites).astype(float) * 1000 if capacity else np.full(n_sites,
                                                                                        np.nan)
    sites = pd.DataFrame({
        "name": site_ids, "status": status,
        "fixed_cost_gbp": rng.integers(0, 5, n_sites).astype(float) * 20_000,
        "opening_cost_gbp": rng.integers(0, 3, n_sites).astype(float) * 10_000,
        "capacity": cap, "capacity_fte": np.where(rng.random(n_sites) < 0.3, 8.0, np.nan),
        "pool": pd.array(rng.choice(["east", "west"], n_sites), dtype="string"),
    }, index=pd.Index(site_ids, name="site_id"))
    pairs["pool"] = pairs["site_id"].map(sites["pool"]).astype("string")
    supply_fte = {r: float(rng.integers(1, 6)) for r in roles.index} if supply else {}
    total = float(pop.sum())
    # staff travel in about half the instances, from a generator of its own (the draws of
    # ``rng`` are those of the instances before staff travel)
    side = np.random.default_rng(int(pop.sum()) * 31 + n_areas * 7 + n_sites)
    visits: dict = {}
    if len(roles) and side.random() < 0.5:
        pairs["round_trip_hours"] = 2.0 * pairs["travel_cost"] / 60.0
        pairs["round_trip_miles"] = 2.0 * pairs["travel_cost"] * 0.5
        visits = {r: float(side.choice([0.0, 0.1, 0.35])) for r in roles.index}
    mileage = float(side.choice([0.0, 0.45])) if visits else 0.0
    return ModelData(
        name="random", areas=areas, demand_hours=demand, sites=sites, pairs=pairs, roles=roles,
        supply_fte=supply_fte,
        supervision=((SupervisionRule("r2", ("r0",), 3.0),) if n_roles >= 3 else ()),
        hub_count_min=1 if count else 0, hub_count_max=(max(2, n_sites - 1) if count else None),
        hub_population_min=(total / n_sites / 3 if band else None),
        hub_population_max=(total / 1.5 if band else None),
        budget_cap_gbp=(float(rng.integers(2, 20)) * 100_000 if budget else None),
        assignment=assignment, objective=objective,
        travel_cost_gbp_per_unit=float(rng.choice([0.0, 1.0])),
        travel_weight_by_population=bool(rng.random() < 0.5),
        max_travel=float(pairs["travel_cost"].max()) if reach is not None else None,
        visits_per_demand_hour=visits, mileage_gbp_per_mile=mileage,
    )


def solve_data(data: ModelData, **options):
    """Build, solve (gap 0 unless given) and extract: (result, tables or None, model)."""
    from mdtplan.model.build import build_model
    from mdtplan.solve import SolveOptions, extract_tables, solve

    model = build_model(data)
    opts = {"mip_gap": 0.0, "time_limit_s": 60.0, "threads": 1, **options}
    result = solve(model, data, SolveOptions(**opts))
    tables = extract_tables(model, data) if result.has_solution else None
    return result, tables, model


def with_levers(data: ModelData, levers: dict) -> ModelData:
    """``data`` with levers: ``{lever_id: {"cohort": [per area], "hours": {role: h},
    "saving": gbp per person, "share": max share}}``."""
    from mdtplan.model.data import LeverData

    ids = list(levers)
    cohort = pd.DataFrame({k: v["cohort"] for k, v in levers.items()}, index=data.areas.index)
    hours = pd.DataFrame([{r: float(v.get("hours", {}).get(r, 0.0)) for r in data.roles.index}
                          for v in levers.values()], index=ids)
    return replace(data, levers=LeverData(
        cohort=cohort, hours=hours,
        saving_gbp=pd.Series({k: float(v["saving"]) for k, v in levers.items()}),
        max_share=pd.Series({k: float(v["share"]) for k, v in levers.items()})))
