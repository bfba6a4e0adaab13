"""The bundled operating models (models/*.yaml): they load, hold what each council's model
needs, cite a source for every number, and the default is calibrated against England."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from mdtplan.demand import compute_demand, demand_matrix, demand_summary
from mdtplan.errors import ScenarioError
from mdtplan.operating_model import OperatingModel, load_operating_model
from mdtplan.scenario import Workstream

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
MODEL_FILES = sorted(MODELS_DIR.glob("*.yaml"))
PRESETS = ["default", "kent-local-care", "york-localities", "medway-three-conversations",
           "leicestershire-tom"]
BANDS = ["age_18_64", "age_65_74", "age_75_84", "age_85_plus"]
SPECIALISTS = {"safeguarding", "mental_health", "sensory", "autism", "quality_improvement"}
POPULATION_COLUMNS = {"pop_18_64": "age_18_64", "pop_65_74": "age_65_74",
                      "pop_75_84": "age_75_84", "pop_85_plus": "age_85_plus"}

# National workforce the default is calibrated against (FACTS §3b): LA adult social workers incl.
# agency, Sept 2023; LA occupational therapists (filled posts), Sept 2022.
NATIONAL_SW = 18_500
NATIONAL_OT = 3_200
CALIBRATION_BAND = (0.6, 1.6)

# A comment cites when it names a FACTS section or source key, a URL, a derivation (≈), an
# assumption (⚠), or repeats another model's number.
CITATION_MARKERS = ("FACTS", "§", "[S", "⚠", "≈", "http", "default.yaml", ".csv",
                    "schema default")


def model(name: str) -> OperatingModel:
    return load_operating_model(MODELS_DIR / f"{name}.yaml")


@pytest.fixture(scope="module")
def england_areas(shared_data) -> pd.DataFrame:
    path = shared_data / "england" / "england_msoa11_population_mid2020_imd2019.csv"
    table = pd.read_csv(path).set_index("msoa11_code")
    return table.rename(columns=POPULATION_COLUMNS | {"imd2019_score_popweighted": "deprivation"})


def test_every_preset_is_there():
    assert {p.stem for p in MODEL_FILES} >= set(PRESETS)


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.stem)
def test_model_loads_and_is_complete(path):
    om = load_operating_model(path)
    assert om.name == path.stem
    assert om.age_bands == BANDS
    assert om.description
    assert {r.id for r in om.specialist_roles} >= SPECIALISTS
    for role in om.core_roles:
        assert role.min_fte_per_hub > 0, f"{role.id}: core roles set the MDT's composition"
    for role in om.roles:
        assert 1500 <= role.productive_hours_per_fte <= 1600     # FACTS §6 range
        # a locality manager (one per locality team) is paid above a team manager
        assert 25_000 < role.cost_gbp_per_fte < (100_000 if role.kind == "locality" else 80_000)
    # every hub or pool role has demand somewhere, or the optimiser would never staff it; a
    # locality role has none (it is staffed per locality team)
    matrix = demand_matrix(om)
    locality = [r.id for r in om.locality_roles]
    assert (matrix[locality].sum(axis=0) == 0).all()
    matrix = matrix.drop(columns=locality)
    assert (matrix.sum(axis=0) > 0).all(), matrix.sum(axis=0)[matrix.sum(axis=0) == 0]
    # and every band generates some demand
    assert (matrix.sum(axis=1) > 0).all()


def test_kent_local_care(shared_data):
    om = model("kent-local-care")
    assert {r.id for r in om.core_roles} >= {"social_worker", "occupational_therapist",
                                             "care_navigator", "team_manager",
                                             "health_social_care_worker"}
    assert {r.id for r in om.specialist_roles} >= SPECIALISTS
    assert om.pools.by == "area_group"
    assert set(om.pools.groups) == {"East", "West"}
    assert set(om.pools.groups["East"]) == {"Ashford", "Canterbury", "Dover",
                                            "Folkestone and Hythe", "Swale", "Thanet"}
    assert set(om.pools.groups["West"]) == {"Dartford", "Gravesham", "Maidstone", "Sevenoaks",
                                            "Tonbridge and Malling", "Tunbridge Wells"}
    kent = pd.read_csv(shared_data / "kent" / "kent_msoa11_population_mid2020.csv")
    kcc_districts = set(kent.loc[kent["in_kcc"], "lad_name"])
    assert len(kcc_districts) == 12
    covered = set(om.pools.groups["East"]) | set(om.pools.groups["West"])
    assert covered == kcc_districts
    assert "30,000-50,000" in om.description
    # the local care model's saving is made by levers on Kent's pathways (its £4m investment is
    # in examples/kent.yaml); the calibration is checked in tests/test_council_levers.py
    assert om.workstreams == []
    assert {lv.id: lv.kind for lv in om.levers} == {"enablement_first": "divert",
                                                    "home_care_right_sizing": "resize"}


def test_medway_three_conversations():
    om = model("medway-three-conversations")
    pathways = {p.id: p for p in om.demand.pathways}
    assert set(pathways) == {"conversation_1", "conversation_2", "conversation_3"}
    # each conversation has its own hours by role
    hours = [tuple(sorted(p.hours_per_contact.items())) for p in pathways.values()]
    assert len(set(hours)) == 3
    # conversation 2 carries the reablement, conversation 3 the long-term social work
    assert pathways["conversation_2"].hours_per_contact["reablement_worker"] > 0
    assert (pathways["conversation_3"].hours_per_contact["social_worker"]
            > pathways["conversation_1"].hours_per_contact["social_worker"])
    split = [g for g in om.demand.client_groups if g.pathways]
    assert split, "some client group must split over the conversations"
    for group in split:
        assert set(group.pathways) == set(pathways)
        # conversation 1 is the most common (Medway's test for change)
        assert max(group.pathways, key=group.pathways.get) == "conversation_1"


def test_york_locality_functions():
    om = model("york-localities")
    functions = {"initial_contact", "duty", "new_assessments", "reassessments",
                 "procurement_of_services", "planned_reviews", "specialist_assessments",
                 "safeguarding"}
    ids = {g.id for g in om.demand.client_groups} | {p.id for p in om.demand.pathways}
    assert functions <= ids
    # the three savings lines are levers the model works out (tests/test_council_levers.py)
    assert [lv.id for lv in om.levers] == ["community_support", "nursing_care",
                                           "residential_care"]
    assert [lv.kind for lv in om.levers] == ["resize", "move", "move"]
    assert om.workstreams == []


def test_leicestershire_workstreams_are_levers():
    om = model("leicestershire-tom")
    codes = [lv.name.split()[0] for lv in om.levers]
    assert codes == ["OA1", "OA2", "OA3", "WAA1", "WAA2", "WAA3", "WAA4"]
    by_code = dict(zip(codes, om.levers, strict=True))
    assert by_code["OA1"].divert.from_flow == "assessments_older_people"
    assert by_code["OA1"].divert.to_flow == "reablement"
    assert {c for c, lv in by_code.items() if not lv.cashable} == {"OA3", "WAA4"}
    assert om.workstreams == []        # the calibration: tests/test_council_levers.py
    assert "1.25m" in om.description and "4.5m" in om.description
    assert {r.id for r in om.core_roles} >= {"social_worker", "reablement_worker"}


# ---- every number cites a source ------------------------------------------------------------

def _numeric_scalars(node):
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _numeric_scalars(key)
            yield from _numeric_scalars(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _numeric_scalars(item)
    elif isinstance(node, yaml.ScalarNode) and node.tag.endswith((":int", ":float")):
        yield node


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" -"))


def _cites(comment: str) -> bool:
    return any(marker in comment for marker in CITATION_MARKERS)


def _is_cited(lines: list[str], i: int) -> bool:
    """Inline comment; or a comment block directly above; or an enclosing key's comment."""
    line = lines[i]
    if "#" in line and _cites(line.split("#", 1)[1]):
        return True
    j = i - 1
    while j >= 0 and lines[j].lstrip().startswith("#"):
        if _cites(lines[j]):
            return True
        j -= 1
    level = _indent(line)
    for j in range(i - 1, -1, -1):
        text = lines[j]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        if _indent(text) < level:
            if "#" in text and _cites(text.split("#", 1)[1]):
                return True
            level = _indent(text)
            if level == 0:
                return False
    return False


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.stem)
def test_every_number_cites_a_source(path):
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    numbers = list(_numeric_scalars(yaml.compose(text)))
    assert numbers, "the check must see the numbers"
    uncited = sorted({n.start_mark.line + 1 for n in numbers
                      if not _is_cited(lines, n.start_mark.line)})
    assert not uncited, f"{path.name}: lines without a cited source: {uncited}"


