"""One returned file -> checked, stored and filed: the step both ``ingest`` and ``watch`` run.

guard -> read -> validate -> store, then the original goes, byte for byte, to the workspace's
archive (accepted, duplicate) or rejected folder (with ``<name>.errors.txt`` and an annotated
copy beside it). The original is never altered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .frameworks import Registry
from .report import FileReport
from .store import Store


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
    def database(self) -> Path:
        return self.root / "sheet-tools.db"

    @property
    def log_file(self) -> Path:
        return self.root / "sheet-tools.log"

    def ensure(self) -> None:
        for folder in (self.inbox, self.outbox, self.archive, self.rejected, self.processing):
            folder.mkdir(parents=True, exist_ok=True)


def ingest_file(
    path: Path, workspace: Workspace, registry: Registry, store: Store, *, move: bool = False
) -> FileReport:
    """Check and store one file, then copy (or, with ``move``, rename) the original into the
    archive or the rejected folder. Never raises for a bad file: every outcome is a report."""
    raise NotImplementedError
