"""Deprivation columns by kind: an index's score, rank or decile, checked against its values and
turned into the score the operating model's deprivation multiplier uses.

``areas.deprivation`` names a column and says what it holds (:class:`~mdtplan.scenario.Deprivation`
in the scenario): ``score`` (an IMD score, 0 to about 100, with decimals; the default, and what
the plain string form means), ``rank`` (1 = most deprived of the index's LSOAs) or ``decile``
(1 = most deprived tenth, to 10). Ranks and deciles are mapped to a score equivalent through
the index's national rank -> score curve (:func:`rank_to_score`); only the English Indices of
Deprivation 2025 have one here. Nothing here reads a file.
"""

from __future__ import annotations

import numpy as np

#: LSOAs ranked by each index (rank 1 = most deprived): IMD 2019 on LSOA 2011 (32,844),
#: IoD 2025 on LSOA 2021 (33,755)
LSOA_COUNT = {"IMD2019": 32_844, "IMD2025": 33_755}

#: IoD 2025's national rank -> IMD score curve, (rank, score): 76 of the 1,107 Kent and
#: Medway LSOA 2021 pairs of MHCLG's file (kent_lsoa21_census2021_imd2025.csv, from
#: humaniverse/IMD ``imd2025_england_lsoa21``). The rank is the national order of the score,
#: so every LSOA's pair lies on the national curve; Kent's LSOAs span ranks 48 to 33,514 of
#: 33,755, and the 76 points reproduce all 1,107 within 0.18 score points by linear
#: interpolation. Ranks outside the span take the nearest end's score.
IMD2025_RANK_SCORE = (
    (48, 79.076), (55, 78.598), (87, 77.654), (95, 77.304), (139, 74.665), (306, 69.341),
    (343, 68.711), (413, 67.526), (519, 65.918), (638, 64.128), (662, 63.724), (869, 61.347),
    (1058, 59.321), (1198, 58.131), (1287, 57.36), (1573, 55.135), (1789, 53.564),
    (1977, 52.304), (2333, 50.226), (2354, 50.108), (2882, 47.292), (3006, 46.717),
    (3454, 44.602), (4028, 42.129), (4574, 39.988), (5176, 37.923), (5658, 36.413),
    (6296, 34.676), (6847, 33.22), (7416, 31.89), (7991, 30.607), (8520, 29.497),
    (9103, 28.399), (9691, 27.327), (10236, 26.414), (10825, 25.458), (11388, 24.567),
    (11930, 23.766), (12530, 22.896), (13082, 22.079), (13644, 21.341), (14222, 20.638),
    (14814, 19.878), (15370, 19.157), (15954, 18.463), (16482, 17.864), (17088, 17.202),
    (17650, 16.605), (18219, 16.016), (18752, 15.516), (19377, 14.943), (19892, 14.482),
    (20480, 13.928), (21036, 13.391), (21602, 12.85), (22187, 12.339), (22731, 11.879),
    (23297, 11.401), (23865, 10.927), (24431, 10.458), (24979, 10.002), (25590, 9.486),
    (26115, 9.071), (26705, 8.601), (27276, 8.149), (27880, 7.644), (28434, 7.178),
    (28969, 6.699), (29543, 6.181), (30113, 5.702), (30732, 5.141), (31240, 4.689),
    (31789, 4.08), (32352, 3.431), (32992, 2.665), (33514, 1.72),
)


def rank_to_score(rank, index: str) -> np.ndarray:
    """The IMD score equivalent of national LSOA ranks (1 = most deprived) [score].

    Raises
    ------
    KeyError
        For an index without a rank -> score curve (only ``IMD2025`` has one).
    """
    table = {"IMD2025": IMD2025_RANK_SCORE}[index]
    ranks = np.array([r for r, _ in table], dtype=float)
    scores = np.array([s for _, s in table], dtype=float)
    return np.interp(np.asarray(rank, dtype=float), ranks, scores)


def decile_to_score(decile, index: str) -> np.ndarray:
    """The IMD score equivalent of national deciles (1 = most deprived tenth): the score at
    the middle rank of the decile, ``(d - 0.5) / 10`` of the LSOAs [score]."""
    n = LSOA_COUNT[index]
    return rank_to_score((np.asarray(decile, dtype=float) - 0.5) * n / 10.0, index)


def kind_problem(values: np.ndarray, kind: str, index: str | None) -> str | None:
    """What is wrong with ``values`` as deprivation of ``kind`` (None when they fit).

    ``score``: 0 to 100, not all whole numbers 1-10 (deciles) or whole numbers above 100
    (ranks); ``decile``: whole numbers 1 to 10; ``rank``: whole numbers 1 to the index's LSOA
    count, not all within 1-10.
    """
    v = values[np.isfinite(values)]
    if not len(v):
        return None
    whole = bool(np.all(np.abs(v - np.round(v)) < 1e-9))
    lo, hi = float(v.min()), float(v.max())
    if kind == "score":
        if whole and lo >= 1 and hi <= 10:
            return ("every value is a whole number from 1 to 10: these look like deciles, "
                    "not scores")
        if whole and hi > 100:
            return (f"every value is a whole number, up to {hi:,.0f}: these look like ranks, "
                    "not scores")
        if lo < 0 or hi > 100:
            return f"values run from {lo:g} to {hi:g}, outside an IMD score's 0 to 100"
        return None
    if kind == "decile":
        if not whole or lo < 1 or hi > 10:
            return (f"values run from {lo:g} to {hi:g}"
                    + ("" if whole else ", with decimals")
                    + ": deciles are whole numbers from 1 to 10")
        return None
    n = LSOA_COUNT.get(index or "", None)
    if not whole or lo < 1 or (n is not None and hi > n):
        return (f"values run from {lo:g} to {hi:g}" + ("" if whole else ", with decimals")
                + f": {index} ranks are whole numbers from 1 to {n:,}")
    if hi <= 10 and len(v) > 10:
        return "every value is from 1 to 10: these look like deciles, not ranks"
    return None
