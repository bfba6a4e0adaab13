"""Contiguous catchments (``hubs.contiguous``): hand-sized instances whose contiguous optimum
differs from the unconstrained one, the checks before solving, both builds the same problem, and
a property test that every solved plan is in one piece per hub.

The row: five unit areas A0..A4 side by side (A0 touches A1, A1 touches A2, ...); S1 stands in A0,
S2 in A4; both open (exactly two hubs); least travel::

    travel   A0  A1  A2  A3  A4
    S1        1   5   2  10  10
    S2       10   2   4   1   1

Unconstrained: A1 goes to S2 and A2 to S1, 1 + 2 + 2 + 1 + 1 = 7, and both catchments are in two
pieces. Contiguous, S1 holds A0..Ak: k = 0 costs 1 + 2 + 4 + 1 + 1 = 9, k = 1 costs 13, k = 2
costs 10, k = 3 costs 19: the optimum is 9, S1 = {A0}, S2 = {A1, A2, A3, A4}.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from checker import check_plan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdtplan.adjacency import catchment_pieces
from mdtplan.errors import InfeasibleError, ModelError
from mdtplan.model.build import build_model
from mdtplan.model.checks import check_data
from mdtplan.model.data import ModelData, empty_roles
from mdtplan.solve import SolveStatus, compile_differences

from . import solve_data

TRAVEL = {"S1": [1, 5, 2, 10, 10], "S2": [10, 2, 4, 1, 1]}


def row_data(contiguous: bool, travel=TRAVEL, own=("A0", "A4"), links=(), **changes):
    ids = [f"A{i}" for i in range(len(next(iter(travel.values()))))]
    areas = pd.DataFrame({"population": 1.0, "group": pd.array([pd.NA] * len(ids),
                                                                dtype="string")},
                         index=pd.Index(ids, name="area_id"))
    site_ids = list(travel)
    sites = pd.DataFrame({
        "name": site_ids, "status": "candidate", "fixed_cost_gbp": 0.0, "opening_cost_gbp": 0.0,
        "capacity": np.nan, "capacity_fte": np.nan,
        "pool": pd.array([pd.NA] * len(site_ids), dtype="string"),
        "area_id": pd.array(list(own), dtype="string")},
        index=pd.Index(site_ids, name="site_id"))
    pairs = pd.DataFrame([{"area_id": a, "site_id": s, "travel_cost": float(t), "pool": pd.NA}
                          for s, ts in travel.items() for a, t in zip(ids, ts, strict=True)
                          if t is not None])
    pairs["pool"] = pairs["pool"].astype("string")
    edges = pd.DataFrame([(ids[i], ids[i + 1]) for i in range(len(ids) - 1)] + list(links),
                         columns=["area_a", "area_b"]).assign(kind="boundary")
    data = ModelData(name="row", areas=areas, demand_hours=pd.DataFrame(index=areas.index),
                     sites=sites, pairs=pairs, roles=empty_roles(), objective="min_travel",
                     assignment="single", hub_count_min=len(site_ids),
                     hub_count_max=len(site_ids), serve_own_area=True, contiguous=contiguous,
                     edges=edges if contiguous else None)
    return replace(data, **changes) if changes else data


def catchments(tables) -> dict:
    a = tables["assignment"]
    a = a[a["share"] > 1e-6]
    return {s: sorted(g["area_id"]) for s, g in a.groupby("site_id")}


@pytest.mark.parametrize(("contiguous", "travel", "plan"), [
    (False, 7.0, {"S1": ["A0", "A2"], "S2": ["A1", "A3", "A4"]}),
    (True, 9.0, {"S1": ["A0"], "S2": ["A1", "A2", "A3", "A4"]}),
])
def test_contiguity_changes_the_optimum_on_a_row(contiguous, travel, plan):
    data = row_data(contiguous)
    result, tables, _ = solve_data(data)
    assert result.status == SolveStatus.optimal
    assert result.objective == pytest.approx(travel)
    assert catchments(tables) == plan
    assert check_plan(data, tables) == []


def test_the_checker_sees_a_catchment_in_pieces():
    _, tables, _ = solve_data(row_data(False))
    data = row_data(True)
    found = check_plan(data, tables)
    assert any("S1's catchment is in pieces" in v for v in found)
    assert any("S2's catchment is in pieces" in v for v in found)
    assert catchment_pieces(tables["assignment"], data.edges).to_dict() == {"S1": 2, "S2": 2}


def test_a_link_makes_a_ferry_neighbour():
    # ferries A0-A2 and A1-A3: the unconstrained plan is contiguous again (7); one ferry is
    # not enough (S2's A1 would still be apart from A3 and A4)
    assert solve_data(row_data(True, links=[("A0", "A2")]))[0].objective == pytest.approx(9.0)
    data = row_data(True, links=[("A0", "A2"), ("A1", "A3")])
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(7.0)
    assert catchments(tables)["S1"] == ["A0", "A2"]
    assert check_plan(data, tables) == []


def test_a_hub_without_an_own_area_grows_from_its_nearest_area():
    # S1 stands in no area: its catchment grows from A0, its least-travel area (same optimum)
    data = row_data(True, own=(pd.NA, "A4"))
    result, tables, _ = solve_data(data)
    assert result.objective == pytest.approx(9.0)
    assert catchments(tables)["S1"] == ["A0"]
    assert check_plan(data, tables) == []


def test_split_assignment_is_refused_with_contiguity():
    # a hub serving a sliver of an area to reach the next is no patch on a map
    with pytest.raises(ModelError) as err:
        check_data(row_data(True, assignment="split"))
    assert "hubs.assignment" in str(err.value) and "hubs.contiguous" in str(err.value)


@pytest.mark.parametrize("assignment", ["single", "split"])
def test_the_direct_build_has_the_same_rows(assignment):
    model = build_model(row_data(True, assignment=assignment), check=False)
    assert model.component("catchment_contiguous") is not None
    assert len(model.contiguity_flow) == 2 * (2 * 4 - 1)  # per hub: arcs both ways, none into its root
    assert compile_differences(model) == []


def test_an_area_no_hub_can_reach_contiguously_is_refused_before_solving():
    # A2 may go to S1 only, but S1 may not serve A1, the one way from A0 to A2
    travel = {"S1": [1, None, 2, None, None], "S2": [10, 2, None, 1, 1]}
    data = row_data(True, travel=travel)
    with pytest.raises(InfeasibleError) as err:
        check_data(data)
    text = str(err.value)
    assert "A2" in text and "hubs.contiguous" in text
    check_data(row_data(False, travel=travel))  # without the rule it is not refused


# -- every solved plan is contiguous ------------------------------------------------------------

@st.composite
def grids(draw):
    """A random grid of areas (rook neighbours), two or three sites standing in random cells,
    random populations and a population band."""
    w = draw(st.integers(2, 4))
    h = draw(st.integers(2, 3))
    n = w * h
    ids = [f"A{i}" for i in range(n)]
    xy = [(i % w, i // w) for i in range(n)]
    k = draw(st.integers(2, 3))
    cells = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k, unique=True))
    sxy = [(xy[c][0] + draw(st.floats(-0.4, 0.4)), xy[c][1] + draw(st.floats(-0.4, 0.4)))
           for c in cells]
    pop = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
    travel = {f"S{j}": [round(float(np.hypot(x - sx, y - sy)) * 10, 1) for x, y in xy]
              for j, (sx, sy) in enumerate(sxy)}
    data = row_data(True, travel=travel, own=[ids[c] for c in cells])
    edges = pd.DataFrame([(ids[i], ids[j]) for i in range(n) for j in range(i + 1, n)
                          if abs(xy[i][0] - xy[j][0]) + abs(xy[i][1] - xy[j][1]) == 1],
                         columns=["area_a", "area_b"]).assign(kind="boundary")
    areas = data.areas.assign(population=np.asarray(pop, float))
    total = float(sum(pop))
    band = draw(st.booleans())
    return replace(data, areas=areas, edges=edges, hub_count_min=1,
                   hub_population_min=0.2 * total if band else None,
                   hub_population_max=0.7 * total if band else None)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids())
def test_every_solved_plan_is_contiguous(data):
    try:
        result, tables, _ = solve_data(data, time_limit_s=20.0)
    except InfeasibleError:
        return
    if tables is None:
        return
    assert check_plan(data, tables) == []
    open_hubs = tables["assignment"].query("share > 1e-6")["site_id"].unique()
    pieces = catchment_pieces(tables["assignment"], data.edges, sites=open_hubs)
    assert (pieces == 1).all()


@pytest.mark.parametrize("name", ["demo", "kent", "leicestershire", "medway", "york"])
def test_every_council_example_and_the_demo_ask_for_contiguous_catchments(repo_root, name):
    from mdtplan.scenario import load_scenario

    scenario = load_scenario(repo_root / "examples" / f"{name}.yaml")
    assert scenario.hubs.contiguous and scenario.hubs.assignment == "single"


@pytest.mark.parametrize("contiguous", [True, False])
def test_the_root_lp_is_dual_simplex_when_catchments_are_contiguous(contiguous):
    # interior point is 1.9-10x slower on the flow columns (docs/benchmarks.md, "Root LP")
    from mdtplan.solve.highs import IPM_ROOT_ROWS, root_lp_solver
    from mdtplan.solve.session import Session
    from mdtplan.solve.stages import _root_lp
    from mdtplan.solve.status import SolveOptions

    assert root_lp_solver(True, IPM_ROOT_ROWS, contiguous=False) == "ipm"
    assert root_lp_solver(True, IPM_ROOT_ROWS, contiguous=True) == "choose"
    assert root_lp_solver(False, 10 * IPM_ROOT_ROWS) == "choose"  # p-median: simplex
    session = Session.from_data(row_data(contiguous), SolveOptions(time_limit_s=5))
    assert session.has_constraint("catchment_contiguous") == contiguous
    assert _root_lp(session) == "choose"  # a small model, staffed or not


def test_the_start_splits_a_hub_over_the_band_with_a_site_inside_its_catchment():
    """Six areas in a row of one person each, at most four people a hub: S1 (in A0) holding
    A0..A4 is over the band and hemmed in by S3 (in A5); the start's repair opens S2, which
    stands in A2 inside S1's catchment, and grows the two over it again: no one is outside
    the band, and both catchments are in one piece."""
    from mdtplan.solve.start import StartInput
    from mdtplan.solve.start.contiguity import all_connected
    from mdtplan.solve.start.instance import _instance, _Work
    from mdtplan.solve.start.moves import _Search
    from mdtplan.solve.start.search import _split_or_merge

    travel = {"S1": [0, 1, 2, 3, 4, 5], "S2": [2, 1, 0, 1, 2, 3], "S3": [5, 4, 3, 2, 1, 0]}
    data = row_data(True, travel=travel, own=("A0", "A2", "A5"), hub_count_min=1,
                    hub_count_max=3, hub_population_max=4.0)
    inst = _instance(StartInput.of_model(build_model(data)))
    is_open = np.array([True, False, True])
    chosen = np.array([0, 0, 0, 0, 0, 2])
    start = _Search(inst, is_open, chosen, None, _Work(1.0))
    assert start.totals()[0] == pytest.approx(1.0)  # S1 holds five people, one too many
    best, key = _split_or_merge(inst, start, start.totals(), _Work(1.0), 1, 3)
    assert key[0] == 0 and best.is_open.tolist() == [True, True, True]
    assert all_connected(best.chosen, best.is_open, inst.root, inst.nbr_ptr, inst.nbr)
    assert (np.bincount(best.chosen, minlength=3) <= 4).all()
