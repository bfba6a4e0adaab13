"""The user guide (docs/, mkdocs.yml): it builds with ``mkdocs build --strict``, its scenario
and operating model references are generated from the current JSON Schemas, it keeps every
section the README had before the guide moved out of it, and the README points to it."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"

#: the section headings of README.md before the user guide and the engineering notes moved to
#: docs/ (each must still be a heading in README.md or a page of docs/)
OLD_README_HEADINGS = [
    "mdtplan", "Two commands on a fresh machine", "Using it", "Scenario file",
    "Locality teams (a second tier)", "Objectives", "How it is solved", "Operating models",
    "What you see", "Savings the model makes: care pathways and levers",
    "Finance: savings against today, ranges, Monte Carlo",
    "Demand growth: a plan against a later year",
    "Published figures beside the model's (`fidelity`)", "Sweeps and frontiers",
    "The examples", "The HTTP service", "In the browser",
    "Uploading your own data in the browser", "Correctness", "Benchmarks",
    "The council examples with the plan rules (issue 18)", "How the code is laid out",
]


def _headings(path: Path) -> set[str]:
    out, fence = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and (m := re.match(r"^#{1,6} (.+?)(?: \{#[^}]+\})?$", line)):
            out.add(m.group(1).strip())
    return out


def _gen_reference():
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_guide_builds_strict_and_reads_offline(tmp_path):
    if importlib.util.find_spec("mkdocs") is None:
        if os.environ.get("CI"):
            pytest.fail("mkdocs is not installed: ./setup.sh test installs it (test extras)")
        pytest.skip("mkdocs is not installed (pip install '.[test]')")
    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(site), "--config-file", str(REPO / "mkdocs.yml")],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "WARNING" not in proc.stderr, proc.stderr[-3000:]
    for page in ("index.html", "scenario.html", "service.html", "browser.html",
                 "reference/scenario.html", "reference/operating-model.html",
                 "schema/scenario.schema.json", "map.png", "app-result.png"):
        assert (site / page).is_file(), page
    reference = (site / "reference" / "scenario.html").read_text(encoding="utf-8")
    assert 'id="financeconfig"' in reference and "max_travel_minutes" in reference
    # a council network may have no way out: no script or stylesheet from the internet
    for html in site.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//[^"]+"', text)
        assert remote == [], (html.name, remote[:3])


def test_the_references_are_generated_from_the_current_schemas():
    """After a change to a schema: ``python docs/gen_reference.py`` (see its docstring)."""
    pages = _gen_reference().pages()
    assert {p.relative_to(DOCS).as_posix() for p in pages} == {
        "reference/scenario.md", "reference/operating-model.md"}
    for path, text in pages.items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is out of date"


def test_the_reference_names_every_key_of_the_schema():
    import json

    schema = json.loads((DOCS / "schema" / "scenario.schema.json").read_text())
    page = (DOCS / "reference" / "scenario.md").read_text(encoding="utf-8")
    for name, definition in [("top level", schema), *schema["$defs"].items()]:
        for key in definition.get("properties", {}):
            assert f"| `{key}` |" in page, (name, key)
    assert "| `max_travel_minutes` | number (> 0) or null | null |" in page
    assert "| `threads` | integer (≥ 1, ≤ 64) | `2` |" in page
    assert "| `areas` | [AreasConfig](#areasconfig) | required |" in page


def test_no_section_of_the_old_readme_is_lost():
    found = _headings(REPO / "README.md")
    for page in DOCS.rglob("*.md"):
        found |= _headings(page)
    missing = [h for h in OLD_README_HEADINGS if h not in found]
    assert missing == []


def test_the_readme_is_short_and_points_to_the_guide():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 150
    links = re.findall(r"\]\((docs/[^)#]+)", text)
    assert {"docs/index.md", "docs/scenario.md", "docs/reference/scenario.md",
            "docs/service.md", "docs/browser.md", "docs/benchmarks.md"} <= set(links)
    assert [link for link in links if not (REPO / link).is_file()] == []
    assert "mkdocs build --strict" in text


def test_the_readme_and_guide_say_what_the_figures_are():
    """The facts the old README got wrong: a £25m cap is looser than the demo's £23.25m, not
    tighter; Kent's figures agree between the examples table and the text; how to change a
    salary is said."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for text in (readme, index):
        assert "out/tight" not in text
        assert "--set budget.cap=25e6" in text and "looser cap than the demo's £23.25m" in text
        assert "--set operating_model=" in text and "cost_gbp_per_fte" in text
    assert "cap: 23250000" in (REPO / "examples" / "demo.yaml").read_text()
    examples = (DOCS / "examples.md").read_text(encoding="utf-8")
    benchmarks = (DOCS / "benchmarks.md").read_text(encoding="utf-8")
    assert "£50.8m" not in examples and "£53.80m a year" in examples and "39 hubs" in examples
    kent = next(ln for ln in benchmarks.splitlines() if ln.startswith("| kent | rules |"))
    assert "£53.804m" in kent and "| 39 |" in kent
    solving = (DOCS / "solving.md").read_text(encoding="utf-8")
    assert "Kent MSOA £49.14m" in solving and "before the plan rules" in solving
    assert "£49.137m" in benchmarks                  # the same run, rules off ("plain")
