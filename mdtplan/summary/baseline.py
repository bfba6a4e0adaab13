"""The baseline's block of ``summary.json``: today's configuration as the model evaluates it.

:func:`mdtplan.appraisal.baseline.evaluate_baseline` makes it. It holds the plan's blocks
(report, costs, demand, workforce, hubs, travel; its report without stage objectives and
timings) and what only today has: the sites, how areas were assigned to them, the design rules
today's configuration breaks, the areas no site reaches and the vacant posts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .plan import (
    Costs,
    Demand,
    Geography,
    Hubs,
    SolverReport,
    Travel,
    Workforce,
    jsonable,
    mapping,
)

#: the keys of ``summary.json``'s ``baseline`` block, in order
BASELINE_KEYS = (
    "name", "status", "objective", "objective_name", "mip_gap", "solve_seconds", "total_cost",
    "staff_cost", "agency_cost", "site_cost", "cost_by_role", "budget_cap", "demand_hours",
    "demand_met_share", "unmet_hours_by_role", "fte_by_role", "hubs_open",
    "population_per_hub", "travel", "travel_unit", "message", "agency_cost_by_role", "sites",
    "assignment", "violations", "unserved_areas", "vacant_fte_by_role", "mileage_cost",
    "geography")


@dataclass(frozen=True)
class RuleBreach:
    """A design rule today's configuration breaks (a row of ``baseline.violations``).

    Attributes
    ----------
    rule : str
        The rule family (e.g. ``hub_population_max``, ``max_travel_minutes``).
    count : int
        Rows (hubs, areas, ...) that break it.
    worst_index : str or None
        The worst row's index, e.g. a site id or ``area/site``.
    value : float
        The worst row's value [the rule's unit].
    lower, upper : float or None
        Its bounds [the rule's unit].
    by : float
        By how much it is broken [the rule's unit].
    """

    rule: str
    count: int
    worst_index: str | None
    value: float
    lower: float | None
    upper: float | None
    by: float

    def to_dict(self) -> dict:
        return {"rule": self.rule, "count": self.count, "worst_index": self.worst_index,
                "value": self.value, "lower": self.lower, "upper": self.upper, "by": self.by}

    @classmethod
    def from_dict(cls, doc: dict) -> RuleBreach:
        return cls(**{k: doc.get(k) for k in
                      ("rule", "count", "worst_index", "value", "lower", "upper", "by")})


@dataclass(frozen=True)
class BaselineSummary:
    """Today's configuration, costed and evaluated (``summary.json``'s ``baseline``).

    Attributes
    ----------
    name : str
        ``<scenario> (baseline)``.
    report : SolverReport
        Its objective name is ``baseline``; stage objectives and timings are not kept.
    costs : Costs
        No budget cap (today is not held to the plan's).
    demand : Demand
        Demand before the workstreams change it; areas no baseline site reaches count as
        unmet.
    workforce, hubs, travel
        As for the plan.
    sites : tuple of str
        Today's site ids.
    assignment : str
        ``nearest`` or ``free``.
    violations : tuple of RuleBreach
    unserved_areas : tuple of str
        Areas no baseline site reaches.
    vacant_fte_by_role : dict of str to float
        Vacant posts [FTE].
    geography : Geography or None
        How today's configuration looks on the map (pieces, nearest hub, separation).
    """

    name: str
    report: SolverReport
    costs: Costs
    demand: Demand
    workforce: Workforce
    hubs: Hubs
    travel: Travel
    sites: tuple[str, ...] = ()
    assignment: str | None = None
    violations: tuple[RuleBreach, ...] = ()
    unserved_areas: tuple[str, ...] = ()
    vacant_fte_by_role: dict[str, float] = field(default_factory=dict)
    geography: Geography | None = None

    def to_dict(self) -> dict:
        parts = {"name": self.name, **self.report.to_dict(), **self.costs.to_dict(),
                 **self.demand.to_dict(), **self.workforce.to_dict(), **self.hubs.to_dict(),
                 **self.travel.to_dict(), "sites": list(self.sites),
                 "assignment": self.assignment,
                 "violations": [v.to_dict() for v in self.violations],
                 "unserved_areas": list(self.unserved_areas),
                 "vacant_fte_by_role": dict(self.vacant_fte_by_role),
                 "geography": None if self.geography is None else self.geography.to_dict()}
        return jsonable({k: parts[k] for k in BASELINE_KEYS})

    @classmethod
    def from_dict(cls, doc: dict | None) -> BaselineSummary | None:
        if doc is None:
            return None
        report = SolverReport.from_dict(doc)
        return cls(name=doc.get("name"), report=report, costs=Costs.from_dict(doc),
                   demand=Demand.from_dict(doc), workforce=Workforce.from_dict(doc),
                   hubs=Hubs.from_dict(doc), travel=Travel.from_dict(doc),
                   sites=tuple(doc.get("sites") or ()), assignment=doc.get("assignment"),
                   violations=tuple(RuleBreach.from_dict(v)
                                    for v in doc.get("violations") or ()),
                   unserved_areas=tuple(doc.get("unserved_areas") or ()),
                   vacant_fte_by_role=mapping(doc, "vacant_fte_by_role"),
                   geography=Geography.from_dict(doc.get("geography")))
