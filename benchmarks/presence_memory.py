"""What an always-on user with no device attached costs: the issue's limit is 1 KiB
beyond its channel memberships (issue 18).

Brings N always-on users back into a hub as a restart does (no sockets, no store) and
measures the memory they hold with tracemalloc, leaving out what the first one loads for
everybody (casemapping tables, caches).

    python benchmarks/presence_memory.py            # 10,000 users
    python benchmarks/presence_memory.py -N 1000 --channels 3
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc

from hubbub.cluster.local import LocalBus, LocalRegistry
from hubbub.core.hub import Hub
from hubbub.core.presence import Choice, KeptChannel, PresencePolicy, PresenceRecord
from hubbub.wire.casemap import Casemap, Casemapping


def _record(number: int, channels: int) -> PresenceRecord:
    return PresenceRecord(
        f"account{number}",
        f"user{number}",
        f"~u{number}",
        "192.0.2.1",
        f"User {number}",
        "",
        None,
        True,
        tuple(KeptChannel(f"#room{index}", None, "", "nt") for index in range(channels)),
        1_700_000_000.0,
    )


def bytes_per_user(users: int, channels: int = 0) -> float:
    """Memory held per always-on user with no device, in bytes."""
    hub = Hub(Casemap(Casemapping.PRECIS), bus=LocalBus(), registry=LocalRegistry())
    hub.presences.policy = PresencePolicy(Choice.OPT_OUT, Choice.OPT_OUT)
    # The first user loads what every later one shares (tables, channels to join).
    hub.presences.restoring.restore("warm-up", _record(-1, channels))
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for number in range(users):
        hub.presences.restoring.restore(f"id{number}", _record(number, channels))
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    held = sum(
        stat.size_diff
        for stat in after.compare_to(before, "filename")
        if "/hubbub/" in stat.traceback[0].filename and "/wire/" not in stat.traceback[0].filename
    )
    assert sum(1 for _ in hub.state.users) == users + 1
    return held / users


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-N", "--users", type=int, default=10_000)
    parser.add_argument("--channels", type=int, default=0, help="channels each user is in")
    args = parser.parse_args()
    cost = bytes_per_user(args.users, args.channels)
    print(
        f"always-on users with no device: {args.users}, in {args.channels} channel(s) each: "
        f"{cost:.0f} bytes per user (limit beyond channels: 1024)"
    )


if __name__ == "__main__":
    main()
