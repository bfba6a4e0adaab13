"""The plan's blocks of ``summary.json``: solver report, costs, demand, workforce, hubs, travel,
and the marginal values of the binding rules.

Each block's ``to_dict`` gives its keys of ``summary.json`` as they are written (most at the
top level of the document: the key names are the contract, CONTRACT §5), and ``from_dict`` reads
them back from such a document. A key missing from the document reads as ``None`` (an empty
mapping for a table by role), so a summary written by an older version still loads; keys it
does not know are ignored. Nothing here computes a figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np


def jsonable(obj):
    """``obj`` with keys as strings, tuples as lists, numpy scalars as Python scalars and
    non-finite floats as ``None``: what ``json.dumps(..., allow_nan=False)`` writes."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if not np.isfinite(v) else v
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def mapping(doc: dict, key: str) -> dict:
    """``doc[key]`` as a new dict (empty when missing or null)."""
    value = doc.get(key)
    return dict(value) if value is not None else {}


@dataclass(frozen=True)
class SolverReport:
    """How the solve went.

    Attributes
    ----------
    status : str
        ``optimal``, ``feasible_at_limit``, ``infeasible``, ``unbounded``, ``no_solution`` or
        ``error`` (``summary.json``: ``status``).
    objective : float or None
        The objective of the plan, in its own units (``objective``).
    objective_name : str
        The scenario's objective, e.g. ``max_demand_met`` (``objective_name``).
    mip_gap : float or None
        Relative gap at the end [-] (``mip_gap``).
    solve_seconds : float
        Wall time of the solve [s] (``solve_seconds``).
    message : str
        The solver's word on the outcome (``message``).
    stage_objectives : dict of str to float
        Objective of each lexicographic stage (``stage_objectives``).
    timings : dict of str to float
        Seconds per pipeline stage, keys ending in ``_s`` [s] (``timings``).
    stages : tuple of dict
        One entry per lexicographic stage solved, in order (``stages``): ``name``,
        ``objective`` (at the plan returned), ``bound`` (the best bound proved for the stage
        with the earlier ones held, or ``None``), ``gap`` (relative, or ``None``) and
        ``status`` of that stage's solve.
    assignment_relaxed : bool or None
        Whether the single assignment was given to HiGHS as continuous, provably exact for
        this model, and the plan rounded back to one hub per area (``assignment_relaxed``;
        :mod:`mdtplan.solve.relax`).
    start_from : dict or None
        With an earlier plan as the start (``mdtplan solve --start-from``, a what-if):
        where it came from and how it was used (``start_from``;
        :attr:`mdtplan.solve.SolveResult.start_from`); ``None`` otherwise.
    work_limits : dict or None
        In reproducible mode, what the solves stopped at instead of seconds (``node_limit``,
        ``check_limit``, ``threads``, ``seed``, ...; ``summary.json``: ``work_limits``, with
        ``reproducible`` true); ``None`` for a timed run (``reproducible`` false).
    """

    status: str
    objective: float | None
    objective_name: str
    mip_gap: float | None
    solve_seconds: float
    message: str = ""
    stage_objectives: dict[str, float] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    stages: tuple[dict, ...] = ()
    assignment_relaxed: bool | None = None
    work_limits: dict | None = None
    start_from: dict | None = None

    def __post_init__(self):
        if not isinstance(self.stages, tuple):
            object.__setattr__(self, "stages", tuple(dict(s) for s in self.stages or ()))

    def to_dict(self) -> dict:
        return {"status": self.status, "objective": self.objective,
                "objective_name": self.objective_name, "mip_gap": self.mip_gap,
                "solve_seconds": self.solve_seconds, "message": self.message,
                "stage_objectives": dict(self.stage_objectives), "timings": dict(self.timings),
                "stages": [dict(s) for s in self.stages],
                "assignment_relaxed": self.assignment_relaxed,
                "reproducible": self.work_limits is not None,
                "work_limits": None if self.work_limits is None else dict(self.work_limits),
                "start_from": None if self.start_from is None else dict(self.start_from)}

    @classmethod
    def from_dict(cls, doc: dict) -> SolverReport:
        return cls(status=doc.get("status"), objective=doc.get("objective"),
                   objective_name=doc.get("objective_name"), mip_gap=doc.get("mip_gap"),
                   solve_seconds=doc.get("solve_seconds"), message=doc.get("message", ""),
                   stage_objectives=mapping(doc, "stage_objectives"),
                   timings=mapping(doc, "timings"), stages=tuple(doc.get("stages") or ()),
                   assignment_relaxed=doc.get("assignment_relaxed"),
                   work_limits=doc.get("work_limits"), start_from=doc.get("start_from"))


