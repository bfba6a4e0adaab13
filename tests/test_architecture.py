"""The one-direction pipeline (STYLE.md): each module imports only what its layer may."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "mdtplan"

# module (relative to mdtplan/) -> top-level names it must not import
FORBIDDEN = {
    "scenario.py": {"pandas", "geopandas", "pyomo", "numpy"},
    "operating_model.py": {"pandas", "geopandas", "pyomo"},
    "inputs.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "demand.py": {"pyomo", "mdtplan.model", "mdtplan.solve", "mdtplan.travel"},
    "travel.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "results.py": {"pyomo"},
    "outputs.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "maps.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "finance.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "workbook.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "plots.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "cli.py": {"pyomo"},
    "store.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "settings.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "model/matrix.py": {"mdtplan.solve", "pyomo"},
    # the cuts' numbers: HiGHS instances only, never the session that adds them
    "solve/cuts.py": {"pyomo", "pandas", "mdtplan.model", "mdtplan.solve.session",
                      "mdtplan.solve.stages", "mdtplan.solve.cut_plan"},
    # the HiGHS handle and the unchanged-plan proof know nothing of the model
    "solve/highs.py": {"pyomo", "pandas", "mdtplan.model", "mdtplan.solve.session"},
    "solve/reuse.py": {"pyomo", "pandas", "mdtplan.model", "mdtplan.solve.session"},
    # the start's search works on arrays; only start/instance.py and start/values.py read a model
    "solve/start/hubs.py": {"pyomo", "pandas", "mdtplan.model", "mdtplan.solve.session"},
    "solve/start/moves.py": {"pyomo", "pandas", "mdtplan.model", "mdtplan.solve.session"},
    "solve/start/staffing.py": {"pyomo", "pandas", "mdtplan.model", "mdtplan.solve.session"},
    "solve/start/search.py": {"pyomo", "pandas", "mdtplan.model", "mdtplan.solve.session"},
}

#: what nothing under mdtplan/solve/ may import: the solve is a stage, it never reaches on
SOLVE_FORBIDDEN = {"mdtplan.pipeline", "mdtplan.results", "mdtplan.outputs", "mdtplan.appraisal",
                   "mdtplan.explain", "api", "fastapi"}


def _imports(path: Path, root: Path = PKG) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against mdtplan/
                base = ["mdtplan"] + list(path.relative_to(root).parent.parts)
                base = base[: len(base) - (node.level - 1)]
                names.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                names.add(node.module)
    return names


def _violations(path: Path, forbidden: set[str], root: Path = PKG) -> list[str]:
    return sorted(n for n in _imports(path, root)
                  if any(n == f or n.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_module_respects_its_layer(module):
    path = PKG / module
    if not path.exists():
        pytest.skip(f"{module} not present")
    assert _violations(path, FORBIDDEN[module]) == []


def test_constraint_builders_import_only_pyomo_numpy_pandas():
    allowed = {"pyomo", "numpy", "pandas", "__future__", "typing", "collections",
               "mdtplan.model", "dataclasses", "math"}
    files = list((PKG / "model" / "constraints").glob("*.py"))
    assert files, "no constraint families found"
    for f in files:
        bad = [n for n in _imports(f)
               if not any(n == a or n.startswith(a + ".") for a in allowed)]
        assert bad == [], f"{f.name} imports {bad}"


def test_the_checker_sees_a_forbidden_import(tmp_path):
    f = tmp_path / "probe.py"
    f.write_text("import pyomo.environ as pyo\nfrom .model import build\n")
    assert _violations(f, {"pyomo", "mdtplan.model"}, root=tmp_path) == [
        "mdtplan.model", "pyomo.environ"]


def test_nothing_in_the_solve_reaches_on_to_later_stages():
    files = sorted((PKG / "solve").rglob("*.py"))
    assert files, "no mdtplan/solve package"
    for f in files:
        assert _violations(f, SOLVE_FORBIDDEN) == [], f.relative_to(PKG)
