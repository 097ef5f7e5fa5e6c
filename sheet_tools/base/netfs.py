"""Is the database on a local disk? SQLite's WAL mode needs shared memory that network file
systems do not provide, and two hosts sharing one database file over SMB or NFS corrupt it, so the
service refuses to start with its database on a share (the inbox and outbox may stay there).

The file system is found from ``/proc/self/mountinfo`` (Linux): the mount with the longest mount
point holding the path. Elsewhere, or when it cannot be read, the path counts as local.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..exceptions import SheetToolsError

MOUNTINFO = Path("/proc/self/mountinfo")

NETWORK_TYPES = frozenset(
    {
        "cifs",
        "smb",
        "smb2",
        "smb3",
        "smbfs",
        "nfs",
        "nfs4",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "ncpfs",
        "coda",
        "davfs",
        "virtiofs",
        "vboxsf",
        "prl_fs",
        "vmhgfs",
    }
)
# FUSE mounts are shares (sshfs, rclone, GNOME's gvfsd-fuse for SMB...) except these local ones.
LOCAL_FUSE = frozenset({"fuse.lxcfs", "fuse.squashfuse", "fuse.portal", "fuse.fuse-overlayfs"})


class NetworkDatabaseError(SheetToolsError):
    """The database is on a network file system; the message says what to do."""


def _unescape(field: str) -> str:
    """Mount points in mountinfo escape space, tab, newline and backslash as octal."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[tuple[str, str]]:
    """(mount point, file system type) for every line of a mountinfo text."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields = left.split()
        if not sep or len(fields) < 5 or not right.split():
            continue
        mounts.append((_unescape(fields[4]), right.split()[0]))
    return mounts


def filesystem_type(path: Path | str, mountinfo: str | None = None) -> str | None:
    """The type of the file system holding ``path`` (or its nearest existing parent)."""
    if mountinfo is None:
        try:
            mountinfo = MOUNTINFO.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    target = Path(os.path.abspath(path))
    existing, missing = target, []
    while not existing.exists() and existing.parent != existing:
        missing.append(existing.name)
        existing = existing.parent
    # symbolic links resolved where the path exists; the part still to be made kept as it is
    resolved = existing.resolve().joinpath(*reversed(missing)).as_posix()
    best: tuple[int, str] | None = None
    for point, fstype in parse_mountinfo(mountinfo):
        base = point.rstrip("/") or "/"
        inside = base == "/" or resolved == base or resolved.startswith(base + "/")
        if inside and (best is None or len(base) >= best[0]):
            best = (len(base), fstype)  # a later mount over the same point hides earlier ones
    return best[1] if best else None


def is_network(fstype: str | None) -> bool:
    if fstype is None:
        return False
    kind = fstype.lower()
    if kind in NETWORK_TYPES or kind.startswith(("nfs", "smb")):
        return True
    return kind == "fuse" or (kind.startswith("fuse.") and kind not in LOCAL_FUSE)


def require_local_database(database: Path, mountinfo: str | None = None) -> None:
    """Refuse a database on a network file system, with what to do instead."""
    fstype = filesystem_type(database, mountinfo)
    if not is_network(fstype):
        return
    raise NetworkDatabaseError(
        f"The database {database} is on a network file system ({fstype}). SQLite cannot keep it "
        "safe there (its write-ahead log needs a local disk, and two computers sharing one "
        "database file over SMB or NFS corrupt it). Keep the workspace, and so its database, on "
        "a local disk of the computer running sheet-tools; the inbox and outbox may stay on the "
        "share (--inbox, --outbox, with --poll for the inbox)."
    )
