r"""At most the maximum number of hubs open.

.. math:: \sum_s open\_site_s \le count_{max}

With ``hubs.count.exactly: p`` both this and ``hub_count_min`` hold p (the p-median).
:math:`count_{max}` is the mutable parameter ``hub_count_max``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from ._count import count_row, describe_count, open_hubs
from .base import INF, Family

NAME = "hub_count_max"


def add_hub_count_max(m, data, ix) -> None:
    """Declare ``m.hub_count_max`` (one row) when a maximum is set."""
    if data.hub_count_max is None or not len(m.SITES):
        return
    m.hub_count_max = pyo.Constraint(expr=open_hubs(m) <= m.params.hub_count_max)


def hub_count_max_rows(cols, R) -> None:
    if cols.data.hub_count_max is not None and cols.n_site:
        count_row(cols, R, NAME, -INF, float(cols.params["hub_count_max"]))


FAMILY = Family(NAME, "maximum number of hubs", add_hub_count_max, hub_count_max_rows,
                params=("hub_count_max",),
                defaults=lambda data: {"hub_count_max": data.hub_count_max}, slack_unit=1.0, explain_rank=5,
                describe=describe_count("max"), baseline_rank=3)
