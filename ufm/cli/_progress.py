"""Progress of a long loop on stderr, for every run longer than a couple of seconds."""

from __future__ import annotations

import sys
import time

import click

#: A loop shows progress once it has run this many seconds: short runs stay silent.
PROGRESS_AFTER_SECONDS = 2.0

#: Without a terminal (a log file, a pipe), one line every this many seconds.
PROGRESS_LINE_SECONDS = 10.0


class StepProgress:
    """A callback ``progress(done)`` for a loop of ``total`` steps, used as a context manager.

    Nothing is shown during the first :data:`PROGRESS_AFTER_SECONDS`. After that, a click progress
    bar on a terminal; otherwise (a log, a pipe) one line ``label: done/total steps (p%), t s,
    about r s left`` at once and then every :data:`PROGRESS_LINE_SECONDS` (r from the rate since
    the first call, once there is one).
    """

    def __init__(self, total: int, label: str):
        self.total, self.label = total, label
        self.start = time.perf_counter()
        self.bar = None
        self.last_line = None
        self.first = None

    def __enter__(self):
        return self

    def __call__(self, done: int) -> None:
        now = time.perf_counter()
        elapsed = now - self.start
        if self.first is None:
            self.first = (now, done)
        if elapsed < PROGRESS_AFTER_SECONDS or self.total == 0:
            return
        if sys.stderr.isatty():
            if self.bar is None:
                self.bar = click.progressbar(length=self.total, label=self.label, file=sys.stderr)
                self.bar.__enter__()
            self.bar.update(done - self.bar.pos)
        elif self.last_line is None or now - self.last_line >= PROGRESS_LINE_SECONDS:
            self.last_line = now
            line = f"{self.label}: {done}/{self.total} steps ({100 * done / self.total:.0f}%)"
            line += f", {elapsed:.0f} s"
            if done > self.first[1]:
                # the rate since the first call: the first chunk includes loading the kernels
                rate = (done - self.first[1]) / (now - self.first[0])
                line += f", about {(self.total - done) / rate:.0f} s left"
            click.echo(line, err=True)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
