"""Operating models (``models/*.yaml``): roles, specialist pools, demand and rules.

An operating model says how a council works: which roles sit in each locality hub (``core``) or in
shared pools (``specialist``), what an FTE of each costs and delivers, how many contacts each
client group generates per 1,000 people a year, how those contacts split across pathways (e.g.
Medway's three conversations) and how many hours of each role a contact takes.

Demand hours for area *a* and role *r* are (see :mod:`mdtplan.demand`)::

    hours[a, r] = m[a] * sum_g sum_b pop[a, b] / 1000 * rate[g, b] * sum_p share[g, p] * h[p, r]

where ``m[a]`` is the optional deprivation multiplier. A client group may instead give its own
``hours_per_contact`` by role (a single implicit pathway).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import Problem, ScenarioError
from .scenario import ThreePoint, Workstream  # one schema each, in a scenario or a model

NonNeg = Annotated[float, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Role(_Strict):
    """A role in the MDT.

    ``cost_gbp_per_fte`` is the employer's annual cost including on-costs [GBP/year];
    ``agency_premium`` the extra share an agency FTE costs over it (0.4 = 40% more);
    ``productive_hours_per_fte`` the client-facing hours an FTE delivers in a year [h/year];
    ``visit_share`` the share of the role's demand hours spent with people at home or in the
    community (each such hour needs a trip from the hub) and ``visits_per_contact_hour`` the
    trips from the hub per hour of that contact [visits/h]: with ``travel.staff_travel`` each
    demand hour of an area served from a hub ``t`` minutes away adds
    ``visit_share x visits_per_contact_hour x 2t/60`` hours of travel (0 = desk-based).

    ``kind``: ``core`` roles sit in every hub, ``specialist`` roles in a shared pool, and
    ``locality`` roles (e.g. a locality manager) once per locality team, as many FTE as the
    scenario's ``localities.roles`` say: the hub model neither staffs nor costs them, and no
    demand may name them.
    """

    id: str
    name: str
    kind: Literal["core", "specialist", "locality"]
    cost_gbp_per_fte: Annotated[float, Field(gt=0)]
    agency_premium: NonNeg = 0.0
    productive_hours_per_fte: Annotated[float, Field(gt=0)]
    min_fte_per_hub: NonNeg = 0.0
    fte_step: Annotated[float, Field(gt=0)] = 0.5
    max_agency_share: Annotated[float, Field(ge=0, le=1)] = 1.0
    visit_share: Annotated[float, Field(ge=0, le=1)] = 0.0
    visits_per_contact_hour: Annotated[float, Field(ge=0, le=20)] = 0.0


class Pools(_Strict):
    """How specialist roles are pooled.

    ``by: site`` uses the sites' ``pool`` column; ``by: area_group`` the areas' ``group``
    (district) column, either one pool per group or, with ``groups``, named pools each listing
    the group values it covers (e.g. Kent's East and West); ``by: single`` one pool for all.
    """

    by: Literal["site", "area_group", "single"] = "single"
    groups: dict[str, list[str]] | None = None

    @model_validator(mode="after")
    def _groups_disjoint(self):
        if self.groups:
            seen: dict[str, str] = {}
            for pool, values in self.groups.items():
                for v in values:
                    if v in seen:
                        raise ValueError(f"group '{v}' is in pools '{seen[v]}' and '{pool}'")
                    seen[v] = pool
        return self


class Pathway(_Strict):
    id: str
    name: str | None = None
    hours_per_contact: dict[str, NonNeg]


class ClientGroup(_Strict):
    """Contacts per 1,000 people per year by age band, split over pathways by share."""

    id: str
    name: str | None = None
    rate_per_1000: dict[str, NonNeg]
    pathways: dict[str, NonNeg] | None = None
    hours_per_contact: dict[str, NonNeg] | None = None

    @model_validator(mode="after")
    def _one_way(self):
        if (self.pathways is None) == (self.hours_per_contact is None):
            raise ValueError("give either 'pathways' (shares) or 'hours_per_contact', not both")
        if self.pathways is not None:
            total = sum(self.pathways.values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"pathway shares sum to {total:g}, not 1")
        return self


class Deprivation(_Strict):
    """Demand multiplier from a deprivation score: ``clip(1 + elasticity*(score/reference - 1))``."""

    reference_score: Annotated[float, Field(gt=0)]
    elasticity: float = 0.0
    min_multiplier: Annotated[float, Field(gt=0)] = 0.5
    max_multiplier: Annotated[float, Field(gt=0)] = 2.0


class Demand(_Strict):
    client_groups: list[ClientGroup]
    pathways: list[Pathway] = Field(default_factory=list)
    deprivation: Deprivation | None = None


class Supervision(_Strict):
    """``supervisor`` FTE * ``max_ratio`` >= sum of ``supervises`` FTE, in every hub (or pool)."""

    supervisor: str
    supervises: list[str]
    max_ratio: Annotated[float, Field(gt=0)]


class Rules(_Strict):
    supervision: list[Supervision] = Field(default_factory=list)
    hiring_limit_fte: dict[str, NonNeg] = Field(default_factory=dict)


class CareSetting(_Strict):
    """A long-term support setting: what a week of it costs the council and how long people
    stay in it (``cost_gbp_per_week`` [GBP/week]; ``duration_weeks`` [weeks], the average time
    a person who enters it is supported in it)."""

    id: str
    name: str | None = None
    cost_gbp_per_week: NonNeg
    duration_weeks: Annotated[float, Field(gt=0, le=5200)]


class CareReviews(_Strict):
    """How the people a flow places in long-term support are reviewed: ``per_year`` reviews a
    year per person while they are supported [reviews/person/year], each taking the staff
    hours per contact of the demand flow ``flow`` (e.g. ``reviews_older_people``)."""

    flow: str
    per_year: NonNeg


class Care(_Strict):
    """What the demand's flows lead to: each setting's unit cost and duration, and, per flow
    (a client group or a demand pathway of :class:`Demand`), the share of its contacts that
    enter each setting (the rest need no long-term support from the council).

    ``reviews`` (per entry flow, optional) makes reviews follow the people in long-term
    support: a lever that changes how many people a flow places, or for how long, changes the
    review hours too (:mod:`mdtplan.care`, "Reviews").

    The steady-state annual spend on the people a flow of ``n`` contacts a year sends into
    setting ``s`` is ``n x share x cost_gbp_per_week x duration_weeks`` (Little's law: the people
    in the setting at any time, ``n x share x duration_weeks / 52``, each cost 52 weeks a year).
    See :mod:`mdtplan.care`.
    """

    settings: list[CareSetting]
    outcomes: dict[str, dict[str, NonNeg]] = Field(default_factory=dict)
    reviews: dict[str, CareReviews] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shares(self):
        ids = [s.id for s in self.settings]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"care setting ids repeated: {dupes}")
        for flow, shares in self.outcomes.items():
            unknown = sorted(set(shares) - set(ids))
            if unknown:
                raise ValueError(f"care.outcomes.{flow} names unknown settings {unknown}; "
                                 f"settings are {ids}")
            total = sum(shares.values())
            if total > 1.0 + 1e-9:
                raise ValueError(f"care.outcomes.{flow}: the setting shares sum to {total:g}, "
                                 "above 1 (they are shares of the flow's contacts; the rest "
                                 "need no long-term support)")
        return self

    def setting(self, setting_id: str) -> CareSetting:
        return next(s for s in self.settings if s.id == setting_id)


class LeverRange(ThreePoint):
    """A lever parameter known as low / most likely / high (most likely defaults to mid-range;
    :class:`~mdtplan.scenario.ThreePoint`)."""


class Divert(_Strict):
    """A share of flow ``from``'s contacts go through flow ``to`` instead (e.g. people who
    would be assessed for long-term support are offered reablement first; conversation 3
    becomes conversation 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              allow_inf_nan=False)
    from_flow: str = Field(alias="from")
    to_flow: str = Field(alias="to")


