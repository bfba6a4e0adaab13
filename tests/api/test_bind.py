"""Dataset ids in a scenario document and their binding to stored files (api/bind.py)."""

from __future__ import annotations

from api.bind import bind_datasets, dataset_refs


def test_dataset_refs_and_binding():
    doc = {"areas": {"path": "ds_a", "tables": [{"path": "ds_b"}]}, "sites": {"path": "ds_c"},
           "travel": {"circuity": 1.3}, "operating_model": "default"}
    assert dataset_refs(doc) == [("areas.path", "ds_a"), ("areas.tables.0.path", "ds_b"),
                                 ("sites.path", "ds_c")]
    bound = bind_datasets(doc, {"ds_a": "/d/a.gpkg", "ds_b": "/d/b.csv", "ds_c": "/d/c.csv"},
                          "/m/default.yaml")
    assert bound["areas"]["tables"][0]["path"] == "/d/b.csv"
    assert bound["operating_model"] == "/m/default.yaml"
    assert doc["areas"]["path"] == "ds_a"  # the stored document is untouched
