"""Dataset ids in a scenario document: finding them, and binding them to the stored files.

A scenario sent over HTTP names its input files by dataset id (``ds_…``) and its operating
model by a dataset id or a bundled model's name, never by a server path. The routes check the
ids when a scenario is submitted (:mod:`api.services`); the worker turns them into paths when
the job runs (:func:`bound_scenario_doc`), so the stored document keeps naming ids.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING

from mdtplan.errors import MdtplanError, Problem

if TYPE_CHECKING:
    from .store import Store

DATASET_ID = re.compile(r"^ds_[0-9a-f]{16}$")
"""What a dataset id looks like; any other ``path`` in a scenario sent over HTTP is refused."""
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
"""A bundled operating model name (``default``, ``kent-local-care``)."""


def dataset_refs(doc: dict) -> list[tuple[str, str]]:
    """Every file reference of a scenario document, as ``(key path, value)``.

    Examples
    --------
    >>> dataset_refs({"areas": {"path": "ds_1", "tables": [{"path": "ds_2"}]},
    ...               "sites": {"path": "ds_3"}})
    [('areas.path', 'ds_1'), ('areas.tables.0.path', 'ds_2'), ('sites.path', 'ds_3')]
    """
    refs: list[tuple[str, str]] = []
    areas = doc.get("areas") or {}
    if isinstance(areas, dict):
        if areas.get("path") is not None:
            refs.append(("areas.path", areas["path"]))
        for i, table in enumerate(areas.get("tables") or []):
            if isinstance(table, dict) and table.get("path") is not None:
                refs.append((f"areas.tables.{i}.path", table["path"]))
    for key in ("sites", "travel", "workforce"):
        section = doc.get(key)
        if isinstance(section, dict) and section.get("path") is not None:
            refs.append((f"{key}.path", section["path"]))
    return refs


def bind_datasets(doc: dict, paths: dict[str, str], operating_model_path: str | None) -> dict:
    """A copy of ``doc`` with each dataset id replaced by its stored file's path."""
    out = copy.deepcopy(doc)
    for key, value in dataset_refs(doc):
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[parts[-1]] = paths[value]
    if doc.get("operating_model") is not None:
        out["operating_model"] = operating_model_path
    return out


def resolve_operating_model(name: str | None, datasets: dict) -> str | None:
    """Path of the operating model a document names: a dataset id or a bundled model."""
    from mdtplan.resources import find_operating_model

    if name is None:
        return None
    if name in datasets:
        return datasets[name].path
    if MODEL_NAME.match(name):
        return find_operating_model(name)
    return None


def bound_scenario_doc(store: Store, doc: dict) -> dict:
    """The job's document with every dataset id and model name turned into a path."""
    ids = [v for _, v in dataset_refs(doc)]
    if doc.get("operating_model"):
        ids.append(doc["operating_model"])
    datasets = store.get_datasets(ids)
    missing = [(k, v) for k, v in dataset_refs(doc) if v not in datasets]
    if missing:
        raise MdtplanError([Problem(None, None, k, f"dataset {v} no longer exists",
                                    "upload it again and resubmit") for k, v in missing])
    om = resolve_operating_model(doc.get("operating_model"), datasets)
    if doc.get("operating_model") and om is None:
        raise MdtplanError(Problem(None, None, "operating_model",
                                   f"operating model {doc['operating_model']} not found"))
    return bind_datasets(doc, {k: d.path for k, d in datasets.items()}, om)
