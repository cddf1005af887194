"""The servers under test: hubbub's command lines and the peers' generated configurations.

The peers are the Debian packages ``ngircd`` and ``inspircd``; their configuration files
are generated here with flood limits raised, as the issue's measurement notes ask (see
:func:`ngircd_config` and :func:`inspircd_config`).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import Target
from benchmarks.measure import raise_open_file_limit

OPER = ("bench", "bench")

# -- the peers' configuration -----------------------------------------------------------


def ngircd_config() -> str:
    """ngircd with every limit that would throttle a load client raised or off.

    ngircd throttles a client unless it is an operator with user mode +F, so every load
    client OPERs and sets +F (``Target.oper``/``umode``); ``MaxPenaltyTime = 0`` also
    zeroes the per-command penalties. Its listen backlog is a fixed 10, which is why the
    generator sets up at most 10 connections at once.
    """
    name, password = OPER
    return f"""[Global]
\tName = bench.ngircd
\tInfo = hubbub benchmark peer
\tListen = 127.0.0.1
\tPorts = {{port}}
\tMotdPhrase = benchmark
[Limits]
\tMaxConnections = 0
\tMaxConnectionsIP = 0
\tMaxJoins = 0
\tMaxNickLength = 16
\tMaxPenaltyTime = 0
\tPingTimeout = 600
\tPongTimeout = 600
[Options]
\tDNS = no
\tIdent = no
\tPAM = no
\tOperCanUseMode = yes
[Operator]
\tName = {name}
\tPassword = {password}
"""


def inspircd_config(folder: Path, open_files: int) -> str:
    """InspIRCd with a connect class that neither throttles nor limits the load clients.

    ``threshold`` and ``commandrate`` far above the load, ``fakelag`` off, large SendQ
    and RecvQ, ``localmax``/``globalmax`` above any client count, no DNS (and no ident
    module), and ``<performance softlimit somaxconn>`` raised. It is run with
    ``--nofork --runasroot``.
    """
    return f"""<server name="bench.inspircd" description="hubbub benchmark peer" network="bench">
<admin name="bench" nick="bench" email="bench@localhost">
<bind address="127.0.0.1" port="{{port}}" type="clients">
<connect name="bench" allow="*" maxchans="100" timeout="120" pingfreq="600"
         hardsendq="104857600" softsendq="104857600" recvq="10485760"
         threshold="1000000" commandrate="100000000" fakelag="no"
         localmax="1000000" globalmax="1000000" maxconnwarn="no" limit="1000000"
         resolvehostnames="no" useident="no">
<module name="cap">
<performance softlimit="{max(1024, open_files - 64)}" somaxconn="4096" netbuffersize="10240"
             clonesonconnect="no" quietbursts="yes" timeskipwarn="0">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default"
     target="{folder / "inspircd.log"}">
<whowas groupsize="10" maxgroups="100000" maxkeep="3d">
"""


def find_program(name: str) -> str | None:
    """A program on PATH or in /usr/sbin (where Debian puts daemons, often off PATH)."""
    found = shutil.which(name)
    if found is None and Path("/usr/sbin", name).exists():
        found = str(Path("/usr/sbin", name))
    return found


def make_targets(folder: Path, servers: Sequence[str]) -> dict[str, Target]:
    """The servers to measure, with their generated configuration files."""
    python = sys.executable
    common = (
        f"{python} -m hubbub serve --host 127.0.0.1 --port {{port}} "
        # A fresh data folder per run ({port} differs): history must not pile up across runs.
        f"--data-dir {folder / 'hubbub-data'}-{{port}} --server-name bench.hubbub "
        "--trusted 127.0.0.0/8 --log-level warning --no-web"
    )
    targets: dict[str, Target] = {}
    if "hubbub" in servers:
        targets["hubbub"] = Target("hubbub", common + " --no-plain")
        targets["hubbub-plain"] = Target("hubbub", common + " --plain-port {plain_port}")
        # The web door: a port for it turns the listener on (beside --no-web).
        targets["hubbub-web"] = Target("hubbub", common + " --no-plain --web-port {web_port}")
        # The burst's persistence modes: no store at all, and output held until stored.
        targets["hubbub-nohistory"] = Target(
            "hubbub-nohistory", common + " --no-plain --no-history"
        )
        targets["hubbub-sync"] = Target("hubbub-sync", common + " --no-plain --history-sync")
    if "floor" in servers:
        targets["floor"] = Target(
            "floor", f"{python} {Path(__file__).with_name('floor.py')} {{port}}"
        )
    open_files = raise_open_file_limit()
    if "ngircd" in servers:
        program = find_program("ngircd")
        assert program is not None
        template = folder / "ngircd.conf.in"
        template.write_text(ngircd_config())
        config = folder / "ngircd.conf"
        targets["ngircd"] = Target(
            "ngircd",
            f"{program} --nodaemon --passive --config {config}",
            oper=OPER,
            umode="+F",
            files=((str(template), str(config)),),
        )
    if "inspircd" in servers:
        program = find_program("inspircd")
        assert program is not None
        template = folder / "inspircd.conf.in"
        template.write_text(inspircd_config(folder, open_files))
        config = folder / "inspircd.conf"
        targets["inspircd"] = Target(
            "inspircd",
            f"{program} --config {config} --nofork --runasroot --nopid",
            files=((str(template), str(config)),),
        )
    return targets
