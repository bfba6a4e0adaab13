"""The example scenarios (examples/*.yaml): they parse, name files that exist, and select the data
the shared README describes. Read with geopandas/pandas directly, not with mdtplan's loaders."""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree

from mdtplan.operating_model import load_operating_model
from mdtplan.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
REAL = ["kent", "medway", "leicestershire", "york"]
NAMES = ["demo", *REAL]


@cache
def scenario(name: str):
    return load_scenario(REPO / "examples" / f"{name}.yaml")


@cache
def _read(path: str, layer: str | None) -> pd.DataFrame:
    if path.endswith(".csv"):
        return pd.read_csv(path)
    return gpd.read_file(path, layer=layer)


def _where(frame: pd.DataFrame, where: dict | None) -> pd.DataFrame:
    """Rows whose column holds one of the listed values (all columns must match)."""
    keep = np.ones(len(frame), dtype=bool)
    for column, values in (where or {}).items():
        keep &= frame[column].isin(values).to_numpy()
    return frame[keep]


@cache
def areas(name: str) -> gpd.GeoDataFrame:
    """The scenario's areas: main file, filtered, with every joined table merged on the id."""
    cfg = scenario(name).areas
    frame = _where(_read(cfg.path, cfg.layer), cfg.where)
    for table in cfg.tables:
        extra = _read(table.path, table.layer)
        new = [c for c in extra.columns if c not in frame.columns or c == table.id]
        missing = set(frame[cfg.id]) - set(extra[table.id])
        assert not missing, f"{table.path}: no row for {sorted(missing)[:5]}"
        frame = frame.merge(extra[new], left_on=cfg.id, right_on=table.id, how="left",
                            validate="one_to_one")
    return gpd.GeoDataFrame(frame, geometry="geometry").to_crs("EPSG:27700")


@cache
def sites(name: str) -> np.ndarray:
    """Site points [m, EPSG:27700] (polygon sites at their representative point)."""
    cfg = scenario(name).sites
    frame = _where(_read(cfg.path, cfg.layer), cfg.where)
    if cfg.coords is not None:
        points = gpd.GeoSeries(gpd.points_from_xy(frame[cfg.coords.x], frame[cfg.coords.y]),
                               crs=cfg.coords.crs)
    else:
        points = frame.geometry.representative_point()
    points = points.to_crs("EPSG:27700")
    return np.c_[points.x, points.y]


def adults(name: str) -> pd.Series:
    return areas(name)[list(scenario(name).areas.population_columns().values())].sum(axis=1)


# ---------------------------------------------------------------------------------------------
# Every example


def test_all_examples_present():
    present = {p.stem for p in (REPO / "examples").glob("*.yaml")}
    assert set(NAMES) <= present


@pytest.mark.parametrize("name", NAMES)
def test_example_parses_and_names_existing_files(name):
    s = scenario(name)
    paths = [s.areas.path, s.sites.path, s.operating_model,
             *(t.path for t in s.areas.tables)]
    if s.workforce is not None:
        paths.append(s.workforce.path)
    if s.travel.path is not None:
        paths.append(s.travel.path)
    for path in paths:
        assert path is not None and Path(path).is_file(), f"{name}: {path} does not exist"


@pytest.mark.parametrize("name", NAMES)
def test_population_bands_are_the_operating_model_age_bands(name):
    s = scenario(name)
    model = load_operating_model(s.operating_model)
    assert list(s.areas.population_columns()) == list(model.age_bands)


@pytest.mark.parametrize("name", NAMES)
def test_mapped_columns_exist_and_ids_are_unique(name):
    s = scenario(name)
    frame = areas(name)
    columns = [s.areas.id, s.areas.name, s.areas.group, s.areas.deprivation,
               *s.areas.population_columns().values()]
    for column in filter(None, columns):
        assert column in frame.columns, f"{name}: no column {column}"
    assert frame[s.areas.id].is_unique
    assert frame[list(s.areas.population_columns().values())].notna().all().all()


@pytest.mark.parametrize("name", NAMES)
def test_adults_in_comment_match_the_data(name):
    text = (REPO / "examples" / f"{name}.yaml").read_text(encoding="utf-8")
    stated = re.search(r"([\d,]+) adults 18\+", text)
    assert stated, f"{name}.yaml states no adult population"
    assert int(stated.group(1).replace(",", "")) == adults(name).sum()


