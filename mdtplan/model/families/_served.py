"""Served population per hub, shared by the population band and site capacity families."""

from __future__ import annotations

import numpy as np
from pyomo.core.expr.numeric_expr import LinearExpression


def served_weight(assign, ix, s, extra_coef, extra_var):
    """``sum_a w_a assign[a,s] + extra_coef * extra_var`` as one linear expression.

    ``assign`` is the list of ``m.assign`` in PAIRS order (positions match the index).
    """
    ks = ix.pairs_by_site.get(s, np.zeros(0, dtype=int))
    w = ix.weight[ix.pair_area[ks]]
    coefs = [float(x) for x in w] + [extra_coef]
    return LinearExpression(constant=0.0, linear_coefs=coefs,
                            linear_vars=[assign[k] for k in ks] + [extra_var])


def served_weight_rows(cols, R, name, sites_mask, open_coef, lower, upper) -> None:
    """Rows ``sum_a w_a assign[a,s] + open_coef_s open_site[s]`` for the sites in the mask."""
    ix = cols.ix
    n_site = cols.n_site
    pos = np.full(n_site, -1, dtype=np.int64)
    pos[sites_mask] = np.arange(int(sites_mask.sum()))
    pk = pos[ix.pair_site]
    keep = pk >= 0
    n = int(sites_mask.sum())
    weight = ix.weight[ix.pair_area] if cols.n_pair else np.zeros(0)
    R.add(name, n, np.concatenate([pk[keep], np.arange(n)]),
          np.concatenate([cols.assign_cols[keep], cols.open_cols(sites_mask)]),
          np.concatenate([weight[keep], open_coef]), lower, upper,
          [s for s, m in zip(ix.site_ids, sites_mask.tolist(), strict=True) if m])


def describe_band(side: str):
    """The explanation of a population band bound that cannot hold (``side``: min or max)."""
    low = side == "min"

    def describe(amount, idx, approx, where, data):
        worst = max(idx.values()) if idx else 0.0
        bound = data.hub_population_min if low else data.hub_population_max
        new = (bound - worst) if low else (bound + worst)
        words = "below the minimum" if low else "above the maximum"
        return (where, f"hubs.population.{side}",
                f"{len(idx)} hub(s) cannot avoid serving {words} population {bound:,.0f} "
                f"(by up to {approx}{worst:,.0f} people) while meeting the other rules",
                f"set hubs.population.{side} to {new:,.0f}, or allow more sites within reach")

    return describe
