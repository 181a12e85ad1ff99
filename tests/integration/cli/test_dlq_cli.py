"""`lhl dlq list` shortens a long message at a word boundary with "…"; `lhl dlq show` prints it whole; with
`--json` every dlq command prints what a script parses."""

from __future__ import annotations

import asyncio
import json

from typer.testing import CliRunner

from contracts import dead_letter_headers as dl
from contracts import topics
from lhl.cli import app
from tests.support.infra import Infra
from tests.support.kafka import Bus

MESSAGE = (
    "data.participants[3]: expected an organisation registered in the reference data for the region vestland "
    "on 2022-03-10, got 'kommune-4699', which is not a municipality of Vestland in 2022 (known: kommune-4601, "
    "kommune-4602, kommune-4611)"
)


async def test_the_list_shortens_a_long_message_between_words_and_show_prints_it_whole(infra: Infra, bus: Bus) -> None:
    headers = {
        dl.ERROR_CLASS: "invalid_reference",
        dl.ERROR_MESSAGE: MESSAGE,
        dl.ORIGINAL_TOPIC: bus.topic(topics.MEETINGS_INGRESS),
        dl.EVENT_SOURCE: "/statsforvalteren/vestland/moter",
        dl.EVENT_TYPE: "no.levehelelivet.meeting.held.v1",
    }
    await bus.publish_raw(topics.DEAD_LETTER, b"{}", key="leve-hele-livet-2019-2023/vestland", headers=headers)
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
        "DATABASE_URL": infra.database_url,
        "TOPIC_PREFIX": bus.prefix,
        "COLUMNS": "400",
    }

    listed = await asyncio.to_thread(CliRunner().invoke, app, ["dlq", "list"], env=env)
    row = next(line for line in listed.stdout.splitlines() if "invalid_reference" in line)
    ref = row.strip("│ ").split()[0]
    shown = await asyncio.to_thread(CliRunner().invoke, app, ["dlq", "show", ref], env=env)
    shown_json = await asyncio.to_thread(CliRunner().invoke, app, ["dlq", "show", ref, "--json"], env=env)

    assert listed.exit_code == 0, listed.output
    shortened = row.split("│")[-2].strip()
    assert shortened.endswith("…")
    kept = shortened.removesuffix("…")
    assert MESSAGE.startswith(kept)
    assert not MESSAGE[len(kept)].isalnum()  # cut between words, not inside one
    assert 60 <= len(shortened) <= 120
    assert shown.exit_code == 0, shown.output
    assert MESSAGE in shown.output  # whole, on its own line
    assert json.loads(shown_json.stdout)["message"] == MESSAGE
    assert json.loads(shown_json.stdout)["value"] == "{}"


async def test_list_show_and_replay_print_json_a_script_can_read(infra: Infra, bus: Bus) -> None:
    headers = {
        dl.ERROR_CLASS: "invalid_data",
        dl.ERROR_MESSAGE: "data.held_on: expected a date",
        dl.ORIGINAL_TOPIC: bus.topic(topics.MEETINGS_INGRESS),
        dl.EVENT_SOURCE: "/statsforvalteren/agder/moter",
        dl.EVENT_TYPE: "no.levehelelivet.meeting.held.v1",
    }
    await bus.publish_raw(topics.DEAD_LETTER, b'{"held_on": 1}', key="leve-hele-livet-2019-2023/agder", headers=headers)
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
        "DATABASE_URL": infra.database_url,
        "TOPIC_PREFIX": bus.prefix,
    }

    def lhl(*args: str) -> str:
        result = CliRunner().invoke(app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.stdout  # what a script reads; log lines go to stderr

    listed = [json.loads(line) for line in (await asyncio.to_thread(lhl, "dlq", "list", "--json")).splitlines()]
    [letter] = [row for row in listed if row["event_source"] == "/statsforvalteren/agder/moter"]
    shown = json.loads(await asyncio.to_thread(lhl, "dlq", "show", letter["ref"], "--json"))
    replayed = json.loads(await asyncio.to_thread(lhl, "dlq", "replay", letter["ref"], "--json"))
    again = json.loads(await asyncio.to_thread(lhl, "dlq", "replay", letter["ref"], "--json"))

    assert (letter["reason"], letter["message"]) == ("invalid_data", "data.held_on: expected a date")
    assert shown == {**letter, "value": '{"held_on": 1}'}
    assert replayed == {letter["ref"]: f"replayed to {bus.topic(topics.MEETINGS_INGRESS)}"}
    assert again == {letter["ref"]: "skipped: already replayed"}
