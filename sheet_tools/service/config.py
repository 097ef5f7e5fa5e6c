"""Settings for the inbox service: command line over environment over ``sheet-tools.toml``.

Administrators who run the watcher as a service set it up once, in a file beside the database,
rather than in a unit file or a scheduled task: ``<workspace>/sheet-tools.toml`` holds a
``[watch]`` table with the same options as the command line. ``SHEET_TOOLS_<OPTION>``
environment variables override the file, and options given on the command line override both.
An unknown key is an error, so a misspelt option is reported instead of silently ignored.

A ``[limits]`` table sets what reading one returned file may cost: the bounded worker's memory,
processor time and wall-clock timeout (``pool.WorkerLimits``) and the guard's limits on the file
itself (``guard.Limits``); ``SHEET_TOOLS_LIMIT_<KEY>`` variables override it. ``ingest`` and
``watch`` both use it.

A ``[rounds]`` table says which round the trust is in (``current``): the Returns log chases the
schools with no accepted return in it. Left out, it is the newest round with a workbook issued or
returned. ``summarise``, ``watch`` and ``returns withdraw|restore`` use it.

A ``[mail]`` table sets how mail reaches schools (``mail.settings.MailSettings``); with no
``smtp_host`` messages are written to ``mail/`` as ``.eml`` files. The password is never in the
file: ``password_env`` names the environment variable holding it.

Relative folders in the file are relative to the workspace; on the command line or in the
environment they are relative to the current directory, as a shell user expects.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..base import platform
from ..definitions.rounds import clean_round
from ..exceptions import ConfigError
from ..intake.guard import Limits
from ..intake.pool import WorkerLimits
from ..mail.settings import MailSettings

CONFIG_FILE = "sheet-tools.toml"
ENV_PREFIX = "SHEET_TOOLS_"


# What a worker may need beyond its own limit while the service runs beside it.
HEADROOM_MB = 512
MAX_DEFAULT_WORKERS = 4


def default_workers(memory_mb: int, cores: int | None = None, memory: int | None = None) -> int:
    """Workers that overlap reading on every core without overcommitting memory: the usable
    cores (affinity, a container's quota), at most 4, and no more than the memory holds at
    ``memory_mb`` + 512 MB each (a 2-core, 4 GB server gets 2)."""
    cores = cores if cores is not None else platform.usable_cores()
    memory = memory if memory is not None else platform.memory_bytes()
    count = min(cores, MAX_DEFAULT_WORKERS)
    if memory:
        count = min(count, memory // ((memory_mb + HEADROOM_MB) * 2**20))
    return max(1, count)


class LimitSettings(BaseModel):
    """The ``[limits]`` table: the worker's bounds and the guard's, in one place."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # the bounded worker (defaults fit a 2-core, 4 GB server)
    memory_mb: int = Field(default=WorkerLimits().memory_mb, ge=128)
    cpu_seconds: int = Field(default=WorkerLimits().cpu_seconds, ge=1)
    timeout_seconds: float = Field(default=WorkerLimits().timeout_seconds, gt=0)
    # None: as many as the machine holds (``default_workers``)
    workers: int | None = Field(default=None, ge=1, le=16)
    # the guard
    max_file_bytes: int = Field(default=Limits().max_file_bytes, gt=0)
    max_members: int = Field(default=Limits().max_members, gt=0)
    max_total_uncompressed: int = Field(default=Limits().max_total_uncompressed, gt=0)
    max_ratio: float = Field(default=Limits().max_ratio, gt=1)
    ratio_grace_bytes: int = Field(default=Limits().ratio_grace_bytes, ge=0)
    max_rows: int = Field(default=Limits().max_rows, gt=0)
    max_columns: int = Field(default=Limits().max_columns, gt=0)
    max_sheets: int = Field(default=Limits().max_sheets, gt=0)

    def worker(self) -> WorkerLimits:
        values = self.model_dump(include=set(WorkerLimits.model_fields))
        values["workers"] = self.workers or default_workers(self.memory_mb)
        return WorkerLimits(**values)

    def guard(self) -> Limits:
        return Limits(**self.model_dump(include=set(Limits.model_fields)))


class WatchSettings(BaseModel):
    """Everything the watcher needs to know, validated once at start."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    workspace: Path = Path(".")
    inbox: Path | None = None
    outbox: Path | None = None
    once: bool = False
    # Seconds between polls of the inbox; None uses the operating system's change events.
    poll: float | None = Field(default=None, gt=0)
    json_output: bool = Field(default=False, alias="json")
    # A file is complete when its size and modification time have not changed for this long...
    stable_seconds: float = Field(default=2.0, ge=0)
    # ...and it opens as a complete zip. One that never does (a truncated or empty file) is
    # processed, and so rejected with a report, once it has been unchanged for this long.
    incomplete_seconds: float = Field(default=60.0, ge=0)
    # Full listing of the inbox, catching anything a change event missed.
    rescan_seconds: float = Field(default=10.0, gt=0)
    # Summaries are rebuilt once no return has been accepted for summary_quiet_seconds, and at
    # the latest summary_max_delay_seconds after the first return waiting for them.
    summary_quiet_seconds: float = Field(default=1.0, ge=0)
    summary_max_delay_seconds: float = Field(default=10.0, ge=0)
    templates: Path | None = None
    # The schools expected to return (CSV or XLSX: school, urn, trust), so summaries can list
    # the schools still to return and place each school in its trust.
    roster: Path | None = None
    # What reading one file may cost (the ``[limits]`` table).
    limits: LimitSettings = Field(default_factory=LimitSettings)

    @field_validator("poll", mode="before")
    @classmethod
    def _zero_is_native(cls, value: object) -> object:
        if value in ("", 0, "0", None):
            return None
        return value


class RoundSettings(BaseModel):
    """The ``[rounds]`` table: the round summaries chase, and the trust's own round names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    current: str | None = Field(default=None, min_length=1)
    names: list[Annotated[str, Field(min_length=1, pattern=r"\S")]] = Field(default_factory=list)

    @field_validator("current")
    @classmethod
    def _as_written(cls, value: str | None) -> str | None:
        """Written as rounds are everywhere ("spring  2027" is "Spring 2027")."""
        return clean_round(value) if value is not None else None


FIELDS = {
    name: info.alias or name
    for name, info in WatchSettings.model_fields.items()
    if name != "limits"
}
LIMIT_PREFIX = ENV_PREFIX + "LIMIT_"


def _read(workspace: Path) -> tuple[Path, dict[str, Any]]:
    """The workspace's ``sheet-tools.toml`` and what it holds (nothing when there is none)."""
    path = workspace / CONFIG_FILE
    if not path.is_file():
        return path, {}
    try:
        with path.open("rb") as handle:
            return path, tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the settings file: {exc}") from None


def _table(path: Path, data: dict[str, Any], name: str) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{name}] must be a table of options")
    return table


