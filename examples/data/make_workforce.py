"""Write today's workforce of each council example (``examples/data/<council>_workforce.csv``).

Run from the repository root: ``python examples/data/make_workforce.py``. It reads the council
examples' areas and candidate sites (the shared data, as the examples name them) and writes one
CSV per council: today's staff by site (or specialist pool), role and contract, the table a
scenario's ``workforce`` section reads and ``finance.baseline`` evaluates.

⚠ ESTIMATES. No council's staffing by team was found in public sources. What is estimated
here, and how (examples/data/README.md has the table):

* **Today's sites** are the council's adult social care team bases as far as public pages
  name them (Kent: "23 community teams" in 2025, KCC; Medway: three localities since
  September 2017; York and Leicestershire: council offices), each placed at a town and mapped
  to the nearest candidate site of the example (a GP practice or an MSOA representative
  point). Which towns hold Kent's 23 teams is ⚠ an assumption (the district towns, two or three
  in the larger districts).
* **Council totals by role** [FTE], for the council's adults 18+ (mid-2020, as the example):

  - social workers: Skills for Care, LA adult services, Sept 2023: 18,500 social workers incl.
    agency (1,900 agency), 10.5% vacancy (FACTS §3b [S13]); jobs x 0.816 FTE per job
    (92,400 WTE / 113,300 jobs, LA adult social services, Sept 2019, FACTS §3b); per adult of
    England's 45,691,677 (mid-2023, FACTS §2a). The SW-qualified specialists of the operating
    model (safeguarding, mental health, autism) are inside the 18,500, so they are taken off;
  - occupational therapists: 3,200 LA OT filled posts, Sept 2022, 11.3% vacancy (FACTS §3b
    [S14]), x 0.816 FTE per job, per adult of England;
  - roles with no national figure (care navigators, reablement or health and social care
    workers, the pooled specialists): the FTE the operating model's demand needs for the
    council (hours / productive hours; the model is calibrated to the national workforce,
    models/README.md "Calibration"), with the LA sector's 7.2% vacancy rate (FACTS §3a) taken
    off as vacant posts;
  - team managers: one per 8 practitioners (the operating models' supervision rule), ⚠.

* **Split across today's sites** by the adults living nearest each site (straight line,
  EPSG:27700); specialists sit in their pool (Kent: East and West; elsewhere the single pool
  ``all``), by the pool's share of the specialists' demand.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]

#: England adults 18+, mid-2023 (FACTS §2a)
ENGLAND_ADULTS = 45_691_677
#: LA adult social services: WTE per job (92,400 / 113,300, Sept 2019; FACTS §3b)
FTE_PER_JOB = 92_400 / 113_300
#: social workers in LA adult services incl. agency, agency, vacancy (Sept 2023; FACTS §3b)
SW_JOBS, SW_AGENCY_JOBS, SW_VACANCY = 18_500, 1_900, 0.105
#: LA occupational therapists (filled posts) and vacancy (Sept 2022; FACTS §3b)
OT_JOBS, OT_VACANCY = 3_200, 0.113
#: LA sector vacancy rate, all roles (2023/24; FACTS §3a)
LA_VACANCY = 0.072
#: SW-qualified specialist roles, counted inside the 18,500 social workers
SW_QUALIFIED_SPECIALISTS = ("safeguarding", "mental_health", "autism")
#: one team manager per this many practitioners (the operating models' supervision rule)
SUPERVISION_RATIO = 8
SUPERVISED = ("social_worker", "occupational_therapist", "care_navigator")

# Today's team bases: (name, lon, lat), towns placed at their centres (≈0.01°).
TODAY = {
    # KCC: "4 area based Adult Social Care Connect teams ... and 23 community teams situated
    # directly in local communities" (news.kent.gov.uk, "KCC urges government to act on adult
    # social care funding crisis", 2025). The towns are ⚠ an assumption: the 12 districts'
    # towns, two or three teams in the larger or more spread-out districts.
    "kent": [
        ("Ashford", 0.875, 51.146), ("Tenterden", 0.687, 51.069),
        ("Canterbury", 1.080, 51.280), ("Herne Bay", 1.128, 51.373),
        ("Whitstable", 1.025, 51.361), ("Dartford", 0.217, 51.446),
        ("Dover", 1.313, 51.126), ("Deal", 1.402, 51.223),
        ("Folkestone", 1.166, 51.081), ("New Romney", 0.941, 50.985),
        ("Gravesend", 0.370, 51.441), ("Maidstone", 0.522, 51.272),
        ("Sevenoaks", 0.190, 51.272), ("Swanley", 0.173, 51.397),
        ("Sittingbourne", 0.731, 51.341), ("Faversham", 0.889, 51.315),
        ("Sheerness", 0.763, 51.440), ("Margate", 1.386, 51.386),
        ("Ramsgate", 1.416, 51.336), ("Tonbridge", 0.275, 51.195),
        ("West Malling", 0.409, 51.293), ("Tunbridge Wells", 0.263, 51.132),
        ("Cranbrook", 0.535, 51.097),
    ],
    # Medway: adult social care in three localities since September 2017
    # (models/medway-three-conversations.yaml); bases ⚠ assumed at Strood, Chatham (Gun Wharf,
    # the council's offices) and Rainham.
    "medway": [("Strood", 0.497, 51.393), ("Chatham", 0.524, 51.386),
               ("Rainham", 0.609, 51.362)],
    # Leicestershire: County Hall, Glenfield (the council's offices, in Blaby district) and
    # ⚠ one locality base in each other district's main town.
    "leicestershire": [
        ("County Hall, Glenfield", -1.193, 52.648), ("Loughborough", -1.206, 52.772),
        ("Market Harborough", -0.921, 52.478), ("Hinckley", -1.373, 52.538),
        ("Melton Mowbray", -0.886, 52.766), ("Coalville", -1.370, 52.722),
        ("Wigston", -1.104, 52.583),
    ],
    # York: West Offices, Station Rise (the council's offices); ⚠ the locality teams' own bases
    # were not found, so all of today's staff are placed there.
    "york": [("West Offices", -1.093, 53.957)],
}


#: the ``source`` column: where each row's number comes from (examples/data/README.md)
SOURCE = {
    "social_worker": "estimate ⚠ Skills for Care LA adult SWs Sept 2023 per adult",
    "occupational_therapist": "estimate ⚠ Skills for Care LA OTs Sept 2022 per adult",
    "team_manager": "estimate ⚠ 1 per 8 practitioners (supervision rule)",
}


def _source(role: str) -> str:
    return SOURCE.get(role, "estimate ⚠ operating model demand less LA vacancy rate")


def _prepared(name: str):
    from mdtplan.demand import compute_demand
    from mdtplan.inputs import load_inputs
    from mdtplan.scenario import load_scenario

    scenario = load_scenario(REPO / "examples" / f"{name}.yaml",
                             ["workforce=", "finance="])
    inputs = load_inputs(scenario)
    return inputs, compute_demand(inputs.areas, inputs.operating_model)


def _points(towns) -> np.ndarray:
    import geopandas as gpd

    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy([t[1] for t in towns],
                                                          [t[2] for t in towns]),
                             crs="EPSG:4326").to_crs("EPSG:27700")
    return np.column_stack([frame.geometry.x, frame.geometry.y])


def today_sites(name: str, sites) -> pd.DataFrame:
    """Each of today's bases, with the nearest candidate site of the example."""
    towns = TODAY[name]
    xy = _points(towns)
    cand = sites[sites["status"] != "excluded"]
    cxy = cand[["x", "y"]].to_numpy()
    rows = []
    for (town, _, _), (x, y) in zip(towns, xy, strict=True):
        d = np.hypot(cxy[:, 0] - x, cxy[:, 1] - y)
        j = int(np.argmin(d))
        rows.append({"town": town, "site_id": str(cand.index[j]), "km": d[j] / 1000})
    out = pd.DataFrame(rows)
    twice = out[out["site_id"].duplicated(keep=False)]
    if len(twice):
        raise SystemExit(f"{name}: two bases map to one site: {twice.to_dict('records')}")
    return out