def test_citation_check_catches_an_uncited_number():
    lines = ["roles:", "  - id: x", "    cost_gbp_per_fte: 5  # FACTS §6",
             "    fte_step: 0.5", "    min_fte_per_hub: 1  # just because"]
    assert _is_cited(lines, 2)
    assert not _is_cited(lines, 3)
    assert not _is_cited(lines, 4)


# ---- calibration against the national workforce ---------------------------------------------

def test_deprivation_reference_is_the_england_population_weighted_mean(england_areas):
    score, weight = england_areas["deprivation"], england_areas["pop_total"]
    mean = float((score * weight).sum() / weight.sum())
    for name in PRESETS:
        assert model(name).demand.deprivation.reference_score == pytest.approx(mean, abs=0.01)


def test_default_model_on_england_matches_the_national_workforce(england_areas):
    om = model("default")
    summary = demand_summary(compute_demand(england_areas, om), om)
    low, high = CALIBRATION_BAND
    sw, ot = summary.loc["social_worker", "fte"], summary.loc["occupational_therapist", "fte"]
    assert low * NATIONAL_SW <= sw <= high * NATIONAL_SW, sw
    assert low * NATIONAL_OT <= ot <= high * NATIONAL_OT, ot
    # SW-qualified roles together (locality SWs + safeguarding/BIA + AMHP + autism) should be
    # close to the 18,500 headcount: within 15% (models/README.md gives the numbers)
    qualified = summary.loc[["social_worker", "safeguarding", "mental_health", "autism"],
                            "fte"].sum()
    assert qualified == pytest.approx(NATIONAL_SW, rel=0.15)


