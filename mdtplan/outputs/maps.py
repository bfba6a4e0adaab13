"""Folium (Leaflet) maps of a solved scenario, as self-contained HTML that works offline.

:func:`draw_map` writes one plan; :func:`draw_dual_map` two plans side by side (Folium
``plugins.DualMap``, pans and zooms kept in sync, the same site in the same colour in both
panes). Both build from the result tables and the loaded area polygons only (no model, no
solver).

Layers (each toggled in the layer control; the legend lists only the layers shown):

* areas coloured by hub (neighbouring hubs get different colours);
* share of demand met at the serving hub (the staffing table is per hub, so every area of a
  hub shows its hub's share: the legend says so), a grey scale unlike the hub colours;
* travel time from each area to its (main) hub in the scenario's travel unit, areas beyond
  ``hubs.max_travel_minutes`` hatched and outlined;
* breaches of the plan (areas beyond the travel limit, hubs outside ``hubs.population``) and,
  with a baseline, of today's configuration (its sites, areas beyond the limit or no site
  reaches, sites outside the band);
* specialist pool and locality team outlines;
* hubs, in a pane above every area layer, each labelled with its name (labels that would
  overlap a bigger hub's are hidden until zoomed in); a pop-up lists FTE by role, population
  served and utilisation.

Controls come first in the keyboard order: a hub search ("Find a hub"), an optional link back,
zoom and full screen, the layer control, and a legend that collapses (collapsed at first on
narrow screens). Zoom is held between the county filling the view and street level.

Offline: Leaflet, Leaflet.fullscreen and Leaflet.Sync are vendored in ``mdtplan/_vendor`` (npm
packages, with their licences) and inlined into the page with this module's ``map_ui.js``;
Folium's CDN links (Leaflet, jQuery, Bootstrap, awesome-markers, Font Awesome) are removed. The
only online part is the optional basemap tile layer, off by default; the map is readable
without it.

Every user-supplied string (area, site and pool names, ids) is HTML-escaped (and ``$``, backtick
and backslash too, because Folium places pop-up and tooltip HTML in JavaScript template literals),
so a site named ``<script>…`` shows as text.
"""

from __future__ import annotations

import base64
import html
import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#6a3d9a", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39",
           "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#b15928"]

#: Bins of the "share of demand met" layer: (lower bound [%], colour, label), best first. A grey
#: scale (darker: more unmet), so it is never read as a hub's colour.
MET_BINS = [(99.5, "#f7f7f7", "all met (≥ 99.5%)"), (95.0, "#bdbdbd", "95 – 99.5%"),
            (90.0, "#737373", "90 – 95%"), (-1.0, "#252525", "< 90%")]
#: Travel time bins, shortest first (yellow to blue, ColorBrewer YlGnBu): four quarters of the
#: travel limit (or of the longest trip without a limit); beyond the limit is hatched.
TRAVEL_COLOURS = ["#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"]
NO_DATA = "#ffffff"
POOL_COLOUR = "#111111"
#: the locality teams' outlines and labels
LOCALITY_COLOUR = "#6a1b9a"
BACKGROUND = "#e9eef2"
#: the most zoom a map allows (street level; ``MAX_ZOOM`` in ``map_ui.js``)
MAX_ZOOM = 17

_VENDOR = Path(__file__).parent.parent / "_vendor"
_UI_JS = Path(__file__).with_name("map_ui.js")
#: Basemap tiles: the one online resource, behind an overlay that is off by default.
TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
BASEMAP_NAME = "Basemap (OpenStreetMap, online)"
#: the layer control's names
LAYER_NAMES = {"areas": "Areas by hub", "met": "Share of demand met at the hub",
               "travel": "Travel time to hub", "plan_breaches": "Breaches: plan",
               "today": "Breaches: today", "pools": "Specialist pools",
               "localities": "Locality teams", "hubs": "Hubs"}


def _esc(value) -> str:
    """HTML-escape ``value`` for pop-ups and tooltips (also ``$``, backtick and backslash)."""
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    return (html.escape(text).replace("`", "&#96;").replace("$", "&#36;")
            .replace("\\", "&#92;"))


def hub_colours(areas_27700, assignment: pd.DataFrame) -> dict[str, str]:
    """Colour each hub so that hubs whose areas touch get different colours (greedy colouring).

    Parameters
    ----------
    areas_27700 : GeoDataFrame
        Area polygons indexed by area id.
    assignment : DataFrame
        area_id, site_id, share; each area's main hub is its largest share.
    """
    return colour_hubs(hub_neighbours(areas_27700, assignment))


def hub_neighbours(areas_27700, assignment: pd.DataFrame) -> dict[str, set[str]]:
    """Each hub's neighbours: the hubs whose areas touch its areas (site id -> site ids)."""
    main = _main_hub(assignment)
    hubs = sorted(main.unique())
    geoms = areas_27700.geometry.reindex(main.index)
    neighbours: dict[str, set[str]] = {h: set() for h in hubs}
    valid = geoms.notna() & ~geoms.is_empty
    if valid.any():
        g = geoms[valid]
        left, right = g.sindex.query(g.buffer(1.0).to_numpy(), predicate="intersects")
        hub_of = main[valid].to_numpy()
        for a, b in zip(hub_of[left], hub_of[right], strict=True):
            if a != b:
                neighbours[a].add(b)
                neighbours[b].add(a)
    return neighbours


