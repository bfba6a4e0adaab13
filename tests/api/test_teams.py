"""Teams: every key belongs to a team and sees and changes only its team's scenarios, sweeps,
datasets and keys. Another team's record is 404 on every route (the list of routes is read
from the app, so a new route without the check fails here); lists show the team's own; a
scenario cannot name another team's dataset; no team loses its last admin key; the pages of
one team show nothing of another's."""

from __future__ import annotations

import re
import sqlite3

import pytest
from service_helpers import GEODATA, demo_document, make_service
from starlette.routing import Mount

from api.store import DEFAULT_TEAM, ROLES, Job, Store

A, B = "north", "south"
MARK = "north-only"
"""Every name of team A's records starts so: it must never reach team B."""

SKIPPED = {"/health", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/signin",
           "/signout"}
"""Routes that hold no team's records (documentation, health, signing in and out)."""


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    s = make_service(tmp_path_factory.mktemp("teams"))
    s.team_keys = {}
    for team in (A, B):
        s.store.create_team(team, f"{team} team")
        for role in ("viewer", "planner", "admin"):
            key, record = s.store.create_key(role, f"{MARK} key" if team == A else "key",
                                             team=team)
            s.team_keys[team, role] = (key, record.id)
    s.a = records(s.store)
    return s


def bearer(svc, team: str, role: str) -> dict:
    return {"Authorization": f"Bearer {svc.team_keys[team, role][0]}"}


def records(store: Store, team: str = A, *, plan: bool = False) -> dict:
    """Fresh records of ``team``: datasets, a queued job (finished with a plan if ``plan``),
    a sweep and a viewer key, by the path parameter that names each."""
    ids = {}
    for name, fmt in (("demo_areas.gpkg", "gpkg"), ("demo_sites.csv", "csv"),
                      ("demo_workforce.csv", "csv")):
        d = store.add_dataset(id=f"ds_{__import__('secrets').token_hex(8)}",
                              filename=f"{MARK}-{name}" if team == A else name, format=fmt,
                              path=str(GEODATA / name), size_bytes=1, sha256="0" * 64,
                              info={"layers": []}, team=team)
        ids[name] = d.id
    doc = demo_document(ids, name=f"{MARK} plan" if team == A else "plan")
    job = store.add_job(doc, name=doc["name"], team=team)
    if plan:
        with store.writing() as s:
            row = s.get(Job, job.id)
            row.status, row.summary = "finished", {"status": "optimal", "hubs_open": 3}
    sweep, variants = store.add_sweep(
        name=f"{MARK} sweep" if team == A else "sweep", scenario=doc,
        vary=[{"key": "budget.cap", "values": [1e7]}],
        variants=[(f"{doc['name']} [cap]", doc, {"budget.cap": 1e7})], team=team)
    _, key = store.create_key("viewer", f"{MARK} viewer" if team == A else "viewer", team=team)
    return {"scenario_id": job.id, "job_id": job.id, "sweep_id": sweep.id,
            "dataset_id": ids["demo_areas.gpkg"], "key_id": key.id, "name": "hubs.csv",
            "datasets": ids, "doc": doc, "variant": variants[0].id}


def _flat(routes_, prefix: str = ""):
    """``(path, route)`` of every route, inside included routers too (FastAPI may keep an
    included router whole and resolve its routes lazily)."""
    for r in routes_:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from _flat(inner.routes, prefix + r.include_context.prefix)
        elif not isinstance(r, Mount):
            yield prefix + r.path, r


def routes(app) -> list[tuple[str, str, list[str]]]:
    """Every route and method of the app but the skipped ones, with its path parameters."""
    out = []
    for path, r in _flat(app.routes):
        if path in SKIPPED:
            continue
        params = re.findall(r"{(\w+)(?::\w+)?}", path)
        for method in sorted(r.methods - {"HEAD"}):
            out.append((path, method, params))
    assert len(out) > 30, out  # every router was found
    return out


def _unchanged(store: Store, rec: dict) -> list[str]:
    wrong = []
    job = store.get_job(rec["job_id"])
    if job is None or job.status != "queued" or job.archived_at is not None:
        wrong.append(f"job {rec['job_id']} changed: {job and job.status}")
    if store.get_dataset(rec["dataset_id"]) is None:
        wrong.append("dataset deleted")
    if store.get_key(rec["key_id"]).revoked_at is not None:
        wrong.append("key revoked")
    if store.get_sweep(rec["sweep_id"]) is None:
        wrong.append("sweep gone")
    return wrong