def council_totals(name: str, inputs, demand) -> dict[str, tuple[float, float, float]]:
    """Role -> (in post, of which agency, vacant) [FTE] for the whole council."""
    from mdtplan.demand import demand_summary

    om = inputs.operating_model
    adults = float(inputs.areas[list(om.age_bands)].to_numpy().sum())
    share = adults / ENGLAND_ADULTS
    need = demand_summary(demand, om)["fte"]
    roles = {r.id: r for r in om.roles}
    out: dict[str, tuple[float, float, float]] = {}
    for role in om.roles:
        if role.kind not in ("core", "specialist") or role.id in ("team_manager",):
            continue
        if role.id == "social_worker":
            sw_all = SW_JOBS * FTE_PER_JOB * share
            specialists = sum(float(need.get(r, 0.0)) for r in SW_QUALIFIED_SPECIALISTS
                              if r in roles)
            in_post = sw_all - specialists * (1 - LA_VACANCY)
            out[role.id] = (in_post, in_post * SW_AGENCY_JOBS / SW_JOBS,
                            in_post * SW_VACANCY / (1 - SW_VACANCY))
        elif role.id == "occupational_therapist":
            in_post = OT_JOBS * FTE_PER_JOB * share
            out[role.id] = (in_post, 0.0, in_post * OT_VACANCY / (1 - OT_VACANCY))
        else:
            posts = float(need[role.id])
            out[role.id] = (posts * (1 - LA_VACANCY), 0.0, posts * LA_VACANCY)
    return out


