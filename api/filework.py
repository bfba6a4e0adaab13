"""Reading and editing user files for the pages, in the checker's helper processes.

The new-scenario pages show the first rows of an uploaded file, its sites with their status
and an operating model's roles, and store edited copies (a site's status changed, a role's
cost changed). Each function here reads a user's file, so :class:`api.checker.Checker` runs it
in a helper process (a malformed file can crash or stall only that helper); each returns plain
data (lists, dicts, text) that crosses the process boundary.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

PREVIEW_ROWS = 10
CELL_CHARS = 60


def _cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    if text in ("nan", "NaT", "None", "<NA>"):
        return ""
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def _read_frame(path: str | Path, fmt: str, layer: str | None, rows: int | None,
                columns: list[str] | None = None):
    """The table of a file (no geometry) as text, its first ``rows`` rows (all when ``None``)."""
    import pandas as pd

    path = Path(path)
    if fmt in ("csv", "tsv"):
        return pd.read_csv(path, dtype=str, sep="\t" if fmt == "tsv" else ",",
                           keep_default_na=False, encoding="utf-8-sig", nrows=rows,
                           usecols=columns)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        meta = parquet.schema_arrow.metadata or {}
        geometry = set()
        if b"geo" in meta:
            import json

            geometry = set(json.loads(meta[b"geo"]).get("columns", {}))
        names = [n for n in parquet.schema_arrow.names if n not in geometry]
        if columns is not None:
            names = [n for n in names if n in columns]
        if rows is None:
            table = parquet.read(columns=names)
        else:
            batch = next(parquet.iter_batches(batch_size=max(rows, 1), columns=names), None)
            if batch is None:
                return pd.DataFrame(columns=names)
            table = batch
        return table.to_pandas().astype(str)
    import pyogrio

    frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False,
                                   max_features=rows, columns=columns)
    return pd.DataFrame(frame).astype(str)


def preview(path: str, fmt: str, layer: str | None, rows: int = PREVIEW_ROWS) -> dict:
    """The columns and first rows of one layer of a file, as text for a table.

    Parameters
    ----------
    path : str
        The stored file.
    fmt : str
        Its format (``gpkg``, ``geojson``, ``fgb``, ``shp-zip``, ``parquet``, ``csv``, ``tsv``).
    layer : str or None
        The layer of a GeoPackage (``None``: the first).
    rows : int
        How many rows [rows], at most :data:`PREVIEW_ROWS`.
    """
    frame = _read_frame(path, fmt, layer, min(int(rows), PREVIEW_ROWS))
    return {"columns": [str(c) for c in frame.columns],
            "rows": [[_cell(v) for v in row] for row in frame.itertuples(index=False)]}


def sites_table(path: str, fmt: str, layer: str | None, id_column: str,
                name_column: str | None, status_column: str | None) -> dict:
    """Each site's id, name and status (``candidate`` where the file has none)."""
    wanted = [c for c in (id_column, name_column, status_column) if c]
    frame = _read_frame(path, fmt, layer, None, columns=list(dict.fromkeys(wanted)))
    out = []
    for _, row in frame.iterrows():
        status = str(row[status_column]).strip().lower() if status_column else ""
        out.append([str(row[id_column]), str(row[name_column]) if name_column else "",
                    status or "candidate"])
    return {"rows": out}


def edit_sites_csv(path: str, fmt: str, id_column: str, status_column: str | None,
                   changes: dict[str, str], target: str) -> dict:
    """Write a copy of a sites CSV with some sites' status changed, every other cell kept.

    Without a status column, one named ``status`` is added (blank, which means candidate,
    but for the changed sites).

    Returns
    -------
    dict
        ``{"changed": n, "status_column": name}``.
    """
    delimiter = "\t" if fmt == "tsv" else ","
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=delimiter))
    if not rows:
        raise ValueError("the sites file is empty")
    header = rows[0]
    if id_column not in header:
        raise ValueError(f"no column '{id_column}' in the sites file")
    id_at = header.index(id_column)
    if status_column and status_column in header:
        status_at = header.index(status_column)
    else:
        status_column = "status"
        while status_column in header:
            status_column += "_"
        header.append(status_column)
        status_at = len(header) - 1
        for row in rows[1:]:
            row.append("")
    changed = 0
    for row in rows[1:]:
        if id_at < len(row) and row[id_at] in changes:
            while len(row) <= status_at:
                row.append("")
            if row[status_at].strip().lower() != changes[row[id_at]]:
                row[status_at] = changes[row[id_at]]
                changed += 1
    with open(target, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return {"changed": changed, "status_column": status_column}


def model_roles(path: str) -> dict:
    """An operating model's name and roles: id, name, kind and cost per FTE [GBP/year]."""
    import yaml

    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    roles = doc.get("roles") if isinstance(doc, dict) else None
    if not isinstance(roles, list):
        raise ValueError("the operating model lists no roles")
    out = [{"id": str(r.get("id")), "name": str(r.get("name") or r.get("id")),
            "kind": str(r.get("kind", "")), "cost_gbp_per_fte": r.get("cost_gbp_per_fte"),
            "agency_premium": r.get("agency_premium")}
           for r in roles if isinstance(r, dict) and r.get("id") is not None]
    return {"name": doc.get("name"), "roles": out}


_NUMBER = re.compile(r"^(\s*cost_gbp_per_fte:\s*)([-+0-9.eE_]+)(.*)$")


def edit_model_costs(path: str, costs: dict[str, float]) -> str:
    """The operating model's YAML text with some roles' ``cost_gbp_per_fte`` changed.

    The numbers are changed in place in the text, so every comment (each figure's source) and
    every other value stay as they were; the result is read back to prove that only those
    costs differ. A model written in a form this cannot edit in place (flow style, say) is
    written out whole instead (its values the same, its comments lost).
    """
    import yaml

    text = Path(path).read_text(encoding="utf-8")
    before = yaml.safe_load(text)
    lines = text.splitlines(keepends=True)
    role_line = re.compile(r"^(\s*)-\s+id:\s*['\"]?([^'\"#\s]+)['\"]?\s*(#.*)?$")
    in_roles = False
    current: str | None = None
    for i, line in enumerate(lines):
        bare = line.rstrip("\r\n")
        if re.match(r"^roles:\s*(#.*)?$", bare):
            in_roles = True
            continue
        if in_roles and re.match(r"^[A-Za-z_]", bare):
            in_roles = False
            current = None
        if not in_roles:
            continue
        found = role_line.match(bare)
        if found:
            current = found.group(2)
            continue
        cost = _NUMBER.match(bare)
        if cost and current in costs:
            value = costs[current]
            shown = f"{value:.0f}" if float(value).is_integer() else f"{value:g}"
            ending = line[len(bare):]
            lines[i] = cost.group(1) + shown + cost.group(3) + ending
    edited = "".join(lines)
    after = yaml.safe_load(edited)
    expected = _with_costs(before, costs)
    if after != expected:
        return yaml.safe_dump(expected, sort_keys=False, allow_unicode=True)
    return edited


def _with_costs(doc: dict, costs: dict[str, float]) -> dict:
    import copy

    out = copy.deepcopy(doc)
    for role in out.get("roles", []):
        if isinstance(role, dict) and role.get("id") in costs:
            role["cost_gbp_per_fte"] = costs[role["id"]]
    return out
