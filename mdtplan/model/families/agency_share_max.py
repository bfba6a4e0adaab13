r"""Agency staff are part of the unit's FTE, at most the role's share of it.

.. math:: agency\_fte_{u,r} \le share_r\, fte_{u,r} \quad \forall (u,r) \in STAFF: share_r > 0

(With ``max_agency_share`` 0 the variable's bounds are (0, 0) instead.)
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .base import INF, Family

NAME = "agency_share_max"


def add_agency_share_max(m, data, ix) -> None:
    """Declare ``m.agency_share_max`` over the staff whose role allows agency."""
    if not ix.staff:
        return
    share = data.roles["max_agency_share"].astype(float).to_dict()
    step = data.roles["fte_step"].astype(float).to_dict()
    index = [(u, r) for u, r in ix.staff if share[r] > 0]
    if not index:
        return

    def _agency_share_max_rule(m, u, r):
        return LinearExpression(constant=0.0, linear_coefs=[1.0, -share[r] * step[r]],
                                linear_vars=[m.agency_fte[u, r], m.fte_steps[u, r]]) <= 0.0

    m.agency_share_max = pyo.Constraint(index, rule=_agency_share_max_rule)


def agency_share_max_rows(cols, R) -> None:
    has = cols.share_s > 0
    if not cols.n_staff or not has.any():
        return
    n = int(has.sum())
    rr = np.arange(n)
    st = np.flatnonzero(has)
    R.add(NAME, n, np.concatenate([rr, rr]),
          np.concatenate([cols.offset["agency_fte"] + st, cols.offset["fte_steps"] + st]),
          np.concatenate([np.ones(n), -cols.share_s[st] * cols.step_s[st]]), -INF, 0.0,
          [cols.ix.staff[i] for i in st.tolist()])


FAMILY = Family(NAME, "agency share limit", add_agency_share_max, agency_share_max_rows,
                slack_unit=1.0, explain_rank=10, baseline_rank=8)
