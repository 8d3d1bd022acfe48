import time
from typing import TextIO


class ProgressBar:
    """A one-line bar on a terminal stream, redrawn at most 10 times a second; silent when not a TTY."""

    def __init__(self, stream: TextIO, width: int = 40) -> None:
        self.stream = stream
        self.width = width
        self.enabled = stream.isatty()
        self.last_draw = 0.0
        self.started = time.monotonic()

    def __call__(self, processed: int, total: int | None) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if (total is None or processed < total) and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        elapsed = f"{now - self.started:5.1f}s"
        if not total:
            self.stream.write(f"\r{processed} done  {elapsed}")
        else:
            fraction = processed / total
            filled = int(self.width * fraction)
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {fraction:6.1%}  {elapsed}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
