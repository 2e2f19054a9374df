"""`dlac-opt`: run a pass pipeline on IR text, like mlir-opt.

    dlac-opt FILE|- -p 'pass-a,pass-b{opt=1}' [-o OUT] [--print-ir-after-all]
             [--split-input-file] [--verify-diagnostics] [--generic] [--debug-locs]
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass

from dlac.errors import DlacError
from dlac.ir.diagnostics import DiagnosticError
from dlac.tools.atomic_write import write_atomic

SPLIT_MARKER = re.compile(r"^// -----\s*$", re.MULTILINE)
_EXPECTED = re.compile(r"//\s*expected-(error|warning|remark)\s*(@[+-]?\d+|@above|@below)?"
                       r"\s*\{\{(.*?)\}\}")
_REPRO = re.compile(r"^// dlac-opt reproducer: -p '(.*)'$", re.MULTILINE)


@dataclass
class Chunk:
    text: str
    first_line: int


def split_input(text: str, split: bool) -> list[Chunk]:
    if not split:
        return [Chunk(text, 1)]
    chunks = []
    line = 1
    start = 0
    for m in SPLIT_MARKER.finditer(text):
        piece = text[start:m.start()]
        chunks.append(Chunk(piece, line))
        line += piece.count("\n") + 1
        start = m.end() + 1
    chunks.append(Chunk(text[start:], line))
    return chunks


def _build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="dlac-opt", description="Run dlac passes on IR text.")
    ap.add_argument("input", nargs="?", default="-", help="IR file, or - for stdin")
    ap.add_argument("-p", "--pass-pipeline", default="", help="e.g. 'dce,tile{sizes=4,4}'")
    ap.add_argument("-o", "--output", help="write here instead of stdout")
    ap.add_argument("--print-ir-after-all", action="store_true")
    ap.add_argument("--split-input-file", action="store_true",
                    help="treat '// -----' lines as separators of independent inputs")
    ap.add_argument("--verify-diagnostics", action="store_true",
                    help="check errors against '// expected-error @+N {{...}}' comments")
    ap.add_argument("--generic", action="store_true", help="print every op in generic form")
    ap.add_argument("--debug-locs", action="store_true", help="print op locations")
    ap.add_argument("--no-verify", action="store_true", help="skip verification")
    ap.add_argument("--reproducer", help="where to write a reproducer if a pass fails")
    ap.add_argument("--run-reproducer", action="store_true",
                    help="take the pipeline from the input's reproducer header")
    ap.add_argument("--list-passes", action="store_true")
    return ap


def _read_input(path: str) -> tuple[str, str]:
    if path == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read(), path
    except FileNotFoundError:
        raise DlacError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise DlacError(f"{path}: not UTF-8 text") from None
    except OSError as err:
        raise DlacError(f"{path}: {err.strerror}") from None


def process_chunk(chunk: Chunk, filename: str, args: argparse.Namespace, pipeline: str) -> str:
    from dlac.ir.parser import parse_module
    from dlac.ir.printer import print_op
    from dlac.ir.verifier import verify
    from dlac.passes.pass_manager import PassManager
    from dlac.passes.pipeline import parse_pipeline

    module = parse_module(chunk.text, filename, chunk.first_line)
    if not args.no_verify:
        verify(module)
    passes = parse_pipeline(pipeline) if pipeline else []
    manager = PassManager(passes, verify_each=not args.no_verify,
                          print_ir_after_all=args.print_ir_after_all,
                          reproducer_path=args.reproducer,
                          write_reproducer=not args.verify_diagnostics)
    manager.run(module)
    return print_op(module, generic=args.generic, debug_locs=args.debug_locs)


def _expected_diagnostics(chunk: Chunk) -> list[tuple[int, str]]:
    out = []
    for offset, line in enumerate(chunk.text.split("\n")):
        for m in _EXPECTED.finditer(line):
            where = m.group(2) or "@+0"
            lineno = chunk.first_line + offset
            if where == "@above":
                lineno -= 1
            elif where == "@below":
                lineno += 1
            else:
                lineno += int(where[1:])
            out.append((lineno, m.group(3)))
    return out


def verify_diagnostics(chunks: list[Chunk], filename: str, args: argparse.Namespace,
                       pipeline: str) -> list[str]:
    """Run each chunk; return one message per expectation that did not hold."""
    problems = []
    for chunk in chunks:
        expected = _expected_diagnostics(chunk)
        try:
            process_chunk(chunk, filename, args, pipeline)
            got = None
        except DiagnosticError as err:
            got = err
        except DlacError as err:
            got = DiagnosticError(None, str(err))
        if got is None:
            problems.extend(f"{filename}:{line}: expected error '{msg}' was not produced"
                            for line, msg in expected)
            continue
        line = getattr(got.loc, "line", None)
        matched = [e for e in expected if e[0] == line and e[1] in got.message]
        if not matched:
            problems.append(f"unexpected error: {got}"
                            + (f" (expected at line {expected[0][0]}: '{expected[0][1]}')"
                               if expected else ""))
        problems.extend(f"{filename}:{ln}: expected error '{msg}' was not produced"
                        for ln, msg in expected if (ln, msg) not in matched)
    return problems


def _write_output(text: str, path: str | None) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    write_atomic(path, text)


def run(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.list_passes:
        from dlac.passes.registry import available_passes

        print("\n".join(available_passes()))
        return 0
    text, filename = _read_input(args.input)
    pipeline = args.pass_pipeline
    if args.run_reproducer:
        m = _REPRO.search(text)
        if m is None:
            raise DlacError(f"{filename}: no '// dlac-opt reproducer:' header")
        pipeline = m.group(1)
    chunks = split_input(text, args.split_input_file)
    if args.verify_diagnostics:
        problems = verify_diagnostics(chunks, filename, args, pipeline)
        for problem in problems:
            print(f"dlac-opt: {problem}", file=sys.stderr)
        return 1 if problems else 0
    outputs = [process_chunk(chunk, filename, args, pipeline) for chunk in chunks]
    _write_output("// -----\n".join(outputs), args.output)
    return 0


def main(argv: list[str] | None = None) -> None:
    try:
        code = run(argv)
    except DiagnosticError as err:
        print(str(err), file=sys.stderr)
        code = err.exit_code
    except DlacError as err:
        print(f"dlac-opt: error: {err}", file=sys.stderr)
        code = err.exit_code
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
