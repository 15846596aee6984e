"""The library database: files, their analyses, and what the user made (SQLite, WAL).

The raw per-patch embeddings live here, durably; every search index is a cache rebuilt from them.
Each scan batch is one transaction, so a ``kill -9`` at any moment leaves the database as it was
after the last committed batch, and the next scan simply carries on.

Every analyser's result (engine/analysis/contract.py) is kept by file, analyser and version, so a
scan knows which analysers each file still needs; a file's results go with it when it is removed and
follow it when it moves.

User data (favourites, BPM overrides) is keyed by content hash, not by file row, so removing a
folder and adding it back, or moving files around, loses nothing the user made.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.analysis.contract import AnalyserResult
from engine.analysis.tempo_analyser import TempoAnalyser
from engine.audio.paths import is_whole_text
from engine.errors import LibraryError

SCHEMA_VERSION = 6

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    root TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash TEXT,
    duration REAL,
    format TEXT,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error TEXT,
    scanned_at REAL NOT NULL,
    tried_with TEXT  -- a failed file's decoder and model (Failure.tried_with): another one tries it again
);
CREATE INDEX IF NOT EXISTS files_root ON files(root);
CREATE INDEX IF NOT EXISTS files_hash ON files(content_hash);
CREATE TABLE IF NOT EXISTS analyses (
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    model_id TEXT NOT NULL,
    model_version TEXT NOT NULL,
    n_patches INTEGER NOT NULL,
    dim INTEGER NOT NULL,
    patches BLOB NOT NULL,
    tempo_block BLOB NOT NULL,
    created_at REAL NOT NULL,
    bpm REAL,
    bpm_confidence REAL,
    bpm_source TEXT,
    bpm_candidates BLOB,
    PRIMARY KEY (file_id, model_id)
);
-- One row per file and analyser: the version that last ran on the file and what it found. The tempo
-- analyser's outputs are the bpm columns of analyses (search reads them there); its row has no value.
CREATE TABLE IF NOT EXISTS analyser_results (
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    analyser TEXT NOT NULL,
    version TEXT NOT NULL,
    value TEXT,  -- the outputs, one JSON object; NULL when it failed
    error TEXT,  -- why it failed, in words; NULL when it did not
    created_at REAL NOT NULL,
    PRIMARY KEY (file_id, analyser)
);
CREATE INDEX IF NOT EXISTS analyser_results_by_analyser ON analyser_results(analyser, created_at);
CREATE TABLE IF NOT EXISTS user_data (
    content_hash TEXT PRIMARY KEY,
    favourite INTEGER NOT NULL DEFAULT 0,
    bpm_override REAL,
    bpm_locked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS recent_queries (
    path TEXT PRIMARY KEY,
    mode TEXT NOT NULL,
    target_bpm REAL,
    at REAL NOT NULL
);
"""
# Every reader of an analysed file's tempo joins the user's word through these: the correction, when
# there is one, wins over the estimate (and engine.library.facade's TempoState follows the same rule).
_ANALYSED = "analyses a JOIN files f ON f.id = a.file_id LEFT JOIN user_data u ON u.content_hash = f.content_hash"
_BPM = "COALESCE(u.bpm_override, a.bpm)"
_BPM_SOURCE = "CASE WHEN u.bpm_override IS NULL THEN a.bpm_source ELSE 'user' END"
_RECENT_KEPT = 50  # recent queries remembered; older ones are forgotten on the next write
_TEMPO = TempoAnalyser.name  # its outputs are the bpm columns of analyses, not a JSON value


class StoreError(LibraryError):
    """The library database cannot be opened or written (disk full, read-only, damaged)."""


class DamagedLibrary(StoreError):
    """The library database is damaged (SQLite reports it corrupt). What can be read is still read;
    nothing is written into it any more, so the damage spreads no further, until
    ``Library.rebuild()`` (``sbf rebuild``) makes a new one from it and the sample folders."""


# SQLite's primary result codes (https://sqlite.org/rescode.html)
_SQLITE_PERM, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_CORRUPT = 3, 8, 10, 11
_SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 13, 14, 26
_NO_SPACE = (_SQLITE_IOERR, _SQLITE_FULL)  # a full disk shows as either (the WAL index cannot grow: IOERR)
_CANNOT_WRITE = (_SQLITE_PERM, _SQLITE_READONLY, _SQLITE_CANTOPEN, *_NO_SPACE)
_DAMAGED = (_SQLITE_CORRUPT, _SQLITE_NOTADB)

# What each table holds, as the user knows it: named when it is damaged.
TABLE_WORDS = {
    "meta": "the library's version record",
    "files": "the list of indexed files",
    "analyses": "the analyses of the files (their sound fingerprints and tempi)",
    "analyser_results": "the analysers' results",
    "user_data": "your BPM corrections, locks and favourites",
    "recent_queries": "your recent searches",
}


def _code(e: sqlite3.Error) -> int:
    return (getattr(e, "sqlite_errorcode", None) or 0) & 0xFF


