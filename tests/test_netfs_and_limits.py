"""The database must be on a local disk; the limits on reading come from sheet-tools.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheet_tools.base.netfs import (
    NetworkDatabaseError,
    filesystem_type,
    is_network,
    parse_mountinfo,
    require_local_database,
)
from sheet_tools.service.config import ConfigError, load_limits, load_watch_settings
from tests.support.helpers import workspace

# What /proc/self/mountinfo says on a school server with its shares mounted.
MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
25 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
40 22 0:35 / /srv/returns rw,relatime shared:20 - cifs //fileserver/returns rw,vers=3.1.1
41 22 0:36 / /srv/nfs\\040share rw,relatime shared:21 - nfs4 fs:/export rw,vers=4.2
42 22 0:37 / /home/admin/remote rw,nosuid,nodev shared:22 - fuse.sshfs admin@host: rw
43 22 0:38 / /srv/returns/local rw,relatime shared:23 - ext4 /dev/sdb1 rw
44 22 0:39 / /mnt/usb rw,relatime shared:24 - fuseblk /dev/sdc1 rw
"""


@pytest.mark.parametrize(
    ("path", "fstype", "network"),
    [
        ("/var/lib/sheet-tools/sheet-tools.db", "ext4", False),
        ("/srv/returns/sheet-tools.db", "cifs", True),
        ("/srv/returns/deeper/still/sheet-tools.db", "cifs", True),
        ("/srv/returns/local/sheet-tools.db", "ext4", False),  # a local disk mounted inside
        ("/srv/returnsX/sheet-tools.db", "ext4", False),  # a prefix is not a parent
        ("/srv/nfs share/sheet-tools.db", "nfs4", True),  # \040 is a space
        ("/home/admin/remote/ws/sheet-tools.db", "fuse.sshfs", True),
        ("/mnt/usb/sheet-tools.db", "fuseblk", False),  # NTFS on a USB disk is local
    ],
)
def test_the_file_system_of_a_path_is_found_in_mountinfo(
    path: str, fstype: str, network: bool
) -> None:
    assert filesystem_type(path, MOUNTINFO) == fstype
    assert is_network(fstype) is network


def test_network_types() -> None:
    for kind in ("cifs", "smb3", "smb2", "smbfs", "nfs", "nfs4", "9p", "fuse.rclone", "fuse"):
        assert is_network(kind), kind
    for kind in ("ext4", "xfs", "btrfs", "tmpfs", "overlay", "zfs", "fuse.lxcfs", None):
        assert not is_network(kind), kind


def test_a_database_on_a_share_is_refused_with_what_to_do() -> None:
    with pytest.raises(NetworkDatabaseError) as caught:
        require_local_database(Path("/srv/returns/sheet-tools.db"), MOUNTINFO)
    message = str(caught.value)
    assert "network file system (cifs)" in message
    assert "local disk" in message and "inbox and outbox may stay on the share" in message
    require_local_database(Path("/srv/returns/local/sheet-tools.db"), MOUNTINFO)


def test_this_machine_s_workspace_is_local(tmp_path: Path) -> None:
    """The real /proc/self/mountinfo: the test's own folder is on a local file system."""
    assert parse_mountinfo(Path("/proc/self/mountinfo").read_text())
    assert not is_network(filesystem_type(tmp_path / "not-yet" / "sheet-tools.db"))
    require_local_database(tmp_path / "sheet-tools.db")


def test_the_watch_command_refuses_a_database_on_a_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from sheet_tools.base import netfs
    from sheet_tools.cli import main

    fake = tmp_path / "mountinfo"
    fake.write_text(f"50 22 0:40 / {tmp_path} rw - smb3 //server/share rw\n", encoding="utf-8")
    monkeypatch.setattr(netfs, "MOUNTINFO", fake)
    workspace(tmp_path / "ws")
    result = CliRunner().invoke(main, ["watch", "--once", "--workspace", str(tmp_path / "ws")])
    assert result.exit_code == 2
    assert "network file system (smb3)" in result.output
    assert not (tmp_path / "ws" / "sheet-tools.db").exists()


def test_limits_come_from_the_limits_table_then_the_environment(tmp_path: Path) -> None:
    (tmp_path / "sheet-tools.toml").write_text(
        "[watch]\nstable_seconds = 4\n\n[limits]\nmemory_mb = 1024\ncpu_seconds = 10\n"
        "max_rows = 8000\n",
        encoding="utf-8",
    )
    env = {"SHEET_TOOLS_LIMIT_CPU_SECONDS": "5"}
    settings = load_watch_settings({"workspace": tmp_path}, env)
    assert settings.stable_seconds == 4
    worker, guard = settings.limits.worker(), settings.limits.guard()
    assert (worker.memory_mb, worker.cpu_seconds, worker.timeout_seconds) == (1024, 5, 60.0)
    assert (guard.max_rows, guard.max_columns) == (8000, 200)
    assert load_limits(tmp_path, env) == settings.limits
    assert load_limits(tmp_path / "none", {}).worker().memory_mb == 1536


def test_a_misspelt_limit_is_an_error_that_names_it(tmp_path: Path) -> None:
    (tmp_path / "sheet-tools.toml").write_text("[limits]\nmemory_mbs = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="memory_mbs"):
        load_watch_settings({"workspace": tmp_path}, {})
    with pytest.raises(ConfigError, match="memory_mbs"):
        load_limits(tmp_path, {})
