"""``mdtplan schema``: the JSON Schemas of scenario and operating model files, kept in
docs/schema/, named on the first line of every example and bundled model so that editors
complete and check them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest
import yaml
from typer.testing import CliRunner

from mdtplan.cli import app, json_schema, json_schema_text
from mdtplan.errors import ScenarioError
from mdtplan.scenario import parse_scenario

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "docs" / "schema"
KINDS = {  # schema file -> (files that name it, the folder they lie in)
    "scenario.schema.json": sorted((REPO / "examples").glob("*.yaml")),
    "operating-model.schema.json": sorted((REPO / "models").glob("*.yaml")),
}
FILES = [(schema, f) for schema, files in KINDS.items() for f in files]


def test_committed_schemas_are_what_mdtplan_schema_writes_now(tmp_path):
    """After a change to the scenario or operating model: ``mdtplan schema --out
    docs/schema/scenario.schema.json`` and ``mdtplan schema --operating-model --out
    docs/schema/operating-model.schema.json``."""
    r = CliRunner().invoke(app, ["schema"])
    assert r.exit_code == 0
    assert r.stdout == (SCHEMAS / "scenario.schema.json").read_text(encoding="utf-8")
    out = tmp_path / "om.json"
    r = CliRunner().invoke(app, ["schema", "--operating-model", "--out", str(out)])
    assert r.exit_code == 0 and out.is_file()
    assert out.read_text(encoding="utf-8") == \
        (SCHEMAS / "operating-model.schema.json").read_text(encoding="utf-8")
    assert json_schema_text() == (SCHEMAS / "scenario.schema.json").read_text(encoding="utf-8")


def test_the_schema_is_a_2020_12_schema_of_the_scenarios_keys():
    doc = json_schema()
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["title"] == "mdtplan scenario" and doc["additionalProperties"] is False
    assert {"areas", "sites", "hubs", "budget", "objective", "solver", "finance"} <= \
        set(doc["properties"])
    assert "base_dir" not in doc["properties"]          # the loader's, not the user's
    assert set(doc["required"]) == {"areas", "sites"}
    om = json_schema(operating_model=True)
    assert om["title"] == "mdtplan operating model" and "roles" in om["properties"]


@pytest.mark.parametrize("schema,path", FILES, ids=[f"{p.parent.name}/{p.name}" for _, p in FILES])
def test_each_example_and_model_names_its_schema_and_validates(schema, path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema=../docs/schema/{schema}"
    assert (path.parent / "../docs/schema" / schema).resolve().is_file()
    validator = jsonschema_rs.validator_for(json.loads((SCHEMAS / schema).read_text()))
    errors = [f"{'.'.join(map(str, e.instance_path))}: {e.message[:200]}"
              for e in validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))]
    assert errors == []


def test_the_schema_refuses_what_mdtplan_refuses():
    """An editor flags the same faults as ``mdtplan validate``: an unknown key, a value of the
    wrong kind, a number out of range, a missing section."""
    validator = jsonschema_rs.validator_for(json_schema())
    good = yaml.safe_load((REPO / "examples" / "demo.yaml").read_text())
    assert validator.is_valid(good)
    bad = [
        ("hubs", {**good["hubs"], "max_travel_minuts": 40}),        # a misspelt key
        ("objective", "max_demand"),                                 # not an objective
        ("solver", {**good["solver"], "threads": 0}),                # below its minimum
        ("budget", {"cap": "lots"}),                                 # not a number
        ("sites", None),                                             # a required section
    ]
    for key, value in bad:
        doc = {**good, key: value}
        if value is None:
            del doc[key]
        assert not validator.is_valid(doc), key
        with pytest.raises(ScenarioError):
            parse_scenario(doc, file="demo.yaml", base_dir=REPO / "examples")
    # a published figure may be a bare number, as the model reads it
    figure = {"figure": "Total", "published": 9_800_000, "model": "total_cost",
              "source": "Council report, 2024"}
    doc = {**good, "fidelity": {"council": "Demoshire", "figures": [figure]}}
    assert validator.is_valid(doc)
    parse_scenario(doc, file="demo.yaml", base_dir=REPO / "examples")
