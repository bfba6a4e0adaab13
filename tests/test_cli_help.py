"""What a newcomer reads from the command line: every option's help (with its unit and default),
plain progress lines when the output is a pipe or a log, and units on every figure."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import typer
from typer.testing import CliRunner

from mdtplan.cli import PlainProgress, _objective_words, app

REPO = Path(__file__).resolve().parents[1]
#: the service's commands (api/cli.py): checked for help strings like the rest
SERVICE_COMMANDS = {"serve", "keys create"}


def _commands(group, prefix: str = "") -> list[tuple[str, object]]:
    """Every command of the app (typer's click commands), sub-commands of groups
    (``keys create``) included."""
    out = []
    for name, cmd in sorted(group.commands.items()):
        if getattr(cmd, "commands", None):
            out += _commands(cmd, f"{prefix}{name} ")
        else:
            out.append((f"{prefix}{name}", cmd))
    return out


COMMANDS = _commands(typer.main.get_command(app))


def test_every_command_is_there():
    names = {n for n, _ in COMMANDS}
    assert {"demo", "validate", "solve", "compare", "map", "sweep", "orlib", "bench", "schema",
            "serve", "keys create"} <= names


@pytest.mark.parametrize("name,cmd", COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_option_and_argument_has_help(name, cmd):
    assert (cmd.help or "").strip(), f"{name} has no description"
    assert cmd.params or name == "keys create"
    for param in cmd.params:   # the options and arguments (click's own --help is not here)
        text = (getattr(param, "help", None) or "").strip()
        assert len(text) > 10, f"{name}: {param.opts} has no help"


@pytest.mark.parametrize("name,cmd", COMMANDS, ids=[n for n, _ in COMMANDS])
def test_options_read_well_flags_values_and_defaults(name, cmd):
    """Booleans as --flag/--no-flag; a value option shows what it takes (SECONDS, FOLDER,
    KEY=VALUE), and one without a default value says what happens without it."""
    for param in cmd.params:
        if param.param_type_name != "option":
            continue
        if param.is_flag:
            assert param.secondary_opts and param.secondary_opts[0].startswith("--"), \
                f"{name} {param.opts}: a flag without its --no- form"
            continue
        assert param.metavar and not param.metavar.startswith("<"), \
            f"{name} {param.opts}: no metavar saying what it takes"
        if param.default is None and not param.required:
            assert "default" in param.help.lower(), f"{name} {param.opts}: default not said"
        if "time-limit" in param.opts[0]:
            assert "seconds" in param.help.lower()


@pytest.mark.parametrize("name", [n for n, _ in COMMANDS])
def test_help_text_has_no_type_placeholders_for_flags(name):
    r = CliRunner().invoke(app, [*name.split(), "--help"])
    assert r.exit_code == 0, r.output
    assert "<bool>" not in r.output
    assert "Show this message and exit." in r.output


def test_solve_help_names_units_and_defaults():
    text = CliRunner().invoke(app, ["solve", "--help"]).output
    for words in ("--time-limit SECONDS", "--threads N", "--mip-gap FRACTION",
                  "--set KEY=VALUE", "--out FOLDER", "[default: out]",
                  "solver.time_limit_s (60 s", "solver.threads (2)"):
        assert words in text, words
    assert "--serial / --no-serial" in CliRunner().invoke(app, ["sweep", "--help"]).output


# ------------------------------------------------------------------------------------------
# Progress lines when the output is not a terminal


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_plain_progress_lines_at_stage_changes_and_at_most_every_few_seconds():
    clock, lines = _Clock(), []
    p = PlainProgress(60, every_s=5, clock=clock, write=lines.append)
    p({"stage": "load", "message": "loading inputs"})
    clock.now += 0.5
    p({"stage": "build"})
    for i in range(20):                     # HiGHS reports many times a second: few lines
        clock.now += 0.5
        p({"stage": "solve", "objective_stage": "cost_gbp", "primal": 23_245_000.0 - i,
           "gap": 0.05})
    assert [ln.split("] ")[1] for ln in lines[:2]] == ["Loading the inputs.",
                                                        "Building the model."]
    solving = lines[2:]
    assert len(solving) == 2                # at 1 s, then 5 s later (the last at 10.5 s)
    assert solving[0] == ("mdtplan [   1 s of 60 s] Searching for the best plan (goal: lowest "
                          "cost). Best plan so far: £23.25m a year, at most 5.0% from the best "
                          "possible.")
    clock.now += 0.5                        # a new goal is a new stage: said at once
    p({"stage": "solve", "objective_stage": "travel", "primal": None, "gap": None})
    assert lines[-1].endswith("Searching for the best plan (goal: shortest travel).")
    clock.now += 0.5                        # and its first plan too
    p({"stage": "solve", "objective_stage": "travel", "primal": 51_234.0, "gap": None})
    assert lines[-1].endswith("Best plan so far: total travel 51,234 minutes (weighted), no "
                              "bound on the best possible plan proven yet.")
    clock.now += 0.5                        # a figure the event lacks is the last one known
    p({"stage": "solve", "objective_stage": "travel", "primal": None, "gap": 0.25})
    assert "51,234" not in p.line({"stage": "solve", "objective_stage": "travel"}, 0)
    assert "51,234 minutes (weighted), at most 25.0%" in p.line(p._event, 0)
    n = len(lines)
    p.tick()                                # quiet solver, too soon: nothing
    clock.now += 6
    p.tick()                                # quiet for 6 s: the line again, later
    assert len(lines) == n + 1 and "[  18 s of 60 s]" in lines[-1]


def test_plain_progress_says_the_last_of_a_count_at_once():
    clock, lines = _Clock(), []
    p = PlainProgress(None, clock=clock, write=lines.append)
    for done in range(5):
        p({"stage": "sweep", "done": done, "total": 4})
    assert lines[0].endswith("Solving the variants (0 of 4 done).")
    assert lines[-1].endswith("Solving the variants (4 of 4 done).") and len(lines) == 2


@pytest.fixture(scope="module")
def piped_demo(tmp_path_factory):
    """``mdtplan demo`` with its output going to pipes, as in a CI log."""
    out = tmp_path_factory.mktemp("piped") / "demo"
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120"}
    env.pop("FORCE_COLOR", None)
    proc = subprocess.run(
        [sys.executable, "-c", "from mdtplan.cli import main; main()", "demo", "--out",
         str(out), "--time-limit", "8"],
        capture_output=True, text=True, timeout=300, env=env,  # pipes, as in a CI log
        cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_piped_demo_prints_progress_lines_on_stderr(piped_demo):
    lines = [ln for ln in piped_demo.stderr.splitlines() if ln.startswith("mdtplan [")]
    text = "\n".join(lines)
    assert "Loading the inputs." in text and "Building the model." in text
    assert re.search(r"\[ +\d+ s of 8 s\] Searching for the best plan \(goal: most demand "
                     r"met\)", text), text
    assert re.search(r"Best plan so far: ([\d,]+ hours a year of demand not met|all demand "
                     r"met), (at most [\d.]+% from|proven) the best possible", text), text
    assert "\x1b[" not in piped_demo.stderr          # no terminal control codes in a log
    # progress goes to stderr: stdout holds the plan's table only
    assert "Loading the inputs" not in piped_demo.stdout


def test_piped_demo_figures_carry_their_units(piped_demo):
    out = piped_demo.stdout
    assert not re.search(r"\d\.\d+e[+-]\d\d", out), "a figure in scientific notation"
    assert re.search(r"Objective \(max_demand_met\)\s*│\s*([\d,]+ hours a year of demand"
                     r"|all demand met)", out), out[:3000]
    assert re.search(r"Total annual cost\s*│\s*£[\d,]+ a year \(cap £[\d,]+\)", out)
    assert re.search(r"Demand met\s*│\s*[\d.]+% of [\d,]+ hours a year", out)
    assert re.search(r"Population per hub\s*│\s*[\d,]+ – [\d,]+ – [\d,]+ people", out)
    assert re.search(r"FTE social_worker\s*│\s*[\d,.]+ FTE", out)
    assert re.search(r"\d minutes", out)                      # travel
    assert re.search(r"Staff travel \(visits\)\s*│\s*[\d,]+ hours a year, [\d,]+ miles, £", out)


def test_objectives_in_their_units():
    def summary(name, value, stage=None, unit="minutes"):
        return SimpleNamespace(report=SimpleNamespace(
            objective_name=name, objective=value,
            stages=[{"name": stage}] if stage else []), travel=SimpleNamespace(unit=unit))

    assert _objective_words(summary("min_cost", 4.91372e7)) == "£49,137,200 a year"
    assert _objective_words(summary("max_demand_met", 21_371.2, "unmet_hours")) == \
        "21,371 hours a year of demand not met"
    assert _objective_words(summary("min_max_travel", 38.25)) == "longest journey 38.2 minutes"
    assert _objective_words(summary("min_travel", 1234.0, unit="units")) == \
        "total travel 1,234 units (weighted)"
