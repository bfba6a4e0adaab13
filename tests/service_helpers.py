"""Real components for the service tests: a throw-away PostgreSQL cluster and a live server.

Both bind 127.0.0.1 only, live in a temporary folder and are stopped by the fixture using them.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
GEODATA = REPO / "geodata"
DEMO_FILES = ("demo_areas.gpkg", "demo_sites.csv", "demo_workforce.csv")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_document(ids: dict[str, str], *, time_limit_s: float = 8.0, name: str = "demo-county",
                  threads: int = 1) -> dict:
    """``examples/demo.yaml`` as a JSON scenario whose paths are the uploaded dataset ids.

    Without the demo's budget cap, so that one HiGHS thread finds a plan within seconds even
    on a busy test machine (with the cap, the first plan takes 6-10 s).
    """
    from mdtplan.scenario import read_document

    doc = read_document(REPO / "examples" / "demo.yaml")
    doc["name"] = name
    doc["operating_model"] = "default"
    doc["areas"]["path"] = ids["demo_areas.gpkg"]
    doc["sites"]["path"] = ids["demo_sites.csv"]
    doc["workforce"]["path"] = ids["demo_workforce.csv"]
    doc["solver"] = {"time_limit_s": time_limit_s, "mip_gap": 0.01, "threads": threads}
    doc["budget"] = {}
    return doc


def upload_demo(client, headers: dict) -> dict[str, str]:
    """Upload the three demo files; return ``{file name: dataset id}``."""
    ids = {}
    for name in DEMO_FILES:
        with open(GEODATA / name, "rb") as f:
            r = client.post("/v1/datasets", files={"file": (name, f)}, headers=headers)
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    return ids


# ----------------------------------------------------------------------------- in process
UPLOAD_LIMIT = 2 * 1024 * 1024


def make_service(data_dir, **overrides) -> SimpleNamespace:
    """The app without its dispatcher (jobs stay queued), a client, and a key per role."""
    from api.app import create_app
    from api.settings import Settings
    from api.store import ROLES

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    settings = Settings(**{"data_dir": data_dir,
                           "upload_max_bytes": UPLOAD_LIMIT, "json_max_bytes": 256 * 1024,
                           **overrides})
    app = create_app(settings, dispatch=False)
    keys = {role: app.state.store.create_key(role, f"test {role}")[0] for role in ROLES}

    def headers(role: str) -> dict:
        return {"Authorization": f"Bearer {keys[role]}"}

    def client() -> TestClient:
        return TestClient(app, base_url="http://127.0.0.1")

    return SimpleNamespace(app=app, settings=settings, store=app.state.store, keys=keys,
                           headers=headers, client=client)


# ----------------------------------------------------------------------------- PostgreSQL
class Postgres:
    """A PostgreSQL cluster in a temporary folder, on a free loopback port and a socket there.

    ``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres``
    system user (Debian's package makes it) and its commands run through ``runuser``.
    """

    def __init__(self, base: Path | None = None):
        # pytest's own temporary folders are private to root; the postgres user needs a way in
        self.base = Path(base) if base is not None else Path(tempfile.mkdtemp(prefix="mdtplan-pg-"))
        self.port = free_port()
        self.data = self.base / "data"
        self.sock = self.base / "sock"
        self.log = self.base / "postgres.log"
        self.url = f"postgresql+psycopg://mdtplan@127.0.0.1:{self.port}/mdtplan"
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        self.bin = Path(bins[-1]).parent if bins else None

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)

    def start(self) -> Postgres:
        if self.bin is None:
            raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin "
                               "(apt-get install postgresql)")
        self.base.mkdir(parents=True, exist_ok=True)
        self.sock.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
            os.chmod(self.base, 0o700)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "mdtplan",
                  "--auth=trust", "-E", "UTF8", "--no-sync")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                  "-t", "60", "-o",
                  f"-h 127.0.0.1 -p {self.port} -k {self.sock} -F -c fsync=off", "start")
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="mdtplan",
                             dbname="postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE mdtplan")
        return self

    def stop(self) -> None:
        if self.bin is not None and self.data.exists():
            try:
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                          "-w", "stop", timeout=60)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.base, ignore_errors=True)


def fail_in_ci_else_skip(reason: str) -> None:
    """A real component a test needs is missing: fail under CI (``CI=true``, where ``.ci/run``
    installs it), else skip with the reason."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def postgres_or_skip() -> Postgres:
    """Start a cluster; when it cannot start, fail under CI (``CI=true``), else skip."""
    pg = Postgres()
    try:
        return pg.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as err:
        detail = getattr(err, "stderr", "") or ""
        log = pg.log.read_text()[-2000:] if pg.log.exists() else ""
        fail_in_ci_else_skip(f"cannot start PostgreSQL: {err} {detail} {log}".strip())


# ----------------------------------------------------------------------------- live server
class LiveServer:
    """``uvicorn api.app:create_app`` in a subprocess on a free loopback port.

    Settings reach it through ``MDTPLAN_*`` variables; it keeps its data folder across
    :meth:`kill` and :meth:`start`, as a real restart would.
    """

    def __init__(self, data_dir: Path, **settings):
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = str(REPO) + os.pathsep + self.env.get("PYTHONPATH", "")
        self.env.update({"MDTPLAN_DATA_DIR": str(self.data_dir), "MDTPLAN_COOKIE_SECURE": "false",
                         "MDTPLAN_DISPATCH_INTERVAL_S": "0.2"})
        self.env.update({f"MDTPLAN_{k.upper()}": str(v) for k, v in settings.items()})
        self.proc: subprocess.Popen | None = None
        self.log = self.data_dir / "server.log"

    def start(self, timeout_s: float = 60) -> LiveServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            env=self.env, cwd=str(REPO), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not answer in {timeout_s} s")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as when a machine loses power."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def key(self, role: str) -> str:
        """A key made the way an administrator would: ``mdtplan keys create`` (its function)."""
        from api.cli import keys_create

        return keys_create(role, db=self.env.get("MDTPLAN_DB_URL"), data_dir=self.data_dir)

    def client(self, key: str | None = None, timeout: float = 60) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)


def wait_for(client, job_id: str, statuses=("finished", "failed", "cancelled"),
             timeout_s: float = 120) -> dict:
    """Poll a scenario until its status is one of ``statuses``; return its last state."""
    deadline = time.monotonic() + timeout_s
    while True:
        r = client.get(f"/v1/scenarios/{job_id}")
        assert r.status_code == 200, r.text
        body = r.json()
        if body["status"] in statuses:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"scenario {job_id} still {body['status']} after "
                                 f"{timeout_s} s: {body}")
        time.sleep(0.25)


def docs_picture(page, name: str) -> None:
    """Save the first screenful of ``page`` as ``docs/app-<name>.png`` for the README, only
    when asked (``MDTPLAN_UPDATE_DOCS=1``): tests never change the repository otherwise."""
    if os.environ.get("MDTPLAN_UPDATE_DOCS"):
        (REPO / "docs").mkdir(exist_ok=True)
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(REPO / "docs" / f"app-{name}.png"))