def _request(c, method: str, path: str, headers: dict):
    if method in ("POST", "PUT", "PATCH"):
        return c.request(method, path, headers=headers, data={"archived": "1"},
                         follow_redirects=False)
    return c.request(method, path, headers=headers, follow_redirects=False)


def test_every_route_with_an_id_is_404_to_another_team(svc):
    """For every route naming a record, team A's record asked for with team B's admin key is
    404 and stays as it was; team A's own admin key gets past (not 404)."""
    checked, failures = 0, []
    with svc.client() as c:
        for path, method, params in routes(svc.app):
            if not params:
                continue
            rec = records(svc.store)
            unknown = [p for p in params if p not in rec]
            if unknown:
                failures.append(f"{method} {path}: no record for {unknown}: add it to records()")
                continue
            url = path.format(**{p: rec[p] for p in params})
            other = _request(c, method, url, bearer(svc, B, "admin"))
            if other.status_code != 404:
                failures.append(f"{method} {path}: team B got {other.status_code}, not 404")
            if MARK in other.text:
                failures.append(f"{method} {path}: team B's answer names team A's record")
            failures += [f"{method} {path}: {w}" for w in _unchanged(svc.store, rec)]
            own = _request(c, method, url, bearer(svc, A, "admin"))
            if own.status_code == 404:
                failures.append(f"{method} {path}: team A's own key got 404 ({own.text[:100]})")
            checked += 1
    assert not failures, "\n".join(failures)
    assert checked >= 20  # the scenario, result, file, sweep, dataset and key routes


LISTS = {"/v1/scenarios", "/v1/datasets", "/v1/sweeps", "/v1/keys", "/", "/partials/scenarios",
         "/compare", "/sweeps", "/scenarios/new", "/sweeps/new"}
"""Routes whose answer to team A names team A's records (checked: the test is not empty)."""


def test_every_list_and_form_shows_only_the_teams_own(svc):
    """Every route without an id, asked with query parameters naming team A's records, shows
    team B nothing of them, while team A sees its own on the listing routes."""
    rec = records(svc.store, plan=True)
    ds = rec["datasets"]
    query = {"from": f"job:{rec['job_id']}", "ids": [rec["job_id"], svc.a["job_id"]],
             "areas": ds["demo_areas.gpkg"], "sites": ds["demo_sites.csv"]}
    failures, seen_by_a = [], set()
    with svc.client() as c:
        for path, method, params in routes(svc.app):
            if params or method != "GET":
                continue
            other = c.get(path, params=query, headers=bearer(svc, B, "admin"),
                          follow_redirects=False)
            if MARK in other.text or other.status_code >= 500:
                failures.append(f"GET {path}: team B got {other.status_code} naming A's records")
            own = c.get(path, params=query, headers=bearer(svc, A, "admin"),
                        follow_redirects=False)
            if MARK in own.text:
                seen_by_a.add(path)
    assert not failures, "\n".join(failures)
    assert LISTS <= seen_by_a, LISTS - seen_by_a


def _post_requests(rec: dict) -> dict:
    """How team B's key would name team A's records on each route without an id, and the
    statuses that refuse it."""
    ds = rec["datasets"]
    doc = rec["doc"]
    start = {"from": f"job:{rec['job_id']}", "name": "copy", "csrf_token": "-"}
    return {
        "/v1/scenarios": ({"json": doc}, {422}),
        "/v1/sweeps": ({"json": {"scenario": doc,
                                 "vary": [{"key": "budget.cap", "values": [1e7]}]}}, {422}),
        "/v1/datasets": ({"files": {"file": ("b.csv", b"id\n1\n")}}, {201, 422}),
        "/v1/keys": ({"json": {"role": "viewer", "team": A}}, {403}),
        "/v1/teams": ({"json": {"id": "another"}}, {403}),
        "/scenarios/new": ({"data": start}, {404, 422}),
        "/sweeps/new": ({"data": {**start, "axis1_key": "budget.cap"}}, {404, 422}),
        "/scenarios/new/check": ({"data": start}, {200}),
        "/scenarios/new/upload": ({"data": {"areas-kept": ds["demo_areas.gpkg"],
                                            "sites-kept": ds["demo_sites.csv"]}}, {422}),
        "/scenarios/new/mapping": ({"data": {"areas": ds["demo_areas.gpkg"],
                                             "sites": ds["demo_sites.csv"]}}, {303, 422}),
    }


