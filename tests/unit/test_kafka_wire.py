"""The launcher's own Kafka protocol encoding: what the broker would misread if it were wrong."""

from __future__ import annotations

import pytest

from deploy.acl import Binding
from deploy.kafka_wire import Reader, compact_string, escape_scram_name, uvarint


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 16_383, 16_384, 2**31 - 1])
def test_an_unsigned_varint_reads_back_as_written(value: int) -> None:
    assert Reader(uvarint(value)).uvarint() == value


def test_small_varints_take_one_byte_and_larger_ones_continue() -> None:
    assert uvarint(127) == b"\x7f"
    assert uvarint(128) == b"\x80\x01"


def test_a_compact_string_carries_its_length_plus_one() -> None:
    encoded = compact_string("svc-meetings")
    assert encoded[0] == len("svc-meetings") + 1
    assert Reader(encoded).compact_string() == "svc-meetings"


def test_scram_user_names_escape_the_two_reserved_characters() -> None:
    assert escape_scram_name("a=b,c") == "a=3Db=2Cc"


def test_a_namespace_prefixes_topic_and_group_names_but_not_the_cluster_or_the_wildcard() -> None:
    topic = Binding("User:svc-audit", "topic", "lhl.deadletter.v1", "read")
    cluster = Binding("User:svc-meetings", "cluster", "kafka-cluster", "idempotent_write")
    everything = Binding("User:lhl-operator", "topic", "*", "read")
    assert topic.in_namespace("t1.").name == "t1.lhl.deadletter.v1"
    assert cluster.in_namespace("t1.") == cluster
    assert everything.in_namespace("t1.") == everything