def colour_hubs(neighbours: dict[str, set[str]]) -> dict[str, str]:
    """Greedy colouring of the hub graph from :data:`PALETTE`: neighbours differ, each colour
    used as evenly as the graph allows (least-used first, then the one least like the
    neighbours').

    Examples
    --------
    >>> colour_hubs({"a": {"b"}, "b": {"a"}, "c": set()})["a"] != colour_hubs(
    ...     {"a": {"b"}, "b": {"a"}, "c": set()})["b"]
    True
    """
    colours: dict[str, str] = {}
    uses = dict.fromkeys(PALETTE, 0)
    for h in sorted(neighbours, key=lambda x: (-len(neighbours[x]), x)):
        near = [colours[n] for n in neighbours[h] if n in colours]
        free = [c for c in PALETTE if c not in near] or PALETTE
        colour = min(free, key=lambda c: (uses[c], -min((_rgb_distance(c, n) for n in near),
                                                         default=0.0), PALETTE.index(c)))
        colours[h] = colour
        uses[colour] += 1
    return colours


def _rgb_distance(a: str, b: str) -> float:
    ra, rb = (np.array([int(x[i:i + 2], 16) for i in (1, 3, 5)], dtype=float) for x in (a, b))
    return float(np.linalg.norm(ra - rb))


def _main_hub(assignment: pd.DataFrame) -> pd.Series:
    """Each area's hub with the largest share (area_id -> site_id)."""
    return (assignment.sort_values(["share", "site_id"], ascending=[False, True])
            .drop_duplicates("area_id").set_index("area_id")["site_id"].astype(str))


def _area_pools(results, inputs, main: pd.Series) -> pd.Series:
    """Specialist pool of each area (area_id -> pool name); empty when there are no pools.

    The pool of an area is its hub's pool under ``pools.by: site``, the named pool listing the
    area's group (or the group itself) under ``pools.by: area_group``; ``single`` has none.
    """
    om = getattr(inputs, "operating_model", None)
    pools = getattr(om, "pools", None)
    by = getattr(pools, "by", "single")
    areas = inputs.areas
    if by == "site":
        pool_of_hub = results.hubs.set_index(results.hubs["site_id"].astype(str))["pool"]
        out = main.map(pool_of_hub)
    elif by == "area_group" and "group" in areas.columns:
        group = areas["group"].astype("string")
        if pools.groups:
            lookup = {str(g): pool for pool, groups in pools.groups.items() for g in groups}
            out = group.map(lookup)
        else:
            out = group
    else:
        return pd.Series(dtype="string")
    out = pd.Series(out, dtype="string").dropna()
    return out if out.nunique() >= 2 else pd.Series(dtype="string")


def _round_coords(geoms, decimals: int = 5):
    """Round lon/lat to ``decimals`` places (5: about 1 m) so the page stays small."""
    import shapely

    return shapely.transform(np.asarray(geoms), lambda xy: np.round(xy, decimals))


def _simplify(geoms, tolerance_m: float):
    """Simplify area polygons, keeping shared borders shared (no gaps or overlaps).

    Uses GEOS coverage simplification when the areas form a valid coverage, else a
    topology-preserving simplification of each polygon.
    """
    import shapely

    geoms = np.asarray(geoms)
    if tolerance_m <= 0:
        return geoms
    try:
        if bool(shapely.coverage_is_valid(geoms)):
            return shapely.coverage_simplify(geoms, tolerance_m)
    except (AttributeError, shapely.errors.GEOSException):  # shapely < 2.1 or bad input
        pass
    return shapely.simplify(geoms, tolerance_m, preserve_topology=True)


def _union(geoms):
    """Dissolve polygons (coverage union when they form a clean coverage)."""
    import shapely

    try:
        valid = bool(shapely.coverage_is_valid(geoms))
    except (AttributeError, shapely.errors.GEOSException):
        valid = False
    if valid:
        merged = shapely.coverage_union_all(geoms)
    else:  # gaps or overlaps: close them
        grown = shapely.buffer(geoms, 2.0, quad_segs=1, join_style="mitre")
        merged = shapely.buffer(shapely.union_all(grown), -2.0, quad_segs=1, join_style="mitre")
    # an outline: drop holes and slivers, keep every part (islands)
    parts = [shapely.Polygon(p.exterior) for p in getattr(merged, "geoms", [merged])
             if not p.is_empty and p.area > 1e4]
    return shapely.MultiPolygon(parts) if parts else merged


def _rules(results, inputs) -> dict:
    """The plan rules the map checks: the travel limit in the travel unit and the band.

    ``limit`` is ``hubs.max_travel_minutes`` converted as :func:`mdtplan.travel.travel_limit`
    does (km: the distance covered at ``travel.speed_kmh``); ``None`` without a limit.
    """
    scenario = getattr(inputs, "scenario", None)
    hubs = getattr(scenario, "hubs", None)
    travel = getattr(scenario, "travel", None)
    unit = results.summary.travel.unit or getattr(travel, "unit", None) or "minutes"
    minutes = getattr(hubs, "max_travel_minutes", None)
    limit = None
    if minutes is not None:
        limit = float(minutes)
        if unit == "km":
            limit = float(minutes) * float(getattr(travel, "speed_kmh", 40.0)) / 60.0
    band = getattr(hubs, "population", None)
    return {"unit": unit, "limit": limit,
            "band_min": getattr(band, "min", None), "band_max": getattr(band, "max", None)}


def _unit_text(unit: str) -> str:
    return {"minutes": "min", "km": "km"}.get(unit, str(unit))


def _fmt_travel(value, unit: str) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{value:.0f} {_unit_text(unit)}" if value >= 10 else \
        f"{value:.1f} {_unit_text(unit)}"


def travel_bins(limit: float | None, longest: float | None) -> list[tuple[float, str]]:
    """Upper bounds and colours of the travel layer's bins: quarters of ``limit`` (or of the
    longest trip without one), rounded to whole units when they are at least 8.

    Examples
    --------
    >>> [b for b, _ in travel_bins(35.0, 41.0)]
    [9.0, 18.0, 26.0, 35.0]
    >>> [b for b, _ in travel_bins(None, 41.0)]
    [10.0, 20.0, 31.0, 41.0]
    """
    top = limit if limit is not None else (longest if longest and longest > 0 else 1.0)
    edges = [top * k / 4 for k in (1, 2, 3, 4)]
    if top >= 8:
        edges = [float(round(e)) for e in edges[:-1]] + [float(top)]
    return list(zip(edges, TRAVEL_COLOURS, strict=True))


