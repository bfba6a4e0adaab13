"""Generate the bundled demo county ("Demoshire"): small areas, candidate sites and today's staff.

Demoshire is fictional. It is drawn in British National Grid (EPSG:27700) in the North Sea, about
45 km off Flamborough Head (where Doggerland once was), so that on a map it cannot be mistaken for
a real place, while staying inside EPSG:27700's area of use (longitude < 2.1 E). Everything
comes from a fixed random seed with numpy and shapely; nothing is downloaded.

Run ``python geodata/make_demo.py`` (or ``--out DIR``) to write:

``demo_areas.gpkg``
    Layer ``areas``: about 350 LSOA-like small areas (Voronoi cells of points clustered around
    eight towns plus villages and open country, clipped to an irregular county outline), stored in
    EPSG:4326 like ONS downloads, with adult populations in four age bands and a deprivation score.
``demo_sites.csv``
    40 candidate hub sites (GP practices, council offices, libraries, community hubs).
``demo_workforce.csv``
    Today's staff at the existing and required sites, by role and contract.

The CSV files are byte-identical on every run; the GeoPackage holds identical rows and
geometries (its metadata carries a timestamp). ``tests/test_demo_geodata.py`` checks both.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree

SEED = 20240611
BNG = "EPSG:27700"
WGS84 = "EPSG:4326"
CENTRE = (610_000.0, 500_000.0)  # [m] BNG, on the Dogger Bank side of the North Sea
HERE = Path(__file__).resolve().parent

# A fixed BNG -> WGS84 pipeline (the 7-parameter Helmert "OSGB36 to WGS 84 (6)", ~2 m), so the
# output is the same on machines with and without the OSTN15 grid.
BNG_TO_WGS84 = (
    "+proj=pipeline +step +inv +proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 +x_0=400000 "
    "+y_0=-100000 +ellps=airy +step +proj=push +v_3 +step +proj=cart +ellps=airy "
    "+step +proj=helmert +x=446.448 +y=-125.157 +z=542.06 +rx=0.15 +ry=0.247 +rz=0.842 "
    "+s=-20.489 +convention=position_vector +step +inv +proj=cart +ellps=WGS84 +step +proj=pop "
    "+v_3 +step +proj=unitconvert +xy_in=rad +xy_out=deg"
)

# England mid-2023 shares of the adult population (FACTS.md section 2a): 18-64 34.9m, 65-74
# 5.47m, 75-84 3.86m, 85+ 1.45m of 45.69m adults.
SHARE_65_PLUS = 10_783_087 / 45_691_677  # 0.236
SHARE_85_OF_65 = 1_446_612 / 10_783_087  # 0.134
SHARE_75_84_OF_65 = (5_310_222 - 1_446_612) / 10_783_087  # 0.358


@dataclass(frozen=True)
class Town:
    """A town: centre offset from the county centre [km], adults, spread and character."""

    name: str
    district: str
    dx_km: float
    dy_km: float
    adults: int
    spread_km: float  # standard deviation of where its areas' seed points fall
    deprivation: float  # IMD score added at the town centre
    age: float  # + older (seaside retirement), - younger (county town, students)
    sites: int  # candidate sites in the town


TOWNS = (
    Town("Brackenford", "Brackenford", -6, 2, 122_000, 2.6, 22, -0.55, 8),
    Town("Aldmouth", "Aldmouth", 28, -4, 72_000, 2.0, 30, 0.25, 6),
    Town("Castlewick", "Castlewick", -22, 10, 50_000, 1.8, 16, -0.2, 5),
    Town("Dunmere", "Dunmere", 7, -14, 46_000, 1.7, 30, -0.1, 5),
    Town("Fernhythe", "Aldmouth", 22, 12, 34_000, 1.5, 20, 0.6, 4),
    Town("Greystow", "Greystow", -18, -12, 30_000, 1.4, 2, 0.1, 3),
    Town("Lindenby", "Brackenford", 8, 14, 18_000, 1.1, 6, 0.0, 2),
    Town("Wrexby", "Castlewick", -31, -3, 15_000, 1.0, 8, 0.2, 2),
)

VILLAGES = (
    "Ashcombe", "Barrowby", "Cold Norton", "Dimsley", "Eastwold", "Fallowfield", "Gorsey",
    "Hatherleigh Cross", "Ickleby", "Kettlemoor", "Long Sutton Fen", "Marsh Ashby", "Nettlecombe",
    "Oxley Green", "Pennymoor", "Quenby", "Rushmere", "Saltings", "Thornbury Heath", "Upwold",
)

STREETS = (
    "High Street", "Station Road", "Church Lane", "Market Place", "Mill Road", "Park View",
    "London Road", "Victoria Road", "The Green", "Chapel Street", "North Street", "Bridge Street",
    "Kings Road", "Queens Avenue", "West End", "Orchard Way",
)

# Today's funded posts in the whole county [FTE], by core role id of models/default.yaml
# (specialists sit in pools and are not listed per site). They are set a little below the demand
# that models/default.yaml implies for Demoshire (≈183 social worker, 40 OT, 35 care navigator,
# 100 reablement FTE; team managers from its 1:8 supervision rule over 258 practitioners ≈ 32),
# and are split over the existing and required sites by the adult population of their district.
COUNTY_POSTS_FTE = {
    "team_manager": 28.0,
    "social_worker": 176.0,
    "occupational_therapist": 38.0,
    "care_navigator": 32.0,
    "reablement_worker": 94.0,
}
# Share of funded posts that are vacant / filled by agency staff (FACTS.md section 3b: LA social
# worker vacancy 10.5% and agency ~10% in Sept 2023; OT vacancy 11.3% in Sept 2022).
VACANT_SHARE = {"social_worker": 0.105, "occupational_therapist": 0.113}
AGENCY_SHARE = {"social_worker": 0.10, "occupational_therapist": 0.06}
DEFAULT_VACANT, DEFAULT_AGENCY = 0.07, 0.04


def county_outline(rng: np.random.Generator) -> shapely.Polygon:
    """An irregular, star-shaped county outline about 80 km by 50 km.

    The radius is an ellipse modulated by a few random harmonics, sampled at 360 angles.

    Returns
    -------
    shapely.Polygon
        In EPSG:27700 [m].
    """
    theta = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    radius = np.ones_like(theta)
    for k in range(2, 15):
        amplitude = rng.uniform(0.3, 1.0) * 0.11 / k**0.7
        radius += amplitude * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    x = CENTRE[0] + 38_000 * radius * np.cos(theta)
    y = CENTRE[1] + 25_000 * radius * np.sin(theta)
    return shapely.Polygon(np.c_[np.round(x), np.round(y)])


def _accept(points: list, candidate: np.ndarray, min_gap: float) -> bool:
    if not points:
        return True
    gaps = np.hypot(*(np.asarray(points) - candidate).T)
    return bool(gaps.min() >= min_gap)


def seed_points(rng: np.random.Generator, outline: shapely.Polygon) -> pd.DataFrame:
    """Seed points of the small areas: dense around towns, sparse in villages and open country.

    Each town gets one point per ~1,550 adults, drawn from a normal distribution around its
    centre; villages get one to three points; open country is filled with points at least
    3.9 km apart. Points closer than a minimum gap to an earlier one are redrawn.

    Returns
    -------
    DataFrame
        ``x``, ``y`` [m, EPSG:27700], ``settlement`` (town or village name, or ``"open country"``),
        ``settlement_type`` (``town`` | ``village`` | ``rural``), ``town`` (index into TOWNS of
        the town the point belongs to, -1 otherwise).
    """
    rows: list[tuple[float, float, str, str, int]] = []
    points: list[np.ndarray] = []

    def add(xy, settlement, kind, town=-1):
        points.append(xy)
        rows.append((float(xy[0]), float(xy[1]), settlement, kind, town))

    for t, town in enumerate(TOWNS):
        centre = np.array([CENTRE[0] + town.dx_km * 1000, CENTRE[1] + town.dy_km * 1000])
        n = round(town.adults / 1_550)
        placed = 0
        while placed < n:
            xy = centre + rng.normal(0, town.spread_km * 1000, 2)
            if outline.contains(shapely.Point(xy)) and _accept(points, xy, 300):
                add(xy, town.name, "town", t)
                placed += 1

    town_xy = np.array([[CENTRE[0] + t.dx_km * 1000, CENTRE[1] + t.dy_km * 1000] for t in TOWNS])
    minx, miny, maxx, maxy = outline.bounds
    for village in VILLAGES:
        while True:
            xy = rng.uniform([minx, miny], [maxx, maxy])
            far_from_towns = np.hypot(*(town_xy - xy).T).min() > 7_000
            if far_from_towns and outline.contains(shapely.Point(xy).buffer(1_500)) and _accept(
                points, xy, 4_000
            ):
                break
        add(xy, village, "village")
        for _ in range(int(rng.integers(0, 3))):
            for _attempt in range(50):
                extra = xy + rng.normal(0, 700, 2)
                if outline.contains(shapely.Point(extra)) and _accept(points, extra, 450):
                    add(extra, village, "village")
                    break

    misses = 0
    while misses < 4_000:
        xy = rng.uniform([minx, miny], [maxx, maxy])
        if outline.contains(shapely.Point(xy)) and _accept(points, xy, 3_900):
            add(xy, "open country", "rural")
        else:
            misses += 1
    return pd.DataFrame(rows, columns=["x", "y", "settlement", "settlement_type", "town"])


def voronoi_cells(seeds: pd.DataFrame, outline: shapely.Polygon) -> np.ndarray:
    """Voronoi cells of the seed points, clipped to the outline, as MultiPolygons in seed order."""
    points = shapely.points(seeds[["x", "y"]].to_numpy())
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=outline)
    )
    # voronoi_polygons does not keep input order: match each cell to the seed it contains
    tree = shapely.STRtree(cells)
    seed_idx, cell_idx = tree.query(points, predicate="intersects")
    order = np.full(len(points), -1)
    order[seed_idx] = cell_idx
    assert (order >= 0).all() and len(np.unique(order)) == len(points)
    clipped = shapely.intersection(cells[order], outline)
    return np.array([shapely.MultiPolygon(shapely.get_parts(g)) for g in clipped], dtype=object)


def populations(rng: np.random.Generator, seeds: pd.DataFrame,
                outline: shapely.Polygon) -> pd.DataFrame:
    """Adults by age band and an IMD-like deprivation score for each area.

    Town-centre areas are younger and, in some towns, more deprived; villages, open country
    and the east coast are older. The England shares of FACTS.md section 2a are the midpoint.

    Returns
    -------
    DataFrame
        ``pop_18_64``, ``pop_65_74``, ``pop_75_84``, ``pop_85_plus`` [people, int] and
        ``imd_score`` (IMD 2019-like score, higher = more deprived, 2 decimals).
    """
    n = len(seeds)
    xy = seeds[["x", "y"]].to_numpy()
    town = seeds["town"].to_numpy()
    rural = seeds["settlement_type"].ne("town").to_numpy()

    adults = np.where(rural, rng.normal(1_420, 260, n), rng.normal(1_560, 300, n))
    adults = np.clip(np.round(adults), 1_000, 2_600).astype(int)

    east_coast = shapely.LineString(
        [p for p in outline.exterior.coords if p[0] > CENTRE[0] + 15_000]
    )
    coast_km = shapely.distance(shapely.points(xy), east_coast) / 1000
    age = 0.35 * rural + 0.55 * np.exp(-coast_km / 5) + rng.normal(0, 0.15, n)
    deprivation = np.exp(rng.normal(np.log(11), 0.3, n))
    for t, spec in enumerate(TOWNS):
        centre = np.array([CENTRE[0] + spec.dx_km * 1000, CENTRE[1] + spec.dy_km * 1000])
        closeness = np.exp(-(np.hypot(*(xy - centre).T) / (1000 * spec.spread_km)) ** 2 / 1.5)
        mine = town == t
        age[mine] += spec.age * closeness[mine]
        noise = np.exp(rng.normal(0, 0.35, mine.sum()))
        deprivation[mine] += spec.deprivation * closeness[mine] * noise

    share_65 = np.clip(SHARE_65_PLUS * np.exp(0.45 * age), 0.10, 0.45)
    p65 = np.round(adults * share_65).astype(int)
    p85 = np.round(p65 * SHARE_85_OF_65 * np.exp(0.2 * age)).astype(int)
    p75 = np.round(p65 * SHARE_75_84_OF_65 * np.exp(0.06 * age)).astype(int)
    return pd.DataFrame({
        "pop_18_64": adults - p65,
        "pop_65_74": p65 - p75 - p85,
        "pop_75_84": p75,
        "pop_85_plus": p85,
        "imd_score": np.round(np.clip(deprivation, 1.5, 90), 2),
    })


def make_areas(rng: np.random.Generator) -> gpd.GeoDataFrame:
    """The small areas, with codes, names, districts, populations and geometry (EPSG:27700).

    Districts are the town catchments: each area belongs to the district of its nearest town
    centre. Areas are numbered north to south within each district, as ONS does.
    """
    outline = county_outline(rng)
    seeds = seed_points(rng, outline)
    geometry = voronoi_cells(seeds, outline)
    table = pd.concat([seeds, populations(rng, seeds, outline)], axis=1)

    town_xy = np.array([[CENTRE[0] + t.dx_km * 1000, CENTRE[1] + t.dy_km * 1000] for t in TOWNS])
    _, nearest = cKDTree(town_xy).query(table[["x", "y"]].to_numpy())
    table["district"] = [TOWNS[i].district for i in nearest]
    table["geometry"] = geometry

    district_order = {d: i for i, d in enumerate(dict.fromkeys(t.district for t in TOWNS))}
    table = table.assign(_d=table["district"].map(district_order)).sort_values(
        ["_d", "y", "x"], ascending=[True, False, True], kind="stable"
    )
    table["area_name"] = table["district"] + " " + (
        table.groupby("district").cumcount() + 1
    ).map("{:03d}".format)
    table["area_code"] = [f"DEMO{i:04d}" for i in range(1, len(table) + 1)]
    columns = ["area_code", "area_name", "district", "settlement", "settlement_type",
               "pop_18_64", "pop_65_74", "pop_75_84", "pop_85_plus", "imd_score", "geometry"]
    return gpd.GeoDataFrame(table[columns].reset_index(drop=True), geometry="geometry", crs=BNG)


def make_sites(rng: np.random.Generator, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """Candidate hub sites: most in towns, five in villages chosen to keep remote areas in reach.

    In each town the first site is its council office (County Hall in Brackenford), then a
    library, then GP practices and community hubs. The council offices of the five districts'
    main towns and Fernhythe's library are ``existing`` (today's team bases; County Hall is
    ``required``); everything else is a ``candidate``. Existing sites cost less a year (the
    council already holds them).

    Returns
    -------
    DataFrame
        site_id, name, kind, status, fixed_cost [GBP/year], capacity_fte [FTE], easting,
        northing [m, EPSG:27700], lon, lat [deg, EPSG:4326], district.
    """
    rows = []
    main_towns = {t.district for t in TOWNS if t.name == t.district}
    for spec in TOWNS:
        centre = np.array([CENTRE[0] + spec.dx_km * 1000, CENTRE[1] + spec.dy_km * 1000])
        streets = rng.permutation(len(STREETS))
        for k in range(spec.sites):
            spread = 120 if k == 0 else 450 * spec.spread_km  # the council office is central
            xy = centre + rng.normal(0, spread, 2)
            if k == 0:
                kind, name = "council_office", f"{spec.name} Council Offices"
                if spec.name == "Brackenford":
                    name = "County Hall, Brackenford"
            elif k == 1:
                kind, name = "library", f"{spec.name} Library"
            elif k % 2 == 0:
                kind, name = "gp_practice", f"{STREETS[streets[k]]} Surgery, {spec.name}"
            else:
                kind, name = "community_hub", f"{spec.name} {STREETS[streets[k]]} Community Hub"
            status = "candidate"
            if k == 0 and spec.name in main_towns:
                status = "required" if spec.name == "Brackenford" else "existing"
            if spec.name == "Fernhythe" and kind == "library":
                status = "existing"
            rows.append((name, kind, status, xy, spec.district))

    # five villages, chosen greedily: each time the one that most shortens the longest distance
    # from any area to its nearest site, so that remote areas stay within reach
    area_xy = areas[["x", "y"]].to_numpy()
    villages = areas[areas["settlement_type"].eq("village")]
    village_xy = villages.groupby("settlement", sort=True)[["x", "y"]].first()
    chosen: list[np.ndarray] = [r[3] for r in rows]
    for i in range(5):
        nearest = cKDTree(np.asarray(chosen)).query(area_xy)[0]
        to_village = np.hypot(area_xy[:, None, 0] - village_xy["x"].to_numpy(),
                              area_xy[:, None, 1] - village_xy["y"].to_numpy())
        worst = np.minimum(nearest[:, None], to_village).max(axis=0)
        name = village_xy.index[int(np.argmin(worst))]
        xy = village_xy.loc[name].to_numpy()
        chosen.append(xy)
        kind, label = (("gp_practice", f"{name} Surgery") if i % 2 == 0
                       else ("community_hub", f"{name} Village Hall"))
        district = areas.loc[areas["settlement"].eq(name), "district"].iloc[0]
        rows.append((label, kind, "candidate", xy, district))

    sites = pd.DataFrame(rows, columns=["name", "kind", "status", "xy", "district"])
    sites["site_id"] = [f"S{i:02d}" for i in range(1, len(sites) + 1)]
    cost_range = {"council_office": (150, 250), "library": (90, 160),
                  "gp_practice": (100, 200), "community_hub": (70, 140)}
    # a hub of 50,000 adults needs about 40 FTE under models/default.yaml (its demand, 1:8
    # supervision, FTE steps), up to ~60 where deprivation raises demand: every site can hold
    # an average hub, the big offices several teams
    fte_range = {"council_office": (100, 160), "library": (60, 100),
                 "gp_practice": (55, 90), "community_hub": (60, 110)}
    sites["fixed_cost"] = [
        5_000 * round(rng.uniform(*cost_range[k]) * (0.5 if s != "candidate" else 1.0) / 5)
        for k, s in zip(sites["kind"], sites["status"], strict=True)
    ]
    sites["capacity_fte"] = [5 * round(rng.uniform(*fte_range[k]) / 5) for k in sites["kind"]]
    xy = np.round(np.vstack(sites["xy"].to_numpy()))
    lon, lat = pyproj.Transformer.from_pipeline(BNG_TO_WGS84).transform(xy[:, 0], xy[:, 1])
    sites["easting"], sites["northing"] = xy[:, 0].astype(int), xy[:, 1].astype(int)
    sites["lon"], sites["lat"] = np.round(lon, 6), np.round(lat, 6)
    return sites[["site_id", "name", "kind", "status", "fixed_cost", "capacity_fte",
                  "easting", "northing", "lon", "lat", "district"]]


def make_workforce(rng: np.random.Generator, sites: pd.DataFrame,
                   areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """Today's staff at the existing and required sites: funded posts split by contract.

    ``COUNTY_POSTS_FTE`` is shared over the staffed sites by the adult population of their
    district (equally between two sites of one district). Of each role's posts at a site a share
    is vacant and a share filled by agency staff (``VACANT_SHARE``, ``AGENCY_SHARE``, varied by
    +-50% per site); team managers are all permanent, in whole posts. Everything else is
    rounded to 0.5 FTE.

    Returns
    -------
    DataFrame
        unit (site_id), role, fte [FTE], contract (permanent | agency | vacant); zero rows dropped.
    """
    staffed = sites[sites["status"].ne("candidate")]
    adults = areas[["pop_18_64", "pop_65_74", "pop_75_84", "pop_85_plus"]].sum(axis=1)
    district_share = adults.groupby(areas["district"]).sum() / adults.sum()
    site_share = staffed["district"].map(district_share) / staffed["district"].map(
        staffed["district"].value_counts())
    rows = []
    for site_id, share in zip(staffed["site_id"], site_share, strict=True):
        for role, county_posts in COUNTY_POSTS_FTE.items():
            step = 1.0 if role == "team_manager" else 0.5  # managers in whole posts
            posts = max(1.0, round(county_posts * share / step) * step)
            vacant = agency = 0.0
            if role != "team_manager":
                vacant = round(2 * posts * VACANT_SHARE.get(role, DEFAULT_VACANT)
                               * rng.uniform(0.5, 1.5)) / 2
                agency = round(2 * posts * AGENCY_SHARE.get(role, DEFAULT_AGENCY)
                               * rng.uniform(0.5, 1.5)) / 2
            permanent = posts - vacant - agency
            for contract, fte in (("permanent", permanent), ("agency", agency), ("vacant", vacant)):
                if fte > 0:
                    rows.append((site_id, role, fte, contract))
    return pd.DataFrame(rows, columns=["unit", "role", "fte", "contract"])


def to_wgs84(geometry: np.ndarray) -> np.ndarray:
    """Reproject shapely geometries from EPSG:27700 with the fixed Helmert pipeline."""
    transformer = pyproj.Transformer.from_pipeline(BNG_TO_WGS84)

    def project(coords):
        lon, lat = transformer.transform(coords[:, 0], coords[:, 1])
        return np.c_[lon, lat]

    return shapely.transform(geometry, project)


def main(out_dir: str | Path | None = None) -> dict[str, Path]:
    """Generate the demo county into ``out_dir`` (default: this folder); return the file paths."""
    out = Path(out_dir) if out_dir is not None else HERE
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)

    areas = make_areas(rng)
    representative = areas.representative_point()
    areas["x"], areas["y"] = representative.x, representative.y
    sites = make_sites(rng, areas)
    workforce = make_workforce(rng, sites, areas)

    paths = {"areas": out / "demo_areas.gpkg", "sites": out / "demo_sites.csv",
             "workforce": out / "demo_workforce.csv"}
    layer = areas.drop(columns=["x", "y"])
    layer = gpd.GeoDataFrame(
        layer.drop(columns="geometry"), geometry=to_wgs84(layer.geometry.to_numpy()), crs=WGS84
    )
    paths["areas"].unlink(missing_ok=True)
    layer.to_file(paths["areas"], layer="areas", driver="GPKG", engine="pyogrio")
    sites.to_csv(paths["sites"], index=False, lineterminator="\n")
    workforce.to_csv(paths["workforce"], index=False, lineterminator="\n")
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="output folder (default: geodata/)")
    for key, path in main(parser.parse_args().out).items():
        print(f"{key:10s} {path}")
