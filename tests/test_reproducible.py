"""Reproducible mode: work limits instead of seconds, so the same scenario and seed give the
same plan whatever the machine's load (the demo solved twice, once beside a busy loop)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

#: small work limits keep the two solves short; the point is that they are the same
WORK = ["--set", "solver.reproducible=true", "--set", "solver.node_limit=50",
        "--set", "solver.check_limit=3"]


def _solve(repo_root, out):
    done = subprocess.run(
        [sys.executable, "-c", "from mdtplan.cli import main; main()", "solve",
         str(repo_root / "examples" / "demo.yaml"), "--out", str(out), *WORK],
        capture_output=True, text=True, timeout=900, cwd=repo_root,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(repo_root)})
    assert done.returncode == 0, done.stderr
    plan = {name: pd.read_csv(out / f"{name}.csv")
            for name in ("hubs", "assignment", "staffing")}
    return json.loads((out / "summary.json").read_text()), plan


@pytest.mark.slow
def test_the_same_plan_under_another_load(repo_root, tmp_path):
    quiet, plan_a = _solve(repo_root, tmp_path / "a")
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        loaded, plan_b = _solve(repo_root, tmp_path / "b")
    finally:
        busy.kill()
        busy.wait()
    assert quiet["reproducible"] is True and loaded["reproducible"] is True
    assert quiet["work_limits"]["node_limit"] == 50 and quiet["work_limits"]["threads"] == 1
    assert quiet["timings"]["limit_s"] is None  # no clock ends anything
    hubs = sorted(plan_a["hubs"]["site_id"].astype(str))
    assert hubs == sorted(plan_b["hubs"]["site_id"].astype(str))
    key = ["area_id", "site_id"]
    a = plan_a["assignment"].sort_values(key).reset_index(drop=True)
    b = plan_b["assignment"].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[key].astype(str), b[key].astype(str))
    fte = ["unit", "role", "fte"]
    pd.testing.assert_frame_equal(plan_a["staffing"][fte].sort_values(fte[:2]).reset_index(
        drop=True), plan_b["staffing"][fte].sort_values(fte[:2]).reset_index(drop=True))
    assert quiet["stage_objectives"] == loaded["stage_objectives"]
