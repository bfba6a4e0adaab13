"""Fixtures of the API tests: an app in process (TestClient) and keys of every role; a job store
of its own and demo jobs in it, for the worker and the dispatcher."""

from __future__ import annotations

import pytest
from service_helpers import GEODATA, demo_document, make_service

from api.store import Store

FORMATS = {"demo_areas.gpkg": "gpkg", "demo_sites.csv": "csv", "demo_workforce.csv": "csv"}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    return make_service(tmp_path_factory.mktemp("service"))


@pytest.fixture(scope="module")
def client(service):
    with service.client() as c:
        yield c


@pytest.fixture(scope="module")
def demo_ids(service, client):
    from service_helpers import upload_demo

    return upload_demo(client, service.headers("planner"))


@pytest.fixture
def store(tmp_path):
    """A job store of its own, on SQLite (test_store.py has its own, on SQLite and PostgreSQL)."""
    s = Store(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    s.create_all()
    yield s
    s.dispose()


@pytest.fixture
def demo_job(store):
    """A queued demo job whose datasets are the bundled demo files."""
    ids = {}
    for i, (name, fmt) in enumerate(FORMATS.items()):
        ids[name] = f"ds_{i:016x}"
        store.add_dataset(id=ids[name], filename=name, format=fmt, path=str(GEODATA / name),
                          size_bytes=1, sha256="0" * 64, info={"layers": []})

    def make(start_from=None, **kw):
        return store.add_job(demo_document(ids, **kw), name="demo", start_from=start_from)

    return make
