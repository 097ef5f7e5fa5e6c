"""Setting a workspace up (``sheet-tools init``) and naming the round a new workbook is issued for.

``init`` makes the folders, a commented ``sheet-tools.toml`` and an example roster, and never
replaces a file that is already there, so running it again on a workspace in use is harmless.
"""

from __future__ import annotations

from pathlib import Path

from ..base.clock import today
from ..base.files import write_bytes_atomically
from ..base.workspace import Workspace, is_workspace
from ..definitions.rounds import new_round
from ..store.facade import Store
from .config import declared_round_names

EXAMPLE_ROSTER = "roster.example.csv"

SETTINGS_TEXT = """\
# sheet-tools settings for this workspace. Lines starting with # are comments: remove the # to
# use a setting. Folders are relative to this workspace. Command-line options and SHEET_TOOLS_*
# environment variables override what is here.

[watch]
# inbox = "inbox"                # where returns are dropped (may be a network share)
# outbox = "outbox"              # where summaries are written (may be a network share)
# poll = 5                       # seconds between looks at an inbox on a network share
# roster = "roster.csv"          # the schools expected to return (school, urn, trust);
#                                # roster.csv or roster.xlsx here is used without saying so

[limits]
# memory_mb = 1024               # what reading one returned file may cost
# timeout_seconds = 120

[rounds]
# A new round is a term and its year ("Autumn 2026"). A trust with another cycle names its
# rounds here; generate --round accepts these too.
# names = ["Cycle 1", "Cycle 2"]
"""

EXAMPLE_ROSTER_TEXT = """\
school,urn,trust,email
Example Primary School,100001,Example Learning Trust,office@example-primary.example
Example Academy,100002,Example Learning Trust,office@example-academy.example
Example Community School,100003,"Bristol, City of",office@example-community.example
"""


def init_workspace(root: Path) -> list[Path]:
    """Make ``root`` a workspace: its folders, a commented ``sheet-tools.toml`` and
    ``roster.example.csv`` (save your own as ``roster.csv``). Returns what it made; nothing
    already there is touched."""
    space = Workspace.at(root)
    made: list[Path] = []
    for folder in (space.root, space.inbox, space.outbox, space.archive, space.rejected):
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            made.append(folder)
    for path, text in (
        (space.settings, SETTINGS_TEXT),
        (space.root / EXAMPLE_ROSTER, EXAMPLE_ROSTER_TEXT),
    ):
        if not path.exists():
            write_bytes_atomically(text.encode("utf-8"), path)
            made.append(path)
    return made


def round_to_issue(name: str | None, root: Path) -> str | None:
    """The round a new workbook is issued for, as written everywhere (None: the term containing
    today). A name typed must be a term and year, a round ``[rounds] names`` declares in the
    workspace's ``sheet-tools.toml``, or a round the workspace's store already holds (issued or
    returned); anything else raises ``RoundError`` with the round most likely meant."""
    if name is None:
        return None
    known: set[str] = set()
    if is_workspace(root) and Workspace.at(root).database.is_file():
        with Store(Workspace.at(root).database) as store:
            held = store.returns(include_superseded=True, include_withdrawn=True, contents=False)
            known = {stored.round for stored in held} | {w.round for w in store.issued()}
    return new_round(name, declared_round_names(root), sorted(known), today=today())
