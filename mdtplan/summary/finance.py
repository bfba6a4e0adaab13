"""The appraisal's blocks of ``summary.json``: the savings table (``finance``) with its Monte
Carlo, and the plan's savings against today (``savings``).

:mod:`mdtplan.appraisal.finance` makes them; they live here, beside the rest of the summary, so
that a summary read back from ``summary.json`` (:meth:`mdtplan.summary.Summary.from_dict`) is
typed without importing the appraisal. Field names are the document's keys; ``to_dict`` writes
them in the order the contract has (CONTRACT §5). A key missing from a document reads as
``None`` (an empty tuple for a list). Nothing here computes a figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .levers import ModelSavings

T = TypeVar("T")

LEVELS = ("low", "most_likely", "high")


@dataclass(frozen=True)
class Range(Generic[T]):
    """A figure at the three levels of a three-point estimate.

    The unit is the figure's: [GBP/year] for savings, [GBP] for net positions, [-] for
    ratios, a bool for a test passed, a year for the payback year.
    """

    low: T
    most_likely: T
    high: T

    def value(self, level: str) -> T:
        """The figure at ``level`` (``low``, ``most_likely`` or ``high``)."""
        return getattr(self, level)

    def values(self) -> tuple[T, T, T]:
        """Low, most likely, high."""
        return (self.low, self.most_likely, self.high)

    def to_dict(self) -> dict:
        return {"low": self.low, "most_likely": self.most_likely, "high": self.high}

    @classmethod
    def from_dict(cls, doc: dict | None) -> Range | None:
        if doc is None:
            return None
        return cls(low=doc.get("low"), most_likely=doc.get("most_likely"), high=doc.get("high"))


def _range(doc: dict, key: str) -> Range | None:
    return Range.from_dict(doc.get(key))


def _dict(block) -> dict | None:
    """``block.to_dict()``, or ``None`` for a block a partial document did not have."""
    return None if block is None else block.to_dict()


@dataclass(frozen=True)
class Line:
    """One savings workstream, all figures in GBP/year except ``investment`` (one-off GBP).

    ``phasing``: share of the full saving reached in years 1, 2, ... (the last share holds
    after; empty: full from year 1). ``demand_change``: client group or pathway id ->
    fractional change in its contacts. ``source``: ``model`` for a lever the model works out
    (its figures from ``finance.model_savings``, ``id`` its lever id), ``typed`` for a
    workstream typed into the scenario or operating model.
    """

    name: str
    low: float
    high: float
    most_likely: float
    cashable: bool = True
    already_in_plan: float = 0.0
    investment: float = 0.0
    phasing: tuple[float, ...] = ()
    demand_change: dict | None = None
    source: str = "typed"
    id: str | None = None

    def value(self, level: str) -> float:
        return float(getattr(self, level))

    def phase(self, year: int) -> float:
        """Share of the full annual saving reached in ``year`` (1-based) [-]."""
        if not self.phasing:
            return 1.0
        return float(self.phasing[min(year, len(self.phasing)) - 1])

    def to_dict(self) -> dict:
        return {"name": self.name, "low": self.low, "most_likely": self.most_likely,
                "high": self.high, "cashable": self.cashable,
                "already_in_plan": self.already_in_plan, "investment": self.investment,
                "phasing": list(self.phasing) or None, "demand_change": self.demand_change,
                "source": self.source, "id": self.id}

    @classmethod
    def from_dict(cls, doc: dict) -> Line:
        """A line read back; ``cashable``, ``already_in_plan`` and ``investment`` missing from
        ``doc`` take their defaults."""
        change = doc.get("demand_change")
        return cls(name=doc.get("name"), low=doc.get("low"), high=doc.get("high"),
                   most_likely=doc.get("most_likely"), cashable=doc.get("cashable", True),
                   already_in_plan=doc.get("already_in_plan", 0.0),
                   investment=doc.get("investment", 0.0),
                   phasing=tuple(doc.get("phasing") or ()),
                   demand_change=dict(change) if change is not None else None,
                   source=doc.get("source", "typed"), id=doc.get("id"))


@dataclass(frozen=True)
class SavingsTotals:
    """Sums of the workstreams [GBP/year] (``finance.totals``).

    Attributes
    ----------
    total : Range
        Every line.
    cashable, quality : Range
        The cashable lines; the others.
    cashable_net : Range
        Cashable less what the medium-term financial plan already counts.
    overall : Range
        Total less what the plan already counts.
    """

    total: Range[float]
    cashable: Range[float]
    quality: Range[float]
    cashable_net: Range[float]
    overall: Range[float]

    def to_dict(self) -> dict:
        return {"total": _dict(self.total), "cashable": _dict(self.cashable),
                "quality": _dict(self.quality), "cashable_net": _dict(self.cashable_net),
                "overall": _dict(self.overall)}

    @classmethod
    def from_dict(cls, doc: dict) -> SavingsTotals:
        return cls(**{k: _range(doc, k) for k in
                      ("total", "cashable", "quality", "cashable_net", "overall")})


@dataclass(frozen=True)
class YearRow:
    """One year of the phased savings and investment (``finance.by_year``).

    Attributes
    ----------
    year : int
        1, 2, ...
    saving : Range
        Saving of the year on the ratio basis [GBP].
    cumulative : Range
        Sum of the savings to this year [GBP].
    net : Range
        Cumulative saving less the cumulative investment spent to this year [GBP].
    investment : float
        Investment spent in the year (``finance.investment_phasing``) [GBP].
    cumulative_investment : float
        Investment spent to this year [GBP].
    discount_factor : float or None
        ``1 / (1 + r) ** t`` for the year's discount period ``t`` [-].
    present_value : Range or None
        The year's saving less its investment, times the discount factor [GBP].
    """

    year: int
    saving: Range[float]
    cumulative: Range[float]
    net: Range[float]
    investment: float | None = None
    cumulative_investment: float | None = None
    discount_factor: float | None = None
    present_value: Range[float] | None = None

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"year": self.year}
        for level in LEVELS:
            out[f"saving_{level}"] = self.saving.value(level)
            out[f"cumulative_{level}"] = self.cumulative.value(level)
            out[f"net_{level}"] = self.net.value(level)
        if self.investment is not None:     # written since the years' investment phasing
            out["investment"] = self.investment
            out["cumulative_investment"] = self.cumulative_investment
            out["discount_factor"] = self.discount_factor
        if self.present_value is not None:
            for level in LEVELS:
                out[f"present_value_{level}"] = self.present_value.value(level)
        return out

    @classmethod
    def from_dict(cls, doc: dict) -> YearRow:
        def figure(name: str) -> Range:
            return Range(*(doc.get(f"{name}_{level}") for level in LEVELS))

        pv = figure("present_value") if "present_value_low" in doc else None
        return cls(year=doc.get("year"), saving=figure("saving"),
                   cumulative=figure("cumulative"), net=figure("net"),
                   investment=doc.get("investment"),
                   cumulative_investment=doc.get("cumulative_investment"),
                   discount_factor=doc.get("discount_factor"), present_value=pv)


@dataclass(frozen=True)
class RatioReading:
    """The benefit-to-investment test on one basis (a row of ``finance.ratio_readings``).

    Attributes
    ----------
    basis : str
        ``cashable_net``, ``total_net`` or ``total``.
    label : str
        The basis in words.
    benefit : Range
        One full year's saving on the basis [GBP/year].
    ratio : Range
        ``benefit`` / investment [-] (``None`` without an investment).
    passes : Range
        ``ratio >= required_ratio`` (``None`` without a test).
    chosen : bool
        The scenario's ``ratio_basis`` (the reading ``benefit_to_investment`` and ``passes``
        report).
    """

    basis: str
    label: str
    benefit: Range[float]
    ratio: Range[float | None]
    passes: Range[bool | None]
    chosen: bool

    def to_dict(self) -> dict:
        return {"basis": self.basis, "label": self.label, "benefit": _dict(self.benefit),
                "ratio": _dict(self.ratio), "passes": _dict(self.passes),
                "chosen": self.chosen}

    @classmethod
    def from_dict(cls, doc: dict) -> RatioReading:
        return cls(basis=doc.get("basis"), label=doc.get("label"),
                   benefit=_range(doc, "benefit"), ratio=_range(doc, "ratio"),
                   passes=_range(doc, "passes"), chosen=bool(doc.get("chosen")))


@dataclass(frozen=True)
class FeeClauseResult:
    """The fee reduction clause as applied (``finance.fee_clause``).

    Attributes
    ----------
    fee : float
        The one-off fee before the clause [GBP].
    required_ratio : float
        The benefit the fee must be outdone by [-].
    basis : str
        The saving counted as the benefit (as ``ratio_basis``).
    """

    fee: float
    required_ratio: float
    basis: str

    def to_dict(self) -> dict:
        return {"fee": self.fee, "required_ratio": self.required_ratio, "basis": self.basis}

    @classmethod
    def from_dict(cls, doc: dict | None) -> FeeClauseResult | None:
        if doc is None:
            return None
        return cls(fee=doc.get("fee"), required_ratio=doc.get("required_ratio"),
                   basis=doc.get("basis"))


#: The ratio bases in words (``finance.ratio_readings[].label``).
BASIS_LABELS = {
    "cashable_net": "cashable savings less those already in the medium-term financial plan",
    "total_net": "all savings (cashable and quality) less those already in the plan",
    "total": "all recurrent annual savings, cashable and quality",
}

#: Each finance figure's plain label and one sentence saying what it is (``finance.labels``
#: and ``finance.definitions``); the CLI and the workbook show the same words. The keys are
#: the figures' keys in ``summary.json``'s ``finance`` block, except ``cost_against_today``
#: (from the ``savings`` block).
TERMS: dict[str, tuple[str, str]] = {
    "cost_against_today": (
        "Cost against today",
        "The plan's annual cost less today's, both costed by the model (staff, agency, sites, "
        "mileage); summary.json's savings.total.saving_gbp is its negative. It is not the "
        "workstream savings."),
    "totals.total": (
        "Savings (workstreams)",
        "The workstreams' annual savings added up [GBP/year]: the levers' savings made by the "
        "model (finance.model_savings: care spend avoided less the staff the levers need, as "
        "far as the plan's rules let them go) and the typed workstreams as each gives them; a "
        "separate calculation from the cost against today."),
    "model_savings": (
        "Savings made by the model",
        "The levers' care spend avoided less the staff they need [GBP/year], each lever as "
        "far as the budget, supply and staffing rules of the plan let it go; low and high are "
        "the same plan at the levers' low and high values."),
    "totals.cashable": (
        "Cashable savings",
        "The workstreams marked cashable: money that leaves the budget [GBP/year]."),
    "totals.quality": (
        "Quality savings (non-cashable)",
        "The workstreams not cashable: capacity or cost avoided, not money released "
        "[GBP/year]."),
    "totals.cashable_net": (
        "Cashable, less already in plan",
        "Cashable savings less those the medium-term financial plan already counts "
        "[GBP/year]."),
    "totals.overall": (
        "Overall (total less already in plan)",
        "All workstream savings less those the plan already counts [GBP/year]."),
    "investment": (
        "Investment (one-off)",
        "The one-off cost of the change, spent over the years as investment_phasing says "
        "[GBP]."),
    "net_of_investment": (
        "Net of investment (one year)",
        "One full year's workstream savings on the ratio basis less the whole one-off "
        "investment [GBP]: a test of scale, not a cash position over the years."),
    "benefit_to_investment": (
        "Benefit to investment",
        "One full year's savings on the ratio basis divided by the one-off investment [-]."),
    "passes": (
        "Test",
        "Whether the benefit-to-investment ratio reaches the required ratio."),
    "ratio_readings": (
        "Readings of the test",
        "The same test on each basis (cashable less plan; total less plan; total), the "
        "scenario's basis marked chosen."),
    "npv": (
        "Net present value",
        "Each year's phased workstream savings on the ratio basis less the investment spent "
        "that year, discounted at the discount rate and summed over the years [GBP]."),
    "discount_rate": (
        "Discount rate",
        "The rate a year's flows are discounted at [1/year]: HM Treasury Green Book 3.5% "
        "unless the scenario says otherwise."),
    "payback_year": (
        "Payback year",
        "The first year from which the cumulative savings cover the investment spent so far "
        "for every later year appraised (none: not within the years)."),
    "by_year": (
        "Savings by year",
        "Per year: the phased savings on the ratio basis, the investment spent, the "
        "cumulative net position and its present value [GBP]."),
    "fee_after_reduction": (
        "Fee after reduction",
        "The fee reduced until the benefit is the required ratio times it: the smaller of the "
        "fee and the benefit divided by the ratio [GBP]."),
}


# --------------------------------------------------------------------------------------------
# Monte Carlo


@dataclass(frozen=True)
class Percentiles:
    """P10 / P50 / P90 and mean of a set of draws (all ``None`` and ``n`` 0 for none)."""

    p10: float | None
    p50: float | None
    p90: float | None
    mean: float | None
    n: int

    def to_dict(self) -> dict:
        return {"p10": self.p10, "p50": self.p50, "p90": self.p90, "mean": self.mean,
                "n": self.n}

    @classmethod
    def from_dict(cls, doc: dict | None) -> Percentiles | None:
        if doc is None:
            return None
        return cls(p10=doc.get("p10"), p50=doc.get("p50"), p90=doc.get("p90"),
                   mean=doc.get("mean"), n=doc.get("n"))


@dataclass(frozen=True)
class LinePercentiles:
    """One workstream's draws [GBP/year] (``finance.monte_carlo.lines``)."""

    name: str
    percentiles: Percentiles

    def to_dict(self) -> dict:
        return {"name": self.name, **_dict(self.percentiles)}

    @classmethod
    def from_dict(cls, doc: dict) -> LinePercentiles:
        return cls(name=doc.get("name"), percentiles=Percentiles.from_dict(doc))


