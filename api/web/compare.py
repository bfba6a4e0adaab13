"""What the compare page shows: headline figures side by side with their differences, what
changed between two plans, and one colour per site for the two-pane map.

Pure functions of stored summaries (``job.summary``, the ``summary.json`` of each solve) and
result tables; the route (:mod:`api.routes.compare`) reads them and renders the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .render import gbp, gbp_short, num, pct

MINUS = "\u2212"


def _path(doc: dict | None, *keys):
    """``doc[k1][k2]...`` or ``None`` where any step is missing."""
    node = doc
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _number(value) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok else None


def _headroom(s: dict) -> float | None:
    cap, cost = _number(s.get("budget_cap")), _number(s.get("total_cost"))
    return None if cap is None or cost is None else cap - cost


def _net_of_investment(s: dict) -> float | None:
    net = _path(s, "finance", "net_of_investment")
    if isinstance(net, dict):
        net = net.get("most_likely")
    return _number(net)


def _fte_total(s: dict) -> float | None:
    by_role = s.get("fte_by_role") or {}
    values = [_number(v) for v in by_role.values()]
    return sum(v for v in values if v is not None) if values else None


@dataclass(frozen=True)
class Figure:
    """One headline figure: its label, kind (how it and its difference are written) and how
    to read it from a summary."""

    label: str
    kind: str  # "money", "share", "count", "decimal"
    read: Callable[[dict], float | None]
    note: str = ""


FIGURES = [
    Figure("Annual cost", "money", lambda s: _number(s.get("total_cost"))),
    Figure("Budget cap", "money", lambda s: _number(s.get("budget_cap")), "no cap where empty"),
    Figure("Headroom under the cap", "money", _headroom, "cap less annual cost"),
    Figure("Demand met", "share", lambda s: _number(s.get("demand_met_share"))),
    Figure("Hubs open", "count", lambda s: _number(s.get("hubs_open"))),
    Figure("Mean travel to the hub", "decimal", lambda s: _number(_path(s, "travel", "mean")),
           "population-weighted"),
    Figure("Longest travel to the hub", "decimal",
           lambda s: _number(_path(s, "travel", "max"))),
    Figure("Saving against today", "money",
           lambda s: _number(_path(s, "savings", "total", "saving_gbp")),
           "today's running cost less the plan's"),
    Figure("Savings the model makes, most likely", "money",
           lambda s: _number(_path(s, "finance", "model_savings", "total", "most_likely")),
           "care spend avoided less the staff the levers need"),
    Figure("Net of investment, most likely", "money", _net_of_investment),
    Figure("FTE, all roles", "decimal", _fte_total),
]


def fmt_value(kind: str, value: float | None) -> str:
    """A figure as the page writes it (empty when there is none)."""
    if value is None:
        return ""
    if kind == "money":
        return (MINUS if value < 0 else "") + gbp(abs(value))
    if kind == "share":
        return pct(value)
    if kind == "count":
        return num(value)
    return num(value, 1)


def fmt_difference(kind: str, delta: float | None) -> str:
    """A difference with its sign: ``+£1.20m``, ``−2.5 points``, ``+3``, ``0``.

    Examples
    --------
    >>> fmt_difference("money", 1_200_000)
    '+£1.20m'
    >>> fmt_difference("share", -0.025)
    '−2.5 points'
    >>> fmt_difference("count", 0)
    'no change'
    """
    if delta is None:
        return ""
    size = {"money": 0.5, "share": 0.0005, "count": 0.5, "decimal": 0.05}[kind]
    if abs(delta) < size:
        return "no change"
    sign = "+" if delta > 0 else MINUS
    if kind == "money":
        return sign + gbp_short(abs(delta))
    if kind == "share":
        return f"{sign}{abs(delta) * 100:.1f} points"
    if kind == "count":
        return f"{sign}{abs(delta):,.0f}"
    return f"{sign}{abs(delta):,.1f}"


@dataclass(frozen=True)
class Row:
    """One line of the comparison: the figure in each scenario and each one's difference
    from the first (``None`` for the first, or where either has no figure)."""

    label: str
    kind: str
    values: tuple[float | None, ...]
    differences: tuple[float | None, ...]
    note: str = ""

    @property
    def cells(self) -> list[tuple[str, str]]:
        """``(value, difference)`` as text per scenario (the first has no difference)."""
        return [(fmt_value(self.kind, v), "" if i == 0 else fmt_difference(self.kind, d))
                for i, (v, d) in enumerate(zip(self.values, self.differences, strict=True))]


def _row(label: str, kind: str, values: list[float | None], note: str = "") -> Row:
    first = values[0]
    diffs = tuple(None if i == 0 or v is None or first is None else v - first
                  for i, v in enumerate(values))
    return Row(label, kind, tuple(values), diffs, note)


def headline_rows(summaries: list[dict]) -> list[Row]:
    """The comparison table: :data:`FIGURES`, then FTE by role, for each summary.

    A figure no summary has (no finance section anywhere, say) is left out; the differences
    are each summary's figure less the first's.

    Parameters
    ----------
    summaries : list of dict
        ``summary.json`` documents, the first being the one the others are measured against.
    """
    rows = []
    for f in FIGURES:
        values = [f.read(s or {}) for s in summaries]
        if any(v is not None for v in values):
            rows.append(_row(f.label, f.kind, values, f.note))
    roles: list[str] = []
    for s in summaries:
        roles += [r for r in ((s or {}).get("fte_by_role") or {}) if r not in roles]
    for role in roles:
        values = [_number(_path(s, "fte_by_role", role)) for s in summaries]
        rows.append(_row(f"FTE {role.replace('_', ' ')}", "decimal", values))
    return rows


# ----------------------------------------------------------------------------- what changed
@dataclass(frozen=True)
class Changes:
    """What changed from plan A to plan B.

    Attributes
    ----------
    opened : list of (site id, name)
        Hubs open in B and not in A.
    closed : list of (site id, name)
        Hubs open in A and not in B.
    kept : int
        Hubs open in both.
    areas_moved : int
        Areas served (mainly) by a different hub in B than in A.
    areas_compared : int
        Areas served in both plans.
    """

    opened: list[tuple[str, str]]
    closed: list[tuple[str, str]]
    kept: int
    areas_moved: int
    areas_compared: int


def _main_hub(assignment: pd.DataFrame) -> pd.Series:
    a = assignment.assign(area_id=assignment["area_id"].astype(str),
                          site_id=assignment["site_id"].astype(str))
    if "share" in a.columns:
        a = a.sort_values("share", ascending=False, kind="stable")
    return a.drop_duplicates("area_id").set_index("area_id")["site_id"]


def _hub_names(hubs: pd.DataFrame) -> dict[str, str]:
    names = hubs["name"] if "name" in hubs.columns else hubs["site_id"]
    return {str(s): (str(n) if pd.notna(n) else str(s))
            for s, n in zip(hubs["site_id"], names, strict=True)}


def what_changed(hubs_a: pd.DataFrame, assignment_a: pd.DataFrame, hubs_b: pd.DataFrame,
                 assignment_b: pd.DataFrame) -> Changes:
    """Hubs opened and closed from plan A to plan B, and the areas that changed hub.

    Parameters
    ----------
    hubs_a, hubs_b : DataFrame
        ``hubs.csv`` of each plan (``site_id``, ``name``).
    assignment_a, assignment_b : DataFrame
        ``assignment.csv`` of each plan (``area_id``, ``site_id``, ``share``); an area split
        between hubs counts under the hub with its largest share.
    """
    names_a, names_b = _hub_names(hubs_a), _hub_names(hubs_b)
    opened = sorted(((s, names_b[s]) for s in names_b if s not in names_a),
                    key=lambda x: x[1].casefold())
    closed = sorted(((s, names_a[s]) for s in names_a if s not in names_b),
                    key=lambda x: x[1].casefold())
    main_a, main_b = _main_hub(assignment_a), _main_hub(assignment_b)
    both = main_a.index.intersection(main_b.index)
    moved = int((main_a.loc[both] != main_b.loc[both]).sum())
    return Changes(opened, closed, len(set(names_a) & set(names_b)), moved, len(both))


def read_changes(folder_a: Path | None, folder_b: Path | None) -> Changes | None:
    """:func:`what_changed` of two result folders, or ``None`` when either lacks its tables."""
    if folder_a is None or folder_b is None:
        return None
    paths = [folder / name for folder in (folder_a, folder_b)
             for name in ("hubs.csv", "assignment.csv")]
    if not all(p.is_file() for p in paths):
        return None
    frames = [pd.read_csv(p, dtype={"site_id": str, "area_id": str}) for p in paths]
    return what_changed(*frames)


# ----------------------------------------------------------------------------- map colours
def site_colours(areas: list) -> dict[str, str]:
    """One colour per site over the union of the plans' hubs: a site has the same colour in
    every pane, and hubs whose areas touch (in either plan, or the same area's hub in the two
    plans) get different colours where the maps' categorical palette allows.

    Parameters
    ----------
    areas : list of GeoDataFrame
        Each plan's ``areas.geojson`` (``area_id``, ``site_id``, polygons).
    """
    import geopandas as gpd

    from mdtplan.outputs.maps import hub_colours

    frames = []
    for i, gdf in enumerate(areas):
        g = gdf[gdf["site_id"].notna()].to_crs(27700)
        frames.append(gpd.GeoDataFrame(
            {"area_id": [f"{i}:{a}" for a in g["area_id"].astype(str)],
             "site_id": g["site_id"].astype(str).to_numpy()},
            geometry=g.geometry.to_numpy(), crs=g.crs))
    if not frames:
        return {}
    union = pd.concat(frames, ignore_index=True)
    assignment = union[["area_id", "site_id"]].assign(share=1.0)
    geoms = gpd.GeoDataFrame(geometry=union.geometry.to_numpy(), crs=union.crs,
                             index=pd.Index(union["area_id"], name="area_id"))
    return hub_colours(geoms, assignment)
