"""The fidelity table: a council's published figures beside the model's.

After a run, :func:`fidelity_rows` reads each figure of the scenario's ``fidelity`` section,
finds the model's counterpart in the summary (the document ``summary.json`` holds) by its
dotted path, and says whether the two agree and whether the model's figure is made by the
solve or copied from numbers typed into the scenario. The rows are ``summary.json``'s
``fidelity`` list (:class:`~mdtplan.summary.FidelityRow`), the workbook's "Fidelity" sheet and
the command line's table "Published figures beside the model's".

Reading a row
-------------
=============== ===============================================================================
``model``       the figure at ``model_path``: a number, or ``{low, most_likely, high}`` (from a
                mapping holding those keys, such as a savings line); ``None`` with a ``note``
                when the path leads nowhere (a missing key, no list item matching a selector),
                or to something else (text, a list)
``within``      :func:`within`: the model's most likely value (or its number) against the
                published figure: inside ``low..high``; ``>= min``; ``<= max``; for a single
                published value, within its ``tolerance``, by default half a unit of its last
                significant digit (a published £9.8m stands for £9.75m to £9.85m). ``None``
                when either side is missing
``ends_within`` the model's low and high each tested the same way (``None`` unless the model's
                figure is a ``{low, most_likely, high}`` mapping): "the model's low and high
                both lie in the published range"
``derived``     :func:`basis`: by where the figure sits in ``summary.json`` (:data:`BASIS`)
=============== ===============================================================================

Nothing here solves; a path that does not resolve is a row with ``model`` ``None``, never an
error (a top key that ``summary.json`` never has is an error of the scenario:
:func:`check_paths`).
"""

from __future__ import annotations

from decimal import Decimal

from ..errors import Problem
from ..scenario import FidelityConfig, PublishedFigure, Scenario, summary_path_steps
from ..summary import LEVELS, SUMMARY_KEYS, FidelityRow

__all__ = ["BASIS", "basis", "check_paths", "fidelity_rows", "published_doc",
           "resolve_path", "rounding_tolerance", "within"]

#: Whether a figure of ``summary.json`` is made by the model's solve, by where it sits.
#:
#: Each entry is ``(prefix, derived, basis in words)``; a path (its keys joined by dots, list
#: selectors left out) takes the entry of its longest matching prefix (the prefix itself or
#: the prefix followed by a dot). ``derived`` is ``True`` for figures the solve computes
#: (costs, staff, demand met, the baseline evaluated by the same model and the savings against
#: it, the savings the model's levers make, demand-draw re-solves), ``False`` for figures that
#: are the scenario's typed numbers added up (the workstream lines and their totals, the
#: investment, what is already in the plan, the ratio and years computed from them, Monte
#: Carlo over their typed ranges, the budget cap). When a block changes from typed to solved
#: (or a new block appears), change or add its line here; ``tests/test_fidelity.py`` checks
#: that every key of :data:`~mdtplan.summary.SUMMARY_KEYS` holding figures has a line.
BASIS: tuple[tuple[str, bool, str], ...] = (
    # the model's solve
    ("objective", True, "model"),
    ("total_cost", True, "model"),
    ("staff_cost", True, "model"),
    ("agency_cost", True, "model"),
    ("site_cost", True, "model"),
    ("mileage_cost", True, "model"),
    ("cost_by_role", True, "model"),
    ("agency_cost_by_role", True, "model"),
    ("demand_hours", True, "model"),
    ("demand_met_share", True, "model"),
    ("unmet_hours_by_role", True, "model"),
    ("fte_by_role", True, "model"),
    ("hubs_open", True, "model"),
    ("population_per_hub", True, "model"),
    ("travel", True, "model"),
    ("geography", True, "model"),
    ("localities", True, "model"),
    ("shortfall", True, "model"),
    ("marginal_values", True, "model"),
    ("stages", True, "model"),
    ("stage_objectives", True, "model"),
    ("baseline", True, "model"),
    ("savings", True, "model"),
    ("growth_check", True, "model"),
    ("finance.model_savings", True, "model"),
    ("finance.monte_carlo.demand", True, "model"),
    # the scenario's numbers, added up
    ("budget_cap", False, "typed input"),
    ("finance", False, "typed input"),
)

_NOT_MODELLED = (False, "not modelled")


def _plain_path(steps) -> str:
    return ".".join(s[1] for s in steps if s[0] == "key")


def basis(path: str | None) -> tuple[bool, str]:
    """Whether the figure at ``path`` is made by the model (:data:`BASIS`), and in words.

    Parameters
    ----------
    path : str or None
        A dotted path into ``summary.json``.

    Returns
    -------
    (bool, str)
        ``(True, "model")``, ``(False, "typed input")``, or ``(False, "not modelled")`` for
        no path or one no entry covers.

    Examples
    --------
    >>> basis("finance.lines[name=OA1].low")
    (False, 'typed input')
    >>> basis("finance.model_savings.total")
    (True, 'model')
    """
    if path is None:
        return _NOT_MODELLED
    plain = _plain_path(summary_path_steps(path))
    best = None
    for prefix, derived, words in BASIS:
        if plain == prefix or plain.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, derived, words)
    return _NOT_MODELLED if best is None else (best[1], best[2])


