"""The outbox producer puts each key on the partition Kafka's own clients would: a region's events stay together."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner

from runtime.kafka_admin import KeyPartitioner


def test_each_key_goes_where_the_default_partitioner_puts_it_the_first_time_and_every_later_time() -> None:
    keys = [f"leve-hele-livet-2019-2023/region-{n}".encode() for n in range(300)] + [b"", b"\xff\x00", "ø".encode()]
    remembering = KeyPartitioner(limit=100)
    for partitions in (1, 3, 7, 12):
        every = list(range(partitions))
        for _ in range(2):
            for key in keys:
                assert remembering(key, every, every) == DefaultPartitioner()(key, every, every), key


def test_a_key_past_the_limit_starts_the_memory_afresh() -> None:
    remembering = KeyPartitioner(limit=3)
    for n in range(10):
        remembering(f"k{n}".encode(), [0, 1, 2], [0, 1, 2])
    assert len(remembering._hashes) <= 3


def test_a_record_without_a_key_goes_to_an_available_partition() -> None:
    assert KeyPartitioner()(None, [0, 1, 2], [2]) == 2
