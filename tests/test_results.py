"""Results tables (mdtplan.results): the vectorised ``build_results`` equals the pandas one it
replaced, table for table (values, dtypes, column order, index) and in the summary."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from model import random_data, solve_data, tiny_data

from mdtplan import results
from mdtplan.errors import InfeasibleError
from mdtplan.model.index import index_data
from mdtplan.results import build_results
from mdtplan.solve import SolveStatus, tables_from_values

# ---------------------------------------------------------------------------------------------
# The reference: build_results as it was (pandas, one call per column), kept to compare against


def _reference_build_results(data, tables: dict[str, pd.DataFrame] | None, solve_result, *,
                  sites_geo: pd.DataFrame | None = None, warnings: list[str] | None = None,
                  ) -> results.Results:
    """The implementation before vectorisation (pandas, one call per column)."""
    status = getattr(solve_result.status, "value", str(solve_result.status))
    roles = data.roles
    weights = data.areas["population"].astype(float)
    demand_total = float(data.demand_hours.to_numpy().sum()) if data.demand_hours.size else 0.0
    timings = dict(getattr(solve_result, "timings", {}) or {})
    base = dict(
        name=data.name,
        status=status,
        objective=results._opt_float(solve_result.objective),
        objective_name=data.objective,
        mip_gap=results._opt_float(solve_result.mip_gap),
        solve_seconds=float(solve_result.solve_seconds or 0.0),
        budget_cap=data.budget_cap_gbp,
        demand_hours=demand_total,
        travel_unit=data.travel_unit,
        message=solve_result.message or "",
        stage_objectives=dict(getattr(solve_result, "stage_objectives", {}) or {}),
        timings=timings,
        warnings=list(warnings or []),
    )
    if tables is None:
        empty = pd.DataFrame()
        summary = results.Summary.from_dict(dict(
            total_cost=None, staff_cost=None, agency_cost=None, site_cost=None,
            cost_by_role={}, demand_met_share=None, unmet_hours_by_role={}, fte_by_role={},
            hubs_open=0, population_per_hub={}, travel={"mean": None, "max": None},
            geography={"staff_travel": bool(data.visits_per_demand_hour)
                       and "round_trip_hours" in data.pairs}, **base))
        return results.Results(empty, empty, empty, summary)

    assign = tables["assignment"].copy()
    assign = assign[assign["share"] > 1e-9]
    travel_lookup = data.pairs.set_index(["area_id", "site_id"])["travel_cost"]
    assign["travel_cost"] = travel_lookup.reindex(
        pd.MultiIndex.from_frame(assign[["area_id", "site_id"]])).to_numpy()
    assign = assign.sort_values(["area_id", "share"], ascending=[True, False],
                                ignore_index=True)

    hubs_open = tables["hubs"].loc[tables["hubs"]["open"].astype(bool), "site_id"].astype(str)
    served = assign.assign(w=assign["area_id"].map(weights).to_numpy() * assign["share"])
    pop_by_site = served.groupby("site_id")["w"].sum()
    areas_by_site = served.groupby("site_id")["area_id"].nunique()

    staffing = tables["staffing"].copy()
    if not staffing.empty:
        prod = staffing["role"].map(roles["productive_hours_per_fte"]).astype(float)
        cost = staffing["role"].map(roles["cost_gbp_per_fte"]).astype(float)
        premium = staffing["role"].map(roles["agency_premium"]).astype(float)
        staffing["capacity_hours"] = staffing["fte"] * prod
        staffing["staff_cost"] = staffing["fte"] * cost
        staffing["agency_cost"] = staffing["agency_fte"] * cost * premium
        staffing["cost"] = staffing["staff_cost"] + staffing["agency_cost"]
        staffing["mileage_gbp"] = staffing["mileage_miles"] * data.mileage_gbp_per_mile
        staffing = staffing[["unit", "role", "fte", "agency_fte", "demand_hours",
                             "capacity_hours", "unmet_hours", "cost", "staff_cost",
                             "agency_cost", "travel_hours", "mileage_miles", "mileage_gbp"]]
    else:
        staffing = pd.DataFrame(columns=["unit", "role", "fte", "agency_fte", "demand_hours",
                                         "capacity_hours", "unmet_hours", "cost", "staff_cost",
                                         "agency_cost", "travel_hours", "mileage_miles",
                                         "mileage_gbp"])

    sites = data.sites.loc[hubs_open]
    site_cost_each = sites["fixed_cost_gbp"].astype(float) + np.where(
        sites["status"].eq("candidate"), sites["opening_cost_gbp"].astype(float), 0.0)

    core = staffing[staffing["unit"].isin(hubs_open)]
    core_delivered = (core["demand_hours"] - core["unmet_hours"]).groupby(core["unit"]).sum()
    core_capacity = core["capacity_hours"].groupby(core["unit"]).sum()
    hubs = pd.DataFrame({"site_id": hubs_open.to_numpy()})
    hubs["name"] = hubs["site_id"].map(data.sites["name"]).astype(str)
    if sites_geo is not None and "lon" in sites_geo:
        hubs["lon"] = hubs["site_id"].map(sites_geo["lon"]).astype(float)
        hubs["lat"] = hubs["site_id"].map(sites_geo["lat"]).astype(float)
    else:
        hubs["lon"] = np.nan
        hubs["lat"] = np.nan
    hubs["status"] = hubs["site_id"].map(data.sites["status"])
    hubs["pool"] = hubs["site_id"].map(data.sites["pool"])
    hubs["population"] = hubs["site_id"].map(pop_by_site).fillna(0.0).astype(float)
    hubs["areas"] = hubs["site_id"].map(areas_by_site).fillna(0).astype(int)
    if len(core_capacity):
        util = core_delivered.reindex(hubs["site_id"]).to_numpy() / core_capacity.reindex(
            hubs["site_id"]).replace(0, np.nan).to_numpy()
    else:
        cap = hubs["site_id"].map(data.sites["capacity"]).astype(float)
        if cap.notna().any():
            util = (hubs["population"] / cap).to_numpy()
        elif data.hub_population_max:
            util = (hubs["population"] / data.hub_population_max).to_numpy()
        else:
            util = np.full(len(hubs), np.nan)
    hubs["utilisation"] = util
    hubs["fte"] = hubs["site_id"].map(core.groupby("unit")["fte"].sum()).fillna(0.0)
    hubs["site_cost"] = site_cost_each.reindex(hubs["site_id"]).to_numpy()
    # staff travel: each pair's visits a year x its round trip, by the share
    travel_on = bool(data.visits_per_demand_hour) and "round_trip_hours" in data.pairs
    if travel_on:
        visits = pd.Series(data.visits_per_demand_hour).reindex(
            data.demand_hours.columns).fillna(0.0)
        trips = assign["area_id"].map(data.demand_hours @ visits)
        pair = data.pairs.set_index(["area_id", "site_id"])
        key = pd.MultiIndex.from_frame(assign[["area_id", "site_id"]])
        th = trips * pair["round_trip_hours"].reindex(key).to_numpy() * assign["share"]
        tm = trips * pair["round_trip_miles"].reindex(key).to_numpy() * assign["share"]
        hubs["travel_hours"] = hubs["site_id"].map(th.groupby(assign["site_id"]).sum()).fillna(
            0.0).astype(float)
        hubs["mileage_gbp"] = hubs["site_id"].map(tm.groupby(assign["site_id"]).sum()).fillna(
            0.0).astype(float) * data.mileage_gbp_per_mile
    else:
        hubs["travel_hours"] = 0.0
        hubs["mileage_gbp"] = 0.0
    hubs = hubs.sort_values("site_id", ignore_index=True)

    # travel, weighted by population (or per area when weights are all zero)
    w = assign["area_id"].map(weights).to_numpy() * assign["share"].to_numpy()
    tc = assign["travel_cost"].to_numpy(dtype=float)
    travel_mean = float((w * tc).sum() / w.sum()) if w.sum() > 0 else (
        float(tc.mean()) if len(tc) else None)
    travel = {"mean": travel_mean, "max": float(tc.max()) if len(tc) else None}

    unmet_by_role = staffing.groupby("role")["unmet_hours"].sum().reindex(roles.index,
                                                                        fill_value=0.0)
    fte_by_role = staffing.groupby("role")["fte"].sum().reindex(roles.index, fill_value=0.0)
    cost_by_role = staffing.groupby("role")["cost"].sum().reindex(roles.index, fill_value=0.0)
    agency_by_role = staffing.groupby("role")["agency_cost"].sum().reindex(roles.index,
                                                                           fill_value=0.0)
    staff_cost = float(staffing["staff_cost"].sum())
    agency_cost = float(staffing["agency_cost"].sum())
    site_cost = float(site_cost_each.sum())
    unmet_total = float(unmet_by_role.sum())
    travel_hours = float(staffing["travel_hours"].sum())
    mileage_gbp = float(staffing["mileage_gbp"].sum())
    met_share = (1.0 - unmet_total / demand_total) if demand_total > 0 else None
    if travel_hours > 0 and demand_total > 0:
        need = staffing["demand_hours"] + staffing["travel_hours"]
        short = (staffing["unmet_hours"] / need.where(need > 0)).fillna(0.0)
        met_share = float((staffing["demand_hours"] * (1 - short)).sum()) / float(
            staffing["demand_hours"].sum())
    pph = hubs["population"]
    # the summary.json keys it had, read into the typed Summary
    summary = results.Summary.from_dict(dict(
        total_cost=staff_cost + agency_cost + site_cost + mileage_gbp,
        mileage_cost=mileage_gbp,
        geography={"staff_travel": travel_on, "travel_hours": travel_hours,
                   "mileage_miles": float(staffing["mileage_miles"].sum()),
                   "mileage_gbp": mileage_gbp},
        staff_cost=staff_cost,
        agency_cost=agency_cost,
        site_cost=site_cost,
        cost_by_role={k: float(v) for k, v in cost_by_role.items()},
        agency_cost_by_role={k: float(v) for k, v in agency_by_role.items()},
        demand_met_share=met_share,
        unmet_hours_by_role={k: float(v) for k, v in unmet_by_role.items()},
        fte_by_role={k: float(v) for k, v in fte_by_role.items()},
        hubs_open=int(len(hubs)),
        population_per_hub=({"min": float(pph.min()), "median": float(pph.median()),
                             "max": float(pph.max())} if len(pph) else {}),
        travel=travel,
        **base,
    ))
    return results.Results(hubs=hubs, assignment=assign, staffing=staffing, summary=summary)

# ---------------------------------------------------------------------------------------------
# Comparing


#: columns added with staff travel: summed in another order than the reference's
_SUMMED = ["travel_hours", "mileage_gbp"]


def _same(new: results.Results, old: results.Results) -> None:
    for name in ("hubs", "assignment", "staffing"):
        a, b = getattr(new, name), getattr(old, name)
        if name == "hubs":  # each hub's share of demand met came after the reference (issue 18)
            a = a.drop(columns="demand_met_share", errors="ignore")
            if "pool" in b:  # a hub's pool from its areas (no pool column) came after it too
                kept = b["pool"].notna().to_numpy()
                assert (a["pool"].to_numpy()[kept] == b["pool"].to_numpy()[kept]).all()
                a = a.assign(pool=b["pool"].array)
        if name == "staffing" and "lever_hours" not in b:  # levers came after it (issue 19)
            a = a.drop(columns="lever_hours", errors="ignore")
        assert [str(t) for t in a.dtypes] == [str(t) for t in b.dtypes], name
        if name == "hubs" and len(a.columns):
            pd.testing.assert_frame_equal(a[_SUMMED], b[_SUMMED], check_exact=False,
                                          rtol=1e-12, obj=name)
            a, b = a.drop(columns=_SUMMED), b.drop(columns=_SUMMED)
        pd.testing.assert_frame_equal(a, b, check_exact=True, check_index_type=True,
                                      check_column_type=True, obj=name)
        assert [str(t) for t in a.dtypes] == [str(t) for t in b.dtypes], name
    # the geography block's map figures are new with issue 18 (tests/test_geography.py checks
    # them) ...
    if len(new.hubs):
        assert new.summary.geography.share_areas_at_nearest_open_hub is not None
    # ... and so is the report's stages list (tests/test_solve.py checks it)
    geo = old.summary.geography
    # ... and the shortfall block (max_demand_met), and the report's assignment_relaxed
    # (issue 22; tests/model/test_relax.py checks it)
    plain = replace(new.summary, report=replace(new.summary.report, stages=(),
                                                assignment_relaxed=None), shortfall=None,
                    geography=None if new.summary.geography is None else replace(
                        new.summary.geography, **{f: getattr(geo, f, None) for f in (
                            "pieces_per_catchment", "catchments_in_pieces",
                            "share_areas_at_nearest_open_hub", "hubs_not_serving_own_area",
                            "min_hub_separation_km", "closest_hubs")}))
    x, y = asdict(plain), asdict(old.summary)
    mx, my = x["demand"].pop("met_share"), y["demand"].pop("met_share")
    assert (mx is None) == (my is None) and (mx is None or abs(mx - my) <= 1e-12)
    assert repr(x) == repr(y)


def _report(status=SolveStatus.optimal):
    return SimpleNamespace(status=status, objective=1.5, mip_gap=0.0, solve_seconds=0.25,
                           message="optimal", stage_objectives={"cost_gbp": 1.5},
                           timings={"highs_s": 0.1})


def _both(data, tables, **kw):
    _same(build_results(data, tables, _report(), **kw),
          _reference_build_results(data, tables, _report(), **kw))


def _relabelled(data, rng):
    """``data`` with awkward ids (non-ASCII, mixed case, digits that sort as text) and its
    pairs shuffled."""
    pool = ["É1", "a10", "A2", "z", "Ä", "a9", "B", "b", "10", "9", "ñ", "Z0", "é", "_x", "ß"]
    areas = {a: f"{pool[i % len(pool)]}{'_' * (i // len(pool))}"
             for i, a in enumerate(rng.permutation(data.areas.index))}
    sites = {s: f"s{pool[i % len(pool)]}{'.' * (i // len(pool))}"
             for i, s in enumerate(rng.permutation(data.sites.index))}
    pairs = data.pairs.assign(area_id=data.pairs["area_id"].map(areas),
                              site_id=data.pairs["site_id"].map(sites))
    pairs = pairs.iloc[rng.permutation(len(pairs))].reset_index(drop=True)
    return replace(data, areas=data.areas.rename(index=areas),
                   demand_hours=data.demand_hours.rename(index=areas),
                   sites=data.sites.rename(index=sites), pairs=pairs)


def _random_tables(data, rng):
    """Tables of a random (not necessarily feasible) plan, made as a session makes them."""
    ix = index_data(data)
    n, k = len(ix.pairs), len(ix.staff)
    share = rng.choice([0.0, 0.0, 1e-10, 0.25, 0.5, 1.0], n)
    fractional = rng.random(n) < 0.4
    share[fractional] = rng.random(fractional.sum())
    values = {"assign": share, "open_site": (rng.random(len(ix.site_ids)) < 0.6).astype(float),
              "fte_steps": rng.integers(0, 6, k).astype(float),
              "agency_fte": rng.random(k) * (rng.random(k) < 0.5),
              "unmet_hours": rng.random(k) * 100 * (rng.random(k) < 0.3)}
    return tables_from_values(ix, data, values, float(rng.choice([1.0, 1.3])))


def _geo(data, rng, kind):
    if kind == "none":
        return None
    sites = data.sites.index
    geo = pd.DataFrame({"lon": rng.random(len(sites)), "lat": rng.random(len(sites))},
                       index=sites)
    if kind == "no lon":
        return geo.drop(columns="lon")
    if kind == "one missing":
        return geo.iloc[1:]
    return geo


CASES = [(seed, n_roles, assignment, geo)
         for seed in range(8) for n_roles, assignment, geo in
         [(0, "split", "all"), (0, "single", "none"), (1, "split", "one missing"),
          (2, "single", "no lon"), (3, "split", "all")]]


@pytest.mark.parametrize("seed,n_roles,assignment,geo", CASES)
def test_random_plans_tabulate_as_before(seed, n_roles, assignment, geo):
    rng = np.random.default_rng(seed)
    data = random_data(rng, n_areas=int(rng.integers(3, 40)), n_sites=int(rng.integers(2, 12)),
                       n_roles=n_roles, objective="min_cost", assignment=assignment,
                       band=bool(seed % 2), budget=False, count=False,
                       capacity=bool(seed % 3), supply=False, reach=None)
    if seed % 2:
        data = _relabelled(data, rng)
    if seed % 4 == 3:  # a NaN cost, an existing site, a missing name
        sites = data.sites.copy()
        sites.iloc[0, sites.columns.get_loc("opening_cost_gbp")] = np.nan
        sites.iloc[-1, sites.columns.get_loc("status")] = "existing"
        sites["name"] = sites["name"].astype(object)
        sites.iloc[0, sites.columns.get_loc("name")] = None
        data = replace(data, sites=sites)
    tables = _random_tables(data, rng)
    _both(data, tables, sites_geo=_geo(data, rng, geo), warnings=["w"])


def test_no_hub_open_and_no_plan():
    data = tiny_data()
    ix = index_data(data)
    tables = tables_from_values(ix, data, {
        "assign": np.zeros(len(ix.pairs)), "open_site": np.zeros(len(ix.site_ids)),
        "fte_steps": np.zeros(len(ix.staff)), "agency_fte": np.zeros(len(ix.staff)),
        "unmet_hours": np.zeros(len(ix.staff))}, 1.0)
    _both(data, tables)
    _both(data, None)
    _both(replace(data, hub_population_max=40_000.0), tables)


@pytest.mark.parametrize("changes", [{}, {"assignment": "split", "objective": "min_travel"},
                                     {"objective": "max_demand_met",
                                      "budget_cap_gbp": 480_000.0}])
def test_solved_plans_tabulate_as_before(changes):
    data = tiny_data(**changes)
    result, tables, _ = solve_data(data)
    assert result.has_solution
    _same(build_results(data, tables, result), _reference_build_results(data, tables, result))


def test_solved_random_plans_tabulate_as_before():
    for seed in range(4):
        rng = np.random.default_rng(50 + seed)
        data = random_data(rng, n_areas=12, n_sites=5, n_roles=seed % 4, objective="min_cost",
                           assignment=("single", "split")[seed % 2], band=False, budget=False,
                           count=True, capacity=seed % 2 == 1, supply=False, reach=None)
        try:
            result, tables, _ = solve_data(data)
        except InfeasibleError:
            continue
        if result.has_solution:
            _same(build_results(data, tables, result),
                  _reference_build_results(data, tables, result))


def test_a_pair_named_twice_is_refused_as_before():
    data = tiny_data()
    tables = _random_tables(data, np.random.default_rng(0))
    twice = replace(data, pairs=pd.concat([data.pairs, data.pairs.iloc[:1]], ignore_index=True))
    with pytest.raises(ValueError, match="non-unique multi-index"):
        _reference_build_results(twice, tables, _report())
    with pytest.raises(ValueError, match="non-unique multi-index"):
        build_results(twice, tables, _report())



def test_hubs_carry_the_pool_of_the_areas_they_serve(tmp_path):
    """Pools by area group (Kent's East and West): hubs.csv's ``pool`` says each hub's pool
    (it was empty when the sites have no pool column)."""
    import yaml

    from mdtplan import pipeline
    from mdtplan.scenario import load_scenario

    repo = Path(__file__).resolve().parents[1]
    model = yaml.safe_load((repo / "models" / "default.yaml").read_text())
    model["pools"] = {"by": "area_group", "groups": {"West": ["Greystow"], "East": ["Dunmere"]}}
    path = tmp_path / "pooled.yaml"
    path.write_text(yaml.safe_dump(model))
    scenario = load_scenario(repo / "examples" / "demo.yaml", [
        f"operating_model={path}", "finance=null", "budget.cap=null",
        "areas.where={district: [Greystow, Dunmere]}", "hubs.count.min=null",
        "hubs.count.max=null", "hubs.count.exactly=2", "hubs.population.min=null",
        "hubs.population.max=null", "hubs.max_travel_minutes=90", "solver.time_limit_s=10",
        "solver.mip_gap=0.05", "solver.threads=1", "objective=min_cost"])
    result = pipeline.run(scenario)
    hubs, assign = result.results.hubs, result.results.assignment
    assert len(hubs) == 2 and set(hubs["pool"]) <= {"West", "East"}
    district = result.prepared.inputs.areas["group"]
    for hub, pool in zip(hubs["site_id"], hubs["pool"], strict=True):
        served = assign.loc[assign["site_id"] == hub, "area_id"].astype(str)
        groups = district.reindex(served).map({"Greystow": "West", "Dunmere": "East"})
        assert pool == groups.mode().iloc[0]