def _travel_colour(value, bins) -> str:
    if value is None or pd.isna(value):
        return NO_DATA
    return next((c for upper, c in bins if value <= upper * (1 + 1e-9)), bins[-1][1])


def _band_text(population: float, band_min, band_max) -> str | None:
    """``"above the band's most (50,000)"``, ``"below …"``; ``None`` inside the band."""
    if band_max is not None and population > band_max * (1 + 1e-9):
        return f"above the band's most ({band_max:,.0f})"
    if band_min is not None and population < band_min * (1 - 1e-9):
        return f"below the band's least ({band_min:,.0f})"
    return None


def _area_frame(results, inputs, simplify_m: float, colours: dict[str, str] | None = None):
    """Area polygons in EPSG:4326 with escaped labels and each layer's colour and flags."""
    areas = inputs.areas
    main = _main_hub(results.assignment)
    colours = colours or hub_colours(areas, results.assignment)
    hub_names = results.hubs.set_index(results.hubs["site_id"].astype(str))["name"]
    rules = _rules(results, inputs)

    st = results.staffing
    met = pd.Series(dtype=float)
    if not st.empty:
        by_unit = st.groupby(st["unit"].astype(str))[["demand_hours", "unmet_hours"]].sum()
        met = 1.0 - by_unit["unmet_hours"] / by_unit["demand_hours"].replace(0, np.nan)

    gdf = areas[["geometry"]].copy()
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    gdf["geometry"] = _simplify(gdf.geometry.to_numpy(), simplify_m)
    simplified_27700 = gdf.geometry.copy()
    gdf = gdf.to_crs("EPSG:4326")
    gdf["geometry"] = _round_coords(gdf.geometry.to_numpy())
    hub = main.reindex(gdf.index)
    met_pct = (hub.map(met).astype(float) * 100).round(1)
    a = results.assignment
    travel = (a.assign(area_id=a["area_id"].astype(str), site_id=a["site_id"].astype(str))
              .merge(main.rename("site_id").reset_index(), on=["area_id", "site_id"])
              .drop_duplicates("area_id").set_index("area_id")["travel_cost"]
              if "travel_cost" in a else pd.Series(dtype=float))
    travel = travel.reindex(gdf.index).astype(float)
    longest = float(travel.max()) if travel.notna().any() else None
    bins = travel_bins(rules["limit"], longest)
    limit = rules["limit"]
    beyond = (travel > limit * (1 + 1e-9)) if limit is not None else travel.notna() & False
    population = areas["population"].reindex(gdf.index) if "population" in areas else np.nan
    name = areas["name"].reindex(gdf.index) if "name" in areas else gdf.index.to_series()
    props = pd.DataFrame({
        "area_id": [_esc(v) for v in gdf.index],
        "name": [_esc(v) for v in name],
        "hub_name": [_esc(v) for v in hub.map(hub_names)],
        "population": [f"{v:,.0f}" if pd.notna(v) else "" for v in population],
        "met_pct": ["" if pd.isna(v) else f"{v:.1f}%" for v in met_pct],
        "hub_colour": [colours.get(h, NO_DATA) if isinstance(h, str) else NO_DATA for h in hub],
        "met_colour": [_met_colour(v) for v in met_pct],
        "travel": [_fmt_travel(v, rules["unit"]) for v in travel],
        "travel_colour": [_travel_colour(v, bins) for v in travel],
        "beyond": [bool(v) for v in beyond],
    }, index=gdf.index)
    today = _today_areas(results, inputs, gdf.index, rules)
    out = gdf[["geometry"]].join(props).join(today)
    out.attrs["simplified_27700"] = simplified_27700
    out.attrs["rules"] = rules
    out.attrs["bins"] = bins
    return out, main, colours


def _today_areas(results, inputs, index: pd.Index, rules: dict) -> pd.DataFrame:
    """Today's configuration by area (with a baseline): its site, travel and breaches."""
    base = results.summary.baseline
    cols = ["base_site", "base_travel", "base_beyond", "base_unserved"]
    frame = pd.DataFrame({"base_site": "", "base_travel": "", "base_beyond": False,
                          "base_unserved": False}, index=index)
    if base is None:
        return frame[[]]
    unserved = {str(x) for x in base.unserved_areas}
    frame["base_unserved"] = [str(i) in unserved for i in index]
    table = getattr(results, "baseline_assignment", None)
    if table is not None and not table.empty:
        main = _main_hub(table)
        t = table.assign(area_id=table["area_id"].astype(str), site_id=table["site_id"].astype(str))
        travel = (t.merge(main.rename("site_id").reset_index(), on=["area_id", "site_id"])
                  .drop_duplicates("area_id").set_index("area_id")["travel_cost"]
                  .reindex(index).astype(float))
        names = inputs.sites["name"] if "name" in inputs.sites else pd.Series(dtype=str)
        names = pd.Series(names.to_numpy(), index=inputs.sites.index.astype(str))
        site = main.reindex(index)
        frame["base_site"] = [_esc(names.get(s, s)) if isinstance(s, str) else "" for s in site]
        frame["base_travel"] = [_fmt_travel(v, rules["unit"]) for v in travel]
        if rules["limit"] is not None:
            frame["base_beyond"] = (travel > rules["limit"] * (1 + 1e-9)).fillna(False)
    return frame[cols]


