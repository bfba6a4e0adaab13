"""The scenario document: a strict pydantic v2 schema, YAML or JSON, with ``--set`` overrides.

The same schema serves the CLI (YAML files), the HTTP API (JSON bodies) and sweeps (overrides).
Unknown keys are errors. Paths are resolved against the scenario file's folder, once, here.

This module reads no data file and imports neither pandas, geopandas nor pyomo.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import Problem, ScenarioError

OBJECTIVES = ("max_demand_met", "min_cost", "min_travel", "min_max_travel")

NonNegFloat = Annotated[float, Field(ge=0)]
PosFloat = Annotated[float, Field(gt=0)]


class _Strict(BaseModel):
    # non-finite numbers (.inf, .nan, Infinity, 1e309) are refused with the key named
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              allow_inf_nan=False)


class Coordinates(_Strict):
    """Where a CSV table keeps its point coordinates.

    ``x``/``y`` name the columns; ``crs`` says what they are (``EPSG:4326`` for lon/lat,
    ``EPSG:27700`` for British National Grid easting/northing).
    """

    x: str
    y: str
    crs: str = "EPSG:4326"


class TableRef(_Strict):
    """A file, and which of its columns mean what."""

    path: str
    layer: str | None = None
    id: str
    coords: Coordinates | None = None
    where: dict[str, list[Any]] | None = None

    @field_validator("path")
    @classmethod
    def _path_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("path is blank")
        return v

    @field_validator("where")
    @classmethod
    def _where_lists(cls, v):
        if v is not None:
            for key, values in v.items():
                if not values:
                    raise ValueError(f"where.{key} lists no values, so it would keep no rows")
        return v


class JoinTable(_Strict):
    """An extra table joined onto the areas on the id (e.g. populations kept apart from shapes)."""

    path: str
    id: str
    layer: str | None = None


class AdjacencyConfig(_Strict):
    """Which areas count as neighbours, beyond shared boundaries (``hubs.contiguous``).

    ``links`` adds the user's own edges (bridges, ferries, causeways), each a pair of area ids.
    ``join_within_km``: a group of areas touching no other (an island) is joined to the nearest
    other group by its closest pair of areas when they lie within this distance [km]; a group
    farther away is an error naming its areas, to be fixed with a link.
    """

    links: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list)
    join_within_km: NonNegFloat = 10.0


class DeprivationColumn(_Strict):
    """A deprivation column and what it holds.

    ``kind``: ``score`` (an index's score, 0 to about 100 with decimals; what a plain column
    name means), ``rank`` (1 = most deprived of the index's LSOAs: 32,844 for IMD2019, 33,755
    for IMD2025) or ``decile`` (1 = most deprived tenth, to 10). ``index``: ``IMD2019`` or
    ``IMD2025``, needed for ranks and deciles (which are turned into a score equivalent
    through that index's national curve; only IMD2025 has one). The values are checked
    against the kind when the areas are read.
    """

    column: str
    kind: Literal["score", "rank", "decile"] = "score"
    index: Literal["IMD2019", "IMD2025"] | None = None

    @model_validator(mode="after")
    def _index_for_ranks(self):
        if self.kind != "score" and self.index is None:
            raise ValueError(f"a deprivation {self.kind} needs its index: index: IMD2019 or "
                             "IMD2025")
        return self


class AreasConfig(TableRef):
    """Small areas: where people live.

    ``population`` maps each age band of the operating model to a column, or names one column
    (a single band, ``all``) for weights without ages, such as the classic location problems.
    ``headcount`` optionally names the column of people counted in a hub's population band
    (e.g. all ages, where demand comes from adult bands only); without it, the sum of the
    mapped bands is counted.
    """

    population: dict[str, str] | str
    headcount: str | None = None
    name: str | None = None
    group: str | None = None
    deprivation: str | DeprivationColumn | None = None
    demand_override: dict[str, str] | None = None
    tables: list[JoinTable] = Field(default_factory=list)
    adjacency: AdjacencyConfig = Field(default_factory=AdjacencyConfig)

    @field_validator("population")
    @classmethod
    def _population_columns(cls, v):
        if isinstance(v, dict) and not v:
            raise ValueError("population maps no band to a column")
        return v

    @property
    def deprivation_column(self) -> DeprivationColumn | None:
        """``deprivation`` in its full form (a plain column name means an IMD score)."""
        if self.deprivation is None or isinstance(self.deprivation, DeprivationColumn):
            return self.deprivation
        return DeprivationColumn(column=self.deprivation)

    def population_columns(self) -> dict[str, str]:
        """Band name -> source column name."""
        if isinstance(self.population, str):
            return {"all": self.population}
        return dict(self.population)


class SitesConfig(TableRef):
    """Candidate hub sites (points). Optional columns are mapped by name, never guessed."""

    name: str | None = None
    kind: str | None = None
    status: str | None = None
    fixed_cost: str | None = None
    opening_cost: str | None = None
    capacity: str | None = None
    capacity_fte: str | None = None
    pool: str | None = None


class TravelConfig(_Strict):
    """Travel costs between areas and sites.

    With ``path``: a long table of allowed pairs (pairs missing from it are not allowed).
    Without: straight-line distance between the area's representative point and the site,
    in EPSG:27700, times ``circuity``, divided by ``speed_kmh``, in minutes.
    ``cost_gbp_per_unit`` turns travel into money for ``min_cost`` (0 by default); with
    ``weight_by_population`` each area's travel counts once per person (p-median style), else once
    per area (as in the capacitated warehouse problem's allocation costs).

    ``staff_travel`` (on by default): staff travel is part of the work. Each role's home
    visits (the operating model's ``visit_share`` and ``visits_per_contact_hour``) add the
    round trip from the hub to the area to the hours the hub must staff, and
    ``mileage_gbp_per_mile`` (default 0.45, HMRC's approved mileage allowance payment for the
    first 10,000 business miles a year) prices the miles as a council cost, in the cost and
    the budget. Miles come from the travel table's km (``unit: km``) or from its minutes at
    ``speed_kmh``; ``unit: units`` (the classic problems) has no staff travel.
    """

    path: str | None = None
    area_id: str = "area_id"
    site_id: str = "site_id"
    cost: str = "minutes"
    unit: Literal["minutes", "km", "units"] = "minutes"
    circuity: PosFloat = 1.3
    speed_kmh: PosFloat = 40.0
    cost_gbp_per_unit: NonNegFloat = 0.0
    weight_by_population: bool = True
    staff_travel: bool = True
    #: GBP per mile; HMRC approved mileage allowance payment, cars and vans, first 10,000
    #: business miles: 45p (https://www.gov.uk/expenses-and-benefits-business-travel-mileage/rules-for-tax)
    mileage_gbp_per_mile: Annotated[float, Field(ge=0, le=5)] = 0.45


class CountBand(_Strict):
    min: Annotated[int, Field(ge=0)] | None = None
    max: Annotated[int, Field(ge=0)] | None = None
    exactly: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _consistent(self):
        if self.exactly is not None and (self.min is not None or self.max is not None):
            raise ValueError("give either 'exactly' or 'min'/'max', not both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self

    def bounds(self) -> tuple[int, int | None]:
        if self.exactly is not None:
            return self.exactly, self.exactly
        return (self.min or 0), self.max


class PopulationBand(_Strict):
    min: NonNegFloat | None = None
    max: NonNegFloat | None = None

    @model_validator(mode="after")
    def _consistent(self):
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self


class HubsConfig(_Strict):
    count: CountBand = Field(default_factory=CountBand)
    population: PopulationBand = Field(default_factory=PopulationBand)
    max_travel_minutes: PosFloat | None = None
    assignment: Literal["single", "split"] = "single"
    #: an open hub serves the small area it stands in (sites inside no area's polygon, and
    #: areas given as points, are not held to it)
    serve_own_area: bool = True
    #: each hub's areas form one connected patch holding the hub's own area (neighbours:
    #: shared boundaries, islands joined to their nearest, ``areas.adjacency.links``)
    contiguous: bool = False
    #: no two open hubs closer than this, straight line in EPSG:27700 [km]; 0 or null: off
    #: (sites without coordinates are not held to it)
    min_separation_km: NonNegFloat | None = 2.0
    #: under max_demand_met, no hub's share of its core demand met falls more than this below
    #: the plan's overall share [fraction: 0.05 = 5 percentage points]; null: off
    max_shortfall_spread: Annotated[float, Field(ge=0, le=1)] | None = 0.05

    @model_validator(mode="after")
    def _contiguous_single(self):
        if self.contiguous and self.assignment == "split":
            raise ValueError("hubs.contiguous needs assignment: single (a hub serving part of "
                             "an area only to reach the next would still look split on a map)")
        return self


class LocalityRole(_Strict):
    """A role staffed once per locality team: ``fte_per_team`` FTE of operating-model role
    ``role`` (a role of ``kind: locality``) [FTE/team]."""

    role: str
    fte_per_team: PosFloat = 1.0


class LocalitiesConfig(_Strict):
    """Locality teams, a second tier: open MDT hubs grouped into teams of whole hubs.

    Each open hub belongs to exactly one team; a team's hubs lie in one specialist pool and,
    with ``contiguous``, their catchments form one connected piece (hubs are neighbours when
    their catchments share an area boundary). ``count`` bounds the number of teams (all pools
    together), ``population`` each team's people (counted as for hubs: ``areas.headcount``, or
    the sum of the mapped bands). ``roles`` are staffed per team and costed. The teams are chosen
    after the hub plan, given it (docs/scenario.md, "Locality teams").
    """

    count: CountBand = Field(default_factory=CountBand)
    population: PopulationBand = Field(default_factory=PopulationBand)
    contiguous: bool = True
    #: with pools by area group, a hub serves only areas of the pool of the area it stands in,
    #: so every team lies wholly inside one pool
    within_pools: bool = True
    roles: list[LocalityRole] = Field(default_factory=list)

    @field_validator("roles")
    @classmethod
    def _roles_once(cls, v):
        ids = [r.role for r in v]
        twice = sorted({r for r in ids if ids.count(r) > 1})
        if twice:
            raise ValueError(f"roles {twice} are listed twice; list each role once")
        return v


class BudgetConfig(_Strict):
    cap: NonNegFloat | None = None


class WorkforceConfig(_Strict):
    """Today's staff: one row per unit (site id or pool), role and contract."""

    path: str
    unit: str = "unit"
    role: str = "role"
    fte: str = "fte"
    contract: str = "contract"


class SolverConfig(_Strict):
    """How the solver may spend its effort.

    ``time_limit_s`` bounds the whole run after loading: building the model, the solve and
    its follow-ups (locality teams, marginal values, explanations, today's configuration,
    the growth check, Monte Carlo re-solves) share it; loading inputs and writing outputs
    are outside it. ``reproducible: true`` replaces seconds by work limits (``node_limit``
    branch-and-bound nodes and ``check_limit`` of HiGHS's interrupt checks with a plan in
    hand per MIP run, one thread, ``seed``): the same scenario and seed give the same plan
    whatever the machine's load, and ``time_limit_s`` is not used.
    """

    time_limit_s: PosFloat = 60.0
    mip_gap: Annotated[float, Field(ge=0, le=1)] = 0.005
    threads: Annotated[int, Field(ge=1, le=64)] = 2
    seed: Annotated[int, Field(ge=0)] = 0
    presolve: bool = True
    warm_start: bool = True
    reproducible: bool = False
    node_limit: Annotated[int, Field(ge=1, le=10_000_000)] = 1000
    check_limit: Annotated[int, Field(ge=1, le=10_000_000)] = 10


class Workstream(_Strict):
    """A savings workstream: annual savings range [GBP/year], investment and phasing."""

    name: str
    low: NonNegFloat
    high: NonNegFloat
    most_likely: NonNegFloat | None = None
    cashable: bool = True
    already_in_plan: NonNegFloat = 0.0
    investment: NonNegFloat = 0.0
    phasing: list[Annotated[float, Field(ge=0, le=1)]] | None = None
    demand_change: dict[str, float] | None = None

    @model_validator(mode="after")
    def _range(self):
        if self.low > self.high:
            raise ValueError(f"low {self.low:g} is above high {self.high:g}")
        if self.most_likely is not None and not (self.low <= self.most_likely <= self.high):
            raise ValueError(
                f"most_likely {self.most_likely:g} lies outside low..high "
                f"({self.low:g}..{self.high:g})"
            )
        return self


class ThreePoint(_Strict):
    """An uncertain number: ``low`` <= ``most_likely`` <= ``high`` (mode defaults to mid-range);
    any sign (:class:`Range` and the levers' parameters narrow it)."""

    low: float
    high: float
    most_likely: float | None = None

    @model_validator(mode="after")
    def _range(self):
        if self.low > self.high:
            raise ValueError(f"low {self.low:g} is above high {self.high:g}")
        if self.most_likely is not None and not (self.low <= self.most_likely <= self.high):
            raise ValueError(f"most_likely {self.most_likely:g} lies outside low..high "
                             f"({self.low:g}..{self.high:g})")
        return self

    @property
    def mode(self) -> float:
        return self.most_likely if self.most_likely is not None else (self.low + self.high) / 2

    def level(self, name: str) -> float:
        """The value at ``low``, ``most_likely`` (the mode) or ``high``."""
        return self.mode if name == "most_likely" else float(getattr(self, name))


class Range(ThreePoint):
    """A :class:`ThreePoint` of numbers >= 0 (savings, demand-rate multipliers)."""

    low: NonNegFloat
    high: NonNegFloat
    most_likely: NonNegFloat | None = None


class MonteCarloConfig(_Strict):
    """Monte Carlo over workstream ranges and, optionally, demand rates given as ranges.

    ``draws`` savings draws are sampled (cheap: no solve); when ``demand_rates`` is given or
    the operating model has levers, the first ``solves`` of them also draw demand-rate
    multipliers and the levers' values and each is a real re-solve, of at most
    ``time_limit_s`` seconds each (default: the scenario's ``solver.time_limit_s``).
    """

    draws: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000
    seed: Annotated[int, Field(ge=0)] = 0
    distribution: Literal["pert", "triangular"] = "pert"
    demand_rates: dict[str, Range] = Field(default_factory=dict)
    solves: Annotated[int, Field(ge=0, le=10_000)] = 20
    time_limit_s: Annotated[float, Field(gt=0, le=86_400)] | None = None


class BaselineConfig(_Strict):
    """Today's configuration, costed by the same model with its decisions fixed.

    Open hubs are the sites whose ``status`` is ``existing`` (or ``sites`` when listed); staff are
    the scenario's workforce table; each area is served by its nearest open site (``nearest``)
    or by whichever open site the model finds best (``free``).
    """

    sites: list[str] | None = None
    assignment: Literal["nearest", "free"] = "nearest"
    site_cost_gbp: NonNegFloat | None = None


class LeverPin(_Strict):
    """A lever's most likely values fixed by the scenario (a what-if, or a Monte Carlo draw):
    ``share`` of its cohort it may reach at most [-], ``saving_gbp_per_person`` of care spend
    avoided a year [GBP]; either left out keeps the operating model's."""

    share: Annotated[float, Field(ge=0, le=1)] | None = None
    saving_gbp_per_person: Annotated[float, Field(ge=-1e7, le=1e7)] | None = None
RatioBasis = Literal["cashable_net", "total_net", "total"]

#: HM Treasury, The Green Book (2022), para 5.33 ff and Table 8: the social time preference
#: rate, 3.5% a year for years 0-30 of an appraisal.
GREEN_BOOK_DISCOUNT_RATE = 0.035


class FeeClause(_Strict):
    """A fee reduced until the benefit reaches ``required_ratio`` times it.

    Leicestershire's contract with its strategic partner: the one-off fee "will be reduced
    until" the recurrent annualised benefit is 1.5 times the fee, so the fee after the clause
    is ``min(fee, benefit / required_ratio)`` at each level. ``fee`` defaults to the section's
    whole investment, ``required_ratio`` to ``finance.required_ratio`` and ``basis`` to
    ``finance.ratio_basis``.
    """

    fee: NonNegFloat | None = None
    required_ratio: PosFloat | None = None
    basis: RatioBasis | None = None


class FinanceConfig(_Strict):
    """The ``finance`` section: baseline, workstreams, investment tests and years.

    ``investment_phasing``: share of the one-off investment spent in years 1, 2, ...
    (default: all in year 1); the shares sum to 1. ``discount_rate`` [1/year]: the HM
    Treasury Green Book rate (3.5%) by default; ``discount_year_one``: the discount period
    ``t`` of year 1 (1: a year ``y``'s flows are discounted by ``1 / (1 + r) ** y``; 0: year 1
    is undiscounted, as the Green Book's year 0).
    """

    baseline: BaselineConfig | None = None
    workstreams: list[Workstream] | None = None
    investment: NonNegFloat = 0.0
    investment_phasing: list[Annotated[float, Field(ge=0, le=1)]] | None = None
    already_in_plan: NonNegFloat = 0.0
    required_ratio: PosFloat | None = None
    ratio_basis: RatioBasis = "cashable_net"
    fee_clause: FeeClause | None = None
    years: Annotated[int, Field(ge=1, le=30)] = 5
    discount_rate: Annotated[float, Field(ge=0, lt=1)] = GREEN_BOOK_DISCOUNT_RATE
    discount_year_one: Literal[0, 1] = 1
    monte_carlo: MonteCarloConfig | None = None
    levers: bool = True  # work out the operating model's levers (mdtplan.care); false: leave them out
    lever_values: dict[str, LeverPin] = Field(default_factory=dict)

    @field_validator("investment_phasing")
    @classmethod
    def _phasing_sums_to_one(cls, shares):
        if shares is not None:
            if not shares:
                raise ValueError("finance.investment_phasing is empty: give the share spent in "
                                 "year 1, 2, ... (e.g. [0.6, 0.4]) or leave the key out")
            if abs(sum(shares) - 1.0) > 1e-6:
                raise ValueError(f"finance.investment_phasing shares sum to {sum(shares):.6g}, "
                                 "not 1: give the share of the one-off investment spent in "
                                 "each year, e.g. [0.6, 0.4]")
        return shares

    @model_validator(mode="after")
    def _phasing_within_years(self):
        if self.investment_phasing is not None and len(self.investment_phasing) > self.years:
            raise ValueError(f"finance.investment_phasing has {len(self.investment_phasing)} "
                             f"shares but finance.years is {self.years}: spend the investment "
                             "within the years appraised, or raise finance.years")
        if (self.fee_clause is not None and self.fee_clause.required_ratio is None
                and self.required_ratio is None):
            raise ValueError("finance.fee_clause needs a ratio: give "
                             "finance.fee_clause.required_ratio or finance.required_ratio")
        return self


class GrowthConfig(_Strict):
    """Population growth per age band and year (``demand.growth``), e.g. from ONS subnational
    population projections.

    ``path`` names a CSV with a ``year`` column and one column per age band of the operating
    model, holding the band's population in that year as a multiple of the areas' own (base
    year) population [-]; an optional ``area_group`` column gives rows per area group
    (district). ``year`` picks the row. By default the plan is solved on the base year's demand
    and then *checked* against that year's (``growth_check`` in the summary: the plan's hubs,
    catchments and FTE fixed); with ``solve_for_year`` the plan is solved for that year's
    demand instead.
    """

    path: str
    year: int
    solve_for_year: bool = False

    @field_validator("path")
    @classmethod
    def _path_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("path is blank")
        return v


# --------------------------------------------------------------------------------------------
# Published figures beside the model's (the fidelity table)


def summary_path_steps(path: str) -> tuple[tuple, ...]:
    """The steps of a dotted path into ``summary.json``.

    A path is keys joined by dots; a key may be followed by selectors in brackets: ``[2]``
    (the item at that index of a list, from 0) or ``[field=value]`` (the one item of a list of
    mappings whose ``field`` is ``value``, compared as text; the value may hold dots and
    spaces, not ``]``).

    Returns
    -------
    tuple of tuple
        ``("key", name)``, ``("index", i)`` or ``("match", field, value)`` in order.

    Raises
    ------
    ValueError
        A path that cannot be read (empty key, unbalanced bracket, empty selector).

    Examples
    --------
    >>> summary_path_steps("finance.lines[name=OA1 Reablement].low")
    (('key', 'finance'), ('key', 'lines'), ('match', 'name', 'OA1 Reablement'), ('key', 'low'))
    >>> summary_path_steps("finance.by_year[0]")
    (('key', 'finance'), ('key', 'by_year'), ('index', 0))
    """
    if not isinstance(path, str) or not path.strip():
        raise ValueError("the path is empty")
    steps: list[tuple] = []
    i, n = 0, len(path)
    while i < n:
        j = i
        while j < n and path[j] not in ".[]":
            j += 1
        key = path[i:j].strip()
        if not key:
            raise ValueError(f"'{path}': a key is empty at character {i + 1}")
        steps.append(("key", key))
        while j < n and path[j] == "[":
            end = path.find("]", j)
            if end < 0:
                raise ValueError(f"'{path}': '[' at character {j + 1} is not closed")
            inner = path[j + 1:end].strip()
            if not inner:
                raise ValueError(f"'{path}': an empty selector [] at character {j + 1}")
            if "=" in inner:
                field, _, value = inner.partition("=")
                if not field.strip() or not value.strip():
                    raise ValueError(f"'{path}': selector [{inner}] needs field=value")
                steps.append(("match", field.strip(), value.strip()))
            else:
                try:
                    steps.append(("index", int(inner)))
                except ValueError:
                    raise ValueError(f"'{path}': selector [{inner}] is neither an index "
                                     "nor field=value") from None
            j = end + 1
        if j < n:
            if path[j] != ".":
                raise ValueError(f"'{path}': unexpected '{path[j]}' at character {j + 1}")
            if j == n - 1:
                raise ValueError(f"'{path}' ends with a dot")
        i = j + 1
    return tuple(steps)


class PublishedFigure(_Strict):
    """A figure as a council published it: one number (``value``), a range (``low``,
    ``high``), a floor (``min``: "at least £3.9m") or a ceiling (``max``: "up to £360k").

    A bare number in the document is read as ``{value: number}``. ``tolerance`` (same unit):
    how far from a single ``value`` the model may lie and still be within; without it, half a
    unit of the value's last significant digit (a published £9.8m stands for £9.75m-£9.85m).
    """

    value: float | None = None
    low: float | None = None
    high: float | None = None
    min: float | None = None
    max: float | None = None
    tolerance: NonNegFloat | None = None

    @model_validator(mode="before")
    @classmethod
    def _number(cls, data):
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return {"value": data}
        return data

    @model_validator(mode="after")
    def _one_form(self):
        given = [k for k in ("value", "low", "high", "min", "max") if getattr(self, k) is not None]
        if (self.low is None) != (self.high is None):
            raise ValueError("a range needs both low and high")
        if given not in (["value"], ["low", "high"], ["min"], ["max"]):
            raise ValueError(f"give one of: a number, {{low, high}}, {{min}} or {{max}} "
                             f"(got {', '.join(given) or 'none'})")
        if self.low is not None and self.low > self.high:
            raise ValueError(f"low {self.low:g} is above high {self.high:g}")
        if self.tolerance is not None and self.value is None:
            raise ValueError("tolerance applies to a single value only")
        return self


class FidelityFigure(_Strict):
    """One published figure and where the model's counterpart is in ``summary.json``.

    ``model``: a dotted path into ``summary.json`` (:func:`summary_path_steps`) ending at a
    number or a ``{low, most_likely, high}`` mapping; ``null`` when the model has no such
    figure (then say why in ``note``). ``unit``: ``gbp`` (default), ``ratio``, ``share`` or
    ``number``, for display. ``source``: publisher, title, year and address; ``quote``: the
    published words.
    """

    figure: str
    published: PublishedFigure
    model: str | None = None
    unit: Literal["gbp", "ratio", "share", "number"] = "gbp"
    source: str
    quote: str | None = None
    note: str | None = None

    @field_validator("model")
    @classmethod
    def _path(cls, v):
        if v is not None:
            summary_path_steps(v)
        return v


class FidelityConfig(_Strict):
    """The council's published figures, to be set beside the model's (``summary.json``'s
    ``fidelity`` rows; :mod:`mdtplan.appraisal.fidelity`)."""

    council: str
    figures: Annotated[list[FidelityFigure], Field(min_length=1)]


class DemandConfig(_Strict):
    """Scenario-level changes to the operating model's demand (what-ifs, sweeps, Monte Carlo).

    ``scale`` multiplies every area's hours of every role (re-solved in place in a sweep);
    ``client_groups`` multiplies the contact rates of the named client groups, and ``pathways``
    the hours of the named pathways (both rebuild the model). ``growth`` grows each age band's
    population to a later year (:class:`GrowthConfig`).
    """

    scale: PosFloat = 1.0
    client_groups: dict[str, NonNegFloat] = Field(default_factory=dict)
    pathways: dict[str, NonNegFloat] = Field(default_factory=dict)
    growth: GrowthConfig | None = None


class Scenario(_Strict):
    """A whole scenario (CONTRACT §2). Paths are absolute once loaded by :func:`load_scenario`."""

    name: str = "scenario"
    operating_model: str | None = None
    areas: AreasConfig
    sites: SitesConfig
    travel: TravelConfig = Field(default_factory=TravelConfig)
    hubs: HubsConfig = Field(default_factory=HubsConfig)
    localities: LocalitiesConfig | None = None
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    workforce: WorkforceConfig | None = None
    objective: Literal["max_demand_met", "min_cost", "min_travel", "min_max_travel"] = (
        "max_demand_met"
    )
    demand: DemandConfig = Field(default_factory=DemandConfig)
    solver: SolverConfig = Field(default_factory=SolverConfig)
    finance: FinanceConfig | None = None
    fidelity: FidelityConfig | None = None
    base_dir: str | None = Field(default=None, exclude=True)

    def to_dict(self) -> dict:
        """The document as plain data (JSON-compatible), without the resolved base folder."""
        return self.model_dump(mode="json", exclude_none=True, exclude={"base_dir"})


# --------------------------------------------------------------------------------------------
# Loading, path resolution and overrides


def _problems_from_validation(err: ValidationError, file: str | None) -> list[Problem]:
    problems = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (not part of the scenario schema)"
            hint = "remove it or check its spelling against the scenario reference (docs/reference/scenario.md, or mdtplan schema)"
        elif e["type"] == "missing":
            msg = "required key is missing"
            hint = "add it"
        else:
            hint = f"got {e.get('input')!r}" if not isinstance(e.get("input"), dict) else None
        problems.append(Problem(file, None, loc or None, msg, hint))
    return problems


def parse_scenario(data: dict, *, file: str | None = None, base_dir: str | Path | None = None):
    """Validate a scenario document (already parsed from YAML/JSON).

    Raises
    ------
    ScenarioError
        With one :class:`~mdtplan.errors.Problem` per fault, the key path as its column.
    """
    if not isinstance(data, dict):
        raise ScenarioError(
            [Problem(file, None, None, "the scenario must be a mapping of keys to values",
                     "start from examples/demo.yaml")]
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_problems_from_validation(err, file)) from None
    if base_dir is not None:
        scenario = resolve_paths(scenario, Path(base_dir))
    return scenario


MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
"""Largest scenario or operating model file read [bytes] (the examples are under 20 KB)."""
MAX_DOCUMENT_VALUES = 1_000_000
"""Most values a YAML document may hold once its aliases are expanded."""
MAX_DOCUMENT_DEPTH = 100
"""Deepest nesting of lists and mappings in a scenario or operating model document."""


def _expanded_size(node, depth: int = 0, memo: dict | None = None) -> int:
    """Values a composed YAML node stands for once every alias is expanded (memoised, so a
    billion-laughs document is measured without being built); raises past the depth limit."""
    memo = {} if memo is None else memo
    key = id(node)
    if key in memo:
        return memo[key]
    if depth > MAX_DOCUMENT_DEPTH:
        raise RecursionError
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, depth + 1, memo) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, depth + 1, memo) + _expanded_size(v, depth + 1, memo)
                    for k, v in node.value)
    memo[key] = size
    return size


