"""Split an RTL calibration CSV by layer into train and test CSVs (for dlac-starlight).

The held-out rule is dlac.sim.fit.is_held_out (a hash of the layer, about one in three), so
the test file's layers never appear in the train file.

    python tests/bench/split_rtl_rows.py calibration.csv train.csv test.csv [--seed S]
"""

from __future__ import annotations

import argparse
import csv

from dlac.sim.calibration_data import case_from_row
from dlac.sim.fit import is_held_out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with open(args.src, newline="") as fh:
        rows = list(csv.DictReader(fh))
    with open(args.train, "w", newline="") as a, open(args.test, "w", newline="") as b:
        train, test = csv.DictWriter(a, list(rows[0])), csv.DictWriter(b, list(rows[0]))
        train.writeheader()
        test.writeheader()
        for i, row in enumerate(rows):
            held = is_held_out(case_from_row(i, row).layer, args.seed)
            (test if held else train).writerow(row)


if __name__ == "__main__":
    main()