class Move(_Strict):
    """A share of the people in setting ``from`` move to setting ``to`` (e.g. from residential
    care to supported living); ``flows`` limits the cohort to the people those flows placed
    there (all flows when omitted). ``to_cost_gbp_per_week`` overrides the new setting's
    weekly cost for them, as a range."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              allow_inf_nan=False)
    from_setting: str = Field(alias="from")
    to_setting: str = Field(alias="to")
    flows: list[str] | None = None
    to_cost_gbp_per_week: LeverRange | None = None


class Resize(_Strict):
    """The packages of a share of the people in ``setting`` are made smaller by ``reduction``
    of their weekly cost (more consistent package sizes at review); ``flows`` as :class:`Move`."""

    setting: str
    reduction: LeverRange
    flows: list[str] | None = None


class Lever(_Strict):
    """A workstream the model works out: it changes the care pathways, and the optimisation
    decides how far it goes under the staffing, supply and budget rules (see
    :mod:`mdtplan.care`).

    Exactly one of ``divert``, ``move`` or ``resize`` says what changes. ``share`` is the most
    of the lever's cohort it can reach (a share of the ``from`` flow's contacts a year, or of
    the people in the setting), as a range. ``outcomes`` (``divert`` only) gives the settings
    the diverted people enter at each level (default: ``care.outcomes`` of the ``to`` flow).
    ``hours_per_person`` adds staff hours per person reached [h] (e.g. a review to right-size
    a package); a ``divert`` already counts the hours of ``to`` less those of ``from``.
    ``cashable``, ``already_in_plan``, ``investment`` and ``phasing`` are as for a typed
    workstream.
    """

    id: str
    name: str
    divert: Divert | None = None
    move: Move | None = None
    resize: Resize | None = None
    share: LeverRange
    outcomes: dict[Literal["low", "most_likely", "high"], dict[str, NonNeg]] | None = None
    hours_per_person: dict[str, float] = Field(default_factory=dict)
    cashable: bool = True
    already_in_plan: NonNeg = 0.0
    investment: NonNeg = 0.0
    phasing: list[Annotated[float, Field(ge=0, le=1)]] | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k in ("divert", "move", "resize") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of 'divert', 'move' or 'resize' "
                             f"(found {kinds or 'none'})")
        if self.share.low < 0 or self.share.high > 1:
            raise ValueError(f"share {self.share.low:g}..{self.share.high:g} must lie within "
                             "0..1: a lever cannot reach more than its whole cohort")
        if self.outcomes is not None and self.divert is None:
            raise ValueError("'outcomes' applies to a 'divert' lever only")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("divert", "move", "resize") if getattr(self, k) is not None)


class OperatingModel(_Strict):
    name: str
    description: str | None = None
    age_bands: list[str]
    roles: list[Role]
    pools: Pools = Field(default_factory=Pools)
    demand: Demand
    rules: Rules = Field(default_factory=Rules)
    workstreams: list[Workstream] = Field(default_factory=list)
    care: Care | None = None
    levers: list[Lever] = Field(default_factory=list)
    source: str | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _references(self):
        role_ids = [r.id for r in self.roles]
        dupes = {r for r in role_ids if role_ids.count(r) > 1}
        if dupes:
            raise ValueError(f"role ids repeated: {sorted(dupes)}")
        roles, bands = set(role_ids), set(self.age_bands)
        locality = {r.id for r in self.roles if r.kind == "locality"}
        roles = roles - locality  # a locality role is staffed per team, never by demand
        paths = {p.id for p in self.demand.pathways}
        for p in self.demand.pathways:
            unknown = set(p.hours_per_contact) - roles
            if unknown:
                raise ValueError(f"pathway '{p.id}' names unknown roles {sorted(unknown)}")
        for g in self.demand.client_groups:
            if set(g.rate_per_1000) - bands:
                raise ValueError(f"client group '{g.id}' names unknown age bands "
                                 f"{sorted(set(g.rate_per_1000) - bands)}; age_bands are "
                                 f"{self.age_bands}")
            if g.pathways and set(g.pathways) - paths:
                raise ValueError(f"client group '{g.id}' names unknown pathways "
                                 f"{sorted(set(g.pathways) - paths)}")
            if g.hours_per_contact and set(g.hours_per_contact) - roles:
                raise ValueError(f"client group '{g.id}' names unknown roles "
                                 f"{sorted(set(g.hours_per_contact) - roles)}")
        for s in self.rules.supervision:
            if s.supervisor not in roles or set(s.supervises) - roles:
                raise ValueError(f"supervision rule for '{s.supervisor}' names unknown roles")
        if set(self.rules.hiring_limit_fte) - roles:
            raise ValueError(f"hiring_limit_fte names unknown roles "
                             f"{sorted(set(self.rules.hiring_limit_fte) - roles)}")
        flows = {g.id for g in self.demand.client_groups} | paths
        if self.care is not None:
            unknown = sorted(set(self.care.outcomes) - flows)
            if unknown:
                raise ValueError(f"care.outcomes names {unknown}, which are neither client "
                                 f"groups nor pathways of demand (flows are {sorted(flows)})")
            for entry, rv in self.care.reviews.items():
                for key, flow in ((f"care.reviews.{entry}", entry),
                                  (f"care.reviews.{entry}.flow", rv.flow)):
                    if flow not in flows:
                        raise ValueError(f"{key}: '{flow}' is neither a client group nor a "
                                         f"pathway of demand (flows are {sorted(flows)})")
        check_levers(self.levers, self.care, flows, roles)
        return self

    def role(self, role_id: str) -> Role:
        return next(r for r in self.roles if r.id == role_id)

    @property
    def core_roles(self) -> list[Role]:
        return [r for r in self.roles if r.kind == "core"]

    @property
    def specialist_roles(self) -> list[Role]:
        return [r for r in self.roles if r.kind == "specialist"]

    @property
    def locality_roles(self) -> list[Role]:
        return [r for r in self.roles if r.kind == "locality"]


def check_levers(levers, care: Care | None, flows: set, roles: set) -> None:
    """Raise ``ValueError`` naming the lever and key when a lever names a flow, setting or role
    that does not exist, or the levers of one cohort could reach more than all of it."""
    ids = [lv.id for lv in levers]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"lever ids repeated: {dupes}")
    if levers and care is None:
        raise ValueError("levers need a 'care' section (settings and outcomes) to cost what "
                         "they change")
    settings = {s.id for s in care.settings} if care is not None else set()
    reach: dict = {}
    for lv in levers:
        where = f"lever '{lv.id}'"
        unknown_roles = sorted(set(lv.hours_per_person) - roles)
        if unknown_roles:
            raise ValueError(f"{where}: hours_per_person names unknown roles {unknown_roles}")
        if lv.divert is not None:
            for key, flow in (("from", lv.divert.from_flow), ("to", lv.divert.to_flow)):
                if flow not in flows:
                    raise ValueError(f"{where}: divert.{key} '{flow}' is not a flow of the "
                                     f"demand (client groups and pathways: {sorted(flows)})")
            if lv.divert.from_flow == lv.divert.to_flow:
                raise ValueError(f"{where}: divert.from and divert.to are the same flow")
            for level, shares in (lv.outcomes or {}).items():
                bad = sorted(set(shares) - settings)
                if bad:
                    raise ValueError(f"{where}: outcomes.{level} names unknown settings {bad}")
                if sum(shares.values()) > 1 + 1e-9:
                    raise ValueError(f"{where}: outcomes.{level} shares sum above 1")
            cohort = ("flow", lv.divert.from_flow)
        else:
            spec = lv.move if lv.move is not None else lv.resize
            named = ([("move.from", lv.move.from_setting), ("move.to", lv.move.to_setting)]
                     if lv.move is not None else [("resize.setting", lv.resize.setting)])
            for key, setting in named:
                if setting not in settings:
                    raise ValueError(f"{where}: {key} '{setting}' is not a care setting "
                                     f"(settings: {sorted(settings)})")
            bad = sorted(set(spec.flows or ()) - flows)
            if bad:
                raise ValueError(f"{where}: flows {bad} are not flows of the demand")
            if lv.resize is not None and not (0 <= lv.resize.reduction.low
                                              and lv.resize.reduction.high <= 1):
                raise ValueError(f"{where}: resize.reduction must lie within 0..1 of the "
                                 "weekly cost")
            cohort = ("setting", named[0][1], tuple(sorted(spec.flows or ())))
        reach.setdefault(cohort, []).append(lv)
    for cohort, group in reach.items():
        total = sum(lv.share.high for lv in group)
        if len(group) > 1 and total > 1 + 1e-9:
            raise ValueError(f"levers {[lv.id for lv in group]} share one cohort "
                             f"({cohort[0]} '{cohort[1]}') and together could reach "
                             f"{total:.0%} of it at their high shares: at most 100%")


def locality_team_cost_gbp(localities, operating_model: OperatingModel | None) -> float:
    """What one locality team's roles cost a year [GBP/year]: ``fte_per_team`` x the role's
    ``cost_gbp_per_fte`` over ``localities.roles`` (roles the model lacks count nothing; they
    are refused before solving).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> om = NS(roles=[NS(id="lm", cost_gbp_per_fte=80000.0)])
    >>> locality_team_cost_gbp(NS(roles=[NS(role="lm", fte_per_team=0.5)]), om)
    40000.0
    """
    if localities is None or operating_model is None:
        return 0.0
    cost = {r.id: float(r.cost_gbp_per_fte) for r in operating_model.roles}
    return float(sum(float(lr.fte_per_team) * cost[lr.role] for lr in localities.roles
                     if lr.role in cost))


def load_operating_model(path: str | Path) -> OperatingModel:
    """Read and validate an operating model YAML file.

    Raises
    ------
    ScenarioError
        If the file is missing, unparsable or does not match the schema; each problem names the
        file and the key path at fault.
    """
    from .scenario import read_document

    data = read_document(path)
    if not isinstance(data, dict):
        raise ScenarioError([Problem(str(path), None, None,
                                     "an operating model must be a mapping",
                                     "start from models/default.yaml")])
    try:
        model = OperatingModel.model_validate(data)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            loc = ".".join(str(p) for p in e["loc"])
            msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
            problems.append(Problem(str(path), None, loc or None, msg,
                                    "see models/default.yaml for the expected form"))
        raise ScenarioError(problems) from None
    return model.model_copy(update={"source": str(path)})
