"""Folium (Leaflet) maps of a solved scenario, as self-contained HTML that works offline.

:func:`draw_map` writes one plan; :func:`draw_dual_map` two plans side by side (Folium
``plugins.DualMap``, pans and zooms kept in sync). Both build from the result tables and the
loaded area polygons only (no model, no solver).

Layers: areas coloured by hub (neighbouring hubs get different colours), areas by share of
demand met, specialist pool outlines (areas dissolved by pool; only with two or more pools), hub
markers whose pop-up lists FTE by role, population served and utilisation. Layer control,
legend, scale bar and a fullscreen button.

Offline: Leaflet, Leaflet.fullscreen and Leaflet.Sync are vendored in ``mdtplan/_vendor`` (npm
packages, with their licences) and inlined into the page; Folium's CDN links (Leaflet, jQuery,
Bootstrap, awesome-markers, Font Awesome) are removed. The only online part is the optional
basemap tile layer, off by default; the map is readable without it.

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

#: Bins of the "share of demand met" layer: (lower bound [%], colour, label), best first.
MET_BINS = [(99.5, "#1a9850", "all met (≥ 99.5%)"), (95.0, "#a6d96a", "95 – 99.5%"),
            (90.0, "#fdae61", "90 – 95%"), (-1.0, "#d73027", "< 90%")]
NO_DATA = "#cccccc"
POOL_COLOUR = "#111111"
#: the locality teams' outlines and labels
LOCALITY_COLOUR = "#6a1b9a"
BACKGROUND = "#e9eef2"

_VENDOR = Path(__file__).parent.parent / "_vendor"
#: Basemap tiles: the one online resource, behind an overlay that is off by default.
TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


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
    colours: dict[str, str] = {}
    uses = dict.fromkeys(PALETTE, 0)
    for h in sorted(hubs, key=lambda x: (-len(neighbours[x]), x)):
        near = [colours[n] for n in neighbours[h] if n in colours]
        free = [c for c in PALETTE if c not in near] or PALETTE
        # least-used colour first (a legend entry per hub), then the one least like the neighbours'
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


def _met_colour(pct) -> str:
    if pct is None or pd.isna(pct):
        return NO_DATA
    return next(colour for bound, colour, _ in MET_BINS if pct >= bound)


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


def _area_frame(results, inputs, simplify_m: float):
    """Area polygons in EPSG:4326 with escaped labels, hub colour and demand-met colour."""
    areas = inputs.areas
    main = _main_hub(results.assignment)
    colours = hub_colours(areas, results.assignment)
    hub_names = results.hubs.set_index(results.hubs["site_id"].astype(str))["name"]

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
    }, index=gdf.index)
    out = gdf[["geometry"]].join(props)
    out.attrs["simplified_27700"] = simplified_27700
    return out, main, colours


def _geojson(frame, columns) -> dict:
    """A compact GeoJSON FeatureCollection of ``frame`` with ``columns`` as properties."""
    import shapely

    feats = []
    for geom, row in zip(shapely.to_geojson(frame.geometry.to_numpy()),
                         frame[columns].itertuples(index=False), strict=True):
        feats.append({"type": "Feature", "geometry": json.loads(geom),
                      "properties": dict(zip(columns, row, strict=True))})
    return {"type": "FeatureCollection", "features": feats}


def _hub_popup(hub, staffing: pd.DataFrame, role_names: dict[str, str]) -> str:
    rows = [("Site id", hub.site_id), ("Status", getattr(hub, "status", "")),
            ("Population served", f"{hub.population:,.0f}"), ("Areas", f"{hub.areas}"),
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


def _legend_html(results, colours: dict[str, str], hub_names: pd.Series, title: str,
                 pools: bool) -> str:
    summary = results.summary
    met = summary.demand.met_share
    head = (f"<b>{_esc(title or summary.name)}</b><br>{summary.hubs.count} hubs · "
            f"{_esc(summary.report.status)}"
            + ("" if met is None else f" · demand met {met:.1%}"))
    hubs = "".join(
        f"<div><i style='background:{colours[h]}'></i>{_esc(hub_names.get(h, h))}</div>"
        for h in sorted(colours, key=lambda h: str(hub_names.get(h, h))))
    bins = "".join(f"<div><i style='background:{c}'></i>{_esc(label)}</div>"
                   for _, c, label in MET_BINS)
    return (f"<div class='mdt-legend'>{head}"
            "<div class='mdt-sec'>Areas by hub (● = hub)</div>"
            f"<div class='mdt-hubs'>{hubs}</div>"
            f"<div class='mdt-sec'>Share of demand met</div>{bins}"
            f"<div><i style='background:{NO_DATA}'></i>no data</div>"            + ("<div class='mdt-sec'><span class='mdt-pool'></span> specialist pool</div>"
               if pools else "") + "</div>")


_STYLE = f"""
<style>
.leaflet-container {{ background: {BACKGROUND}; font: 13px/1.35 system-ui, -apple-system,
  "Segoe UI", Roboto, Arial, sans-serif; }}
