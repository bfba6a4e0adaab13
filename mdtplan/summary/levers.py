"""The savings the model makes (``summary.json`` → ``finance.model_savings``).

Figures are made by :mod:`mdtplan.appraisal.levers` from the solved plan; this module only
holds them and reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LEVELS = ("low", "most_likely", "high")


def _level_dict(doc: dict | None) -> dict:
    doc = doc or {}
    return {k: doc.get(k) for k in LEVELS}


@dataclass(frozen=True)
class LeverLine:
    """One lever as the plan runs it (a line of ``finance.model_savings.lines``).

    Attributes
    ----------
    id, name : str
    kind : str
        ``divert``, ``move`` or ``resize``.
    cashable : bool
    cohort : float
        The lever's cohort in the areas the plan serves [people/year for ``divert``, people
        otherwise].
    max_people : float
        The most the plan's hubs could reach: the most likely share of that cohort [people].
    people : float
        People the plan's hubs reach [people].
    care_saving : dict
        Care spend avoided, ``low`` / ``most_likely`` / ``high`` [GBP/year].
    staff_hours : dict
        Role id -> hours the people reached need (negative: freed) [h/year].
    staff_cost : float
        What those hours cost at the roles' cost per productive hour [GBP/year].
    saving : dict
        ``care_saving`` less ``staff_cost``: the lever's saving made by the model, per level
        [GBP/year].
    held_back_by : str or None
        When the plan reaches fewer than ``max_people``: the rule at its limit that holds it
        back, in words (``None``: the lever reaches its whole share).
    one_more_fte : dict or None
        ``role``, ``people``, ``saving_gbp``: what one more FTE of the role the lever needs
        most would let it reach and save a year (held back levers only).
    by_hub : tuple of dict
        ``{"site_id", "people"}`` for each hub reaching people.
    review_hours : dict
        Role id -> the part of ``staff_hours`` that is reviews: the reviews the people's
        changed long-term support needs, less those it no longer needs (``care.reviews``;
        negative: freed) [h/year].
    phasing : tuple of float
        Share of the full saving reached in years 1, 2, ... (the last share holds after; empty:
        full from year 1).
    phasing_source : str
        ``typed`` (the operating model's), ``derived`` (a ``divert`` lever's build-up as the
        people it diverts would have left their settings, :func:`mdtplan.care.divert_phasing`)
        or ``none`` (full from year 1).
    """

    id: str
    name: str
    kind: str
    cashable: bool
    cohort: float
    max_people: float
    people: float
    care_saving: dict
    staff_hours: dict
    staff_cost: float
    saving: dict
    held_back_by: str | None = None
    one_more_fte: dict | None = None
    by_hub: tuple = ()
    review_hours: dict = field(default_factory=dict)
    phasing: tuple = ()
    phasing_source: str = "none"

    @property
    def share_reached(self) -> float | None:
        return self.people / self.max_people if self.max_people > 0 else None

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "kind": self.kind,
                "cashable": self.cashable, "source": "model", "cohort": self.cohort,
                "max_people": self.max_people, "people": self.people,
                "share_reached": self.share_reached, "care_saving": dict(self.care_saving),
                "staff_hours": dict(self.staff_hours), "staff_cost": self.staff_cost,
                "low": self.saving["low"], "most_likely": self.saving["most_likely"],
                "high": self.saving["high"], "held_back_by": self.held_back_by,
                "one_more_fte": self.one_more_fte, "by_hub": [dict(h) for h in self.by_hub],
                "review_hours": dict(self.review_hours),
                "phasing": list(self.phasing) or None, "phasing_source": self.phasing_source}

    @classmethod
    def from_dict(cls, doc: dict) -> LeverLine:
        return cls(id=doc.get("id"), name=doc.get("name"), kind=doc.get("kind"),
                   cashable=doc.get("cashable", True), cohort=doc.get("cohort"),
                   max_people=doc.get("max_people"), people=doc.get("people"),
                   care_saving=_level_dict(doc.get("care_saving")),
                   staff_hours=dict(doc.get("staff_hours") or {}),
                   staff_cost=doc.get("staff_cost"),
                   saving={k: doc.get(k) for k in LEVELS},
                   held_back_by=doc.get("held_back_by"), one_more_fte=doc.get("one_more_fte"),
                   by_hub=tuple(dict(h) for h in doc.get("by_hub") or ()),
                   review_hours=dict(doc.get("review_hours") or {}),
                   phasing=tuple(doc.get("phasing") or ()),
                   phasing_source=doc.get("phasing_source", "none"))


@dataclass(frozen=True)
class ModelSavings:
    """``finance.model_savings``: annual savings made by the model, not typed in.

    Attributes
    ----------
    total : dict
        ``low``, ``most_likely``, ``high``: the levers' savings less the staff they need,
        summed [GBP/year].
    cashable, quality : dict
        The same over the cashable and the non-cashable levers [GBP/year].
    care_saving : dict
        Care spend avoided, before staff [GBP/year].
    staff_cost : float
        The staff the levers' people need [GBP/year].
    care_spend : float or None
        Steady-state care spend a year of the areas served before the levers [GBP/year].
    lines : tuple of LeverLine
    levels : str
        How the low and high figures are made, in words.
    """

    total: dict
    cashable: dict
    quality: dict
    care_saving: dict
    staff_cost: float
    care_spend: float | None
    lines: tuple[LeverLine, ...]
    levels: str = ""

    def to_dict(self) -> dict:
        return {"total": dict(self.total), "cashable": dict(self.cashable),
                "quality": dict(self.quality), "care_saving": dict(self.care_saving),
                "staff_cost": self.staff_cost, "care_spend": self.care_spend,
                "levels": self.levels, "lines": [ln.to_dict() for ln in self.lines]}

    @classmethod
    def from_dict(cls, doc: dict | None) -> ModelSavings | None:
        if doc is None:
            return None
        return cls(total=_level_dict(doc.get("total")), cashable=_level_dict(doc.get("cashable")),
                   quality=_level_dict(doc.get("quality")),
                   care_saving=_level_dict(doc.get("care_saving")),
                   staff_cost=doc.get("staff_cost"), care_spend=doc.get("care_spend"),
                   lines=tuple(LeverLine.from_dict(d) for d in doc.get("lines") or ()),
                   levels=doc.get("levels", ""))
