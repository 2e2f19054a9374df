from __future__ import annotations

import sqlite3

import pytest
from dlac.dse.database import LayerRecord, TrialRecord, TuningDB, default_path
from dlac.dse.errors import DseError


def test_round_trip(tmp_path) -> None:
    path = tmp_path / "db.sqlite"
    rec = LayerRecord({"dims": "IJK", "tiles": [16, 16, 16]}, 100.0, 2.5, 0.5, 7)
    with TuningDB(path) as db:
        db.start_run("run", {"a": 1}, fresh=True)
        db.put_trial("run", TrialRecord(0, "{}", 1.5, {"x": 1}),
                     [("h", {"i": 1}, "{}", "analytical", "batch/1", rec, 3)])
    with TuningDB(path) as db:
        assert db.layer_result("h", "{}", "analytical", "batch/1") == rec
        assert db.layer_result("h", "{}", "sim", "batch/1") is None
        assert db.trials("run") == [TrialRecord(0, "{}", 1.5, {"x": 1})]
        assert db.run_state("run") is False
        db.finish_run("run")
        assert db.run_state("run") is True
        db.start_run("run", {"a": 1}, fresh=True)
        assert db.trials("run") == [] and db.run_state("run") is False
        row = db.con.execute("SELECT seed, tool_version FROM layer_results").fetchone()
        assert row[0] == 3 and row[1]


def _assert_rejected_untouched(path, match: str) -> None:
    before = path.read_bytes()
    with pytest.raises(DseError, match=match):
        TuningDB(path)
    assert path.read_bytes() == before
    assert not (path.parent / (path.name + "-wal")).exists()


def test_corrupt_file_rejected_untouched(tmp_path) -> None:
    path = tmp_path / "db.sqlite"
    path.write_bytes(b"this is not a database at all" * 10)
    _assert_rejected_untouched(path, "not a dlac tuning database")


def test_truncated_sqlite_rejected_untouched(tmp_path) -> None:
    path = tmp_path / "db.sqlite"
    with TuningDB(path) as db:
        db.start_run("run", {}, fresh=True)
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xff" * (len(data) - 100))
    _assert_rejected_untouched(path, "corrupt|not a dlac")


def test_foreign_sqlite_rejected_untouched(tmp_path) -> None:
    path = tmp_path / "other.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE songs (title TEXT)")
    con.commit()
    con.close()
    _assert_rejected_untouched(path, "another program")


def test_newer_schema_rejected(tmp_path) -> None:
    path = tmp_path / "db.sqlite"
    TuningDB(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value='99' WHERE key='version'")
    con.commit()
    con.close()
    _assert_rejected_untouched(path, "schema version 99")


def test_default_path_uses_cache_dir(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_path() == tmp_path / "dlac" / "tuning.sqlite"
