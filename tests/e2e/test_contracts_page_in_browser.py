"""The contracts page opened in a real headless chromium, offline: every event type and topic is there to find."""

from __future__ import annotations

import pytest

from contracts import catalog, topics
from contracts.events import evaluations as ev
from lhl.contracts_page import write_page
from tests.support import browser

ALL_TYPES = {kind.name for kind in catalog.CONTRACT_TYPES}


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    try:
        browser.chromium()
    except browser.BrowserUnavailable as error:
        pytest.fail(str(error))
    return write_page(tmp_path_factory.mktemp("contracts")).resolve().as_uri()


def test_every_event_type_and_topic_can_be_found_in_the_rendered_page(page_url: str) -> None:
    rendered = browser.elements(browser.dump_dom(page_url))

    event_types = {e.attrs.get("data-event-type"): e for e in rendered if "data-event-type" in e.attrs}
    topic_rows = {e.attrs.get("id") for e in rendered if "data-topic" in e.attrs and e.tag == "tr"}

    assert set(event_types) == ALL_TYPES
    assert all(e.attrs.get("id") == name and not e.hidden for name, e in event_types.items())
    assert topic_rows == {f"topic-{topic}" for topic in topics.ALL_TOPICS}


def test_filter_script_runs_and_counts_every_event_type(page_url: str) -> None:
    rendered = browser.elements(browser.dump_dom(page_url))

    count = next(e for e in rendered if e.attrs.get("id") == "filter-count")

    assert count.text == f"{len(ALL_TYPES)} of {len(ALL_TYPES)} event types shown"


def test_a_link_with_a_filter_shows_only_the_matching_event_type(page_url: str) -> None:
    # No other event type's text mentions report submissions, so exactly one stays visible.
    wanted = catalog.of(ev.RegionalStatusReportSubmitted).name

    rendered = browser.elements(browser.dump_dom(f"{page_url}?q={wanted}"))

    visible = {e.attrs.get("data-event-type") for e in rendered if "data-event-type" in e.attrs and not e.hidden}
    visible_topics = {
        e.attrs.get("data-topic") for e in rendered if e.tag == "tr" and "data-topic" in e.attrs and not e.hidden
    }
    count = next(e for e in rendered if e.attrs.get("id") == "filter-count")
    assert visible == {wanted}
    assert visible_topics == {topics.REPORTS_INGRESS}
    assert count.text == f"1 of {len(ALL_TYPES)} event types shown"
