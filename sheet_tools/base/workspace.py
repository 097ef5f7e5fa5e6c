"""The workspace: the one folder the service works in, and where everything lives inside it.

::

    inbox/            administrators drop returns here (may be a network share)
    outbox/           summaries for schools and trusts (may be a network share)
    archive/          accepted originals, byte for byte
    rejected/         rejected originals, each with <name>.errors.txt (and an annotated copy)
    processing/       returns being worked on (claimed from the inbox)
    sheet-tools.db    the SQLite store of every return
    sheet-tools.log
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Workspace:
    """The folder the service works in (defaults to the current directory)."""

    root: Path
    inbox: Path
    outbox: Path

    @classmethod
    def at(
        cls,
        root: Path | str = ".",
        inbox: Path | str | None = None,
        outbox: Path | str | None = None,
    ) -> Workspace:
        base = Path(root)
        return cls(
            base,
            Path(inbox) if inbox else base / "inbox",
            Path(outbox) if outbox else base / "outbox",
        )

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def rejected(self) -> Path:
        return self.root / "rejected"

    @property
    def processing(self) -> Path:
        return self.root / "processing"

    @property
    def temp(self) -> Path:
        """Private copies being ingested (``move=False``); on the same disk as the archive."""
        return self.root / ".sheet-tools-tmp"

    @property
    def database(self) -> Path:
        return self.root / "sheet-tools.db"

    @property
    def log_file(self) -> Path:
        return self.root / "sheet-tools.log"

    def ensure(self) -> None:
        for folder in (self.inbox, self.outbox, self.archive, self.rejected, self.processing):
            folder.mkdir(parents=True, exist_ok=True)