@dataclass(frozen=True)
class SavingsPercentiles:
    """Percentiles of each figure of the savings table over the draws
    (``finance.monte_carlo.percentiles``): as :class:`SavingsTotals` [GBP/year], the net of
    investment [GBP], and the benefit-to-investment ratio [-] when there is an investment."""

    total: Percentiles
    cashable: Percentiles
    quality: Percentiles
    cashable_net: Percentiles
    overall: Percentiles
    net_of_investment: Percentiles
    benefit_to_investment: Percentiles | None = None

    def to_dict(self) -> dict:
        out = {k: _dict(getattr(self, k)) for k in
               ("total", "cashable", "quality", "cashable_net", "overall", "net_of_investment")}
        if self.benefit_to_investment is not None:
            out["benefit_to_investment"] = _dict(self.benefit_to_investment)
        return out

    @classmethod
    def from_dict(cls, doc: dict) -> SavingsPercentiles:
        return cls(**{k: Percentiles.from_dict(doc.get(k)) for k in
                      ("total", "cashable", "quality", "cashable_net", "overall",
                       "net_of_investment", "benefit_to_investment")})


#: the keys of a demand draw's row that are not its drawn rates
_DRAW_KEYS = ("draw", "status", "total_cost", "demand_met_share", "demand_hours",
              "model_savings", "net_of_investment", "passes",
              "saving_vs_baseline", "error")


