"""Constrained q-batch acquisition of `cbo`: probability of feasibility x expected
improvement, scored over an enumerated (semi-discrete) set of points.

The objective surrogate is a botorch GP on the raw encoding: `MixedSingleTaskGP` when the
domain names categorical columns that vary (the HW grid's dataflow), so a category is
matched by a categorical kernel rather than by its arbitrary position in [0, 1], else a
`SingleTaskGP` (Matern-5/2 ARD); outcomes standardised. The discrete and ordinal columns
(array dim, buffer KiB on an 8 KiB grid) need no relaxation: the acquisition is only ever
evaluated on the enumerated points, never on a continuous box that would then be rounded.

A batch is chosen greedily in two stages. Stage 1 scores every point by analytic
log EI + log P(feasible) (the constrained EI of Gardner et al., which 002 follows: EI over
the best *feasible* value, times the classifier's probability) and keeps the `shortlist`
best. Stage 2 picks the q points one at a time from the shortlist by the Monte-Carlo
constrained qLogEI of {x} together with the points already picked (botorch's
`X_pending`): with a classifier, the objective GP and the classifier's latent GP form a
`ModelListGP` and every sample weighs each point's improvement by its own sampled
feasibility (botorch's `constraints`, feasible where the latent is > 0), so a batch
does not stake all its points on one region the classifier doubts. The quasi-MC sampler
is seeded, so the choice is a function of the data and the seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..models.threads import single_thread

MAX_ITER = 100
"""L-BFGS iterations of the objective GP's fit. Uncapped, the mixed GP ran ~600 on 20
BERT-layer designs (6 s of CPU per batch, against 1 s at 100, for a marginal likelihood
lower by 0.11 nats); the plain GP converges well within it."""


def fit_objective(x: np.ndarray, y: np.ndarray, categorical: Sequence[int],
                  seed: int) -> Any:
    """A GP of -y (botorch maximises) on points `x`; `categorical` columns get a
    categorical kernel when they take more than one value in `x`."""
    import torch
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import MixedSingleTaskGP, SingleTaskGP
    from botorch.models.transforms import Standardize
    from gpytorch.mlls import ExactMarginalLogLikelihood

    tx = torch.as_tensor(x, dtype=torch.float64)
    ty = torch.as_tensor(-np.asarray(y, dtype=np.float64), dtype=torch.float64).unsqueeze(-1)
    cats = [c for c in categorical if len(np.unique(x[:, c])) > 1]
    with single_thread(), torch.random.fork_rng():
        torch.manual_seed(seed)
        if cats:
            model = MixedSingleTaskGP(tx, ty, cat_dims=cats, outcome_transform=Standardize(m=1))
        else:
            model = SingleTaskGP(tx, ty, outcome_transform=Standardize(m=1))
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model),
                         optimizer_kwargs={"options": {"maxiter": MAX_ITER}})
    return model


def select_batch(model: Any, best_y: float, pool: np.ndarray, log_pof: np.ndarray,
                 classifier: Any, q: int, shortlist: int, mc_samples: int,
                 seed: int) -> np.ndarray:
    """Indices into `pool` of the q points to evaluate next (see the module text);
    `classifier` is the feasibility GP (None: every point counts as feasible)."""
    import torch

    with single_thread(), torch.no_grad():
        return _select(model, torch.tensor(-best_y, dtype=torch.float64), pool, log_pof,
                       classifier, q, shortlist, mc_samples, seed)


def _select(model: Any, best_f: Any, pool: np.ndarray, log_pof: np.ndarray, classifier: Any,
            q: int, shortlist: int, mc_samples: int, seed: int) -> np.ndarray:
    import torch
    from botorch.acquisition import LogExpectedImprovement
    from botorch.acquisition.logei import qLogExpectedImprovement
    from botorch.acquisition.objective import GenericMCObjective
    from botorch.models import ModelListGP
    from botorch.sampling import SobolQMCNormalSampler

    points = torch.as_tensor(pool, dtype=torch.float64)
    single = np.concatenate([LogExpectedImprovement(model, best_f=best_f)(chunk).numpy()
                             for chunk in points.unsqueeze(1).split(4096)]) + log_pof
    short = np.argsort(-single, kind="stable")[:max(shortlist, q)]
    constrained: dict[str, Any] = {}
    if classifier is not None:
        model = ModelListGP(model, classifier)
        constrained = {"objective": GenericMCObjective(lambda z, X=None: z[..., 0]),
                       "constraints": [lambda z: -z[..., 1]]}
    sampler = SobolQMCNormalSampler(torch.Size([mc_samples]), seed=seed)
    picked: list[int] = []
    for _ in range(min(q, len(short))):
        acq = qLogExpectedImprovement(model, best_f=best_f, sampler=sampler,
                                      X_pending=points[picked] if picked else None,
                                      **constrained)
        score = acq(points[short].unsqueeze(1)).numpy()
        score[np.isin(short, picked)] = -np.inf
        picked.append(int(short[int(np.argmax(score))]))
    return np.array(picked, dtype=np.int64)
