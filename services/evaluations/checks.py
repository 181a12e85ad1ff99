"""What the evaluations service checks of each event it owns before anything else, against the reference data
only: the same checks `lhl publish --dry-run` runs for a publisher (see runtime.admission)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts import catalog, reference
from contracts.envelope import CloudEvent
from contracts.events.evaluations import (
    AnnualEvaluationCompleted,
    RegionalStatusReportSubmitted,
    TerminationNoticeGiven,
)
from runtime.admission import Check
from services.evaluations import domain


def admission(deps: reference.ReferenceData) -> Mapping[str, Check]:
    """Event type -> its check; what depends on the service's state (a notice already accepted, a report not
    owed after a termination) is checked by the handler."""

    def report(event: CloudEvent, data: Any) -> None:
        assert isinstance(data, RegionalStatusReportSubmitted)
        agreement = deps.agreement(data.agreement_id)
        domain.check_report(data, event.source, agreement, deps.regions, deps.organisations)

    def notice(event: CloudEvent, data: Any) -> None:
        assert isinstance(data, TerminationNoticeGiven)
        domain.check_notice(data, event.source, deps.agreement(data.agreement_id), deps.organisations)

    def completion(event: CloudEvent, data: Any) -> None:
        assert isinstance(data, AnnualEvaluationCompleted)
        domain.check_completion(data, event.source, deps.agreement(data.agreement_id), deps.organisations)

    return {
        catalog.of(RegionalStatusReportSubmitted).name: report,
        catalog.of(TerminationNoticeGiven).name: notice,
        catalog.of(AnnualEvaluationCompleted).name: completion,
    }
