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
from .scenario import Workstream  # one schema for a workstream, in a scenario or a model

NonNeg = Annotated[float, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class OperatingModel(_Strict):
    name: str
    description: str | None = None
    age_bands: list[str]
    roles: list[Role]
    pools: Pools = Field(default_factory=Pools)
    demand: Demand
    rules: Rules = Field(default_factory=Rules)
    workstreams: list[Workstream] = Field(default_factory=list)
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
