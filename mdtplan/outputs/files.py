"""A solve's result folder (CONTRACT §5): written by :func:`write_outputs`, read back by
:func:`read_result_dir`.

``summary.json``, ``hubs.csv``, ``assignment.csv``, ``staffing.csv``, ``map.html`` and
``summary.xlsx``, from :class:`~mdtplan.results.Results` only; ``baseline_assignment.csv``
with a baseline (today's sites serving each area); ``localities.csv`` too when the
scenario asks for locality teams (``hubs.csv`` and ``assignment.csv`` then have a ``locality``
column). Also ``scenario.json`` (the scenario
exactly as solved, overrides applied) so that a result folder can be redrawn and compared later.

The files are written into a hidden folder inside the result folder and then moved into place
together, under a lock (:func:`publish`): a reader never sees half a result, two runs into one
folder never mix their files, and a run that makes fewer files (an infeasible one has no map)
removes the earlier run's files of those names.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ..results import Results, Summary

ASSIGNMENT_COLUMNS = ["area_id", "site_id", "share", "travel_cost", "locality"]
HUB_COLUMNS = ["site_id", "name", "lon", "lat", "population", "areas", "utilisation", "fte",
               "status", "pool", "site_cost", "travel_hours", "mileage_gbp",
               "demand_met_share", "locality"]
#: ``localities.csv`` (with a ``localities`` section): one row per locality team
LOCALITY_COLUMNS = ["locality_id", "name", "pool", "lead_hub", "hubs", "hub_ids", "areas",
                    "population", "fte", "cost"]
#: ``baseline_assignment.csv`` (with ``finance.baseline``): today's sites serving each area
BASELINE_ASSIGNMENT_COLUMNS = ["area_id", "site_id", "share", "travel_cost"]
#: every file :func:`write_outputs` may write; a run removes those of an earlier run it did not write
OUTPUT_FILES = ("summary.json", "scenario.json", "hubs.csv", "assignment.csv", "staffing.csv",
                "levers.csv", "baseline_assignment.csv", "localities.csv", "map.html",
                "summary.xlsx", "savings_waterfall.png")
LOCK_FILE = ".mdtplan.lock"
STAFFING_COLUMNS = ["unit", "role", "fte", "agency_fte", "demand_hours", "capacity_hours",
                    "unmet_hours", "cost", "travel_hours", "mileage_miles", "mileage_gbp",
                    "lever_hours"]


def write_outputs(results: Results, out_dir: str | Path, *, inputs=None,
                  scenario_doc: dict | None = None, map_html: bool = True,
                  workbook: bool = True,
                  map_back_link: tuple[str, str] | None = None) -> dict[str, Path]:
    """Write every output file; return a mapping of output name to path.

    Parameters
    ----------
    results : Results
    out_dir : str or Path
        Created if missing. Existing files of the same names are replaced.
    inputs : Inputs, optional
        Needed for the map (area geometry); without it, or without geometry, no map is drawn.
    scenario_doc : dict, optional
        The scenario as solved, written to ``scenario.json``.
    map_back_link : (str, str), optional
        ``(href, text)`` of a link on the map back to where it is shown (the service's
        scenario page); none by default (the command line's maps).
    """
    final = Path(out_dir)
    final.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix=".mdtplan-", dir=final))
    try:
        written = _write_all(results, out, inputs=inputs, scenario_doc=scenario_doc,
                             map_html=map_html, workbook=workbook, map_back_link=map_back_link)
        return publish(out, final, written)
    finally:
        shutil.rmtree(out, ignore_errors=True)


@contextmanager
def _locked(folder: Path):
    """An exclusive lock on ``folder`` (a lock file in it) while the block runs (POSIX)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    with open(folder / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish(staged: Path, final: Path, written: dict[str, Path]) -> dict[str, Path]:
    """Move a run's files from ``staged`` into ``final`` under the folder's lock, removing the
    files of :data:`OUTPUT_FILES` that this run did not write; return their final paths."""
    names = {p.name for p in written.values()}
    with _locked(final):
        for name in OUTPUT_FILES:
            if name not in names:
                (final / name).unlink(missing_ok=True)
        out = {}
        for key, path in written.items():
            target = final / path.name
            os.replace(path, target)
            out[key] = target
    return out


def _write_all(results: Results, out: Path, *, inputs, scenario_doc, map_html, workbook,
               map_back_link) -> dict[str, Path]:
    written: dict[str, Path] = {}

    path = out / "summary.json"
    path.write_text(json.dumps(results.summary.to_dict(), indent=2, allow_nan=False) + "\n",
                    encoding="utf-8")
    written["summary"] = path
    if scenario_doc is not None:
        path = out / "scenario.json"
        path.write_text(json.dumps(scenario_doc, indent=2) + "\n", encoding="utf-8")
        written["scenario"] = path

    for name, frame, cols in (("hubs", results.hubs, HUB_COLUMNS),
                              ("assignment", results.assignment, ASSIGNMENT_COLUMNS),
                              ("staffing", results.staffing, STAFFING_COLUMNS)):
        frame = frame if not frame.empty else pd.DataFrame(columns=cols)
        keep = [c for c in cols if c in frame.columns]
        path = out / f"{name}.csv"
        frame[keep].to_csv(path, index=False, float_format="%.10g")
        written[name] = path
    if results.summary.finance is not None and results.summary.finance.model_savings:
        path = out / "levers.csv"
        lever_frame(results.summary.finance.model_savings).to_csv(path, index=False,
                                                                  float_format="%.10g")
        written["levers"] = path
    if results.baseline_assignment is not None:
        path = out / "baseline_assignment.csv"
        frame = results.baseline_assignment
        frame[[c for c in BASELINE_ASSIGNMENT_COLUMNS if c in frame.columns]].to_csv(
            path, index=False, float_format="%.10g")
        written["baseline_assignment"] = path
    if results.localities is not None:
        path = out / "localities.csv"
        results.localities.reindex(columns=LOCALITY_COLUMNS).to_csv(path, index=False,
                                                                    float_format="%.10g")
        written["localities"] = path

    if map_html and inputs is not None and not results.hubs.empty:
        from .maps import draw_map

        path = draw_map(results, inputs, out / "map.html", back_link=map_back_link)
        if path is not None:
            written["map"] = path
    if workbook:
        from .workbook import write_workbook

        path = out / "summary.xlsx"
        write_workbook(results, path)
        written["workbook"] = path
    if results.summary.finance is not None or results.summary.savings is not None:
        from .plots import plot_waterfall

        path = plot_waterfall(results.summary, out / "savings_waterfall.png")
        if path is not None:
            written["waterfall"] = path
    return written


def lever_frame(savings) -> pd.DataFrame | None:
    """``levers.csv``: one row per lever and hub reaching people (``lever_id``, ``name``,
    ``site_id``, ``people``), then the lever's totals on its rows."""
    if savings is None:
        return None
    rows = []
    for ln in savings.lines:
        for hub in ln.by_hub or ({"site_id": None, "people": 0.0},):
            rows.append({"lever_id": ln.id, "name": ln.name, "site_id": hub["site_id"],
                         "people": hub["people"], "lever_people": ln.people,
                         "lever_max_people": ln.max_people,
                         "saving_most_likely_gbp": ln.saving["most_likely"],
                         "held_back_by": ln.held_back_by})
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=["lever_id", "site_id"])


def read_result_dir(path: str | Path) -> dict:
    """Read back a result folder (for compare, map and the service).

    Returns
    -------
    dict
        ``summary``: the :class:`~mdtplan.summary.Summary` of ``summary.json``
        (``summary.to_dict()`` is the file's document again); ``hubs``, ``assignment``,
        ``staffing``: the tables (empty where a file is missing); ``localities``: the table of
        ``localities.csv``, or ``None``; ``baseline_assignment``: the table of
        ``baseline_assignment.csv``, or ``None``; ``levers``: the table of ``levers.csv``, or ``None``;
        ``scenario``: the document of ``scenario.json``, or ``None``.
    """
    path = Path(path)
    summary_path = path / "summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"{summary_path} not found: is {path} a solved scenario folder "
                                "(mdtplan solve ... --out DIR)?")
    out = {"summary": Summary.from_dict(json.loads(summary_path.read_text(encoding="utf-8")))}
    ids = {"site_id": str, "area_id": str, "unit": str, "locality": str, "lead_hub": str,
           "hub_ids": str, "locality_id": str}
    for name in ("hubs", "assignment", "staffing"):
        p = path / f"{name}.csv"
        out[name] = pd.read_csv(p, dtype=ids) if p.is_file() else pd.DataFrame()
    p = path / "localities.csv"
    out["localities"] = pd.read_csv(p, dtype=ids) if p.is_file() else None
    p = path / "baseline_assignment.csv"
    out["baseline_assignment"] = pd.read_csv(p, dtype=ids) if p.is_file() else None
    p = path / "levers.csv"
    out["levers"] = pd.read_csv(p, dtype={**ids, "lever_id": str}) if p.is_file() else None
    scen = path / "scenario.json"
    out["scenario"] = json.loads(scen.read_text(encoding="utf-8")) if scen.is_file() else None
    return out