def _today_sites(results, inputs, rules: dict) -> dict | None:
    """Today's sites for the "Breaches: today" layer, and its legend's counts."""
    base = results.summary.baseline
    if base is None:
        return None
    sites = inputs.sites
    index = sites.index.astype(str)
    table = getattr(results, "baseline_assignment", None)
    people = None
    if table is not None and not table.empty and "population" in inputs.areas:
        weights = pd.Series(inputs.areas["population"].to_numpy(dtype=float),
                            index=inputs.areas.index.astype(str))
        t = table.assign(area_id=table["area_id"].astype(str), site_id=table["site_id"].astype(str))
        people = (t["share"].astype(float) * t["area_id"].map(weights).fillna(0.0)).groupby(
            t["site_id"]).sum()
    out = []
    for sid in base.sites:
        sid = str(sid)
        if sid not in index:
            continue
        row = sites.iloc[list(index).index(sid)]
        lat, lon = float(row.get("lat", np.nan)), float(row.get("lon", np.nan))
        if not (np.isfinite(lat) and np.isfinite(lon)):
            continue
        name = _esc(row.get("name", sid))
        text = f"<b>{name}</b> (today's site)"
        outside = None
        if people is not None:
            n = float(people.get(sid, 0.0))
            outside = _band_text(n, rules["band_min"], rules["band_max"])
            text += f"<br>{n:,.0f} people" + (f", {outside}" if outside else "")
        out.append({"lat": lat, "lon": lon, "tooltip": text, "outside": bool(outside)})
    return {"sites": out, "detail": people is not None}


def _met_colour(pct) -> str:
    if pct is None or pd.isna(pct):
        return NO_DATA
    return next(colour for bound, colour, _ in MET_BINS if pct >= bound)


def _geojson(frame, columns) -> dict:
    """A compact GeoJSON FeatureCollection of ``frame`` with ``columns`` as properties."""
    import shapely

    feats = []
    for geom, row in zip(shapely.to_geojson(frame.geometry.to_numpy()),
                         frame[columns].itertuples(index=False), strict=True):
        feats.append({"type": "Feature", "geometry": json.loads(geom),
                      "properties": dict(zip(columns, row, strict=True))})
    return {"type": "FeatureCollection", "features": feats}


def _hub_popup(hub, staffing: pd.DataFrame, role_names: dict[str, str],
               outside: str | None = None) -> str:
    rows = [("Site id", hub.site_id), ("Status", getattr(hub, "status", "")),
            ("Population served", f"{hub.population:,.0f}"
             + (f" ({outside})" if outside else "")),
            ("Areas", f"{hub.areas}"),
            ("Utilisation", "" if pd.isna(hub.utilisation) else f"{hub.utilisation:.0%}")]
    if not staffing.empty:
        mine = staffing[staffing["unit"].astype(str) == str(hub.site_id)]
        for r in mine.itertuples(index=False):
            rows.append((f"FTE {role_names.get(r.role, str(r.role).replace('_', ' '))}",
                         f"{r.fte:g}"))
        if len(mine):
            rows.append(("FTE total", f"{mine['fte'].sum():g}"))
    body = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows)
    return (f"<div class='mdt-popup'><b>{_esc(hub.name)}</b><table>{body}</table></div>")


def _role_names(inputs) -> dict[str, str]:
    om = getattr(inputs, "operating_model", None)
    out: dict[str, str] = {}
    for role in getattr(om, "roles", None) or []:
        rid, name = getattr(role, "id", None), getattr(role, "name", None)
        if rid and name:
            out[str(rid)] = str(name).split(" (")[0]
    return out


def _swatch(fill: str, *, outline: str = "#555555", dash: bool = False) -> str:
    """A legend swatch: an inline SVG square (patterns as ``url(#id)``), hidden from readers."""
    dash_attr = ' stroke-dasharray="3 2"' if dash else ""
    return (f'<svg class="mdt-sw" width="16" height="14" aria-hidden="true" focusable="false">'
            f'<rect x="1" y="1" width="14" height="12" fill="{fill}" stroke="{outline}" '
            f'stroke-width="1.5"{dash_attr}/></svg>')


def _row(swatch: str, text: str) -> str:
    return f"<div class='mdt-row'>{swatch}<span>{text}</span></div>"


def _band_words(rules: dict) -> str:
    lo, hi = rules["band_min"], rules["band_max"]
    if lo is not None and hi is not None:
        return f"{lo:,.0f} – {hi:,.0f} people"
    if hi is not None:
        return f"at most {hi:,.0f} people"
    if lo is not None:
        return f"at least {lo:,.0f} people"
    return ""


