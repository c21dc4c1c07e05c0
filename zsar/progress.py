"""Progress as whole lines ("k of N, rate, ETA"), readable in a log file and in a terminal.

tqdm's bars rewrite one line with carriage returns, which a log file keeps as one unreadable line;
these are plain lines (formatted by tqdm), the first after a few seconds so that even a stage of
Kinetics size shows its rate and ETA within its first minute, then at most one per `every` seconds.
"""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

FORMAT = "{desc}{n_fmt}/{total_fmt}{unit} ({percentage:.0f}%), {rate_fmt}, elapsed {elapsed}, ETA {remaining}"


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Progress:
    def __init__(self, total: int, unit: str, log=_stderr, *, desc: str = "", first: float = 5.0,
                 every: float = 30.0, clock=time.monotonic):
        self.total, self.unit, self.log, self.desc = total, unit, log, f"{desc}: " if desc else ""
        self.every, self.clock = every, clock
        self.done, self.started = 0, clock()
        self._next = self.started + first

    def advance(self, n: int = 1) -> None:
        self.update(self.done + n)

    def update(self, done: int) -> None:
        """`done` of `total` finished; prints a line when one is due, and at the end."""
        self.done = done
        now = self.clock()
        if now >= self._next or done >= self.total:
            self.log(self.line(now))
            self._next = now + self.every

    def line(self, now: float | None = None) -> str:
        elapsed = (self.clock() if now is None else now) - self.started
        return tqdm.format_meter(self.done, self.total, elapsed, unit=" " + self.unit, prefix=self.desc,
                                 bar_format=FORMAT)