def _keys(node: dict, limit: int = 8) -> str:
    names = list(node)
    text = ", ".join(names[:limit])
    return text + (f" and {len(names) - limit} more" if len(names) > limit else "")


def resolve_path(doc: dict, path: str):
    """The model's figure at ``path`` in a summary document.

    Parameters
    ----------
    doc : dict
        ``summary.json`` as read (or :meth:`mdtplan.summary.Summary.to_dict`).
    path : str
        Dotted path with optional list selectors (:func:`mdtplan.scenario.summary_path_steps`).

    Returns
    -------
    (value, note)
        ``value``: a number, or a dict ``{low, most_likely, high}`` (numbers or ``None``);
        ``None`` when the path leads nowhere or to no figure, and then ``note`` says why
        (else ``note`` is ``None``).

    Examples
    --------
    >>> doc = {"finance": {"lines": [{"name": "A", "low": 1.0, "most_likely": 2.0,
    ...                               "high": 3.0, "cashable": True}]}}
    >>> resolve_path(doc, "finance.lines[name=A]")
    ({'low': 1.0, 'most_likely': 2.0, 'high': 3.0}, None)
    >>> resolve_path(doc, "finance.lines[name=B]")[1]
    "path 'finance.lines[name=B]' not found: no item of finance.lines has name = B (names: A)"
    """
    node = doc
    where = ""
    for step in summary_path_steps(path):
        here = where or "summary.json"
        if step[0] == "key":
            key = step[1]
            if not isinstance(node, dict):
                return None, f"path '{path}' not found: {here} is not a mapping"
            if key not in node:
                return None, (f"path '{path}' not found: {here} has no key '{key}'"
                              + (f" (it has: {_keys(node)})" if node else ""))
            node = node[key]
            where = f"{where}.{key}" if where else key
            if node is None:
                return None, f"path '{path}' not found: {where} is empty (null) in this run"
        elif step[0] == "index":
            i = step[1]
            if not isinstance(node, list):
                return None, f"path '{path}' not found: {here} is not a list"
            if not -len(node) <= i < len(node):
                return None, (f"path '{path}' not found: {here} has {len(node)} items, "
                              f"no [{i}]")
            node = node[i]
            where = f"{where}[{i}]"
        else:
            _, field, value = step
            if not isinstance(node, list):
                return None, f"path '{path}' not found: {here} is not a list"
            hits = [item for item in node
                    if isinstance(item, dict) and str(item.get(field)) == value]
            if not hits:
                seen = [str(item.get(field)) for item in node if isinstance(item, dict)
                        and field in item]
                return None, (f"path '{path}' not found: no item of {here} has {field} = "
                              f"{value}" + (f" ({field}s: {', '.join(seen[:8])})" if seen
                                            else ""))
            if len(hits) > 1:
                return None, (f"path '{path}' is ambiguous: {len(hits)} items of {here} have "
                              f"{field} = {value}")
            node = hits[0]
            where = f"{where}[{field}={value}]"
    if _is_number(node):
        return float(node), None
    if isinstance(node, dict) and all(level in node for level in LEVELS):
        levels = {level: node[level] for level in LEVELS}
        if all(v is None or _is_number(v) for v in levels.values()):
            return {k: None if v is None else float(v) for k, v in levels.items()}, None
    return None, (f"path '{path}' leads to {type(node).__name__}, not a number or a "
                  "{low, most_likely, high} figure")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def rounding_tolerance(value: float) -> float:
    """Half a unit of the last significant digit of ``value`` as written.

    Examples
    --------
    >>> rounding_tolerance(9_800_000), rounding_tolerance(696_000), rounding_tolerance(1.5)
    (50000.0, 500.0, 0.05)
    """
    if value == 0:
        return 0.0
    exponent = Decimal(f"{abs(value):.12g}").normalize().as_tuple().exponent
    return float(Decimal(5) * Decimal(10) ** (exponent - 1))


def _tolerance(published: PublishedFigure) -> float | None:
    """How far from a single published value the model may lie (``None`` for other forms)."""
    if published.value is None:
        return None
    if published.tolerance is not None:
        return float(published.tolerance)
    return rounding_tolerance(published.value)


def _slack(bound: float) -> float:
    """Room for floating-point sums at a bound (a total of lines added up)."""
    return 1e-9 * max(1.0, abs(bound))