def _legends(results, gdf, colours: dict[str, str], hub_names: pd.Series,
             hubs_outside: int, today: dict | None) -> dict[str, str]:
    """Each layer's legend section (escaped HTML), keyed as :data:`LAYER_NAMES`."""
    rules, bins = gdf.attrs["rules"], gdf.attrs["bins"]
    unit = _unit_text(rules["unit"])
    limit = rules["limit"]
    shown = [h for h in colours if h in set(hub_names.index)]
    hubs = "".join(_row(_swatch(colours[h]), _esc(hub_names.get(h, h)))
                   for h in sorted(shown, key=lambda h: str(hub_names.get(h, h))))
    out = {"areas": (f"<p>Each area in its hub's colour (neighbouring hubs differ; "
                     f"{len(shown)} hubs, named on the map).</p>"
                     f"<div class='mdt-hubs'>{hubs}</div>")}
    out["met"] = ("<p>Per hub: every area shows its serving hub's share of demand met "
                  "(the hub's staff against its areas' demand).</p>"
                  + "".join(_row(_swatch(c), _esc(label)) for _, c, label in MET_BINS)
                  + _row(_swatch(NO_DATA), "no data"))
    lows = [0.0] + [b for b, _ in bins[:-1]]
    rows = "".join(_row(_swatch(c), f"{lo:g} – {hi:g} {unit}")
                   for lo, (hi, c) in zip(lows, bins, strict=True))
    n_beyond = int(gdf["beyond"].sum())
    if limit is not None:
        rows += _row(_swatch("url(#mdt-hatch-beyond)", outline="#000000"),
                     f"beyond the {limit:g} {unit} limit: {n_beyond} areas")
    out["travel"] = f"<p>From each area to its hub ({_esc(rules['unit'])}).</p>{rows}"
    band = _band_words(rules)
    plan = []
    if limit is not None:
        plan.append(_row(_swatch("url(#mdt-hatch-beyond)", outline="#000000"),
                         f"{n_beyond} areas beyond {limit:g} {unit}"))
    if band:
        plan.append(_row("<span class='mdt-ring' aria-hidden='true'></span>",
                         f"{hubs_outside} hubs outside {band}"))
    out["plan_breaches"] = "".join(plan) or "<p>The scenario sets no travel limit or band.</p>"
    if today is not None:
        n_far = int(gdf["base_beyond"].sum()) if "base_beyond" in gdf else 0
        n_none = int(gdf["base_unserved"].sum()) if "base_unserved" in gdf else 0
        rows = [_row("<span class='mdt-today' aria-hidden='true'></span>",
                     f"today's sites ({len(today['sites'])})")]
        if today["detail"]:
            if limit is not None:
                rows.append(_row(_swatch("url(#mdt-hatch-today)", outline="#2d004b", dash=True),
                                 f"{n_far} areas beyond {limit:g} {unit} today"))
            if band:
                n_out = sum(s["outside"] for s in today["sites"])
                rows.append(_row("<span class='mdt-ring' aria-hidden='true'></span>",
                                 f"{n_out} sites outside {band}"))
        else:
            rows.append("<p>Area by area detail is not in this result (solved by an older "
                        "version): solve again to see it.</p>")
        rows.append(_row(_swatch("url(#mdt-hatch-unserved)", outline="#2d004b", dash=True),
                         f"{n_none} areas no site reaches today"))
        out["today"] = "".join(rows)
    out["pools"] = _row("<span class='mdt-pool' aria-hidden='true'></span>",
                        "pool boundary (dashed)")
    out["localities"] = _row("<span class='mdt-loc' aria-hidden='true'></span>",
                             "locality team boundary")
    out["hubs"] = (_row("<span class='mdt-dot' aria-hidden='true'></span>",
                        "hub, in its areas' colour; select it (or find it above) for its "
                        "staff") )
    return out


def _legend_head(results, title: str) -> str:
    summary = results.summary
    met = summary.demand.met_share
    return (f"<p class='mdt-head'><b>{_esc(title or summary.name)}</b><br>"
            f"{summary.hubs.count} hubs · {_esc(summary.report.status)}"
            + ("" if met is None else f" · demand met {met:.1%}") + "</p>")


_STYLE = f"""
<style>
.leaflet-container {{ background: {BACKGROUND}; font: 13px/1.35 system-ui, -apple-system,
  "Segoe UI", Roboto, Arial, sans-serif; }}
.mdt-legend {{ background: rgba(255,255,255,.97); padding: 4px 8px 6px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,.4); width: 230px; font-size: 12px; line-height: 1.3; }}
.mdt-legend.mdt-collapsed {{ width: auto; padding: 2px; }}
.mdt-legend-body {{ max-height: min(48vh, 420px); overflow-y: auto; }}
.mdt-legend-toggle, .mdt-find button {{ font: inherit; font-weight: 600; padding: 3px 8px;
  border: 1px solid #505a5f; border-radius: 3px; background: #fff; color: #0b0c0c;
  cursor: pointer; }}
.mdt-legend-toggle::after {{ content: " \\25BE"; }}
.mdt-collapsed .mdt-legend-toggle::after {{ content: " \\25B8"; }}
.mdt-legend h2 {{ font-size: 12px; margin: 6px 0 2px; }}
.mdt-legend p {{ margin: 2px 0; }}
.mdt-legend .mdt-head {{ margin-top: 4px; }}
.mdt-row {{ display: flex; align-items: center; gap: 5px; margin: 1px 0; }}
.mdt-row span:last-child {{ overflow: hidden; text-overflow: ellipsis; }}
.mdt-hubs .mdt-row span {{ white-space: nowrap; }}
.mdt-sw {{ flex: none; }}
.mdt-pool {{ display: inline-block; width: 16px; border-top: 3px dashed {POOL_COLOUR}; }}
.mdt-loc {{ display: inline-block; width: 16px; border-top: 4px solid {LOCALITY_COLOUR}; }}
.mdt-ring {{ display: inline-block; width: 12px; height: 12px; border-radius: 50%;
  border: 2px dashed #b2182b; flex: none; }}
.mdt-dot {{ display: inline-block; width: 10px; height: 10px; border-radius: 50%;
  background: #1f77b4; border: 2px solid #fff; box-shadow: 0 0 0 1px #000; flex: none; }}
.mdt-today {{ display: inline-block; width: 9px; height: 9px; border-radius: 50%;
  background: #fff; border: 2px solid #2d004b; flex: none; }}
.mdt-top {{ background: rgba(255,255,255,.97); padding: 4px 6px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,.4); font-size: 12px; max-width: calc(100vw - 90px); }}
.mdt-back {{ display: block; font-weight: 600; color: #1d70b8; margin-bottom: 3px; }}
.mdt-back:focus, .mdt-find input:focus, .mdt-find button:focus, .mdt-legend-toggle:focus,
.leaflet-control-layers-selector:focus {{ outline: 3px solid #ffdd00; outline-offset: 0; }}
.mdt-find label {{ font-weight: 600; margin-right: 4px; }}
.mdt-find input {{ font: inherit; width: 150px; max-width: 40vw; padding: 2px 4px;
  border: 1px solid #0b0c0c; }}
.mdt-find-msg {{ display: block; color: #942514; }}
.mdt-find-msg:empty {{ display: none; }}
path.mdt-hub {{ filter: drop-shadow(0 0 1.5px #000) drop-shadow(0 0 1px #000); }}
.mdt-hub-label {{ background: rgba(255,255,255,.9); border: 0; box-shadow: none;
  padding: 0 3px; font-size: 11px; font-weight: 600; color: #0b0c0c; border-radius: 2px; }}
.mdt-hub-label::before {{ display: none; }}
.mdt-label-hidden {{ visibility: hidden; }}
.leaflet-control-layers {{ font-size: 12px; }}
.leaflet-control-layers label {{ margin: 1px 0; }}
.mdt-locality-label {{ color: {LOCALITY_COLOUR}; font-weight: 700; font-size: 13px;
  text-align: center; white-space: nowrap; text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; }}
.mdt-popup table {{ border-collapse: collapse; margin-top: 4px; }}
.mdt-popup th {{ text-align: left; font-weight: normal; padding: 1px 10px 1px 0; color: #333; }}
.mdt-popup td {{ text-align: right; font-variant-numeric: tabular-nums; }}
.leaflet-container a.leaflet-popup-close-button {{ color: #0b0c0c; }}
.leaflet-control-attribution a {{ color: #1d5c96; }}
.mdt-sr {{ position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }}
@media (max-width: 639px) {{ .mdt-legend {{ width: 200px; }} }}
</style>
"""