def damaged_message(path: Path, detail: object) -> str:
    return (f"The library database {path} is damaged ({detail}). Nothing more is written into it. Rebuild it "
            "from your sample folders with `sbf rebuild` (or Rebuild library in the app): your BPM corrections, "
            "locks and favourites are kept as far as they can be read, and the damaged file is kept as a backup.")


def _reading(method):
    """``method`` of a cursor, reporting a damaged database as :class:`DamagedLibrary` (and marking the
    connection damaged); every other error passes unchanged."""
    def wrapped(self, *args):
        try:
            return method(self, *args)
        except sqlite3.DatabaseError as e:
            if _code(e) not in _DAMAGED:
                raise
            self.connection.damage = str(e)
            raise DamagedLibrary(damaged_message(self.connection.path, e)) from e
    return wrapped


class _Cursor(sqlite3.Cursor):
    """A cursor that reports a damaged database as :class:`DamagedLibrary` wherever reading meets it
    (SQLite reads pages lazily, so a row loop can fail on its hundredth row)."""

    execute = _reading(sqlite3.Cursor.execute)
    executemany = _reading(sqlite3.Cursor.executemany)
    fetchone = _reading(sqlite3.Cursor.fetchone)
    fetchmany = _reading(sqlite3.Cursor.fetchmany)
    fetchall = _reading(sqlite3.Cursor.fetchall)
    __next__ = _reading(sqlite3.Cursor.__next__)


class _Connection(sqlite3.Connection):
    """A connection whose statements run on :class:`_Cursor`; ``damage`` is what SQLite said when it
    first found the database damaged (None until then)."""

    path: Path = Path()
    damage: str | None = None

    def execute(self, *args):
        return self.cursor(_Cursor).execute(*args)

    def executemany(self, *args):
        return self.cursor(_Cursor).executemany(*args)


def _connect(target: str | Path, path: Path, uri: bool = False) -> _Connection:
    db = sqlite3.connect(target, timeout=30, isolation_level=None, uri=uri, factory=_Connection)
    db.path = path
    db.text_factory = _read_text  # a file name that is not UTF-8 reads back as Python's os functions name it
    return db


@dataclass(frozen=True)
class Integrity:
    """What a quick integrity check found (:meth:`Store.check_integrity`).

    damaged : what is damaged, in the user's words (empty: nothing)
    details : SQLite's own report, for a bug report
    """

    damaged: tuple[str, ...]
    details: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.damaged


@dataclass(frozen=True)
class FileRecord:
    """One audio file as the library knows it."""

    id: int
    path: str
    root: str
    size: int
    mtime_ns: int
    content_hash: str | None
    duration: float | None
    format: str | None
    status: str  # "ok" or "failed"
    error: str | None
    tried_with: str | None = None  # a failed file: the decoder and model that failed on it (Failure.tried_with)


@dataclass(frozen=True)
class StoredAnalysis:
    """An analysis as stored: patches (n, dim) float32, tempo_block (n_bins,) float32.

    bpm is the user's correction when there is one (bpm_source "user"), else the estimate; None for
    one-shots and for files analysed before tempo estimation existed.
    """

    file_id: int
    path: str
    patches: np.ndarray
    tempo_block: np.ndarray
    bpm: float | None
    bpm_source: str | None


@dataclass(frozen=True)
class Track:
    """One analysed file as the track list shows it.

    duration : seconds
    bpm : the user's correction if any, else the estimate; None for one-shots
    bpm_source : where the BPM comes from ("filename", "signal", "user", ...)
    """

    file_id: int
    path: str
    root: str
    duration: float | None
    bpm: float | None
    bpm_source: str | None
    favourite: bool
    offline: bool = False  # its folder is offline (Library.tracks): shown, but it cannot be played now


@dataclass(frozen=True)
class TempoRecord:
    """What the library holds about one file's tempo: the estimate and the user's word on it.

    estimated_bpm : the analysis' BPM, None for one-shots (and analyses older than tempo estimation)
    override_bpm : the user's correction, None when there is none
    locked : the user locked the BPM: corrections are refused until it is unlocked
    """

    path: str
    content_hash: str
    estimated_bpm: float | None
    confidence: float | None
    source: str | None
    override_bpm: float | None
    locked: bool


@dataclass(frozen=True)
class RecentQuery:
    """A query the user made: the file, the search mode and the knob's target (None: no target)."""

    path: str
    mode: str
    target_bpm: float | None
    at: float  # seconds since the epoch


@dataclass(frozen=True)
class NewAnalysis:
    """A file's fresh embedding, ready to be written; its tempo too when the caller has one (a scan
    writes the tempo analyser's result with :meth:`Store.put_results`, as every analyser's)."""

    path: str
    root: str
    size: int
    mtime_ns: int
    content_hash: str
    duration: float
    format: str
    patches: np.ndarray
    tempo_block: np.ndarray
    bpm: float | None = None
    bpm_confidence: float | None = None
    bpm_source: str | None = None
    bpm_candidates: tuple[tuple[float, float], ...] = ()  # (BPM, share of the estimator's belief), best first


