"""Example events of regional reports, the annual evaluation and the agreement's term."""

from __future__ import annotations

from datetime import UTC, date, datetime

from contracts.events import evaluations as ev
from lhl.contract_examples.example import AGREEMENT, Example

_REPORT = "sfvl-rapport-2022-05-15"
_SOURCE = "/lhl/evaluations"


def _focus(area: str, reached: int, planning: int, decided: int, implementing: int) -> ev.FocusAreaStatus:
    return ev.FocusAreaStatus(
        focus_area=area, municipalities_reached=reached, planning=planning, decided=decided, implementing=implementing
    )


def _packet() -> ev.EvaluationPacket:
    return ev.EvaluationPacket(
        reports=(
            ev.PacketReport(
                region="vestland", reporting_date=date(2022, 5, 15), status=ev.ReportStatus.ON_TIME, report_id=_REPORT
            ),
            ev.PacketReport(region="nordland", reporting_date=date(2022, 5, 15), status=ev.ReportStatus.MISSING),
            ev.PacketReport(region="vestland", reporting_date=date(2022, 11, 1), status=ev.ReportStatus.NOT_YET_DUE),
        ),
        meetings=ev.PacketMeetings(
            national_held=3, regional_held={"vestland": 4, "nordland": 2}, learning_network_held=5
        ),
        open_action_items=(
            ev.PacketActionItem(
                action_item_id="hod-ks-2022-06-t2", owner="hdir", due_on=date(2022, 9, 1), overdue=True
            ),
        ),
    )


def _report_examples() -> list[Example]:
    vestland, nordland = "report/vestland/2022-05-15", "report/nordland/2022-05-15"
    return [
        Example(
            ev.RegionalStatusReportSubmitted(
                report_id=_REPORT,
                agreement_id=AGREEMENT,
                region="vestland",
                reporting_date=date(2022, 5, 15),
                submitted_by="sf-vestland",
                focus_areas=(
                    _focus("aldersvennlig-samfunn", 43, 30, 18, 9),
                    _focus("aktivitet-og-fellesskap", 43, 28, 15, 8),
                    _focus("mat-og-maltider", 40, 25, 12, 6),
                    _focus("helsehjelp", 38, 22, 10, 5),
                    _focus("sammenheng-i-tjenestene", 36, 20, 9, 4),
                ),
                summary="Alle kommunene i Vestland er nådd. De fleste er i gang med planarbeidet, og flere "
                "kommunestyrer har vedtatt lokale tilpasninger av reformen.",
            ),
            "/statsforvalteren/vestland/rapportering",
            datetime(2022, 5, 13, 12, 30, tzinfo=UTC),
            vestland,
            "vestland-report-2022-05-15",
        ),
        Example(
            ev.RegionalReportReceived(
                report_id=_REPORT,
                agreement_id=AGREEMENT,
                region="vestland",
                reporting_date=date(2022, 5, 15),
                late=False,
            ),
            _SOURCE,
            datetime(2022, 5, 13, 12, 30, 1, tzinfo=UTC),
            vestland,
            "vestland-report-2022-05-15",
            ev.RegionalStatusReportSubmitted,
        ),
        Example(
            ev.RegionalReportDue(
                agreement_id=AGREEMENT, region="nordland", reporting_date=date(2022, 5, 15), days_left=14
            ),
            _SOURCE,
            datetime(2022, 4, 30, 22, 0, tzinfo=UTC),
            nordland,
            "nordland-report-2022-05-15",
        ),
        Example(
            ev.RegionalReportOverdue(agreement_id=AGREEMENT, region="nordland", reporting_date=date(2022, 5, 15)),
            _SOURCE,
            datetime(2022, 5, 15, 22, 0, tzinfo=UTC),
            nordland,
            "nordland-report-2022-05-15",
        ),
    ]


def _evaluation_examples() -> list[Example]:
    return [
        Example(
            ev.AnnualEvaluationDue(
                agreement_id=AGREEMENT,
                year=2022,
                consultation_meeting_on=date(2022, 11, 15),
                deadline=date(2022, 12, 15),
                packet=_packet(),
            ),
            _SOURCE,
            datetime(2022, 10, 3, 22, 0, tzinfo=UTC),
            "evaluation/2022",
            "evaluation-2022",
        ),
        Example(
            ev.AnnualEvaluationCompleted(
                agreement_id=AGREEMENT,
                year=2022,
                completed_on=date(2022, 11, 30),
                completed_by="hod",
                summary="Partene er enige om at arbeidet er godt i gang i alle fylker; oppfølgingen av "
                "kommuner som ikke har startet planarbeidet prioriteres i 2023.",
            ),
            "/hod/saksbehandling",
            datetime(2022, 11, 30, 14, 0, tzinfo=UTC),
            "evaluation/2022",
            "evaluation-2022",
        ),
        Example(
            ev.AnnualEvaluationOverdue(agreement_id=AGREEMENT, year=2021, deadline=date(2021, 12, 15)),
            _SOURCE,
            datetime(2021, 12, 15, 23, 0, tzinfo=UTC),
            "evaluation/2021",
            "evaluation-2021",
        ),
    ]


def _term_examples() -> list[Example]:
    subject, notice = f"agreement/{AGREEMENT}", "termination-notice-2023"
    return [
        Example(
            ev.TerminationNoticeGiven(
                agreement_id=AGREEMENT,
                given_by="ks",
                notice_date=date(2023, 6, 30),
                effective_date=date(2023, 10, 1),
                reason="Partene er enige om å videreføre samarbeidet i en ny avtale.",
            ),
            "/ks/sekretariat",
            datetime(2023, 6, 30, 10, 0, tzinfo=UTC),
            subject,
            notice,
        ),
        Example(
            ev.TerminationNoticeAccepted(
                agreement_id=AGREEMENT, given_by="ks", notice_date=date(2023, 6, 30), effective_date=date(2023, 10, 1)
            ),
            _SOURCE,
            datetime(2023, 6, 30, 10, 0, 1, tzinfo=UTC),
            subject,
            notice,
            ev.TerminationNoticeGiven,
        ),
        Example(
            ev.AgreementTerminated(agreement_id=AGREEMENT, effective_date=date(2023, 10, 1), given_by="ks"),
            _SOURCE,
            datetime(2023, 9, 30, 22, 0, tzinfo=UTC),
            subject,
            notice,
            ev.TerminationNoticeGiven,
        ),
        Example(
            ev.AgreementExpired(agreement_id=AGREEMENT, expired_on=date(2023, 12, 31)),
            _SOURCE,
            datetime(2023, 12, 31, 23, 0, tzinfo=UTC),
            subject,
            "agreement-term",
        ),
    ]


def examples() -> list[Example]:
    return [*_report_examples(), *_evaluation_examples(), *_term_examples()]