@dataclass(frozen=True)
class Costs:
    """What the plan costs a year, and the cap it was held to.

    Attributes
    ----------
    total_gbp : float or None
        Staff, agency premium, sites and staff mileage [GBP/year] (``total_cost``); ``None``
        without a plan.
    staff_gbp : float or None
        Staff at their own cost, agency staff included [GBP/year] (``staff_cost``).
    agency_gbp : float or None
        The agency premium on top [GBP/year] (``agency_cost``).
    site_gbp : float or None
        Fixed cost of the open sites, plus the opening cost of new ones [GBP/year]
        (``site_cost``).
    by_role_gbp : dict of str to float
        Staff and agency premium of each role [GBP/year] (``cost_by_role``).
    agency_by_role_gbp : dict of str to float
        The agency premium of each role [GBP/year] (``agency_cost_by_role``).
    budget_cap_gbp : float or None
        The scenario's cap [GBP/year] (``budget_cap``).
    mileage_gbp : float or None
        Staff mileage on visits [GBP/year] (``mileage_cost``; in ``total_cost``, not in
        ``cost_by_role``); 0 without staff travel.
    """

    total_gbp: float | None
    staff_gbp: float | None
    agency_gbp: float | None
    site_gbp: float | None
    by_role_gbp: dict[str, float] = field(default_factory=dict)
    agency_by_role_gbp: dict[str, float] = field(default_factory=dict)
    budget_cap_gbp: float | None = None
    mileage_gbp: float | None = None

    def to_dict(self) -> dict:
        return {"total_cost": self.total_gbp, "staff_cost": self.staff_gbp,
                "agency_cost": self.agency_gbp, "site_cost": self.site_gbp,
                "mileage_cost": self.mileage_gbp,
                "cost_by_role": dict(self.by_role_gbp),
                "agency_cost_by_role": dict(self.agency_by_role_gbp),
                "budget_cap": self.budget_cap_gbp}

    @classmethod
    def from_dict(cls, doc: dict) -> Costs:
        return cls(total_gbp=doc.get("total_cost"), staff_gbp=doc.get("staff_cost"),
                   agency_gbp=doc.get("agency_cost"), site_gbp=doc.get("site_cost"),
                   by_role_gbp=mapping(doc, "cost_by_role"),
                   agency_by_role_gbp=mapping(doc, "agency_cost_by_role"),
                   budget_cap_gbp=doc.get("budget_cap"), mileage_gbp=doc.get("mileage_cost"))


@dataclass(frozen=True)
class Demand:
    """The demand on the plan and how much of it is met.

    Attributes
    ----------
    hours : float
        Demand of every area and role [hours/year] (``demand_hours``).
    met_share : float or None
        Share of it met [-] (``demand_met_share``); ``None`` without a plan or demand.
    unmet_hours_by_role : dict of str to float
        Demand not met, by role [hours/year] (``unmet_hours_by_role``).
    """

    hours: float
    met_share: float | None
    unmet_hours_by_role: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"demand_hours": self.hours, "demand_met_share": self.met_share,
                "unmet_hours_by_role": dict(self.unmet_hours_by_role)}

    @classmethod
    def from_dict(cls, doc: dict) -> Demand:
        return cls(hours=doc.get("demand_hours"), met_share=doc.get("demand_met_share"),
                   unmet_hours_by_role=mapping(doc, "unmet_hours_by_role"))


@dataclass(frozen=True)
class Workforce:
    """The staff of the plan.

    Attributes
    ----------
    fte_by_role : dict of str to float
        FTE of each role, agency FTE included [FTE] (``fte_by_role``).
    """

    fte_by_role: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"fte_by_role": dict(self.fte_by_role)}

    @classmethod
    def from_dict(cls, doc: dict) -> Workforce:
        return cls(fte_by_role=mapping(doc, "fte_by_role"))


