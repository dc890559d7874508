"""A small arXiv-compatible API server over a JSONL file of records.

It answers ``/api/query`` in arXiv's Atom format for ``id_list`` and for ``search_query`` made
of ``ti:"phrase"`` / ``ti:word`` terms joined by ``OR`` or ``AND`` (the forms vaultgen sends),
with ``start`` and ``max_results`` paging. It serves tests and benchmarks (the real ``arxiv``
package talks to it on 127.0.0.1) and can stand in for arXiv offline:

    python -m tests.arxiv_server records.jsonl --port 8088
    vaultgen build input/ --arxiv-url http://127.0.0.1:8088 --arxiv-delay 0

Faults can be queued for tests: ``server.faults.append(Fault(status=503, retry_after="1"))``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape, quoteattr

from vaultgen.arxiv.match import title_key

_TERM = re.compile(r'(?:(ti|au|abs|all):)?(?:"([^"]*)"|(\S+))')


@dataclass
class Fault:
    """A canned answer served instead of the next real one."""

    status: int = 503
    body: bytes = b""
    retry_after: str | None = None
    delay: float = 0.0  # seconds to wait before answering (for timeouts)


def _entry_xml(record: dict) -> str:
    arxiv_id = record["id"]
    version = record.get("version") or 1
    versioned = f"http://arxiv.org/abs/{arxiv_id}v{version}"
    authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in record["authors"])
    categories = "".join(f'<category term={quoteattr(c)} scheme="http://arxiv.org/schemas/atom"/>'
                         for c in record.get("categories") or [])
    primary = record.get("primary_category") or "cs.LG"
    return (
        f"<entry><id>{versioned}</id>"
        f"<updated>{record.get('updated') or record.get('published')}</updated>"
        f"<published>{record.get('published')}</published>"
        f"<title>{escape(record['title'])}</title>"
        f"<summary>{escape(record.get('summary') or '')}</summary>{authors}"
        f'<link href="{versioned}" rel="alternate" type="text/html"/>'
        f'<link title="pdf" href="http://arxiv.org/pdf/{arxiv_id}v{version}" rel="related" '
        f'type="application/pdf"/>'
        f'<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" '
        f'term={quoteattr(primary)} scheme="http://arxiv.org/schemas/atom"/>{categories}'
        f"{_optional('arxiv:doi', record.get('doi'))}"
        f"{_optional('arxiv:journal_ref', record.get('journal'))}</entry>"
    )


def _optional(tag: str, text: str | None) -> str:
    return f"<{tag}>{escape(text)}</{tag}>" if text else ""


def feed_xml(records: list[dict], total: int, start: int) -> bytes:
    """An arXiv API Atom feed holding ``records``, page ``start`` of ``total`` results."""
    entries = "".join(_entry_xml(r) for r in records)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom">'
        '<id>https://arxiv.org/api/mirror</id><title>arXiv Query</title>'
        '<updated>2025-01-01T00:00:00Z</updated>'
        f"<opensearch:totalResults>{total}</opensearch:totalResults>"
        f"<opensearch:startIndex>{start}</opensearch:startIndex>"
        f"<opensearch:itemsPerPage>{len(records)}</opensearch:itemsPerPage>"
        f"{entries}</feed>"
    ).encode()


class Catalogue:
    """Records by id, and an index of title words for phrase search."""

    def __init__(self, records: Iterable[dict]) -> None:
        self.by_id: dict[str, dict] = {}
        self.keys: dict[str, str] = {}
        for record in records:
            self.by_id[record["id"]] = record
            self.keys[record["id"]] = f" {title_key(record['title'])} "

    def search(self, query: str) -> list[dict]:
        """Records whose title holds every phrase (AND) or any phrase (OR)."""
        phrases = [f" {title_key(m.group(2) or m.group(3))} " for m in _TERM.finditer(query)
                   if (m.group(2) or m.group(3)) not in ("OR", "AND", "ANDNOT")]
        phrases = [p for p in phrases if p.strip()]
        if not phrases:
            return []
        need_all = " AND " in query
        found = []
        for arxiv_id, key in self.keys.items():
            hits = [p in key for p in phrases]
            if all(hits) if need_all else any(hits):
                found.append(self.by_id[arxiv_id])
        return found


class MirrorServer(ThreadingHTTPServer):
    """The HTTP server; ``requests`` counts the queries it answered."""

    daemon_threads = True

    def __init__(self, catalogue: Catalogue, address: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        super().__init__(address, _Handler)
        self.catalogue = catalogue
        self.faults: deque[Fault] = deque()
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (a test's timeout, say) is no error of the mirror's."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> MirrorServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: MirrorServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        url = urlparse(self.path)
        with self.server.lock:
            self.server.requests.append(self.path)
            fault = self.server.faults.popleft() if self.server.faults else None
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            self.send_response(fault.status)
            if fault.retry_after is not None:
                self.send_header("Retry-After", fault.retry_after)
            self.send_header("Content-Type", "application/atom+xml")
            self.send_header("Content-Length", str(len(fault.body)))
            self.end_headers()
            self.wfile.write(fault.body)
            return
        if url.path.rstrip("/") != "/api/query":
            self.send_error(404)
            return
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        catalogue = self.server.catalogue
        if params.get("id_list"):
            ids = [i.strip() for i in params["id_list"].split(",")]
            matches = [catalogue.by_id[re.sub(r"v\d+$", "", i)] for i in ids
                       if re.sub(r"v\d+$", "", i) in catalogue.by_id]
        else:
            matches = catalogue.search(params.get("search_query", ""))
        start = int(params.get("start", 0))
        size = int(params.get("max_results", 10))
        body = feed_xml(matches[start:start + size], len(matches), start)
        self.send_response(200)
        self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def load_records(path: Path) -> list[dict]:
    """Records from a JSONL file (one arXiv record per line)."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", type=Path)
    parser.add_argument("--port", type=int, default=8088)
    args = parser.parse_args()
    server = MirrorServer(Catalogue(load_records(args.records)), ("127.0.0.1", args.port))
    print(f"serving {len(server.catalogue.by_id)} records at {server.base_url}/api/query")
    server.serve_forever()


if __name__ == "__main__":
    main()