@pytest.mark.parametrize("name", PRESETS)
def test_presets_stay_near_the_national_calibration(name, england_areas):
    om = model(name)
    summary = demand_summary(compute_demand(england_areas, om), om)
    low, high = CALIBRATION_BAND
    assert low * NATIONAL_SW <= summary.loc["social_worker", "fte"] <= high * NATIONAL_SW
    assert low * NATIONAL_OT <= summary.loc["occupational_therapist", "fte"] <= high * NATIONAL_OT


def _york_with_workstream(tmp_path, **changes):
    doc = yaml.safe_load((MODELS_DIR / "york-localities.yaml").read_text())
    doc["workstreams"] = [{"name": "Community support", "low": 696_000, "high": 696_000,
                           **changes}]
    path = tmp_path / "om.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_models_workstreams_follow_the_scenarios_schema(tmp_path):
    # one Workstream schema: a model's workstream may be phased, and a range upside down is
    # refused naming the file and the workstream, as in a scenario
    om = load_operating_model(_york_with_workstream(tmp_path, phasing=[0.5, 1.0]))
    assert om.workstreams[0].phasing == [0.5, 1.0]
    assert type(om.workstreams[0]) is Workstream
    with pytest.raises(ScenarioError) as err:
        load_operating_model(_york_with_workstream(tmp_path, low=900_000, high=100_000))
    problem = err.value.problems[0]
    assert problem.column == "workstreams.0" and "above high" in problem.message
    assert problem.file.endswith("om.yaml")