def _ui(fmap, layers: dict, config: dict) -> None:
    """Call ``mdtMapUi`` (``map_ui.js``) for ``fmap`` with its Folium layers and ``config``."""
    from branca.element import MacroElement
    from folium.template import Template

    class _MapUi(MacroElement):
        _template = Template("""
            {% macro script(this, kwargs) %}
            mdtMapUi({{ this._parent.get_name() }}, {
                {%- for key, layer in this.layers.items() %}
                {{ key|tojson }}: {{ layer.get_name() if layer else 'null' }},
                {%- endfor %}
            }, {{ this.config|tojson }});
            {% endmacro %}
        """)

        def __init__(self):
            super().__init__()
            self._name = "MdtMapUi"
            self.layers, self.config = layers, config

    _MapUi().add_to(fmap)


def _add_plan_layers(fmap, results, inputs, *, simplify_m: float, title: str = "",
                     colours: dict[str, str] | None = None,
                     back_link: tuple[str, str] | None = None, uid: str = "m") -> None:
    """Add the area layers and the controls (``map_ui.js``) to ``fmap``."""
    import folium

    gdf, main, colours = _area_frame(results, inputs, simplify_m, colours)
    rules = gdf.attrs["rules"]
    hub_names = results.hubs.set_index(results.hubs["site_id"].astype(str))["name"]

    tiles = folium.TileLayer(
        TILE_URL, name=BASEMAP_NAME, overlay=True, show=False, control=False,
        attr='&copy; <a href="https://www.openstreetmap.org/copyright">'
             "OpenStreetMap</a> contributors").add_to(fmap)

    cols = ["area_id", "name", "hub_name", "population", "met_pct", "hub_colour", "met_colour",
            "travel", "travel_colour", "beyond"]
    cols += [c for c in ("base_site", "base_travel", "base_beyond", "base_unserved")
             if c in gdf]
    by_hub = folium.GeoJson(
        _geojson(gdf, cols), name=LAYER_NAMES["areas"], show=True, control=False,
        style_function=lambda f: {"fillColor": f["properties"]["hub_colour"], "color": "#ffffff",
                                  "weight": 0.6, "fillOpacity": 0.75,
                                  "className": "mdt-area mdt-area-hub"},
        highlight_function=lambda f: {"weight": 2, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["name", "area_id", "hub_name", "population"],
                                      aliases=["Area", "Id", "Hub", "Adults"]),
    ).add_to(fmap)

    pools = _area_pools(results, inputs, main)
    pool_layer = None
    if not pools.empty:
        import geopandas as gpd
        import shapely

        keep = gdf.index.intersection(pools.index)
        pool_of = pools.reindex(keep).astype(str)
        names = sorted(pool_of.unique())
        simplified = gdf.attrs["simplified_27700"]
        outlines = shapely.simplify(
            [_union(simplified.loc[pool_of.index[pool_of == p]].to_numpy()) for p in names],
            simplify_m * 2, preserve_topology=True)
        dissolved = gpd.GeoDataFrame({"pool_name": [_esc(p) for p in names]},
                                     geometry=outlines, crs=simplified.crs).to_crs("EPSG:4326")
        dissolved["geometry"] = _round_coords(dissolved.geometry.to_numpy())
        pool_layer = folium.GeoJson(
            _geojson(dissolved, ["pool_name"]), name=LAYER_NAMES["pools"], show=True,
            control=False,
            style_function=lambda f: {"fill": False, "color": POOL_COLOUR, "weight": 3,
                                      "dashArray": "8 5", "className": "mdt-pool-outline"},
            tooltip=folium.GeoJsonTooltip(fields=["pool_name"], aliases=["Specialist pool"]),
        ).add_to(fmap)

    locality_layer = _add_locality_layer(fmap, results, gdf, main, simplify_m)

    role_names = _role_names(inputs)
    hubs, outside_count = [], 0
    for hub in results.hubs.itertuples(index=False):
        if not (np.isfinite(hub.lat) and np.isfinite(hub.lon)):
            continue
        outside = _band_text(float(hub.population), rules["band_min"], rules["band_max"])
        outside_count += bool(outside)
        hubs.append({"id": str(hub.site_id), "lat": round(float(hub.lat), 6),
                     "lon": round(float(hub.lon), 6), "label": _esc(hub.name),
                     "search": str(hub.name), "colour": colours.get(str(hub.site_id), "#ffffff"),
                     "population": float(hub.population),
                     "popup": _hub_popup(hub, results.staffing, role_names, outside),
                     "outside": bool(outside),
                     "band_text": f"<b>{_esc(hub.name)}</b><br>{hub.population:,.0f} people, "
                                  f"{outside}" if outside else ""})
    today = _today_sites(results, inputs, rules)
    legends = _legends(results, gdf, colours, hub_names, outside_count, today)
    n_plan = int(gdf["beyond"].sum()) + outside_count
    keys = [("areas", True), ("met", False), ("travel", False), ("plan_breaches", n_plan > 0),
            ("today", False), ("pools", True), ("localities", True), ("hubs", True)]
    present = {"pools": pool_layer is not None, "localities": locality_layer is not None,
               "today": today is not None}
    minx, miny, maxx, maxy = gdf.total_bounds
    config = {
        "uid": uid,
        "hubs": hubs,
        "today": today,
        "back": None if back_link is None else {"href": back_link[0], "text": _esc(back_link[1])},
        "basemap_name": BASEMAP_NAME,
        "legend_head": _legend_head(results, title),
        "layers": [{"key": k, "name": LAYER_NAMES[k], "show": show, "legend": legends[k]}
                   for k, show in keys if present.get(k, True)],
        "bounds": [[float(miny), float(minx)], [float(maxy), float(maxx)]],
    }
    _ui(fmap, {"areas": by_hub, "tiles": tiles, "pools": pool_layer,
               "localities": locality_layer}, config)