@pytest.mark.parametrize("name", NAMES)
def test_every_area_has_a_site_within_max_travel(name):
    s = scenario(name)
    frame = areas(name)
    points = frame.geometry.representative_point()
    metres, _ = cKDTree(sites(name)).query(np.c_[points.x, points.y])
    minutes = metres / 1000 * s.travel.circuity / s.travel.speed_kmh * 60
    worst = frame[s.areas.id].iloc[int(np.argmax(minutes))]
    assert minutes.max() <= s.hubs.max_travel_minutes, f"{name}: {worst} is {minutes.max():.1f} min"


@pytest.mark.parametrize("name", NAMES)
def test_hub_band_and_count_can_hold_the_population(name):
    s = scenario(name)
    total = adults(name).sum()
    low, high = s.hubs.count.bounds()
    band = s.hubs.population
    assert math.floor(total / band.min) >= max(low, 1)
    if high is not None:
        assert math.ceil(total / band.max) <= high
    assert adults(name).max() <= band.max  # no single area is too big for a hub


# ---------------------------------------------------------------------------------------------
# The real councils against the shared data README


def _people(name: str) -> int:
    return int(areas(name)["pop_total"].sum())


def test_kent_is_the_182_kcc_msoas():
    frame = areas("kent")
    assert len(frame) == 182
    assert _people("kent") == 1_589_057
    assert frame["in_kcc"].all()
    assert frame["lad_name"].nunique() == 12
    assert frame["IMD_Score"].notna().all()


def test_kent_sites_are_the_kcc_practices():
    assert len(sites("kent")) == 148
    assert len(sites("medway")) == 34  # together the 182 practices of the ICB


def test_kent_districts_are_the_operating_model_pool_groups():
    model = load_operating_model(scenario("kent").operating_model)
    grouped = {g for values in (model.pools.groups or {}).values() for g in values}
    assert set(areas("kent")[scenario("kent").areas.group]) == grouped


def test_medway_is_its_163_lsoas():
    frame = areas("medway")
    assert len(frame) == 163
    assert _people("medway") == 279_142
    assert (~frame["in_kcc"]).all()


@pytest.mark.parametrize("name, ltla_count, msoas",
                         [("leicestershire", 7, 83), ("york", 1, 24)])
def test_england_filters_keep_msoas_with_population(name, ltla_count, msoas):
    s = scenario(name)
    frame = areas(name)
    assert len(frame) == msoas
    assert frame["ltla21_code"].nunique() == ltla_count
    population = _read(s.areas.tables[0].path, None)
    assert set(frame[s.areas.id]) <= set(population["msoa11_code"])
    assert frame["imd2019_score_popweighted"].notna().all()


@pytest.mark.parametrize("name", REAL)
def test_people_in_comment_match_the_data(name):
    text = (REPO / "examples" / f"{name}.yaml").read_text(encoding="utf-8")
    stated = re.search(r"mid-2020: ([\d,]+) people", text)
    assert stated, f"{name}.yaml states no mid-2020 population"
    assert int(stated.group(1).replace(",", "")) == _people(name)


@pytest.mark.parametrize("name", REAL)
def test_todays_workforce_names_roles_of_its_model_and_sites_of_its_example(name):
    """examples/data/<council>_workforce.csv loads with the inputs loader (which refuses roles
    outside the operating model and units that are neither a site nor a pool), its sites are
    the example's baseline sites, and every row says it is an estimate."""
    from mdtplan.inputs import load_inputs, pool_names

    sc = scenario(name)
    assert sc.workforce is not None and sc.finance is not None
    assert sc.workforce.path == str(REPO / "examples" / "data" / f"{name}_workforce.csv")
    inputs = load_inputs(sc)                      # raises InputError on a bad role or unit
    wf = inputs.workforce
    om = inputs.operating_model
    kinds = {r.id: r.kind for r in om.roles}
    assert set(wf["role"]) <= {r for r, k in kinds.items() if k in ("core", "specialist")}
    pools = set(pool_names(om, inputs.areas, inputs.sites))
    sites = set(sc.finance.baseline.sites)
    assert set(wf["unit"]) <= sites | pools
    core = wf[wf["role"].map(kinds) == "core"]
    assert set(core["unit"]) == sites              # every baseline site is staffed
    assert set(wf.loc[wf["role"].map(kinds) == "specialist", "unit"]) <= pools
    assert sites <= set(inputs.sites.index)
    assert (wf["fte"] > 0).all() and set(wf["contract"]) <= {"permanent", "agency", "vacant"}
    raw = pd.read_csv(REPO / "examples" / "data" / f"{name}_workforce.csv")
    assert raw["source"].str.startswith("estimate ⚠").all()
