"""A result folder holds one run's files: written aside and moved into place under a lock."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pandas as pd
from test_maps import small_plan

from mdtplan.outputs import read_result_dir, write_outputs
from mdtplan.outputs.files import LOCK_FILE


def _no_plan(results):
    """The same run as if it had found no plan: no hubs, so no map."""
    return replace(results, hubs=results.hubs.iloc[0:0],
                   assignment=results.assignment.iloc[0:0],
                   summary=replace(results.summary, name="second run"))


def test_a_run_with_fewer_files_leaves_none_of_the_earlier_runs(tmp_path):
    results, inputs = small_plan()
    first = write_outputs(results, tmp_path, inputs=inputs, workbook=False)
    assert (tmp_path / "map.html").is_file() and "map" in first
    second = write_outputs(_no_plan(results), tmp_path, inputs=inputs, workbook=False)
    assert "map" not in second
    assert not (tmp_path / "map.html").exists()  # not the first run's map beside the second
    assert json.loads((tmp_path / "summary.json").read_text())["name"] == "second run"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".mdtplan-")]
    assert leftovers == []  # the staging folder is gone
    assert (tmp_path / LOCK_FILE).exists()


def test_other_files_in_the_folder_are_left_alone(tmp_path):
    results, inputs = small_plan()
    (tmp_path / "notes.txt").write_text("mine")
    write_outputs(results, tmp_path, inputs=inputs, map_html=False, workbook=False)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_two_runs_into_one_folder_never_mix(tmp_path):
    results, inputs = small_plan()
    runs = [replace(results, summary=replace(results.summary, name=f"run {i}"),
                    hubs=results.hubs.assign(name=f"hub of run {i}")) for i in range(2)]
    for _ in range(3):
        threads = [threading.Thread(target=write_outputs, args=(r, tmp_path),
                                    kwargs={"map_html": False, "workbook": False})
                   for r in runs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        saved = read_result_dir(tmp_path)
        name = saved["summary"].name
        assert set(pd.read_csv(tmp_path / "hubs.csv")["name"]) == {f"hub of {name}"}


def test_a_failed_write_leaves_the_earlier_run_whole(tmp_path, monkeypatch):
    results, inputs = small_plan()
    write_outputs(results, tmp_path, map_html=False, workbook=False)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}

    import mdtplan.outputs.files as files

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(files, "lever_frame", broken)
    changed = replace(results, summary=replace(results.summary, name="broken run"))
    # a run whose levers table fails mid-way: nothing of it is published
    if changed.summary.finance is None or not changed.summary.finance.model_savings:
        monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    try:
        write_outputs(changed, tmp_path, map_html=False, workbook=False)
    except OSError:
        pass
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".mdtplan-")] == []
