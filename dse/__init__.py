"""Hardware/software co-design of Gemmini (Spotlight-style layerwise nested search).

The HW searcher proposes a `Target`, a SW search per unique layer finds its best mapping
on it, the per-layer energies and delays sum to the model's EDP, and that is told back to
the HW searcher. Searchers share one ask/tell protocol (searcher.py); evaluators share one
interface (evaluators.py); every evaluation goes to a SQLite tuning database (database.py).
"""

from dlac.dse.errors import DseError

__all__ = ["DseError"]