@dataclass(frozen=True)
class DemandDraw:
    """One demand-rate draw, re-solved (a row of ``finance.monte_carlo.demand.draws``).

    Attributes
    ----------
    draw : int
        1, 2, ...
    rates : dict of str to float
        The drawn contact-rate multiplier of each client group [-] (a key of the row each).
    status : str
        The re-solve's status, or ``error``.
    total_cost : float or None
        The plan's cost [GBP/year]; ``None`` without a plan.
    demand_met_share : float or None
        [-]
    demand_hours : float or None
        [hours/year]
    saving_vs_baseline : float or None
        Today's cost less the plan's [GBP/year], with a baseline and a plan (else not written).
    model_savings : float or None
        With levers: the draw's savings made by the model (``finance.model_savings.total``,
        at the drawn values) [GBP/year] (else not written).
    net_of_investment : float or None
        With levers: the draw's net of investment on the ratio basis [GBP].
    passes : bool or None
        With levers and a required ratio: whether the draw passes the investment test.
    error : str or None
        Why the draw failed (then the figures above are not written).

    The drawn values are the row's other keys: ``demand.<client group>`` multipliers and
    ``lever.<id>.share`` / ``lever.<id>.saving_gbp_per_person``.
    """

    draw: int
    rates: dict[str, float]
    status: str
    total_cost: float | None = None
    demand_met_share: float | None = None
    demand_hours: float | None = None
    saving_vs_baseline: float | None = None
    error: str | None = None
    model_savings: float | None = None
    net_of_investment: float | None = None
    passes: bool | None = None

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"draw": self.draw, **self.rates, "status": self.status}
        if self.error is not None:
            out["error"] = self.error
            return out
        out.update(total_cost=self.total_cost, demand_met_share=self.demand_met_share,
                   demand_hours=self.demand_hours)
        if self.saving_vs_baseline is not None:
            out["saving_vs_baseline"] = self.saving_vs_baseline
        for key in ("model_savings", "net_of_investment", "passes"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_dict(cls, doc: dict) -> DemandDraw:
        return cls(draw=doc.get("draw"),
                   rates={k: v for k, v in doc.items() if k not in _DRAW_KEYS},
                   status=doc.get("status"), total_cost=doc.get("total_cost"),
                   demand_met_share=doc.get("demand_met_share"),
                   demand_hours=doc.get("demand_hours"),
                   saving_vs_baseline=doc.get("saving_vs_baseline"), error=doc.get("error"),
                   model_savings=doc.get("model_savings"),
                   net_of_investment=doc.get("net_of_investment"), passes=doc.get("passes"))


@dataclass(frozen=True)
class DemandDraws:
    """The plan re-solved under each demand-rate draw (``finance.monte_carlo.demand``).

    Attributes
    ----------
    solves, failed : int
        Draws solved; of which without a plan.
    draws : tuple of DemandDraw
    demand_met_share : Percentiles
        [-]
    total_cost : Percentiles
        [GBP/year]
    demand_hours : Percentiles
        [hours/year]
    saving_vs_baseline : Percentiles or None
        [GBP/year], with a baseline.
    model_savings, net_of_investment : Percentiles or None
        With levers: the draws' savings made by the model [GBP/year] and net of investment
        [GBP].
    probability_passes : float or None
        With levers and a required ratio: the share of draws that pass the investment test.
    """

    solves: int
    failed: int
    draws: tuple[DemandDraw, ...]
    demand_met_share: Percentiles
    total_cost: Percentiles
    demand_hours: Percentiles
    saving_vs_baseline: Percentiles | None = None
    model_savings: Percentiles | None = None
    net_of_investment: Percentiles | None = None
    probability_passes: float | None = None

    def to_dict(self) -> dict:
        out = {"solves": self.solves, "failed": self.failed,
               "draws": [d.to_dict() for d in self.draws],
               "demand_met_share": _dict(self.demand_met_share),
               "total_cost": _dict(self.total_cost),
               "demand_hours": _dict(self.demand_hours)}
        if self.saving_vs_baseline is not None:
            out["saving_vs_baseline"] = self.saving_vs_baseline.to_dict()
        for key in ("model_savings", "net_of_investment"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key).to_dict()
        if self.probability_passes is not None:
            out["probability_passes"] = self.probability_passes
        return out

    @classmethod
    def from_dict(cls, doc: dict | None) -> DemandDraws | None:
        if doc is None:
            return None
        return cls(solves=doc.get("solves"), failed=doc.get("failed"),
                   draws=tuple(DemandDraw.from_dict(d) for d in doc.get("draws") or ()),
                   probability_passes=doc.get("probability_passes"),
                   **{k: Percentiles.from_dict(doc.get(k)) for k in
                      ("demand_met_share", "total_cost", "demand_hours",
                       "saving_vs_baseline", "model_savings", "net_of_investment")})


@dataclass(frozen=True)
class MonteCarlo:
    """Monte Carlo over the workstream ranges, and the demand-rate re-solves
    (``finance.monte_carlo``).

    Attributes
    ----------
    draws : int
        Savings draws.
    seed : int
    distribution : str
        ``pert`` or ``triangular``.
    percentiles : SavingsPercentiles
    lines : tuple of LinePercentiles
    probability_passes : float or None
        Share of the draws meeting the required ratio [-], when one is set and there is an
        investment.
    demand : DemandDraws or None
        With ``monte_carlo.demand_rates``.
    """

    draws: int
    seed: int
    distribution: str
    percentiles: SavingsPercentiles
    lines: tuple[LinePercentiles, ...]
    probability_passes: float | None = None
    demand: DemandDraws | None = None

    def to_dict(self) -> dict:
        out = {"draws": self.draws, "seed": self.seed, "distribution": self.distribution,
               "percentiles": _dict(self.percentiles),
               "lines": [ln.to_dict() for ln in self.lines]}
        if self.probability_passes is not None:
            out["probability_passes"] = self.probability_passes
        if self.demand is not None:
            out["demand"] = self.demand.to_dict()
        return out

    @classmethod
    def from_dict(cls, doc: dict | None) -> MonteCarlo | None:
        if doc is None:
            return None
        return cls(draws=doc.get("draws"), seed=doc.get("seed"),
                   distribution=doc.get("distribution"),
                   percentiles=SavingsPercentiles.from_dict(doc.get("percentiles") or {}),
                   lines=tuple(LinePercentiles.from_dict(d) for d in doc.get("lines") or ()),
                   probability_passes=doc.get("probability_passes"),
                   demand=DemandDraws.from_dict(doc.get("demand")))


# --------------------------------------------------------------------------------------------
# The savings table


@dataclass(frozen=True)
class FinanceAppraisal:
    """The savings table of the workstreams (``summary.json``'s ``finance`` block; the
    figures are explained in :mod:`mdtplan.appraisal.finance`).

    Attributes
    ----------
    lines : tuple of Line
        Each workstream.
    totals : SavingsTotals
        [GBP/year]
    already_in_plan : float
        Savings the medium-term financial plan already counts [GBP/year].
    investment : float
        One-off cost [GBP].
    ratio_basis : str
        ``cashable_net``, ``total_net`` or ``total``.
    annual_basis : Range
        One full year's saving on the ratio basis [GBP/year].
    net_of_investment : Range
        ``annual_basis`` less the investment [GBP].
    benefit_to_investment : Range
        ``annual_basis`` / investment [-] (``None`` at each level without an investment).
    required_ratio : float or None
        [-]
    passes : Range
        Whether each level's ratio meets the required one (``None``: no test).
    years : int
        Years phased.
    payback_year : Range
        First year the cumulative saving reaches the investment (``None``: not within
        ``years``; 0 without an investment).
    by_year : tuple of YearRow
    monte_carlo : MonteCarlo or None
        With ``finance.monte_carlo`` (else not written).
    model_savings : ModelSavings or None
        With levers in the operating model: the savings the model makes (else not written);
        their lines are in ``lines`` too, marked ``source: model``.
    investment_phasing : tuple of float
        Share of the investment spent in years 1, 2, ... [-] (empty in a summary written
        before it was reported).
    discount_rate : float or None
        [1/year]
    discount_year_one : int or None
        The discount period of year 1 (1 or 0).
    npv : Range or None
        Net present value of the ratio basis net of the phased investment [GBP].
    ratio_readings : tuple of RatioReading
        The test on each basis.
    fee_clause : FeeClauseResult or None
        With ``finance.fee_clause`` (else not written).
    fee_after_reduction : Range or None
        ``min(fee, benefit / required_ratio)`` [GBP], with the clause.
    labels, definitions : dict of str to str
        Each figure's plain label and its meaning in one sentence (:data:`TERMS`).
    """

    lines: tuple[Line, ...]
    totals: SavingsTotals
    already_in_plan: float
    investment: float
    ratio_basis: str
    annual_basis: Range[float]
    net_of_investment: Range[float]
    benefit_to_investment: Range[float | None]
    required_ratio: float | None
    passes: Range[bool | None]
    years: int
    payback_year: Range[int | None]
    by_year: tuple[YearRow, ...]
    monte_carlo: MonteCarlo | None = None
    model_savings: ModelSavings | None = None
    investment_phasing: tuple[float, ...] = ()
    discount_rate: float | None = None
    discount_year_one: int | None = None
    npv: Range[float] | None = None
    ratio_readings: tuple[RatioReading, ...] = ()
    fee_clause: FeeClauseResult | None = None
    fee_after_reduction: Range[float] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)

    def reading(self, basis: str) -> RatioReading | None:
        """The row of :attr:`ratio_readings` on ``basis`` (``None`` if absent)."""
        return next((r for r in self.ratio_readings if r.basis == basis), None)

    def to_dict(self) -> dict:
        # the keys added with the years, the readings and the labels are written only when
        # present, so a summary.json written before them reads back and writes out the same
        out: dict[str, Any] = {"lines": [ln.to_dict() for ln in self.lines],
                               "totals": _dict(self.totals),
                               "already_in_plan": self.already_in_plan,
                               "investment": self.investment}
        if self.investment_phasing:
            out["investment_phasing"] = list(self.investment_phasing)
        out.update({"ratio_basis": self.ratio_basis, "annual_basis": _dict(self.annual_basis),
                    "net_of_investment": _dict(self.net_of_investment),
                    "benefit_to_investment": _dict(self.benefit_to_investment),
                    "required_ratio": self.required_ratio, "passes": _dict(self.passes)})
        if self.ratio_readings:
            out["ratio_readings"] = [r.to_dict() for r in self.ratio_readings]
        out["years"] = self.years
        if self.npv is not None:
            out.update(discount_rate=self.discount_rate,
                       discount_year_one=self.discount_year_one, npv=_dict(self.npv))
        out.update(payback_year=_dict(self.payback_year),
                   by_year=[row.to_dict() for row in self.by_year])
        if self.fee_clause is not None:
            out["fee_clause"] = self.fee_clause.to_dict()
            out["fee_after_reduction"] = _dict(self.fee_after_reduction)
        if self.labels:
            out["labels"] = dict(self.labels)
        if self.definitions:
            out["definitions"] = dict(self.definitions)
        if self.monte_carlo is not None:
            out["monte_carlo"] = self.monte_carlo.to_dict()
        if self.model_savings is not None:
            out["model_savings"] = self.model_savings.to_dict()
        return out

    @classmethod
    def from_dict(cls, doc: dict | None) -> FinanceAppraisal | None:
        if doc is None:
            return None
        return cls(lines=tuple(Line.from_dict(d) for d in doc.get("lines") or ()),
                   totals=SavingsTotals.from_dict(doc.get("totals") or {}),
                   already_in_plan=doc.get("already_in_plan"),
                   investment=doc.get("investment"), ratio_basis=doc.get("ratio_basis"),
                   annual_basis=_range(doc, "annual_basis"),
                   net_of_investment=_range(doc, "net_of_investment"),
                   benefit_to_investment=_range(doc, "benefit_to_investment"),
                   required_ratio=doc.get("required_ratio"), passes=_range(doc, "passes"),
                   years=doc.get("years"), payback_year=_range(doc, "payback_year"),
                   by_year=tuple(YearRow.from_dict(r) for r in doc.get("by_year") or ()),
                   monte_carlo=MonteCarlo.from_dict(doc.get("monte_carlo")),
                   model_savings=ModelSavings.from_dict(doc.get("model_savings")),
                   investment_phasing=tuple(doc.get("investment_phasing") or ()),
                   discount_rate=doc.get("discount_rate"),
                   discount_year_one=doc.get("discount_year_one"), npv=_range(doc, "npv"),
                   ratio_readings=tuple(RatioReading.from_dict(r)
                                        for r in doc.get("ratio_readings") or ()),
                   fee_clause=FeeClauseResult.from_dict(doc.get("fee_clause")),
                   fee_after_reduction=_range(doc, "fee_after_reduction"),
                   labels=dict(doc.get("labels") or {}),
                   definitions=dict(doc.get("definitions") or {}))


