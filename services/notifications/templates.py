"""The texts people read, in Norwegian Bokmål: one template per event type, all with the same frame."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from contracts import catalog
from contracts.events import evaluations as ev
from contracts.events import meetings as mt
from contracts.events.base import EventData
from services.notifications.repository.rejections import Rejection

_MONTHS = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)


def dato(day: date) -> str:
    return f"{day.day}. {_MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class Frame:
    """What every text carries besides the event's own facts."""

    agreement: str
    region: str | None
    event_id: str
    event_source: str
    correlation_id: str


@dataclass(frozen=True)
class Text:
    subject: str
    what: str
    due: date | None = None
    ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def _item(d: Any, what: str, subject: str) -> Text:
    ids = {"Oppgave-id": d.action_item_id, "Møte-id": d.meeting_id}
    return Text(subject, f"{what}\nOppgave: {d.text}\nAnsvarlig: {d.owner}", d.due_on, ids)


def _assigned(d: mt.ActionItemAssigned) -> Text:
    return _item(d, "Dere har fått en ny oppfølgingsoppgave fra et kontaktmøte.", f"Ny oppgave: {d.text}")


def _due_soon(d: mt.ActionItemDueSoon) -> Text:
    return _item(d, f"Oppgaven forfaller om {d.days_left} dager.", f"Påminnelse: oppgave forfaller {dato(d.due_on)}")


def _item_overdue(d: mt.ActionItemOverdue) -> Text:
    return _item(d, "Fristen for oppgaven er passert, og den er ikke meldt fullført.", "Oppgave har passert fristen")


def _closed(d: mt.ActionItemClosed) -> Text:
    late = " etter fristen" if d.late else ""
    return _item(d, f"Oppgaven ble meldt fullført {dato(d.completed_on)}{late}.", "Oppgave fullført")


def _recorded(d: mt.ContactMeetingRecorded) -> Text:
    status = {"scheduled": "planlagt", "held": "holdt", "cancelled": "avlyst"}[d.status.value]
    held = f"\nHoldt: {dato(d.held_on)}" if d.held_on else ""
    counts = f"Vedtak: {d.decision_count}, oppgaver: {d.action_item_count}"
    what = f"Kontaktmøtet er registrert som {status}.{held}\n{counts}"
    return Text(f"Kontaktmøte {status}", what, None, {"Møte-id": d.meeting_id})


def _meetings_overdue(d: mt.ContactMeetingsOverdue) -> Text:
    last = dato(d.last_held_on) if d.last_held_on else "ingen registrert"
    nivå = "nasjonalt" if d.level.value == "national" else "regionalt"
    what = f"Det er ikke holdt kontaktmøte {nivå} innen {d.interval_days} dager.\nSiste møte: {last}"
    return Text(f"Kontaktmøte {nivå} mangler", what, d.overdue_since)


def _report_received(d: ev.RegionalReportReceived) -> Text:
    late = " etter fristen" if d.late else ""
    what = f"Regional statusrapport for {dato(d.reporting_date)} er mottatt{late}."
    return Text("Statusrapport mottatt", what, d.reporting_date, {"Rapport-id": d.report_id})


def _report_due(d: ev.RegionalReportDue) -> Text:
    what = f"Regional statusrapport skal leveres til Helsedirektoratet om {d.days_left} dager."
    return Text(f"Påminnelse: statusrapport skal leveres {dato(d.reporting_date)}", what, d.reporting_date)


def _report_overdue(d: ev.RegionalReportOverdue) -> Text:
    what = "Rapporteringsdatoen er passert uten at regional statusrapport er mottatt."
    return Text(f"Statusrapport for {dato(d.reporting_date)} mangler", what, d.reporting_date)


def _evaluation_due(d: ev.AnnualEvaluationDue) -> Text:
    missing = sum(1 for r in d.packet.reports if r.status.value == "missing")
    what = (
        f"Den årlige evalueringen for {d.year} skal gjøres før konsultasjonsmøtet {dato(d.consultation_meeting_on)}."
        f"\nManglende regionale rapporter: {missing}. Åpne oppgaver: {len(d.packet.open_action_items)}."
    )
    return Text(f"Årlig evaluering {d.year} skal gjennomføres", what, d.deadline)


def _evaluation_overdue(d: ev.AnnualEvaluationOverdue) -> Text:
    what = f"Den årlige evalueringen for {d.year} er ikke meldt gjennomført innen fristen."
    return Text(f"Årlig evaluering {d.year} har passert fristen", what, d.deadline)


def _evaluation_completed(d: ev.AnnualEvaluationCompleted) -> Text:
    what = f"Den årlige evalueringen for {d.year} ble gjennomført {dato(d.completed_on)} (meldt av {d.completed_by})."
    return Text(f"Årlig evaluering {d.year} gjennomført", what)


def _notice_given(d: ev.TerminationNoticeGiven) -> Text:
    what = f"{d.given_by} har gitt varsel om oppsigelse av avtalen {dato(d.notice_date)}."
    return Text("Varsel om oppsigelse mottatt", what, d.effective_date)


