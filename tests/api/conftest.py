"""Fixtures of the API tests: an app in process (TestClient) and keys of every role."""

from __future__ import annotations

import pytest
from service_helpers import make_service


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
