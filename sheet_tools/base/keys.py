"""Every identity key, in one place: how two spellings of one school or trust are
known to be the same thing. Every stage asks here, so the store, the summaries' grouping, the
outbox plan, identity checks and carry-forward can never disagree.

Names are compared as people type them: case, spacing, punctuation, accents and curly quotes
ignored, "&" read as "and" ("St. Mary's C of E" and "St Mary’s C. of E." are one school;
"Dales & Moors Education Trust" and "Dales and Moors Education Trust" are one trust).
A URN, where there is one, identifies a school on its own.
"""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^\w\s]")
_APOSTROPHES = re.compile("['\u2018\u2019\u02bc`\u00b4]")


def squash(text: str) -> str:
    """Whitespace collapsed (non-breaking spaces too) and case folded: a typed word or choice
    ("secure ", "SECURE") matched against the one offered."""
    return " ".join(text.split()).casefold()


def bare(text: str) -> str:
    """Letters and digits only, case folded: "N/A", "n.a." and "NA" are all "na"."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def name_key(name: str | None) -> str:
    """A school's or trust's name for matching; "" for no name."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name.replace("&", " and "))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text))
    text = _NOT_WORD.sub(" ", text.replace("_", " "))
    return " ".join(text.casefold().split())


def trust_key(name: str | None) -> str:
    """One trust however it is typed; "" is no trust."""
    return name_key(name)


def school_key(name: str | None, urn: str | None) -> str:
    """One school: its URN where it has one, else its name's key."""
    return urn.strip() if urn and urn.strip() else name_key(name)
