"""The network edge: arXiv records for entries (by title) and for cited papers (by id).

``ArxivSource`` is the one object that talks to arXiv, through the ``arxiv`` package, with
arXiv's politeness rules: one connection, one request every ``delay`` seconds (3 by default),
many titles per request, ``id_list`` in chunks of at most 100. Every answer, found or not, goes
into an ``ArxivCache`` file written atomically after each batch, so an interrupted run resumes
where it stopped and ``offline`` builds use the cache alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from .errors import InputError
from .keyed_json import (
    SortedSection,
    keyed_lines,
    raw_document,
    raw_line,
    raw_value,
    read_keyed_entries,
    read_keyed_file,
    read_sorted_sections,
)
from .model import ArxivRecord, Entry, names_once, one_copy, text_digest
from .progress import ARXIV_IDS, ARXIV_TITLES, Progress, Ticks
from .resolve import accept_match, title_key
from .wording import plural

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

# --- Cache ----------------------------------------------------------------------------------

class AnswersAsRead(MutableMapping[str, Any]):
    """One section of the cache file, its answers found by binary search over the file's
    bytes (``keyed_json.SortedSection``) and decoded when first looked up; the answers set or
    removed since are kept apart, so that a save writes every other line back as read."""

    def __init__(self, read: SortedSection, decode: Callable[[Any], Any]) -> None:
        self.read = read
        self._decode = decode
        self._values: dict[str, Any] = {}
        self._removed: set[str] = set()
        self.changed = False  # set or removed since last saved
        self.given: set[str] = set()  # set or removed since read

    def __getitem__(self, key: str) -> Any:
        if key in self._values:
            return self._values[key]
        line = None if key in self._removed else self.read.line(key)
        if line is None:
            raise KeyError(key)
        value = self._values[key] = self._decode(json.loads(raw_value(line)))
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._values[key] = value
        self._removed.discard(key)
        self.changed = True
        self.given.add(key)

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._values.pop(key, None)
        self._removed.add(key)
        self.changed = True
        self.given.add(key)

    def __contains__(self, key: object) -> bool:
        return key in self._values or (key not in self._removed and key in self.read)

    def __iter__(self) -> Iterator[str]:
        read = [key for key in self.read if key not in self._removed]
        yield from read
        yield from set(self._values).difference(read)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def saved_lines(self, as_json: Callable[[Any], str]) -> list[bytes]:
        """The line of every answer, by key: those given since read made anew."""
        lines = {key: line for key, line in self.read.lines() if key not in self.given}
        lines.update((key, raw_line(key, as_json(self[key])))
                     for key in self.given if key in self)
        self.changed = False
        return [lines[key] for key in sorted(lines)]


class ArxivCache:
    """Answers arXiv gave: records by id, title searches and missing ids with the day asked.

    ``load`` reads the file only when an answer is first looked for, so a build that finds
    nothing to do never reads a cache of tens of thousands of records. The file is JSON, one
    answer a line (``keyed_json``): it is read a line at a time, each record made an
    ``ArxivRecord`` as it is read, so the whole text is never held.
    """

    def __init__(self, path: Path | None, records: dict[str, ArxivRecord] | None = None,
                 titles: dict[str, dict] | None = None, missing: dict[str, str] | None = None,
                 *, lazy: bool = False) -> None:
        self.path = path
        self._data: tuple[dict[str, ArxivRecord], dict[str, dict], dict[str, str]] | None = \
            None if lazy else (records or {}, titles or {}, missing or {})
        self.unreadable = False  # the file is not such a cache: it is never written over
        self.warnings: list[str] = []

    @classmethod
    def load(cls, path: Path | None) -> ArxivCache:
        return cls(path, lazy=path is not None)

    def _loaded(self) -> tuple[dict[str, ArxivRecord], dict[str, dict], dict[str, str]]:
        if self._data is None:
            self._data = ({}, {}, {})
            if self.path is not None and self.path.exists():
                read = _read_cache(self.path)
                if read is not None:
                    self._data = read
                elif not self.unreadable:
                    self.unreadable = True
                    self.warnings.append(
                        f"{self.path}: not an arXiv cache vaultgen can read; left as it is, and "
                        "this run's answers are not kept (move it away to start a new cache)")
                    log.warning(self.warnings[-1])
        return self._data

    @property
    def records(self) -> dict[str, ArxivRecord]:
        return self._loaded()[0]

    @property
    def titles(self) -> dict[str, dict]:
        """Title key → {"asked": ISO day, "ids": [arXiv ids]}."""
        return self._loaded()[1]

    @property
    def missing(self) -> dict[str, str]:
        """arXiv id → ISO day it was asked for and not found."""
        return self._loaded()[2]

    def unload(self) -> None:
        """Forget the answers read from the file (read again when next looked for)."""
        if self.path is not None:
            self._data = None

    def read_lazily(self) -> bool:
        """Read the file's answers without decoding them (``AnswersAsRead``): for a build
        that looks up a few of them. False when the file is not laid out one answer a line
        (it is then read whole when first looked up)."""
        if self._data is not None or self.path is None:
            return self._data is not None and isinstance(self._data[0], AnswersAsRead)
        if not self.path.exists():
            return False
        try:
            head, sections = read_sorted_sections(self.path, names=_SECTIONS, mapped=True)
        except (OSError, ValueError):
            return False
        if head.get("version") != _CACHE_VERSION:
            return False
        none = SortedSection(b"", 0, 0)
        self._data = (AnswersAsRead(sections.get("records", none), record_from_dict),
                      AnswersAsRead(sections.get("titles", none), _as_is),
                      AnswersAsRead(sections.get("missing", none), _as_is))
        return True

    def negative_days(self) -> list[str]:
        """The days on which arXiv answered "not found" (a title, an id); of a cache read
        lazily, only of the answers given since it was read."""
        _, titles, missing = self._loaded()
        if isinstance(titles, AnswersAsRead) and isinstance(missing, AnswersAsRead):
            asked = [titles[key].get("asked", "") for key in titles.given
                     if key in titles and not titles[key].get("ids")]
            return asked + [missing[key] for key in missing.given if key in missing]
        asked = [a.get("asked", "") for a in titles.values() if not a.get("ids")]
        return asked + list(missing.values())

    def save(self) -> None:
        """Write the answers to the file (never over a file that is not such a cache)."""
        if self.path is None or self._data is None or self.unreadable:
            return
        from .write import atomic_write

        if isinstance(self._data[0], AnswersAsRead):
            self._save_lazily(*self._data)  # type: ignore[arg-type]
            return

        def as_text(values: dict[str, object]) -> Iterable[tuple[str, str]]:
            return ((key, json.dumps(values[key], ensure_ascii=False)) for key in sorted(values))

        self._hold_summaries()
        records = ((key, json.dumps(record_to_dict(self.records[key]), ensure_ascii=False))
                   for key in sorted(self.records))
        text = "".join(keyed_lines({"version": _CACHE_VERSION}, {
            "records": records, "titles": as_text(self.titles),  # type: ignore[arg-type]
            "missing": as_text(self.missing)}))  # type: ignore[arg-type]
        if self.path.exists() and self.path.read_text(encoding="utf-8") == text:
            return
        atomic_write(self.path, text.encode("utf-8"), sync=True)

    def _save_lazily(self, records: AnswersAsRead, titles: AnswersAsRead,
                     missing: AnswersAsRead) -> None:
        """Save a cache read lazily: the answers not changed written back as read."""
        from .write import atomic_write

        if not (records.changed or titles.changed or missing.changed):
            return  # nothing new since read or last saved
        assert self.path is not None
        atomic_write(self.path, raw_document({"version": _CACHE_VERSION}, {
            "records": records.saved_lines(lambda r: json.dumps(record_to_dict(r),
                                                                ensure_ascii=False)),
            "titles": titles.saved_lines(lambda v: json.dumps(v, ensure_ascii=False)),
            "missing": missing.saved_lines(lambda v: json.dumps(v, ensure_ascii=False))}),
            sync=True)

    def record(self, arxiv_id: str) -> ArxivRecord | None:
        return self.records.get(arxiv_id)

    def summaries(self, ids: Iterable[str], *, all_of: bool = False) -> dict[str, str]:
        """The summaries of the given records as the cache file holds them (records are read
        without: tens of thousands of abstracts the notes seldom show), read in one pass
        that decodes only their lines. ``all_of``: each must be there (else ``InputError``:
        the file changed since the records were read)."""
        wanted = set(ids)
        found: dict[str, object] = {}
        if self.path is not None and wanted and self.path.exists():
            found = read_keyed_entries(self.path, "records", wanted)
        summaries = {key: value.get("summary", "") for key, value in found.items()
                     if isinstance(value, dict)}
        if all_of and wanted - summaries.keys():
            raise InputError(str(self.path), "records read at the start of the build are gone",
                             hint="it changed while vaultgen was building; build again")
        return summaries

    def _hold_summaries(self) -> None:
        """Read the summaries of the records read without them (once a run: a save follows
        every batch of answers, and writes every record whole)."""
        apart = [key for key, record in self.records.items() if record.summary_digest]
        if not apart:
            return
        summaries = self.summaries(apart, all_of=True)
        for key in apart:
            self.records[key] = dataclasses.replace(self.records[key], summary=summaries[key],
                                                    summary_digest="")


def _read_cache(path: Path,
                ) -> tuple[dict[str, ArxivRecord], dict[str, dict], dict[str, str]] | None:
    """The cache file's answers; empty when it is of another version, None when it is not
    such JSON."""
    def convert(section: str, value: object, _text: str) -> object:
        if section == "records":  # summaries are read when a note shows them (``summaries``)
            return record_from_dict(value, hold_summary=False)  # type: ignore[arg-type]
        return value

    try:
        head, sections = read_keyed_file(path, convert)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    if head.get("version") != _CACHE_VERSION:
        return {}, {}, {}
    return (sections.get("records", {}), sections.get("titles", {}),  # type: ignore[return-value]
            sections.get("missing", {}))


def _as_is(value: Any) -> Any:
    return value


def record_from_dict(raw: dict, *, hold_summary: bool = True) -> ArxivRecord:
    """A record from its JSON form; without ``hold_summary``, its summary is left out (a
    digest stands for it)."""
    summary = raw.get("summary", "")
    held = hold_summary or not summary
    return ArxivRecord(
        id=raw["id"], title=raw["title"], authors=names_once(raw.get("authors", ())),
        summary=summary if held else "", summary_digest="" if held else text_digest(summary),
        published=one_copy(raw.get("published", "")[:10]),
        updated=one_copy((raw.get("updated") or "")[:10]),
        primary_category=one_copy(raw.get("primary_category", "")),
        categories=one_copy(tuple(raw.get("categories", ()))), version=raw.get("version", 1))


def record_to_dict(record: ArxivRecord) -> dict:
    if record.summary_digest:
        raise ValueError(f"the summary of arXiv:{record.id} is not held")
    data = asdict(record)
    del data["summary_digest"]
    data["authors"] = list(record.authors)
    data["categories"] = list(record.categories)
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
        version=version)


def default_cache_path(inputs: Sequence[Path]) -> Path:
    """``arxiv-cache.json`` in the first input folder (beside a file named directly)."""
    first = inputs[0]
    folder = first if first.is_dir() or not first.suffix else first.parent
    return folder / CACHE_NAME


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

        def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def, override]
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
    from_cache: int = 0
    matched: int = 0
    unmatched: int = 0
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
        self._unsaved = False  # answers not yet written to the cache file

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

    def release(self) -> None:
        """Forget the cache's contents (saved after every answer, so they are on disk);
        they are read again if needed."""
        if self.cache.path is not None:
            self._save_answers()
            self.cache.unload()

    def expect_few_lookups(self) -> None:
        """A build is about to look up the answers for a few entries of tens of thousands:
        the cache is read without decoding its answers (``ArxivCache.read_lazily``)."""
        self.cache.read_lazily()

    def summaries(self, ids: Iterable[str]) -> dict[str, str]:
        """Summaries of cached records, which are held without them (``ArxivCache``)."""
        return self.cache.summaries(ids, all_of=True)

    def still_valid(self, recheck_on: str | None) -> bool:
        """Whether the answers a build used still stand today: offline, or no answer "not
        found" is due to be asked again (``recheck_on``, from ``recheck_on()`` then)."""
        return self.offline or recheck_on is None or self.today.isoformat() < recheck_on

    def recheck_on(self) -> str | None:
        """The first day on which a cached "not found" will be asked again; None if never."""
        asked = self.cache.negative_days()
        if not asked:
            return None
        try:
            first = dt.date.fromisoformat(min(asked))
        except ValueError:
            return self.today.isoformat()
        return (first + dt.timedelta(days=NOT_FOUND_TTL_DAYS)).isoformat()

    def match_titles(self, entries: Sequence[Entry]) -> dict[int, ArxivRecord]:
        keys = {title_key(e.title) for e in entries}
        to_ask = sorted(k for k in keys if self._needs_asking(k))
        self.stats.from_cache += len(keys) - len(to_ask)
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
            self._save_answers()
            ticks.tick(len(batch))
        matched: dict[int, ArxivRecord] = {}
        for index, entry in enumerate(entries):
            answer = self.cache.titles.get(title_key(entry.title))
            for arxiv_id in (answer or {}).get("ids", []):
                record = self.cache.record(arxiv_id)
                if record and accept_match(entry, record):
                    matched[index] = record
                    break
        self.stats.matched = len(matched)
        self.stats.unmatched = len(entries) - len(matched)
        return matched

    def fetch_ids(self, ids: Sequence[str]) -> dict[str, ArxivRecord]:
        to_ask = [i for i in ids if i not in self.cache.records and self._missing_stale(i)]
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
            self._unsaved = True
            self._save_answers()
            ticks.tick(len(chunk))
        return {i: r for i in ids if (r := self.cache.record(i)) is not None}

    # Internals ----------------------------------------------------------------------------

    def _needs_asking(self, key: str) -> bool:
        answer = self.cache.titles.get(key)
        if answer is None:
            return True
        if answer.get("ids"):
            return False
        return self.refresh or _older_than(answer.get("asked", ""), self.today,
                                           NOT_FOUND_TTL_DAYS)

    def _missing_stale(self, arxiv_id: str) -> bool:
        asked = self.cache.missing.get(arxiv_id)
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
        self._unsaved = True

    def _save_answers(self) -> None:
        """Save the cache if arXiv answered since it was last saved: a failed request leaves
        the file as it was, or makes none."""
        if self._unsaved:
            self.cache.save()
            self._unsaved = False

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
