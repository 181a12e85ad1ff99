"""Settings of the meetings service."""

from __future__ import annotations

from runtime.settings import RuntimeSettings


class MeetingsSettings(RuntimeSettings):
    service_name: str = "meetings"
