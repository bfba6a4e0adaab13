"""Errors of every layer, each carrying the list of problems found.

A loader checks everything it can, gathers every :class:`Problem`, and raises once at the end,
so a user sees all that is wrong with their files in one run, not the first fault only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input, said so that they can fix it.

    Parameters
    ----------
    file : str or None
        The file at fault (as the user named it), or ``None`` for the scenario as a whole.
    row : str or None
        The row, feature id or key at fault (e.g. an area id ``E02005040`` or ``row 17``).
    column : str or None
        The column or scenario key at fault (e.g. ``pop_85_plus`` or ``hubs.count.min``).
    message : str
        What is wrong.
    hint : str or None
        What to do about it.
    severity : str
        ``"error"`` (the scenario cannot be solved) or ``"warning"`` (it was repaired or is odd,
        and the repair is reported so nothing is changed silently).
    """

    file: str | None
    row: str | None
    column: str | None
    message: str
    hint: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}" if str(self.row).isdigit() else str(self.row))
        if self.column:
            where.append(f"column '{self.column}'")
        text = (": ".join([", ".join(where), self.message]) if where else self.message)
        if self.hint:
            text += f" -> {self.hint}"
        return text

    def to_dict(self) -> dict:
        return asdict(self)


class MdtplanError(Exception):
    """Base of every mdtplan error; carries ``problems``."""

    exit_code = 1

    def __init__(self, problems: list[Problem] | Problem | str, *, file: str | None = None):
        if isinstance(problems, str):
            problems = [Problem(file, None, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self.summary())

    def summary(self) -> str:
        errors = [p for p in self.problems if p.severity == "error"]
        shown = errors or self.problems
        head = f"{len(shown)} problem{'s' if len(shown) != 1 else ''}"
        return head + ":\n" + "\n".join(f"  - {p}" for p in shown)


class ScenarioError(MdtplanError):
    """The scenario document is malformed (unknown key, wrong type, bad override)."""

    exit_code = 2


class InputError(MdtplanError):
    """A data file the scenario names is missing, malformed or inconsistent."""

    exit_code = 2


class ModelError(MdtplanError):
    """The model cannot be built from the data (provably infeasible before solving, too large)."""

    exit_code = 2


class SolveError(MdtplanError):
    """The solver failed in a way that is not an answer about the problem."""

    exit_code = 1


class InfeasibleError(MdtplanError):
    """No plan satisfies every rule; ``problems`` say which rules conflict and by how much."""

    exit_code = 3


class CancelledError(MdtplanError):
    """The run was cancelled by the user (CLI interrupt or API ``DELETE``)."""

    exit_code = 1


class OutOfTime(SolveError):  # noqa: N818 - a condition, not a failure of the user's input
    """A fixed configuration (today's, or the plan facing a later year's demand) found no
    plan within the time it was given (:mod:`mdtplan.appraisal.baseline`): a run skips that
    follow-up and says so in its warnings, rather than failing (a busy machine is not the
    user's error). :attr:`reason` says it in words."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"the fixed configuration could not be evaluated: {reason}")