def _nearest_site_share(areas, site_xy: np.ndarray, bands) -> np.ndarray:
    """Share of the adults living nearest each site."""
    axy = areas[["x", "y"]].to_numpy()
    d = np.hypot(axy[:, None, 0] - site_xy[None, :, 0], axy[:, None, 1] - site_xy[None, :, 1])
    nearest = d.argmin(axis=1)
    adults = areas[list(bands)].to_numpy().sum(axis=1)
    people = np.bincount(nearest, weights=adults, minlength=len(site_xy))
    return people / people.sum()


def _pool_share(inputs, demand, specialists) -> dict[str, float]:
    """Pool -> its share of the specialists' demand."""
    from mdtplan.assemble import pair_pools

    pairs = pd.DataFrame({"area_id": inputs.areas.index, "site_id": inputs.sites.index[0]})
    pools, _ = pair_pools(pairs, inputs.areas, inputs.sites, inputs.operating_model.pools)
    hours = demand[list(specialists)].sum(axis=1)
    by_pool = hours.groupby(pools.to_numpy()).sum()
    return (by_pool / by_pool.sum()).to_dict()


def workforce_table(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    inputs, demand = _prepared(name)
    om = inputs.operating_model
    sites = today_sites(name, inputs.sites)
    totals = council_totals(name, inputs, demand)
    site_xy = inputs.sites.loc[sites["site_id"], ["x", "y"]].to_numpy()
    share = _nearest_site_share(inputs.areas, site_xy, om.age_bands)
    kind = {r.id: r.kind for r in om.roles}
    specialists = [r for r in totals if kind[r] == "specialist"]
    pools = _pool_share(inputs, demand, specialists)
    rows = []

    def add(unit, role, fte, contract):
        fte = round(fte, 1)
        if fte > 0:
            rows.append({"unit": unit, "role": role, "fte": fte, "contract": contract,
                         "source": _source(role)})

    for i, site in enumerate(sites["site_id"]):
        supervised = 0.0
        for role, (in_post, agency, vacant) in totals.items():
            if kind[role] != "core":
                continue
            add(site, role, (in_post - agency) * share[i], "permanent")
            add(site, role, agency * share[i], "agency")
            add(site, role, vacant * share[i], "vacant")
            if role in SUPERVISED:
                supervised += in_post * share[i]
        managers = math.ceil(supervised / SUPERVISION_RATIO * 2) / 2
        add(site, "team_manager", managers, "permanent")
    for pool, s in sorted(pools.items()):
        for role in specialists:
            in_post, agency, vacant = totals[role]
            add(pool, role, in_post * s, "permanent")
            add(pool, role, vacant * s, "vacant")
    sites["adults_nearest"] = (share * float(inputs.areas[list(om.age_bands)].sum().sum())
                               ).round(0)
    return pd.DataFrame(rows), sites


def main() -> None:
    out_dir = Path(__file__).resolve().parent
    for name in TODAY:
        table, sites = workforce_table(name)
        path = out_dir / f"{name}_workforce.csv"
        table.to_csv(path, index=False, lineterminator="\n")
        in_post = table[table["contract"] != "vacant"].groupby("role")["fte"].sum()
        print(f"{name}: {len(sites)} sites, {in_post.sum():.1f} FTE in post -> {path.name}")
        print(sites.to_string(index=False))
        print(in_post.round(1).to_string())


if __name__ == "__main__":
    main()
