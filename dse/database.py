"""The tuning database: a versioned SQLite file, written as the search goes.

Tables:
  meta(key, value)          schema name and version; a file without them is foreign.
  layer_results             one row per layer evaluation: the best mapping a SW search
                            found for (workload hash, target, evaluator, search key), with
                            cycles, energy, seed and tool version. The cache: a repeated
                            (layer, target) pair is never searched twice.
  runs(run_key, config)     one row per search configuration (models, space, searcher,
                            seed, budget); `finished` once its budget is spent.
  trials(run_key, idx, ...) one row per HW evaluation of a run, in order: the replay log
                            that `--resume` feeds back to the searchers.

Each HW evaluation (its layer rows and its trial row) commits in one transaction, so a
killed run loses at most the evaluation in flight. An existing file is validated read-only
before anything is written: a corrupt, foreign or newer-schema file is rejected with a
DseError and left untouched.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DseError

SCHEMA_NAME = "dlac-tuning"
SCHEMA_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE layer_results (
    workload_hash TEXT NOT NULL, target TEXT NOT NULL, evaluator TEXT NOT NULL,
    search_key TEXT NOT NULL, layer TEXT NOT NULL, mapping TEXT NOT NULL,
    cycles REAL NOT NULL, energy_pj REAL NOT NULL, utilization REAL NOT NULL,
    candidates INTEGER NOT NULL, seed INTEGER NOT NULL, tool_version TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (workload_hash, target, evaluator, search_key));
CREATE TABLE runs (run_key TEXT PRIMARY KEY, config TEXT NOT NULL,
                   finished INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);
CREATE TABLE trials (run_key TEXT NOT NULL, idx INTEGER NOT NULL, target TEXT NOT NULL,
                     objective REAL NOT NULL, result TEXT NOT NULL,
                     PRIMARY KEY (run_key, idx));
"""


def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dlac")
    except PackageNotFoundError:
        return "unknown"


