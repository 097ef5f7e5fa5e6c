"""Settings for the inbox service: command line over environment over ``sheet-tools.toml``.

Administrators who run the watcher as a service set it up once, in a file beside the database,
rather than in a unit file or a scheduled task: ``<workspace>/sheet-tools.toml`` holds a
``[watch]`` table with the same options as the command line. ``SHEET_TOOLS_<OPTION>``
environment variables override the file, and options given on the command line override both.
An unknown key is an error, so a misspelt option is reported instead of silently ignored.

Relative folders in the file are relative to the workspace; on the command line or in the
environment they are relative to the current directory, as a shell user expects.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .exceptions import ConfigError

CONFIG_FILE = "sheet-tools.toml"
ENV_PREFIX = "SHEET_TOOLS_"


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

    @field_validator("poll", mode="before")
    @classmethod
    def _zero_is_native(cls, value: object) -> object:
        if value in ("", 0, "0", None):
            return None
        return value


FIELDS = {name: info.alias or name for name, info in WatchSettings.model_fields.items()}


def _from_file(workspace: Path) -> dict[str, Any]:
    path = workspace / CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the settings file: {exc}") from None
    table = data.get("watch", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [watch] must be a table of options")
    if "workspace" in table:
        raise ConfigError(
            f"{path}: the workspace is the folder this file is in; remove 'workspace'"
        )
    values = dict(table)
    for key in ("inbox", "outbox", "templates", "roster"):
        if isinstance(values.get(key), str):
            values[key] = workspace / values[key]
    return values


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in FIELDS.values():
        variable = ENV_PREFIX + key.upper()
        if variable in environ:
            values[key] = environ[variable]
    return values


def _describe(error: ValidationError, sources: str) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "settings"
        problems.append(f"{where}: {item['msg']}")
    return f"invalid watch settings ({sources}): " + "; ".join(problems)


def load_watch_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> WatchSettings:
    """Settings from the command line (``overrides``; None values mean "not given"), then
    ``SHEET_TOOLS_*`` variables, then the workspace's ``sheet-tools.toml``, then defaults."""
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    env = _from_env(os.environ if environ is None else environ)
    workspace = Path(given.get("workspace") or env.get("workspace") or ".")
    merged: dict[str, Any] = {**_from_file(workspace), **env, **given, "workspace": workspace}
    try:
        return WatchSettings.model_validate(merged)
    except ValidationError as exc:
        sources = f"{workspace / CONFIG_FILE}, {ENV_PREFIX}* variables or the command line"
        raise ConfigError(_describe(exc, sources)) from None
