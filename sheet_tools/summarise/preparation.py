"""The Preparation column of the Diagnostic Review's trust workbooks, kept in the store.

Preparation happens outside the workbooks, so the administrator types it into the Stages sheet.
Before a rebuild replaces (or removes) such a workbook, its column is read back and what changed
is recorded in the store (``store.preparation``); the new workbooks are then drawn from the
store's notes, so what was typed outlives the file: a school moving trust, a trust renamed, a URN
added to the roster, or a store rebuilt from the archive (its notes come back from the outbox).
This runs in the main process, before workbooks are written (perhaps by worker processes).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from pathlib import Path

from ..base.clock import file_stamp, utc_now
from ..store.facade import Store
from .stages import Kept, read_preparation

logger = logging.getLogger("sheet_tools.summarise")


def set_aside(path: Path, why: str) -> Path | None:
    """Keep a workbook that cannot be read back beside the one that replaces it, under a name
    sheet-tools never writes (so tidying the outbox never removes it); None if it cannot be."""
    stem = f"{path.stem} (unreadable, {file_stamp(utc_now())})"
    target = path.with_name(f"{stem}.xlsx")
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"{stem} {number}.xlsx")
    try:
        path.rename(target)
    except OSError as exc:
        logger.warning("cannot read back %s (%s), nor move it aside: %s", path, why, exc)
        return None
    logger.warning(
        "cannot read back the Preparation column of %s (%s): the file is kept as %s; copy "
        "anything typed in it since the last rebuild into the new workbook by hand",
        path,
        why,
        target.name,
    )
    return target


def keep_preparation(
    store: Store, books: Iterable[Path], unique: Collection[str] = frozenset()
) -> tuple[Kept, set[Path]]:
    """Read back each workbook (in order: a later one's edits win) and record what changed; a
    damaged one is set aside first. ``unique``: the name keys only one roster school has
    (``stages.unique_names``), whose note kept under the name its URN's row may take over.
    Returns the store's notes, and the workbooks that could not be opened (locked): they are
    left as they are, to be rebuilt when they can be read."""
    locked: set[Path] = set()
    seen: dict[tuple[str, str], tuple[str, object]] = {}
    for path in books:
        found = read_preparation(path)
        if found.locked:
            locked.add(path)
        elif found.damaged is not None:
            if set_aside(path, found.damaged) is None:
                locked.add(path)
        else:
            seen.update(found.rows)
    if seen:  # one transaction for the whole rebuild
        store.record_preparation(seen, unique)
    return dict(store.preparation()), locked
