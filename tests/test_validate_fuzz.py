"""Fuzzing the input side: mangled files and scenarios never escape as a bare exception.

Each example writes mangled area, site, travel and workforce tables (wrong types, blanks,
duplicates, negative numbers, missing or renamed columns, junk text, empty or truncated files,
corrupt geodata) and a mangled scenario (wrong types, unknown keys, truncated YAML), then runs
``load_scenario``/``parse_scenario`` -> ``load_inputs`` -> ``allowed_pairs``. Each run must
either succeed or raise an :class:`~mdtplan.errors.MdtplanError` whose problems are non-empty
and say something.
"""

from __future__ import annotations

import copy
import csv
import io
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from mdtplan.errors import MdtplanError
from mdtplan.inputs import Inputs, load_inputs
from mdtplan.scenario import load_scenario, parse_scenario
from mdtplan.travel import allowed_pairs

JUNK = ["", " ", "abc", "1,234", "NaN", "NA", "n/a", "inf", "-inf", "-5", "-0", "1e309", "True",
        "false", "0x10", "null", "None", "'", '"', "#N/A", "１２", "12 ", " 7", "3.5.1", "∞"]
IDS = ["A1", "A2", "A3", "00123", "", " A1 ", "A1", "S1", "S2", "x"]

OPERATING_MODEL = {
    "name": "fuzz",
    "age_bands": ["age_18_64", "age_65_plus"],
    "roles": [{"id": "sw", "name": "Social worker", "kind": "core", "cost_gbp_per_fte": 50000,
               "productive_hours_per_fte": 1200}],
    "pools": {"by": "single"},
    "demand": {"client_groups": [{"id": "older", "rate_per_1000": {"age_65_plus": 100},
                                  "hours_per_contact": {"sw": 2}}]},
}

number = st.one_of(st.integers(-5, 10**6).map(str),
                   st.floats(allow_nan=True, allow_infinity=True).map(repr))
count = st.one_of(st.integers(0, 10**5).map(str), st.floats(0, 1e6).map(repr))
cell = st.one_of(number, number, st.sampled_from(JUNK), st.text(max_size=5))
easting = st.floats(560_000, 600_000).map(repr)
northing = st.floats(140_000, 170_000).map(repr)
longitude = st.floats(0.3, 1.4).map(repr)
latitude = st.floats(50.9, 51.4).map(repr)
json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False),
              st.text(max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6)


@st.composite
def table(draw, columns: dict, id_column: str, rows=(0, 6), clean=None,
          ) -> tuple[list[dict], bool]:
    """Rows of a table, and whether it is clean (unique ids, each column from its strategy).

    About half the tables are clean, so that many examples get through to travel; the others
    have junk cells and ids drawn from a small pool (blanks, duplicates, spaces).
    """
    clean = draw(clean if clean is not None else st.booleans())
    n = draw(st.integers(max(rows[0], 1) if clean else rows[0], rows[1]))
    out = []
    for i in range(n):
        row = {}
        for name, strategy in columns.items():
            row[name] = draw(strategy if clean else st.one_of(strategy, strategy, cell))
        row[id_column] = f"{id_column[0].upper()}{i + 1}" if clean else \
            draw(st.sampled_from(IDS) | st.text(max_size=4))
        out.append(row)
    return out, clean


@st.composite
def written(draw, drawn: tuple[list[dict], bool], folder: Path, stem: str, geo_ok: bool) -> str:
    """Write rows as CSV (possibly ragged, truncated or renamed) or as geodata; return the name."""
    rows, clean = drawn
    columns = list(rows[0]) if rows else ["code", "pop"]
    if clean:
        kind = draw(st.sampled_from(["csv", "csv", "gpkg", "geojson"] if geo_ok else ["csv"]))
    elif columns and draw(st.booleans()):
        victim = draw(st.sampled_from(columns))
        columns = [c if c != victim else draw(st.sampled_from(["", "Code", victim + "_x"]))
                   for c in columns]
    if not clean:
        kind = draw(st.sampled_from(["csv", "csv", "csv", "ragged", "truncated", "empty", "gpkg",
                                     "geojson", "corrupt"] if geo_ok else
                                    ["csv", "csv", "ragged", "truncated", "empty"]))
    if kind in ("gpkg", "geojson"):
        frame = pd.DataFrame([list(r.values()) for r in rows], columns=list(rows[0]) if rows
                             else columns).astype(str)
        frame.columns = [str(c) for c in frame.columns]
        if len(set(frame.columns)) != len(frame.columns) or "" in frame.columns:
            kind = "csv"
        else:
            point = st.builds(Point, st.floats(0.3, 1.4), st.floats(50.9, 51.4))
            points = [draw(point if clean else st.one_of(st.none(), point))
                      for _ in range(len(frame))]
            crs = "EPSG:4326" if clean else draw(st.sampled_from(["EPSG:4326", None]))
            gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(points, crs=crs))
            name = f"{stem}.{kind}"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # writing without a CRS, on purpose
                gdf.to_file(folder / name, driver="GPKG" if kind == "gpkg" else "GeoJSON")
            return name
    name = f"{stem}.csv"
    path = folder / name
    if kind == "empty":
        path.write_text(draw(st.sampled_from(["", "\n", ",", "code\n"])), encoding="utf-8")
    elif kind == "corrupt":
        name = f"{stem}.gpkg"
        (folder / name).write_bytes(draw(st.binary(max_size=64)) + b"SQLite format 3")
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            values = list(row.values())
            if kind == "ragged" and draw(st.booleans()):
                values = values + ["extra"] if draw(st.booleans()) else values[:-1]
            writer.writerow(values)
        text = buffer.getvalue()
        if kind == "truncated":
            text = text[:draw(st.integers(0, len(text)))]
        path.write_text(text, encoding="utf-8")
    return name


