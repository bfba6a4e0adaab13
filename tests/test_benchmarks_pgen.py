"""The benchmark's generated p-median instances (pgen/prand-N-P), pmed21-40 from ``--orlib``,
the mdtplan-binary method and the p-median floor's continuous assignment."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # benchmarks/ runs from the checkout, it is not installed
    sys.path.insert(0, str(REPO))

from benchmarks.__main__ import run as bench_run  # noqa: E402
from benchmarks.instances import PGEN, prepare_instance, select, shared_dir  # noqa: E402
from benchmarks.methods import pmedian_matrix  # noqa: E402
from benchmarks.runner import SuiteOptions, run_suite  # noqa: E402
from benchmarks.synthetic import pmed_graph  # noqa: E402

SHARED = shared_dir(REPO)


def test_generated_instances_are_selected_by_kind_and_by_name():
    chosen = select(["pgen"], quick=False, shared=SHARED)
    assert [i.name for i in chosen] == list(PGEN)
    assert all(i.kind == "pgen" and "mdtplan-binary" in i.methods for i in chosen)
    one = select(["prand-321-7"], quick=False, shared=SHARED, time_limit_s=5.0)[0]
    assert (one.kind, one.time_limit_s) == ("pgen", 5.0)
    with pytest.raises(ValueError, match="neither a kind"):
        select(["pgen-5-9"], quick=False, shared=SHARED)  # p above n


def test_pmed21_to_40_need_their_folder(tmp_path):
    with pytest.raises(ValueError, match="--orlib"):
        select(["pmed26"], quick=False, shared=SHARED)
    inst = select(["pmed26"], quick=False, shared=SHARED, orlib=tmp_path)[0]
    assert inst.source == tmp_path / "pmed26.txt" and inst.kind == "pmed"


@pytest.mark.parametrize("kind", ["graph", "metric"])
def test_the_generator_is_deterministic_and_in_orlib_layout(kind, tmp_path):
    from mdtplan.orlib import read_pmed

    text = pmed_graph(60, 5, seed=3, kind=kind)
    assert text == pmed_graph(60, 5, seed=3, kind=kind)
    assert text != pmed_graph(60, 5, seed=4, kind=kind)
    path = tmp_path / "pmed-x.txt"
    path.write_text(text)
    inst = read_pmed(path)
    assert (inst.n, inst.p) == (60, 5)
    assert np.isfinite(inst.distance).all()  # connected
    assert (np.diag(inst.distance) == 0).all() and (inst.distance[~np.eye(60, dtype=bool)] >= 1).all()


def test_the_p_median_floor_keeps_the_assignment_continuous():
    d = np.array([[0.0, 2.0], [3.0, 0.0], [1.0, 1.0]])
    model = pmedian_matrix(d, 1)
    assert model.integrality.tolist() == [0] * 6 + [1, 1]


def test_a_generated_instance_runs_with_the_binary_method_beside(tmp_path):
    instances = select(["pgen-40-4"], quick=False, shared=SHARED, time_limit_s=30.0)
    rows = run_suite(instances, tmp_path, SHARED,
                     SuiteOptions(methods=("floor", "mdtplan", "mdtplan-binary")))
    by = {r["method"]: r for r in rows}
    assert set(by) == {"floor", "mdtplan", "mdtplan-binary"}
    assert all(r["status"] == "optimal" for r in rows), rows
    assert by["mdtplan"]["objective"] == pytest.approx(by["floor"]["objective"])
    assert by["mdtplan-binary"]["objective"] == pytest.approx(by["floor"]["objective"])
    assert by["mdtplan"]["relaxed"] is True and by["mdtplan-binary"]["relaxed"] is False
    assert by["mdtplan"]["same_problem"] is True
    assert (tmp_path / "instances" / "pgen-40-4" / "scenario.yaml").is_file()
    assert prepare_instance(instances[0], tmp_path / "again", SHARED).read_text() == \
        (tmp_path / "instances" / "pgen-40-4" / "scenario.yaml").read_text()


def test_the_command_accepts_the_binary_method_and_refuses_others(tmp_path):
    assert bench_run(only="pgen-30-3", methods="mdtplan-binary,nope", out=tmp_path) == 2
