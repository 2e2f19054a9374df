"""`python -m dlac.dse`: co-design on the built-in layer lists (no ONNX needed).

    python -m dlac.dse --workload resnet50 [--workload bert ...] --budget 100 -o out/
"""

from __future__ import annotations

import argparse
import sys

from . import cli
from .zoo import ALIASES, MODELS, model


def main(argv: list[str] | None = None) -> int:
    names = sorted(set(MODELS) | set(ALIASES))
    parser = argparse.ArgumentParser(prog="python -m dlac.dse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", action="append", choices=names, metavar="NAME",
                        help=f"built-in model, repeatable ({', '.join(names)}); "
                             "default resnet50")
    cli.add_arguments(parser)
    args = parser.parse_args(argv)
    chosen = args.workload or ["resnet50"]
    models = {n: model(n) for n in dict.fromkeys(chosen)}
    return cli.run(args, models)


if __name__ == "__main__":
    sys.exit(main())
