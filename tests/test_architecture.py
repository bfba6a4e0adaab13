"""The one-direction pipeline (STYLE.md): each module imports only what its layer may."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "mdtplan"
API = PKG.parent / "api"

#: what no module of appraisal/ imports: the pipeline and variants that call it, rule families
APPRAISAL = frozenset({"mdtplan.pipeline", "mdtplan.variants", "mdtplan.model.families"})
#: what no module of outputs/ imports: outputs are drawn from results, never from a model
OUTPUTS = frozenset({"pyomo", "mdtplan.model", "mdtplan.solve", "mdtplan.pipeline",
                     "mdtplan.variants"})

# module (relative to mdtplan/) -> top-level names it must not import

# module (relative to mdtplan/) -> top-level names it must not import; a key ending in "/" is a
# folder, and its names hold for every module in it (subfolders included)
FORBIDDEN = {
    "scenario.py": {"pandas", "geopandas", "pyomo", "numpy"},
    "operating_model.py": {"pandas", "geopandas", "pyomo"},
    "inputs/": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "demand.py": {"pyomo", "mdtplan.model", "mdtplan.solve", "mdtplan.travel"},
    "travel.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "results.py": {"pyomo", "mdtplan.appraisal"},
    # the typed summary: read back from summary.json with nothing but itself (and errors.Problem)
    "summary/": {"pyomo", "pandas", "geopandas", "mdtplan.model", "mdtplan.solve",
                 "mdtplan.appraisal", "mdtplan.results", "mdtplan.pipeline", "mdtplan.outputs",
                 "mdtplan.inputs", "mdtplan.scenario"},
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
    "model/matrix.py": {"mdtplan.solve", "pyomo"},
    "cuts.py": {"mdtplan.solve", "pyomo", "pandas"},
}

# service module (relative to api/) -> top-level names it must not import
API_FORBIDDEN = {
    "store.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
    "settings.py": {"pyomo", "mdtplan.model", "mdtplan.solve"},
}

SERVICE = {"fastapi", "uvicorn", "starlette", "api"}
"""What only the service imports. In mdtplan/ only the command line may, and only inside the
functions of ``mdtplan serve`` and ``mdtplan keys``."""


def _imports(path: Path, root: Path = PKG, package: str = "mdtplan") -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against root (mdtplan/, or api/)
                base = [package] + list(path.relative_to(root).parent.parts)
                base = base[: len(base) - (node.level - 1)]
                names.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                names.add(node.module)
    return names


def _violations(path: Path, forbidden: set[str], root: Path = PKG,
                package: str = "mdtplan") -> list[str]:
    return sorted(n for n in _imports(path, root, package)
                  if any(n == f or n.startswith(f + ".") for f in forbidden))


def _checked_modules() -> list[tuple[str, str]]:
    """(module, its FORBIDDEN key) for every key: a folder key gives each module in the folder."""
    pairs = []
    for key in sorted(FORBIDDEN):
        folder = PKG / key
        if key.endswith("/") and folder.is_dir():
            files = sorted(folder.rglob("*.py"))
            pairs += [(f.relative_to(PKG).as_posix(), key) for f in files]
        else:
            pairs.append((key, key))
    return pairs


@pytest.mark.parametrize(("module", "key"), _checked_modules())
def test_module_respects_its_layer(module, key):
    path = PKG / module
    if not path.exists():
        pytest.skip(f"{module} not present")
    assert _violations(path, FORBIDDEN[key]) == []


def test_a_folder_key_covers_every_module_in_the_folder():
    checked = {module for module, key in _checked_modules() if key == "inputs/"}
    assert checked == {f.relative_to(PKG).as_posix() for f in (PKG / "inputs").rglob("*.py")}
    assert "inputs/__init__.py" in checked


@pytest.mark.parametrize("folder", ["appraisal", "outputs"])
def test_every_module_of_a_stage_folder_has_its_rules(folder):
    modules = {f"{folder}/{f.name}" for f in (PKG / folder).glob("*.py")}
    assert modules, f"mdtplan/{folder}/ is empty"
    assert sorted(modules - set(FORBIDDEN)) == []


def test_rule_families_import_only_pyomo_numpy_pandas_scipy():
    allowed = {"pyomo", "numpy", "pandas", "scipy", "__future__", "typing", "collections",
               "dataclasses", "math", "mdtplan.model.families"}
    files = list((PKG / "model" / "families").glob("*.py"))
    assert len(files) > 10, "no rule families found"
    for f in files:
        bad = [n for n in _imports(f)
               if not any(n == a or n.startswith(a + ".") for a in allowed)]
        assert bad == [], f"{f.name} imports {bad}"


def test_the_checker_sees_a_forbidden_import(tmp_path):
    f = tmp_path / "probe.py"
    f.write_text("import pyomo.environ as pyo\nfrom .model import build\n")
    assert _violations(f, {"pyomo", "mdtplan.model"}, root=tmp_path) == [
        "mdtplan.model", "pyomo.environ"]


@pytest.mark.parametrize("module", sorted(API_FORBIDDEN))
def test_service_module_respects_its_layer(module):
    assert _violations(API / module, API_FORBIDDEN[module], root=API, package="api") == []


def _service_imports(root: Path) -> dict[str, list[str]]:
    """Each module under ``root``, the command line aside, that imports the service, and what."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.as_posix() == "cli.py" or rel.parts[0] == "cli":
            continue
        bad = _violations(path, SERVICE, root)
        if bad:
            found[rel.as_posix()] = bad
    return found


def test_the_library_does_not_import_the_service():
    assert _service_imports(PKG) == {}


def test_the_command_line_imports_the_service_only_when_a_service_command_needs_it():
    cli = PKG / "cli.py"
    if not cli.exists():
        pytest.skip("cli.py not present")
    top = ast.parse(cli.read_text()).body  # module level: imported by every mdtplan command
    names = {a.name for n in top if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in top if isinstance(n, ast.ImportFrom) and n.module}
    assert sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in SERVICE)) == []


def test_the_service_check_sees_an_import_of_the_service(tmp_path):
    (tmp_path / "stage").mkdir()
    (tmp_path / "stage" / "probe.py").write_text("from api.store import Store\nimport fastapi\n")
    (tmp_path / "probe.py").write_text("import uvicorn\nfrom starlette.requests import Request\n"
                                       "import apiary\nfrom .api import x\nimport api\n")
    (tmp_path / "cli.py").write_text("def serve():\n    from api.cli import serve_command\n")
    assert _service_imports(tmp_path) == {
        "probe.py": ["api", "starlette.requests", "uvicorn"],
        "stage/probe.py": ["api.store", "fastapi"]}