@st.composite
def case(draw, folder: Path):
    """Files in ``folder`` and a scenario document naming them.

    A third of the cases are clean throughout (so they reach ``allowed_pairs``, which may still
    report unreachable areas); the others mangle tables and the scenario at random.
    """
    tidy = draw(st.integers(0, 2)) == 0
    clean = st.just(True) if tidy else None
    crs = draw(st.sampled_from(["EPSG:27700", "EPSG:4326"] if tidy else
                               ["EPSG:27700", "EPSG:4326", "EPSG:99999", "nonsense"]))
    xs, ys = (easting, northing) if crs == "EPSG:27700" else (longitude, latitude)
    areas = draw(table({"code": st.just("A"), "pop": count, "pop2": count, "x": xs, "y": ys,
                        "grp": st.sampled_from(["East", "West", ""]),
                        "flag": st.sampled_from(["True", "False", "1", "yes"])}, "code",
                       clean=clean))
    sites = draw(table({"sid": st.just("S"), "x": xs, "y": ys,
                        "status": st.sampled_from(["candidate", "Existing", "excluded", "", "x"]
                                                  if not tidy else ["candidate", "Existing", ""]),
                        "cost": count, "cap": count, "pool": st.sampled_from(["p", "q"])},
                       "sid", rows=(0, 4), clean=clean))
    area_file = draw(written(areas, folder, "areas", geo_ok=True))
    site_file = draw(written(sites, folder, "sites", geo_ok=True))
    pick = (lambda good, bad: draw(st.sampled_from(good))) if tidy else \
        (lambda good, bad: draw(st.sampled_from(good * 3 + bad)))
    model = pick(["none", "good", "site_pools"], ["truncated", "missing"])
    doc: dict = {
        "name": "fuzz",
        "areas": {"path": area_file, "id": pick(["code"], ["cod"]),
                  "population": pick([{"age_18_64": "pop", "age_65_plus": "pop2"},
                                      {"age_65_plus": "pop2"}],
                                     ["pop", {"age_65_plus": "nope"}])},
        "sites": {"path": site_file, "id": pick(["sid"], ["id"])},
        "hubs": {"max_travel_minutes": draw(st.sampled_from([None, 30, 5, 1e6]))},
    }
    if model == "none" and draw(st.booleans()):
        doc["areas"]["population"] = "pop"
    if area_file.endswith(".csv"):
        doc["areas"]["coords"] = {"x": "x", "y": "y", "crs": crs}
    if site_file.endswith(".csv"):
        doc["sites"]["coords"] = {"x": "x", "y": "y", "crs": crs}
    if draw(st.booleans()):
        doc["areas"]["where"] = pick([{"flag": [True, False, 1, "yes"]}],
                                     [{"flag": [True]}, {"flag": ["yes", 1]}, {"nope": ["x"]},
                                      {"pop": [1, "2", None]}, {"grp": ["East"]}])
    optional_areas = {"group": (["grp"], ["nope"]), "name": (["code", "grp"], []),
                      "deprivation": (["pop"], ["flag"]),
                      "demand_override": ([{"sw": "pop2"}] if model != "none" else [{}],
                                          [{"ghost": "pop"}])}
    for key, (good, bad) in optional_areas.items():
        if draw(st.integers(0, 2)) == 0:
            doc["areas"][key] = pick(good, bad)
    optional_sites = {"status": (["status"], ["nope"]), "fixed_cost": (["cost"], ["cap"]),
                      "capacity": (["cap"], ["status"]), "capacity_fte": (["cap"], []),
                      "pool": (["pool"], []),
                      "where": ([{"pool": ["p", "q"]}], [{"status": ["excluded"]}])}
    for key, (good, bad) in optional_sites.items():
        if draw(st.integers(0, 2)) == 0:
            doc["sites"][key] = pick(good, bad)
    if model == "site_pools":
        doc["sites"]["pool"] = pick(["pool"], ["status"])
    if model != "none":
        data = copy.deepcopy(OPERATING_MODEL)
        if model == "site_pools":
            data["pools"] = {"by": "site"}
        text = yaml.safe_dump(data)
        if model == "truncated":
            text = text[:draw(st.integers(0, len(text) - 1))]
        if model != "missing":
            (folder / "model.yaml").write_text(text, encoding="utf-8")
        doc["operating_model"] = "model.yaml"
    if not tidy and draw(st.integers(0, 2)) == 0:
        travel = draw(table({"area_id": st.sampled_from(IDS), "site_id": st.sampled_from(IDS),
                             "minutes": count}, "area_id", rows=(0, 8)))
        doc["travel"] = {"path": draw(written(travel, folder, "travel", geo_ok=False))}
        if draw(st.booleans()):
            doc["travel"]["unit"] = draw(st.sampled_from(["km", "units"]))
    if draw(st.integers(0, 2)) == 0:
        staff = draw(table({"unit": st.sampled_from(["S1", "p", "all"]),
                            "role": st.sampled_from(["sw"] if tidy else ["sw", "ot", ""]),
                            "fte": count,
                            "contract": st.sampled_from(["permanent", "Agency"] if tidy else
                                                        ["permanent", "Agency", "bank", ""])},
                           "n", rows=(0, 4), clean=clean))
        doc["workforce"] = {"path": draw(written(staff, folder, "staff", geo_ok=False))}
    # scenario-level mangling: a wrong value or an unknown key somewhere
    if not tidy and draw(st.integers(0, 3)) == 0:
        section = draw(st.sampled_from(["areas", "sites", "hubs", "travel"]))
        node = doc.setdefault(section, {})
        node[draw(st.sampled_from(["id", "path", "population", "coords", "where", "layer",
                                   "max_travel_minutes", "surprise"]))] = draw(json_value)
    return doc


