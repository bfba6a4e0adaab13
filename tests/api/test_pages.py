"""Web pages: sign-in form and session cookie, ``/`` listing, escaping of user strings."""

from __future__ import annotations

import pytest
from service_helpers import demo_document, make_service

XSS = "<script>alert(1)</script>"


def _sign_in(c, key, next_path="/"):
    return c.post("/signin", data={"key": key, "next": next_path}, follow_redirects=False)


def test_pages_redirect_to_sign_in(service):
    with service.client() as c:
        r = c.get("/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/signin?next=/"
        form = c.get("/signin")
        assert form.status_code == 200 and 'name="key"' in form.text
        assert "script-src" not in form.headers["content-security-policy"]
        assert "default-src 'none'" in form.headers["content-security-policy"]


def test_sign_in_sets_a_safe_session_cookie(service):
    with service.client() as c:
        assert _sign_in(c, "mdtp_000000000000_wrong").status_code == 401
        r = _sign_in(c, service.keys["viewer"])
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("mdtplan_session=")
        low = cookie.lower()
        assert "httponly" in low and "samesite=strict" in low and "path=/" in low
        assert service.keys["viewer"] not in cookie  # the key itself is never in the cookie
        secret = service.keys["viewer"].split("_", 2)[2]
        assert secret not in cookie
        page = c.get("/")
        assert page.status_code == 200 and "Scenarios" in page.text
        # the cookie reads, never writes: a cross-site form cannot submit with it
        assert c.post("/v1/scenarios", json={}).status_code == 401
        assert c.get("/v1/scenarios").status_code == 200
        c.post("/signout")
        assert c.get("/", follow_redirects=False).status_code == 303


def test_cookie_is_secure_unless_relaxed(tmp_path):
    secure = make_service(tmp_path, cookie_secure=True)
    with secure.client() as c:
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
    assert '<meta http-equiv="refresh"' in page.text  # a queued job: the page refreshes
