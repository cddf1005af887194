"""What ``hubbub cluster status`` shows: the nodes heard on NATS, and the log."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js.errors import Error as JetStreamError

from hubbub.cluster.connect import connect
from hubbub.cluster.jetstream import STREAM
from hubbub.cluster.nodes import SUBJECT, Beat, parse_beat


@dataclass(frozen=True)
class Heard:
    beat: Beat
    ago: float  # seconds since its last beat, when the listening ended


@dataclass(frozen=True)
class Log:
    facts: int
    size: int  # bytes
    first: int
    last: int


async def listen(
    urls: tuple[str, ...],
    wait: float,
    credentials: Path | None = None,
    token: str | None = None,
    tls_ca: Path | None = None,
) -> tuple[list[Heard], Log | None]:
    """The runs heard in ``wait`` seconds (the last beat of each), and the log's extent
    (None when no node has made it yet).

    Raises:
        cluster.connect.Unreachable: NATS did not answer.
    """
    client = await connect(urls, "hubbub-status", credentials, token, tls_ca)
    try:
        return await _listen(client, wait)
    finally:
        await client.close()


async def _listen(client: Client, wait: float) -> tuple[list[Heard], Log | None]:
    loop = asyncio.get_running_loop()
    heard: dict[str, tuple[Beat, float]] = {}

    async def hear(message: Msg) -> None:
        beat = parse_beat(message.data)
        if beat is not None:
            heard[beat.run] = (beat, loop.time())

    subscription = await client.subscribe(SUBJECT, cb=hear)
    await asyncio.sleep(wait)  # beats come on their own schedule: listen for a while
    with contextlib.suppress(NatsError):
        await subscription.unsubscribe()
    log = None
    try:
        info = await client.jetstream().stream_info(STREAM)
    except (JetStreamError, NatsError, TimeoutError):
        pass
    else:
        state = info.state
        log = Log(state.messages, state.bytes, state.first_seq, state.last_seq)
    end = loop.time()
    runs = sorted(heard.values(), key=lambda entry: (entry[0].node, entry[0].run))
    return [Heard(beat, end - at) for beat, at in runs], log


def report(heard: list[Heard], log: Log | None, wait: float) -> list[str]:
    """The lines ``hubbub cluster status`` prints."""
    if log is None:
        lines = ["log: not made yet (no node has joined)"]
    else:
        lines = [
            f"log: {log.facts} stream messages kept ({log.size / 1024:.1f} KiB), "
            f"sequences {log.first}-{log.last}"
        ]
    if not heard:
        return [*lines, f"no node heard in {wait:g} s"]
    rows = [("node", "run", "users", "applied", "behind", "heard")]
    last = log.last if log is not None else 0
    for entry in heard:
        beat = entry.beat
        rows.append(
            (
                beat.node or "?",
                beat.run,
                str(beat.users),
                str(beat.applied),
                str(max(0, last - beat.applied)),
                f"{entry.ago:.1f} s ago",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    users = sum(entry.beat.users for entry in heard)
    lines.append(f"{len(heard)} node{'s' if len(heard) != 1 else ''}, {users} users")
    return lines
