"""Readable text from TeX titles, and note names that are safe on every OS and in links."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ",
    "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "infty": "∞",
    "times": "×", "cdot": "·", "pm": "±", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥",
    "neq": "≠", "approx": "≈", "sim": "~", "to": "→", "rightarrow": "→", "leftarrow": "←",
    "star": "⋆", "ast": "*", "circ": "∘", "partial": "∂", "nabla": "∇", "sum": "Σ",
    "prod": "Π", "int": "∫", "sqrt": "√", "ell": "ℓ", "dagger": "†", "textbackslash": "\\",
    "backslash": "\\", "%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}",
    "S": "§", "ldots": "…", "dots": "…", "cdots": "⋯", "prime": "′", "emptyset": "∅",
    "in": "∈", "forall": "∀", "exists": "∃", "log": "log", "exp": "exp",
}
_SUPERSCRIPT = str.maketrans("0123456789+-=()nik*", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵏ*")
_SUBSCRIPT = str.maketrans("0123456789+-=()aeioxt", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢₒₓₜ")
_COMMAND = re.compile(r"\\([A-Za-z]+|[%&_#${}])\s?")
_STYLE = re.compile(r"\\(?:math[a-z]+|text[a-z]*|operatorname|boldsymbol|bm|emph|rm|bf|it)"
                    r"\s*\{([^{}]*)\}")
_SCRIPT = re.compile(r"([\^_])(\{([^{}]*)\}|[^\s{}$^_])")
_SUPER = re.compile(r"(\^)(\{([^{}]*)\}|[^\s{}$^_])")


def _script(match: re.Match[str]) -> str:
    kind, body = match.group(1), match.group(3) if match.group(3) is not None else match.group(2)
    table = _SUPERSCRIPT if kind == "^" else _SUBSCRIPT
    converted = body.translate(table)
    if all(c != o or c in "*" for c, o in zip(converted, body, strict=True)):
        return converted
    return ("^" if kind == "^" else "_") + body  # not all of it has a script form


def tex_to_text(text: str) -> str:
    """TeX and markup in a title turned into readable Unicode.

    ``$\\mu$P`` → ``μP``, ``$\\infty$Bench`` → ``∞Bench``, ``S$^2$R`` → ``S²R``,
    ``VILA^2`` → ``VILA²``, ``$Q^*$`` → ``Q*``. No ``$`` remains.
    """
    if "$" not in text and "\\" not in text and "^" not in text and "_" not in text:
        return text
    parts = text.split("$")
    out = []
    for index, part in enumerate(parts):
        math = index % 2 == 1 and index < len(parts) - 1  # between a pair of $
        for _ in range(3):  # nested styles: \mathbf{\mathcal{X}}
            part = _STYLE.sub(r"\1", part)
        part = _COMMAND.sub(lambda m: _SYMBOLS.get(m.group(1), m.group(1)), part)
        # Subscripts only in math: outside it, "_" is an ordinary character (snake_case).
        part = (_SCRIPT if math else _SUPER).sub(_script, part)
        if math:
            part = part.replace("{", "").replace("}", "")
        out.append(part)
    return re.sub(r"\s{2,}", " ", "".join(out)).strip()


# Characters a note name must not hold, and the look-alikes that take their place.
_REPLACEMENTS = {
    "/": "∕", "\\": "⧵", ":": "꞉", "*": "∗", '"': "”", "<": "‹", ">": "›", "?": "？",
    "|": "∣", "#": "＃", "^": "˄", "[": "(", "]": ")", "+": "＋", "'": "’", "%%": "%",
}
_FORBIDDEN = re.compile("|".join(re.escape(k) for k in sorted(_REPLACEMENTS, key=len,
                                                               reverse=True)))
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(10)] + [f"LPT{i}" for i in range(10)]
)
NAME_MAX_BYTES = 240  # a path component may hold 255 bytes; ".md" and a " (2)" suffix fit


def safe_name(text: str, max_bytes: int = NAME_MAX_BYTES) -> str:
    """A note name safe on Windows, macOS, Linux and Android, and as a wiki-link target.

    NFC-normalised; forbidden characters replaced by look-alikes; no leading dot, no trailing
    dot or space; not a Windows device name; at most ``max_bytes`` UTF-8 bytes, cut at a word
    boundary where one is near. Never empty.
    """
    name = unicodedata.normalize("NFC", text)
    name = _CONTROL.sub(" ", name)
    name = _FORBIDDEN.sub(lambda m: _REPLACEMENTS[m.group(0)], name)
    name = _SPACES.sub(" ", name).strip()
    name = name.lstrip(". ")  # ". .0" too: no leading dot once the spaces go
    name = _truncate_bytes(name, max_bytes)
    name = name.rstrip(". ")
    if not name:
        name = "Untitled"
    if name.split(".")[0].upper() in _WINDOWS_DEVICES:
        name = f"{name} (note)"
    return name


def _truncate_bytes(name: str, max_bytes: int) -> str:
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    cut = name.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")
    space = cut.rfind(" ")
    if space > len(cut) * 0.6:
        cut = cut[:space]
    return cut.rstrip(" -,;") + "…"


def short_title(title: str) -> str:
    """What people call a paper: the part before a title's first colon, else the title.

    ``GaLore 2: Large-Scale …`` → ``GaLore 2``. A prefix of one character is no name.
    """
    readable = tex_to_text(title)
    head, sep, _rest = readable.partition(": ")
    if sep and len(head.strip()) >= 2:
        return head.strip()
    return readable


def name_key(name: str) -> str:
    """The key under which two names are one file on macOS and Windows."""
    if name.isascii():
        return name.lower()  # what NFC and casefold make of ASCII, much faster
    return unicodedata.normalize("NFC", name).casefold()


def tag_note_name(tag: str) -> str:
    """The name of a tag's hub note: ``llm`` → ``llm (tag)``."""
    return safe_name(f"{tag} (tag)")


class NameRegistry:
    """Hands out note names unique across the vault regardless of case and folder."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        """``taken``: keys (``name_key``) of names already handed out (``keys``)."""
        self._taken: dict[str, str] = {key: key for key in taken}

    def keys(self) -> list[str]:
        """The keys of every name handed out, in order."""
        return list(self._taken)

    def take(self, *candidates: str) -> str:
        """The first candidate name still free; else the last one with a number appended."""
        for candidate in candidates:
            name = safe_name(candidate)
            key = name_key(name)
            if key not in self._taken:
                self._taken[key] = name
                return name
        base = safe_name(candidates[-1])
        number = 2
        while name_key(f"{base} ({number})") in self._taken:
            number += 1
        name = f"{base} ({number})"
        self._taken[name_key(name)] = name
        return name

    def keep(self, name: str) -> bool:
        """Register a name already given out (safe as it is); False when it is taken."""
        key = name_key(name)
        if key in self._taken:
            return False
        self._taken[key] = name
        return True

    def __contains__(self, name: str) -> bool:
        return name_key(name) in self._taken
