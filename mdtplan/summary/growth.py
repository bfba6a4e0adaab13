"""The ``growth_check`` block of ``summary.json``: the plan checked against a later year's demand.

:func:`mdtplan.appraisal.growth.check_growth` makes it (``demand.growth`` without
``solve_for_year``): the plan's hubs, catchments and FTE fixed, the areas' age bands grown to
``demand.growth.year``, and the demand the plan's staff then cannot meet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .plan import jsonable, mapping

#: the keys of ``summary.json``'s ``growth_check`` block, in order
GROWTH_CHECK_KEYS = ("year", "demand_hours", "base_demand_hours", "demand_met_share",
                     "unmet_hours_by_role", "extra_fte_needed_by_role", "status", "message")


@dataclass(frozen=True)
class GrowthCheck:
    """The plan against ``year``'s demand (``summary.json``'s ``growth_check``).

    Attributes
    ----------
    year : int
        The year checked (``demand.growth.year``).
    demand_hours : float
        That year's demand [hours/year] (the visits' travel is not counted in it, but is in
        the unmet hours, as for the plan's ``demand_hours``).
    base_demand_hours : float
        The demand the plan was solved for [hours/year].
    demand_met_share : float or None
        Share of that year's demand the plan's staff meet [-].
    unmet_hours_by_role : dict of str to float
        That year's demand the plan's staff cannot meet, by role [hours/year].
    extra_fte_needed_by_role : dict of str to float
        The FTE those hours need: unmet hours / productive hours per FTE [FTE] (before FTE
        steps, hub minimums and supervision).
    status : str
        The evaluation's solve status.
    message : str or None
    """

    year: int
    demand_hours: float
    base_demand_hours: float
    demand_met_share: float | None
    unmet_hours_by_role: dict[str, float] = field(default_factory=dict)
    extra_fte_needed_by_role: dict[str, float] = field(default_factory=dict)
    status: str = "optimal"
    message: str | None = None

    def to_dict(self) -> dict:
        parts = {"year": self.year, "demand_hours": self.demand_hours,
                 "base_demand_hours": self.base_demand_hours,
                 "demand_met_share": self.demand_met_share,
                 "unmet_hours_by_role": dict(self.unmet_hours_by_role),
                 "extra_fte_needed_by_role": dict(self.extra_fte_needed_by_role),
                 "status": self.status, "message": self.message}
        return jsonable({k: parts[k] for k in GROWTH_CHECK_KEYS})

    @classmethod
    def from_dict(cls, doc: dict | None) -> GrowthCheck | None:
        if doc is None:
            return None
        return cls(year=doc.get("year"), demand_hours=doc.get("demand_hours"),
                   base_demand_hours=doc.get("base_demand_hours"),
                   demand_met_share=doc.get("demand_met_share"),
                   unmet_hours_by_role=mapping(doc, "unmet_hours_by_role"),
                   extra_fte_needed_by_role=mapping(doc, "extra_fte_needed_by_role"),
                   status=doc.get("status"), message=doc.get("message"))
