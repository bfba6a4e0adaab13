r"""At least the minimum number of hubs open.

.. math:: \sum_s open\_site_s \ge count_{min}

Built when ``hubs.count.min`` > 0; :math:`count_{min}` is the mutable parameter
``hub_count_min``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from ._count import count_row, describe_count, open_hubs
from .base import INF, Family

NAME = "hub_count_min"


def add_hub_count_min(m, data, ix) -> None:
    """Declare ``m.hub_count_min`` (one row) when a minimum is set."""
    if not data.hub_count_min or not len(m.SITES):
        return
    m.hub_count_min = pyo.Constraint(expr=open_hubs(m) >= m.params.hub_count_min)


def hub_count_min_rows(cols, R) -> None:
    if cols.data.hub_count_min and cols.n_site:
        count_row(cols, R, NAME, float(cols.params["hub_count_min"]), INF)


FAMILY = Family(NAME, "minimum number of hubs", add_hub_count_min, hub_count_min_rows,
                params=("hub_count_min",),
                defaults=lambda data: {"hub_count_min": int(data.hub_count_min or 0)}, slack_unit=1.0, explain_rank=4,
                describe=describe_count("min"), baseline_rank=2)
