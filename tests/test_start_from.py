"""What-ifs from a solved plan: ``mdtplan solve --start-from FOLDER`` and the reader of a
previous run's plan (mdtplan.inputs.prior).

End to end as a planner runs it: the demo solved, then solved again with one hub fewer from
that plan; the summary says how the earlier plan was used, and the plan keeps the new rule.
Bad folders get a clear error naming the file, row and column, and exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mdtplan.cli import app
from mdtplan.errors import InputError
from mdtplan.inputs.prior import prior_from_tables, read_prior

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _write(folder: Path, assignment: str | None, hubs: str | None = None,
           status: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if assignment is not None:
        (folder / "assignment.csv").write_text(assignment)
    if hubs is not None:
        (folder / "hubs.csv").write_text(hubs)
    if status is not None:
        (folder / "summary.json").write_text(json.dumps({"status": status}))
    return folder


# ---------------------------------------------------------------------------------------------
# Reading an earlier plan


def test_a_plan_is_read_by_ids_with_the_largest_share_serving_a_split_area(tmp_path):
    folder = _write(tmp_path / "run",
                    "area_id,site_id,share,travel_cost\nA1,S1,1,3\nA2,S1,0.3,4\nA2,S2,0.7,5\n",
                    "site_id,name\nS1,One\nS2,Two\n", status="optimal")
    prior = read_prior(folder)
    assert prior.open_sites == ("S1", "S2")
    assert prior.serving == {"A1": "S1", "A2": "S2"}
    assert prior.source == str(folder)


def test_without_hubs_csv_the_open_hubs_are_the_sites_the_assignment_uses(tmp_path):
    prior = read_prior(_write(tmp_path / "run", "area_id,site_id\nA1,S3\nA2,S3\nA3,S4\n"))
    assert prior.open_sites == ("S3", "S4")


def test_ids_are_matched_against_the_model_and_counted():
    prior = prior_from_tables(None, pd.DataFrame({"area_id": ["A1", "A9"],
                                                  "site_id": ["S1", "S1"]}), "x")

    class Index:
        site_ids = ["S0", "S1"]
        area_ids = ["A0", "A1"]

    is_open, chosen, matched = prior.positions(Index())
    assert is_open.tolist() == [False, True]
    assert chosen.tolist() == [-1, 1]
    assert matched == {"sites": 1, "sites_given": 1, "areas": 1, "areas_given": 2}


@pytest.mark.parametrize("files, where, words", [
    ({}, "", "is not a folder"),
    ({"assignment": None, "status": "optimal"}, "assignment.csv", "is missing"),
    ({"assignment": "area_id,site_id\nA1,S1\n", "status": "no_solution"}, "summary.json",
     "no plan to start from"),
    ({"assignment": "area,site\nA1,S1\n"}, "assignment.csv", "has no 'area_id' column"),
    ({"assignment": "area_id,site_id\nA1,S1\nA2,\n"}, "assignment.csv", "is empty in 1 row"),
    ({"assignment": "area_id,site_id,share\nA1,S1,x\n"}, "assignment.csv", "share"),
    ({"assignment": "area_id,site_id\nA1,S1\n", "hubs": "name\nOne\n"}, "hubs.csv",
     "has no 'site_id' column"),
])
def test_a_folder_without_a_usable_plan_is_refused_naming_the_file(tmp_path, files, where,
                                                                   words):
    folder = tmp_path / "run"
    if files:
        _write(folder, files.get("assignment"), files.get("hubs"), files.get("status"))
    with pytest.raises(InputError) as err:
        read_prior(folder)
    text = str(err.value)
    assert words in text and str(folder / where).rstrip("/") in text, text


# ---------------------------------------------------------------------------------------------
# The command


@pytest.fixture()
def short_demo(demo_copy):
    """The demo scenario beside its data, with a short time limit and no finance (the what-if
    is about the plan)."""
    return demo_copy(10, finance=None)


def test_a_what_if_with_one_hub_fewer_starts_from_the_earlier_plan(tmp_path, short_demo):
    out = tmp_path / "plan"
    first = invoke("solve", short_demo, "--out", out, "--threads", "1")
    assert first.exit_code == 0, first.output
    before = json.loads((out / "summary.json").read_text())
    n = before["hubs_open"]
    hubs_before = set(pd.read_csv(out / "hubs.csv", dtype=str)["site_id"])

    # the same folder in and out: the earlier plan is read before anything is written
    again = invoke("solve", short_demo, "--out", out, "--threads", "1", "--time-limit", "6",
                   "--set", f"hubs.count.max={n - 1}", "--start-from", out)
    assert again.exit_code == 0, again.output
    assert "Started from" in again.output
    after = json.loads((out / "summary.json").read_text())
    started = after["start_from"]
    assert started["source"] == str(out)
    assert started["matched"]["sites"] == n and started["hubs_dropped"] >= 1
    assert after["hubs_open"] <= n - 1
    if started["chosen"]:  # the plan grew from the earlier one: none of its hubs is new
        assert set(pd.read_csv(out / "hubs.csv", dtype=str)["site_id"]) <= hubs_before
    # a cold run has no start_from
    assert before["start_from"] is None


def test_start_from_a_folder_with_no_plan_exits_2_naming_it(tmp_path, short_demo):
    result = invoke("solve", short_demo, "--out", tmp_path / "out", "--start-from",
                    tmp_path / "nowhere")
    assert result.exit_code == 2
    said = "".join(result.output.split())  # the console wraps long lines anywhere
    assert "nowhere:isnotafolder" in said and "--start-from" in said
    assert not (tmp_path / "out" / "summary.json").exists()
