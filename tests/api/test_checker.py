"""Reading an uploaded file, in process and in a throw-away process (api/checker.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from service_helpers import GEODATA

from api.checker import inspect_dataset


def test_inspect_reads_and_refuses(tmp_path):
    info = inspect_dataset(GEODATA / "demo_areas.gpkg", "gpkg")
    assert info["layers"][0]["rows"] == 358 and info["layers"][0]["crs"] == "EPSG:4326"
    bad = tmp_path / "bad.gpkg"
    bad.write_bytes(b"SQLite format 3\0" + b"\0" * 200)
    with pytest.raises(Exception):  # noqa: B017 - GDAL's own error type varies by version
        inspect_dataset(bad, "gpkg")
    out = subprocess.run([sys.executable, "-m", "api.checker", "inspect", str(bad), "gpkg"],
                         capture_output=True, text=True, timeout=120)
    assert json.loads(out.stdout.splitlines()[-1])["ok"] is False
