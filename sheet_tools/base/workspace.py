"""The workspace: the one folder the service works in, and where everything lives inside it.

::

    inbox/            administrators drop returns here (may be a network share)
    outbox/           summaries for schools and trusts (may be a network share)
    archive/          accepted originals, byte for byte
    rejected/         rejected originals, each with <name>.errors.txt (and an annotated copy)
    processing/       returns being worked on (claimed from the inbox)
    sheet-tools.toml  the settings (``sheet-tools init`` writes a commented one)
    sheet-tools.db    the SQLite store of every return
    sheet-tools.log

A workspace is a folder holding ``sheet-tools.toml`` or ``sheet-tools.db``, so one made before
``init`` existed is one still. The commands that work in a workspace refuse any other folder, and
an inbox or outbox that does not exist, rather than making folders and a database at a mistyped
path and watching an empty inbox for ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..exceptions import WorkspaceError

SETTINGS_FILE = "sheet-tools.toml"
DATABASE_FILE = "sheet-tools.db"


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
        return self.root / DATABASE_FILE

    @property
    def settings(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def log_file(self) -> Path:
        return self.root / "sheet-tools.log"

    def ensure(self) -> None:
        for folder in (self.inbox, self.outbox, self.archive, self.rejected, self.processing):
            folder.mkdir(parents=True, exist_ok=True)


def is_workspace(root: Path | str) -> bool:
    """A folder holding ``sheet-tools.toml`` or ``sheet-tools.db``."""
    base = Path(root)
    return (base / SETTINGS_FILE).is_file() or (base / DATABASE_FILE).is_file()


def require_workspace(
    root: Path | str = ".",
    inbox: Path | str | None = None,
    outbox: Path | str | None = None,
) -> Workspace:
    """The workspace at ``root``, refusing a folder that is not one and an ``inbox`` or
    ``outbox`` given that does not exist (a mistyped path), in one line naming ``init``."""
    if not is_workspace(root):
        raise WorkspaceError(
            f"{root}: not a sheet-tools workspace (it has no {SETTINGS_FILE} or {DATABASE_FILE}); "
            f"check the path, or make one with: sheet-tools init {root}"
        )
    for role, folder in (("inbox", inbox), ("outbox", outbox)):
        if folder is not None and not Path(folder).is_dir():
            raise WorkspaceError(
                f"{folder}: the {role} folder does not exist; check the path, or leave out "
                f"--{role} to use the workspace's own (sheet-tools init makes it)"
            )
    return Workspace.at(root, inbox, outbox)
