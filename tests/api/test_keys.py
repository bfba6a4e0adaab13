"""Access: API keys and roles (viewer < planner < admin), key management, the CLI."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from api.cli import keys_app, serve_command
from api.store import Store


def test_no_key_is_401_with_bearer_challenge(client):
    r = client.get("/v1/scenarios")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert "API key" in r.json()["detail"]


@pytest.mark.parametrize("header", ["Bearer mdtp_000000000000_nope", "Bearer nonsense",
                                    "Basic dXNlcjpwYXNz"])
def test_bad_key_is_401(client, header):
    r = client.get("/v1/scenarios", headers={"Authorization": header})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


def test_viewer_reads_but_cannot_submit_or_upload(client, service):
    assert client.get("/v1/scenarios", headers=service.headers("viewer")).status_code == 200
    r = client.post("/v1/scenarios", json={}, headers=service.headers("viewer"))
    assert r.status_code == 403 and "planner" in r.json()["detail"]
    r = client.post("/v1/datasets", files={"file": ("a.csv", b"id\n1\n")},
                    headers=service.headers("viewer"))
    assert r.status_code == 403
    r = client.post("/v1/sweeps", json={}, headers=service.headers("viewer"))
    assert r.status_code == 403


def test_planner_submits_but_cannot_manage_keys(client, service):
    # past the role check, the empty body fails validation: the planner was let in
    assert client.post("/v1/scenarios", json={},
                       headers=service.headers("planner")).status_code == 422
    assert client.get("/v1/keys", headers=service.headers("planner")).status_code == 403
    assert client.delete("/v1/datasets/ds_0000000000000000",
                         headers=service.headers("planner")).status_code == 403


def test_admin_makes_and_revokes_keys(client, service):
    admin = service.headers("admin")
    r = client.post("/v1/keys", json={"role": "viewer", "label": "auditor"}, headers=admin)
    assert r.status_code == 201
    made = r.json()
    assert made["role"] == "viewer" and made["key"].startswith("mdtp_")
    listed = client.get("/v1/keys", headers=admin).json()
    assert made["id"] in [k["id"] for k in listed]
    assert all("key" not in k for k in listed)  # never shown again
    new = {"Authorization": f"Bearer {made['key']}"}
    assert client.get("/v1/scenarios", headers=new).status_code == 200
    assert client.delete(f"/v1/keys/{made['id']}", headers=admin).json()["revoked_at"]
    assert client.get("/v1/scenarios", headers=new).status_code == 401
    assert client.delete("/v1/keys/000000000000", headers=admin).status_code == 404
    r = client.post("/v1/keys", json={"role": "root"}, headers=admin)
    assert r.status_code == 422 and r.json()["detail"][0]["column"] == "role"


def test_keys_create_prints_the_key_last(tmp_path):
    # wired as mdtplan/cli.py wires it
    cli = typer.Typer()
    cli.command("serve")(serve_command)
    cli.add_typer(keys_app, name="keys")
    db = f"sqlite:///{tmp_path / 'k.sqlite'}"
    result = CliRunner().invoke(cli, ["keys", "create", "--role", "planner", "--db", db])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1].split()[-1]
    store = Store(db)
    assert store.verify_key(key).role == "planner"
    store.dispose()
    bad = CliRunner().invoke(cli, ["keys", "create", "--role", "root", "--db", db])
    assert bad.exit_code == 2
