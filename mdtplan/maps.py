"""Folium (Leaflet) map of a solved scenario: areas coloured by hub, hubs with staffing pop-ups.

Every user-supplied string (area and site names, ids) is HTML-escaped before it reaches a pop-up
or tooltip, so a site named ``<script>…`` shows as text.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39",
           "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363"]


def hub_colours(areas_27700, assignment: pd.DataFrame) -> dict[str, str]:
    """Colour each hub so that hubs whose areas touch get different colours (greedy colouring).

    Parameters
    ----------
    areas_27700 : GeoDataFrame
        Area polygons indexed by area id.
    assignment : DataFrame
        area_id, site_id, share; each area's main hub is its largest share.
    """
    main = (assignment.sort_values("share", ascending=False)
            .drop_duplicates("area_id").set_index("area_id")["site_id"])
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
    colours: dict[str, str] = {}
    for h in sorted(hubs, key=lambda x: -len(neighbours[x])):
        used = {colours[n] for n in neighbours[h] if n in colours}
        colours[h] = next((c for c in PALETTE if c not in used), PALETTE[len(colours) % 20])
    return colours


def _popup_table(rows: list[tuple[str, str]], title: str) -> str:
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                   f"<td style='text-align:right'>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<b>{html.escape(title)}</b><table class='mdt-popup'>{body}</table>"


def draw_map(results, inputs, path: str | Path, *, simplify_m: float = 20.0) -> Path | None:
    """Write a self-contained Leaflet map of the plan; ``None`` when the areas have no geometry.

    Layers: areas coloured by hub; areas by share of demand met; hub markers whose pop-up lists
    FTE by role, population served and utilisation. Layer control and a legend.
    """
    import folium

    areas = inputs.areas
    if areas.geometry.isna().all():
        return None
    path = Path(path)
    assign = results.assignment
    main = (assign.sort_values("share", ascending=False).drop_duplicates("area_id")
            .set_index("area_id")["site_id"])
    colours = hub_colours(areas, assign)

    geo = areas[["name", "population"]].copy()
    geo["hub"] = main.reindex(geo.index).astype("string")
    geo["hub_name"] = geo["hub"].map(results.hubs.set_index("site_id")["name"])
    # demand met by area: each area inherits its hub's met share (core roles)
    st = results.staffing
    met = pd.Series(dtype=float)
    if not st.empty:
        by_unit = st.groupby("unit")[["demand_hours", "unmet_hours"]].sum()
        met = 1.0 - by_unit["unmet_hours"] / by_unit["demand_hours"].replace(0, np.nan)
    geo["demand_met"] = geo["hub"].map(met).astype(float)
    gdf = areas[["geometry"]].join(geo)
    gdf["geometry"] = gdf.geometry.simplify(simplify_m, preserve_topology=True)
    gdf = gdf.to_crs("EPSG:4326")
    gdf["area_id"] = gdf.index.astype(str)
    gdf["colour"] = gdf["hub"].map(colours).fillna("#cccccc")
    for col in ("name", "hub_name", "area_id", "hub"):
        gdf[col] = gdf[col].astype("string").fillna("").map(html.escape)
    gdf["population"] = gdf["population"].round(0)
    gdf["demand_met_pct"] = (gdf["demand_met"] * 100).round(1)
    gdf = gdf.drop(columns=["demand_met"])

    minx, miny, maxx, maxy = gdf.total_bounds
    fmap = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=None,
                      control_scale=True, prefer_canvas=False)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    folium.TileLayer("OpenStreetMap", name="Basemap (online)", show=False).add_to(fmap)

    tooltip = folium.GeoJsonTooltip(fields=["name", "area_id", "hub_name", "population"],
                                    aliases=["Area", "Id", "Hub", "Population"])
    by_hub = folium.FeatureGroup(name="Areas by hub", show=True)
    folium.GeoJson(
        gdf.__geo_interface__,
        style_function=lambda f: {"fillColor": f["properties"]["colour"], "color": "#444444",
                                  "weight": 0.5, "fillOpacity": 0.6},
        tooltip=tooltip, name="areas-by-hub",
    ).add_to(by_hub)
    by_hub.add_to(fmap)

    def _met_colour(pct):
        if pct is None or (isinstance(pct, float) and np.isnan(pct)):
            return "#cccccc"
        return "#1a9850" if pct >= 99.5 else "#fee08b" if pct >= 90 else "#d73027"

    met_layer = folium.FeatureGroup(name="Demand met", show=False)
    folium.GeoJson(
        gdf.__geo_interface__,
        style_function=lambda f: {"fillColor": _met_colour(f["properties"]["demand_met_pct"]),
                                  "color": "#444444", "weight": 0.5, "fillOpacity": 0.6},
        tooltip=folium.GeoJsonTooltip(fields=["name", "demand_met_pct"],
                                      aliases=["Area", "Demand met %"]),
        name="areas-by-demand-met",
    ).add_to(met_layer)
    met_layer.add_to(fmap)

    hub_layer = folium.FeatureGroup(name="Hubs", show=True)
    for hub in results.hubs.itertuples(index=False):
        if not (np.isfinite(hub.lat) and np.isfinite(hub.lon)):
            continue
        rows = [("Site id", str(hub.site_id)), ("Population", f"{hub.population:,.0f}"),
                ("Areas", f"{hub.areas}"),
                ("Utilisation", "" if pd.isna(hub.utilisation) else f"{hub.utilisation:.0%}")]
        if not st.empty:
            for r in st[st["unit"] == hub.site_id].itertuples(index=False):
                rows.append((f"FTE {r.role}", f"{r.fte:g}"))
        folium.CircleMarker(
            location=[hub.lat, hub.lon], radius=8, color="#000000", weight=2,
            fill=True, fill_color=colours.get(hub.site_id, "#ffffff"), fill_opacity=1.0,
            popup=folium.Popup(_popup_table(rows, str(hub.name)), max_width=320),
            tooltip=html.escape(str(hub.name)),
        ).add_to(hub_layer)
    hub_layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)

    summary = results.summary
    legend = (
        "<div style='position:fixed;bottom:20px;left:20px;z-index:9999;background:white;"
        "padding:8px 10px;border:1px solid #999;font:12px sans-serif'>"
        f"<b>{html.escape(summary.name)}</b><br>{summary.hubs_open} hubs · status "
        f"{html.escape(summary.status)}<br>Areas coloured by hub; circles are hubs.<br>"
        "Demand met: <span style='color:#1a9850'>■</span> all "
        "<span style='color:#fee08b'>■</span> ≥90% <span style='color:#d73027'>■</span> &lt;90%"
        "</div>")
    fmap.get_root().html.add_child(folium.Element(legend))
    fmap.save(str(path))
    return path