def default_path() -> Path:
    """$XDG_CACHE_HOME/dlac/tuning.sqlite (default ~/.cache/dlac/tuning.sqlite)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dlac" / "tuning.sqlite"


@dataclass(frozen=True)
class LayerRecord:
    mapping: dict[str, Any]
    cycles: float
    energy_pj: float
    utilization: float
    candidates: int


@dataclass(frozen=True)
class TrialRecord:
    idx: int
    target: str
    objective: float
    result: dict[str, Any]


def check_file(path: Path) -> None:
    """Raise DseError unless `path` is absent, empty, or a readable database of ours."""
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return
    if not path.is_file():
        raise DseError(f"{path}: tuning database path is not a regular file")
    try:
        with path.open("rb") as fh:
            magic = fh.read(len(_SQLITE_MAGIC))
    except OSError as err:
        raise DseError(f"{path}: cannot read tuning database: {err.strerror}") from None
    if magic != _SQLITE_MAGIC:
        raise DseError(f"{path}: not a dlac tuning database (not an SQLite file)")
    side = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    existed = [p.exists() for p in side]
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise DseError(f"{path}: tuning database is corrupt (integrity check failed)")
            rows = dict(con.execute("SELECT key, value FROM meta").fetchall())
        finally:
            con.close()
            _remove_new(side, existed)
    except sqlite3.DatabaseError as err:
        if "no such table" in str(err):
            raise DseError(f"{path}: not a dlac tuning database (an SQLite file of another "
                           "program)") from None
        raise DseError(f"{path}: tuning database is corrupt ({err})") from None
    if rows.get("schema") != SCHEMA_NAME:
        raise DseError(f"{path}: not a dlac tuning database (an SQLite file of another "
                       "program)")
    version = int(rows.get("version", "0"))
    if version != SCHEMA_VERSION:
        raise DseError(f"{path}: tuning database schema version {version} is not supported "
                       f"(this dlac reads version {SCHEMA_VERSION})")


def _remove_new(paths: list[Path], existed: list[bool]) -> None:
    """Delete the WAL side files a read-only probe created, so a rejected file's
    directory is left as it was."""
    for p, was in zip(paths, existed, strict=True):
        if not was and p.exists():
            p.unlink()


class TuningDB:
    """An open tuning database; use as a context manager."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        check_file(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.con = sqlite3.connect(str(self.path), timeout=30.0)
        except (OSError, sqlite3.Error) as err:
            raise DseError(f"{self.path}: cannot open tuning database: {err}") from None
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=NORMAL")
        if not self.con.execute("SELECT name FROM sqlite_master WHERE name='meta'").fetchone():
            with self.con:
                self.con.executescript(_SCHEMA)
                self.con.executemany("INSERT INTO meta VALUES (?, ?)",
                                     [("schema", SCHEMA_NAME),
                                      ("version", str(SCHEMA_VERSION))])
        self.version = tool_version()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> TuningDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- layer cache
    def layer_result(self, workload_hash: str, target: str, evaluator: str,
                     search_key: str) -> LayerRecord | None:
        row = self.con.execute(
            "SELECT mapping, cycles, energy_pj, utilization, candidates FROM layer_results "
            "WHERE workload_hash=? AND target=? AND evaluator=? AND search_key=?",
            (workload_hash, target, evaluator, search_key)).fetchone()
        if row is None:
            return None
        return LayerRecord(json.loads(row[0]), row[1], row[2], row[3], row[4])

    def _put_layer(self, workload_hash: str, layer: dict[str, Any], target: str,
                   evaluator: str, search_key: str, rec: LayerRecord, seed: int) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO layer_results VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (workload_hash, target, evaluator, search_key, json.dumps(layer, sort_keys=True),
             json.dumps(rec.mapping, sort_keys=True), rec.cycles, rec.energy_pj,
             rec.utilization, rec.candidates, seed, self.version, time.time()))

    def put_layer_results(self, rows: list[tuple[str, dict[str, Any], str, str, str,
                                                 LayerRecord, int]]) -> None:
        """Store (hash, layer, target, evaluator, search key, record, seed) rows at once."""
        with self.con:
            for row in rows:
                self._put_layer(*row)

    # ----------------------------------------------------------------- runs and trials
    def run_state(self, run_key: str) -> bool | None:
        """None if the run is unknown, else whether it finished."""
        row = self.con.execute("SELECT finished FROM runs WHERE run_key=?",
                               (run_key,)).fetchone()
        return None if row is None else bool(row[0])

    def start_run(self, run_key: str, config: dict[str, Any], *, fresh: bool) -> None:
        """Register a run; `fresh` forgets its earlier trials (a new, not resumed, run)."""
        with self.con:
            if fresh:
                self.con.execute("DELETE FROM trials WHERE run_key=?", (run_key,))
                self.con.execute("DELETE FROM runs WHERE run_key=?", (run_key,))
            self.con.execute("INSERT OR IGNORE INTO runs VALUES (?, ?, 0, ?)",
                             (run_key, json.dumps(config, sort_keys=True), time.time()))

    def run_keys(self) -> list[str]:
        """Every stored run, oldest first."""
        return [r[0] for r in self.con.execute("SELECT run_key FROM runs ORDER BY rowid")]

    def trials(self, run_key: str) -> list[TrialRecord]:
        rows = self.con.execute("SELECT idx, target, objective, result FROM trials "
                                "WHERE run_key=? ORDER BY idx", (run_key,)).fetchall()
        return [TrialRecord(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def put_trial(self, run_key: str, trial: TrialRecord,
                  layer_rows: list[tuple[str, dict[str, Any], str, str, str, LayerRecord, int]]
                  ) -> None:
        """One HW evaluation: its new layer results and its trial row, one transaction."""
        with self.con:
            for row in layer_rows:
                self._put_layer(*row)
            self.con.execute("INSERT OR REPLACE INTO trials VALUES (?, ?, ?, ?, ?)",
                             (run_key, trial.idx, trial.target, trial.objective,
                              json.dumps(trial.result, sort_keys=True)))

    def finish_run(self, run_key: str) -> None:
        with self.con:
            self.con.execute("UPDATE runs SET finished=1 WHERE run_key=?", (run_key,))
