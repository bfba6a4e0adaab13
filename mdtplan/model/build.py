"""Build the Pyomo model of record from :class:`~mdtplan.model.data.ModelData`.

:func:`build_model` reads like a table of contents: cheap feasibility checks, the index (the
allowed pairs grouped once), sets, parameters, variables, then one call per constraint family and
the objective. The constraints come from the registered rule families
(:mod:`mdtplan.model.families`), one module each, in build order. Nothing here reads a file or
calls a solver.

Decisions
---------
=============================== ======================================================================
``open_site[s]``                binary; required sites have bounds (1, 1); excluded sites are not in
                                ``SITES``
``assign[a, s]``                over the allowed ``PAIRS`` only; binary (``single``) or in [0, 1]
                                (``split``)
``fte_steps[u, r]``             integer >= 0 over ``STAFF``: (hub, core role) and (pool, specialist
                                role); ``fte[u, r] = fte_step_r * fte_steps[u, r]`` [FTE] (an
                                Expression)
``agency_fte[u, r]``            >= 0 [FTE], the agency part of ``fte`` (bounds (0, 0) when
                                ``max_agency_share`` is 0)
``unmet_hours[u, r]``           >= 0 [hours/year]; bounds (0, 0) unless the objective is
                                ``max_demand_met``
``max_travel_cost``             only for ``min_max_travel`` [travel unit]
=============================== ======================================================================

Mutable parameters, in the block ``m.params`` (a re-solve may change them in place, see
:class:`mdtplan.solve.Session`), each named as the :class:`ModelData` field it starts from:
``budget_cap_gbp``, ``hub_count_min``, ``hub_count_max``, ``hub_population_min``,
``hub_population_max``, ``demand_scale`` (with ``staff_fte_max``, which follows it) and
``stage_optimum_bound``. :func:`mdtplan.model.families.param_dependents` says which constraints
each one enters.
"""

from __future__ import annotations

from time import perf_counter

import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from . import families
from .checks import check_data
from .data import ModelData
from .families.staff_only_at_open_hubs import staff_fte_max_values
from .index import ModelIndex, index_data
from .objective import add_objective


def design_rules() -> tuple[str, ...]:
    """Constraint names of the rules of a new design that today's configuration (the baseline)
    is evaluated against rather than held to, in the order breaches are reported (the
    registered families with a ``baseline_rank``)."""
    return tuple(f.name for f in families.design_rules())


# --------------------------------------------------------------------------------------------
# The model


def _add_sets(m, data: ModelData, ix: ModelIndex) -> None:
    m.AREAS = pyo.Set(initialize=ix.area_ids, ordered=True)
    m.SITES = pyo.Set(initialize=ix.site_ids, ordered=True)
    m.PAIRS = pyo.Set(initialize=ix.pairs, dimen=2, ordered=True)
    m.ROLES = pyo.Set(initialize=ix.roles, ordered=True)
    m.CORE_ROLES = pyo.Set(initialize=ix.core_roles, ordered=True)
    m.SPECIALIST_ROLES = pyo.Set(initialize=ix.specialist_roles, ordered=True)
    m.POOLS = pyo.Set(initialize=ix.pools, ordered=True)
    m.STAFF = pyo.Set(initialize=ix.staff, dimen=2, ordered=True)


def _add_params(m, data: ModelData) -> None:
    """The mutable parameters, in the block ``m.params`` (so a parameter keeps its one name,
    the :class:`ModelData` field's, beside the constraint named after the rule)."""
    m.params = pyo.Block()
    for name, value in families.param_defaults(data).items():
        m.params.add_component(name, pyo.Param(mutable=True, within=pyo.Any, initialize=value))


def _add_variables(m, data: ModelData, ix: ModelIndex) -> None:
    status = data.sites["status"].astype(str)

    def _open_site_bounds(m, s):
        return (1, 1) if status[s] == "required" else (0, 1)

    m.open_site = pyo.Var(m.SITES, domain=pyo.Binary, bounds=_open_site_bounds)
    m.assign = pyo.Var(m.PAIRS, domain=pyo.Binary if data.assignment == "single"
                       else pyo.UnitInterval)
    roles = data.roles
    step = roles["fte_step"].astype(float).to_dict() if len(roles) else {}
    share = roles["max_agency_share"].astype(float).to_dict() if len(roles) else {}
    unmet_free = data.objective == "max_demand_met"

    m.fte_steps = pyo.Var(m.STAFF, domain=pyo.NonNegativeIntegers,
                          doc="staff in units of the role's fte_step")

    def _fte_rule(m, u, r):
        return step[r] * m.fte_steps[u, r]

    m.fte = pyo.Expression(m.STAFF, rule=_fte_rule, doc="[FTE]")

    def _agency_bounds(m, u, r):
        return (0, 0) if share[r] <= 0 else (0, None)

    m.agency_fte = pyo.Var(m.STAFF, domain=pyo.NonNegativeReals, bounds=_agency_bounds,
                           doc="[FTE], the agency part of fte")
    m.unmet_hours = pyo.Var(m.STAFF, domain=pyo.NonNegativeReals,
                            bounds=(0, None) if unmet_free else (0, 0), doc="[hours/year]")


def build_model(data: ModelData, *, check: bool = True) -> pyo.ConcreteModel:
    """Build the Pyomo model of record for ``data``.

    Parameters
    ----------
    data : ModelData
    check : bool
        Run :func:`check_data` first (cheap; raises before any model is built).

    Returns
    -------
    pyomo.environ.ConcreteModel
        With ``m.mdtplan_index`` (the :class:`ModelIndex`), ``m.mdtplan_data`` (``data``) and
        ``m.mdtplan_build_seconds`` attached, which :mod:`mdtplan.solve` uses.

    Raises
    ------
    ModelError, InfeasibleError
        From :func:`check_data`.
    """
    t0 = perf_counter()
    ix = index_data(data)
    if check:
        check_data(data, ix)
    with PauseGC():  # the build makes many small objects; collecting them mid-way is wasted
        m = _build(data, ix)
    m.mdtplan_build_seconds = perf_counter() - t0
    return m


def _build(data: ModelData, ix: ModelIndex) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name=data.name)
    m.mdtplan_index = ix
    m.mdtplan_data = data
    _add_sets(m, data, ix)
    _add_params(m, data)
    _add_variables(m, data, ix)
    for family in families.registry():  # each declares its constraint, in build order
        family.add(m, data, ix)
    add_objective(m, data, ix)
    return m


def set_demand_scale(m, scale: float) -> None:
    """Scale every demand hour by ``scale`` in place, with the staffing big-M that follows it.

    Change only the Pyomo parameters; a :class:`mdtplan.solve.Session` pushes them to HiGHS
    (``session.set_param("demand_scale", scale)`` calls this).
    """
    m.params.demand_scale.set_value(float(scale))
    fte_max = m.params.component("staff_fte_max")
    if fte_max is not None:
        values = staff_fte_max_values(m.mdtplan_data, m.mdtplan_index, float(scale))
        for key, v in values.items():
            if key in fte_max:
                fte_max[key].set_value(v)