def run(doc_or_path, folder: Path) -> Inputs | None:
    """The input side of the pipeline; returns None when an MdtplanError was raised."""
    try:
        if isinstance(doc_or_path, Path):
            scenario = load_scenario(doc_or_path)
        else:
            scenario = parse_scenario(doc_or_path, base_dir=folder)
        inputs = load_inputs(scenario)
        pairs = allowed_pairs(inputs)
    except MdtplanError as err:
        assert err.problems, f"{type(err).__name__} without problems"
        assert all(p.message and p.message.strip() for p in err.problems)
        assert str(err)
        return None
    assert inputs.areas.index.is_unique and inputs.sites.index.is_unique
    assert (inputs.areas["population"] >= 0).all()
    assert set(pairs["site_id"]).isdisjoint(
        inputs.sites.index[inputs.sites["status"] == "excluded"])
    return inputs


FUZZ = settings(max_examples=50, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mangled_tables_and_scenarios(data):
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        doc = data.draw(case(folder))
        run(doc, folder)


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mangled_scenario_files(data):
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        doc = data.draw(case(folder))
        text = yaml.safe_dump(doc, sort_keys=False)
        if data.draw(st.booleans()):
            text = text[:data.draw(st.integers(0, len(text)))]  # truncated YAML
        elif data.draw(st.booleans()):
            text = text.replace(":", data.draw(st.sampled_from([" :", ":\t", "::", "="])), 1)
        path = folder / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        run(path, folder)


def test_a_clean_case_loads(tmp_path):
    """The fuzz harness itself can succeed (so the fuzz tests are not vacuous)."""
    (tmp_path / "areas.csv").write_text("code,pop,x,y\nA1,10,575000,155000\nA2,20,576000,155000\n")
    (tmp_path / "sites.csv").write_text("sid,x,y\nS1,575500,155000\n")
    doc = {"areas": {"path": "areas.csv", "id": "code", "population": "pop",
                     "coords": {"x": "x", "y": "y", "crs": "EPSG:27700"}},
           "sites": {"path": "sites.csv", "id": "sid",
                     "coords": {"x": "x", "y": "y", "crs": "EPSG:27700"}},
           "hubs": {"max_travel_minutes": 30}}
    inputs = run(doc, tmp_path)
    assert inputs is not None and list(inputs.areas.index) == ["A1", "A2"]
