"""Fill dlac's Spike cache: Spike built from source, libgemmini and gemmini-rocc-tests sources.

Run once per machine (`python -m dlac.tools.setup_spike`); each piece is skipped when the
cache already holds it. Sources come from GitHub at pinned commits, or from local git dirs
(`--spike-git`, `--libgemmini-git`, `--rocc-tests-git`, or the environment variables
DLAC_SPIKE_GIT, DLAC_LIBGEMMINI_GIT, DLAC_ROCC_TESTS_GIT) for machines without network.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from dlac.flow import spike_cache as sc


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=cwd, check=True)


def _checkout(git_dir: str | None, url: str, commit: str, dest: Path,
              paths: tuple[str, ...] = ()) -> None:
    """Put the tree of `commit` (only `paths` when given) at `dest`, from a local git dir,
    else a clone of `url`."""
    if dest.exists():
        print(f"{dest}: present, skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        if git_dir is None:
            git_dir = str(Path(tmp) / "clone")
            _run(["git", "clone", "--quiet", url, git_dir])
        stage = Path(tmp) / "tree"
        stage.mkdir()
        archive = subprocess.run(
            ["git", f"--git-dir={_git_dir(git_dir)}", "archive", commit, *paths],
            check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(stage)], input=archive, check=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(stage), dest)
    print(f"{dest}: {commit}")


def _git_dir(path: str) -> str:
    """A work tree's .git or a bare repository."""
    return str(Path(path) / ".git") if (Path(path) / ".git").exists() else path


def _build_spike(git_dir: str | None, jobs: int) -> None:
    prefix = sc.spike_prefix()
    if (prefix / "bin" / "spike").exists():
        print(f"{prefix}: spike present, skipped")
        return
    src = sc.cache_root() / "src" / "riscv-isa-sim"
    _checkout(git_dir, sc.SPIKE_REPO, sc.SPIKE_COMMIT, src)
    build = src / "build"
    build.mkdir(exist_ok=True)
    _run(["../configure", f"--prefix={prefix}"], cwd=build)
    _run(["make", f"-j{jobs}"], cwd=build)
    _run(["make", "install"], cwd=build)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spike-git", default=os.environ.get("DLAC_SPIKE_GIT"))
    ap.add_argument("--libgemmini-git", default=os.environ.get("DLAC_LIBGEMMINI_GIT"))
    ap.add_argument("--rocc-tests-git", default=os.environ.get("DLAC_ROCC_TESTS_GIT"))
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    for tool in ("git", "make", "g++", "riscv64-unknown-elf-gcc", "dtc"):
        if shutil.which(tool) is None:
            print(f"setup_spike: `{tool}` not found (Debian: build-essential, git, "
                  "device-tree-compiler, gcc-riscv64-unknown-elf, picolibc-riscv64-unknown-elf)",
                  file=sys.stderr)
            return 1
    try:
        _build_spike(args.spike_git, args.jobs)
        _checkout(args.libgemmini_git, sc.LIBGEMMINI_REPO, sc.LIBGEMMINI_COMMIT,
                  sc.libgemmini_src())
        _checkout(args.rocc_tests_git, sc.ROCC_TESTS_REPO, sc.ROCC_TESTS_COMMIT,
                  sc.rocc_tests_src(), paths=("include", "bareMetalC"))
    except subprocess.CalledProcessError as err:
        print(f"setup_spike: `{' '.join(map(str, err.cmd))}` failed ({err.returncode})",
              file=sys.stderr)
        return 1
    print(f"Spike cache ready in {sc.cache_root()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
