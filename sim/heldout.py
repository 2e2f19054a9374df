"""The simulator's cross-validated cycle error against RTL, shipped beside the simulator
so every simulated co-design result can be quoted with the error it carries.

`heldout_error.json` is written by `dlac-sim calibrate CSV --cv K --write-error`: the mean
and worst fold of a leave-layers-out cross-validation, whose constants never saw the rows
they are scored on (dlac.sim.cv)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import SimError

ERROR_FILE = Path(__file__).with_name("heldout_error.json")


@dataclass(frozen=True)
class HeldOutError:
    """Cycle MAPE (fractions) and within-layer rank correlation on held-out layers."""

    mape: float
    worst_fold_mape: float
    within_layer_rho: float
    folds: int
    rows: int
    command: str

    @classmethod
    def from_cv(cls, result: dict[str, Any], command: str) -> HeldOutError:
        return cls(mape=result["mape"], worst_fold_mape=result["worst"]["mape"],
                   within_layer_rho=result["within_layer_rho"], folds=len(result["folds"]),
                   rows=result["rows"], command=command)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: Path = ERROR_FILE) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")


def held_out_error(path: Path = ERROR_FILE) -> HeldOutError:
    """The shipped cross-validated error (one-line SimError if the file is unreadable)."""
    try:
        return HeldOutError(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as err:
        raise SimError(f"{path}: not a held-out error record ({err})") from err