def test_every_form_and_submission_refuses_another_teams_records(svc):
    """Every ``POST`` without an id, naming team A's job or datasets with team B's key, is
    refused and tells nothing of them; team A's records and lists are unchanged."""
    rec = records(svc.store)
    table = _post_requests(rec)
    before = {j.id for j in svc.store.list_jobs(limit=10_000, team=A)}
    failures = []
    with svc.client() as c:
        for path, method, params in routes(svc.app):
            if params or method != "POST":
                continue
            if path not in table:
                failures.append(f"POST {path}: say in _post_requests how another team's "
                                "records could be named here, and what refuses them")
                continue
            kwargs, statuses = table[path]
            r = c.post(path, headers=bearer(svc, B, "admin"), follow_redirects=False, **kwargs)
            if r.status_code not in statuses:
                failures.append(f"POST {path}: team B got {r.status_code} {r.text[:200]}")
            if MARK in r.text:
                failures.append(f"POST {path}: team B's answer names team A's records")
    assert not failures, "\n".join(failures)
    assert {j.id for j in svc.store.list_jobs(limit=10_000, team=A)} == before
    assert _unchanged(svc.store, rec) == []


def test_a_scenario_cannot_name_another_teams_dataset(svc):
    rec = records(svc.store)
    with svc.client() as c:
        r = c.post("/v1/scenarios", json=rec["doc"], headers=bearer(svc, B, "planner"))
        assert r.status_code == 422
        problems = {p["column"]: p["message"] for p in r.json()["detail"]}
        for column, name in (("areas.path", "demo_areas.gpkg"), ("sites.path", "demo_sites.csv"),
                             ("workforce.path", "demo_workforce.csv")):
            assert problems[column] == f"no dataset with id {rec['datasets'][name]}"
        # the same scenario from team A is accepted
        ok = c.post("/v1/scenarios", json=rec["doc"], headers=bearer(svc, A, "planner"))
        assert ok.status_code == 202, ok.text
        assert svc.store.get_job(ok.json()["id"]).team == A


def test_lists_show_the_teams_own_records(svc):
    mine = records(svc.store, B)
    with svc.client() as c:
        for path, ident in (("/v1/scenarios", "scenario_id"), ("/v1/datasets", "dataset_id"),
                            ("/v1/sweeps", "sweep_id"), ("/v1/keys", "key_id")):
            ids = {x["id"] for x in c.get(path, params={"limit": 100},
                                          headers=bearer(svc, B, "admin")).json()}
            assert mine[ident] in ids and svc.a[ident] not in ids, path
            ids_a = {x["id"] for x in c.get(path, params={"limit": 100},
                                            headers=bearer(svc, A, "admin")).json()}
            assert svc.a[ident] in ids_a and mine[ident] not in ids_a, path
        keys = c.get("/v1/keys", headers=bearer(svc, B, "admin")).json()
        assert {k["team"] for k in keys} == {B}
        assert c.get(f"/v1/keys?team={A}", headers=bearer(svc, B, "admin")).status_code == 404
        made = c.post("/v1/datasets", files={"file": ("b.csv", b"id\n1\n")},
                      headers=bearer(svc, B, "planner")).json()
        assert c.get(f"/v1/datasets/{made['id']}",
                     headers=bearer(svc, A, "viewer")).status_code == 404
        assert c.get(f"/v1/datasets/{made['id']}",
                     headers=bearer(svc, B, "viewer")).status_code == 200


def test_planners_cancel_their_team_mates_jobs_and_it_is_recorded(svc):
    rec = records(svc.store, B)
    mate, mate_id = svc.store.create_key("planner", "mate", team=B)
    with svc.client() as c:
        assert c.delete(f"/v1/scenarios/{rec['job_id']}",
                        headers=bearer(svc, A, "planner")).status_code == 404
        assert svc.store.get_job(rec["job_id"]).status == "queued"
        r = c.delete(f"/v1/scenarios/{rec['job_id']}",
                     headers={"Authorization": f"Bearer {mate}"})
        assert r.status_code == 202
        assert r.json()["status"] == "cancelled" and r.json()["cancelled_by"] == mate_id.id


