"""The scenario schema: strict keys, typed overrides, relative paths, YAML round trip."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mdtplan.errors import ScenarioError
from mdtplan.scenario import apply_overrides, load_scenario, parse_scenario, read_document

BASE = {
    "name": "t",
    "areas": {"path": "areas.csv", "id": "code", "population": {"all": "pop"},
              "coords": {"x": "lon", "y": "lat"}},
    "sites": {"path": "sites.csv", "id": "site"},
    "hubs": {"count": {"min": 1, "max": 3}, "population": {"min": 10, "max": 100}},
    "budget": {"cap": 1_000_000},
}


def write(tmp_path, doc, name="s.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(doc) if name.endswith(".yaml") else json.dumps(doc))
    return p


def test_unknown_key_is_an_error_naming_the_key(tmp_path):
    doc = {**BASE, "hubs": {**BASE["hubs"], "max_travel_minuts": 30}}
    with pytest.raises(ScenarioError) as e:
        load_scenario(write(tmp_path, doc))
    cols = [p.column for p in e.value.problems]
    assert "hubs.max_travel_minuts" in cols
    assert "unknown key" in e.value.problems[0].message


def test_every_problem_is_reported_not_the_first(tmp_path):
    doc = {**BASE, "objective": "max_happiness", "budget": {"cap": -5}, "bogus": 1}
    with pytest.raises(ScenarioError) as e:
        load_scenario(write(tmp_path, doc))
    cols = {p.column for p in e.value.problems}
    assert {"objective", "budget.cap", "bogus"} <= cols


def test_relative_paths_resolve_against_scenario_folder(tmp_path):
    sub = tmp_path / "deep"
    sub.mkdir()
    s = load_scenario(write(sub, BASE))
    assert s.areas.path == str((sub / "areas.csv").resolve())
    assert s.sites.path == str((sub / "sites.csv").resolve())


def test_json_and_yaml_give_the_same_scenario(tmp_path):
    a = load_scenario(write(tmp_path, BASE, "a.yaml"))
    b = load_scenario(write(tmp_path, BASE, "b.json"))
    assert a.to_dict() == b.to_dict()


@pytest.mark.parametrize("override, key, expected", [
    ("budget.cap=48e6", ("budget", "cap"), 48e6),
    ("hubs.count.max=20", ("hubs", "count", "max"), 20),
    ("hubs.assignment=split", ("hubs", "assignment"), "split"),
    ("solver.time_limit_s=5", ("solver", "time_limit_s"), 5.0),
])
def test_overrides_are_typed_by_the_schema(tmp_path, override, key, expected):
    s = load_scenario(write(tmp_path, BASE), [override])
    node = s
    for k in key:
        node = getattr(node, k)
    assert node == expected


def test_bad_override_is_reported_against_its_key(tmp_path):
    with pytest.raises(ScenarioError) as e:
        load_scenario(write(tmp_path, BASE), ["budget.cap=lots"])
    assert e.value.problems[0].column == "budget.cap"
    with pytest.raises(ScenarioError) as e:
        load_scenario(write(tmp_path, BASE), ["budget.cap"])
    assert "KEY=VALUE" in e.value.problems[0].message


def test_override_does_not_change_the_original_document():
    doc = json.loads(json.dumps(BASE))
    apply_overrides(doc, ["budget.cap=1"])
    assert doc == BASE


def test_inconsistent_bands_are_rejected():
    doc = {**BASE, "hubs": {"count": {"min": 5, "max": 2}}}
    with pytest.raises(ScenarioError, match="above max"):
        parse_scenario(doc)
    doc = {**BASE, "hubs": {"count": {"exactly": 3, "min": 1}}}
    with pytest.raises(ScenarioError, match="exactly"):
        parse_scenario(doc)


def test_syntax_error_names_the_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nareas: [unclosed\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    assert e.value.problems[0].row is not None


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")


@settings(max_examples=40, deadline=None)
@given(cap=st.floats(min_value=0, max_value=1e9, allow_nan=False),
       pmin=st.integers(0, 50), extra=st.integers(0, 50),
       objective=st.sampled_from(["max_demand_met", "min_cost", "min_travel", "min_max_travel"]),
       assignment=st.sampled_from(["single", "split"]))
def test_yaml_round_trip(cap, pmin, extra, objective, assignment):
    doc = {**BASE, "budget": {"cap": cap}, "objective": objective,
           "hubs": {"count": {"min": pmin, "max": pmin + extra}, "assignment": assignment}}
    s = parse_scenario(doc)
    again = parse_scenario(yaml.safe_load(yaml.safe_dump(s.to_dict())))
    assert again == s


def test_a_folder_or_a_binary_file_is_refused_with_a_problem_not_a_crash(tmp_path):
    # an empty operating_model resolves to the scenario's folder; random bytes are no text
    with pytest.raises(ScenarioError) as err:
        read_document(tmp_path)
    assert "is a folder, not a file" in err.value.problems[0].message
    junk = tmp_path / "junk.yaml"
    junk.write_bytes(b"name: x\n\xff\xfe\x00\x81")
    with pytest.raises(ScenarioError) as err:
        read_document(junk)
    assert "is not UTF-8 text" in err.value.problems[0].message
    assert err.value.problems[0].file == str(junk)