def _add_locality_layer(fmap, results, gdf, main, simplify_m: float):
    """The locality teams' outlines (their hubs' catchments dissolved, a thick line) and a
    label at each, as one layer of their own (returned); ``None`` without locality teams."""
    import folium
    import geopandas as gpd
    import shapely

    teams = getattr(results, "localities", None)
    if teams is None or len(teams) == 0 or "locality" not in results.hubs:
        return None
    locality_of = results.hubs.set_index(results.hubs["site_id"].astype(str))["locality"]
    of_area = main.reindex(gdf.index).map(locality_of).dropna().astype(str)
    if of_area.empty:
        return None
    teams = teams.set_index(teams["locality_id"].astype(str))
    ids = [t for t in teams.index if (of_area == t).any()]
    simplified = gdf.attrs["simplified_27700"]
    outlines = shapely.simplify(
        [_union(simplified.loc[of_area.index[of_area == t]].to_numpy()) for t in ids],
        simplify_m * 2, preserve_topology=True)
    frame = gpd.GeoDataFrame(
        {"locality": [_esc(teams.at[t, "name"]) for t in ids],
         "people": [f"{float(teams.at[t, 'population']):,.0f}" for t in ids],
         "hubs": [str(int(teams.at[t, "hubs"])) for t in ids]},
        geometry=outlines, crs=simplified.crs)
    points = frame.geometry.representative_point().to_crs("EPSG:4326")
    frame = frame.to_crs("EPSG:4326")
    frame["geometry"] = _round_coords(frame.geometry.to_numpy())
    layer = folium.FeatureGroup(name=LAYER_NAMES["localities"], show=True,
                                control=False).add_to(fmap)
    folium.GeoJson(
        _geojson(frame, ["locality", "people", "hubs"]),
        style_function=lambda f: {"fill": False, "color": LOCALITY_COLOUR, "weight": 5,
                                  "className": "mdt-locality-outline"},
        tooltip=folium.GeoJsonTooltip(fields=["locality", "hubs", "people"],
                                      aliases=["Locality team", "Hubs", "People"]),
    ).add_to(layer)
    for label, point in zip(frame["locality"], points, strict=True):
        folium.Marker(
            location=[float(point.y), float(point.x)],
            icon=folium.DivIcon(
                html=f'<div class="mdt-locality-label">{label}</div>',
                icon_size=(90, 20), icon_anchor=(45, 10), class_name="mdt-locality"),
            keyboard=False, interactive=False,
        ).add_to(layer)
    return layer


@lru_cache(maxsize=2)
def _vendor_inline(dual: bool) -> str:
    """The vendored CSS and JS as inline ``<style>``/``<script>`` (images as data: URIs)."""

    def data_uri(path: Path) -> str:
        mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
        return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"

    def inline_urls(css: str, base: Path) -> str:
        def repl(m):
            target = base / m.group(1)
            return f"url({data_uri(target)})" if target.is_file() else m.group(0)

        return re.sub(r"url\(([^)#:]+)\)", repl, css)

    leaflet, fullscreen, sync = (_VENDOR / "leaflet", _VENDOR / "leaflet.fullscreen",
                                 _VENDOR / "leaflet.sync")
    css = [inline_urls((leaflet / "leaflet.css").read_text("utf-8"), leaflet),
           inline_urls((fullscreen / "Control.FullScreen.css").read_text("utf-8"), fullscreen)]
    js = [(leaflet / "leaflet.js").read_text("utf-8"),
          (fullscreen / "Control.FullScreen.js").read_text("utf-8")]
    if dual:
        js.append((sync / "L.Map.Sync.js").read_text("utf-8"))
    js = [re.sub(r"//# sourceMappingURL=\S+", "", s).replace("</script", "<\\/script")
          for s in js]
    js.append(_UI_JS.read_text("utf-8"))
    js = [s.replace("</script", "<\\/script") for s in js]
    return ("<!-- Leaflet 1.9.4, Leaflet.fullscreen 3.0.0"
            + (", Leaflet.Sync 0.2.4" if dual else "")
            + " (licences in mdtplan/_vendor); mdtplan's map_ui.js -->\n"
            + "".join(f"<style>{c}</style>\n" for c in css)
            + "".join(f"<script>{s}</script>\n" for s in js) + _STYLE)


def _walk(element):
    yield element
    for child in list(getattr(element, "_children", {}).values()):
        yield from _walk(child)


