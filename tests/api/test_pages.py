"""Web pages in process: sign-in and the session cookie, redirects, anti-forgery tokens,
the scenario list and its filter, the new-scenario form and its errors, error pages, static
files and compression. (The pages in Chromium: tests/test_browser_app.py.)"""

from __future__ import annotations

import re

import pytest
from service_helpers import demo_document, make_service

XSS = "<script>alert(1)</script>"


def _sign_in(c, key, next_path="/"):
    return c.post("/signin", data={"key": key, "next": next_path}, follow_redirects=False)


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_pages_redirect_to_sign_in(service):
    with service.client() as c:
        r = c.get("/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/signin?next=/"
        form = c.get("/signin")
        assert form.status_code == 200 and 'name="key"' in form.text
        csp = form.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert not re.search(r"<script(?![^>]*\bsrc=)", form.text)  # no inline script at all
        assert "<title>Sign in · mdtplan</title>" in form.text


def test_any_page_or_shared_link_goes_to_sign_in_and_back(service):
    """A link from an e-mail (a browser navigation, no session) reaches the sign-in form and,
    after signing in, the page it named; an API call without a key still gets JSON 401."""
    nav = {"accept": "text/html,application/xhtml+xml", "sec-fetch-mode": "navigate"}
    with service.client() as c:
        for path in ("/scenarios/new?from=example:demo", "/v1/scenarios/sc_0/map",
                     "/scenarios/sc_0"):
            r = c.get(path, headers=nav, follow_redirects=False)
            assert r.status_code == 303, path
            assert r.headers["location"].startswith("/signin?next=/")
        r = c.get("/v1/scenarios/sc_0/map", follow_redirects=False)
        assert r.status_code == 401 and r.json()["detail"].startswith("an API key is needed")
        back = _sign_in(c, service.keys["planner"], "/scenarios/new?from=example:demo")
        assert back.headers["location"] == "/scenarios/new?from=example:demo"


def test_sign_in_sets_a_safe_session_cookie(service):
    with service.client() as c:
        assert _sign_in(c, "mdtp_000000000000_wrong").status_code == 401
        r = _sign_in(c, service.keys["viewer"])
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("mdtplan_session=")
        low = cookie.lower()
        # Lax: links from e-mail open signed in; cross-site forms carry no session
        assert "httponly" in low and "samesite=lax" in low and "path=/" in low
        assert "; secure" not in low  # plain HTTP here: by the request's scheme
        assert service.keys["viewer"] not in cookie  # the key itself is never in the cookie
        secret = service.keys["viewer"].split("_", 2)[2]
        assert secret not in cookie
        page = c.get("/")
        assert page.status_code == 200 and "Scenarios" in page.text
        # the cookie never acts on the /v1 API
        assert c.post("/v1/scenarios", json={}).status_code == 401
        assert c.get("/v1/scenarios").status_code == 200
        c.post("/signout")
        assert c.get("/", follow_redirects=False).status_code == 303


def test_plain_http_is_warned_and_a_secure_only_cookie_is_refused_plainly(tmp_path):
    relaxed = make_service(tmp_path / "a")
    with relaxed.client() as c:
        assert "not encrypted (plain HTTP)" in c.get("/signin").text
    secure = make_service(tmp_path / "b", cookie_secure=True)
    with secure.client() as c:
        form = c.get("/signin").text
        assert "MDTPLAN_COOKIE_SECURE=true" in form
        r = _sign_in(c, secure.keys["viewer"])
        assert r.status_code == 400 and "set-cookie" not in r.headers
        assert "HTTPS-only" in r.text  # says why, not a silent return to the form
    with secure.client() as c:
        c.base_url = "https://127.0.0.1"
        cookie = _sign_in(c, secure.keys["viewer"]).headers["set-cookie"].lower()
        assert "; secure" in cookie


def test_revoked_key_ends_its_sessions(tmp_path):
    svc = make_service(tmp_path)
    with svc.client() as c:
        _sign_in(c, svc.keys["planner"])
        assert c.get("/").status_code == 200
        svc.store.revoke_key(svc.keys["planner"].split("_")[1])
        assert c.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_no_open_redirect(service, target):
    with service.client() as c:
        r = _sign_in(c, service.keys["viewer"], target)
        assert r.headers["location"] == "/"


def test_user_strings_are_escaped(client, service, demo_ids):
    doc = demo_document(demo_ids, name=XSS)
    r = client.post("/v1/scenarios", json=doc, headers=service.headers("planner"))
    assert r.status_code == 202, r.text
    with service.client() as c:
        _sign_in(c, service.keys["viewer"])
        page = c.get("/")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert XSS not in page.text
    # a queued job: the table (only) polls itself; no whole-page refresh stealing focus
    assert '<meta http-equiv="refresh"' not in page.text
    assert 'hx-trigger="every 5s"' in page.text and "data-keep-focus" in page.text


def test_list_filters_by_name_and_status(client, service, demo_ids):
    for name in ("north option", "south option"):
        r = client.post("/v1/scenarios", json=demo_document(demo_ids, name=name),
                        headers=service.headers("planner"))
        assert r.status_code == 202
    with service.client() as c:
        _sign_in(c, service.keys["viewer"])
        page = c.get("/", params={"q": "NORTH"}).text
        assert "north option" in page and "south option" not in page
        none = c.get("/", params={"status": "finished", "q": "north"}).text
        assert "north option" not in none and "No scenarios match the filter" in none
        partial = c.get("/partials/scenarios", params={"q": "south"}).text
        assert "south option" in partial and "<html" not in partial


def test_new_scenario_form_lists_examples_and_checks_fields(tmp_path):
    svc = make_service(tmp_path)
    with svc.client() as c:
        _sign_in(c, svc.keys["planner"])
        form = c.get("/scenarios/new")
        assert form.status_code == 200
        assert '<label class="govuk-label govuk-label--m" for="from">Start from</label>' in form.text
        assert 'value="example:demo" selected' in form.text
        assert 'for="budget_cap">Budget cap (£ per year)</label>' in form.text
        assert 'value="23250000"' in form.text  # the demo's own cap, ready to change
        token = _token(form.text)
        fields = {"csrf_token": token, "from": "example:demo", "name": "web demo",
                  "budget_cap": "twenty million", "objective": "max_demand_met",
                  "hubs_min": "8", "hubs_max": "5", "time_limit": "10", "contiguous": "on"}
        bad = c.post("/scenarios/new", data=fields)
        assert bad.status_code == 422
        assert "Budget cap (£ per year): &#39;twenty million&#39; is not a number" in bad.text
        assert 'href="#budget_cap"' in bad.text  # the error summary links to the field
        assert 'value="twenty million"' in bad.text  # nothing the user typed is lost
        assert svc.store.list_jobs() == []
        fields["budget_cap"] = "22,500,000"
        fields["hubs_max"] = "-1"
        bad = c.post("/scenarios/new", data=fields)
        assert bad.status_code == 422 and 'href="#hubs_max"' in bad.text
        fields["hubs_max"] = "20"
        ok = c.post("/scenarios/new", data=fields, follow_redirects=False)
        assert ok.status_code == 303, ok.text[-2000:]
        job_id = ok.headers["location"].rsplit("/", 1)[1]
        job = svc.store.get_job(job_id)
        assert job.name == "web demo" and job.status == "queued"
        assert job.scenario["budget"]["cap"] == 22_500_000
        assert job.scenario["solver"]["time_limit_s"] == 10
        assert job.scenario["areas"]["path"].startswith("ds_")  # the example's files, stored
        assert job.scenario["operating_model"] == "default"
        # a second run from the example re-uses the stored files
        ok2 = c.post("/scenarios/new", data={**fields, "name": "again"}, follow_redirects=False)
        job2 = svc.store.get_job(ok2.headers["location"].rsplit("/", 1)[1])
        assert job2.scenario["areas"]["path"] == job.scenario["areas"]["path"]
        # duplicate and change: the earlier scenario is the starting point
        dup = c.get(f"/scenarios/new?from=job:{job_id}").text
        assert f'value="job:{job_id}" selected' in dup and 'value="22500000"' in dup
        assert 'value="web demo (changed)"' in dup


def test_forms_need_their_token_and_this_site(tmp_path):
    svc = make_service(tmp_path)
    with svc.client() as c:
        _sign_in(c, svc.keys["planner"])
        token = _token(c.get("/scenarios/new").text)
        data = {"from": "example:demo", "name": "x", "budget_cap": ""}
        no_token = c.post("/scenarios/new", data=data)
        assert no_token.status_code == 403 and "not accepted" in no_token.text
        other_site = c.post("/scenarios/new", data={**data, "csrf_token": token},
                            headers={"origin": "https://evil.example"})
        assert other_site.status_code == 403
        other = make_service(tmp_path / "other")
        with other.client() as o:  # a token of another server (another secret) is refused
            _sign_in(o, other.keys["planner"])
            foreign = _token(o.get("/scenarios/new").text)
        assert c.post("/scenarios/new", data={**data, "csrf_token": foreign}).status_code == 403
        assert svc.store.list_jobs() == []


def test_viewers_read_but_cannot_create(tmp_path):
    svc = make_service(tmp_path)
    with svc.client() as c:
        _sign_in(c, svc.keys["viewer"])
        index = c.get("/").text
        assert "New scenario" not in index
        page = c.get("/scenarios/new", headers={"accept": "text/html"})
        assert page.status_code == 403 and "can read only" in page.text
        assert "<title>Not allowed · mdtplan</title>" in page.text


def test_missing_pages_are_pages_with_a_way_back(service):
    with service.client() as c:
        _sign_in(c, service.keys["viewer"])
        r = c.get("/scenarios/sc_doesnotexist", headers={"accept": "text/html"})
        assert r.status_code == 404 and "<title>Page not found · mdtplan</title>" in r.text
        assert 'href="/"' in r.text and "no scenario with id sc_doesnotexist" in r.text.lower()
        api = c.get("/v1/scenarios/sc_doesnotexist", headers={"accept": "application/json"})
        assert api.status_code == 404 and api.json() == {
            "detail": "no scenario with id sc_doesnotexist"}


def test_static_files_are_versioned_cached_and_compressed(service):
    from api.web.render import STATIC_PREFIX

    with service.client() as c:
        _sign_in(c, service.keys["viewer"])
        page = c.get("/")
        assert f'href="{STATIC_PREFIX}/govuk-frontend/govuk-frontend.min.css"' in page.text
        css = c.get(f"{STATIC_PREFIX}/govuk-frontend/govuk-frontend.min.css",
                    headers={"accept-encoding": "gzip"})
        assert css.status_code == 200
        assert "immutable" in css.headers["cache-control"]
        assert css.headers["content-encoding"] == "gzip"
        assert "GDS Transport" not in css.text  # the GOV.UK typeface is GOV.UK's only
        assert page.headers["cache-control"] == "no-store"  # council data is never cached
        assert c.get("/static/0.0.0-old/app.css").status_code == 404


def _ended_job(svc, name: str, by_role: str, *, result_dir=None):
    """A job submitted by the key of ``by_role``, run and finished (no solver needed)."""
    from api.store import FINISHED

    key_id = svc.keys[by_role].split("_")[1]
    job = svc.store.add_job({"name": name}, name=name, created_by=key_id)
    claimed = svc.store.claim_next()
    assert claimed.id == job.id
    svc.store.finish(job.id, claimed.attempts, FINISHED, summary={"status": "optimal"},
                     result_dir=result_dir)
    return job


def test_planners_archive_and_delete_their_own_admins_anyones(tmp_path):
    svc = make_service(tmp_path)
    folder = svc.settings.results_dir / "sc_mine"
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text("{}")
    mine = _ended_job(svc, "mine", "planner", result_dir=str(folder))
    theirs = _ended_job(svc, "theirs", "admin")
    with svc.client() as c:
        _sign_in(c, svc.keys["planner"])
        page = c.get(f"/scenarios/{mine.id}").text
        token = _token(page)
        assert f'action="/scenarios/{mine.id}/archive"' in page
        assert f'action="/scenarios/{theirs.id}/archive"' not in c.get(f"/scenarios/{theirs.id}").text
        r = c.post(f"/scenarios/{mine.id}/archive", data={"csrf_token": token, "archived": "1"},
                   follow_redirects=False)
        assert r.status_code == 303 and svc.store.get_job(mine.id).archived_at is not None
        listed = c.get("/").text
        assert "mine" not in listed and "theirs" in listed  # archived: hidden by default
        assert "mine" in c.get("/", params={"show": "archived"}).text
        api = c.get("/v1/scenarios", headers=svc.headers("viewer")).json()
        assert {j["id"] for j in api} == {mine.id, theirs.id}  # the API lists as before
        refused = c.post(f"/scenarios/{theirs.id}/delete", data={"csrf_token": token},
                         headers={"accept": "text/html"})
        assert refused.status_code == 403 and svc.store.get_job(theirs.id) is not None
        confirm = c.get(f"/scenarios/{mine.id}/delete").text
        assert "cannot be undone" in confirm
        gone = c.post(f"/scenarios/{mine.id}/delete", data={"csrf_token": token},
                      follow_redirects=False)
        assert gone.status_code == 303 and svc.store.get_job(mine.id) is None
        assert not folder.exists()
    with svc.client() as c:
        _sign_in(c, svc.keys["admin"])
        token = _token(c.get(f"/scenarios/{theirs.id}").text)
        assert c.post(f"/scenarios/{theirs.id}/delete", data={"csrf_token": token},
                      follow_redirects=False).status_code == 303
        assert svc.store.get_job(theirs.id) is None


def test_running_scenarios_cannot_be_deleted(tmp_path):
    svc = make_service(tmp_path)
    key_id = svc.keys["planner"].split("_")[1]
    job = svc.store.add_job({"name": "q"}, name="q", created_by=key_id)
    with svc.client() as c:
        _sign_in(c, svc.keys["planner"])
        token = _token(c.get("/scenarios/new").text)
        r = c.post(f"/scenarios/{job.id}/delete", data={"csrf_token": token},
                   headers={"accept": "text/html"})
        assert r.status_code == 409 and "cancel it first" in r.text
        assert svc.store.get_job(job.id).status == "queued"


def test_a_store_from_an_earlier_version_gains_the_archive_column(tmp_path):
    import sqlite3

    from api.store import Store

    path = tmp_path / "old.sqlite"
    store = Store(f"sqlite:///{path}")
    store.create_all()
    job = store.add_job({"name": "old"}, name="old")
    store.dispose()
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE jobs DROP COLUMN archived_at")  # as an earlier version made it
    con.commit()
    con.close()
    again = Store(f"sqlite:///{path}")
    again.create_all()
    assert again.get_job(job.id).archived_at is None  # the job is kept, the column added
    assert [j.id for j in again.list_jobs(archived=False)] == [job.id]
    assert again.list_jobs(archived=True) == []
    again.dispose()
