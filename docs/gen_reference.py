"""Render the scenario and operating model references (docs/reference/*.md) from the JSON
Schemas that ``mdtplan schema`` writes (docs/schema/*.schema.json).

Run from the repository root after a change to either schema::

    mdtplan schema --out docs/schema/scenario.schema.json
    mdtplan schema --operating-model --out docs/schema/operating-model.schema.json
    python docs/gen_reference.py

``tests/test_docs.py`` checks that the committed pages are what this writes.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent

#: schema file -> (page, title, what the page is about)
PAGES = {
    "scenario.schema.json": (
        "reference/scenario.md", "Scenario reference",
        "Every key of a scenario file (YAML or JSON), its type and default. A key without a "
        "default is required. `--set KEY=VALUE` changes any of them from the command line "
        "(`--set budget.cap=25e6`, `--set operating_model=my-model.yaml`). The guide's "
        "[scenario page](../scenario.md) says what the rules do."),
    "operating-model.schema.json": (
        "reference/operating-model.md", "Operating model reference",
        "Every key of an operating model file (`models/*.yaml`): roles and their costs, demand "
        "rates, rules, care settings and levers. `models/README.md` gives the sources of the "
        "bundled models' numbers. A changed salary is a changed `cost_gbp_per_fte` of a role "
        "in a copy of the model, named by the scenario's `operating_model`."),
}


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _words(text: str | None) -> str:
    """A docstring as Markdown: reST's double backquotes single, Sphinx roles dropped."""
    if not text:
        return ""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`").strip()


def _first_sentence(text: str | None) -> str:
    words = _words(text).split("\n\n")[0].replace("\n", " ")
    if not words:
        return ""
    match = re.match(r"(.+?[.:])(\s|$)", words)
    return (match.group(1) if match else words).rstrip(":.") + "."


def _bounds(node: dict) -> str:
    parts = []
    for key, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"),
                      ("exclusiveMaximum", "<")):
        if key in node:
            parts.append(f"{sign} {node[key]:g}")
    if "minItems" in node:
        parts.append(f"at least {node['minItems']} item{'s' if node['minItems'] != 1 else ''}")
    return f" ({', '.join(parts)})" if parts else ""


def _type(node: dict, defs: dict) -> str:
    """A schema node's type in words: ``number (≥ 0)``, ``list of Workstream``, ..."""
    if "$ref" in node:
        return f"[{_ref_name(node['$ref'])}](#{_ref_name(node['$ref']).lower()})"
    if "anyOf" in node:
        kinds = [_type(n, defs) for n in node["anyOf"] if n.get("type") != "null"]
        text = " or ".join(kinds)
        if any(n.get("type") == "null" for n in node["anyOf"]):
            text += " or null"
        return text
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    kind = node.get("type")
    if kind == "array":
        items = node.get("items") or {}
        return ("list of " + (_type(items, defs) if items else "values")) + _bounds(node)
    if kind == "object":
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            return "mapping of names to " + (_type(extra, defs) if extra else "values")
        return "mapping"
    if kind in ("number", "integer"):
        return kind + _bounds(node)
    if kind == "string":
        return "text"
    if kind == "boolean":
        return "true or false"
    return kind or "any"


def _default(node: dict, required: bool) -> str:
    if required:
        return "required"
    if "default" not in node:   # a default factory: an empty list or mapping, or a section
        if node.get("type") == "array":
            return "none (an empty list)"
        if "$ref" in node:
            return "its keys' defaults"
        return "none (empty)"
    value = node["default"]
    if value is None:
        return "null"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _refs(node: dict, path: str = "") -> list[tuple[str, str]]:
    """The object definitions a key's value may be, each with the key path that reaches it
    (``[]`` for a list's items, ``.*`` for a mapping's values)."""
    if "$ref" in node:
        return [(_ref_name(node["$ref"]), path)]
    out = []
    for n in node.get("anyOf", []):
        out += _refs(n, path)
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        out += _refs(node["items"], path + "[]")
    if isinstance(node.get("additionalProperties"), dict):
        out += _refs(node["additionalProperties"], path + ".*")
    return out


def _table(definition: dict, defs: dict) -> list[str]:
    rows = ["| key | type | default | what |", "| --- | --- | --- | --- |"]
    required = set(definition.get("required", []))
    for key, node in definition.get("properties", {}).items():
        refs = _refs(node)
        what = _words(node.get("description")).replace("\n", " ")
        if not what and refs:
            what = _first_sentence(defs[refs[0][0]].get("description"))
        what = what.replace("|", "\\|")
        rows.append(f"| `{key}` | {_type(node, defs)} | {_default(node, key in required)} | "
                    f"{what} |")
    return rows


def render(schema: dict, title: str, intro: str, source: str) -> str:
    """The reference page of one schema: the top level's keys, then one section per object
    definition, in the order the keys first name them."""
    defs = schema.get("$defs", {})
    lines = [f"# {title}", "",
             f"<!-- generated by docs/gen_reference.py from docs/schema/{source}: do not edit -->",
             "", intro, "",
             f"The JSON Schema itself is [`schema/{source}`](../schema/{source}) (`mdtplan "
             "schema` writes it); editors that read a first line "
             f"`# yaml-language-server: $schema=<path to {source}>` complete and check files "
             "with it.", "", "## Top level", ""]
    if schema.get("description"):
        lines += [_words(schema["description"]), ""]
    lines += _table(schema, defs) + [""]
    where: dict[str, str] = {}   # definition -> the first key path that reaches it

    def visit(definition: dict, prefix: str) -> None:
        nodes = [(f"{prefix}{key}", node) for key, node in
                 definition.get("properties", {}).items()]
        nodes += [(prefix.rstrip("."), node) for node in definition.get("anyOf", [])]
        for path, node in nodes:
            for name, reached in _refs(node, path):
                if name not in where:
                    where[name] = reached
                    visit(defs[name], reached + ".")

    visit(schema, "")
    where.update({name: "" for name in defs if name not in where})
    for name, path in where.items():
        definition = defs[name]
        heading = f"`{path}` ({name})" if path else name
        lines += [f"## {heading} {{#{name.lower()}}}", ""]
        if definition.get("description"):
            lines += [_words(definition["description"]), ""]
        if definition.get("properties"):
            lines += _table(definition, defs) + [""]
        elif "anyOf" in definition:
            lines += [f"Either {_type(definition, defs)}.", ""]
    return "\n".join(lines).rstrip() + "\n"


def pages() -> dict[Path, str]:
    """Each reference page's path and the text it should hold now."""
    out = {}
    for source, (page, title, intro) in PAGES.items():
        schema = json.loads((DOCS / "schema" / source).read_text(encoding="utf-8"))
        out[DOCS / page] = render(schema, title, intro, source)
    return out


def main() -> int:
    for path, text in pages().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