def test_no_team_loses_its_last_admin_key(tmp_path):
    s = make_service(tmp_path)
    store = s.store
    store.create_team("east")
    first, first_rec = store.create_key("admin", "first", team="east")
    h = {"Authorization": f"Bearer {first}"}
    with s.client() as c:
        # its own, last admin key: refused, and the key still works
        r = c.delete(f"/v1/keys/{first_rec.id}", headers=h)
        assert r.status_code == 409
        assert "last admin key of team east" in r.json()["detail"]
        assert c.get("/v1/keys", headers=h).status_code == 200
        # a team admin manages only its own team's keys, and no service_admin keys
        assert c.post("/v1/keys", json={"role": "viewer", "team": DEFAULT_TEAM},
                      headers=h).status_code == 403
        assert c.post("/v1/keys", json={"role": "service_admin"}, headers=h).status_code == 403
        default_admin = store.list_keys(DEFAULT_TEAM)[0]
        assert c.delete(f"/v1/keys/{default_admin.id}", headers=h).status_code == 404
        assert store.get_key(default_admin.id).revoked_at is None
        # with a second admin key, the first may go
        second = c.post("/v1/keys", json={"role": "admin", "label": "second"}, headers=h).json()
        assert second["team"] == "east"
        assert c.delete(f"/v1/keys/{first_rec.id}", headers=h).status_code == 200
        h2 = {"Authorization": f"Bearer {second['key']}"}
        r = c.delete(f"/v1/keys/{second['id']}", headers=h2)
        assert r.status_code == 409 and "make another admin key" in r.json()["detail"]
        # nor can the service lose its last service admin
        sa = s.headers("service_admin")
        sa_id = next(k.id for k in store.list_keys() if k.role == "service_admin")
        r = c.delete(f"/v1/keys/{sa_id}", headers=sa)
        assert r.status_code == 409 and "service_admin" in r.json()["detail"]
        # an admin cannot revoke a key of a role above its own
        assert c.delete(f"/v1/keys/{sa_id}",
                        headers=s.headers("admin")).status_code == 403


def test_a_service_admin_makes_teams_and_their_first_admin(tmp_path):
    s = make_service(tmp_path)
    sa = s.headers("service_admin")
    with s.client() as c:
        assert c.get("/v1/teams", headers=s.headers("admin")).status_code == 403
        assert c.post("/v1/teams", json={"id": "west"},
                      headers=s.headers("admin")).status_code == 403
        assert c.post("/v1/keys", json={"role": "admin", "team": "west"},
                      headers=sa).status_code == 404  # no such team yet
        r = c.post("/v1/teams", json={"id": "west", "label": "West"}, headers=sa)
        assert r.status_code == 201 and r.json()["keys"] == {}
        assert c.post("/v1/teams", json={"id": "west"}, headers=sa).status_code == 409
        assert c.post("/v1/teams", json={"id": "West!"}, headers=sa).status_code == 422
        first = c.post("/v1/keys", json={"role": "admin", "team": "west"}, headers=sa).json()
        assert first["team"] == "west"
        teams = {t["id"]: t for t in c.get("/v1/teams", headers=sa).json()}
        assert teams["west"]["keys"] == {"admin": 1} and DEFAULT_TEAM in teams
        west = {"Authorization": f"Bearer {first['key']}"}
        assert [k["id"] for k in c.get("/v1/keys", headers=west).json()] == [first["id"]]
        every = {k["team"] for k in c.get("/v1/keys", headers=sa).json()}
        assert every == {DEFAULT_TEAM, "west"}


def test_keys_and_teams_from_the_command_line(tmp_path):
    import typer
    from typer.testing import CliRunner

    from api.cli import keys_app, teams_app

    cli = typer.Typer()
    cli.add_typer(keys_app, name="keys")
    cli.add_typer(teams_app, name="teams")
    db = f"sqlite:///{tmp_path / 'k.sqlite'}"
    run = CliRunner().invoke
    made = run(cli, ["keys", "create", "--role", "admin", "--team", "adults-north", "--db", db])
    assert made.exit_code == 0, made.output
    assert "admin key of team adults-north" in made.output
    key = made.output.strip().splitlines()[-1].split()[-1]
    assert run(cli, ["teams", "create", "adults-south", "--label", "South", "--db", db]
               ).exit_code == 0
    assert run(cli, ["teams", "create", "adults-south", "--db", db]).exit_code == 2
    assert run(cli, ["keys", "create", "--role", "admin", "--team", "No!", "--db", db]
               ).exit_code == 2
    listed = run(cli, ["teams", "list", "--db", db]).output
    assert "adults-north" in listed and "1 admin" in listed and "adults-south\tSouth" in listed
    store = Store(db)
    assert store.verify_key(key).team == "adults-north"
    store.dispose()


