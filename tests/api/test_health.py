"""``GET /health`` and the API description."""

from __future__ import annotations


def test_health_needs_no_key(client):
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["version"]
    assert body["dispatcher"] is False  # this app was built without one
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


def test_openapi_lists_every_contract_route(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path, method in [("/v1/datasets", "post"), ("/v1/scenarios", "post"),
                         ("/v1/scenarios", "get"), ("/v1/scenarios/{scenario_id}", "get"),
                         ("/v1/scenarios/{scenario_id}", "delete"),
                         ("/v1/scenarios/{scenario_id}/result", "get"),
                         ("/v1/scenarios/{scenario_id}/result/geojson", "get"),
                         ("/v1/scenarios/{scenario_id}/map", "get"),
                         ("/v1/scenarios/{scenario_id}/export.xlsx", "get"),
                         ("/v1/sweeps", "post"), ("/v1/sweeps/{sweep_id}", "get")]:
        assert method in paths[path], (path, method)
    # the scenario body is the one scenario schema of the CLI
    body = paths["/v1/scenarios"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("/Scenario")
    assert "ApiKey" in spec["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200


def test_api_docs_pages_load_nothing_from_outside(client):
    """/docs and /redoc name only this server's files (a closed council network has no CDN)."""
    import re

    from api.app import DOCS_ASSETS

    for page, script in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = client.get(page).text
        links = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert f"{DOCS_ASSETS}/{script}" in links, (page, links)
        for link in links:
            assert link.startswith("/") and not link.startswith("//"), (page, link)
            r = client.get(link)
            assert r.status_code == 200 and len(r.content) > 0, (page, link, r.status_code)
        assert "http://" not in html and "https://" not in html, page


def test_unknown_route_is_json_404(client):
    r = client.get("/v1/nothing")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
