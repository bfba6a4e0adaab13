"""A complete MIP start: a heuristic plan with every variable of the model set.

HiGHS takes a MIP start as its first incumbent only when the start is feasible. A start that
sets some variables only is *completed* by a sub-MIP over the rest (up to
``mip_max_start_nodes`` nodes): on Kent's 902 LSOAs that sub-MIP ran for 47 s and found
nothing, and the plan HiGHS then found on its own cost 4.5 times the one built here. So the
start built here sets every variable:

1. **Hubs** (:mod:`.hubs`): required sites, then greedy adding by the travel (or cost)
   saved, improved by one-out-one-in swaps (Teitz and Bart's vertex substitution); the count
   is the fewest the band allows (or, with priced travel, as many as pay for themselves).
2. **Assignment** (:func:`.hubs._assign_within_room`): each area to the nearest open hub with room,
   then hubs below the band minimum take areas from hubs that can spare them.
3. **Local search** (:mod:`.moves`): areas are moved (one at a time, or two swapped between
   hubs) while the plan gets better on the objective's own terms: first the band and capacity
   shortfalls (so a packing the greedy step could not find is repaired), then the first
   stage's quantity computed exactly (each hub's staff rounded up to FTE steps, minimums and
   supervision included), then the next stage's. Several hub counts are tried, each within
   the time allowed; the best plan is kept and improved by iterated local search (random
   kicks of a few areas, :func:`.search._perturb`); a last search without the potential lets the
   next stage (travel) decide between plans of equal cost.
4. **Staffing** (:mod:`.staffing`): each unit's FTE steps rounded up from its assigned demand,
   at least the role's minimum, supervisors raised until every supervision ratio holds;
   agency only where a supply limit binds (within the agency share); unmet hours 0, or, for
   ``max_demand_met`` under a budget cap or supply limits, the steps that cost most per
   hour of demand met are cut until the plan keeps them (:func:`.staffing._fit_limits`);
   ``max_travel_cost`` is the longest trip.

The start is only a start: it never changes the optimum, only the time to reach it.
:class:`mdtplan.solve.Session` checks it against every compiled row before handing it to
HiGHS, and gives only the hubs and assignment when it is not feasible.

The model is read once, into arrays (:mod:`.instance`); :mod:`.search` drives the rest;
:mod:`.values` turns a plan into values of a built Pyomo model's variables
(:func:`greedy_start`).

Nothing here reads files, prints or calls a solver.
"""

from .instance import StartInput
from .moves import swap_pairs
from .search import StartPlan, build_start
from .staffing import unit_cost, unit_steps
from .values import greedy_start, start_values

__all__ = ["StartInput", "StartPlan", "build_start", "greedy_start", "start_values", "swap_pairs", "unit_cost",
           "unit_steps"]
