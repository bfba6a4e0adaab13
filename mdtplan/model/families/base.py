"""What a rule family is, and what the direct build hands each family to write its rows.

A rule family is one :class:`Family`: a Pyomo rule (``add``) that declares the constraint
component on the model of record, the same rows as arrays for the direct build (``rows``), the
mutable parameters its rows read, and the words a planner reads about it (its label, how it is
relaxed in an explanation and checked against today's configuration). The registry
(:mod:`mdtplan.model.families`) lists the families in build order.

The direct build (:func:`mdtplan.model.matrix.build_matrix`) gives every family's ``rows`` the
same :class:`Columns` (where each variable component's columns start, and the per-staff arrays)
and one :class:`Rows` collector; the family adds its rows as COO triplets, in the order the Pyomo
rule declares them, so that ``tests/model/test_matrix.py`` can prove both builds the same problem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..data import ModelData
    from ..index import ModelIndex

INF = float("inf")

#: variable components, in the order :func:`mdtplan.model.build.build_model` declares them
VAR_FAMILIES = ("open_site", "assign", "fte_steps", "agency_fte", "unmet_hours",
                "max_travel_cost", "contiguity_flow", "shortfall_bits", "hub_core_demand",
                "hub_level_hours", "lever_people")


@dataclass(frozen=True)
class Family:
    """One rule family, whole.

    Attributes
    ----------
    name : str
        The constraint component on the Pyomo model (``m.<name>``), also the row family of the
        direct build and the ``rule`` named in baseline breaches.
    label : str
        The planner's name for the rule ("budget cap").
    add : callable
        ``add(m, data, ix)``: declares ``m.<name>`` on the Pyomo model (or nothing when the
        scenario does not ask for the rule).
    rows : callable
        ``rows(cols, R)``: adds the same rows to the direct build's collector ``R``
        (:class:`Rows`), given the :class:`Columns` of the build.
    params : tuple of str
        The mutable parameters its rows read; a :class:`mdtplan.solve.Session` refreshes these
        rows when one changes in place. A parameter has one name everywhere: the
        :class:`~mdtplan.model.data.ModelData` field it starts from, the Pyomo ``Param`` in the
        model's ``params`` block, the direct build's ``params`` key and ``Session.set_param``.
    defaults : callable, optional
        ``defaults(data) -> {name: value}``: the parameters the family owns, with the values a
        freshly built model starts from (declared in ``m.params`` by the build).
    slack_unit : float or None
        The natural unit of its slack [rule's unit], used to weigh families relaxed together in
        an explanation of infeasibility. ``None``: never relaxed (a rule of the model's
        structure, such as every area served once).
    explain_rank : int
        Order in which explanations try the relaxable families (lower first).
    describe : callable, optional
        ``describe(amount, by_index, approx, where, data) -> (row, column, message, hint)``: the
        explanation when relaxing this family (alone, or with others) makes a plan possible.
        ``amount`` is the total slack, ``by_index`` the slack per row key, ``approx`` "about "
        when the elastic solve was not proven, ``where`` the first row keys as text (the
        ``row`` to name, when naming rows helps). Without
        one, the generic wording "the <label> rule must give way by ..." is used.
    baseline_rank : int or None
        When set, the family is a design rule that today's configuration (the baseline) is
        checked against and reported as breached, in this order; ``None``: not checked.
    """

    name: str
    label: str
    add: Callable
    rows: Callable
    params: tuple[str, ...] = ()
    defaults: Callable | None = None
    slack_unit: float | None = None
    explain_rank: int = 0
    describe: Callable | None = None
    baseline_rank: int | None = None


def gbp(x: float) -> str:
    """Money as planners read it: ``£48.0m`` from a million up, else ``£1,234``."""
    return f"£{x / 1e6:,.1f}m" if abs(x) >= 1e6 else f"£{x:,.0f}"


class Rows:
    """Row families of the direct build, collected as COO triplets (local row, column, value).

    Attributes
    ----------
    families : list of tuple
        ``(name, n_members, rows, cols, vals, lower, upper)`` in the order added; entries with a
        zero value are dropped at once.
    keys : dict
        Component name -> its index keys in order.
    """

    def __init__(self):
        self.families: list = []
        self.keys: dict = {}

    def add(self, name, n_members, rows, cols, vals, lower, upper, keys) -> None:
        """Add family ``name``: ``n_members`` rows ``lower <= sum vals x cols <= upper``."""
        self.keys[name] = keys
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int32)
        vals = np.asarray(vals, dtype=float)
        nz = vals != 0
        self.families.append((name, int(n_members), rows[nz], cols[nz], vals[nz],
                              np.broadcast_to(np.asarray(lower, float), (n_members,)),
                              np.broadcast_to(np.asarray(upper, float), (n_members,))))


@dataclass
class Columns:
    """The direct build's columns before reordering, and the arrays families share.

    Columns are laid out component by component in :data:`VAR_FAMILIES` order; ``offset[name]``
    is where a component's first column is, and its members follow in index order. Staff
    positions (``STAFF``) are site-major, core role minor, then pool-major, specialist minor.

    Attributes
    ----------
    data : ModelData
    ix : ModelIndex
    params : dict
        The mutable parameters' values (:func:`mdtplan.model.matrix.default_params` keys).
    stages : list of str
        The objective's lexicographic stages.
    offset, sizes : dict
        First column and number of columns of each variable component.
    step_s, share_s, cost_s, prem_s : ndarray
        Per staff position: FTE step [FTE], agency share, cost [GBP/FTE/yr], agency premium.
    """

    data: ModelData
    ix: ModelIndex
    params: dict
    stages: list
    offset: dict
    sizes: dict
    step_s: np.ndarray
    share_s: np.ndarray
    cost_s: np.ndarray
    prem_s: np.ndarray
    role: dict = field(default_factory=dict)

    @property
    def n_site(self) -> int:
        return len(self.ix.site_ids)

    @property
    def n_pair(self) -> int:
        return len(self.ix.pairs)

    @property
    def n_staff(self) -> int:
        return len(self.ix.staff)

    @property
    def n_core_staff(self) -> int:
        """Staff positions of hubs (core roles), which come first."""
        return self.n_site * len(self.ix.core_roles)

    @property
    def assign_cols(self) -> np.ndarray:
        return self.offset["assign"] + np.arange(self.n_pair)

    def open_cols(self, sites=None) -> np.ndarray:
        """Columns of ``open_site`` (all sites, or the positions/mask ``sites``)."""
        base = self.offset["open_site"] + np.arange(self.n_site)
        return base if sites is None else base[sites]

    def role_values(self, column: str) -> dict:
        """``data.roles[column]`` as a role -> float dict (cached)."""
        if column not in self.role:
            roles = self.data.roles
            self.role[column] = roles[column].astype(float).to_dict() if len(roles) else {}
        return self.role[column]

    def core_staff(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Hubs' staff positions: their ``fte_steps`` columns, site and core-role positions,
        and each core role's FTE step [FTE]."""
        core = self.ix.core_roles
        step = self.role_values("fte_step")
        core_step = np.array([step[r] for r in core], dtype=float)
        fte = self.offset["fte_steps"] + np.arange(self.n_core_staff)
        return (fte, np.repeat(np.arange(self.n_site), len(core)),
                np.tile(np.arange(len(core)), self.n_site), core_step)

    def served_pairs(self) -> tuple[list, np.ndarray]:
        """The areas with an allowed pair, and each pair's row among them."""
        ix = self.ix
        areas = [a for a in ix.area_ids if a in ix.pairs_by_area]
        area_pos = {a: i for i, a in enumerate(ix.area_ids)}
        served_pos = np.full(len(ix.area_ids), -1, dtype=np.int64)
        served_pos[[area_pos[a] for a in areas]] = np.arange(len(areas))
        return areas, served_pos[ix.pair_area]
