"""The compare and sweep pages in process: the comparison's figures and differences, what
changed between two plans and the map's colours; the sweep form's grid, its variant count and
limit, who may make a sweep, a sweep's page and its frontier chart.
(In Chromium: tests/test_browser_compare_sweep.py.)"""

from __future__ import annotations

import re
from html import unescape

import geopandas as gpd
import pandas as pd
import pytest
from service_helpers import make_service
from shapely.geometry import box

from api.web import compare, sweeps
from api.web.frontier_chart import (
    BOTTOM,
    HEIGHT,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    Point,
    Series,
    frontier_svg,
)

SUMMARY_A = {
    "name": "plan A", "status": "optimal", "total_cost": 20_000_000.0, "budget_cap": 22_000_000.0,
    "demand_met_share": 0.95, "hubs_open": 10, "travel": {"mean": 18.0, "max": 30.0},
    "travel_unit": "minutes", "fte_by_role": {"social_worker": 100.0, "occupational_therapist": 20.0},
    "savings": {"total": {"baseline_gbp": 19e6, "scenario_gbp": 20e6, "saving_gbp": -1_000_000.0}},
    "finance": {"model_savings": {"total": {"low": 1e5, "most_likely": 500_000.0, "high": 9e5}},
                "net_of_investment": {"low": 0.0, "most_likely": 100_000.0, "high": 3e5}},
}
SUMMARY_B = {
    "name": "plan B", "status": "feasible_at_limit", "total_cost": 21_500_000.0,
    "budget_cap": 22_000_000.0, "demand_met_share": 0.975, "hubs_open": 12,
    "travel": {"mean": 16.5, "max": 28.0}, "travel_unit": "minutes",
    "fte_by_role": {"social_worker": 110.0, "occupational_therapist": 18.0, "care_navigator": 5.0},
    "savings": {"total": {"baseline_gbp": 19e6, "scenario_gbp": 21.5e6, "saving_gbp": -2_500_000.0}},
    "finance": {"model_savings": {"total": {"low": 2e5, "most_likely": 650_000.0, "high": 1e6}},
                "net_of_investment": {"low": 1e5, "most_likely": 250_000.0, "high": 4e5}},
}


