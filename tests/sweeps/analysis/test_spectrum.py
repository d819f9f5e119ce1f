"""Weight spectra: the sweep's own networks against numpy.linalg.eigvals of their dense matrix."""
from __future__ import annotations

import numpy as np
import pytest

from sweeps.analysis.spectrum import point_spectra, weight_spectrum
from sweeps.cli import main
from sweeps.errors import SweepsError
from sweeps.spec.definition import parse_experiment

DEFINITION = """\
[experiment]
name = "spectrum"
model = "clustered_ei"
seed = 9

[parameters]
N_E = 160
N_I = 40
Q = 4
R_Eplus = 2.0

[sweep]
kappa = [0.0, 1.0]
networks = 2

[simulation]
duration = "10 ms"
sample_interval = "1 ms"
"""


def matching(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    """Every eigenvalue of ``a`` has a partner in ``b`` within ``tol`` (greedy, one-to-one)."""
    left = list(b)
    for value in a:
        distance = np.abs(np.array(left) - value)
        nearest = int(np.argmin(distance))
        if distance[nearest] > tol:
            return False
        left.pop(nearest)
    return True


def test_the_spectrum_of_a_sweep_network_is_that_of_its_dense_weight_matrix():
    from binnet_core import ClusteredEINetwork  # the network the run builds, built by hand

    experiment = parse_experiment(DEFINITION)
    spectra = point_spectra(experiment)
    assert len(spectra) == 4  # one per kappa and network
    from sweeps.spec.grid import Grid

    grid = Grid.from_experiment(experiment)
    for index, spectrum in spectra.items():
        params = grid.parameters(index)
        net = ClusteredEINetwork(params, seed=grid.seeds(index).connectivity)
        dense = net.weight_matrix().toarray()
        expected = np.linalg.eigvals(dense)
        scale = np.abs(expected).max()
        assert spectrum.complete and spectrum.n == 200
        # eigvals' backward error: ~ n * eps * ||W||; the same LAPACK call, so far tighter in practice
        assert matching(spectrum.eigenvalues, expected, 200 * np.finfo(float).eps * np.linalg.norm(dense, 2))
        assert spectrum.radius == pytest.approx(scale, rel=1e-12)
        assert spectrum.radius_95 == pytest.approx(np.percentile(np.abs(expected), 95), rel=1e-12)
        assert spectrum.max_real == pytest.approx(expected.real.max(), rel=1e-12, abs=1e-12)


def test_the_largest_eigenvalues_by_arpack_are_the_largest_of_the_whole_spectrum():
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(120, 120)) / np.sqrt(120)
    matrix[:10, :10] += 0.4  # one outlier of about 4 outside the unit bulk
    full = np.linalg.eigvals(matrix)
    for which, key in (("LM", np.abs), ("LR", np.real)):
        part = weight_spectrum(matrix, k=6, which=which)
        assert not part.complete and np.isnan(part.radius_95)
        top = full[np.argsort(-key(full))][:6]
        # the 6th may be either member of a conjugate pair: compare up to conjugation
        assert matching(part.eigenvalues, np.r_[top, top.conj()], 1e-8)
        np.testing.assert_allclose(np.sort(key(part.eigenvalues)), np.sort(key(top)), rtol=1e-10)
        again = weight_spectrum(matrix, k=6, which=which)
        np.testing.assert_array_equal(again.eigenvalues, part.eigenvalues)  # deterministic
    assert weight_spectrum(matrix, k=6, which="LR").max_real == pytest.approx(full.real.max(), rel=1e-10)


def test_bad_arguments_are_refused_naming_the_field():
    with pytest.raises(SweepsError, match="which"):
        weight_spectrum(np.eye(4), k=1, which="SM")
    with pytest.raises(SweepsError, match="k must be"):
        weight_spectrum(np.eye(4), k=3)
    with pytest.raises(SweepsError, match="square"):
        weight_spectrum(np.ones((3, 4)))


def test_the_command_prints_one_row_per_parameter_set(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(DEFINITION)
    assert main(["spectrum", str(path), "parameters.N_E=80", "parameters.N_I=20", "-o", str(tmp_path / "e.npz")]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert [r.split("  ")[0] for r in rows[1:5]] == ["kappa=0.0, network=0", "kappa=0.0, network=1",
                                                   "kappa=1.0, network=0", "kappa=1.0, network=1"]
    saved = np.load(tmp_path / "e.npz")
    assert saved["point0"].size == 100 and saved["labels"][2] == "kappa=1.0, network=0"
