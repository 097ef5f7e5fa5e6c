"""The ``[mail]`` table of ``sheet-tools.toml`` as a model (``service.config`` reads the file).
With no ``smtp_host`` every message is written to ``mail/`` in the workspace as an ``.eml`` file."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class MailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    # extra CA certificates to trust; verification is never switched off
    ca_file: Path | None = None
    username: str = ""
    password_env: str = "SHEET_TOOLS_SMTP_PASSWORD"
    sender: str = "SEND reviews <send-reviews@localhost>"
    reply_to: str = ""
    timeout_seconds: float = Field(default=30.0, gt=0)
    # temporary failures are retried after 1, 2, 4 ... minutes, up to this many attempts
    max_attempts: int = Field(default=10, ge=1)
    # a school is reminded about a round at most once in this many days (``mail remind``)
    remind_every_days: int = Field(default=7, ge=1)
    # set: the watcher queues the reminders due for this round itself, once a day
    remind_round: str = ""

    @model_validator(mode="after")
    def _plain_only_on_loopback(self) -> MailSettings:
        if self.smtp_host and self.security == "none" and not is_loopback(self.smtp_host):
            raise ValueError(
                'security = "none" sends mail unencrypted, so it is allowed only for a server on '
                "this machine (localhost); use starttls or ssl"
            )
        return self


def is_loopback(host: str) -> bool:
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
