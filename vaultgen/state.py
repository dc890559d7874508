"""What a build remembers between runs: ``VAULT/.vaultgen/state.sqlite``, the one state store.

It holds the posts read (path, size, mtime, content hash, diagnostics) and their entries,
the arXiv answers the vault uses, the names and citation keys given out to notes, the BibTeX
entry of each paper (for ``papers.bib``), each paper's related papers with the model and
vectors they were found by, and every file vaultgen wrote
(its hash as written, the hash of its generated part, the properties it owns, and the digest
of what it was rendered from). Nothing else writes it; nothing else reads it but the build.

A build writes files so that a killed process (SIGINT, SIGKILL) at any moment leaves a vault
the next build finishes: what is about to be written is recorded first as *pending*
(``record_pending``), the files are written atomically, then ``commit_files`` makes pending
recorded. A file whose bytes are either version is vaultgen's (``FileRecord.is_ours``).

One build at a time: ``BuildLock`` holds an ``flock`` on ``.vaultgen/lock`` for the build; the
kernel drops it when the process dies, so a lock left by a killed build is simply taken.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .errors import VaultgenError

K = TypeVar("K")

STATE_DIR = ".vaultgen"
STATE_FILE = f"{STATE_DIR}/state.sqlite"
LOCK_FILE = f"{STATE_DIR}/lock"

# Each step takes the schema from version N to N + 1 (``PRAGMA user_version``).
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE posts (
        path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
        sha256 TEXT NOT NULL, diagnostics TEXT NOT NULL);
    CREATE TABLE entries (
        post TEXT NOT NULL, line INTEGER NOT NULL, date TEXT NOT NULL, title TEXT NOT NULL,
        title_key TEXT NOT NULL, tags TEXT NOT NULL, cites TEXT NOT NULL,
        digest TEXT NOT NULL, arxiv TEXT, asked TEXT,
        PRIMARY KEY (post, line)) WITHOUT ROWID;
    CREATE TABLE entry_texts (
        post TEXT NOT NULL, line INTEGER NOT NULL, authors TEXT NOT NULL,
        abstract TEXT NOT NULL, comment_ko TEXT, comment_en TEXT,
        PRIMARY KEY (post, line)) WITHOUT ROWID;
    CREATE TABLE records (id TEXT PRIMARY KEY, digest TEXT NOT NULL, record TEXT NOT NULL);
    CREATE TABLE names (note TEXT PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE files (
        path TEXT PRIMARY KEY, note TEXT NOT NULL, kind TEXT NOT NULL,
        sha256 TEXT, generated TEXT, owned TEXT, inputs TEXT, links INTEGER,
        pending_sha256 TEXT, pending_generated TEXT, pending_owned TEXT,
        pending_inputs TEXT, pending_links INTEGER);
    CREATE TABLE views (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL);
    """,
    """
    CREATE TABLE citekeys (note TEXT PRIMARY KEY, key TEXT NOT NULL);
    CREATE TABLE bib (note TEXT PRIMARY KEY, key TEXT NOT NULL, entry TEXT NOT NULL);
    """,
    """
    CREATE TABLE related (paper TEXT PRIMARY KEY, digest TEXT NOT NULL, list TEXT NOT NULL);
    CREATE TABLE related_model (name TEXT PRIMARY KEY, value BLOB NOT NULL);
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)


class StateError(VaultgenError):
    """The state store cannot be used (another vaultgen's, damaged, not writable)."""


class BuildLock:
    """One build at a time per vault: an exclusive ``flock`` on ``.vaultgen/lock``, waited
    for ``wait`` seconds, then ``StateError``. Released when the block ends or the process
    dies."""

    def __init__(self, vault: Path, wait: float = 5.0) -> None:
        self.vault = vault
        self.wait = wait
        self._fd: int | None = None

    def __enter__(self) -> BuildLock:
        path = self.vault / LOCK_FILE
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as err:
            raise StateError(f"{self.vault}: cannot write here ({err.strerror})",
                             hint="build into a folder you can write") from err
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise StateError(f"another build is running on {self.vault}",
                                     hint="wait for it to finish, then build again") from None
                time.sleep(0.1)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A file vaultgen wrote, as the store records it; ``pending_*``: the version a build was
    about to write when it stopped (None once written and committed)."""

    path: str
    note: str
    kind: str
    sha256: str | None
    generated: str | None
    owned_json: str | None  # the property keys vaultgen owns in it, as JSON
    inputs: str | None
    links: int
    pending_sha256: str | None = None
    pending_generated: str | None = None
    pending_owned_json: str | None = None

    @property
    def owned(self) -> tuple[str, ...]:
        return _keys(self.owned_json)

    @property
    def pending_owned(self) -> tuple[str, ...]:
        return _keys(self.pending_owned_json)

    def is_ours(self, sha: str) -> bool:
        """Whether a file of these bytes (``sha``) is as vaultgen wrote it, or was writing it."""
        return sha in (self.sha256, self.pending_sha256)


@dataclass(frozen=True, slots=True)
class PendingFile:
    """A file about to be written (``sha256`` None: about to be removed)."""

    path: str
    note: str
    kind: str
    sha256: str | None
    generated: str | None
    owned: tuple[str, ...]
    inputs: str | None
    links: int


class Store:
    """The state store of one vault, open for a build (``writable``) or for reading."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.db = connection
        self.path = path

    # --- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, vault: Path, *, writable: bool = True) -> Store:
        """The vault's store; created (with its folder) when ``writable`` and absent. Read
        only, a missing store is an empty one in memory."""
        path = vault / STATE_FILE
        try:
            if writable:
                path.parent.mkdir(parents=True, exist_ok=True)
                if not path.exists():  # made here, with the mode the umask gives a new file
                    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o666))
                connection = sqlite3.connect(path, isolation_level=None,
                                             check_same_thread=False)
            elif path.exists():
                connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                             isolation_level=None, check_same_thread=False)
            else:
                connection = sqlite3.connect(":memory:", isolation_level=None)
            store = cls(connection, path)
            store._prepare(writable or not path.exists())
        except sqlite3.DatabaseError as err:
            raise StateError(f"{path}: cannot use the build's state ({err})",
                             hint="remove it and build again: the notes keep their names"
                             ) from err
        except OSError as err:
            raise StateError(f"{path}: cannot open ({err.strerror})") from err
        return store

    @classmethod
    def in_memory(cls, vault: Path) -> Store:
        """A copy of the vault's store in memory, to change without writing (a dry run)."""
        source = cls.open(vault, writable=False)
        copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        source.db.backup(copy)
        source.close()
        store = cls(copy, source.path)
        store._prepare(True)
        return store

    def _prepare(self, writable: bool) -> None:
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA busy_timeout = 10000")
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StateError(f"{self.path}: written by a newer vaultgen (schema {version})",
                             hint="update vaultgen")
        if version == SCHEMA_VERSION:
            return
        if not writable and self.path.exists():
            raise StateError(f"{self.path}: of an older vaultgen; build once to update it")
        with self.transaction():
            for step in _MIGRATIONS[version:]:
                for statement in step.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """A block of changes, committed whole or not at all."""
        self.db.execute("BEGIN")  # (a build holds the vault's lock: no other writer)
        try:
            yield
        except BaseException:
            if self.db.in_transaction:  # (SQLite rolls back by itself on some errors)
                self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def is_empty(self) -> bool:
        """Whether the store knows no note of the vault (no name given, no file written)."""
        return not any(self.db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
                       for table in ("names", "files"))

    # --- settings ------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        if value == self.meta(key):
            return  # (a build that changes nothing writes nothing)
        if value is None:
            self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # --- posts and entries ---------------------------------------------------------------

    def posts(self) -> dict[str, tuple[int, int, str]]:
        """Each post read: path → (size, mtime_ns, sha256)."""
        return {path: (size, mtime, sha) for path, size, mtime, sha in
                self.db.execute("SELECT path, size, mtime_ns, sha256 FROM posts")}

    def post_diagnostics(self) -> list[list[object]]:
        rows: list[list[object]] = []
        for (text,) in self.db.execute("SELECT diagnostics FROM posts ORDER BY path"):
            rows += json.loads(text)
        return rows

    def touch_post(self, path: str, size: int, mtime_ns: int) -> None:
        """A post read again and found the same: its new size and mtime."""
        self.db.execute("UPDATE posts SET size = ?, mtime_ns = ? WHERE path = ?",
                        (size, mtime_ns, path))

    def replace_post(self, path: str, size: int, mtime_ns: int, sha: str,
                     diagnostics: list[list[object]], entries: Sequence[tuple[object, ...]],
                     texts: Sequence[tuple[object, ...]]) -> None:
        """A post's entries (rows of ``entries``' columns but ``arxiv`` and ``asked``; tags
        and cited ids joined by spaces, which neither holds) and texts (rows of
        ``entry_texts``, authors as JSON), in place of those it had."""
        self.forget_post(path)
        self.db.execute("INSERT INTO posts VALUES (?, ?, ?, ?, ?)",
                        (path, size, mtime_ns, sha, json.dumps(diagnostics, ensure_ascii=False)))
        self.db.executemany("INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,NULL,NULL)", entries)
        self.db.executemany("INSERT INTO entry_texts VALUES (?,?,?,?,?,?)", texts)

    def forget_post(self, path: str) -> None:
        for table in ("posts", "entries", "entry_texts"):
            column = "path" if table == "posts" else "post"
            self.db.execute(f"DELETE FROM {table} WHERE {column} = ?", (path,))

    def entry_rows(self) -> sqlite3.Cursor:
        """Every entry without its texts: (post, line, date, title, title_key, tags, cites,
        digest, arxiv, asked)."""
        return self.db.execute(
            "SELECT post, line, date, title, title_key, tags, cites, digest, arxiv, asked "
            "FROM entries ORDER BY post, line")

    def set_matches(self, matches: Iterable[tuple[str | None, str | None, str, int]]) -> None:
        """The arXiv record matched to entries: (id or None, day asked, post, line)."""
        self.db.executemany("UPDATE entries SET arxiv = ?, asked = ? WHERE post = ? AND "
                            "line = ?", matches)

    def entry_authors(self, keys: Iterable[tuple[str, int]]
                      ) -> dict[tuple[str, int], tuple[str, ...]]:
        """The authors of the entries at ``keys`` (post, line)."""
        return {(post, line): tuple(json.loads(authors))
                for post, line, authors in self._texts_at(keys, "authors")}

    def entry_texts(self, keys: Iterable[tuple[str, int]]
                    ) -> dict[tuple[str, int], tuple[tuple[str, ...], str, str | None,
                                                     str | None]]:
        """The authors, abstract and commentary of the entries at ``keys`` (post, line)."""
        return {(post, line): (tuple(json.loads(authors)), abstract, ko, en)
                for post, line, authors, abstract, ko, en in self._texts_at(
                    keys, "authors, abstract, comment_ko, comment_en")}

    def first_authors(self, keys: Iterable[tuple[str, int]]
                      ) -> dict[tuple[str, int], tuple[str | None, int]]:
        """The first author of the entries at ``keys`` (post, line), and how many they name
        (read by SQLite: no list of authors made)."""
        return {(post, line): (first, count) for post, line, first, count in self._texts_at(
            keys, "json_extract(authors, '$[0]'), json_array_length(authors)")}

    def _texts_at(self, keys: Iterable[tuple[str, int]],
                  columns: str) -> Iterator[tuple[Any, ...]]:
        """(post, line, ``columns``…) of ``entry_texts`` at ``keys``. Each chunk's rows are
        fetched whole: a reading left unfinished (by Ctrl-C) holds no cursor to close after
        the store is closed."""
        for chunk in _chunks(keys):
            yield from self.db.execute(  # (a join, so that each key is found by the index)
                f"WITH wanted(post, line) AS (VALUES {', '.join(['(?, ?)'] * len(chunk))}) "
                f"SELECT t.post, t.line, {columns} FROM wanted JOIN entry_texts AS t "
                "ON t.post = wanted.post AND t.line = wanted.line",
                [value for key in chunk for value in key]).fetchall()

    # --- arXiv records -------------------------------------------------------------------

    def record_digests(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT id, digest FROM records"))

    def records(self, ids: Iterable[str]) -> dict[str, str]:
        """The records (as JSON) of ``ids`` the store holds."""
        found: dict[str, str] = {}
        for chunk in _chunks(ids):
            found.update(self.db.execute(
                f"SELECT id, record FROM records WHERE id IN ({', '.join('?' * len(chunk))})",
                chunk))
        return found

    def record_citations(self, ids: Iterable[str]
                         ) -> dict[str, tuple[str | None, int, str, str]]:
        """(first author, number of authors, title, published) of the records of ``ids`` the
        store holds (read by SQLite: no record parsed)."""
        found = {}
        for chunk in _chunks(ids):
            for row in self.db.execute(
                    "SELECT id, json_extract(record, '$.authors[0]'), "
                    "json_array_length(record, '$.authors'), json_extract(record, '$.title'), "
                    "coalesce(json_extract(record, '$.published'), '') FROM records "
                    f"WHERE id IN ({', '.join('?' * len(chunk))})", chunk):
                found[row[0]] = (row[1], row[2] or 0, row[3] or "", row[4])
        return found

    def put_records(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Records as (id, digest, JSON)."""
        self.db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", rows)

    def drop_records_except(self, keep: set[str]) -> None:
        gone = [(i,) for (i,) in self.db.execute("SELECT id FROM records") if i not in keep]
        self.db.executemany("DELETE FROM records WHERE id = ?", gone)

    # --- names ---------------------------------------------------------------------------

    def names(self) -> dict[str, str]:
        """The name given to each note: note identity (``paper:ID``, ``tag:llm``…) → name."""
        return dict(self.db.execute("SELECT note, name FROM names"))

    def set_names(self, names: dict[str, str], held: dict[str, str] | None = None) -> None:
        """The names given out now (those of notes gone are forgotten); only what changed is
        written. ``held``: the names the store holds, when just read."""
        held = self.names() if held is None else held
        self.db.executemany("DELETE FROM names WHERE note = ?",
                            ((n,) for n in held if n not in names))
        self.db.executemany("INSERT OR REPLACE INTO names VALUES (?, ?)",
                            ((n, name) for n, name in names.items() if held.get(n) != name))

    # --- citation keys and the BibTeX entries of ``papers.bib`` ---------------------------

    def citekeys(self) -> dict[str, str]:
        """The citation key given to each note (kept for good, the notes gone too)."""
        return dict(self.db.execute("SELECT note, key FROM citekeys"))

    def give_citekeys(self, keys: dict[str, str], forget: Iterable[str] = ()) -> None:
        """Keys given now, by note; ``forget``: notes whose key passed to another identity
        of the same paper."""
        self.db.executemany("DELETE FROM citekeys WHERE note = ?", ((n,) for n in forget))
        self.db.executemany("INSERT OR REPLACE INTO citekeys VALUES (?, ?)", keys.items())

    def bib_notes(self) -> set[str]:
        """The notes whose BibTeX entry is held (an empty one: a note without any)."""
        return {note for (note,) in self.db.execute("SELECT note FROM bib")}

    def put_bib_entries(self, rows: Iterable[tuple[str, str, str]]) -> bool:
        """Entries as (note, key, BibTeX text); whether any differs from what was held."""
        before = self.db.total_changes
        self.db.executemany(
            "INSERT INTO bib VALUES (?, ?, ?) ON CONFLICT (note) DO UPDATE SET "
            "key = excluded.key, entry = excluded.entry "
            "WHERE key != excluded.key OR entry != excluded.entry", rows)
        return self.db.total_changes != before

    def forget_bib_entries(self, notes: Iterable[str] | None = None) -> bool:
        """Forget the entries of ``notes`` (None: all); whether there were any."""
        if notes is None and self.db.execute("SELECT 1 FROM bib LIMIT 1").fetchone() is None:
            return False  # (a DELETE of all rows writes the table anew, even an empty one)
        before = self.db.total_changes
        if notes is None:
            self.db.execute("DELETE FROM bib")
        else:
            self.db.executemany("DELETE FROM bib WHERE note = ?", ((n,) for n in notes))
        return self.db.total_changes != before

    def bib_entries(self) -> list[str]:
        """Every BibTeX entry held, in the order of their keys."""
        return [entry for (entry,) in
                self.db.execute("SELECT entry FROM bib WHERE entry != '' ORDER BY key")]

    # --- related papers ------------------------------------------------------------------

    def related(self) -> dict[str, tuple[str, str]]:
        """Each paper's list of related papers: paper key → (digest of the text it was
        compared by, the list as JSON ``[[key, score], …]``)."""
        return {paper: (digest, text) for paper, digest, text in
                self.db.execute("SELECT paper, digest, list FROM related")}

    def related_model(self, name: str) -> bytes | None:
        """A part of the related papers' model (``model``, ``vectors``), as bytes."""
        row = self.db.execute("SELECT value FROM related_model WHERE name = ?",
                              (name,)).fetchone()
        return bytes(row[0]) if row is not None else None

    def set_related(self, lists: Iterable[tuple[str, str, str]], gone: Iterable[str],
                    model: dict[str, bytes], *, replace: bool = False) -> None:
        """Lists as (paper, digest, list JSON), the papers ``gone``, and parts of the model;
        ``replace``: these are every list (the others are dropped)."""
        if replace:
            self.db.execute("DELETE FROM related")
        self.db.executemany("DELETE FROM related WHERE paper = ?", ((p,) for p in gone))
        self.db.executemany("INSERT OR REPLACE INTO related VALUES (?, ?, ?)", lists)
        self.db.executemany("INSERT OR REPLACE INTO related_model VALUES (?, ?)",
                            model.items())

    def forget_related(self) -> None:
        """Drop every list and the model (none held: nothing written)."""
        if self.db.execute("SELECT 1 FROM related_model LIMIT 1").fetchone() is not None or \
                self.db.execute("SELECT 1 FROM related LIMIT 1").fetchone() is not None:
            self.db.execute("DELETE FROM related")
            self.db.execute("DELETE FROM related_model")

    # --- files ---------------------------------------------------------------------------

    def files(self) -> dict[str, FileRecord]:
        """Every file vaultgen wrote, by vault path."""
        files = {}
        for row in self.db.execute(
                "SELECT path, note, kind, sha256, generated, owned, inputs, links, "
                "pending_sha256, pending_generated, pending_owned FROM files"):
            path, note, kind, sha, generated, owned, inputs, links, *pending = row
            files[path] = FileRecord(path, note, kind, sha, generated, owned, inputs,
                                     links or 0, *pending)
        return files

    def record_pending(self, files: Iterable[PendingFile]) -> None:
        """What a build is about to write (or remove), before it does."""
        self.db.executemany(
            "INSERT INTO files (path, note, kind, pending_sha256, pending_generated, "
            "pending_owned, pending_inputs, pending_links) VALUES (?,?,?,?,?,?,?,?) "
            "ON CONFLICT (path) DO UPDATE SET note = excluded.note, kind = excluded.kind, "
            "pending_sha256 = excluded.pending_sha256, "
            "pending_generated = excluded.pending_generated, "
            "pending_owned = excluded.pending_owned, pending_inputs = excluded.pending_inputs, "
            "pending_links = excluded.pending_links",
            ((f.path, f.note, f.kind, f.sha256 or "", f.generated, _json_keys(f.owned),
              f.inputs, f.links) for f in files))

    def commit_files(self, paths: Iterable[str]) -> None:
        """The pending versions of ``paths`` written: recorded (a removal: forgotten)."""
        rows = [(p,) for p in paths]
        self.db.executemany("DELETE FROM files WHERE path = ? AND pending_sha256 = ''", rows)
        self.db.executemany(
            "UPDATE files SET sha256 = pending_sha256, generated = pending_generated, "
            "owned = pending_owned, inputs = pending_inputs, links = pending_links, "
            "pending_sha256 = NULL, pending_generated = NULL, pending_owned = NULL, "
            "pending_inputs = NULL, pending_links = NULL WHERE path = ?", rows)

    def record_files(self, files: Iterable[PendingFile]) -> None:
        """Files found already as they should be: recorded at once."""
        self.db.executemany(
            "INSERT OR REPLACE INTO files (path, note, kind, sha256, generated, owned, inputs, "
            "links) VALUES (?,?,?,?,?,?,?,?)",
            ((f.path, f.note, f.kind, f.sha256, f.generated, _json_keys(f.owned), f.inputs,
              f.links) for f in files))

    def move_file(self, old: str, new: str) -> None:
        """A file the user moved or renamed: its record follows it."""
        self.db.execute("DELETE FROM files WHERE path = ?", (new,))
        self.db.execute("UPDATE files SET path = ? WHERE path = ?", (new, old))

    def forget_files(self, paths: Iterable[str]) -> None:
        self.db.executemany("DELETE FROM files WHERE path = ?", ((p,) for p in paths))

    def settle_pending(self, settled: Iterable[tuple[str, bool]]) -> None:
        """Pending versions a stopped build left: (path, whether the file holds it)."""
        for path, written in settled:
            if written:
                self.commit_files([path])
            else:
                self.db.execute(
                    "UPDATE files SET pending_sha256 = NULL, pending_generated = NULL, "
                    "pending_owned = NULL, pending_inputs = NULL, pending_links = NULL "
                    "WHERE path = ?", (path,))
                self.db.execute("DELETE FROM files WHERE path = ? AND sha256 IS NULL",
                                (path,))

    def links(self) -> int:
        return self.db.execute("SELECT coalesce(sum(links), 0) FROM files").fetchone()[0]

    # --- outputs of ``vaultgen graph`` ---------------------------------------------------

    def view_hash(self, path: str) -> str | None:
        row = self.db.execute("SELECT sha256 FROM views WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    def set_view_hash(self, path: str, sha: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO views VALUES (?, ?)", (path, sha))


def _chunks(keys: Iterable[K], size: int = 400) -> Iterator[list[K]]:
    """``keys`` without repeats, a few hundred at a time (one query's parameters)."""
    wanted = list(dict.fromkeys(keys))
    for start in range(0, len(wanted), size):
        yield wanted[start:start + size]


def _keys(text: str | None) -> tuple[str, ...]:
    return tuple(json.loads(text)) if text else ()


def _json_keys(keys: Sequence[str]) -> str:
    return json.dumps(list(keys), ensure_ascii=False)
