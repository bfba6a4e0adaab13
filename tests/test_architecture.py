"""The one-direction pipeline (STYLE.md): an allowed-list of imports for every module.

``ALLOWED`` says, for every module of ``mdtplan/`` and ``api/`` (by file, or by folder with a key
ending in ``/``), which of the project's own modules it may import. A module that no key covers
fails, so a new module must be placed in a layer before it lands. ``THIRD_PARTY_FORBIDDEN`` keeps
the light layers light (no pandas in the scenario schema, no Pyomo outside the model and the
solve), and the import graph of the project's own modules has no cycle.

The direction, from STYLE.md::

    scenario -> inputs -> demand -> travel -> assemble -> model -> solve -> results -> outputs
                                                                  \\-> explain
    appraisal (baseline, finance, Monte Carlo) after a run; pipeline composes one scenario;
    variants and sweep run many; cli and api only call them
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "mdtplan"
API = ROOT / "api"

_SCENARIO = {"mdtplan.errors", "mdtplan.resources", "mdtplan.scenario", "mdtplan.operating_model"}
_MODEL = {"mdtplan.errors", "mdtplan.model"}
_SOLVE = {*_MODEL, "mdtplan.solve"}
#: the results of a run: tables and the typed summary of summary.json
_RESULTS = {"mdtplan.results", "mdtplan.summary"}
_PREPARE = {*_SCENARIO, "mdtplan.inputs", "mdtplan.demand", "mdtplan.care", "mdtplan.travel",
            "mdtplan.adjacency", "mdtplan.assemble"}
#: what the service may use of the library: its public stages, never the model or the solve
_LIBRARY_FOR_SERVICE = {"mdtplan", *_SCENARIO, "mdtplan.pipeline", "mdtplan.variants",
                        "mdtplan.sweep", *_RESULTS, "mdtplan.outputs"}

#: module or folder/ (relative to the repository) -> the project's modules it may import
ALLOWED: dict[str, set[str]] = {
    "mdtplan/__init__.py": set(),
    "mdtplan/errors.py": set(),
    "mdtplan/resources.py": set(),
    "mdtplan/_vendor/": set(),
    "mdtplan/scenario.py": {"mdtplan.errors", "mdtplan.resources"},
    "mdtplan/operating_model.py": {"mdtplan.errors", "mdtplan.scenario"},
    "mdtplan/inputs/": {*_SCENARIO, "mdtplan.inputs"},
    "mdtplan/demand.py": _SCENARIO,
    # care pathways and levers: the demand's flows costed (no hubs, no Pyomo)
    "mdtplan/care.py": {*_SCENARIO, "mdtplan.demand"},
    "mdtplan/travel.py": {*_SCENARIO, "mdtplan.inputs"},
    # the areas' neighbour graph (hubs.contiguous): geometry only, beside travel
    "mdtplan/adjacency.py": {"mdtplan.errors"},
    "mdtplan/assemble.py": {*_SCENARIO, "mdtplan.inputs", "mdtplan.adjacency", "mdtplan.care",
                            "mdtplan.model.data"},
    # a rule family: pyomo, numpy, pandas and its own folder (data and index for types)
    "mdtplan/model/families/": {"mdtplan.model.families", "mdtplan.model.data",
                                "mdtplan.model.index"},
    "mdtplan/model/": _MODEL,
    "mdtplan/orlib.py": {"mdtplan.errors", "mdtplan.model.data"},
    "mdtplan/solve/": _SOLVE,
    # the start's search works on arrays: only instance.py reads a model
    "mdtplan/solve/start/": {"mdtplan.solve.start"},
    "mdtplan/solve/start/instance.py": {"mdtplan.model"},
    "mdtplan/solve/start/values.py": {"mdtplan.solve.start"},
    # HiGHS itself, the cuts and the proof of an unchanged plan know no model
    "mdtplan/solve/highs.py": set(),
    "mdtplan/solve/cuts.py": {"mdtplan.solve.highs"},
    "mdtplan/solve/hub_columns.py": {"mdtplan.solve.highs", "mdtplan.solve.cuts"},
    "mdtplan/solve/reuse.py": {"mdtplan.solve.status"},
    "mdtplan/explain.py": _SOLVE,
    # the typed summary: read back from summary.json with nothing but itself (and Problem)
    "mdtplan/summary/": {"mdtplan.errors", "mdtplan.summary"},
    "mdtplan/results.py": {"mdtplan.errors", "mdtplan.summary", "mdtplan.geography"},
    # the plan's figures on the map (pieces, nearest hub, separation) from the result tables
    "mdtplan/geography.py": {"mdtplan.summary", "mdtplan.adjacency"},
    "mdtplan/options.py": {"mdtplan.scenario", "mdtplan.solve"},
    # after a run: re-runs the stages on today's configuration; never the pipeline or variants
    "mdtplan/appraisal/": {*_PREPARE, "mdtplan.appraisal", "mdtplan.options", *_RESULTS,
                           "mdtplan.model.build", "mdtplan.model.index", "mdtplan.solve"},
    "mdtplan/outputs/": {"mdtplan.errors", *_RESULTS, "mdtplan.outputs"},
    # the second tier: locality teams of a solved plan's hubs (a small MIP in solve/)
    "mdtplan/localities.py": {"mdtplan.errors", "mdtplan.solve.localities"},
    "mdtplan/pipeline.py": {*_PREPARE, *_SOLVE, "mdtplan.options", "mdtplan.explain",
                            *_RESULTS, "mdtplan.appraisal", "mdtplan.localities"},
    "mdtplan/variants.py": {*_SCENARIO, *_SOLVE, "mdtplan.options", "mdtplan.pipeline"},
    "mdtplan/sweep.py": {*_SCENARIO, "mdtplan.variants", *_RESULTS,
                         "mdtplan.appraisal", "mdtplan.outputs"},
    # the command line calls the library's stages; the service only for serve and keys
    "mdtplan/cli.py": {*_LIBRARY_FOR_SERVICE, "mdtplan.demand", "mdtplan.orlib", "api.cli"},
    "api/": {"api", *_LIBRARY_FOR_SERVICE},
}

#: module or folder/ -> third-party packages it must not import
THIRD_PARTY_FORBIDDEN: dict[str, set[str]] = {
    "mdtplan/scenario.py": {"pandas", "geopandas", "numpy", "pyomo"},
    "mdtplan/operating_model.py": {"pandas", "geopandas", "pyomo"},
    "mdtplan/inputs/": {"pyomo", "highspy"},
    "mdtplan/demand.py": {"pyomo", "highspy"},
    "mdtplan/travel.py": {"pyomo", "highspy"},
    "mdtplan/adjacency.py": {"pyomo", "highspy"},
    "mdtplan/assemble.py": {"pyomo", "highspy"},
    "mdtplan/model/families/": {"highspy", "geopandas", "folium"},
    "mdtplan/model/matrix.py": {"pyomo"},
    "mdtplan/solve/start/": {"pyomo", "pandas"},
    "mdtplan/solve/start/values.py": {"pandas"},
    "mdtplan/solve/highs.py": {"pyomo", "pandas"},
    "mdtplan/solve/cuts.py": {"pyomo", "pandas"},
    "mdtplan/solve/hub_columns.py": {"pyomo", "pandas"},
    "mdtplan/solve/reuse.py": {"pyomo", "pandas"},
    "mdtplan/results.py": {"pyomo", "highspy"},
    "mdtplan/geography.py": {"pyomo", "highspy", "geopandas"},
    "mdtplan/summary/": {"pyomo", "highspy", "pandas", "geopandas"},
    "mdtplan/options.py": {"pandas", "geopandas", "pyomo"},
    "mdtplan/outputs/": {"pyomo", "highspy"},
    "mdtplan/appraisal/finance.py": {"pyomo", "highspy"},
    "mdtplan/pipeline.py": {"pyomo"},
    "mdtplan/localities.py": {"pyomo", "highspy"},
    "mdtplan/variants.py": {"pyomo"},
    "mdtplan/sweep.py": {"pyomo", "highspy"},
    "mdtplan/cli.py": {"pyomo", "highspy"},
    "api/": {"pyomo", "highspy"},
}

SERVICE = {"fastapi", "uvicorn", "starlette", "api"}
"""What only the service imports. In mdtplan/ only the command line may, and only inside the
functions of ``mdtplan serve`` and ``mdtplan keys``."""


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_nodes(path: Path, root: Path = ROOT):
    """(module, imported names or None) of every import in ``path``, anywhere in the file (lazy
    imports count), relative ones resolved."""
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module, [a.name for a in node.names]


def _imports(path: Path, root: Path = ROOT) -> set[str]:
    """The modules ``path`` imports from (``from X import y`` gives X)."""
    return {module for module, _ in _import_nodes(path, root)}


def _matches(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _key(rel: str, table: dict) -> str | None:
    """The most specific key of ``table`` covering module ``rel`` (a file, or a folder/)."""
    if rel in table:
        return rel
    folders = [k for k in table if k.endswith("/") and rel.startswith(k)]
    return max(folders, key=len) if folders else None


def _modules(root: Path = ROOT) -> list[Path]:
    return sorted(p for top in ("mdtplan", "api") for p in (root / top).rglob("*.py"))


def _own(name: str) -> bool:
    return name.split(".")[0] in ("mdtplan", "api")


def _violations(path: Path, root: Path = ROOT) -> list[str]:
    rel = path.relative_to(root).as_posix()
    key = _key(rel, ALLOWED)
    if key is None:
        return [f"{rel} is in no layer: give it a key in ALLOWED"]
    bad = [f"imports {n}" for n in sorted(_imports(path, root))
           if _own(n) and not _matches(n, ALLOWED[key] | {_module_name(path, root)})]
    forbidden = THIRD_PARTY_FORBIDDEN.get(_key(rel, THIRD_PARTY_FORBIDDEN) or "", set())
    bad += [f"imports {n}" for n in sorted(_imports(path, root)) if _matches(n, forbidden)]
    return bad


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_module_imports_only_what_its_layer_allows(path):
    assert _violations(path) == []


def test_every_key_names_something_that_exists():
    for key in (*ALLOWED, *THIRD_PARTY_FORBIDDEN):
        assert (ROOT / key).exists(), key


def _graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the project's modules it imports (lazy imports too), by module name.

    ``from package import module`` is an edge to the module, not to the package's
    ``__init__``; a name defined in a module is an edge to that module."""
    files = {_module_name(p, root): p for p in _modules(root)}

    def holder(n: str) -> str:
        while n and n not in files:
            n = n.rpartition(".")[0]
        return n

    graph = {}
    for name, path in files.items():
        targets = set()
        for module, names in _import_nodes(path, root):
            if names is None:
                targets.add(holder(module))
                continue
            for n in names:
                sub = f"{module}.{n}"
                targets.add(sub if sub in files else holder(module))
        graph[name] = targets - {"", name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    assert _cycles(_graph()) == []


def test_the_cycle_check_sees_a_cycle(tmp_path):
    for top in ("mdtplan", "api"):
        (tmp_path / top).mkdir()
        (tmp_path / top / "__init__.py").write_text("")
    (tmp_path / "mdtplan" / "a.py").write_text("def f():\n    from .b import g\n")
    (tmp_path / "mdtplan" / "b.py").write_text("from mdtplan.a import f\n")
    (tmp_path / "mdtplan" / "c.py").write_text("from . import a\n")
    assert _cycles(_graph(tmp_path)) == [["mdtplan.a", "mdtplan.b"]]


def test_the_layer_check_sees_an_unknown_module_and_a_forbidden_import(tmp_path):
    (tmp_path / "mdtplan" / "model").mkdir(parents=True)
    (tmp_path / "mdtplan" / "model" / "probe.py").write_text(
        "import pyomo.environ as pyo\nfrom ..pipeline import run\nfrom .index import x\n")
    (tmp_path / "mdtplan" / "newstage.py").write_text("x = 1\n")
    assert _violations(tmp_path / "mdtplan" / "model" / "probe.py", tmp_path) == [
        "imports mdtplan.pipeline"]
    assert "in no layer" in _violations(tmp_path / "mdtplan" / "newstage.py", tmp_path)[0]
    (tmp_path / "mdtplan" / "scenario.py").write_text("import pandas as pd\n")
    assert _violations(tmp_path / "mdtplan" / "scenario.py", tmp_path) == ["imports pandas"]


def _service_imports(root: Path) -> dict[str, list[str]]:
    """Each module under ``root``, the command line aside, that imports the service, and what."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.as_posix() == "cli.py" or rel.parts[0] == "cli":
            continue
        bad = sorted(n for n in _imports(path, root.parent) if _matches(n, SERVICE))
        if bad:
            found[rel.as_posix()] = bad
    return found


def test_the_library_does_not_import_the_service():
    assert _service_imports(PKG) == {}


def test_the_command_line_imports_the_service_only_when_a_service_command_needs_it():
    top = ast.parse((PKG / "cli.py").read_text()).body  # module level: every command loads it
    names = {a.name for n in top if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in top if isinstance(n, ast.ImportFrom) and n.module}
    assert sorted(n for n in names if _matches(n, SERVICE)) == []


def test_the_service_check_sees_an_import_of_the_service(tmp_path):
    lib = tmp_path / "mdtplan"
    (lib / "stage").mkdir(parents=True)
    (lib / "stage" / "probe.py").write_text("from api.store import Store\nimport fastapi\n")
    (lib / "probe.py").write_text("import uvicorn\nfrom starlette.requests import Request\n"
                                  "import apiary\nfrom .api import x\nimport api\n")
    (lib / "cli.py").write_text("def serve():\n    from api.cli import serve_command\n")
    assert _service_imports(lib) == {
        "probe.py": ["api", "starlette.requests", "uvicorn"],
        "stage/probe.py": ["api.store", "fastapi"]}