def _save_offline(root, path: Path, *, dual: bool, title: str, heading: str) -> Path:
    """Drop every CDN link Folium would add, inline the vendored assets, save ``root``.

    ``title`` (plain text) becomes the page's ``<title>``, ``heading`` a visually hidden
    ``<h1>``; the page's language is British English and pinch zoom stays allowed.
    """
    from branca.element import Element

    figure = root.get_root()
    for el in _walk(figure):
        if hasattr(el, "default_js"):
            el.default_js = []
        if hasattr(el, "default_css"):
            el.default_css = []
    vendor = _vendor_inline(dual)
    figure.header.add_child(Element(vendor), name="mdtplan_vendor", index=0)
    figure.html.add_child(Element(f'<h1 class="mdt-sr">{html.escape(heading)}</h1>'),
                          name="mdtplan_heading", index=0)
    figure.title = html.escape(title)
    text = figure.render()
    text = text.replace("<html>", '<html lang="en-GB">', 1)
    # Folium's viewport forbids pinch zoom (WCAG 1.4.4): allow it
    text = re.sub(r'(<meta name="viewport" content="width=device-width,)\s*initial-scale=1\.0,'
                  r'\s*maximum-scale=1\.0, user-scalable=no"', r'\1 initial-scale=1.0"', text)
    # Leaflet's own code holds one link (its attribution, an <a>, never fetched): check the rest
    external = re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", text.replace(vendor, ""))
    if external:  # a Folium change brought a new CDN link: fail loudly, never ship it
        raise RuntimeError(f"map would fetch {len(external)} outside resource(s)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _has_geometry(inputs) -> bool:
    areas = getattr(inputs, "areas", None)
    return areas is not None and "geometry" in areas and not areas.geometry.isna().all()


def _new_map(**kwargs):
    import folium

    return folium.Map(tiles=None, control_scale=True, prefer_canvas=False, zoom_snap=0.25,
                      **kwargs)


def draw_map(results, inputs, path: str | Path, *, simplify_m: float = 20.0,
             back_link: tuple[str, str] | None = None) -> Path | None:
    """Write a self-contained, offline Leaflet map of the plan; ``None`` without area geometry.

    Parameters
    ----------
    results : mdtplan.results.Results
    inputs : mdtplan.inputs.Inputs
        Its ``areas`` (EPSG:27700 polygons, ``name``, ``population``, ``group``), ``sites``
        (today's sites' positions), operating model (role names, specialist pools) and
        scenario (travel limit and unit, population band).
    path : str or Path
        The HTML file to write.
    simplify_m : float
        Tolerance of the topology-preserving simplification of area outlines [m].
    back_link : (str, str), optional
        ``(href, text)`` of a link above the search that opens in the whole window
        (``target="_top"``, so it leaves an ``<iframe>``), e.g. back to the scenario's page.

    Returns
    -------
    Path or None
        The page, titled "Map · <scenario name> · mdtplan".
    """
    if not _has_geometry(inputs):
        return None
    fmap = _new_map()
    _add_plan_layers(fmap, results, inputs, simplify_m=simplify_m, back_link=back_link)
    name = results.summary.name or "scenario"
    return _save_offline(fmap, Path(path), dual=False, title=f"Map · {name} · mdtplan",
                         heading=f"Map of {name}")


def dual_colours(results_a, inputs_a, results_b, inputs_b) -> dict[str, str]:
    """One colour per site over both plans: hubs whose areas touch in either plan differ, and
    a site open in both has the same colour in each (site id -> colour)."""
    graph: dict[str, set[str]] = {}
    for results, inputs in ((results_a, inputs_a), (results_b, inputs_b)):
        for hub, near in hub_neighbours(inputs.areas, results.assignment).items():
            graph.setdefault(hub, set()).update(near)
    for hub in list(graph):
        for other in graph[hub]:
            graph.setdefault(other, set()).add(hub)
    return colour_hubs(graph)


def draw_dual_map(results_a, inputs_a, results_b, inputs_b, path: str | Path, *,
                  titles: tuple[str, str] | None = None, simplify_m: float = 20.0,
                  back_link: tuple[str, str] | None = None) -> Path | None:
    """Write two plans side by side (Folium ``DualMap``; pan and zoom stay in sync), offline.

    The service's compare page and ``mdtplan compare --map`` both call it. Each site has the
    same colour in both panes (:func:`dual_colours`); each pane has the layers, labels, search
    and legend of :func:`draw_map`.

    Parameters
    ----------
    results_a, inputs_a, results_b, inputs_b
        The two scenarios, as for :func:`draw_map`; A on the left, B on the right.
    path : str or Path
    titles : (str, str), optional
        Legend titles; the scenario names by default.
    simplify_m : float
        Simplification tolerance [m].
    back_link : (str, str), optional
        As for :func:`draw_map`, in the left pane.

    Returns
    -------
    Path or None
        ``None`` when either scenario has no area geometry.
    """
    from folium import plugins

    if not (_has_geometry(inputs_a) and _has_geometry(inputs_b)):
        return None
    titles = titles or ("", "")
    colours = dual_colours(results_a, inputs_a, results_b, inputs_b)
    dual = plugins.DualMap(layout="horizontal", tiles=None, control_scale=True,
                           zoom_snap=0.25)
    _add_plan_layers(dual.m1, results_a, inputs_a, simplify_m=simplify_m, title=titles[0],
                     colours=colours, back_link=back_link, uid="a")
    _add_plan_layers(dual.m2, results_b, inputs_b, simplify_m=simplify_m, title=titles[1],
                     colours=colours, uid="b")
    names = [t or r.summary.name or "scenario" for t, r in zip(titles, (results_a, results_b),
                                                               strict=True)]
    return _save_offline(dual, Path(path), dual=True,
                         title=f"Compare · {names[0]} · {names[1]} · mdtplan",
                         heading=f"{names[0]} (left) beside {names[1]} (right)")
