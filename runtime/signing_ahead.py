"""A batch's derived events signed while the batch is still being handled.

A held meeting derives five events, and signing each (its digests and envelope in Python, then Ed25519) was a
fifth of the meetings service's event loop. Once the check processes run (`runtime.check_processes`), each chunk of
events the batch's handlers emitted goes to them to be signed while the loop handles the next records; what is left
when the batch is written (the last, smaller chunk, an event a child could not sign, the chunks of a child that
died) is signed in place (`outbox.signed_rows`). Either way the rows hold the same bytes: Ed25519 signatures are
deterministic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from contracts.signing import Signer
from runtime.check_processes import CheckProcesses
from runtime.child_link import CheckProcessGone
from runtime.outbox import OutboxRow, Outgoing, Unsigned, signed_rows
from runtime.parallel import CHUNK


class SigningAhead:
    """One pass over a batch: `send` as its rows grow, then `signed` when they are written."""

    def __init__(self, elsewhere: CheckProcesses | None) -> None:
        self._elsewhere = elsewhere
        self._seen = 0
        self._chunks: list[tuple[list[int], asyncio.Future[list[bytes]]]] = []

    async def send(self, rows: Sequence[Outgoing]) -> None:
        """Send the events emitted since the last call, once a chunk's worth have gathered and the children run.

        Then yield to the loop once: a chunk is about 45 kB, and what the pipe does not take at once waits in the
        transport until the loop next runs, which a pass whose handlers all defer their writes may not do before
        its end (seen: every chunk of a 280-minutes batch held back until the batch was written)."""
        if self._elsewhere is None or len(rows) - self._seen < CHUNK:
            return
        fresh, self._seen = range(self._seen, len(rows)), len(rows)
        if not self._elsewhere.ready():
            return
        by_key: dict[str, tuple[Signer, list[int]]] = {}
        for n in fresh:
            row = rows[n]
            if isinstance(row, Unsigned):
                by_key.setdefault(row.signer.key_id, (row.signer, []))[1].append(n)
        for signer, positions in by_key.values():
            values = [_unsigned(rows[n]).value for n in positions]
            self._chunks.append((positions, self._elsewhere.sign(signer.secret, signer.key_id, values)))
        if by_key:
            await asyncio.sleep(0)

    async def signed(self, rows: Sequence[Outgoing]) -> list[OutboxRow]:
        """Every row signed: those never sent first, in place, while the children finish theirs."""
        sent = {n for positions, _ in self._chunks for n in positions}
        made = await _in_place(rows, [n for n in range(len(rows)) if n not in sent])
        for positions, future in self._chunks:
            for n, value in zip(positions, await self._answer(future, len(positions)), strict=True):
                if value:
                    made[n] = _unsigned(rows[n]).with_value(value)
        made.update(await _in_place(rows, [n for n in range(len(rows)) if n not in made]))
        return [made[n] for n in range(len(rows))]

    async def _answer(self, future: asyncio.Future[list[bytes]], count: int) -> list[bytes]:
        """A chunk's signed events; none (all to sign in place) when its child died or fell silent."""
        assert self._elsewhere is not None  # no chunk is sent without
        try:
            return await self._elsewhere.answered(future)
        except CheckProcessGone:
            return [b""] * count


async def _in_place(rows: Sequence[Outgoing], positions: list[int]) -> dict[int, OutboxRow]:
    if not positions:
        return {}
    return dict(zip(positions, await signed_rows([rows[n] for n in positions]), strict=True))


def _unsigned(row: Outgoing) -> Unsigned:
    assert isinstance(row, Unsigned)
    return row
