"""Starlight: encoding round trip, the cache, fitting errors, more samples -> better rho."""

from __future__ import annotations

import numpy as np
import pytest
from dlac.dse.errors import DseError
from dlac.dse.hwspace import preset
from dlac.dse.models.starlight import Starlight
from dlac.dse.models.starlight_data import analytical_dataset, joint_sobol, zoo_layers
from dlac.dse.models.starlight_encoding import decode, encode, features, width
from dlac.dse.models.starlight_low import LowConfig, cache_key, cache_path, load_or_train
from scipy.stats import spearmanr

TINY = LowConfig(points=1 << 9, epochs=2)


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DLAC_CACHE", str(tmp_path))
    return tmp_path


@pytest.fixture()
def low(cache):
    return load_or_train("edge", zoo_layers()[:6], TINY, progress=False)


def test_encoding_round_trip() -> None:
    groups = joint_sobol(preset("edge"), zoo_layers(), 256, per_pair=16, seed=1)
    for g in groups[:6]:
        x = encode(g.target, g.layer, g.batch)
        assert x.shape == (len(g.batch), width()) and len(features()) == width()
        d = decode(x)
        t = g.target
        assert (d.dim == t.dim).all() and (d.sp_kib == t.sp_kib).all()
        assert (d.acc_kib == t.acc_kib).all() and (d.bus_bits == t.dma_bus_bits).all()
        assert (d.has_ws == t.supports_ws).all() and (d.has_os == t.supports_os).all()
        sizes = g.layer.canonical()
        assert (d.sizes == np.array(list(sizes.values()))[:, None]).all()
        assert np.array_equal(d.batch.tiles, g.batch.tiles)
        assert np.array_equal(d.batch.rank, g.batch.rank)
        assert d.batch.mappings(g.layer) == g.batch.mappings(g.layer)


def test_low_is_cached_and_deterministic(cache) -> None:
    layers = zoo_layers()[:6]
    a = load_or_train("edge", layers, TINY, progress=False)
    path = cache_path(cache_key(preset("edge"), layers, TINY))
    assert path.exists() and path.parent == cache / "starlight"
    b = load_or_train("edge", layers, TINY, progress=False)
    c = load_or_train("edge", layers, TINY, retrain=True, progress=False)
    x, _ = analytical_dataset(joint_sobol(preset("edge"), layers, 64, seed=5))
    assert np.array_equal(a.predict(x), b.predict(x))
    assert np.array_equal(a.predict(x), c.predict(x))


def test_corrupt_cache_is_one_line(cache) -> None:
    layers = zoo_layers()[:6]
    path = cache_path(cache_key(preset("edge"), layers, TINY))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a torch file")
    with pytest.raises(DseError) as err:
        load_or_train("edge", layers, TINY, progress=False)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_too_few_samples(low) -> None:
    x, y = analytical_dataset(joint_sobol(preset("edge"), zoo_layers()[:6], 32, seed=2))
    with pytest.raises(DseError, match="at least 3"):
        Starlight(low).fit(x[:2], y[:2])
    with pytest.raises(DseError, match="before it was fitted"):
        Starlight(low).predict(x)


def test_more_samples_raise_rho_on_a_toy_function(low) -> None:
    """High fidelity = a distorted analytical EDP (mapping-dependent warp the encoder
    never saw); Starlight's held-out rho grows with the samples it is fitted on."""
    x, y = analytical_dataset(joint_sobol(preset("edge"), zoo_layers()[:6], 640, seed=3))
    hf = y + 2.0 * np.sin(x[:, features().index("log2_tile_K")])
    test = slice(400, None)
    rho = {}
    for n in (8, 300):
        model = Starlight(low, iterations=60).fit(x[:n], hf[:n])
        mean, var = model.predict(x[test])
        assert mean.shape == var.shape == (len(hf[test]),) and (var >= 0).all()
        rho[n] = spearmanr(mean, hf[test]).statistic
    assert rho[300] > rho[8] + 0.02


def test_fast_predict_is_the_exact_posterior(low) -> None:
    """`predict` (float32, low-rank variance) agrees with gpytorch's exact posterior of the
    fitted head, the variance within VARIANCE_TOL of the prior variance."""
    import gpytorch
    import torch
    from dlac.dse.models.starlight import VARIANCE_TOL

    x, y = analytical_dataset(joint_sobol(preset("edge"), zoo_layers()[:6], 400, seed=4))
    hf = y + np.sin(x[:, features().index("log2_tile_K")])
    model = Starlight(low, iterations=40, finetune_iterations=5).fit(x[:300], hf[:300])
    mean, var = model.predict(x[300:])
    gp = model._model
    with torch.no_grad(), gpytorch.settings.fast_computations(False, False, False):
        gp.set_train_data(model._features(low.standardise(x[:300]).double()),
                          gp.train_targets, strict=False)
        post = gp(model._features(low.standardise(x[300:]).double()))
        ref_mean = post.mean.numpy() * model.y_std + model.y_mean
        ref_var = post.variance.numpy() * model.y_std ** 2
    prior = float(gp.covar_module.outputscale.detach()) * model.y_std ** 2
    assert np.abs(mean - ref_mean).max() < 1e-3 * np.std(ref_mean)
    assert np.abs(var - ref_var).max() <= VARIANCE_TOL * prior
    assert 0 < model.variance_rank <= 300