def _sign_in(c, key):
    r = c.post("/signin", data={"key": key, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _finish(store, job, summary, status="finished"):
    """Run ``job`` to its end with ``summary`` (the store's own life cycle: claim, finish)."""
    claimed = store.claim_next()
    assert claimed is not None and claimed.id == job.id, "another job was queued first"
    assert store.finish(job.id, claimed.attempts, status, summary=summary, message="done")
    return store.get_job(job.id)


@pytest.fixture
def svc(tmp_path):
    return make_service(tmp_path / "svc")


def _cells(html: str, table_id: str) -> dict[str, list[str]]:
    """The table's body rows as ``{row heading: [cell texts]}``."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)
    rows = {}
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        head = re.search(r'<th scope="row"[^>]*>(.*?)(?:<span|</th>)', tr, re.S)
        if head:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
            rows[unescape(head.group(1)).strip()] = [unescape(c).strip() for c in cells]
    return rows


# ----------------------------------------------------------------------------- compare
def test_difference_column_of_two_hand_made_summaries():
    rows = {r.label: r for r in compare.headline_rows([SUMMARY_A, SUMMARY_B])}
    expected = {  # B less A, worked out by hand
        "Annual cost": 1_500_000.0, "Budget cap": 0.0,
        "Headroom under the cap": 500_000.0 - 2_000_000.0,
        "Demand met": 0.025, "Hubs open": 2.0, "Mean travel to the hub": -1.5,
        "Longest travel to the hub": -2.0, "Saving against today": -1_500_000.0,
        "Savings the model makes, most likely": 150_000.0,
        "Net of investment, most likely": 150_000.0, "FTE, all roles": 133.0 - 120.0,
        "FTE social worker": 10.0, "FTE occupational therapist": -2.0,
    }
    for label, delta in expected.items():
        assert rows[label].differences[0] is None
        assert rows[label].differences[1] == pytest.approx(delta), label
    # a role only B has: no difference to show
    assert rows["FTE care navigator"].values == (None, 5.0)
    assert rows["FTE care navigator"].differences == (None, None)
    text = dict((label, r.cells[1][1]) for label, r in rows.items())
    assert text["Annual cost"] == "+£1.50m"
    assert text["Headroom under the cap"] == "−£1.50m"
    assert text["Demand met"] == "+2.5 points"
    assert text["Hubs open"] == "+2"
    assert text["Budget cap"] == "no change"
    assert text["Mean travel to the hub"] == "−1.5"
    assert text["FTE care navigator"] == ""
    assert rows["Annual cost"].cells[0] == ("£20,000,000", "")


def test_compare_page_lists_plans_and_shows_the_differences(svc):
    store = svc.store
    a = _finish(store, store.add_job({"name": "a"}, name="plan A"), SUMMARY_A)
    b = _finish(store, store.add_job({"name": "b"}, name="plan B"), SUMMARY_B, "cancelled")
    failed = store.add_job({"name": "c"}, name="broken plan")
    _finish(store, failed, None, "failed")
    with svc.client() as c:
        _sign_in(c, svc.keys["viewer"])  # reading: a viewer may compare
        chooser = c.get("/compare")
        assert chooser.status_code == 200
        assert f'value="{a.id}"' in chooser.text and f'value="{b.id}"' in chooser.text
        assert f'value="{failed.id}"' not in chooser.text  # no plan, nothing to compare
        assert "<title>Compare scenarios · mdtplan</title>" in chooser.text

        one = c.get(f"/compare?ids={a.id}")
        assert "Choose at least one more scenario" in one.text
        assert re.search(rf'value="{a.id}" checked', one.text)

        page = c.get(f"/compare?ids={a.id}&ids={b.id}")
        assert page.status_code == 200
        assert "Difference from plan A" in page.text
        cells = _cells(page.text, "compare-table")
        assert cells["Annual cost"] == ["£20,000,000", "£21,500,000", "+£1.50m"]
        assert cells["Demand met"] == ["95.0%", "97.5%", "+2.5 points"]
        assert cells["Hubs open"] == ["10", "12", "+2"]
        assert cells["Saving against today"] == ["−£1,000,000", "−£2,500,000", "−£1.50m"]
        assert cells["Savings the model makes, most likely"] == ["£500,000", "£650,000",
                                                                 "+£150k"]
        # no result folders here: said so, not hidden
        assert "cannot be listed" in page.text and "no map to show" in page.text

        # the other way round: B is the one measured against
        back = _cells(c.get(f"/compare?ids={b.id}&ids={a.id}").text, "compare-table")
        assert back["Annual cost"] == ["£21,500,000", "£20,000,000", "−£1.50m"]

        bad = c.get(f"/compare?ids={failed.id}&ids=sc_missing")
        assert bad.status_code == 404
        assert "has no plan to compare" in bad.text and "There is no scenario sc_missing" in bad.text


def test_what_changed_between_two_plans():
    hubs_a = pd.DataFrame({"site_id": ["S1", "S2", "S3"], "name": ["North", "East", "West"]})
    hubs_b = pd.DataFrame({"site_id": ["S1", "S4"], "name": ["North", "Harbour"]})
    assign_a = pd.DataFrame({"area_id": ["a1", "a2", "a3", "a4", "a4"],
                             "site_id": ["S1", "S2", "S3", "S3", "S1"],
                             "share": [1, 1, 1, 0.7, 0.3]})
    assign_b = pd.DataFrame({"area_id": ["a1", "a2", "a3", "a4", "a5"],
                             "site_id": ["S1", "S1", "S4", "S4", "S4"], "share": [1] * 5})
    ch = compare.what_changed(hubs_a, assign_a, hubs_b, assign_b)
    assert ch.opened == [("S4", "Harbour")]
    assert ch.closed == [("S2", "East"), ("S3", "West")]
    assert ch.kept == 1
    # a2 S2->S1, a3 S3->S4, a4 (mainly S3) -> S4; a1 stays; a5 is in B only
    assert (ch.areas_moved, ch.areas_compared) == (3, 4)


def test_the_same_site_has_one_colour_and_rivals_differ():
    """Four square areas in a row; plan A serves them from S1, S1, S2, S2, plan B from S1,
    S3, S3, S2: S3 takes areas of S1 and S2 and touches both, so it differs from both."""
    squares = [box(i * 1000, 0, i * 1000 + 1000, 1000) for i in range(4)]

    def plan(sites):
        return gpd.GeoDataFrame({"area_id": [f"a{i}" for i in range(4)], "site_id": sites},
                                geometry=squares, crs=27700).to_crs(4326)

    colours = compare.site_colours([plan(["S1", "S1", "S2", "S2"]),
                                    plan(["S1", "S3", "S3", "S2"])])
    assert set(colours) == {"S1", "S2", "S3"}
    assert len(set(colours.values())) == 3
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours.values())


# ----------------------------------------------------------------------------- sweeps
def test_viewers_read_sweeps_but_cannot_make_one(svc):
    with svc.client() as c:
        _sign_in(c, svc.keys["viewer"])
        assert c.get("/sweeps").status_code == 200
        assert "New sweep" not in c.get("/sweeps").text
        assert c.get("/sweeps/new", headers={"accept": "text/html"}).status_code == 403
        token = re.search(r'"X-CSRF-Token": "([^"]+)"', c.get("/sweeps").text).group(1)
        r = c.post("/sweeps/new", data={"csrf_token": token, "from": "example:demo",
                                        "axis1_key": "budget.cap", "axis1_from": "20e6",
                                        "axis1_to": "22e6", "axis1_steps": "2"})
        assert r.status_code == 403
    assert svc.store.list_sweeps() == []


def test_sweep_form_counts_variants_and_refuses_too_many(tmp_path):
    svc = make_service(tmp_path / "svc", sweep_max_variants=12)
    with svc.client() as c:
        _sign_in(c, svc.keys["planner"])
        form = c.get("/sweeps/new")
        assert form.status_code == 200
        assert 'option value="budget.cap"' in form.text
        assert 'option value="hubs.max_travel_minutes"' in form.text
        assert 'option value="name"' not in form.text  # text fields are not axes
        token = _token(form.text)

        count = c.get("/sweeps/new/count", params={
            "axis1_key": "budget.cap", "axis1_from": "£20,000,000", "axis1_to": "24e6",
            "axis1_steps": "5", "axis2_key": "hubs.max_travel_minutes",
            "axis2_values": "30; 35\n40"}).text
        assert "The grid has 15 variants, more than the 12" in count  # 5 caps x 3 limits
        small = c.get("/sweeps/new/count", params={
            "axis1_key": "hubs.max_travel_minutes", "axis1_from": "30", "axis1_to": "45",
            "axis1_steps": "4"}).text
        assert "<strong>4 variants</strong>" in small

        base = {"csrf_token": token, "from": "example:demo", "name": "caps",
                "budget_cap": "", "time_limit": "5", "threads": "1"}
        checked = c.post("/sweeps/new", data={
            **base, "action": "check", "axis1_key": "budget.cap", "axis1_from": "22e6",
            "axis1_to": "25e6", "axis1_steps": "4"})
        assert checked.status_code == 200
        text = unescape(checked.text)
        assert "This grid makes 4 variants" in re.sub(r"<[^>]+>", "", text)
        assert "£22,000,000, £23,000,000, £24,000,000, £25,000,000" in text

        too_many = c.post("/sweeps/new", data={
            **base, "action": "run", "axis1_key": "budget.cap", "axis1_from": "20e6",
            "axis1_to": "24e6", "axis1_steps": "5", "axis2_key": "hubs.max_travel_minutes",
            "axis2_from": "30", "axis2_to": "45", "axis2_steps": "4"})
        assert too_many.status_code == 422
        assert "The grid has 20 variants, more than the 12" in unescape(too_many.text)

        not_whole = c.post("/sweeps/new", data={
            **base, "axis1_key": "hubs.count.max", "axis1_from": "8", "axis1_to": "12",
            "axis1_steps": "4"})
        assert not_whole.status_code == 422
        assert "takes whole numbers" in unescape(not_whole.text)

        same_twice = c.post("/sweeps/new", data={
            **base, "axis1_key": "budget.cap", "axis1_values": "20e6;21e6",
            "axis2_key": "budget.cap", "axis2_values": "22e6"})
        assert same_twice.status_code == 422 and "the same setting" in same_twice.text

        nothing = c.post("/sweeps/new", data={**base})
        assert nothing.status_code == 422 and "Choose a setting to vary" in nothing.text
    assert svc.store.list_sweeps() == []


def _sweep_in_form(c, name: str, values: str) -> str:
    """A planner (signed in on ``c``) makes a sweep of the demo's travel limit in the form;
    its id."""
    token = _token(c.get("/sweeps/new").text)
    r = c.post("/sweeps/new", data={
        "csrf_token": token, "from": "example:demo", "name": name,
        "budget_cap": "", "time_limit": "5", "threads": "1", "action": "run",
        "axis1_key": "hubs.max_travel_minutes", "axis1_values": values},
        follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"].rsplit("/", 1)[1]


def test_a_sweep_made_in_the_form_is_stored_and_shown(svc):
    with svc.client() as c:
        _sign_in(c, svc.keys["planner"])
        sweep_id = _sweep_in_form(c, "travel limits", "35; 40")
        sweep = svc.store.get_sweep(sweep_id)
        assert sweep.vary == [{"key": "hubs.max_travel_minutes", "values": [35.0, 40.0]}]
        jobs = svc.store.list_jobs(sweep_id=sweep_id, newest_first=False)
        assert [j.variant for j in jobs] == [{"hubs.max_travel_minutes": 35.0},
                                             {"hubs.max_travel_minutes": 40.0}]
        for j in jobs:  # the form's settings in every variant, paths as dataset ids
            assert j.scenario["budget"].get("cap") is None
            assert j.scenario["solver"]["time_limit_s"] == 5 and j.scenario["solver"]["threads"] == 1
            assert j.scenario["areas"]["path"].startswith("ds_")

        page = c.get(f"/sweeps/{sweep_id}")
        assert page.status_code == 200
        assert "<title>travel limits · mdtplan</title>" in page.text
        assert '<progress id="sweep-bar" class="mdt-bar" max="2" value="0">' in page.text
        assert f'hx-get="/sweeps/{sweep_id}/live?y=total_cost"' in page.text  # polls
        assert "data-keep-focus" in page.text
        for j in jobs:
            assert f'href="/scenarios/{j.id}"' in page.text
        listing = c.get("/sweeps").text
        assert f'href="/sweeps/{sweep_id}"' in listing and "0 of 2" in listing


def test_a_planner_cancels_a_sweep_from_its_page_and_a_viewer_cannot(svc):
    """The sweep's page offers "Cancel the sweep" to planners while variants have not ended;
    the form (with its anti-forgery token) cancels them all and returns to the page, which
    then offers it no more; a viewer sees no button and is refused."""
    with svc.client() as c:
        _sign_in(c, svc.keys["planner"])
        sweep_id = _sweep_in_form(c, "to cancel", "35; 40; 45")
        page = c.get(f"/sweeps/{sweep_id}").text
        assert "Cancel the sweep" in page and "Stops the 3 variants not yet ended" in page
        form_token = re.search(rf'action="/sweeps/{sweep_id}/cancel">\s*<input type="hidden" '
                               r'name="csrf_token" value="([^"]+)"', page).group(1)
        with svc.client() as v:
            _sign_in(v, svc.keys["viewer"])
            seen = v.get(f"/sweeps/{sweep_id}").text
            assert "Cancel the sweep" not in seen
            viewer_token = re.search(r'"X-CSRF-Token": "([^"]+)"', seen).group(1)
            refused = v.post(f"/sweeps/{sweep_id}/cancel", data={"csrf_token": viewer_token},
                             follow_redirects=False)
            assert refused.status_code == 403
        assert {j.status for j in svc.store.list_jobs(sweep_id=sweep_id)} == {"queued"}
        assert c.post(f"/sweeps/{sweep_id}/cancel", data={},
                      follow_redirects=False).status_code == 403  # no token
        done = c.post(f"/sweeps/{sweep_id}/cancel", data={"csrf_token": form_token},
                      follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == f"/sweeps/{sweep_id}"
        assert {j.status for j in svc.store.list_jobs(sweep_id=sweep_id)} == {"cancelled"}
        after = c.get(f"/sweeps/{sweep_id}").text
        assert "Cancel the sweep" not in after and "3 cancelled" in after
        again = c.post(f"/sweeps/{sweep_id}/cancel", data={"csrf_token": form_token},
                       headers={"accept": "text/html"}, follow_redirects=False)
        assert again.status_code == 409 and "no variant left to cancel" in again.text


def test_a_finished_sweep_draws_its_frontier(svc):
    store = svc.store
    caps = [22e6, 23e6, 24e6, 25e6]
    met = [0.90, 0.94, 0.97, 0.99]
    variants = [(f"caps [budget.cap={c}]", {"name": "x", "budget": {"cap": c}}, {"budget.cap": c})
                for c in caps]
    sweep, jobs = store.add_sweep(name="caps", scenario={"name": "x"},
                                  vary=[{"key": "budget.cap", "values": caps}],
                                  variants=variants)
    for job, c, m in zip(jobs, caps, met, strict=True):
        _finish(store, job, {**SUMMARY_A, "budget_cap": c, "demand_met_share": m})
    with svc.client() as c:
        _sign_in(c, svc.keys["viewer"])
        page = c.get(f"/sweeps/{sweep.id}").text
        assert 'max="4" value="4"' in page and "the sweep is done" in page
        assert "hx-get" not in page.split('id="sweep-live"')[1].split(">")[0]  # no more polling
        svg = re.search(r"<svg[^>]*mdt-frontier.*?</svg>", page, re.S).group(0)
        links = re.findall(r'<a href="(/scenarios/[^"]+)" class="mdt-point" aria-label="([^"]+)"',
                           svg)
        assert [h for h, _ in links] == [f"/scenarios/{j.id}" for j in jobs]
        assert unescape(links[0][1]) == ("Budget cap (£ per year) £22,000,000: demand met "
                                         "90.0%. Open this variant")
        live = c.get(f"/sweeps/{sweep.id}/live?y=model_savings")
        assert live.status_code == 200 and "Savings the model makes" in live.text


def test_frontier_points_sit_where_worked_out_by_hand():
    pts = [Point(x, y, f"/scenarios/v{i}", f"variant {i}")
           for i, (x, y) in enumerate([(10, 0.5), (20, 0.6), (30, 0.8), (40, 0.7)])]
    svg = frontier_svg([Series("all", pts)], title="Demand met against cap", x_label="cap",
                       y_label="demand met")
    # ticks 10..40 across and 0.5..0.8 up, so the plot spans exactly those ranges
    x0, x1 = LEFT, WIDTH - RIGHT      # 100 .. 616
    y0, y1 = HEIGHT - BOTTOM, TOP     # 322 .. 20
    circles = [(float(a), float(b)) for a, b in
               re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)]
    expected = [(x0 + (x - 10) / 30 * (x1 - x0), y0 - (y - 0.5) / 0.3 * (y0 - y1))
                for x, y in [(10, 0.5), (20, 0.6), (30, 0.8), (40, 0.7)]]
    assert circles == [pytest.approx(e, abs=0.06) for e in expected]
    assert expected[1] == pytest.approx((272.0, 221.33), abs=0.01)
    assert 'role="group"' in svg and '<g role="img"' in svg
    assert "<title id=\"frontier-title\">Demand met against cap</title>" in svg
    assert re.findall(r'<a href="([^"]+)" class="mdt-point" aria-label="([^"]+)"', svg)[2] == (
        "/scenarios/v2", "variant 2")
    assert "style=" not in svg
    # the line joins the points in order of x
    line = re.search(r'<polyline points="([^"]+)"', svg).group(1).split()
    assert [float(p.split(",")[0]) for p in line] == sorted(float(p.split(",")[0]) for p in line)
    # text is escaped; no points: says so
    assert "&lt;b&gt;" in frontier_svg([], title="<b>", x_label="x", y_label="y")
    assert "No variant has a plan yet" in frontier_svg([], title="t", x_label="x", y_label="y")


def test_axis_values_read_like_the_command_line():
    vary, problems = sweeps.axis_values(1, {"axis1_key": "budget.cap", "axis1_from": "20e6",
                                            "axis1_to": "£24,000,000", "axis1_steps": "3"})
    assert problems == [] and vary.values == (20e6, 22e6, 24e6)
    vary, _ = sweeps.axis_values(1, {"axis1_key": "hubs.count.max", "axis1_from": "8",
                                     "axis1_to": "12", "axis1_steps": "3"})
    assert vary.values == (8, 10, 12)
    _, problems = sweeps.axis_values(2, {"axis2_key": "budget.cap", "axis2_from": "1"})
    assert problems == [("axis2_to", "Axis 2 (Budget cap (£ per year)): give 'to' and "
                                     "'steps', or a list of values")]
    _, problems = sweeps.axis_values(1, {"axis1_key": "name", "axis1_values": "a"})
    assert problems and "not a setting a sweep can vary" in problems[0][1]
