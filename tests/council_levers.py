"""The councils' levers worked out by hand on an example's areas, without solving: each lever
at its whole most likely share of the cohort (what the plan reaches when no rule holds it
back), as :mod:`mdtplan.appraisal.levers` costs it: most likely = share x cohort x (care saving
a person - staff a person), high = the same people at the high care saving, low = the low
share at the low care saving."""

from __future__ import annotations

from pathlib import Path

from mdtplan.care import flow_contacts, lever_table
from mdtplan.inputs.load import load_inputs
from mdtplan.operating_model import load_operating_model
from mdtplan.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
LEVELS = ("low", "most_likely", "high")


def full_reach(name: str) -> dict:
    """``{lever id: {cohort, people, staff_per_person, low, most_likely, high, cashable}}``
    [people, GBP, GBP/year] of ``examples/<name>.yaml``'s operating model on its areas."""
    scenario = load_scenario(REPO / "examples" / f"{name}.yaml")
    om = load_operating_model(scenario.operating_model)
    table = lever_table(flow_contacts(load_inputs(scenario).areas, om), om)
    per_hour = {r.id: r.cost_gbp_per_fte / r.productive_hours_per_fte for r in om.roles}
    out = {}
    for lv in table.levers:
        cohort = float(table.cohort[lv.id].sum())
        staff = float(sum(h * per_hour[r] for r, h in table.hours.loc[lv.id].items()))
        share, saving = table.share.loc[lv.id], table.saving_gbp.loc[lv.id]
        people = float(share["most_likely"]) * cohort
        out[lv.id] = {"cohort": cohort, "people": people, "staff_per_person": staff,
                      "cashable": lv.cashable, "name": lv.name,
                      "low": float(share["low"]) * cohort * (float(saving["low"]) - staff),
                      "most_likely": people * (float(saving["most_likely"]) - staff),
                      "high": people * (float(saving["high"]) - staff)}
    return out


def model_savings_doc(name: str) -> dict:
    """``finance.model_savings`` as summary.json would hold it for :func:`full_reach`."""
    lines = full_reach(name)

    def total(pred) -> dict:
        return {x: sum(v[x] for v in lines.values() if pred(v)) for x in LEVELS}

    return {"total": total(lambda v: True), "cashable": total(lambda v: v["cashable"]),
            "quality": total(lambda v: not v["cashable"]),
            "lines": [{"id": k, "name": v["name"], "source": "model",
                       **{x: v[x] for x in LEVELS}} for k, v in lines.items()]}


def no_hiring_model(model_file: str, role: str, folder: Path) -> Path:
    """``models/<model_file>`` written to ``folder`` with no ``role`` to hire beyond today's
    permanent staff (``rules.hiring_limit_fte``: 0) and no agency for it: a supply limit the
    solve's gap cannot absorb."""
    import yaml

    model = yaml.safe_load((REPO / "models" / model_file).read_text())
    model.setdefault("rules", {})["hiring_limit_fte"] = {role: 0.0}
    for spec in model["roles"]:
        if spec["id"] == role:
            spec["max_agency_share"] = 0.0
    path = folder / f"no-hiring-{model_file}"
    path.write_text(yaml.safe_dump(model, allow_unicode=True))
    return path

