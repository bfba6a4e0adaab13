"""Loading areas, sites, travel, workforce and the operating model (CONTRACT §3).

Placeholder: the loaders are being written; the :class:`Inputs` contract below is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import Problem

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from .operating_model import OperatingModel
    from .scenario import Scenario

BNG = "EPSG:27700"


@dataclass(frozen=True)
class Inputs:
    """Everything a scenario names, loaded, checked and put in canonical form.

    Attributes
    ----------
    scenario : Scenario
        The scenario the inputs were loaded for (paths absolute).
    operating_model : OperatingModel or None
        ``None`` for scenarios without roles (the classic location problems).
    areas : geopandas.GeoDataFrame
        Index ``area_id`` (the source id strings, unique). Columns: one float column per
        population band, named by the band (``age_18_64`` …, or ``all``); ``population``
        (their sum) [people]; ``name`` (str; the id where unmapped); ``group`` (str or <NA>);
        ``deprivation`` (float or NaN); ``demand_override__<role>`` (float hours/year, NaN = no
        override) for each mapped override; ``x``, ``y``: representative point in EPSG:27700 [m]
        (NaN when the file has no geometry); ``geometry`` in EPSG:27700 (may be all-None for a
        CSV without coordinates when a travel table is given).
    sites : geopandas.GeoDataFrame
        Index ``site_id`` (str, unique). Columns: ``name`` (str), ``kind`` (str or <NA>),
        ``status`` (``candidate`` | ``existing`` | ``required`` | ``excluded``),
        ``fixed_cost_gbp`` [GBP/year, 0 if unmapped], ``opening_cost_gbp`` [GBP/year, 0],
        ``capacity`` [population/demand units, NaN = none], ``capacity_fte`` [FTE, NaN = none],
        ``pool`` (str or <NA>), ``x``, ``y`` [m, EPSG:27700], ``lon``, ``lat`` [deg, EPSG:4326],
        ``geometry`` (points, EPSG:27700; None without coordinates).
    travel : pandas.DataFrame or None
        The user's travel table: ``area_id``, ``site_id`` (str), ``travel_cost`` (float, in
        ``scenario.travel.unit``). ``None`` when travel is straight-line.
    workforce : pandas.DataFrame or None
        ``unit`` (site id or pool name, str), ``role`` (str), ``fte`` (float),
        ``contract`` (``permanent`` | ``agency`` | ``vacant``).
    warnings : tuple of Problem
        Repairs and oddities reported, never silently applied (e.g. geometry made valid).
    """

    scenario: Scenario
    operating_model: OperatingModel | None
    areas: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    travel: pd.DataFrame | None = None
    workforce: pd.DataFrame | None = None
    warnings: tuple[Problem, ...] = field(default_factory=tuple)


def load_inputs(scenario: Scenario) -> Inputs:  # pragma: no cover - being written
    raise NotImplementedError