def within(published: PublishedFigure, model) -> bool | None:
    """Whether the model's figure agrees with the published one.

    Parameters
    ----------
    published : PublishedFigure
    model : float or dict or None
        A number, or ``{low, most_likely, high}`` (its ``most_likely`` is compared).

    Returns
    -------
    bool or None
        ``low <= m <= high`` for a range, ``m >= min``, ``m <= max``, and
        ``|m - value| <= tolerance`` for a single value (tolerance by default
        :func:`rounding_tolerance`); ``None`` when ``model`` (or its most likely) is missing.

    Examples
    --------
    >>> within(PublishedFigure(min=3.9e6), 4.1e6), within(PublishedFigure(max=360e3), 4e5)
    (True, False)
    >>> within(PublishedFigure(value=9.8e6), {"low": 9.8e6, "most_likely": 9.84e6, "high": 1e7})
    True
    """
    m = model.get("most_likely") if isinstance(model, dict) else model
    if m is None:
        return None
    m = float(m)
    p = published
    if p.value is not None:
        return abs(m - p.value) <= _tolerance(p) + _slack(p.value)
    if p.low is not None:
        return p.low - _slack(p.low) <= m <= p.high + _slack(p.high)
    if p.min is not None:
        return m >= p.min - _slack(p.min)
    if p.max is not None:
        return m <= p.max + _slack(p.max)
    return None


def _ends_within(published: PublishedFigure, model) -> bool | None:
    if not isinstance(model, dict) or model.get("low") is None or model.get("high") is None:
        return None
    return bool(within(published, model["low"]) and within(published, model["high"]))


def published_doc(published: PublishedFigure):
    """The published figure as ``summary.json`` writes it: a number for a single value
    (without a tolerance), else the mapping given."""
    doc = published.model_dump(exclude_none=True)
    return doc["value"] if set(doc) == {"value"} else doc


def _with_model_lines(summary_doc: dict, path: str, derived: bool,
                      words: str) -> tuple[bool, str]:
    """A finance figure that adds the lines up (totals, net, ratios, years) is the model's
    when some of its lines are (``source: model``); a line picked by a selector is what its
    ``source`` says."""
    if derived or not path.startswith("finance.") or path.startswith("finance.model_savings"):
        return derived, words
    lines = ((summary_doc.get("finance") or {}).get("lines")) or []
    if path.startswith("finance.lines["):
        found, _ = resolve_path(summary_doc, path.split("]")[0] + "]")
        if isinstance(found, dict) and found.get("source") == "model":
            return True, "model"
        return derived, words
    if path.startswith(("finance.investment", "finance.already_in_plan",
                        "finance.required_ratio", "finance.discount_rate")):
        return derived, words  # typed numbers, whatever the lines are
    sources = {ln.get("source", "typed") for ln in lines}
    if sources == {"model"}:
        return True, "model"
    if "model" in sources:
        return True, "model levers and typed lines"
    return derived, words


def fidelity_rows(summary_doc: dict, config: FidelityConfig) -> tuple[FidelityRow, ...]:
    """One row per published figure: the model's figure beside it, derived or typed, within.

    Parameters
    ----------
    summary_doc : dict
        The solved summary as ``summary.json`` holds it.
    config : FidelityConfig
        The scenario's ``fidelity`` section.

    Returns
    -------
    tuple of FidelityRow
        In the order of ``config.figures``.
    """
    rows = []
    for fig in config.figures:
        model, missing = (None, None) if fig.model is None else resolve_path(summary_doc,
                                                                             fig.model)
        if model is not None:
            derived, words = _with_model_lines(summary_doc, fig.model, *basis(fig.model))
        else:
            derived, words = False, "not modelled" if fig.model is None else "path not found"
        note = "; ".join(t for t in (fig.note, missing) if t) or None
        rows.append(FidelityRow(
            council=config.council, figure=fig.figure, published=published_doc(fig.published),
            model=model, derived=derived, within=within(fig.published, model),
            source=fig.source, basis=words, model_path=fig.model,
            ends_within=_ends_within(fig.published, model),
            tolerance=_tolerance(fig.published), unit=fig.unit, quote=fig.quote,
            note=note))
    return tuple(rows)


def check_paths(scenario: Scenario) -> list[Problem]:
    """Problems with the ``fidelity`` section that need no solve: a ``model`` path whose top
    key ``summary.json`` never has (a misspelling; deeper keys are looked up after the run).

    Returns
    -------
    list of Problem
        Each naming ``fidelity.figures[i].model``.
    """
    if scenario.fidelity is None:
        return []
    problems = []
    for i, fig in enumerate(scenario.fidelity.figures):
        if fig.model is None:
            continue
        top = summary_path_steps(fig.model)[0][1]
        if top not in SUMMARY_KEYS or top == "fidelity":
            problems.append(Problem(
                scenario.base_dir, None, f"fidelity.figures[{i}].model",
                f"'{fig.model}': summary.json has no key '{top}'",
                "start the path with a key of summary.json (docs/outputs.md), e.g. "
                "finance.totals.total or total_cost"))
    return problems
