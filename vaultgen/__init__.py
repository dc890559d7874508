"""vaultgen: digest posts of research papers → a linked Obsidian vault.

The pipeline is parse → resolve → render → write; ``check`` and ``graph`` read a vault.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__version__ = "0.1.0"


@functools.cache
def code_digest() -> str:
    """A digest of this vaultgen: its version and the source of every module. The caches of a
    build (parsed posts, rendered notes, the last build's state) hold only for the same one, so
    that a new version, or an edited checkout, never reuses what an older one made."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=16)
    root = Path(__file__).parent
    for source in sorted(root.rglob("*.py")):
        digest.update(source.relative_to(root).as_posix().encode() + b"\0" +
                      source.read_bytes())
    return digest.hexdigest()
