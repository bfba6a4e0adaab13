r"""An open hub serves at most the band's maximum population.

.. math:: \sum_{a} w_a\, assign_{a,s} \le pop_{max}\, open\_site_s \quad \forall s

:math:`pop_{max}` is the mutable parameter ``hub_population_max`` (scenario
``hubs.population.max``).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from ._served import describe_band, served_weight, served_weight_rows
from .base import INF, Family

NAME = "hub_population_max"


def add_hub_population_max(m, data, ix) -> None:
    """Declare ``m.hub_population_max`` over ``SITES`` when the band has a maximum."""
    if data.hub_population_max is None or not ix.site_ids:
        return
    upper = m.params.hub_population_max
    assign = list(m.assign.values())

    def _hub_population_max_rule(m, s):
        return served_weight(assign, ix, s, -upper, m.open_site[s]) <= 0.0

    m.hub_population_max = pyo.Constraint(m.SITES, rule=_hub_population_max_rule)


def hub_population_max_rows(cols, R) -> None:
    if cols.data.hub_population_max is None or not cols.n_site:
        return
    served_weight_rows(cols, R, NAME, np.ones(cols.n_site, dtype=bool),
                       np.full(cols.n_site, -float(cols.params["hub_population_max"])),
                       -INF, 0.0)


FAMILY = Family(NAME, "hub population maximum", add_hub_population_max,
                hub_population_max_rows, params=("hub_population_max",),
                defaults=lambda data: {"hub_population_max": data.hub_population_max},
                slack_unit=1_000.0, explain_rank=2, describe=describe_band("max"),
                baseline_rank=1)