@dataclass(frozen=True)
class Band:
    """Least, median and largest of a figure over the open hubs (``population_per_hub``)."""

    min: float | None
    median: float | None
    max: float | None

    def to_dict(self) -> dict:
        return {"min": self.min, "median": self.median, "max": self.max}

    @classmethod
    def from_dict(cls, doc: dict | None) -> Band | None:
        """``None`` for an empty (or missing) band: the plan has no hubs."""
        if not doc:
            return None
        return cls(min=doc.get("min"), median=doc.get("median"), max=doc.get("max"))


@dataclass(frozen=True)
class Hubs:
    """The open hubs.

    Attributes
    ----------
    count : int
        Hubs open (``hubs_open``).
    population : Band or None
        Population (the model's weights) served per hub [people] (``population_per_hub``,
        ``{}`` when no hub is open).
    """

    count: int
    population: Band | None = None

    def to_dict(self) -> dict:
        return {"hubs_open": self.count,
                "population_per_hub": self.population.to_dict() if self.population else {}}

    @classmethod
    def from_dict(cls, doc: dict) -> Hubs:
        return cls(count=doc.get("hubs_open"),
                   population=Band.from_dict(doc.get("population_per_hub")))


@dataclass(frozen=True)
class Localities:
    """The locality teams (the second tier), with a ``localities`` section.

    Attributes
    ----------
    count : int
        Teams (``localities.count``).
    population : Band or None
        People per team [people] (``localities.population``).
    cost_gbp : float
        The teams' roles, all teams [GBP/year] (``localities.cost``); inside ``total_cost``.
    fte : float
        The teams' roles, all teams [FTE] (``localities.fte``).
    status : str
        How the teams' own solve ended (``localities.status``): ``optimal`` or
        ``feasible_at_limit``.
    """

    count: int
    population: Band | None = None
    cost_gbp: float = 0.0
    fte: float = 0.0
    status: str = "optimal"

    def to_dict(self) -> dict:
        return {"count": self.count,
                "population": self.population.to_dict() if self.population else {},
                "cost": self.cost_gbp, "fte": self.fte, "status": self.status}

    @classmethod
    def from_dict(cls, doc: dict | None) -> Localities | None:
        if not doc:
            return None
        return cls(count=doc.get("count"), population=Band.from_dict(doc.get("population")),
                   cost_gbp=doc.get("cost"), fte=doc.get("fte"), status=doc.get("status"))


@dataclass(frozen=True)
class Travel:
    """Travel from the areas to their hubs, weighted by population.

    Attributes
    ----------
    mean : float or None
        Population-weighted mean [travel unit] (``travel.mean``).
    max : float or None
        Longest assigned trip [travel unit] (``travel.max``).
    unit : str
        ``minutes`` or ``km`` (``travel_unit``).
    """

    mean: float | None
    max: float | None
    unit: str

    def to_dict(self) -> dict:
        return {"travel": {"mean": self.mean, "max": self.max}, "travel_unit": self.unit}

    @classmethod
    def from_dict(cls, doc: dict) -> Travel:
        travel = doc.get("travel") or {}
        return cls(mean=travel.get("mean"), max=travel.get("max"), unit=doc.get("travel_unit"))


