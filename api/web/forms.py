"""The new-scenario form: starting points, its fields, and the scenario document it makes.

A scenario starts from a bundled example (``example:demo``) or an earlier scenario
(``job:<id>``); the form's fields change a few of its keys (:data:`FIELDS`), and the result is
checked by the same code as ``POST /v1/scenarios``. An example's files are stored as datasets
the first time it is used (and found again by content afterwards), so the stored scenario
names dataset ids like any other.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from mdtplan.errors import ScenarioError
from mdtplan.resources import bundled_dir
from mdtplan.scenario import apply_overrides, parse_scenario, read_document

from ..bind import dataset_refs

OBJECTIVES = [
    ("min_cost", "Lowest cost that meets all demand"),
    ("max_demand_met", "Most demand met within the budget cap"),
    ("min_travel", "Shortest travel for the people served"),
    ("min_max_travel", "Shortest longest journey"),
]


@dataclass(frozen=True)
class Field:
    """One form field: its HTML name, label, the scenario key it sets and its kind."""

    name: str
    label: str
    key: str
    kind: str  # "text", "money", "int", "float", "bool", "objective"
    hint: str = ""
    width: str = "govuk-input--width-10"
    needs: str | None = None  # shown only when the starting scenario has this section

    def value(self, doc: dict) -> Any:
        node: Any = doc
        for part in self.key.split("."):
            if not isinstance(node, dict):
                return None
            node = node.get(part)
        return node

    def shown(self, doc: dict) -> bool:
        return self.needs is None or bool(doc.get(self.needs))


FIELDS = [
    Field("name", "Scenario name", "name", "text",
          "Shown in the scenario list, the map's title and every output.",
          "govuk-input--width-30"),
    Field("budget_cap", "Budget cap (£ per year)", "budget.cap", "money",
          "The most the plan may cost a year (staff, agency, sites, mileage). Leave empty for "
          "no cap.", "govuk-input--width-20"),
    Field("objective", "What the plan should achieve", "objective", "objective"),
    Field("hubs_min", "Fewest hubs", "hubs.count.min", "int"),
    Field("hubs_max", "Most hubs", "hubs.count.max", "int"),
    Field("population_min", "Smallest hub population", "hubs.population.min", "float",
          "People a hub serves (the band the operating model counts)."),
    Field("population_max", "Largest hub population", "hubs.population.max", "float"),
    Field("travel_limit", "Longest travel to a hub (minutes)", "hubs.max_travel_minutes",
          "float", "Areas further than this from every open hub cannot be served by it."),
    Field("contiguous", "Each hub's catchment is one connected patch holding the hub's own "
          "area", "hubs.contiguous", "bool"),
    Field("localities_min", "Fewest locality teams", "localities.count.min", "int",
          needs="localities"),
    Field("localities_max", "Most locality teams", "localities.count.max", "int",
          needs="localities"),
    Field("time_limit", "Time limit (seconds)", "solver.time_limit_s", "float",
          "How long the solver may search; the service may cap it."),
]
FIELD_BY_KEY = {f.key: f for f in FIELDS}


class FormProblems(Exception):
    """Problems with the form's values, each against a field name (or ``None``)."""

    def __init__(self, problems: list[tuple[str | None, str]]):
        super().__init__("; ".join(m for _, m in problems))
        self.problems = problems


def _number(text: str, field: Field) -> float | int | None:
    text = text.strip().replace(",", "").replace("£", "")
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise FormProblems([(field.name, f"{field.label}: '{text}' is not a number")]) from None
    if not math.isfinite(value):
        raise FormProblems([(field.name, f"{field.label}: give a finite number")])
    if field.kind == "int":
        if value != int(value):
            raise FormProblems([(field.name, f"{field.label}: give a whole number")])
        return int(value)
    return value


def overrides_from_form(form: dict[str, str], base: dict) -> dict[str, Any]:
    """The scenario keys the form sets, from its text values (empty = not set / no cap).

    Raises
    ------
    FormProblems
        A value that is not a number where one is needed, naming the field.
    """
    out: dict[str, Any] = {}
    problems: list[tuple[str | None, str]] = []
    for field in FIELDS:
        if not field.shown(base):
            continue
        raw = form.get(field.name)
        try:
            if field.kind == "bool":
                out[field.key] = raw in ("on", "true", "1", "yes")
            elif raw is None:
                continue
            elif field.kind in ("text", "objective"):
                out[field.key] = raw.strip()
            else:
                out[field.key] = _number(raw, field)
        except FormProblems as err:
            problems += err.problems
    if problems:
        raise FormProblems(problems)
    return out


def build_document(base: dict, form: dict[str, str]) -> dict:
    """The scenario document: ``base`` with the form's values, checked against the schema.

    Raises
    ------
    FormProblems
        Each problem against the field of its key (or ``None`` when no field sets it).
    """
    values = overrides_from_form(form, base)
    doc = apply_overrides(base, values)
    try:
        parse_scenario(doc)
    except ScenarioError as err:
        raise FormProblems([(_field_of(p.column), _say(p)) for p in err.problems]) from None
    return doc


def _field_of(column: str | None) -> str | None:
    if not column:
        return None
    for key, field in FIELD_BY_KEY.items():
        if column == key or column.startswith(key + "."):
            return field.name
    return None


def _say(problem) -> str:
    where = FIELD_BY_KEY.get(problem.column or "")
    label = where.label if where else (problem.column or "scenario")
    text = f"{label}: {problem.message}"
    return text + (f" ({problem.hint})" if problem.hint else "")


def problems_by_field(problems: list[tuple[str | None, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, message in problems:
        out.setdefault(name or "", []).append(message)
    return out


# ----------------------------------------------------------------------------- starting points
def examples() -> dict[str, Path]:
    """The bundled examples whose input files are all here, by name (``demo``, ``kent``)."""
    try:
        folder = bundled_dir("examples")
    except FileNotFoundError:
        return {}
    out = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            doc = read_document(path)
        except ScenarioError:
            continue
        files = [v for _, v in dataset_refs(doc)]
        if all((path.parent / f).is_file() for f in files):
            out[path.stem] = path
    return out


def example_document(name: str) -> tuple[dict, Path]:
    """An example's document (paths as written, relative to its folder) and that folder."""
    path = examples()[name]
    return read_document(path), path.parent


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def import_example(name: str, store, settings, checker, created_by: str) -> dict:
    """The example's document with every file stored as a dataset (re-used when the same
    file was stored before) and its operating model named as a bundled one when it is."""
    from ..services import save_upload

    doc, folder = example_document(name)
    ids: dict[str, str] = {}
    for _key, value in dataset_refs(doc):
        if value in ids:
            continue
        path = (folder / value).resolve()
        found = store.find_dataset(_sha256(path), path.name)
        if found is None:
            with open(path, "rb") as f:
                found = save_upload(SimpleNamespace(filename=path.name, file=f), store,
                                    settings, checker, created_by)
        ids[value] = found.id
    doc = apply_overrides(doc, {k: ids[v] for k, v in dataset_refs(doc)})
    model = doc.get("operating_model")
    if isinstance(model, str) and ("/" in model or model.endswith(".yaml")):
        path = (folder / model).resolve()
        models = bundled_dir("models").resolve()
        if path.parent == models:
            doc["operating_model"] = path.stem
        else:
            found = store.find_dataset(_sha256(path), path.name)
            if found is None:
                with open(path, "rb") as f:
                    found = save_upload(SimpleNamespace(filename=path.name, file=f), store,
                                        settings, checker, created_by)
            doc["operating_model"] = found.id
    return doc