# --------------------------------------------------------------------------------------------
# The plan against today


@dataclass(frozen=True)
class Saving:
    """Today's cost, the plan's and the difference [GBP/year] (a line of ``savings``, or its
    ``total``: then ``line`` is ``None`` and not written).

    Attributes
    ----------
    baseline_gbp, scenario_gbp : float
        Today's; the plan's.
    saving_gbp : float
        ``baseline_gbp - scenario_gbp`` (positive: the plan is cheaper).
    line : str or None
        ``staff: <role>``, ``agency premium`` or ``sites``.
    """

    baseline_gbp: float
    scenario_gbp: float
    saving_gbp: float
    line: str | None = None

    def to_dict(self) -> dict:
        out: dict[str, Any] = {} if self.line is None else {"line": self.line}
        out.update(baseline_gbp=self.baseline_gbp, scenario_gbp=self.scenario_gbp,
                   saving_gbp=self.saving_gbp)
        return out

    @classmethod
    def from_dict(cls, doc: dict | None) -> Saving | None:
        if doc is None:
            return None
        return cls(baseline_gbp=doc.get("baseline_gbp"), scenario_gbp=doc.get("scenario_gbp"),
                   saving_gbp=doc.get("saving_gbp"), line=doc.get("line"))


@dataclass(frozen=True)
class SideBySide:
    """A service figure today and under the plan (its unit is the figure's)."""

    baseline: Any
    scenario: Any

    def to_dict(self) -> dict:
        return {"baseline": self.baseline, "scenario": self.scenario}

    @classmethod
    def from_dict(cls, doc: dict | None) -> SideBySide | None:
        if doc is None:
            return None
        return cls(baseline=doc.get("baseline"), scenario=doc.get("scenario"))


