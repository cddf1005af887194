"""``hubbub cluster status``: a cluster's nodes as its NATS sees them, from the shell."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path
from typing import Any

from hubbub.clustering import ClusterUnreachable
from hubbub.config import load_config
from hubbub.settings import Cluster, ConfigError, Settings


def add_parser(commands: Any) -> None:
    cluster_command = commands.add_parser(
        "cluster",
        help="see the nodes of a cluster",
        description="See a cluster of hubbub servers as its NATS does.",
    )
    cluster_actions = cluster_command.add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    status = cluster_actions.add_parser(
        "status",
        help="list the nodes heard, their users and how far each has applied the log",
        description="Listen for the nodes' heartbeats, then list each node heard (its "
        "run, users, the log sequence it has applied and how far behind the log it is) "
        "and the log's extent. Exits 1 when NATS cannot be reached or no node is heard.",
    )
    status.add_argument("--config", type=Path, help="a server config file with [cluster]")
    status.add_argument(
        "--cluster", metavar="URL[,URL]", help="NATS URLs (default: [cluster] urls)"
    )
    status.add_argument(
        "--wait",
        type=_listening_time,
        metavar="SECONDS",
        help="how long to listen for heartbeats (default: [cluster] node_timeout, 3)",
    )


def run(args: argparse.Namespace) -> int:
    """``hubbub cluster status``; the exit status (1: NATS unreachable or no node heard,
    2: a config mistake)."""
    try:
        settings = load_config(args.config, complete=False) if args.config else Settings()
        if args.cluster is not None:
            known = settings.cluster or Cluster(urls=())
            urls = tuple(u for u in args.cluster.split(",") if u)
            settings = dataclasses.replace(settings, cluster=dataclasses.replace(known, urls=urls))
        lines, heard = status(settings, args.wait)
    except ConfigError as error:
        for line in str(error).splitlines():
            print(f"hubbub cluster: {line}", file=sys.stderr)
        return 2
    except ClusterUnreachable as error:
        print(f"hubbub cluster status: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0 if heard else 1


def status(settings: Settings, wait: float | None) -> tuple[list[str], bool]:
    """``hubbub cluster status``: the lines that tell the nodes heard on NATS in ``wait``
    seconds (by default a node timeout: every live node beats three times in it) and the
    log's extent, and whether any node was heard.

    Raises:
        ConfigError: no cluster is configured, or nats-py is not installed.
        ClusterUnreachable: NATS did not answer.
    """
    if settings.cluster is None or not settings.cluster.urls:
        raise ConfigError("no cluster is configured: give --cluster URL or [cluster] urls")
    try:
        from hubbub.cluster import status as cluster_status
        from hubbub.cluster.connect import Unreachable
    except ImportError:
        raise ConfigError("a cluster needs nats-py: pip install 'hubbub[cluster]'") from None
    cluster = settings.cluster
    listening = wait if wait is not None else cluster.node_timeout
    try:
        heard, log = asyncio.run(
            cluster_status.listen(
                cluster.urls, listening, cluster.credentials, cluster.token, cluster.tls_ca
            )
        )
    except Unreachable as error:
        raise ClusterUnreachable(str(error)) from None
    return cluster_status.report(heard, log, listening), bool(heard)


def _listening_time(text: str) -> float:
    """Seconds to listen: a number from 0.1 to 600 (not nan, not inf)."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0.1 <= seconds <= 600:  # false for nan too
        raise argparse.ArgumentTypeError("give 0.1 to 600 seconds")
    return seconds