def _notice_accepted(d: ev.TerminationNoticeAccepted) -> Text:
    what = f"{d.given_by} sa opp avtalen {dato(d.notice_date)}. Avtalen opphører {dato(d.effective_date)}."
    return Text("Avtalen er sagt opp", what, d.effective_date)


def _terminated(d: ev.AgreementTerminated) -> Text:
    what = f"Avtalen er avsluttet etter oppsigelse fra {d.given_by}, med virkning fra {dato(d.effective_date)}."
    return Text("Avtalen er avsluttet", what)


def _expired(d: ev.AgreementExpired) -> Text:
    return Text("Avtalen er utløpt", f"Avtaleperioden endte {dato(d.expired_on)}.")


_TEMPLATES: dict[type[EventData], Callable[[Any], Text]] = {
    mt.ActionItemAssigned: _assigned,
    mt.ActionItemDueSoon: _due_soon,
    mt.ActionItemOverdue: _item_overdue,
    mt.ActionItemClosed: _closed,
    mt.ContactMeetingRecorded: _recorded,
    mt.ContactMeetingsOverdue: _meetings_overdue,
    ev.RegionalReportReceived: _report_received,
    ev.RegionalReportDue: _report_due,
    ev.RegionalReportOverdue: _report_overdue,
    ev.AnnualEvaluationDue: _evaluation_due,
    ev.AnnualEvaluationOverdue: _evaluation_overdue,
    ev.AnnualEvaluationCompleted: _evaluation_completed,
    ev.TerminationNoticeGiven: _notice_given,
    ev.TerminationNoticeAccepted: _notice_accepted,
    ev.AgreementTerminated: _terminated,
    ev.AgreementExpired: _expired,
}


def has_template(model: type[EventData]) -> bool:
    return model in _TEMPLATES


def render(data: EventData, frame: Frame) -> Message:
    text = _TEMPLATES[type(data)](data)
    return Message(f"[Leve hele livet] {text.subject}", _body(text, frame, catalog.of(type(data)).name))


def render_dead_letter(
    *, reason: str, message: str, event_id: str, event_source: str, event_type: str | None, topic: str, failed_at: str
) -> Message:
    what = (
        "En hendelse fra systemet deres ble avvist og ikke behandlet. Rett feilen og send hendelsen på nytt"
        " med ny id.\n"
        f"Årsak: {reason}\nFeil: {message}\nEmne (topic): {topic}\nAvvist: {failed_at}"
    )
    text = Text(f"Hendelse avvist ({reason})", what)
    frame = Frame("ukjent", None, event_id, event_source, "-")
    return Message(f"[Leve hele livet] {text.subject}", _body(text, frame, event_type or "ukjent"))


def render_rejections(
    source: str, rejected: Sequence[Rejection], opened: datetime, closed: datetime, max_listed: int
) -> Message:
    """One e-mail for every rejection of a source in a window: counts per reason, the first `max_listed` in full."""
    reasons = Counter(r.reason for r in rejected)
    count = f"{len(rejected)} hendelse{'r' if len(rejected) > 1 else ''}"
    subject = f"[Leve hele livet] {count} avvist ({', '.join(sorted(reasons))})"
    lines = [
        f"{count} fra systemet deres ble avvist og ikke behandlet mellom {_klokke(opened)} og {_klokke(closed)}."
        " Rett feilen og send hendelsene på nytt med ny id.",
        "",
        "Avvist etter årsak: " + ", ".join(f"{reason}: {n}" for reason, n in sorted(reasons.items())),
        "",
    ]
    for r in rejected[:max_listed]:
        lines += [
            f"Hendelses-id: {r.event_id}",
            f"  Hendelsestype: {r.event_type or 'ukjent'}",
            f"  Årsak: {r.reason}",
            f"  Feil: {r.message[:_MESSAGE_CHARS]}",
            f"  Emne (topic): {r.topic}, avvist {r.failed_at}",
        ]
    if len(rejected) > max_listed:
        lines.append(f"... og {len(rejected) - max_listed} til.")
    lines += [
        "",
        f"Kilde: {source}",
        f"Driften finner alle avvisningene fra kilden med: lhl dlq list --source {source}",
    ]
    return Message(subject, "\n".join(lines))


_MESSAGE_CHARS = 500


def _klokke(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return f"{dato(utc.date())} kl. {utc:%H:%M} UTC"


def _body(text: Text, frame: Frame, event_type: str) -> str:
    lines = [text.what, "", f"Avtale: {frame.agreement}", f"Region: {frame.region or 'nasjonalt'}"]
    if text.due is not None:
        lines.append(f"Frist: {dato(text.due)}")
    lines += ["", "Oppgi disse referansene ved henvendelser:"]
    lines += [f"{label}: {value}" for label, value in text.ids.items()]
    lines += [
        f"Hendelses-id: {frame.event_id}",
        f"Kilde: {frame.event_source}",
        f"Hendelsestype: {event_type}",
        f"Korrelasjons-id: {frame.correlation_id}",
    ]
    return "\n".join(lines)