.mdt-legend {{ background: rgba(255,255,255,.95); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,.4); max-width: 250px; font-size: 12px; line-height: 1.3; }}
.mdt-legend .mdt-hubs div {{ white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
path.mdt-hub {{ filter: drop-shadow(0 0 1.5px #000) drop-shadow(0 0 1px #000); }}
.leaflet-control-layers {{ font-size: 12px; }}
.mdt-locality-label {{ color: {LOCALITY_COLOUR}; font-weight: 700; font-size: 13px;
  text-align: center; white-space: nowrap; text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; }}
.mdt-legend i {{ display: inline-block; width: 14px; height: 14px; margin-right: 6px;
  vertical-align: -2px; border: 1px solid #555; }}
.mdt-legend .mdt-hubs {{ max-height: 150px; overflow-y: auto; }}
.mdt-legend .mdt-sec {{ margin-top: 6px; font-weight: 600; }}
.mdt-legend .mdt-pool {{ display: inline-block; width: 18px; border-top: 3px dashed
  {POOL_COLOUR}; vertical-align: middle; margin-right: 4px; }}
.mdt-popup table {{ border-collapse: collapse; margin-top: 4px; }}
.mdt-popup th {{ text-align: left; font-weight: normal; padding: 1px 10px 1px 0; color: #333; }}
.mdt-popup td {{ text-align: right; font-variant-numeric: tabular-nums; }}
</style>
"""


def _legend_control(fmap, legend_html: str):
    """A Leaflet control (bottom left) holding ``legend_html`` (already escaped)."""
    from branca.element import MacroElement
    from folium.template import Template

    class _Legend(MacroElement):
        _template = Template("""
            {% macro script(this, kwargs) %}
            (function () {
                var legend = L.control({position: "bottomleft"});
                legend.onAdd = function () {
                    var div = L.DomUtil.create("div", "mdt-legend-box");
                    div.innerHTML = {{ this.html|tojson }};
                    L.DomEvent.disableClickPropagation(div);
                    L.DomEvent.disableScrollPropagation(div);
                    return div;
                };
                legend.addTo({{ this._parent.get_name() }});
            })();
            {% endmacro %}
        """)

        def __init__(self, html_text):
            super().__init__()
            self._name = "MdtLegend"
            self.html = html_text

    _Legend(legend_html).add_to(fmap)


def _bind(layer, popup_html: str, tooltip_html: str) -> None:
    """Bind a pop-up and tooltip (escaped HTML) to ``layer`` as JSON strings.

    Folium's own ``Popup`` needs jQuery and puts the HTML in a JavaScript template literal; a
    JSON string needs neither.
    """
    from branca.element import MacroElement
    from folium.template import Template

    class _Bind(MacroElement):
        _template = Template("""
            {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindPopup({{ this.popup|tojson }}, {maxWidth: 360});
            {{ this._parent.get_name() }}.bindTooltip({{ this.tooltip|tojson }});
            {% endmacro %}
        """)

        def __init__(self):
            super().__init__()
            self._name = "MdtBind"
            self.popup, self.tooltip = popup_html, tooltip_html

    _Bind().add_to(layer)


def _MetLayer(source):  # noqa: N802 - reads as a class at the call site
    """The "share of demand met" polygons, re-using ``source``'s GeoJSON (not stored twice)."""
    from branca.element import MacroElement
    from folium.template import Template

    class MetLayer(MacroElement):
        _template = Template("""
            {% macro script(this, kwargs) %}
            (function () {
                var layer = L.geoJson({{ this.source.get_name() }}.toGeoJSON(), {
                    style: function (f) {
                        return {fillColor: f.properties.met_colour, color: "#ffffff",
                                weight: 0.6, fillOpacity: 0.8,
                                className: "mdt-area mdt-area-met"};
                    },
                    onEachFeature: function (f, l) {
                        var p = f.properties;  // already HTML-escaped in Python
                        l.bindTooltip("<b>" + p.name + "</b><br>Hub: " + p.hub_name
                                      + "<br>Demand met: " + (p.met_pct || "no data"));
                    }
                });
                layer.addTo({{ this._parent.get_name() }});
            })();
            {% endmacro %}
        """)

        def __init__(self):
            super().__init__()
            self._name = "MdtMetLayer"
            self.source = source

    return MetLayer()


def _add_plan_layers(fmap, results, inputs, *, simplify_m: float, title: str = "") -> None:
    """Add the area, pool and hub layers, layer control, legend and fullscreen to ``fmap``."""
    import folium
    from folium import plugins

    gdf, main, colours = _area_frame(results, inputs, simplify_m)
    hub_names = results.hubs.set_index(results.hubs["site_id"].astype(str))["name"]

    folium.TileLayer(TILE_URL, name="Basemap (OpenStreetMap, online)", overlay=True,
                     show=False, control=True,
                     attr='&copy; <a href="https://www.openstreetmap.org/copyright">'
                          "OpenStreetMap</a> contributors").add_to(fmap)

    cols = ["area_id", "name", "hub_name", "population", "met_pct", "hub_colour", "met_colour"]
    data = _geojson(gdf, cols)
    by_hub = folium.GeoJson(
        data, name="Areas by hub", show=True,
        style_function=lambda f: {"fillColor": f["properties"]["hub_colour"], "color": "#ffffff",
                                  "weight": 0.6, "fillOpacity": 0.75,
                                  "className": "mdt-area mdt-area-hub"},
        highlight_function=lambda f: {"weight": 2, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["name", "area_id", "hub_name", "population"],
                                      aliases=["Area", "Id", "Hub", "Adults"]),
    ).add_to(fmap)
    met_layer = folium.FeatureGroup(name="Share of demand met", show=False).add_to(fmap)
    _MetLayer(by_hub).add_to(met_layer)  # same polygons, drawn from by_hub's data in the page

    pools = _area_pools(results, inputs, main)
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
        folium.GeoJson(
            _geojson(dissolved, ["pool_name"]), name="Specialist pools", show=True,
            style_function=lambda f: {"fill": False, "color": POOL_COLOUR, "weight": 3,
                                      "dashArray": "8 5", "className": "mdt-pool-outline"},
            tooltip=folium.GeoJsonTooltip(fields=["pool_name"], aliases=["Specialist pool"]),
        ).add_to(fmap)

    _add_locality_layer(fmap, results, gdf, main, simplify_m)

    hub_layer = folium.FeatureGroup(name="Hubs", show=True)
    role_names = _role_names(inputs)
    for hub in results.hubs.itertuples(index=False):
        if not (np.isfinite(hub.lat) and np.isfinite(hub.lon)):
            continue
        marker = folium.CircleMarker(
            location=[float(hub.lat), float(hub.lon)], radius=8, color="#ffffff", weight=3,
            fill=True, fill_color=colours.get(str(hub.site_id), "#ffffff"), fill_opacity=1.0,
            class_name="mdt-hub",
        ).add_to(hub_layer)
        _bind(marker, _hub_popup(hub, results.staffing, role_names), _esc(hub.name))
    hub_layer.add_to(fmap)

    folium.LayerControl(collapsed=False, position="topright").add_to(fmap)
    plugins.Fullscreen(position="topleft").add_to(fmap)
    _legend_control(fmap, _legend_html(results, colours, hub_names, title, not pools.empty))
    minx, miny, maxx, maxy = gdf.total_bounds
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])


def _add_locality_layer(fmap, results, gdf, main, simplify_m: float) -> None:
    """The locality teams' outlines (their hubs' catchments dissolved, a thick line) and a
    label at each, as one layer of their own; nothing without locality teams."""
    import folium
    import geopandas as gpd
    import shapely

    teams = getattr(results, "localities", None)
    if teams is None or len(teams) == 0 or "locality" not in results.hubs:
        return
    locality_of = results.hubs.set_index(results.hubs["site_id"].astype(str))["locality"]
    of_area = main.reindex(gdf.index).map(locality_of).dropna().astype(str)
    if of_area.empty:
        return
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
    layer = folium.FeatureGroup(name="Locality teams", show=True).add_to(fmap)
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
        ).add_to(layer)


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
    return ("<!-- Leaflet 1.9.4, Leaflet.fullscreen 3.0.0"
            + (", Leaflet.Sync 0.2.4" if dual else "")
            + " (licences in mdtplan/_vendor) -->\n"
            + "".join(f"<style>{c}</style>\n" for c in css)
            + "".join(f"<script>{s}</script>\n" for s in js) + _STYLE)


def _walk(element):
    yield element
    for child in list(getattr(element, "_children", {}).values()):
        yield from _walk(child)


def _save_offline(root, path: Path, *, dual: bool) -> Path:
    """Drop every CDN link Folium would add, inline the vendored assets, save ``root``."""
    from branca.element import Element

    figure = root.get_root()
    for el in _walk(figure):
        if hasattr(el, "default_js"):
            el.default_js = []
        if hasattr(el, "default_css"):
            el.default_css = []
    vendor = _vendor_inline(dual)
    figure.header.add_child(Element(vendor), name="mdtplan_vendor", index=0)
    text = figure.render()
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


def draw_map(results, inputs, path: str | Path, *, simplify_m: float = 20.0) -> Path | None:
    """Write a self-contained, offline Leaflet map of the plan; ``None`` without area geometry.

    Parameters
    ----------
    results : mdtplan.results.Results
    inputs : mdtplan.inputs.Inputs
        Its ``areas`` (EPSG:27700 polygons, ``name``, ``population``, ``group``) and operating
        model (role names, specialist pools).
    path : str or Path
        The HTML file to write.
    simplify_m : float
        Tolerance of the topology-preserving simplification of area outlines [m].
    """
    import folium

    if not _has_geometry(inputs):
        return None
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, zoom_snap=0.25)
    _add_plan_layers(fmap, results, inputs, simplify_m=simplify_m)
    return _save_offline(fmap, Path(path), dual=False)


def draw_dual_map(results_a, inputs_a, results_b, inputs_b, path: str | Path, *,
                  titles: tuple[str, str] | None = None,
                  simplify_m: float = 20.0) -> Path | None:
    """Write two plans side by side (Folium ``DualMap``; pan and zoom stay in sync), offline.

    Parameters
    ----------
    results_a, inputs_a, results_b, inputs_b
        The two scenarios, as for :func:`draw_map`; A on the left, B on the right.
    path : str or Path
    titles : (str, str), optional
        Legend titles; the scenario names by default.
    simplify_m : float
        Simplification tolerance [m].

    Returns
    -------
    Path or None
        ``None`` when either scenario has no area geometry.
    """
    from folium import plugins

    if not (_has_geometry(inputs_a) and _has_geometry(inputs_b)):
        return None
    titles = titles or ("", "")
    dual = plugins.DualMap(layout="horizontal", tiles=None, control_scale=True,
                           zoom_snap=0.25)
    _add_plan_layers(dual.m1, results_a, inputs_a, simplify_m=simplify_m, title=titles[0])
    _add_plan_layers(dual.m2, results_b, inputs_b, simplify_m=simplify_m, title=titles[1])
    return _save_offline(dual, Path(path), dual=True)