@dataclass(frozen=True)
class PlanSavings:
    """The plan's savings against today's configuration (``summary.json``'s ``savings``).

    Attributes
    ----------
    lines : tuple of Saving
        Staff by role (excluding the agency premium), the agency premium, sites.
    total : Saving
    demand_met_share : SideBySide
        [-]
    unmet_hours : SideBySide
        [hours/year]
    fte : SideBySide
        [FTE]
    hubs_open : SideBySide
    travel_mean : SideBySide
        [travel unit]
    """

    lines: tuple[Saving, ...]
    total: Saving
    demand_met_share: SideBySide
    unmet_hours: SideBySide
    fte: SideBySide
    hubs_open: SideBySide
    travel_mean: SideBySide

    def to_dict(self) -> dict:
        return {"lines": [ln.to_dict() for ln in self.lines], "total": _dict(self.total),
                **{k: _dict(getattr(self, k)) for k in
                   ("demand_met_share", "unmet_hours", "fte", "hubs_open", "travel_mean")}}

    @classmethod
    def from_dict(cls, doc: dict | None) -> PlanSavings | None:
        if doc is None:
            return None
        return cls(lines=tuple(Saving.from_dict(d) for d in doc.get("lines") or ()),
                   total=Saving.from_dict(doc.get("total")),
                   **{k: SideBySide.from_dict(doc.get(k)) for k in
                      ("demand_met_share", "unmet_hours", "fte", "hubs_open", "travel_mean")})
