"""The network edge: arXiv records for entries (by title) and for cited papers (by id).

``ArxivSource`` is the one object that talks to arXiv, through the ``arxiv`` package, with
arXiv's politeness rules: one connection, one request every ``delay`` seconds (3 by default),
many titles per request, ``id_list`` in chunks of at most 100. Every answer, found or not, goes
into an ``ArxivCache`` file written atomically after each batch, so an interrupted run resumes
where it stopped and ``offline`` builds use the cache alone.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sqlite3
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from ..model import ArxivRecord, Entry, names_once, one_copy
from ..progress import ARXIV_IDS, ARXIV_TITLES, Progress, Ticks
from ..wording import plural
from .match import accept_match, title_key

if TYPE_CHECKING:  # imported when arXiv is first asked: a build from the cache needs neither
    import arxiv
    import requests

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())  # warnings are told through ``LookupStats.warnings``

DEFAULT_API = "https://export.arxiv.org"
CACHE_NAME = "arxiv-cache.json"
NOT_FOUND_TTL_DAYS = 30
_CACHE_VERSION = 1
# The sections of the cache file, in the order it holds them (``save``, ``_save_lazily``).
_SECTIONS = ("records", "titles", "missing")
_QUERY_BUDGET = 3500  # characters of search_query: the whole URL stays under about 4 KB
_ID_CHUNK = 100
_ASCII_WORD = re.compile(r"[a-z0-9]+")

# --- Cache ---------------------------------------------------------------------------------

class _Answers(MutableMapping[str, Any]):
    """One section of the cache's answers (records, titles or missing ids), by key, held in
    a table of the cache's database and decoded when looked up."""

    def __init__(self, cache: ArxivCache, section: str, decode: Callable[[Any], Any],
                 encode: Callable[[Any], Any]) -> None:
        self.cache = cache
        self.section = section
        self.decode = decode
        self.encode = encode

    def _db(self) -> sqlite3.Connection:
        """The cache's database, mirroring its file (``ArxivCache.sync``)."""
        self.cache.sync()
        return self.cache.db

    def __getitem__(self, key: str) -> Any:
        row = self._db().execute(
            "SELECT value FROM arxiv_answers WHERE section = ? AND key = ?",
            (self.section, key)).fetchone()
        if row is None:
            raise KeyError(key)
        return self.decode(json.loads(row[0]))

    def __setitem__(self, key: str, value: Any) -> None:
        self._db().execute("INSERT OR REPLACE INTO arxiv_answers VALUES (?, ?, ?)",
                              (self.section, key, json.dumps(self.encode(value),
                                                             ensure_ascii=False)))
        self.cache.changed = True

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._db().execute("DELETE FROM arxiv_answers WHERE section = ? AND key = ?",
                              (self.section, key))
        self.cache.changed = True

    def __contains__(self, key: object) -> bool:
        return self._db().execute(
            "SELECT 1 FROM arxiv_answers WHERE section = ? AND key = ?",
            (self.section, key)).fetchone() is not None

    def __iter__(self) -> Iterator[str]:
        rows = self._db().execute(
            "SELECT key FROM arxiv_answers WHERE section = ? ORDER BY key", (self.section,))
        return (key for (key,) in rows.fetchall())

    def __len__(self) -> int:
        return self._db().execute("SELECT count(*) FROM arxiv_answers WHERE section = ?",
                                     (self.section,)).fetchone()[0]

    def many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The answers of those ``keys`` the section holds, looked up a few hundred at a time."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Any] = {}
        db = self._db()
        for start in range(0, len(wanted), 400):
            chunk = wanted[start:start + 400]
            rows = db.execute("SELECT key, value FROM arxiv_answers WHERE section = ? AND key "
                              f"IN ({', '.join('?' * len(chunk))})", [self.section, *chunk])
            for key, value in rows:
                found[key] = self.decode(json.loads(value))
        return found

    def lines(self) -> Iterator[str]:
        """The section's answers as the cache file lays them out, sorted by key."""
        rows = self._db().execute(
            "SELECT key, value FROM arxiv_answers WHERE section = ? ORDER BY key",
            (self.section,))
        return (f" {json.dumps(key, ensure_ascii=False)}: {value}" for key, value in rows)


