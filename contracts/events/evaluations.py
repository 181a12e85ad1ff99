"""Regional status reports, the annual evaluation and the agreement's term."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from contracts import limits
from contracts.events.base import (
    REGION_ID_PATTERN,
    AgreementId,
    BusinessId,
    Count,
    Day,
    EventData,
    FocusAreaId,
    OrganisationId,
    RegionId,
    Text,
)


class FocusAreaStatus(EventData):
    """How far the municipalities of the region have come in one focus area."""

    focus_area: FocusAreaId = Field(description="Focus area id from the agreement.")
    municipalities_reached: Count = Field(description="Municipalities reached by the regional apparatus.")
    planning: Count = Field(description="Municipalities planning their local adaptation.")
    decided: Count = Field(description="Municipalities whose council has decided.")
    implementing: Count = Field(description="Municipalities implementing.")


class RegionalStatusReportSubmitted(EventData):
    """A county governor office submits its regional status report for one reporting date."""

    report_id: BusinessId = Field(description="Id of this submission; a resubmission has a new id.")
    agreement_id: AgreementId
    region: RegionId = Field(description="The reporting county governor office.")
    reporting_date: Day = Field(description="The reporting date reported for (15 May or 1 November).")
    submitted_by: OrganisationId = Field(description="The office's organisation id, e.g. sf-vestland.")
    focus_areas: tuple[FocusAreaStatus, ...] = Field(
        max_length=limits.MAX_ITEMS, min_length=1, description="Status per focus area."
    )
    summary: Text = Field(description="Free-text status.")
    office_name: Text | None = Field(
        default=None,
        description="The office's official name on the reporting date, if the system sends it; it must match "
        "the reference data (Fylkesmannen until 2020, Statsforvalteren from 2021).",
    )


class ReportStatus(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    NOT_YET_DUE = "not_yet_due"


class RegionalReportReceived(EventData):
    """The evaluations service accepted a regional report (possibly superseding an earlier one)."""

    report_id: BusinessId = Field(description="Id of the accepted submission.")
    agreement_id: AgreementId
    region: RegionId = Field(description="The reporting office.")
    reporting_date: Day = Field(description="The reporting date.")
    late: bool = Field(description="True when received after the reporting date.")
    supersedes: BusinessId | None = Field(default=None, description="Earlier submission this one replaces.")


class RegionalReportDue(EventData):
    """A reporting date is near and the office has not reported."""

    agreement_id: AgreementId
    region: RegionId = Field(description="The office that is to report.")
    reporting_date: Day = Field(description="The reporting date.")
    days_left: Count = Field(description="Whole days until the date.")
    office_name: Text | None = Field(default=None, description="The office's official name on the reporting date.")


class RegionalReportOverdue(EventData):
    """A reporting date passed without a report from the office."""

    agreement_id: AgreementId
    region: RegionId = Field(description="The office that has not reported.")
    reporting_date: Day = Field(description="The reporting date that passed.")
    office_name: Text | None = Field(default=None, description="The office's official name on the reporting date.")


class PacketReport(EventData):
    region: RegionId = Field(description="The office.")
    reporting_date: Day = Field(description="The reporting date.")
    status: ReportStatus = Field(description="on_time, late, missing or not_yet_due.")
    report_id: BusinessId | None = Field(default=None, description="The latest accepted submission, if any.")


class PacketMeetings(EventData):
    national_held: Count = Field(description="National contact meetings held in the year.")
    regional_held: dict[RegionId, Count] = Field(
        max_length=limits.MAX_ITEMS,
        description="Regional meetings held, per office.",
        # Pydantic states the key's pattern only as patternProperties, which lets any other key through.
        json_schema_extra={
            "additionalProperties": False,
            "propertyNames": {"pattern": REGION_ID_PATTERN, "maxLength": 41},
        },
    )
    learning_network_held: Count = Field(description="Learning-network gatherings held.")


class PacketActionItem(EventData):
    action_item_id: BusinessId = Field(description="Id of the action item.")
    owner: OrganisationId = Field(description="Organisation responsible.")
    due_on: Day = Field(description="Due date.")
    overdue: bool = Field(description="True when past due and not completed.")


class EvaluationPacket(EventData):
    """What the year holds, so the parties can evaluate it."""

    reports: tuple[PacketReport, ...] = Field(
        max_length=limits.MAX_ITEMS, description="Every office and reporting date of the year."
    )
    meetings: PacketMeetings = Field(description="Contact meetings held.")
    open_action_items: tuple[PacketActionItem, ...] = Field(
        max_length=limits.MAX_ITEMS, description="Action items not yet completed."
    )


class AnnualEvaluationDue(EventData):
    """The year's evaluation falls due ahead of the autumn consultation meeting."""

    agreement_id: AgreementId
    year: int = Field(ge=2000, le=2100, description="The year evaluated.")
    consultation_meeting_on: Day = Field(description="The autumn consultation meeting.")
    deadline: Day = Field(description="Date by which evaluation completed is expected.")
    packet: EvaluationPacket = Field(description="The evaluation packet.")


class AnnualEvaluationCompleted(EventData):
    """The parties completed the year's evaluation."""

    agreement_id: AgreementId
    year: int = Field(ge=2000, le=2100, description="The year evaluated.")
    completed_on: Day = Field(description="Date completed.")
    completed_by: OrganisationId = Field(description="The party publishing the completion.")
    summary: Text | None = Field(default=None, description="Main conclusions.")


class AnnualEvaluationOverdue(EventData):
    """The evaluation was not completed by its deadline."""

    agreement_id: AgreementId
    year: int = Field(ge=2000, le=2100, description="The year evaluated.")
    deadline: Day = Field(description="The deadline that passed.")


class TerminationNoticeGiven(EventData):
    """A party gives notice that it terminates the agreement."""

    agreement_id: AgreementId
    given_by: OrganisationId = Field(description="The party giving notice.")
    notice_date: Day = Field(description="Date the notice was given.")
    effective_date: Day = Field(description="Date the termination takes effect.")
    reason: Text | None = Field(default=None, description="Reason given.")


class TerminationNoticeAccepted(EventData):
    """A termination notice met the agreement's notice rules; the agreement ends on the effective date."""

    agreement_id: AgreementId
    given_by: OrganisationId = Field(description="The party that gave notice.")
    notice_date: Day = Field(description="Date the notice was given.")
    effective_date: Day = Field(description="Date the termination takes effect.")


class AgreementTerminated(EventData):
    """The agreement ended by termination."""

    agreement_id: AgreementId
    effective_date: Day = Field(description="The day the termination took effect.")
    given_by: OrganisationId = Field(description="The party that gave notice.")


class AgreementExpired(EventData):
    """The agreement reached the end of its term."""

    agreement_id: AgreementId
    expired_on: Day = Field(description="The last day of the term.")
