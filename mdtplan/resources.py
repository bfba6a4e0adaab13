"""Where the bundled operating models, demo geodata and example scenarios live.

In a source checkout they are the top-level ``models/``, ``geodata/`` and ``examples/`` folders;
in an installed wheel they are packaged as ``mdtplan/_bundled/{models,geodata,examples}``.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    """The folder ``models``, ``geodata`` or ``examples``, from the checkout or the wheel."""
    for candidate in (_PKG.parent / name, _PKG / "_bundled" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled folder '{name}' not found beside {_PKG}")


def find_operating_model(name: str) -> str | None:
    """Path of a bundled operating model by bare name (``kent-local-care`` or ``...yaml``)."""
    try:
        models = bundled_dir("models")
    except FileNotFoundError:
        return None
    stem = Path(name).name
    for cand in (models / stem, models / f"{stem}.yaml"):
        if cand.is_file():
            return str(cand)
    return None


def demo_scenario() -> Path:
    """The bundled demo scenario, ``examples/demo.yaml``."""
    return bundled_dir("examples") / "demo.yaml"
