"""Geodata that would exhaust memory is refused from its directory, before it is read."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pytest
from shapely.geometry import box

from mdtplan.inputs import readers


def _shapefile_zip(tmp_path, name="areas.zip"):
    frame = gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
                             crs="EPSG:27700")
    frame.to_file(tmp_path / "areas.shp")
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for part in tmp_path.glob("areas.*"):
            if part.suffix != ".zip":
                z.write(part, part.name)
    return path


def test_a_real_zipped_shapefile_passes(tmp_path):
    readers.check_archive(_shapefile_zip(tmp_path))


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("areas.dbf", b"\0" * (20 * 1024 * 1024))  # 20 MB of zeros: packs ~1000:1
    with pytest.raises(ValueError, match="zip bomb"):
        readers.check_archive(bomb)


def test_an_archive_too_large_unpacked_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_UNZIPPED_BYTES", 1000)
    with pytest.raises(ValueError, match="unpacks to"):
        readers.check_archive(_shapefile_zip(tmp_path))


def test_nested_zips_are_refused(tmp_path):
    inner = _shapefile_zip(tmp_path, "inner.zip")
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as z:
        z.write(inner, "inner.zip")
    with pytest.raises(ValueError, match="another zip"):
        readers.check_archive(outer)


def test_feature_counts_are_read_from_the_header(tmp_path, monkeypatch):
    path = tmp_path / "areas.gpkg"
    gpd.GeoDataFrame({"code": list("ABC")}, geometry=[box(i, 0, i + 1, 1) for i in range(3)],
                     crs="EPSG:27700").to_file(path, layer="areas")
    assert readers.check_feature_count(path, "areas") == 3
    monkeypatch.setattr(readers, "MAX_FEATURES", 2)
    with pytest.raises(ValueError, match="3 features, more than 2"):
        readers.check_feature_count(path, "areas")


def test_the_service_refuses_a_zip_bomb_upload(tmp_path):
    from service_helpers import make_service

    svc = make_service(tmp_path / "svc")
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("areas.shp", b"\0" * (20 * 1024 * 1024))
    with svc.client() as c, open(bomb, "rb") as f:
        r = c.post("/v1/datasets", files={"file": ("bomb.zip", f)},
                   headers=svc.headers("planner"))
    assert r.status_code == 422
    assert "zip bomb" in r.json()["detail"][0]["message"]
    assert list(svc.settings.datasets_dir.glob("*")) == []  # nothing kept
