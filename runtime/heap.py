"""The garbage collector set for a long-running consumer, once its start has built what it keeps.

CPython collects its youngest generation every 700 container allocations and, every hundred of those, the whole
heap, which after start holds the modules, pydantic's validators, the clients and their buffers: hundreds of
thousands of objects that live as long as the process. The meetings service catching up on 10,000 held meetings
spent 2.3 s of its 23 s of CPU collecting, all of it on the event loop's thread with the GIL held, in 14 full
collections of up to 146 ms each: each one a pause every event in flight waits out (docs/performance.md).

After start, the heap that start built is moved out of the collector's reach (`gc.freeze`, after a collection so
no garbage is frozen with it), and the youngest generation is collected every 10,000 allocations. The same catch-up
then collected for 0.7 s, the longest pause 37 ms. The older generations keep their ratios (every 10 of the younger
one's collections), so cyclic garbage is still collected, after up to a million allocations rather than 70,000.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

YOUNGEST_EVERY = 10_000
"""Container allocations (less deallocations) between collections of the youngest generation; CPython's is 700."""


def settle() -> None:
    """Freeze what start built and collect the young less often; once per process, after the service started."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNGEST_EVERY, middle, oldest)


class Pauses:
    """Times each of the collector's pauses for `lhl_gc_pause_seconds`, while a service runs: a latency spike with
    no slow statement beside it may be the collector's. Process-wide, as the collector is: several services in one
    process (the tests) each see all of its pauses."""

    def __init__(self, observe: Callable[[str, float], None]) -> None:
        self._observe = observe
        self._started = 0.0

    def _timed(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self._observe(str(info["generation"]), time.perf_counter() - self._started)

    def install(self) -> None:
        if self._timed not in gc.callbacks:
            gc.callbacks.append(self._timed)

    def remove(self) -> None:
        if self._timed in gc.callbacks:
            gc.callbacks.remove(self._timed)