def parse_yaml_bounded(text: str):
    """``yaml.safe_load`` with limits: at most :data:`MAX_DOCUMENT_VALUES` values after alias
    expansion and :data:`MAX_DOCUMENT_DEPTH` levels of nesting.

    Raises
    ------
    ValueError
        With a sentence saying which limit the document passes.
    yaml.YAMLError
        A syntax error.
    """
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise ValueError(f"is nested more than {MAX_DOCUMENT_DEPTH} levels deep") from None
        if node is None:
            return None
        try:
            size = _expanded_size(node)
        except RecursionError:
            raise ValueError(f"is nested more than {MAX_DOCUMENT_DEPTH} levels deep") from None
        if size > MAX_DOCUMENT_VALUES:
            raise ValueError(f"expands to more than {MAX_DOCUMENT_VALUES:,} values through its "
                             "YAML aliases (&name / *name)")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _depth_ok(value, depth: int = 0) -> bool:
    if depth > MAX_DOCUMENT_DEPTH:
        return False
    if isinstance(value, dict):
        return all(_depth_ok(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return all(_depth_ok(v, depth + 1) for v in value)
    return True


def read_document(path: str | Path) -> dict:
    """Read a YAML or JSON file into plain data, with a clear error if it cannot be parsed.

    Files over :data:`MAX_DOCUMENT_BYTES`, binary files, documents nested more than
    :data:`MAX_DOCUMENT_DEPTH` levels and YAML whose aliases expand past
    :data:`MAX_DOCUMENT_VALUES` values are refused (a :class:`ScenarioError` naming the file),
    before they can exhaust memory or time.
    """
    path = Path(path)
    if not path.exists():
        raise ScenarioError([Problem(str(path), None, None, "file not found",
                                     "check the path (relative to the current folder)")])
    if path.is_dir():
        raise ScenarioError([Problem(str(path), None, None, "is a folder, not a file",
                                     "give the path of a YAML or JSON file")])
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise ScenarioError([Problem(str(path), None, None,
                                     f"is {size:,} bytes, more than a scenario or operating model "
                                     f"file may be ({MAX_DOCUMENT_BYTES:,})",
                                     "check that this is the right file; data belongs in the "
                                     "tables the scenario names, not in the YAML")])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ScenarioError([Problem(str(path), None, None,
                                     f"is not UTF-8 text (byte {err.start}: {err.reason})",
                                     "save it as UTF-8 YAML or JSON")]) from None
    if "\x00" in text:
        raise ScenarioError([Problem(str(path), None, None, "is a binary file, not YAML or JSON",
                                     "give the scenario's .yaml or .json file")])
    try:
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(text)
            except RecursionError:
                raise ValueError(f"is nested more than {MAX_DOCUMENT_DEPTH} levels deep") from None
            if not _depth_ok(data):
                raise ValueError(f"is nested more than {MAX_DOCUMENT_DEPTH} levels deep")
            return data
        return parse_yaml_bounded(text)
    except ValueError as err:
        if isinstance(err, json.JSONDecodeError):
            raise _syntax_problem(path, err) from None
        raise ScenarioError([Problem(str(path), None, None, str(err),
                                     "simplify the file: scenario files need neither deep "
                                     "nesting nor repeated aliases")]) from None
    except yaml.YAMLError as err:
        raise _syntax_problem(path, err) from None


def _syntax_problem(path: Path, err) -> ScenarioError:
    mark = getattr(err, "problem_mark", None)
    row = str(mark.line + 1) if mark is not None else getattr(err, "lineno", None)
    return ScenarioError([Problem(str(path), None if row is None else str(row), None,
                                  f"cannot parse: {err}".splitlines()[0],
                                  "fix the YAML/JSON syntax at that line")])


def load_scenario(path: str | Path, overrides: list[str] | dict | None = None) -> Scenario:
    """Load a scenario file, apply ``--set KEY=VALUE`` overrides, resolve relative paths.

    Parameters
    ----------
    path : str or Path
        A ``.yaml``/``.yml`` or ``.json`` scenario file.
    overrides : list of str or dict, optional
        ``["budget.cap=48e6", "hubs.count.max=20"]`` or ``{"budget.cap": 48e6}``. Values are
        parsed as YAML scalars and then typed by the schema, so ``48e6`` becomes a number and a
        wrong type is reported against its key.
    """
    path = Path(path)
    data = read_document(path)
    if overrides:
        data = apply_overrides(data, overrides, file=str(path))
    return parse_scenario(data, file=str(path), base_dir=path.resolve().parent)


def _parse_override(item: str, file: str | None) -> tuple[str, Any]:
    if "=" not in item:
        raise ScenarioError([Problem(file, None, item, "override is not KEY=VALUE",
                                     "write it as e.g. --set budget.cap=48e6")])
    key, _, raw = item.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ScenarioError([Problem(file, None, item, "override has an empty key",
                                     "write it as e.g. --set budget.cap=48e6")])
    return key, parse_value(raw)


def parse_value(raw: str):
    """A value as ``--set`` reads it: a YAML scalar (empty = ``None``), ``48e6`` a number.

    >>> parse_value("48e6"), parse_value("true"), parse_value("min_cost"), parse_value("")
    (48000000.0, True, 'min_cost', None)
    """
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    # YAML 1.1 reads 48e6 as a string; numbers written that way are meant as numbers
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            pass
    return value


def apply_overrides(data: dict, overrides: list[str] | dict, *, file: str | None = None) -> dict:
    """Return a copy of ``data`` with dotted-key overrides applied (lists by index: ``a.0.b``)."""
    import copy

    data = copy.deepcopy(data)
    items = overrides.items() if isinstance(overrides, dict) else (
        _parse_override(o, file) for o in overrides
    )
    for key, value in items:
        parts = key.split(".")
        node = data
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list):
                try:
                    node = node[int(part)]
                except (ValueError, IndexError):
                    raise ScenarioError([Problem(file, None, key,
                                                 f"'{part}' is not an index of the list at "
                                                 f"'{'.'.join(parts[:i])}'")]) from None
                continue
            if not isinstance(node, dict):
                raise ScenarioError([Problem(file, None, key,
                                             f"'{'.'.join(parts[:i])}' is not a section")])
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
        last = parts[-1]
        if isinstance(node, list):
            try:
                node[int(last)] = value
            except (ValueError, IndexError):
                raise ScenarioError([Problem(file, None, key, "list index out of range")]) from None
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise ScenarioError([Problem(file, None, key,
                                         f"'{'.'.join(parts[:-1])}' is not a section")])
    return data


def _resolve(base: Path, p: str | None) -> str | None:
    if p is None:
        return None
    pp = Path(p).expanduser()
    return str(pp if pp.is_absolute() else (base / pp).resolve())


def resolve_paths(scenario: Scenario, base: Path) -> Scenario:
    """Make every path in the scenario absolute, relative to ``base`` (the scenario's folder).

    A path that names a bundled operating model by bare name (``default`` or ``default.yaml``)
    and does not exist beside the scenario is looked up in the bundled ``models/`` folder.
    """
    from .resources import find_operating_model

    def upd(model, **changes):
        return model.model_copy(update=changes)

    areas = upd(scenario.areas, path=_resolve(base, scenario.areas.path),
                tables=[upd(t, path=_resolve(base, t.path)) for t in scenario.areas.tables])
    sites = upd(scenario.sites, path=_resolve(base, scenario.sites.path))
    travel = upd(scenario.travel, path=_resolve(base, scenario.travel.path))
    workforce = (upd(scenario.workforce, path=_resolve(base, scenario.workforce.path))
                 if scenario.workforce else None)
    demand = scenario.demand
    if demand.growth is not None:
        demand = upd(demand, growth=upd(demand.growth, path=_resolve(base, demand.growth.path)))
    op = scenario.operating_model
    if op is not None:
        candidate = Path(_resolve(base, op))
        op = str(candidate) if candidate.exists() else (find_operating_model(op) or str(candidate))
    return upd(scenario, areas=areas, sites=sites, travel=travel, workforce=workforce,
               demand=demand, operating_model=op, base_dir=str(base))


def scenario_json_schema() -> dict:
    """The JSON Schema of the scenario document (for docs, the API and editors)."""
    return Scenario.model_json_schema()
