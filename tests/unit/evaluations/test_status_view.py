"""The status a person reads for a year: offices by reporting date, the evaluation's state and the term."""

from __future__ import annotations

from datetime import date

from rich.console import Console

from contracts import reference
from services.evaluations.cli import render
from services.evaluations.domain import TermState
from services.evaluations.packet import Submission
from services.evaluations.status import evaluation_state, year_status

REGIONS = reference.regions()
AREA = {"focus_area": "helsehjelp", "municipalities_reached": 9, "planning": 3, "decided": 2, "implementing": 1}


def test_json_status_lists_each_office_per_date_with_the_name_of_that_year(agreement: reference.Agreement) -> None:
    submissions = [Submission("r-1", "vestland", date(2020, 5, 15), False, (AREA,))]
    status = year_status(agreement, REGIONS, 2020, submissions, None, TermState(), date(2020, 11, 1))
    document = status.to_json()
    vestland = next(o for o in document["offices"] if o["region"] == "vestland")
    agder = next(o for o in document["offices"] if o["region"] == "agder")
    assert vestland["reports"]["2020-05-15"] == {"status": "on_time", "report_id": "r-1"}
    assert vestland["reports"]["2020-11-01"] == {"status": "not_yet_due", "report_id": None}
    assert vestland["names"]["2020-11-01"] == "Fylkesmannen i Vestland"
    assert agder["reports"]["2020-05-15"]["status"] == "missing"
    assert document["national_totals"]["2020-05-15"]["helsehjelp"]["municipalities_reached"] == 9
    assert document["evaluation"] == "due (deadline 2020-12-15)"
    assert document["term"] == "running until 2023-12-31"


def test_table_shows_on_time_late_missing_and_not_yet_due_in_words(agreement: reference.Agreement) -> None:
    submissions = [
        Submission("r-1", "vestland", date(2022, 5, 15), False, (AREA,)),
        Submission("r-2", "rogaland", date(2022, 5, 15), True, (AREA,)),
    ]
    status = year_status(agreement, REGIONS, 2022, submissions, None, TermState(), date(2022, 6, 1))
    console = Console(record=True, width=200)
    render(status, console)
    text = console.export_text()
    vestland = next(line for line in text.splitlines() if "Statsforvalteren i Vestland" in line)
    rogaland = next(line for line in text.splitlines() if "Statsforvalteren i Rogaland" in line)
    agder = next(line for line in text.splitlines() if "Statsforvalteren i Agder" in line)
    assert "on time" in vestland
    assert "not yet due" in vestland
    assert "late" in rogaland
    assert "missing" in agder
    assert "Evaluation 2022: not yet due (falls due 2022-10-04)" in text


def test_evaluation_state_follows_completion_deadline_and_termination(agreement: reference.Agreement) -> None:
    running = TermState()
    terminating = TermState(notice_given_by="ks", notice_date=date(2022, 3, 1), effective_date=date(2022, 9, 1))
    assert evaluation_state(agreement, 2022, None, running, date(2022, 12, 16)) == "overdue (deadline 2022-12-15)"
    assert evaluation_state(agreement, 2022, None, running, date(2022, 12, 15)) == "due (deadline 2022-12-15)"
    done = (date(2022, 11, 20), "hod")
    assert evaluation_state(agreement, 2022, done, running, date(2023, 1, 1)) == "completed on 2022-11-20 by hod"
    assert evaluation_state(agreement, 2022, None, terminating, date(2022, 12, 16)).startswith("none this year")


def test_reporting_dates_from_the_termination_on_are_not_owed_and_not_shown_as_missing(
    agreement: reference.Agreement,
) -> None:
    terminated = TermState(
        notice_given_by="ks",
        notice_date=date(2023, 1, 10),
        effective_date=date(2023, 4, 10),
        ended_on=date(2023, 4, 10),
        end_kind="terminated",
    )
    status = year_status(agreement, REGIONS, 2023, [], None, terminated, date(2024, 1, 2))
    console = Console(record=True, width=200)
    render(status, console)
    text = console.export_text()
    assert status.standings == ()
    assert "no regional reports are owed in 2023" in text
    assert "missing" not in text
    assert "Agreement: terminated on 2023-04-10 (notice from ks)" in text
    assert "Evaluation 2023: none this year (the agreement ends by termination on 2023-04-10)" in text


def test_a_year_read_after_the_term_ran_out_says_when_it_ended(agreement: reference.Agreement) -> None:
    status = year_status(agreement, REGIONS, 2022, [], None, TermState(), date(2026, 12, 2))
    console = Console(record=True, width=200)
    render(status, console)

    assert status.term == "expired after 2023-12-31"
    assert "Agreement: expired after 2023-12-31" in console.export_text()
    assert year_status(agreement, REGIONS, 2022, [], None, TermState(), date(2023, 12, 31)).term == (
        "running until 2023-12-31"
    )


def test_a_termination_whose_day_has_passed_is_told_as_done(agreement: reference.Agreement) -> None:
    notice = TermState(notice_given_by="ks", notice_date=date(2022, 3, 1), effective_date=date(2022, 9, 1))

    before = year_status(agreement, REGIONS, 2022, [], None, notice, date(2022, 8, 31))
    after = year_status(agreement, REGIONS, 2022, [], None, notice, date(2022, 9, 1))

    assert before.term == "running; terminates on 2022-09-01 (notice from ks)"
    assert after.term == "terminated on 2022-09-01 (notice from ks)"


def test_an_evaluation_completed_after_its_deadline_is_marked_late(agreement: reference.Agreement) -> None:
    late = (date(2022, 12, 20), "hod")
    on_the_day = (date(2022, 12, 15), "hod")

    status = year_status(agreement, REGIONS, 2022, [], late, TermState(), date(2023, 1, 5))
    console = Console(record=True, width=200)
    render(status, console)

    assert "Evaluation 2022: completed late on 2022-12-20 by hod (deadline 2022-12-15)" in console.export_text()
    assert evaluation_state(agreement, 2022, on_the_day, TermState(), date(2023, 1, 5)) == (
        "completed on 2022-12-15 by hod"
    )