@dataclass(frozen=True)
class Geography:
    """How the plan looks on the map (``geography``; :mod:`mdtplan.geography` computes it).

    Attributes
    ----------
    pieces_per_catchment : dict or None
        Open hub -> connected pieces of its catchment in the area adjacency graph (1: one
        patch); ``None`` without area polygons.
    catchments_in_pieces : int or None
        Open hubs whose catchment is in more than one piece.
    share_areas_at_nearest_open_hub : float or None
        Share of areas served (mostly) by the nearest open hub they may use, by travel.
    hubs_not_serving_own_area : tuple of str or None
        Open hubs not serving the area they stand in whole; ``None`` when no hub stands in an
        area.
    min_hub_separation_km : float or None
        Straight-line distance between the two closest open hubs [km].
    closest_hubs : tuple of str or None
        Those two hubs.
    travel_hours : float or None
        Staff hours a year spent travelling to visits (round trips from the hub) [h/yr].
    mileage_miles, mileage_gbp : float or None
        Miles a year driven for those visits, and what they are paid [GBP/yr].
    staff_travel : bool
        Whether staff travel was part of the work (``travel.staff_travel``).
    """

    pieces_per_catchment: dict | None = None
    catchments_in_pieces: int | None = None
    share_areas_at_nearest_open_hub: float | None = None
    hubs_not_serving_own_area: tuple[str, ...] | None = None
    min_hub_separation_km: float | None = None
    closest_hubs: tuple[str, str] | None = None
    travel_hours: float | None = None
    mileage_miles: float | None = None
    mileage_gbp: float | None = None
    staff_travel: bool = False

    def __post_init__(self):
        for name in ("hubs_not_serving_own_area", "closest_hubs"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, tuple):
                object.__setattr__(self, name, tuple(v))

    def to_dict(self) -> dict:
        return {"pieces_per_catchment": self.pieces_per_catchment,
                "catchments_in_pieces": self.catchments_in_pieces,
                "share_areas_at_nearest_open_hub": self.share_areas_at_nearest_open_hub,
                "hubs_not_serving_own_area": (None if self.hubs_not_serving_own_area is None
                                              else list(self.hubs_not_serving_own_area)),
                "min_hub_separation_km": self.min_hub_separation_km,
                "closest_hubs": None if self.closest_hubs is None else list(self.closest_hubs),
                "travel_hours": self.travel_hours,
                "mileage_miles": self.mileage_miles,
                "mileage_gbp": self.mileage_gbp,
                "staff_travel": self.staff_travel}

    @classmethod
    def from_dict(cls, doc: dict | None) -> Geography | None:
        if doc is None:
            return None
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in names})


# --------------------------------------------------------------------------------------------
# Marginal values (mdtplan.explain.marginal_summary)


@dataclass(frozen=True)
class BindingRule:
    """One rule family's binding rows.

    Attributes
    ----------
    rows_binding : int
        Rows of the family that bind.
    value_per_unit : float or dict of str to float
        What one more unit of the right-hand side is worth to the objective stage: one number
        for a single row, else by row (the first 20).
    """

    rows_binding: int
    value_per_unit: float | dict[str, float]

    def to_dict(self) -> dict:
        value = (dict(self.value_per_unit) if isinstance(self.value_per_unit, dict)
                 else self.value_per_unit)
        return {"rows_binding": self.rows_binding, "value_per_unit": value}

    @classmethod
    def from_dict(cls, doc: dict) -> BindingRule:
        value = doc.get("value_per_unit")
        return cls(rows_binding=doc.get("rows_binding"),
                   value_per_unit=dict(value) if isinstance(value, dict) else value)


@dataclass(frozen=True)
class BudgetWorth:
    """What one more £100k of budget changes (``per_100k_budget``).

    Attributes
    ----------
    stage : str
        The objective stage it changes.
    change : float
        Change in that stage's objective per extra £100k [objective units].
    meaning : str
        The same in words.
    """

    stage: str
    change: float
    meaning: str

    def to_dict(self) -> dict:
        return {"stage": self.stage, "change": self.change, "meaning": self.meaning}

    @classmethod
    def from_dict(cls, doc: dict | None) -> BudgetWorth | None:
        if doc is None:
            return None
        return cls(stage=doc.get("stage"), change=doc.get("change"), meaning=doc.get("meaning"))


@dataclass(frozen=True)
class FteWorth:
    """What one more FTE of each role is worth, placed where it helps most (``per_extra_fte``).

    Attributes
    ----------
    stage : str
        The objective stage it changes.
    best_unit_value : dict of str to float
        Fall in that stage's objective per extra FTE, by role [objective units/FTE].
    meaning : str
        The same in words.
    """

    stage: str
    best_unit_value: dict[str, float]
    meaning: str

    def to_dict(self) -> dict:
        return {"stage": self.stage, "best_unit_value": dict(self.best_unit_value),
                "meaning": self.meaning}

    @classmethod
    def from_dict(cls, doc: dict | None) -> FteWorth | None:
        if doc is None:
            return None
        return cls(stage=doc.get("stage"), best_unit_value=mapping(doc, "best_unit_value"),
                   meaning=doc.get("meaning"))


