"""README's two commands: CI runs exactly the test command, and both go through setup.sh."""

from __future__ import annotations

import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Two commands on a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_ci_runs_exactly_the_readme_test_command():
    demo, test = _commands()[:2]
    assert demo == "./setup.sh && .venv/bin/mdtplan demo"
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == test == "./setup.sh test && .venv/bin/python -m pytest -n 2 -q"


def test_setup_makes_a_virtual_environment_so_debian_python_can_install():
    setup = REPO / "setup.sh"
    assert os.access(setup, os.X_OK)
    text = setup.read_text()
    assert '"$PY" -m venv .venv' in text and "python3-venv" in text
    assert "'.[test]'" in text  # ./setup.sh test installs the test extras


def test_every_picture_the_readme_shows_is_in_the_repository():
    text = (REPO / "README.md").read_text()
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(pictures) >= 8
    missing = [p for p in pictures if not (REPO / p).is_file()]
    assert missing == []
