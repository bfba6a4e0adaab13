"""Inputs that must not get through: non-finite numbers, YAML alias bombs, deep nesting and
binary files are refused with exit 2 naming the file (and the key), never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mdtplan.errors import ScenarioError
from mdtplan.scenario import (
    MAX_DOCUMENT_DEPTH,
    MAX_DOCUMENT_VALUES,
    parse_yaml_bounded,
    read_document,
)

REPO = Path(__file__).resolve().parents[1]


def _validate(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    r = subprocess.run([sys.executable, "-m", "mdtplan.cli", "validate", *args],
                       capture_output=True, text=True, env={**env, "COLUMNS": "400"}, cwd=REPO,
                       timeout=120)
    r.said = (r.stdout + r.stderr).replace("\n", "")  # the report, wherever rich wrapped it
    return r


def _bomb(levels: int = 8, width: int = 10) -> str:
    text = "x: &a [" + ",".join(["1"] * width) + "]\n"
    prev = "a"
    for i in range(1, levels + 1):
        name = f"a{i}"
        text += f"x{i}: &{name} [" + ",".join([f"*{prev}"] * width) + "]\n"
        prev = name
    return text


def test_alias_bomb_is_measured_not_built():
    # 10^9 values if expanded: refused from its 100-odd composed nodes
    with pytest.raises(ValueError, match="YAML aliases"):
        parse_yaml_bounded(_bomb())
    # a handful of aliases, as people write them, still reads
    small = parse_yaml_bounded("base: &b {min: 1}\nhubs: {count: *b}\n")
    assert small == {"base": {"min": 1}, "hubs": {"count": {"min": 1}}}
    assert MAX_DOCUMENT_VALUES >= 100_000


def test_deep_nesting_is_refused_in_yaml_and_json(tmp_path):
    deep_yaml = tmp_path / "deep.yaml"
    deep_yaml.write_text("name: " + "[" * 100_000 + "]" * 100_000 + "\n")
    deep_json = tmp_path / "deep.json"
    deep_json.write_text('{"name": ' + "[" * 100_000 + "]" * 100_000 + "}")
    medium = tmp_path / "medium.json"  # deeper than the limit but within Python's recursion
    medium.write_text(json.dumps({"a": json.loads("[" * (MAX_DOCUMENT_DEPTH + 5)
                                                  + "]" * (MAX_DOCUMENT_DEPTH + 5))}))
    for path in (deep_yaml, deep_json, medium):
        with pytest.raises(ScenarioError) as err:
            read_document(path)
        problem = err.value.problems[0]
        assert problem.file == str(path) and "nested more than" in problem.message


def test_binary_and_oversize_files_are_named(tmp_path):
    binary = tmp_path / "scenario.yaml"
    binary.write_bytes(b"name: x\n\x00\x01\x02")
    with pytest.raises(ScenarioError, match="binary file"):
        read_document(binary)
    big = tmp_path / "big.yaml"
    big.write_text("name: x\n" + "# filler\n" * 700_000)
    with pytest.raises(ScenarioError, match="more than a scenario or operating model file"):
        read_document(big)


@pytest.mark.parametrize("cap", [".inf", "-.inf", ".nan", "1e309"])
def test_non_finite_numbers_are_refused_naming_the_key(tmp_path, cap):
    doc = yaml.safe_load((REPO / "examples" / "demo.yaml").read_text())
    doc["operating_model"] = str(REPO / "models" / "default.yaml")
    for section in ("areas", "sites", "workforce"):
        doc[section]["path"] = str((REPO / "examples" / doc[section]["path"]).resolve())
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc).replace("cap: 23250000", f"cap: {cap}"))
    r = _validate(str(path))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "budget.cap" in r.said and "finite number" in r.said
    assert "Traceback" not in r.stderr
    # the same through --set
    path.write_text(yaml.safe_dump(doc))
    r = _validate(str(path), "--set", "hubs.max_travel_minutes=1e309")
    assert r.returncode == 2 and "hubs.max_travel_minutes" in r.said


def test_cli_refuses_bombs_and_deep_files_with_exit_2(tmp_path):
    for name, text in (("bomb.yaml", _bomb()), ("deep.yaml", "a: " + "[" * 50_000 + "]" * 50_000)):
        path = tmp_path / name
        path.write_text(text)
        r = _validate(str(path))
        assert r.returncode == 2, (name, r.stdout, r.stderr[-2000:])
        assert str(path) in r.said and "Traceback" not in r.stderr


def test_the_api_refuses_infinity_with_422(tmp_path):
    from service_helpers import make_service

    svc = make_service(tmp_path)
    body = '{"name": "x", "areas": {"path": "ds_0000000000000000", "id": "a", "population": "p"},' \
           ' "sites": {"path": "ds_0000000000000000", "id": "s"}, "budget": {"cap": Infinity}}'
    with svc.client() as c:
        r = c.post("/v1/scenarios", content=body, headers={**svc.headers("planner"),
                                                            "content-type": "application/json"})
    assert r.status_code == 422
    assert any(p["column"] == "budget.cap" for p in r.json()["detail"])


def test_threads_are_capped_in_the_schema_and_at_the_machines_cores():
    from mdtplan.errors import ScenarioError as Refused
    from mdtplan.options import solve_options_for
    from mdtplan.scenario import load_scenario

    with pytest.raises(Refused) as err:
        load_scenario(REPO / "examples" / "demo.yaml", overrides=["solver.threads=256"])
    assert err.value.problems[0].column == "solver.threads"
    scenario = load_scenario(REPO / "examples" / "demo.yaml", overrides=["solver.threads=64"])
    assert solve_options_for(scenario).threads == min(64, os.cpu_count() or 1)
    assert solve_options_for(scenario, threads=1).threads == 1