@dataclass(frozen=True)
class Failure:
    """A file that could not be analysed, with a reason a musician understands."""

    path: str
    root: str
    size: int
    mtime_ns: int
    reason: str
    tried_with: str | None = None  # the decoder and model that failed on it: a scan with others tries it again


class Store:
    """Thin, typed access to the library database. One instance per thread.

    A library that cannot be written (a full disk, a read-only medium or folder) opens for reading:
    ``read_only`` says why, search works, and every write is refused with that reason. A damaged one
    (``damage``) is read as far as it can be and never written into.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.read_only: str | None = None  # why this library can only be read; None: it can be written
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = _connect(self.path, self.path)
            self._prepare()
        except StoreError:
            raise
        except (sqlite3.OperationalError, OSError) as e:
            if not (self.path.is_file() and (isinstance(e, OSError) or _code(e) in _CANNOT_WRITE)):
                raise StoreError(f"Cannot open the library database {self.path}: {_reason(e)}") from e
            self._open_read_only(e)
        except sqlite3.DatabaseError as e:
            raise StoreError(f"Cannot open the library database {self.path}: {e}") from e

    @property
    def damage(self) -> str | None:
        """What SQLite said when reading first found this library damaged; None while nothing was found."""
        return self._db.damage

    def _open_read_only(self, cause: sqlite3.Error | OSError) -> None:
        """Open for reading only, needing no free space: read-only, else immutable (no WAL index to
        create; it reads the database file as the last writer left it)."""
        if isinstance(getattr(self, "_db", None), sqlite3.Connection):
            self._db.close()
        full = isinstance(cause, sqlite3.Error) and _code(cause) in _NO_SPACE or \
            isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
        why = "the disk it is on is full" if full else "its folder cannot be written to"
        for options in ("mode=ro", "mode=ro&immutable=1"):
            try:
                db = _connect(f"{self.path.absolute().as_uri()}?{options}", self.path, uri=True)
                row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            except sqlite3.OperationalError:
                continue
            if row is None or int(row[0]) != SCHEMA_VERSION:
                db.close()
                raise StoreError(f"The library database {self.path} must be updated for this version of Similar "
                                 f"But Faster, and {why} ({_reason(cause)}): free some space and try again")
            self._db = db
            self.read_only = (f"The library {self.path.parent} is open for reading only because {why} "
                              f"({_reason(cause)}): search works, but nothing can be indexed or changed until "
                              "there is free space (or the folder can be written to) again")
            return
        raise StoreError(f"Cannot open the library database {self.path}: {_reason(cause)}") from cause

    def _prepare(self) -> None:
        """WAL, the schema and its migrations: written only when the library is new or older than this code,
        so opening a current library needs no free space."""
        if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)  # idempotent DDL (writes nothing when the tables exist); commits on its own
        row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is not None and int(row[0]) == SCHEMA_VERSION:
            return
        with self.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = SCHEMA_VERSION if row is None else int(row[0])
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path} was made by a newer version of Similar But Faster")
            if version < 2:  # v1 had no tempo estimates: NULL until the files are analysed again
                for column in ("bpm REAL", "bpm_confidence REAL", "bpm_source TEXT"):
                    db.execute(f"ALTER TABLE analyses ADD COLUMN {column}")
            if version < 4:  # v3 kept only the winning tempo: the gate reads the estimate alone
                db.execute("ALTER TABLE analyses ADD COLUMN bpm_candidates BLOB")
            if version < 5:  # v4 knew no analysers: its tempo estimates are the tempo analyser's version 1
                db.execute("""INSERT OR IGNORE INTO analyser_results (file_id, analyser, version, created_at)
                              SELECT file_id, ?, '1', created_at FROM analyses WHERE bpm_source IS NOT NULL""",
                           (_TEMPO,))
            if version < 6 and "tried_with" not in _columns(db, "files"):
                # v5 kept no decoder or model with a failure: each failed file is tried once more, then kept
                db.execute("ALTER TABLE files ADD COLUMN tried_with TEXT")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        self._db.close()

    def check_writable(self) -> None:
        """Raise :class:`StoreError` (:class:`DamagedLibrary`) now when a write would be refused."""
        if self.read_only:
            raise StoreError(self.read_only)
        if self._db.damage is not None:
            raise DamagedLibrary(damaged_message(self.path, self._db.damage))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing writes; a full disk surfaces as :class:`StoreError` and changes nothing.
        Refused on a library open for reading only, and on a damaged one."""
        self.check_writable()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                _rollback(self._db)
                raise
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as e:
            _rollback(self._db)
            if _code(e) in _NO_SPACE:
                raise StoreError(f"The disk holding the library ({self.path.parent}) is full ({e}): nothing was "
                                 "changed. Free some space and try again; a scan goes on where it stopped") from e
            raise StoreError(f"Could not write the library database ({e}); nothing was changed") from e

    def check_integrity(self) -> Integrity:
        """SQLite's quick check, and a read of every table: what is damaged, in words (seconds on a big
        library: it reads the whole file). Found damage also refuses writes from then on."""
        details: list[str] = []
        try:
            details = [r[0] for r in self._db.execute("PRAGMA quick_check(20)")]
        except DamagedLibrary as e:
            details = [f"the check stopped: {e.__cause__}"]
        if details == ["ok"]:
            details = []
        damaged = []
        for table, words in TABLE_WORDS.items():
            try:
                for _ in self._db.execute(f"SELECT * FROM {table}"):  # noqa: S608 (our own table names)
                    pass
            except DamagedLibrary:
                damaged.append(words)
        if details and not damaged:
            damaged.append("the database's lookup indexes (the data itself reads)")
        if damaged and self._db.damage is None:
            self._db.damage = "; ".join(details) or "unreadable pages"
        return Integrity(tuple(damaged), tuple(details))

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads that see one state of the database, whatever other connections commit meanwhile
        (a read transaction; WAL lets writers go on). A search index, its paths and its BPMs read
        in separate statements could otherwise disagree about which files exist."""
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    # --- files -------------------------------------------------------------------------------

    def files_under(self, root: str) -> dict[str, FileRecord]:
        """Every file the library knows under the folder ``root`` (the files of another added folder that
        lies inside it, or holds it, included: a file is analysed once, whichever folders overlap)."""
        rows = self._db.execute(f"SELECT {_FILE_COLUMNS} FROM files WHERE {_UNDER.format('path')}", _under(root))
        return {r[1]: FileRecord(*r) for r in rows}

    def files(self, status: str | None = None) -> list[FileRecord]:
        where, args = ("WHERE status = ?", (status,)) if status else ("", ())
        rows = self._db.execute(f"SELECT {_FILE_COLUMNS} FROM files {where} ORDER BY path", args)
        return [FileRecord(*r) for r in rows]

    def file_by_path(self, path: str) -> FileRecord | None:
        row = self._db.execute(f"SELECT {_FILE_COLUMNS} FROM files WHERE path = CAST(? AS TEXT)",
                               (_text(path),)).fetchone()
        return FileRecord(*row) if row else None

    def roots(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT DISTINCT root FROM files ORDER BY root")]

    def analyser_versions(self, root: str, model_id: str, model_version: str) -> dict[int, dict[str, str]]:
        """Each file under ``root`` embedded by this model: the version of every analyser that ran on it
        (failed or not), by analyser name. A file missing here must be embedded again."""
        rows = self._db.execute(
            f"""SELECT a.file_id, r.analyser, r.version FROM analyses a JOIN files f ON f.id = a.file_id
               LEFT JOIN analyser_results r ON r.file_id = a.file_id
               WHERE {_UNDER.format('f.path')} AND a.model_id = ? AND a.model_version = ?""",
            (*_under(root), model_id, model_version))
        versions: dict[int, dict[str, str]] = {}
        for file_id, analyser, version in rows:
            ran = versions.setdefault(file_id, {})
            if analyser is not None:
                ran[analyser] = version
        return versions

    def move(self, db: sqlite3.Connection, file_id: int, new_path: str, size: int, mtime_ns: int) -> None:
        """A renamed or moved file keeps its row, analysis and user data."""
        db.execute("UPDATE files SET path = CAST(? AS TEXT), size = ?, mtime_ns = ? WHERE id = ?",
                   (_text(new_path), size, mtime_ns, file_id))

    def touch(self, db: sqlite3.Connection, file_id: int, size: int, mtime_ns: int) -> None:
        db.execute("UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, file_id))

    def set_root(self, db: sqlite3.Connection, file_id: int, root: str) -> None:
        """The added folder a file belongs to (the innermost one that holds it) changed: its rows stay."""
        db.execute("UPDATE files SET root = CAST(? AS TEXT) WHERE id = ?", (_text(root), file_id))

    def remove_root(self, root: str) -> tuple[int, str | None]:
        """Take the added folder ``root`` out of the library: (files removed, None). A folder inside another
        added one is only no longer listed: its files become that folder's, (0, the outer folder).
        What the user made (``user_data``, by content hash) is never touched."""
        outer = [r for r in self.roots() if r != root and root.startswith(r.rstrip(os.sep) + os.sep)]
        with self.transaction() as db:
            if outer:
                keeper = max(outer, key=len)
                db.execute("UPDATE files SET root = CAST(? AS TEXT) WHERE root = CAST(? AS TEXT)",
                           (_text(keeper), _text(root)))
                return 0, keeper
            return db.execute("DELETE FROM files WHERE root = CAST(? AS TEXT)", (_text(root),)).rowcount, None

    def remove(self, db: sqlite3.Connection, file_ids: Iterable[int]) -> None:
        db.executemany("DELETE FROM files WHERE id = ?", ((i,) for i in file_ids))

    def put_analysis(self, db: sqlite3.Connection, a: NewAnalysis, model_id: str, model_version: str) -> int:
        """Write a file's new embedding; the analysers' results on what it held before are dropped."""
        file_id = self._upsert_file(db, a.path, a.root, a.size, a.mtime_ns, a.content_hash, a.duration, a.format, "ok", None)
        db.execute("DELETE FROM analyser_results WHERE file_id = ?", (file_id,))
        patches = np.ascontiguousarray(a.patches, dtype=np.float32)
        db.execute(
            """INSERT OR REPLACE INTO analyses (file_id, model_id, model_version, n_patches, dim, patches,
                 tempo_block, created_at, bpm, bpm_confidence, bpm_source, bpm_candidates)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (file_id, model_id, model_version, patches.shape[0], patches.shape[1], patches.tobytes(),
             np.ascontiguousarray(a.tempo_block, dtype=np.float32).tobytes(), time.time(),
             a.bpm, a.bpm_confidence, a.bpm_source, _pairs(a.bpm_candidates)),
        )
        return file_id

    def put_results(self, db: sqlite3.Connection, file_id: int, model_id: str,
                    results: Iterable[AnalyserResult]) -> None:
        """Keep each analyser's result on a file under its name and version, replacing an older one.

        The tempo analyser's outputs go to the file's analysis by ``model_id`` (they were read with its
        patches); when it fails, the estimate already there stays.
        """
        for r in results:
            if r.analyser == _TEMPO and r.values is not None:
                t = r.values
                db.execute("""UPDATE analyses SET bpm = ?, bpm_confidence = ?, bpm_source = ?, bpm_candidates = ?
                              WHERE file_id = ? AND model_id = ?""",
                           (t["bpm"], t["confidence"], t["source"], _pairs(t["candidates"]), file_id, model_id))
            value = None if r.values is None or r.analyser == _TEMPO else json.dumps(r.values)
            db.execute("INSERT OR REPLACE INTO analyser_results VALUES (?, ?, ?, ?, CAST(? AS TEXT), ?)",
                       (file_id, r.analyser, r.version, value, _text(r.error), time.time()))

    def put_failure(self, db: sqlite3.Connection, f: Failure) -> None:
        file_id = self._upsert_file(db, f.path, f.root, f.size, f.mtime_ns, None, None, None, "failed", f.reason)
        db.execute("UPDATE files SET tried_with = ? WHERE id = ?", (f.tried_with, file_id))
        db.execute("DELETE FROM analyses WHERE file_id = ?", (file_id,))
        db.execute("DELETE FROM analyser_results WHERE file_id = ?", (file_id,))

    def _upsert_file(self, db, path, root, size, mtime_ns, content_hash, duration, fmt, status, error) -> int:
        db.execute(
            """INSERT INTO files (path, root, size, mtime_ns, content_hash, duration, format, status, error, scanned_at)
               VALUES (CAST(? AS TEXT), CAST(? AS TEXT), ?, ?, ?, ?, ?, ?, CAST(? AS TEXT), ?)
               ON CONFLICT(path) DO UPDATE SET root=excluded.root, size=excluded.size, mtime_ns=excluded.mtime_ns,
                 content_hash=excluded.content_hash, duration=excluded.duration, format=excluded.format,
                 status=excluded.status, error=excluded.error, scanned_at=excluded.scanned_at""",
            (_text(path), _text(root), size, mtime_ns, content_hash, duration, fmt, status, _text(error), time.time()),
        )
        return db.execute("SELECT id FROM files WHERE path = CAST(? AS TEXT)", (_text(path),)).fetchone()[0]

    # --- analyses ----------------------------------------------------------------------------

    def analyses(self, model_id: str, model_version: str) -> list[StoredAnalysis]:
        """Every current analysis for a model, in file-id order."""
        return list(self.each_analysis(model_id, model_version))

    def each_analysis(self, model_id: str, model_version: str) -> Iterator[StoredAnalysis]:
        """:meth:`analyses` one at a time: a caller that keeps only a vector per file never holds every
        file's patches at once (a gigabyte at 100k files)."""
        return self._analyses("", (model_id, model_version))

    def analysis_for(self, path: str, model_id: str, model_version: str) -> StoredAnalysis | None:
        return next(self._analyses("AND f.path = CAST(? AS TEXT)", (model_id, model_version, _text(path))), None)

    def _analyses(self, where: str, args: tuple) -> Iterator[StoredAnalysis]:
        rows = self._db.execute(
            f"""SELECT f.id, f.path, a.n_patches, a.dim, a.patches, a.tempo_block, {_BPM}, {_BPM_SOURCE}
                FROM {_ANALYSED}
                WHERE a.model_id = ? AND a.model_version = ? AND f.status = 'ok' {where} ORDER BY f.id""",
            args,
        )
        for fid, path, n, d, p, b, bpm, src in rows:
            yield StoredAnalysis(fid, path, np.frombuffer(p, np.float32).reshape(n, d), np.frombuffer(b, np.float32),
                                 bpm, src)

    def analyser_results(self, analyser: str) -> dict[str, AnalyserResult]:
        """One analyser's results on every analysed file, by path (the tempo analyser's values are None:
        its outputs are read with :meth:`tempo_record` and :meth:`tempo_beliefs`)."""
        return {path: r for path, r in self._results("r.analyser = ?", (analyser,))}

    def results_for(self, path: str) -> dict[str, AnalyserResult]:
        """Every analyser's result on one file, by analyser name."""
        return {r.analyser: r for _, r in self._results("f.path = CAST(? AS TEXT)", (_text(path),))}

    def _results(self, where: str, args: tuple) -> Iterator[tuple[str, AnalyserResult]]:
        rows = self._db.execute(
            f"""SELECT f.path, r.analyser, r.version, r.value, r.error FROM analyser_results r
                JOIN files f ON f.id = r.file_id WHERE f.status = 'ok' AND {where} ORDER BY f.path, r.analyser""",
            args)
        for path, analyser, version, value, error in rows:
            yield path, AnalyserResult(analyser, version, None if value is None else json.loads(value), error)

    def change_marker(self) -> tuple[int, int]:
        """Moves whenever the database may have changed since the last call: commits by other
        connections (``PRAGMA data_version``) or writes through this one (``total_changes``).

        Costs microseconds, so a search can skip the content fingerprints (tens of ms at 100k
        files) when nothing was written.
        """
        return self._db.execute("PRAGMA data_version").fetchone()[0], self._db.total_changes

    def analyses_fingerprint(self, model_id: str, model_version: str) -> str:
        """Changes whenever an analysis is added, removed or redone; cheap (no embeddings read)."""
        row = self._db.execute(
            """SELECT COUNT(*), COALESCE(SUM(a.file_id), 0), COALESCE(MAX(a.created_at), 0) FROM analyses a
               JOIN files f ON f.id = a.file_id
               WHERE a.model_id = ? AND a.model_version = ? AND f.status = 'ok'""",
            (model_id, model_version),
        ).fetchone()
        return f"{row[0]}-{row[1]}-{row[2]!r}"

    def paths_by_id(self) -> dict[int, str]:
        return dict(self._db.execute("SELECT id, path FROM files WHERE status = 'ok'"))

    def tempo_fingerprint(self) -> str:
        """Changes whenever files' tempo readings may have, the vectors staying as they are: a BPM
        correction made or undone, or the tempo analyser run again (cheap on every search: few
        corrections, and the newest tempo result is an index lookup)."""
        row = self._db.execute(
            """SELECT COUNT(*), group_concat(content_hash || '=' || bpm_override),
                      (SELECT MAX(created_at) FROM analyser_results WHERE analyser = ?)
               FROM user_data WHERE bpm_override IS NOT NULL""", (_TEMPO,)).fetchone()
        return f"{row[0]}:{hashlib.blake2b(str(row[1:]).encode(), digest_size=8).hexdigest()}"

    def tempo_beliefs(self, model_id: str, model_version: str) -> dict[int, tuple[tuple[float, float], ...]]:
        """Each analysed file's tempo readings as (BPM, share), the one search shows first.

        The user's correction is the only reading of a corrected file (share 1). Otherwise the estimate
        and the estimator's other candidates, as it weighed them; an analysis older than schema 4 has
        the estimate alone. A file with no tempo has none.
        """
        rows = self._db.execute(
            f"""SELECT f.id, u.bpm_override, a.bpm, a.bpm_candidates FROM {_ANALYSED}
                WHERE a.model_id = ? AND a.model_version = ?""", (model_id, model_version))
        beliefs = {}
        for file_id, override, bpm, candidates in rows:
            if override is not None:
                beliefs[file_id] = ((override, 1.0),)
            elif bpm is None:
                beliefs[file_id] = ()
            else:
                pairs = _readings(candidates)
                share = next((s for b, s in pairs if round(b, 2) == round(bpm, 2)), 1.0)
                beliefs[file_id] = ((bpm, share), *((b, s) for b, s in pairs if round(b, 2) != round(bpm, 2)))
        return beliefs

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT status, COUNT(*) FROM files GROUP BY status").fetchall()
        return {status: n for status, n in rows}

    def total_duration(self) -> float:
        return float(self._db.execute("SELECT COALESCE(SUM(duration), 0) FROM files WHERE status = 'ok'").fetchone()[0])


    # --- user data: the track list and favourites (the desktop app) ------------------------------

    def tracks(self, model_id: str, model_version: str) -> list[Track]:
        """Every analysed file with what the track list shows, in path order."""
        rows = self._db.execute(
            f"""SELECT f.id, f.path, f.root, f.duration, {_BPM}, {_BPM_SOURCE}, COALESCE(u.favourite, 0)
               FROM {_ANALYSED}
               WHERE a.model_id = ? AND a.model_version = ? AND f.status = 'ok' ORDER BY f.path""",
            (model_id, model_version),
        )
        return [Track(fid, path, root, duration, bpm, src, bool(fav)) for fid, path, root, duration, bpm, src, fav in rows]

    def tempo_record(self, path: str, model_id: str, model_version: str) -> TempoRecord | None:
        """The estimate and the user's correction of an analysed file; None when it is not analysed."""
        row = self._db.execute(
            f"""SELECT f.path, f.content_hash, a.bpm, a.bpm_confidence, a.bpm_source, u.bpm_override,
                      COALESCE(u.bpm_locked, 0)
               FROM {_ANALYSED}
               WHERE f.path = CAST(? AS TEXT) AND a.model_id = ? AND a.model_version = ? AND f.status = 'ok'""",
            (_text(path), model_id, model_version)).fetchone()
        return None if row is None else TempoRecord(*row[:6], bool(row[6]))

    def set_user_tempo(self, content_hash: str, bpm: float | None, locked: bool) -> None:
        """Store the user's BPM (None: back to the estimate) and lock, by content hash.

        Keyed by the sound, not the path, so a correction follows the file through moves and
        survives re-analysis (a new model version recomputes the estimate, never the user's word).
        """
        with self.transaction() as db:
            db.execute(
                """INSERT INTO user_data (content_hash, bpm_override, bpm_locked) VALUES (?, ?, ?)
                   ON CONFLICT(content_hash) DO UPDATE SET bpm_override = excluded.bpm_override,
                                                           bpm_locked = excluded.bpm_locked""",
                (content_hash, bpm, int(locked)))

    def remember_query(self, path: str, mode: str, target_bpm: float | None, at: float) -> None:
        """Record a query (the newest per file wins) and forget all but the newest few."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO recent_queries VALUES (CAST(? AS TEXT), ?, ?, ?)",
                       (_text(path), mode, target_bpm, at))
            db.execute("""DELETE FROM recent_queries WHERE path NOT IN
                          (SELECT path FROM recent_queries ORDER BY at DESC LIMIT ?)""", (_RECENT_KEPT,))

    def recent_queries(self) -> list[RecentQuery]:
        """The remembered queries (at most a few dozen), newest first, one per file."""
        rows = self._db.execute("SELECT path, mode, target_bpm, at FROM recent_queries ORDER BY at DESC")
        return [RecentQuery(*r) for r in rows]

    def set_favourite(self, path: str, favourite: bool) -> bool:
        """Mark or unmark an indexed file; False when ``path`` is not an indexed file.

        Stored by content hash, so the mark follows the sound through moves and rescans.
        """
        rec = self.file_by_path(path)
        if rec is None or rec.content_hash is None:
            return False
        with self.transaction() as db:
            db.execute(
                """INSERT INTO user_data (content_hash, favourite) VALUES (?, ?)
                   ON CONFLICT(content_hash) DO UPDATE SET favourite = excluded.favourite""",
                (rec.content_hash, int(favourite)),
            )
        return True


# The tables a rebuild copies, parents first (analyses and results need their file's row).
_SALVAGED = ("files", "analyses", "analyser_results", "user_data", "recent_queries")
_SALVAGE_CHUNK = 256  # rowids read at once past damage; a chunk that fails is halved down to single rows


@dataclass(frozen=True)
class Salvaged:
    """What a rebuild could read from a damaged library: rows kept per table, and the sample folders."""

    kept: dict[str, int]
    folders: tuple[str, ...]


def salvage(damaged: Path, into: Path) -> Salvaged:
    """Copy every row that can still be read from the damaged database ``damaged`` into a new library
    database at ``into`` (which must not exist), checking each: an analysis whose arrays do not have the
    size its shape says, or a row whose file row was lost, is left out (the next scan analyses that file
    again). ``damaged`` is only read."""
    target = Store(into)
    kept = dict.fromkeys(_SALVAGED, 0)
    try:
        source = _connect(f"{Path(damaged).absolute().as_uri()}?mode=ro", Path(damaged), uri=True)
        source.execute("SELECT 1 FROM sqlite_master").fetchone()
    except (DamagedLibrary, sqlite3.DatabaseError):  # not even its list of tables: nothing to keep
        target.close()
        return Salvaged(kept, ())
    try:
        with target.transaction() as db:
            for table in _SALVAGED:
                columns = _common_columns(source, db, table)
                if not columns:
                    continue
                insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                for row in _readable_rows(source, table, columns):
                    if table == "analyses" and not _whole_analysis(dict(zip(columns, row))):
                        continue
                    statement = insert
                    if any(isinstance(v, str) and not is_whole_text(v) for v in row):  # a file name not UTF-8
                        marks = ", ".join("CAST(? AS TEXT)" if isinstance(v, str) else "?" for v in row)
                        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                        row = tuple(_text(v) if isinstance(v, str) else v for v in row)
                    try:
                        db.execute(statement, row)
                    except sqlite3.IntegrityError:  # its file's row was lost, or a value damaged out of range
                        continue
                    kept[table] += 1
        folders = tuple(target.roots())
        # One file, whole: the WAL is folded in and dropped, so the database can be moved into place alone.
        target._db.execute("PRAGMA journal_mode=DELETE")
    finally:
        source.close()
        target.close()
    return Salvaged(kept, folders)


def _common_columns(source: sqlite3.Connection, target: sqlite3.Connection, table: str) -> list[str]:
    """The columns of ``table`` both databases have, in the new one's order; none when the damaged one's
    schema of it cannot be read."""
    try:
        theirs = set(_columns(source, table))
    except DamagedLibrary:
        return []
    return [c for c in _columns(target, table) if c in theirs]


def _readable_rows(db: sqlite3.Connection, table: str, columns: list[str]) -> Iterator[tuple]:
    """Every row of ``table`` that can be read: in one pass while that works, then past the damage by
    ranges of rowids, halving a range that fails until the unreadable rows alone are left out."""
    listed = ", ".join(columns)
    last = 0
    try:
        for rowid, *row in db.execute(f"SELECT rowid, {listed} FROM {table} ORDER BY rowid"):
            last = rowid
            yield tuple(row)
        return
    except DamagedLibrary:
        pass
    try:
        top = db.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0
    except DamagedLibrary:  # the way to the last row is damaged too: keep what was read
        return
    pending = [(start, min(start + _SALVAGE_CHUNK - 1, top)) for start in range(last + 1, top + 1, _SALVAGE_CHUNK)]
    pending.reverse()
    while pending:
        lo, hi = pending.pop()
        try:
            rows = db.execute(f"SELECT {listed} FROM {table} WHERE rowid BETWEEN ? AND ? ORDER BY rowid",
                              (lo, hi)).fetchall()
        except DamagedLibrary:
            if lo < hi:
                mid = (lo + hi) // 2
                pending += [(mid + 1, hi), (lo, mid)]
            continue
        yield from rows


def _whole_analysis(row: dict) -> bool:
    """An analysis row whose arrays have the sizes its shape says (damage can leave a row readable but wrong)."""
    patches, block, n, dim = row.get("patches"), row.get("tempo_block"), row.get("n_patches"), row.get("dim")
    return (isinstance(patches, bytes) and isinstance(block, bytes) and isinstance(n, int) and isinstance(dim, int)
            and n > 0 and dim > 0 and len(patches) == 4 * n * dim and len(block) > 0 and len(block) % 4 == 0)


def _rollback(db: sqlite3.Connection) -> None:
    """Undo an open transaction; a rollback that fails too (the disk gone) leaves it to SQLite, which
    rolls back on the next open."""
    try:
        if db.in_transaction:
            db.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def _reason(e: BaseException) -> str:
    return e.strerror or str(e) if isinstance(e, OSError) else str(e)


def _text(value: str | None) -> str | bytes | None:
    """A path (or a message naming one) as the library keeps it: its bytes as the file system has them.

    A name that is not valid UTF-8 (a Latin-1 name from an old archive) is bound as those bytes, which
    ``CAST(? AS TEXT)`` stores as text unchanged, so it compares, sorts and stays unique like any path;
    :func:`_read_text` gives it back as the str it came as. Every statement that binds a path or a
    failure's reason goes through here and ``CAST(? AS TEXT)``.
    """
    if value is None or is_whole_text(value):
        return value
    return value.encode("utf-8", "surrogateescape")


def _read_text(raw: bytes) -> str:
    """Text read from the library: UTF-8, with any byte that is not (a file name's) as a surrogate escape."""
    return raw.decode("utf-8", "surrogateescape")


# The files under a folder: a range of paths, so the unique index on path serves it, and every path
# compares by its bytes (an odd file name included).
_UNDER = "{0} >= CAST(? AS TEXT) AND {0} < CAST(? AS TEXT)"


def _under(root: str) -> tuple[str | bytes, str | bytes]:
    """The bounds of :data:`_UNDER` for the paths inside ``root``: from ``root/`` to just past it."""
    stem = root.rstrip("/" + os.sep) if len(root) > 1 else ""
    return _text(stem + os.sep), _text(stem + chr(ord(os.sep) + 1))


def _pairs(pairs) -> bytes:
    """(BPM, share) pairs as the analyses table keeps them: float32, two per reading."""
    return np.array(pairs, np.float32).tobytes()


def _readings(blob: object) -> list[list[float]]:
    """(BPM, share) pairs stored as float32; anything else (NULL, a damaged or foreign value) reads as none,
    so the file is listed at its estimate alone rather than breaking every search."""
    if not isinstance(blob, bytes) or len(blob) % 8:
        return []
    return np.frombuffer(blob, np.float32).reshape(-1, 2).tolist()


_FILE_COLUMNS = "id, path, root, size, mtime_ns, content_hash, duration, format, status, error, tried_with"


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
