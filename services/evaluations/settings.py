"""Settings of the evaluations service."""

from __future__ import annotations

from runtime.settings import RuntimeSettings


class EvaluationsSettings(RuntimeSettings):
    service_name: str = "evaluations"