class ArxivCache:
    """Answers arXiv gave: records by id, title searches and missing ids with the day asked.

    Kept in a JSON file git can diff (``arxiv-cache.json``: one answer a line, sorted by
    key), and looked up in a table that mirrors it: in memory, or in the state store of the
    vault a build writes (``use``), where it stays from build to build and is read again
    from the file only when the file changed outside vaultgen."""

    def __init__(self, path: Path | None, db: sqlite3.Connection | None = None) -> None:
        self.path = path
        self.db = db if db is not None else sqlite3.connect(":memory:")
        self.changed = False
        self.unreadable = False  # the file is not such a cache: it is never written over
        self.warnings: list[str] = []
        self._synced = False
        self.records = _Answers(self, "records", record_from_dict, record_to_dict)
        self.titles = _Answers(self, "titles", _as_is, _as_is)
        """Title key → {"asked": ISO day, "ids": [arXiv ids]}."""
        self.missing = _Answers(self, "missing", _as_is, _as_is)
        """arXiv id → ISO day it was asked for and not found."""

    @classmethod
    def load(cls, path: Path | None) -> ArxivCache:
        return cls(path)

    def use(self, db: sqlite3.Connection) -> None:
        """Look answers up in ``db`` (a build's state store) from now on."""
        if db is not self.db:
            self.db = db
            self._synced = False
        self.sync()

    def sync(self) -> None:
        """Make the table mirror the file, if the file changed since it was last read or
        written here (a ``git pull``, another vault's build)."""
        if self._synced:
            return
        self.db.execute("CREATE TABLE IF NOT EXISTS arxiv_answers (section TEXT NOT NULL, "
                        "key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (section, key))"
                        " WITHOUT ROWID")
        self._synced = True
        stamp = self._stamp()
        row = self.db.execute("SELECT value FROM arxiv_answers WHERE section = 'file' AND "
                              "key = ?", (str(self.path),)).fetchone()
        if row is not None and row[0] == stamp:
            return
        self.db.execute("DELETE FROM arxiv_answers")
        read = _read_cache(self.path) if self.path else {}
        if read is None:
            self.unreadable = True
            self.warnings.append(
                f"{self.path}: not an arXiv cache vaultgen can read; left as it is, and "
                "this run's answers are not kept (move it away to start a new cache)")
            read = {}
        for section, answers in read.items():
            self.db.executemany("INSERT OR REPLACE INTO arxiv_answers VALUES (?, ?, ?)",
                                ((section, key, json.dumps(value, ensure_ascii=False))
                                 for key, value in answers.items()))
        self._remember_file()

    def _stamp(self) -> str:
        try:
            stat = self.path.stat() if self.path is not None else None
        except OSError:
            stat = None
        return json.dumps([stat.st_size, stat.st_mtime_ns] if stat else None)

    def _remember_file(self) -> None:
        self.db.execute("INSERT OR REPLACE INTO arxiv_answers VALUES ('file', ?, ?)",
                        (str(self.path), self._stamp()))

    def negative_days(self) -> list[str]:
        """The days on which arXiv answered "not found" (a title, an id)."""
        self.sync()
        asked = [a.get("asked", "") for a in self.titles.values() if not a.get("ids")]
        return asked + list(self.missing.values())

    def save(self) -> None:
        """Write the file, if answers were added since it was read (none: no file made;
        never over a file that is not such a cache)."""
        if self.path is None or not self.changed or self.unreadable:
            return
        from ..write import atomic_write

        def lines() -> Iterator[bytes]:
            yield f'{{"version": {_CACHE_VERSION},\n'.encode()
            for position, section in enumerate(_SECTIONS):
                yield f'"{section}": {{\n'.encode()
                answers = getattr(self, section).lines()
                previous = None
                for line in answers:
                    if previous is not None:
                        yield (previous + ",\n").encode()
                    previous = line
                if previous is not None:
                    yield (previous + "\n").encode()
                yield b"}}\n" if position == len(_SECTIONS) - 1 else b"},\n"

        atomic_write(self.path, lines(), sync=True)
        self._remember_file()
        self.changed = False

    def record(self, arxiv_id: str) -> ArxivRecord | None:
        self.sync()
        return self.records.get(arxiv_id)


