"""The typed summary of one solve: what ``summary.json`` holds (CONTRACT §5), in blocks.

====================  =========================  ================================================
attribute             type                       keys of ``summary.json``
====================  =========================  ================================================
``name``              str                        ``name``
``report``            :class:`SolverReport`      ``status``, ``objective``, ``objective_name``,
                                                 ``mip_gap``, ``solve_seconds``, ``message``,
                                                 ``stage_objectives``, ``timings``, ``stages``,
                                                 ``reproducible``, ``work_limits``
``costs``             :class:`Costs`             ``total_cost``, ``staff_cost``, ``agency_cost``,
                                                 ``site_cost``, ``mileage_cost``,
                                                 ``cost_by_role``,
                                                 ``agency_cost_by_role``, ``budget_cap``
``demand``            :class:`Demand`            ``demand_hours``, ``demand_met_share``,
                                                 ``unmet_hours_by_role``
``workforce``         :class:`Workforce`         ``fte_by_role``
``hubs``              :class:`Hubs`              ``hubs_open``, ``population_per_hub``
``travel``            :class:`Travel`            ``travel`` (``mean``, ``max``), ``travel_unit``
``geography``         :class:`Geography`         ``geography`` (staff ``travel_hours``,
                                                 ``mileage_miles``, ``mileage_gbp``)
``warnings``          tuple of str               ``warnings``
``explanation``       tuple of ``Problem``       ``explanation``
``marginal_values``   :class:`MarginalValues`    ``marginal_values``
``savings``           :class:`PlanSavings`       ``savings``
``finance``           :class:`FinanceAppraisal`  ``finance`` (with its :class:`MonteCarlo`)
``baseline``          :class:`BaselineSummary`   ``baseline``
``geography``         :class:`Geography`         ``geography``
``localities``        :class:`Localities`        ``localities`` (``count``, ``population``,
                                                 ``cost``, ``fte``, ``status``)
``shortfall``         :class:`Shortfall`         ``shortfall`` (``max_demand_met``)
``growth_check``      :class:`GrowthCheck`       ``growth_check`` (``demand.growth``)
``fidelity``          tuple of                   ``fidelity``: published figures beside the
                      :class:`FidelityRow`       model's (a list of rows)
====================  =========================  ================================================

:meth:`Summary.to_dict` writes the keys in the order of :data:`SUMMARY_KEYS`, which is the
order users' scripts have always seen; :meth:`Summary.from_dict` reads a ``summary.json`` back
(``from_dict(s.to_dict()) == s``). The results stage (:mod:`mdtplan.results`) makes the plan's
blocks, the appraisal (:mod:`mdtplan.appraisal`) the finance blocks and the baseline; the
blocks live here so that reading a result folder needs neither. Nothing here computes a figure
or writes a file.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..errors import Problem
from .baseline import BASELINE_KEYS, BaselineSummary, RuleBreach
from .fidelity import FIDELITY_KEYS, FidelityRow, rows_from_list, rows_to_list
from .finance import (
    BASIS_LABELS,
    LEVELS,
    TERMS,
    DemandDraw,
    DemandDraws,
    FeeClauseResult,
    FinanceAppraisal,
    Line,
    LinePercentiles,
    MonteCarlo,
    Percentiles,
    PlanSavings,
    Range,
    RatioReading,
    Saving,
    SavingsPercentiles,
    SavingsTotals,
    SideBySide,
    YearRow,
)
from .growth import GROWTH_CHECK_KEYS, GrowthCheck
from .plan import (
    Band,
    BindingRule,
    BudgetWorth,
    Costs,
    Demand,
    FteWorth,
    Geography,
    Hubs,
    Localities,
    MarginalValues,
    Shortfall,
    SolverReport,
    Travel,
    Workforce,
    jsonable,
)

__all__ = [
    "BASELINE_KEYS", "BASIS_LABELS", "FIDELITY_KEYS", "FeeClauseResult", "RatioReading", "TERMS",
    "LEVELS", "SUMMARY_KEYS", "Band", "BaselineSummary", "BindingRule",
    "BudgetWorth", "Costs", "Demand", "DemandDraw", "DemandDraws", "FidelityRow",
    "FinanceAppraisal", "FteWorth", "GROWTH_CHECK_KEYS", "Geography", "GrowthCheck", "Hubs",
    "Line", "LinePercentiles", "Localities", "MarginalValues",
    "MonteCarlo", "Percentiles", "PlanSavings", "Range", "RuleBreach", "Saving",
    "SavingsPercentiles", "SavingsTotals", "Shortfall",
    "SideBySide", "SolverReport", "Summary", "Travel", "Workforce", "YearRow", "jsonable",
]

#: the keys of ``summary.json``, in the order they are written
SUMMARY_KEYS = (
    "name", "status", "objective", "objective_name", "mip_gap", "solve_seconds", "total_cost",
    "staff_cost", "agency_cost", "site_cost", "cost_by_role", "budget_cap", "demand_hours",
    "demand_met_share", "unmet_hours_by_role", "fte_by_role", "hubs_open",
    "population_per_hub", "travel", "travel_unit", "message", "stage_objectives", "timings",
    "warnings", "savings", "finance", "explanation", "marginal_values", "agency_cost_by_role",
    "baseline", "mileage_cost", "geography", "stages", "assignment_relaxed", "localities",
    "shortfall", "growth_check", "reproducible", "work_limits", "start_from",
    "fidelity")

_PROBLEM_FIELDS = tuple(f.name for f in fields(Problem))


def _problem(doc: dict) -> Problem:
    """A problem of ``explanation`` read back (``hint`` and ``severity`` default if missing)."""
    required = {k: doc.get(k) for k in ("file", "row", "column", "message")}
    return Problem(**required, **{k: doc[k] for k in _PROBLEM_FIELDS
                                  if k not in required and k in doc})


@dataclass(frozen=True)
class Summary:
    """The headline figures of one solve (``summary.json``), in typed blocks.

    Attributes
    ----------
    name : str
        The scenario's name.
    report : SolverReport
        Status, objective, gap, times.
    costs : Costs
    demand : Demand
    workforce : Workforce
    hubs : Hubs
    travel : Travel
    warnings : tuple of str
        What loading the inputs repaired or found odd.
    explanation : tuple of Problem or None
        Without a plan: which rules conflict and by how much.
    marginal_values : MarginalValues or None
        With a plan: what the binding rules are worth.
    savings : PlanSavings or None
        The plan against today, with ``finance.baseline``.
    finance : FinanceAppraisal or None
        The savings table, with a ``finance`` section.
    baseline : BaselineSummary or None
        Today's configuration, with ``finance.baseline``.
    geography : Geography or None
        How the plan looks on the map (with a plan).
    localities : Localities or None
        The locality teams, with a ``localities`` section.
    shortfall : Shortfall or None
        Under ``max_demand_met``: each hub's share of core demand met against the plan's.
    growth_check : GrowthCheck or None
        With ``demand.growth`` (not ``solve_for_year``): the plan against that year's demand.
    fidelity : tuple of FidelityRow or None
        With a ``fidelity`` section: the council's published figures beside the model's.
    """

    name: str
    report: SolverReport
    costs: Costs
    demand: Demand
    workforce: Workforce
    hubs: Hubs
    travel: Travel
    warnings: tuple[str, ...] = ()
    explanation: tuple[Problem, ...] | None = None
    marginal_values: MarginalValues | None = None
    savings: PlanSavings | None = None
    finance: FinanceAppraisal | None = None
    baseline: BaselineSummary | None = None
    geography: Geography | None = None
    localities: Localities | None = None
    shortfall: Shortfall | None = None
    growth_check: GrowthCheck | None = None
    fidelity: tuple[FidelityRow, ...] | None = None

    def to_dict(self) -> dict:
        """``summary.json``: the keys of :data:`SUMMARY_KEYS` in that order, JSON-ready
        (non-finite numbers as ``None``)."""
        parts = {"name": self.name, **self.report.to_dict(), **self.costs.to_dict(),
                 **self.demand.to_dict(), **self.workforce.to_dict(), **self.hubs.to_dict(),
                 **self.travel.to_dict(), "warnings": list(self.warnings),
                 "savings": None if self.savings is None else self.savings.to_dict(),
                 "finance": None if self.finance is None else self.finance.to_dict(),
                 "explanation": (None if self.explanation is None
                                 else [p.to_dict() for p in self.explanation]),
                 "marginal_values": (None if self.marginal_values is None
                                     else self.marginal_values.to_dict()),
                 "baseline": None if self.baseline is None else self.baseline.to_dict(),
                 "geography": None if self.geography is None else self.geography.to_dict(),
                 "localities": None if self.localities is None else self.localities.to_dict(),
                 "shortfall": None if self.shortfall is None else self.shortfall.to_dict(),
                 "growth_check": (None if self.growth_check is None
                                  else self.growth_check.to_dict()),
                 "fidelity": rows_to_list(self.fidelity)}
        return jsonable({k: parts[k] for k in SUMMARY_KEYS})

    @classmethod
    def from_dict(cls, doc: dict) -> Summary:
        """Read a ``summary.json`` document back.

        A key missing from ``doc`` reads as ``None`` (an empty mapping or tuple for a table or
        list), so summaries written by older versions load; unknown keys are ignored.
        """
        explanation = doc.get("explanation")
        return cls(name=doc.get("name"), report=SolverReport.from_dict(doc),
                   costs=Costs.from_dict(doc), demand=Demand.from_dict(doc),
                   workforce=Workforce.from_dict(doc), hubs=Hubs.from_dict(doc),
                   travel=Travel.from_dict(doc), warnings=tuple(doc.get("warnings") or ()),
                   explanation=(None if explanation is None else tuple(
                       _problem(p) for p in explanation)),
                   marginal_values=MarginalValues.from_dict(doc.get("marginal_values")),
                   savings=PlanSavings.from_dict(doc.get("savings")),
                   finance=FinanceAppraisal.from_dict(doc.get("finance")),
                   baseline=BaselineSummary.from_dict(doc.get("baseline")),
                   geography=Geography.from_dict(doc.get("geography")),
                   localities=Localities.from_dict(doc.get("localities")),
                   shortfall=Shortfall.from_dict(doc.get("shortfall")),
                   growth_check=GrowthCheck.from_dict(doc.get("growth_check")),
                   fidelity=rows_from_list(doc.get("fidelity")))
