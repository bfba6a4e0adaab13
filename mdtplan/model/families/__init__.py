"""The rule families of the model, one module each, in build order.

Each module holds one family whole (:class:`~mdtplan.model.families.base.Family`): its Pyomo
rule, the same rows for the direct build, its parameters, its planner-facing name and the words
explanations and baseline breaches use, with the formula in the module docstring.
:func:`mdtplan.model.build.build_model`, :func:`mdtplan.model.matrix.build_matrix`,
:mod:`mdtplan.explain`, the baseline's breach report and a session's in-place edits all read
:func:`registry`, so a new family is one new module and one line in :data:`FAMILIES`.

The order is the build order: rows (and so the problem HiGHS gets) come family by family in it.
"""

from __future__ import annotations

from . import (
    agency_share_max,
    area_served_once,
    assign_only_open,
    budget_cap,
    catchment_contiguous,
    catchment_flow_capacity,
    catchment_reach,
    core_demand_covered,
    core_minimum_fte,
    hub_count_max,
    hub_count_min,
    hub_population_max,
    hub_population_min,
    hub_separation,
    hub_serves_own_area,
    hub_shortfall_spread,
    lever_reach,
    max_travel_bound,
    pool_demand_covered,
    shortfall_level,
    site_capacity,
    site_capacity_fte,
    staff_only_at_open_hubs,
    supervision_ratio,
    workforce_supply,
)
from .base import Family

#: every rule family, in build order
FAMILIES: tuple[Family, ...] = (
    area_served_once.FAMILY,
    assign_only_open.FAMILY,
    hub_serves_own_area.FAMILY,
    hub_separation.FAMILY,
    catchment_contiguous.FAMILY,
    catchment_flow_capacity.FAMILY,
    catchment_reach.FAMILY,
    hub_population_min.FAMILY,
    hub_population_max.FAMILY,
    site_capacity.FAMILY,
    hub_count_min.FAMILY,
    hub_count_max.FAMILY,
    staff_only_at_open_hubs.FAMILY,
    site_capacity_fte.FAMILY,
    lever_reach.FAMILY,
    core_minimum_fte.FAMILY,
    core_demand_covered.FAMILY,
    pool_demand_covered.FAMILY,
    shortfall_level.FAMILY,
    hub_shortfall_spread.FAMILY,
    agency_share_max.FAMILY,
    supervision_ratio.FAMILY,
    budget_cap.FAMILY,
    workforce_supply.FAMILY,
    max_travel_bound.FAMILY,
)


def registry() -> tuple[Family, ...]:
    """The registered families, in build order (read at call time, so one may be added)."""
    return FAMILIES


def family(name: str) -> Family:
    """The registered family called ``name``; ``KeyError`` if there is none."""
    for f in registry():
        if f.name == name:
            return f
    raise KeyError(name)


def param_dependents() -> dict[str, tuple[str, ...]]:
    """Mutable parameter -> the families whose rows read it, in build order (with the
    objective's ``stage_optimum_bound``, which enters ``stage_optimum_held``)."""
    out: dict[str, list[str]] = {}
    for f in registry():
        for p in f.params:
            out.setdefault(p, []).append(f.name)
    out["stage_optimum_bound"] = ["stage_optimum_held"]
    return {p: tuple(names) for p, names in out.items()}


def param_defaults(data) -> dict:
    """The scalar mutable parameters a freshly built model starts from, by their one name:
    ``demand_scale`` (1, shared by the demand rows) and those the registered families own
    (their ``defaults``)."""
    out = {"demand_scale": 1.0}
    for f in registry():
        if f.defaults is not None:
            out.update(f.defaults(data))
    return out


def relaxable() -> list[Family]:
    """The families an explanation of infeasibility may relax, in the order it tries them."""
    return sorted((f for f in registry() if f.slack_unit is not None),
                  key=lambda f: f.explain_rank)


def design_rules() -> list[Family]:
    """The families today's configuration is checked against, in the order breaches are listed."""
    return sorted((f for f in registry() if f.baseline_rank is not None),
                  key=lambda f: f.baseline_rank)


__all__ = ["FAMILIES", "Family", "design_rules", "family", "param_defaults", "param_dependents",
           "registry", "relaxable"]