def test_a_store_from_before_teams_keeps_its_keys_and_jobs(tmp_path):
    path = tmp_path / "old.sqlite"
    store = Store(f"sqlite:///{path}")
    store.create_all()
    key, record = store.create_key("planner", "old")
    job = store.add_job({"name": "old"}, name="old")
    store.dispose()
    con = sqlite3.connect(path)  # as a version before teams made it
    for table, column in (("jobs", "team"), ("jobs", "cancelled_by"), ("sweeps", "team"),
                          ("datasets", "team"), ("api_keys", "team")):
        if table == "jobs" and column == "team":
            con.execute("DROP INDEX IF EXISTS ix_jobs_team")
        con.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}")
        con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    con.execute("DROP TABLE teams")
    con.commit()
    con.close()
    again = Store(f"sqlite:///{path}")
    again.create_all()
    assert again.verify_key(key).team is None  # made before teams: the default team's
    assert [j.id for j in again.for_team(DEFAULT_TEAM).list_jobs()] == [job.id]
    assert again.for_team(DEFAULT_TEAM).get_job(job.id) is not None
    again.create_team("new")
    assert again.for_team("new").list_jobs() == []
    assert again.for_team("new").get_job(job.id) is None
    assert [k.id for k in again.list_keys(DEFAULT_TEAM)] == [record.id]
    again.dispose()


def _sign_in(c, key: str):
    r = c.post("/signin", data={"key": key, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303


def test_pages_of_one_team_show_nothing_of_another(svc):
    mine = records(svc.store, B, plan=True)
    theirs = records(svc.store, A, plan=True)
    nav = {"accept": "text/html", "sec-fetch-mode": "navigate"}
    with svc.client() as c:
        _sign_in(c, svc.team_keys[B, "viewer"][0])
        home = c.get("/", headers=nav)
        assert home.status_code == 200
        assert mine["job_id"] in home.text and MARK not in home.text
        assert theirs["job_id"] not in home.text
        assert f"team {B}" in home.text  # the header names the team beside the key
        compare = c.get("/compare", headers=nav)
        assert f'value="{mine["job_id"]}"' in compare.text
        assert theirs["job_id"] not in compare.text and MARK not in compare.text
        sweeps = c.get("/sweeps", headers=nav)
        assert mine["sweep_id"] in sweeps.text and MARK not in sweeps.text
        for url in (f"/scenarios/{theirs['job_id']}", f"/sweeps/{theirs['sweep_id']}",
                    f"/scenarios/{theirs['job_id']}/finance"):
            page = c.get(url, headers=nav)
            assert page.status_code == 404, url
            assert "Page not found" in page.text and MARK not in page.text
            assert 'href="/"' in page.text  # a way back
        queued = mine["variant"]  # the team's own scenario page opens (a queued one here)
        assert c.get(f"/scenarios/{queued}", headers=nav).status_code == 200


def test_roles_are_ranked_with_the_service_admin_on_top():
    assert ROLES == ("viewer", "planner", "admin", "service_admin")


@pytest.fixture(scope="module")
def postgres():
    from service_helpers import postgres_or_skip

    pg = postgres_or_skip()
    yield pg
    pg.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request, tmp_path):
    url = (f"sqlite:///{tmp_path / 'teams.sqlite'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres").url)
    s = Store(url)
    s.create_all()
    s.create_all()  # twice, as two restarts would: the default team is made once
    yield s
    s.dispose()


def test_the_store_keeps_teams_apart_on_sqlite_and_postgresql(any_store):
    store = any_store
    store.create_team("kept-apart")
    key, admin = store.create_key("admin", "only admin", team="kept-apart")
    _, viewer = store.create_key("viewer", team="kept-apart")
    job = store.add_job({"name": "x"}, name="x", team="kept-apart")
    mine, other = store.for_team("kept-apart"), store.for_team(DEFAULT_TEAM)
    assert mine.get_job(job.id).id == job.id and other.get_job(job.id) is None
    assert other.request_cancel(job.id, "someone") is None
    assert store.get_job(job.id).status == "queued"
    assert mine.request_cancel(job.id, viewer.id) == "cancelled"
    assert store.get_job(job.id).cancelled_by == viewer.id
    assert [k.id for k in mine.list_keys()] == [admin.id, viewer.id]
    with pytest.raises(ValueError, match="last admin key of team kept-apart"):
        mine.revoke_key(admin.id)
    assert store.verify_key(key) is not None
    assert mine.revoke_key(viewer.id).revoked_at is not None
    with pytest.raises(ValueError, match="exists already"):
        store.create_team("kept-apart")
    with pytest.raises(ValueError, match="no team"):
        store.create_key("viewer", team="nowhere")
    assert [t.id for t in store.list_teams()].count(DEFAULT_TEAM) == 1
