"""``[sweep.adaptive]``: every bad setting refused with its field, before any work."""

from __future__ import annotations

import pytest

from sweeps import load_experiment
from sweeps.errors import DefinitionError
from sweeps.plan import SweepPlan
from sweeps.spec.adaptive import Budget
from sweeps.spec.definition import parse_experiment

BASE = """\
[experiment]
name = "a"
model = "tests.reference.boundarymodel:MODEL"
seed = 1

[sweep]
x = {{linspace = [0.0, 1.0, 9]}}
y = {{linspace = [0.0, 1.0, 9]}}
networks = 2

[sweep.adaptive]
{adaptive}

[simulation]
duration = "2 ms"
sample_interval = "1 ms"
{theory}
"""
GOOD = 'variable = "active"\nbudget = 40\nbatch = 7'


def parse(adaptive: str, theory: str = ""):
    return parse_experiment(BASE.format(adaptive=adaptive, theory=theory))


def test_settings_are_read_and_the_budget_is_not_part_of_the_identity():
    a = parse(GOOD + '\ncoarse_spacing = 2').adaptive
    assert (a.variable, a.budget, a.batch, a.coarse_spacing, a.theory_seeding) == (
        "active", Budget(points=40), 7, 2, False)
    assert parse(GOOD.replace("40", '"25 %"')).adaptive.budget.of(81) == 21  # rounded up
    assert parse(GOOD.replace("40", "0.25")).adaptive.budget.of(81) == 21
    one, other = parse(GOOD), parse(GOOD.replace("40", "60"))
    assert one.identity() == other.identity()
    assert one.identity() != parse(GOOD.replace("7", "9")).identity()
    assert a.level is None and "level" not in one.identity()  # stores made before levels keep theirs
    leveled = parse(GOOD + "\nlevel = 0.5")
    assert leveled.adaptive.level == 0.5 and leveled.identity() != one.identity()
    assert parse(GOOD + "\nlevel = 1").adaptive.level == 1.0


@pytest.mark.parametrize(("adaptive", "theory", "field", "words"), [
    ('budget = 40\nbatch = 7', "", "sweep.adaptive.variable", "missing"),
    ('variable = "active"\nbatch = 7', "", "sweep.adaptive.budget", "missing"),
    (GOOD.replace("40", "0"), "", "sweep.adaptive.budget", ">= 1"),
    (GOOD.replace("40", '"150 %"'), "", "sweep.adaptive.budget", "0 < x <= 100"),
    (GOOD.replace("40", '"lots"'), "", "sweep.adaptive.budget", "percentage"),
    (GOOD.replace("40", "1.5"), "", "sweep.adaptive.budget", "fraction"),
    (GOOD.replace("40", "5"), "", "sweep.adaptive.budget", "fewer than the 9 points of the coarse lattice"),
    (GOOD.replace("batch = 7", "batch = 4"), "", "sweep.adaptive.batch", "must be >= 5"),
    (GOOD.replace("batch = 7", "batch = 0"), "", "sweep.adaptive.batch", ">= 1"),
    (GOOD + "\ncoarse_spacing = 0", "", "sweep.adaptive.coarse_spacing", ">= 1"),
    (GOOD + "\ntheory_seeding = 1", "", "sweep.adaptive.theory_seeding", "must be bool"),
    (GOOD + "\ntheory_seeding = true", "", "sweep.adaptive.theory_seeding", r"needs a \[theory\] table"),
    (GOOD + "\ntheory_rounds = 2", "", "sweep.adaptive.theory_rounds", "needs theory_seeding = true"),
    (GOOD + "\nbugdet = 3", "", "sweep.adaptive.bugdet", "did you mean 'budget'"),
    (GOOD + '\nlevel = "half"', "", "sweep.adaptive.level", "finite number"),
    (GOOD + "\nlevel = true", "", "sweep.adaptive.level", "finite number"),
    (GOOD + "\nlevel = inf", "", "sweep.adaptive.level", "finite number"),
])
def test_bad_settings_are_refused_naming_the_field(adaptive, theory, field, words):
    with pytest.raises(DefinitionError, match=words) as err:
        parse(adaptive, theory)
    assert err.value.field == field


def test_theory_seeding_needs_an_R_Eplus_axis():
    with pytest.raises(DefinitionError) as err:
        parse(GOOD + "\ntheory_seeding = true", "\n[theory]\nfocus_counts = [1]\n")
    assert err.value.field == "sweep.adaptive.theory_seeding" and "R_Eplus" in str(err.value)


def test_the_variable_must_be_a_stored_numeric_scalar(tmp_path):
    path = tmp_path / "d.toml"
    path.write_text(BASE.format(adaptive=GOOD.replace('"active"', '"activity"'), theory=""))
    with pytest.raises(DefinitionError, match="allowed: active") as err:
        SweepPlan.build(load_experiment(path))
    assert err.value.field == "sweep.adaptive.variable" and err.value.allowed == ("active",)


CLUSTERED = """\
[experiment]
name = "a"
model = "clustered_ei"
seed = 1

[parameters]
N_E = 400
N_I = 100
Q = 4

[sweep]
R_Eplus = [1.0, 1.5, 2.0, 2.5, 3.0]
networks = 2

[sweep.adaptive]
variable = "{variable}"
budget = "100 %"
batch = 2

[simulation]
duration = "100 ms"
sample_interval = "10 ms"
"""
#: numeric scalars of the clustered E/I network that are no deterministic result of the model
NOT_RESULTS = ("build_seconds", "simulation_seconds", "updates_per_second", "connectivity_bytes",
               "start_copy", "initial_source", "initial_focus_count", "initial_stable")


@pytest.mark.parametrize("variable", NOT_RESULTS)
def test_timing_and_bookkeeping_variables_are_refused_and_not_offered(variable):
    with pytest.raises(DefinitionError, match="timing or bookkeeping") as err:
        SweepPlan.build(parse_experiment(CLUSTERED.format(variable=variable)))
    assert err.value.field == "sweep.adaptive.variable"
    assert "mean_active_clusters" in err.value.allowed and "switch_rate" in err.value.allowed
    assert not set(NOT_RESULTS) & set(err.value.allowed)


def test_a_measured_result_is_accepted():
    plan = SweepPlan.build(parse_experiment(CLUSTERED.format(variable="mean_active_clusters")))
    assert plan.experiment.adaptive.variable == "mean_active_clusters"
