"""Outside text made safe to print with rich.

Paths, titles, cue texts and record values come from files anyone may have
edited. Shown through rich they would be read as markup (``[/]`` crashes the
print, ``[slowly]`` vanishes), and a very long word takes rich quadratic time
to wrap. ``shown`` escapes the markup, spells out control characters and cuts
the text to a length a terminal can show.
"""

from __future__ import annotations

from rich.markup import escape

SHOWN_MAX_CHARS = 300


def plain(value: object, limit: int = SHOWN_MAX_CHARS) -> str:
    """``value`` as one printable line of at most ``limit`` characters (no escaping)."""
    text = str(value)
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown(value: object, limit: int = SHOWN_MAX_CHARS) -> str:
    """``value`` ready to put inside the coach's own rich markup, shown exactly as written."""
    return escape(plain(value, limit))


def shown_lines(value: object, limit: int = SHOWN_MAX_CHARS) -> str:
    """Like ``shown``, keeping line breaks (multi-line error messages), each line cut."""
    return "\n".join(shown(line, limit) for line in str(value).split("\n"))