def _read_cache(path: Path) -> dict[str, dict[str, Any]] | None:
    """The cache file's answers by section; none when it is missing or of another version;
    None when it is not such JSON."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    if raw.get("version") != _CACHE_VERSION:
        return {}
    return {section: value for section in _SECTIONS
            if isinstance(value := raw.get(section), dict)}


def _as_is(value: Any) -> Any:
    return value


def record_from_dict(raw: dict) -> ArxivRecord:
    """A record from its JSON form."""
    return ArxivRecord(
        id=raw["id"], title=raw["title"], authors=names_once(raw.get("authors", ())),
        summary=raw.get("summary", ""),
        published=one_copy(raw.get("published", "")[:10]),
        updated=one_copy((raw.get("updated") or "")[:10]),
        primary_category=one_copy(raw.get("primary_category", "")),
        categories=one_copy(tuple(raw.get("categories", ()))), version=raw.get("version", 1),
        doi=raw.get("doi") or "", journal=raw.get("journal") or "")


def record_to_dict(record: ArxivRecord) -> dict[str, object]:
    """A record in its JSON form, its fields in their order (a DOI or journal reference only
    when there is one)."""
    data: dict[str, object] = {
        "id": record.id, "title": record.title, "authors": list(record.authors),
        "summary": record.summary, "published": record.published, "updated": record.updated,
        "primary_category": record.primary_category, "categories": list(record.categories),
        "version": record.version}
    if record.doi:
        data["doi"] = record.doi
    if record.journal:
        data["journal"] = record.journal
    return data


def record_from_result(result: arxiv.Result) -> ArxivRecord:
    short = result.get_short_id()
    match = re.match(r"(.+?)(?:v(\d+))?$", short)
    arxiv_id, version = (match.group(1), int(match.group(2) or 1)) if match else (short, 1)
    return ArxivRecord(
        id=arxiv_id, title=" ".join(result.title.split()),
        authors=names_once(a.name for a in result.authors),
        summary=" ".join(result.summary.split()),
        published=result.published.date().isoformat(), updated=result.updated.date().isoformat(),
        primary_category=result.primary_category, categories=tuple(result.categories),
        version=version, doi=result.doi or "", journal=" ".join((result.journal_ref or "").split()))


# --- HTTP -----------------------------------------------------------------------------------

def _timeout_session(timeout: float) -> Any:
    """A requests session with a timeout on every request (the package sets none), keeping
    the last response so that its status, headers and body can be judged."""
    import requests

    class TimeoutSession(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            self.timeout = timeout
            self.last_response: requests.Response | None = None
            self.count = 0

        def request(self, method, url, *args, **kwargs):
            kwargs.setdefault("timeout", self.timeout)
            self.count += 1
            response = super().request(method, url, *args, **kwargs)
            self.last_response = response
            return response

    return TimeoutSession()


class _Transient(Exception):
    """An answer that proves nothing (empty or malformed page): retry later, cache nothing."""


class _Offline(Exception):
    """arXiv cannot be reached: stop asking for the rest of the run."""


def _valid_feed(body: bytes) -> bool:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return False
    return root.find("{http://a9.com/-/spec/opensearch/1.1/}totalResults") is not None


def _search(**options: Any) -> arxiv.Search:
    import arxiv

    return arxiv.Search(**options)


# --- The source -----------------------------------------------------------------------------

@dataclass
class LookupStats:
    requests: int = 0
    offline: bool = False
    warnings: list[str] = field(default_factory=list)


class ArxivSource:
    """Records for entries and cited ids, from the cache first and arXiv for the rest."""

    def __init__(self, cache: ArxivCache, *, base_url: str = DEFAULT_API, delay: float = 3.0,
                 timeout: float = 20.0, offline: bool = False, refresh: bool = False,
                 today: dt.date | None = None, progress: Progress | None = None,
                 max_retries: int = 4) -> None:
        self.cache = cache
        self.base_url = base_url.rstrip("/")
        self.offline = offline
        self.refresh = refresh
        self.today = today or dt.date.today()
        self.progress = progress
        self.max_retries = max_retries
        self.stats = LookupStats(offline=offline)
        self.delay = delay
        self.timeout = timeout
        self._connection: tuple[Any, Any] | None = None  # (arxiv.Client, its session)

    def _connect(self) -> tuple[Any, Any]:
        """The ``arxiv`` client and its HTTP session, made when arXiv is first asked."""
        if self._connection is None:
            import arxiv

            session = _timeout_session(self.timeout)
            client = arxiv.Client(page_size=100, delay_seconds=self.delay, num_retries=0)
            client.query_url_format = f"{self.base_url}/api/query?{{}}"
            client._session = session  # the package's one HTTP session, with timeouts
            self._connection = (client, session)
        return self._connection

    # RecordSource -------------------------------------------------------------------------

    def state(self) -> dict[str, object] | None:
        """What this source's answers depend on (the cache file as it is, offline or not), for
        a build to tell that nothing changed; None when it cannot tell (``refresh``)."""
        if self.refresh or self.stats.warnings:
            return None  # a failed request: what it left unasked is asked again next time
        path = self.cache.path
        try:
            stat = path.stat() if path is not None else None
        except OSError:
            stat = None
        return {"cache": str(path), "size": stat.st_size if stat else None,
                "mtime_ns": stat.st_mtime_ns if stat else None, "offline": self.offline,
                "api": self.base_url}

    def use_store(self, db: sqlite3.Connection) -> None:
        """Keep the answers in a build's state store (``ArxivCache.use``)."""
        self.cache.use(db)

    def match_titles(self, entries: Sequence[Entry]) -> dict[int, ArxivRecord]:
        keys = {title_key(e.title) for e in entries}
        answers = self.cache.titles.many(keys)
        to_ask = sorted(k for k in keys if self._needs_asking(answers.get(k)))
        ticks = Ticks(None if self.offline else self.progress, ARXIV_TITLES, len(to_ask))
        for batch in _title_batches(to_ask):
            if self.offline:
                break
            try:
                self._ask_titles(batch)
            except _Offline:
                break
            except _Transient as err:
                self._warn(f"arXiv gave no usable answer for {plural(len(batch), 'title')} "
                           f"({err}); they stay unresolved and will be asked again next run")
            self.cache.save()
            ticks.tick(len(batch))
        answers.update(self.cache.titles.many(to_ask))  # (as arXiv answered them now)
        records = self.cache.records.many(
            i for answer in answers.values() for i in answer.get("ids", []))
        matched: dict[int, ArxivRecord] = {}
        for index, entry in enumerate(entries):
            answer = answers.get(title_key(entry.title))
            for arxiv_id in (answer or {}).get("ids", []):
                record = records.get(arxiv_id)
                if record and accept_match(entry, record):
                    matched[index] = record
                    break
        return matched

    def fetch_ids(self, ids: Sequence[str]) -> dict[str, ArxivRecord]:
        known = self.cache.records.many(ids)
        missing = self.cache.missing.many(i for i in ids if i not in known)
        to_ask = [i for i in ids if i not in known and self._missing_stale(missing.get(i))]
        ticks = Ticks(None if self.offline else self.progress, ARXIV_IDS, len(to_ask))
        for start in range(0, len(to_ask), _ID_CHUNK):
            if self.offline:
                break
            chunk = to_ask[start:start + _ID_CHUNK]
            try:
                found = self._query(_search(id_list=chunk, max_results=len(chunk)))
            except _Offline:
                break
            except _Transient as err:
                self._warn(f"arXiv gave no usable answer for {plural(len(chunk), 'id')} "
                           f"({err})")
                ticks.tick(len(chunk))
                continue
            for record in found:
                self.cache.records[record.id] = record
                self.cache.missing.pop(record.id, None)
            for arxiv_id in chunk:
                if arxiv_id not in self.cache.records:
                    self.cache.missing[arxiv_id] = self.today.isoformat()
            self.cache.save()
            ticks.tick(len(chunk))
        if to_ask:
            known = self.cache.records.many(ids)
        return {i: known[i] for i in ids if i in known}

    # Internals ----------------------------------------------------------------------------

    def _needs_asking(self, answer: dict[str, Any] | None) -> bool:
        """Whether a title whose cached answer is ``answer`` (None: never asked) is asked."""
        if answer is None:
            return True
        if answer.get("ids"):
            return False
        return self.refresh or _older_than(answer.get("asked", ""), self.today,
                                           NOT_FOUND_TTL_DAYS)

    def _missing_stale(self, asked: str | None) -> bool:
        """Whether an id arXiv did not know when ``asked`` (None: never asked) is asked."""
        return asked is None or self.refresh or _older_than(asked, self.today,
                                                            NOT_FOUND_TTL_DAYS)

    def _ask_titles(self, keys: list[str]) -> None:
        query = " OR ".join(f'ti:"{phrase_of(k)}"' for k in keys)
        results = self._query(_search(query=query, max_results=max(10, 5 * len(keys))))
        by_key: dict[str, list[str]] = {}
        for record in results:
            self.cache.records[record.id] = record
            by_key.setdefault(title_key(record.title), []).append(record.id)
        for key in keys:
            self.cache.titles[key] = {"asked": self.today.isoformat(),
                                      "ids": by_key.get(key, [])}

    def _query(self, search: arxiv.Search) -> list[ArxivRecord]:
        """One search, its pages fetched by the package; faults retried or reported."""
        import arxiv
        import requests

        client, session = self._connect()
        for attempt in range(self.max_retries + 1):
            before = session.count
            try:
                results = list(client.results(search))
            except (requests.ConnectionError, requests.Timeout) as err:
                self.stats.requests += session.count - before
                self._go_offline(f"cannot reach {self.base_url} ({type(err).__name__})")
                raise _Offline from err
            except arxiv.HTTPError as err:
                self.stats.requests += session.count - before
                if err.status in (429, 500, 502, 503, 504) and attempt < self.max_retries:
                    time.sleep(self._retry_after(attempt))
                    continue
                raise _Transient(f"HTTP {err.status}") from err
            except arxiv.UnexpectedEmptyPageError as err:
                self.stats.requests += session.count - before
                raise _Transient("an empty page in the middle of the results") from err
            self.stats.requests += session.count - before
            response = session.last_response
            if response is None or not _valid_feed(response.content):
                if attempt < self.max_retries:
                    time.sleep(self._retry_after(attempt))
                    continue
                raise _Transient("a malformed feed")
            return [record_from_result(r) for r in results]
        raise _Transient("gave up after retries")

    def _retry_after(self, attempt: int) -> float:
        client, session = self._connect()
        response = session.last_response
        header = response.headers.get("Retry-After") if response is not None else None
        if header and header.strip().isdigit():
            return min(float(header), 120.0)
        return min(client.delay_seconds * (2 ** attempt), 60.0)

    def _go_offline(self, why: str) -> None:
        self.offline = True
        self.stats.offline = True
        self._warn(f"{why}; continuing offline with what the cache knows")

    def _warn(self, message: str) -> None:
        log.warning(message)
        self.stats.warnings.append(message)


def phrase_of(key: str) -> str:
    """The words of a title key that arXiv's search can match as a phrase: the longest run of
    plain ASCII words (TeX and symbols index differently), at most 12 words."""
    runs: list[list[str]] = [[]]
    for word in key.split():
        if _ASCII_WORD.fullmatch(word):
            runs[-1].append(word)
        else:
            runs.append([])
    best = max(runs, key=len)
    return " ".join(best[:12]) if best else key


def _title_batches(keys: list[str]) -> list[list[str]]:
    batches: list[list[str]] = []
    current: list[str] = []
    size = 0
    for key in keys:
        term = len(quote_plus(f'ti:"{phrase_of(key)}" OR '))
        if current and size + term > _QUERY_BUDGET:
            batches.append(current)
            current, size = [], 0
        current.append(key)
        size += term
    if current:
        batches.append(current)
    return batches


def _older_than(day: str, today: dt.date, days: int) -> bool:
    try:
        return (today - dt.date.fromisoformat(day)).days >= days
    except ValueError:
        return True
