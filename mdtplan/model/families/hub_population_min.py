r"""An open hub serves at least the band's minimum population.

.. math:: \sum_{a} w_a\, assign_{a,s} \ge pop_{min}\, open\_site_s \quad \forall s

:math:`w_a` is the area's population (weight); :math:`pop_{min}` is the mutable parameter
``hub_population_min`` (scenario ``hubs.population.min``).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from ._served import describe_band, served_weight, served_weight_rows
from .base import INF, Family

NAME = "hub_population_min"


def add_hub_population_min(m, data, ix) -> None:
    """Declare ``m.hub_population_min`` over ``SITES`` when the band has a minimum."""
    if data.hub_population_min is None or not ix.site_ids:
        return
    lower = m.params.hub_population_min
    assign = list(m.assign.values())

    def _hub_population_min_rule(m, s):
        return served_weight(assign, ix, s, -lower, m.open_site[s]) >= 0.0

    m.hub_population_min = pyo.Constraint(m.SITES, rule=_hub_population_min_rule)


def hub_population_min_rows(cols, R) -> None:
    if cols.data.hub_population_min is None or not cols.n_site:
        return
    served_weight_rows(cols, R, NAME, np.ones(cols.n_site, dtype=bool),
                       np.full(cols.n_site, -float(cols.params["hub_population_min"])),
                       0.0, INF)


FAMILY = Family(NAME, "hub population minimum", add_hub_population_min,
                hub_population_min_rows, params=("hub_population_min",),
                defaults=lambda data: {"hub_population_min": data.hub_population_min},
                slack_unit=1_000.0, explain_rank=1, describe=describe_band("min"),
                baseline_rank=0)
