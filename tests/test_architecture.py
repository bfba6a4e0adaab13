"""The one-direction pipeline (STYLE.md): each module imports only what its layer may."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "mdtplan"

#: what no module of appraisal/ imports: the pipeline and variants that call it, rule families
APPRAISAL = frozenset({"mdtplan.pipeline", "mdtplan.variants", "mdtplan.model.families",
                       "mdtplan.model.constraints"})
#: what no module of outputs/ imports: outputs are drawn from results, never from a model
OUTPUTS = frozenset({"pyomo", "mdtplan.model", "mdtplan.solve", "mdtplan.pipeline",
                     "mdtplan.variants"})

# module (relative to mdtplan/) -> top-level names it must not import
FORBIDDEN = {
    "scenario.py": {"pandas", "geopandas", "pyomo", "numpy"},
    "operating_model.py": {"pandas", "geopandas", "pyomo"},
    "inputs.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "demand.py": {"pyomo", "mdtplan.model", "mdtplan.solve", "mdtplan.travel"},
    "travel.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "results.py": {"pyomo"},
    "options.py": {"pandas", "geopandas", "pyomo", "mdtplan.model", "mdtplan.pipeline"},
    "pipeline.py": {"pyomo", "mdtplan.variants", "mdtplan.sweep", "mdtplan.outputs"},
    "variants.py": {"pyomo", "mdtplan.sweep", "mdtplan.outputs", "mdtplan.appraisal"},
    # after a run, never imported by it: the pipeline hands appraisal its own ``run``
    "appraisal/__init__.py": {*APPRAISAL, "pyomo", "mdtplan.model", "mdtplan.solve"},
    "appraisal/finance.py": {*APPRAISAL, "pyomo", "mdtplan.model", "mdtplan.solve"},
    "appraisal/montecarlo.py": {*APPRAISAL, "pyomo", "mdtplan.model", "mdtplan.solve"},
    # the model of record (build) and the public solve API, with its decisions fixed
    "appraisal/baseline.py": APPRAISAL,
    "outputs/__init__.py": OUTPUTS,
    "outputs/files.py": OUTPUTS,
    "outputs/maps.py": OUTPUTS,
    "outputs/workbook.py": OUTPUTS,
    "outputs/plots.py": OUTPUTS,
    "cli.py": {"pyomo"},
    "store.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "settings.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "model/matrix.py": {"mdtplan.solve", "pyomo"},
    "cuts.py": {"mdtplan.solve", "pyomo", "pandas"},
}


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


@pytest.mark.parametrize("folder", ["appraisal", "outputs"])
def test_every_module_of_a_stage_folder_has_its_rules(folder):
    modules = {f"{folder}/{f.name}" for f in (PKG / folder).glob("*.py")}
    assert modules, f"mdtplan/{folder}/ is empty"
    assert sorted(modules - set(FORBIDDEN)) == []


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
