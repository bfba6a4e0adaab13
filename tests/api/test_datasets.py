"""Uploads: read whole on upload, described; oversize 413 while streaming; bad files 422."""

from __future__ import annotations

import io
import zipfile

import geopandas as gpd
from service_helpers import GEODATA, UPLOAD_LIMIT


def _upload(client, headers, name, content):
    return client.post("/v1/datasets", files={"file": (name, content)}, headers=headers)


def test_demo_files_are_described(client, service, demo_ids):
    viewer = service.headers("viewer")
    areas = client.get(f"/v1/datasets/{demo_ids['demo_areas.gpkg']}", headers=viewer).json()
    assert areas["format"] == "gpkg"
    assert areas["layers"] == [{
        "name": "areas", "rows": 358, "crs": "EPSG:4326", "geometry_type": "MultiPolygon",
        "columns": ["area_code", "area_name", "district", "settlement", "settlement_type",
                    "pop_18_64", "pop_65_74", "pop_75_84", "pop_85_plus", "imd_score"]}]
    sites = client.get(f"/v1/datasets/{demo_ids['demo_sites.csv']}", headers=viewer).json()
    assert sites["layers"][0]["rows"] == 40 and "easting" in sites["layers"][0]["columns"]
    assert sites["size_bytes"] == (GEODATA / "demo_sites.csv").stat().st_size
    listed = [d["id"] for d in client.get("/v1/datasets", headers=viewer).json()]
    assert set(demo_ids.values()) <= set(listed)


def test_zipped_shapefile_and_geoparquet(client, service, tmp_path):
    areas = gpd.read_file(GEODATA / "demo_areas.gpkg").head(20)
    areas.to_file(tmp_path / "areas.shp")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for part in tmp_path.glob("areas.*"):
            z.write(part, part.name)
    r = _upload(client, service.headers("planner"), "areas.zip", buf.getvalue())
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "shp-zip" and r.json()["layers"][0]["rows"] == 20
    areas.to_parquet(tmp_path / "areas.parquet")
    r = _upload(client, service.headers("planner"), "areas.parquet",
                (tmp_path / "areas.parquet").read_bytes())
    assert r.status_code == 201, r.text
    assert r.json()["layers"][0]["crs"] == "EPSG:4326"


def test_oversize_upload_is_413_and_not_kept(client, service):
    before = set(service.settings.datasets_dir.iterdir())
    big = b"id,x\n" + b"1,2\n" * (UPLOAD_LIMIT // 4 + 10)
    r = _upload(client, service.headers("planner"), "big.csv", big)
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    # without a declared length the limit is enforced while the body streams in

    def chunks():
        boundary = b"--xyz"
        yield boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="b.csv"\r\n\r\n'
        for _ in range(UPLOAD_LIMIT // 65536 + 8):
            yield b"1" * 65536
        yield b"\r\n" + boundary + b"--\r\n"

    r = client.post("/v1/datasets", content=chunks(),
                    headers={**service.headers("planner"),
                             "Content-Type": "multipart/form-data; boundary=xyz"})
    assert r.status_code == 413
    assert set(service.settings.datasets_dir.iterdir()) == before


def test_unauthenticated_upload_refused_before_the_body(client):
    r = _upload(client, {}, "a.csv", b"id\n1\n")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_corrupt_and_unknown_files_are_422(client, service):
    planner = service.headers("planner")
    r = _upload(client, planner, "areas.gpkg", b"this is not a GeoPackage" * 100)
    assert r.status_code == 422
    problem = r.json()["detail"][0]
    assert problem["column"] == "file" and "cannot read 'areas.gpkg'" in problem["message"]
    assert str(service.settings.data_dir) not in r.text  # no server path leaks
    r = _upload(client, planner, "tool.exe", b"MZ....")
    assert r.status_code == 422 and "not a format" in r.json()["detail"][0]["message"]
    r = _upload(client, planner, "empty.csv", b"")
    assert r.status_code == 422 and "empty" in r.json()["detail"][0]["message"]
    r = _upload(client, planner, "model.yaml", b"roles: 3\n")
    assert r.status_code == 422 and "operating model" in r.json()["detail"][0]["message"]
    r = client.post("/v1/datasets", headers=planner)
    assert r.status_code == 422 and r.json()["detail"][0]["column"] == "file"


def test_operating_model_upload(client, service, repo_root):
    r = _upload(client, service.headers("planner"), "mine.yaml",
                (repo_root / "models" / "default.yaml").read_bytes())
    assert r.status_code == 201, r.text
    assert "social_worker" in r.json()["operating_model"]["roles"]


def test_only_admin_deletes(client, service):
    r = _upload(client, service.headers("planner"), "t.csv", b"id,v\na,1\n")
    ds = r.json()["id"]
    path = service.store.get_dataset(ds).path
    assert client.delete(f"/v1/datasets/{ds}", headers=service.headers("planner")).status_code == 403
    assert client.delete(f"/v1/datasets/{ds}", headers=service.headers("admin")).status_code == 204
    assert client.get(f"/v1/datasets/{ds}", headers=service.headers("viewer")).status_code == 404
    import os

    assert not os.path.exists(path)


def test_files_no_dataset_names_are_removed_on_start(tmp_path):
    """An upload cut off by a crash leaves its file: the next start removes it (only files
    older than a minute, and never a dataset's own file)."""
    import os
    import time

    from service_helpers import GEODATA, make_service

    svc = make_service(tmp_path)
    with svc.client() as c, open(GEODATA / "demo_sites.csv", "rb") as f:
        kept = c.post("/v1/datasets", files={"file": ("demo_sites.csv", f)},
                      headers=svc.headers("planner")).json()["id"]
    folder = svc.settings.datasets_dir
    orphan = folder / "ds_00000000deadbeef.gpkg"
    orphan.write_bytes(b"x" * 1000)
    fresh = folder / "ds_00000000cafebabe.csv"
    fresh.write_bytes(b"a,b\n")
    old = time.time() - 3600
    os.utime(orphan, (old, old))
    os.utime(next(folder.glob(f"{kept}.*")), (old, old))
    again = make_service(tmp_path)  # a restart on the same data folder
    with again.client():
        pass
    assert not orphan.exists()
    assert fresh.exists()  # perhaps an upload under way elsewhere
    assert len(list(folder.glob(f"{kept}.*"))) == 1