def _problems(error: ValidationError, whole: str) -> str:
    """Each problem as ``where: what``; ``whole`` names a problem with the whole table."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or whole}: {item['msg']}"
        for item in error.errors()
    )


def _from_file(workspace: Path) -> dict[str, Any]:
    path, data = _read(workspace)
    if not data:
        return {}
    table = _table(path, data, "watch")
    if "workspace" in table:
        raise ConfigError(
            f"{path}: the workspace is the folder this file is in; remove 'workspace'"
        )
    values = dict(table)
    if "limits" in values:
        raise ConfigError(f"{path}: limits go in a [limits] table of their own")
    for key in ("inbox", "outbox", "templates", "roster"):
        if isinstance(values.get(key), str):
            values[key] = workspace / values[key]
    limits = _table(path, data, "limits")
    if limits:
        values["limits"] = dict(limits)
    return values


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in FIELDS.values():
        variable = ENV_PREFIX + key.upper()
        if variable in environ:
            values[key] = environ[variable]
    limits = {
        key: environ[LIMIT_PREFIX + key.upper()]
        for key in LimitSettings.model_fields
        if LIMIT_PREFIX + key.upper() in environ
    }
    if limits:
        values["limits"] = limits
    return values


def _describe(error: ValidationError, sources: str) -> str:
    return f"invalid watch settings ({sources}): " + _problems(error, "settings")


def load_watch_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> WatchSettings:
    """Settings from the command line (``overrides``; None values mean "not given"), then
    ``SHEET_TOOLS_*`` variables, then the workspace's ``sheet-tools.toml``, then defaults."""
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    env = _from_env(os.environ if environ is None else environ)
    workspace = Path(given.get("workspace") or env.get("workspace") or ".")
    from_file = _from_file(workspace)
    merged: dict[str, Any] = {**from_file, **env, **given, "workspace": workspace}
    if "limits" in from_file and "limits" in env:  # a variable overrides one key, not the table
        merged["limits"] = {**from_file["limits"], **env["limits"]}
    try:
        return WatchSettings.model_validate(merged)
    except ValidationError as exc:
        sources = f"{workspace / CONFIG_FILE}, {ENV_PREFIX}* variables or the command line"
        raise ConfigError(_describe(exc, sources)) from None


def load_limits(workspace: Path, environ: Mapping[str, str] | None = None) -> LimitSettings:
    """The ``[limits]`` of a workspace's ``sheet-tools.toml`` with ``SHEET_TOOLS_LIMIT_*``
    variables over it (what ``ingest`` uses; ``watch`` gets them in its settings)."""
    values = {**_from_file(workspace).get("limits", {})}
    values |= _from_env(os.environ if environ is None else environ).get("limits", {})
    try:
        return LimitSettings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, f"{workspace / CONFIG_FILE} [limits]")) from None


def load_rounds(workspace: Path) -> RoundSettings:
    """The ``[rounds]`` table of a workspace's ``sheet-tools.toml`` (defaults when it has none)."""
    path, data = _read(workspace)
    try:
        return RoundSettings.model_validate(_table(path, data, "rounds"))
    except ValidationError as exc:
        problems = _problems(exc, "rounds")
        raise ConfigError(f"{path}: invalid [rounds] settings: {problems}") from None


def declared_round_names(workspace: Path) -> list[str]:
    """The round names a trust with its own cycle declares in ``sheet-tools.toml``
    (``[rounds] names = ["Cycle 3", ...]``), besides the terms; none when it declares none."""
    return load_rounds(workspace).names


def load_mail_settings(workspace: Path) -> MailSettings:
    """The ``[mail]`` table of a workspace's ``sheet-tools.toml`` (the .eml default without one);
    a relative ``ca_file`` is relative to the workspace."""
    path, data = _read(workspace)
    try:
        settings = MailSettings.model_validate(_table(path, data, "mail"))
    except ValidationError as exc:
        problems = _problems(exc, "mail")
        raise ConfigError(f"{path}: invalid [mail] settings: {problems}") from None
    if settings.ca_file is not None and not settings.ca_file.is_absolute():
        settings = settings.model_copy(update={"ca_file": workspace / settings.ca_file})
    return settings
