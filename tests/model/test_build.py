"""index_data and check_data (mdtplan.model.build): the shortcuts they take give what the
long way gives."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from mdtplan.errors import InfeasibleError, ModelError
from mdtplan.model.checks import check_data
from mdtplan.model.index import index_data

from . import random_data, tiny_data


@pytest.mark.parametrize("dtype", ["string", "str", object])
def test_pair_pools_are_strings_or_none_whatever_the_column_type(dtype):
    data = tiny_data()
    pool = pd.Series(["all", None, "east", np.nan, "all", "west"], dtype=object)
    ix = index_data(replace(data, pairs=data.pairs.assign(pool=pool.astype(dtype))))
    assert ix.pair_pool.dtype == object
    assert ix.pair_pool.tolist() == ["all", None, "east", None, "all", "west"]


def _broken(data, rng, how):
    if how == "unknown area":
        pairs = data.pairs.copy()
        pairs.loc[int(rng.integers(len(pairs))), "area_id"] = "nowhere"
        return replace(data, pairs=pairs)
    if how == "unknown site":
        pairs = data.pairs.copy()
        pairs.loc[int(rng.integers(len(pairs))), "site_id"] = "no-site"
        return replace(data, pairs=pairs)
    if how == "excluded site in a pair":
        sites = data.sites.copy()
        sites.iloc[0, sites.columns.get_loc("status")] = "excluded"
        return replace(data, sites=sites)
    if how == "too little room":
        return replace(data, hub_population_max=1_000.0)
    return data


def _outcome(data, ix):
    try:
        check_data(data, ix)
    except (ModelError, InfeasibleError) as err:
        return type(err).__name__, str(err)
    return None


@pytest.mark.parametrize("how", ["fine", "unknown area", "unknown site",
                                 "excluded site in a pair", "too little room"])
@pytest.mark.parametrize("seed", range(4))
def test_checks_with_the_index_given_find_what_they_find_without(seed, how):
    rng = np.random.default_rng(seed)
    data = random_data(rng, n_areas=int(rng.integers(3, 15)), n_sites=int(rng.integers(2, 6)),
                       n_roles=int(rng.integers(0, 3)), objective="min_cost",
                       assignment="single", band=False, budget=False, count=True,
                       capacity=bool(seed % 2), supply=False, reach=None)
    data = _broken(data, rng, how)
    assert _outcome(data, index_data(data)) == _outcome(data, None)