@dataclass(frozen=True)
class MarginalValues:
    """Shadow prices of the plan with its integer decisions fixed (``marginal_values``).

    Every part is optional, and ``to_dict`` writes only those present: ``{}`` when no
    family with a price is in the model, ``{"unavailable": why}`` when the prices could not
    be worked out.

    Attributes
    ----------
    objective_stage : str or None
        The stage whose objective the prices are of.
    binding : dict of str to BindingRule or None
        By rule family (``budget_cap``, ``hub_population_max``, ...).
    per_100k_budget : BudgetWorth or None
    per_extra_fte : FteWorth or None
    unavailable : str or None
        Why there are no prices.
    """

    objective_stage: str | None = None
    binding: dict[str, BindingRule] | None = None
    per_100k_budget: BudgetWorth | None = None
    per_extra_fte: FteWorth | None = None
    unavailable: str | None = None

    def to_dict(self) -> dict:
        out: dict[str, Any] = {}
        if self.objective_stage is not None:
            out["objective_stage"] = self.objective_stage
        if self.binding is not None:
            out["binding"] = {k: v.to_dict() for k, v in self.binding.items()}
        if self.per_100k_budget is not None:
            out["per_100k_budget"] = self.per_100k_budget.to_dict()
        if self.per_extra_fte is not None:
            out["per_extra_fte"] = self.per_extra_fte.to_dict()
        if self.unavailable is not None:
            out["unavailable"] = self.unavailable
        return out

    @classmethod
    def from_dict(cls, doc: dict | None) -> MarginalValues | None:
        if doc is None:
            return None
        binding = doc.get("binding")
        return cls(objective_stage=doc.get("objective_stage"),
                   binding=(None if binding is None else
                            {k: BindingRule.from_dict(v) for k, v in binding.items()}),
                   per_100k_budget=BudgetWorth.from_dict(doc.get("per_100k_budget")),
                   per_extra_fte=FteWorth.from_dict(doc.get("per_extra_fte")),
                   unavailable=doc.get("unavailable"))


@dataclass(frozen=True)
class Shortfall:
    """How evenly the plan's shortfall falls on its hubs (``summary.json``: ``shortfall``),
    under ``max_demand_met``; core roles only (specialist pools are not a hub's).

    Attributes
    ----------
    overall_share : float or None
        Share of the plan's core demand hours met [-].
    max_spread : float or None
        ``hubs.max_shortfall_spread``: how far below ``overall_share`` a hub may fall [-];
        ``None``: the rule is off.
    lowest_hub_share : float or None
        The lowest share of core demand met at an open hub [-].
    lowest_hub : str or None
        That hub's site id.
    hubs_at_limit : tuple of str
        Hubs held at the rule's limit (within its 2**-10 resolution).
    binds : bool
        Whether some hub is held at the limit.
    held_back_hours : float
        Hours counted unmet at hubs whose staff could deliver them (the rule kept by holding
        better-served hubs back, where moving staff could not) [hours/year].
    explanation : str
        The above in words.
    """

    overall_share: float | None
    max_spread: float | None
    lowest_hub_share: float | None
    lowest_hub: str | None = None
    hubs_at_limit: tuple[str, ...] = ()
    binds: bool = False
    held_back_hours: float = 0.0
    explanation: str = ""

    def to_dict(self) -> dict:
        return {"overall_share": self.overall_share, "max_spread": self.max_spread,
                "lowest_hub_share": self.lowest_hub_share, "lowest_hub": self.lowest_hub,
                "hubs_at_limit": list(self.hubs_at_limit), "binds": self.binds,
                "held_back_hours": self.held_back_hours, "explanation": self.explanation}

    @classmethod
    def from_dict(cls, doc: dict | None) -> Shortfall | None:
        if doc is None:
            return None
        return cls(overall_share=doc.get("overall_share"), max_spread=doc.get("max_spread"),
                   lowest_hub_share=doc.get("lowest_hub_share"),
                   lowest_hub=doc.get("lowest_hub"),
                   hubs_at_limit=tuple(doc.get("hubs_at_limit") or ()),
                   binds=bool(doc.get("binds", False)),
                   held_back_hours=float(doc.get("held_back_hours") or 0.0),
                   explanation=doc.get("explanation") or "")
