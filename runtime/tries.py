"""How often the record in hand failed, and how long to pause before it comes again."""

from __future__ import annotations

from runtime.records import Incoming


class Tries:
    """Failures of the record in hand, per partition. Tries count only while the database answers (then the record
    itself is the cause), and the record is parked after `limit` of them; every failure, outages included, lengthens
    the pause before the record comes again, so neither a bad record nor an outage spins the consumer."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._failed: dict[tuple[str, int], tuple[int, int, int]] = {}
        """(topic, partition) -> (offset, tries while the database answered, failures in all)."""

    def failed(self, record: Incoming, *, database_answered: bool) -> int:
        """Count a failure of the record; returns its tries so far."""
        at = (record.topic, record.partition)
        offset, tries, failures = self._failed.get(at, (record.offset, 0, 0))
        if offset != record.offset:
            tries, failures = 0, 0
        tries += 1 if database_answered else 0
        self._failed[at] = (record.offset, tries, failures + 1)
        return tries

    def pause(self, record: Incoming) -> float:
        _, _, failures = self._failed.get((record.topic, record.partition), (record.offset, 0, 0))
        return min(0.1 * 2.0**failures, 5.0)

    def now(self, record: Incoming) -> tuple[int, int, int]:
        """(offset, tries, failures) of the record in hand on the record's partition."""
        return self._failed.get((record.topic, record.partition), (record.offset, 0, 0))

    def forget(self, record: Incoming) -> None:
        self._failed.pop((record.topic, record.partition), None)
