"""Make the numpy reference module importable from the simulator tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
