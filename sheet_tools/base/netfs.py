"""Is the database on a local disk? SQLite's WAL mode needs shared memory that network file
systems do not provide, and two hosts sharing one database file over SMB or NFS corrupt it, so the
service refuses to start with its database on a share (the inbox and outbox may stay there).

On Linux the file system is found from ``/proc/self/mountinfo``: the mount with the longest mount
point holding the path; when it cannot be read, the path counts as local. On Windows a share is a
UNC path (``\\\\server\\share``), a drive ``GetDriveTypeW`` calls remote (a mapped drive), or a
folder under a OneDrive or SharePoint sync root (``%OneDrive%``, ``%OneDriveCommercial%``), whose
sync client replaces files under SQLite as another computer changes them.
"""

from __future__ import annotations

import ntpath
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..exceptions import SheetToolsError
from . import platform

MOUNTINFO = Path("/proc/self/mountinfo")
DRIVE_REMOTE = 4  # GetDriveTypeW
SYNC_ROOTS = ("OneDriveCommercial", "OneDriveConsumer", "OneDrive")  # environment variables

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


def windows_share(
    path: Path | str, kernel32: Any = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """What kind of share holds a Windows path ("a network share (UNC path)", "a mapped network
    drive", "a OneDrive or SharePoint synced folder"), or None for a local disk."""
    text = os.path.abspath(path) if platform.WINDOWS else str(path)
    if text.startswith(("\\\\?\\UNC\\", "\\\\?\\unc\\")):
        return "a network share (UNC path)"
    text = text.removeprefix("\\\\?\\")
    if text.startswith(("\\\\", "//")) and not text.startswith(("\\\\.\\", "//./")):
        return "a network share (UNC path)"
    full = ntpath.normcase(ntpath.normpath(text))
    environ = os.environ if environ is None else environ
    for variable in SYNC_ROOTS:
        root = environ.get(variable, "")
        if root:
            base = ntpath.normcase(ntpath.normpath(root)).rstrip("\\")
            if full == base or full.startswith(base + "\\"):
                return "a OneDrive or SharePoint synced folder"
    drive = ntpath.splitdrive(full)[0]
    if len(drive) == 2 and drive[1] == ":":
        kernel32 = kernel32 if kernel32 is not None else platform.load_kernel32()
        if kernel32.GetDriveTypeW(drive + "\\") == DRIVE_REMOTE:
            return "a mapped network drive"
    return None


def _share(path: Path, mountinfo: str | None, kernel32: Any) -> str | None:
    if platform.WINDOWS or kernel32 is not None:
        return windows_share(path, kernel32)
    fstype = filesystem_type(path, mountinfo)
    return f"a network file system ({fstype})" if is_network(fstype) else None


def require_local_database(
    database: Path, mountinfo: str | None = None, kernel32: Any = None
) -> None:
    """Refuse a database on a network file system, with what to do instead."""
    share = _share(database, mountinfo, kernel32)
    if share is None:
        return
    raise NetworkDatabaseError(
        f"The database {database} is on {share}. SQLite cannot keep it "
        "safe there (its write-ahead log needs a local disk, and two computers sharing one "
        "database file over SMB or NFS, or a sync client replacing it, corrupt it). Keep the "
        "workspace, and so its database, on a local disk of the computer running sheet-tools; "
        "the inbox and outbox may stay on the share (--inbox, --outbox, with --poll for the "
        "inbox)."
    )


def shared_inbox_warning(
    inbox: Path, mountinfo: str | None = None, kernel32: Any = None
) -> str | None:
    """For an inbox on a share: each return is filed once only when one server watches it."""
    share = _share(inbox, mountinfo, kernel32)
    if share is None:
        return None
    return (
        f"The inbox {inbox} is on {share}. Each return is filed exactly once only when one "
        "computer watches it: two servers syncing one library (OneDrive, SharePoint) can each "
        "claim the same return. Run sheet-tools on one server only."
    )
