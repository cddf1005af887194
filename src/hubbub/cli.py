"""The ``hubbub`` command: argparse subcommands that build Settings and start things."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from hubbub import __version__, account_admin, admin, cluster_admin, config_admin, logs, mkcert
from hubbub.clustering import ClusterUnreachable
from hubbub.config import limits_from_flags, load_config
from hubbub.core.presence import Choice
from hubbub.settings import Cluster, ConfigError, Listen, Oper, Settings, validate
from hubbub.storage.errors import StorageError
from hubbub.wire.casemap import Casemapping
from hubbub.wire.redact import shown_text


def _where_options(late: bool = False) -> argparse.ArgumentParser:
    """The flags that say where the server's data is and how it checks names, shared by
    ``serve``, ``account`` and ``admin`` so that all find the same accounts.

    ``late`` makes the same flags for a subcommand's own parser: argparse copies every
    value a subcommand's parser holds over its parent's, so these hold none unless given
    (and ``--limit`` collects apart, to be added to the earlier ones)."""
    where = argparse.ArgumentParser(add_help=False)
    unset = argparse.SUPPRESS if late else None
    where.add_argument("--config", type=Path, default=unset, help="TOML config file (see README)")
    where.add_argument(
        "--data-dir",
        type=Path,
        default=unset,
        help="data folder (serve creates it if missing)",
    )
    where.add_argument(
        "--database-url",
        default=unset,
        metavar="URL",
        help="keep accounts and history in PostgreSQL (postgresql://user:password@host/name) "
        "instead of the data folder; also HUBBUB_DATABASE_URL",
    )
    where.add_argument(
        "--casemapping",
        default=unset,
        choices=[c.value for c in Casemapping],
        help="how names compare (default rfc8265: Unicode names)",
    )
    where.add_argument(
        "--limit",
        action="append",
        default=unset if late else [],
        dest="more_limits" if late else "limit",
        metavar="NAME=VALUE",
        help="set one of the [limits] of the config file, e.g. sendq=2097152 (repeatable)",
    )
    return where


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hubbub", description="hubbub: a multi-user chat server that speaks IRC."
    )
    parser.add_argument("--version", action="version", version=f"hubbub {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    where = _where_options()

    serve = commands.add_parser(
        "serve",
        parents=[where],
        help="run the chat server",
        description="Run the chat server. With no options it listens for IRC on "
        "127.0.0.1:6667, opens the plain-text door (for nc and telnet) on 127.0.0.1:8080, "
        "serves the web client on http://127.0.0.1:8081/ and keeps its data in "
        "~/.local/share/hubbub. Options override the config file, which overrides the "
        "defaults.",
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="IRC port (default 6667)")
    serve.add_argument("--server-name", help="server name, like irc.example.org")
    serve.add_argument("--network", help="network name shown to clients (default hubbub)")
    serve.add_argument("--description", help="server description shown by LINKS and WHOIS")
    serve.add_argument("--motd", type=Path, help="file with the message of the day")
    serve.add_argument(
        "--password",
        help="server password clients must send with PASS; also HUBBUB_PASSWORD (a flag "
        "is visible to every user of the machine in the process list)",
    )
    serve.add_argument(
        "--oper",
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help="an IRC operator login (repeatable); also HUBBUB_OPER (better: [[oper]] "
        "blocks with a hash from 'hubbub mkpasswd')",
    )
    serve.add_argument("--tls-cert", type=Path, help="TLS certificate chain (PEM)")
    serve.add_argument("--tls-key", type=Path, help="TLS private key (PEM)")
    serve.add_argument(
        "--tls-client-ca",
        type=Path,
        help="CA certificates (PEM) whose client certificates log in with SASL EXTERNAL",
    )
    serve.add_argument(
        "--tls-port", type=int, help="TLS port (default 6697 when a certificate is set)"
    )
    serve.add_argument(
        "--trusted",
        action="append",
        default=[],
        metavar="NETWORK",
        help="address or network free of flood control and per-IP limits (repeatable)",
    )
    cluster = serve.add_argument_group(
        "cluster",
        "Several servers as one network (docs/cluster.md): each node joins through NATS "
        "with JetStream, and all share one PostgreSQL (--database-url). [cluster] in the "
        "config file also takes credentials, a token, a CA for NATS, the node timeout and "
        "how often the state is snapshot.",
    )
    cluster.add_argument(
        "--cluster",
        metavar="URL[,URL...]",
        help="join the network whose NATS server is at URL (nats://host:4222)",
    )
    cluster.add_argument(
        "--node",
        help="this node's name, unique in the network (default: host name and IRC port)",
    )
    plain = serve.add_argument_group(
        "plain-text door",
        "A line-based chat for nc, telnet or any simple console client, in the same rooms "
        "as IRC: it asks for a name, then every line typed is said in the user's room "
        "(/help lists its commands).",
    )
    plain.add_argument("--plain-port", type=int, help="port of the plain-text door (default 8080)")
    plain.add_argument("--plain-host", help="address of the plain-text door (default 127.0.0.1)")
    plain.add_argument("--no-plain", action="store_true", help="no plain-text door")
    plain.add_argument("--plain-room", help="the room plain users start in (default #lobby)")
    plain.add_argument(
        "--language",
        help="language of the plain-text door: en or ru (default: from LANGUAGE, LC_ALL, "
        "LC_MESSAGES or LANG)",
    )
    serve.add_argument(
        "--web-port",
        type=int,
        help="port of the web client and its WebSocket door, ws://HOST:PORT/irc (default 8081)",
    )
    serve.add_argument("--web-host", help="address of the web listener (default 127.0.0.1)")
    serve.add_argument(
        "--no-web",
        action="store_true",
        help="no web client or WebSocket door (unless --web-port or --web-host is given)",
    )
    serve.add_argument(
        "--web-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a page origin (https://chat.example.org) allowed to open the WebSocket door "
        "besides the web client's own; * for any (repeatable)",
    )
    serve.add_argument(
        "--metrics-port", type=int, help="serve /metrics on this port only, not on the web port"
    )
    serve.add_argument("--metrics-host", help="address of the metrics port (default 127.0.0.1)")
    serve.add_argument(
        "--no-history",
        dest="history",
        action="store_const",
        const=False,
        help="keep no database: no message history and no accounts",
    )
    serve.add_argument(
        "--no-register-before-connect",
        dest="register_before_connect",
        action="store_const",
        const=False,
        help="accounts can be registered only once connected (REGISTER)",
    )
    serve.add_argument(
        "--register-email-required",
        dest="register_email_required",
        action="store_const",
        const=True,
        help="account registration needs an email address",
    )
    serve.add_argument(
        "--tcp-nodelay",
        dest="tcp_nodelay",
        action="store_const",
        const=True,
        help="send each write at once (TCP_NODELAY) instead of joining small writes",
    )
    serve.add_argument(
        "--history-sync",
        dest="history_sync",
        action="store_const",
        const=True,
        help="deliver each message only once it is stored (nothing seen is lost to a crash)",
    )
    for flag, what in (
        ("--multiclient", "connections of one account share its nick (multiclient)"),
        ("--always-on", "an account's user stays when its last connection leaves"),
    ):
        serve.add_argument(
            flag,
            choices=[c.value for c in Choice],
            help=f"{what}: for accounts that ask (opt-in), all but those that refuse "
            "(opt-out), or none (default: multiclient opt-out, always-on opt-in)",
        )
    serve.add_argument(
        "--log-level",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log detail on stderr (default INFO)",
    )

    chat = commands.add_parser(
        "chat",
        help="the terminal chat client",
        description="Chat in the terminal. With no address it connects to a local "
        "'hubbub serve' (127.0.0.1:6667; with --plain, the plain door on 127.0.0.1:8080). "
        "Once connected it joins the channels given by --join or the config file; with "
        "none, the server's default room (#lobby on hubbub), or no channel on a server "
        "that names none (type /join #name). It works with any IRC server.",
    )
    chat.add_argument(
        "address",
        nargs="?",
        help="[irc://|ircs://]host[:port], or a network named in the config file",
    )
    chat.add_argument("--nick", help="nick to use (default: your user name)")
    chat.add_argument(
        "--join",
        metavar="'#a,#b'",
        help="channels to join once connected, instead of the server's default room",
    )
    chat.add_argument(
        "--plain",
        action="store_true",
        help="speak plain text, to a plain-text chat server such as hubbub's plain door",
    )
    chat.add_argument(
        "--config", type=Path, help="client config file (default ~/.config/hubbub/chat.toml)"
    )
    chat.add_argument(
        "--insecure", action="store_true", help="accept any TLS certificate (self-signed)"
    )
    chat.add_argument(
        "--device",
        help="this machine's name to the server when logging in, as account@device: one of "
        "the account's devices (default: its short host name)",
    )
    chat.add_argument("--log-file", type=Path, help="write a debug log to this file")

    where_late = _where_options(late=True)
    account_admin.add_parser(commands, where, where_late)
    admin.add_parser(commands, where, where_late)
    config_admin.add_parser(commands)
    mkcert.add_parser(commands)
    cluster_admin.add_parser(commands)
    commands.add_parser(
        "mkpasswd",
        help="hash a password for an [[oper]] block",
        description="Read a password and print its hash for the config file.",
    )
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """Defaults, then the config file, then the flags.

    Raises:
        ConfigError: an invalid config file or flag.
    """
    settings = _where_settings(args)
    changes: dict[str, object] = {}
    if args.host is not None or args.port is not None or args.tls_port is not None:
        plain = [listen for listen in settings.listen if not listen.tls] or [
            Listen("127.0.0.1", 6667)
        ]
        host = args.host or plain[0].host
        listen = [Listen(host, args.port if args.port is not None else plain[0].port)]
        if args.tls_port is not None:
            listen.append(Listen(host, args.tls_port, tls=True))
        else:
            listen += [Listen(host, item.port, True) for item in settings.listen if item.tls]
        changes["listen"] = tuple(listen)
    simple = {
        "server_name": args.server_name,
        "network_name": args.network,
        "description": args.description,
        "motd_file": args.motd,
        "password": args.password or os.environ.get("HUBBUB_PASSWORD") or None,
        "log_level": args.log_level,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
        "tls_client_ca": args.tls_client_ca,
        # Switches: None unless given (store_const), so a config file's value stands.
        "history": args.history,
        "history_sync": args.history_sync,
        "multiclient": Choice(args.multiclient) if args.multiclient else None,
        "always_on": Choice(args.always_on) if args.always_on else None,
        "tcp_nodelay": args.tcp_nodelay,
        "register_before_connect": args.register_before_connect,
        "register_email_required": args.register_email_required,
        "metrics_host": args.metrics_host,
        "metrics_port": args.metrics_port,
    }
    changes.update({key: value for key, value in simple.items() if value is not None})
    opers = list(settings.opers)
    from_env = os.environ.get("HUBBUB_OPER")
    given = [("--oper", item) for item in args.oper]
    for source, item in [*given, *([("HUBBUB_OPER", from_env)] if from_env else [])]:
        name, sep, password = item.partition(":")
        if not sep or not name or not password:
            # Not echoed: what was typed may be the password alone.
            raise ConfigError(f"{source}: expected NAME:PASSWORD")
        opers.append(Oper(name, password))
    changes["opers"] = tuple(opers)
    if args.no_plain:
        changes["plain"] = None
    elif args.plain_host is not None or args.plain_port is not None:
        base = settings.plain or Listen("127.0.0.1", 8080)
        changes["plain"] = Listen(
            args.plain_host or base.host,
            args.plain_port if args.plain_port is not None else base.port,
        )
    # A port or host given turns the listener on even beside --no-web, so that a wrapper
    # (irctest's, say) can add the listener to a command line that turns it off.
    if args.web_host is not None or args.web_port is not None:
        base = settings.web or Listen("127.0.0.1", 8081)
        changes["web"] = Listen(
            args.web_host or base.host,
            args.web_port if args.web_port is not None else base.port,
        )
    elif args.no_web:
        changes["web"] = None
    if args.web_origin:
        changes["web_origins"] = (*settings.web_origins, *args.web_origin)
    if args.plain_room is not None:
        changes["plain_room"] = args.plain_room
    if args.language is not None:
        changes["language"] = args.language
    if args.trusted:
        changes["trusted"] = (*settings.trusted, *args.trusted)
    if args.cluster is not None or args.node is not None:
        known = settings.cluster or Cluster(urls=())
        urls = args.cluster.split(",") if args.cluster is not None else known.urls
        changes["cluster"] = dataclasses.replace(
            known, urls=tuple(urls), node=args.node if args.node is not None else known.node
        )
    return validate(settings.replace(**changes))


def _where_settings(args: argparse.Namespace) -> Settings:
    """The config file, then the flags of :func:`_where_options` (not validated yet).

    Raises:
        ConfigError: an invalid config file or flag.
    """
    # Completed by the flags below, and validated whole by the caller.
    settings = load_config(args.config, complete=False) if args.config else Settings()
    simple = {
        "data_dir": args.data_dir,
        "casemapping": Casemapping(args.casemapping) if args.casemapping else None,
        "database_url": args.database_url or os.environ.get("HUBBUB_DATABASE_URL") or None,
    }
    changes: dict[str, Any] = {key: value for key, value in simple.items() if value is not None}
    limits = [*args.limit, *getattr(args, "more_limits", ())]
    if limits:
        changes["limits"] = limits_from_flags(settings.limits, limits)
    return settings.replace(**changes)


def serve(args: argparse.Namespace) -> int:
    from hubbub.server import Server

    try:
        settings = settings_from(args)
    except ConfigError as error:
        _complain("hubbub", error)
        return 2
    logs.configure(settings.log_level, settings.log_format)
    if args.password is not None or args.oper:
        logging.getLogger("hubbub").warning(
            "a password given as a flag is visible to every user of this machine (ps): "
            "use HUBBUB_PASSWORD, HUBBUB_OPER or the config file"
        )

    async def main() -> None:
        try:
            server = Server(settings, reload=lambda: settings_from(args))
        except ConfigError as error:
            _complain("hubbub", error)
            raise SystemExit(2) from None
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, server.stop)
        loop.add_signal_handler(signal.SIGTERM, server.stop)
        loop.add_signal_handler(signal.SIGHUP, server.rehash)
        await server.run()

    run: Callable[[Coroutine[Any, Any, None]], None]
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    try:
        run(main())
    except OSError as error:
        print(f"hubbub: cannot listen: {error.strerror}", file=sys.stderr)
        return 1
    except StorageError as error:
        print(f"hubbub: cannot open the database: {error}", file=sys.stderr)
        return 1
    except ClusterUnreachable as error:
        print(f"hubbub: cannot join the cluster: {error}", file=sys.stderr)
        return 1
    return 0


def chat(args: argparse.Namespace) -> int:
    from hubbub.client.app import ChatConfigError, main

    try:
        main(
            args.address,
            nick=args.nick,
            join=args.join,
            plain=args.plain,
            device=args.device,
            config=args.config,
            insecure=args.insecure,
            log_file=args.log_file,
        )
    except ChatConfigError as error:
        print(f"hubbub chat: {error}", file=sys.stderr)
        return 2
    return 0


def _complain(program: str, error: ConfigError) -> None:
    """A config error's every line (one per mistake), each naming the program."""
    for line in str(error).split("\n"):
        print(f"{program}: {shown_text(line)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "chat":
        return chat(args)
    if args.command in ("account", "admin"):
        try:
            settings = validate(_where_settings(args))
        except ConfigError as error:
            _complain(f"hubbub {args.command}", error)
            return 2
        return admin.run(args, settings, program=f"hubbub {args.command}")
    if args.command == "mkpasswd":
        return config_admin.mkpasswd()
    if args.command == "config":
        return config_admin.run(args)
    if args.command == "mkcert":
        return mkcert.run(args)
    if args.command == "cluster":
        return cluster_admin.run(args)
    # No command is a usage error (as argparse's own): the usage, and what to try.
    build_parser().print_usage(sys.stderr)
    print(
        "hubbub: a command is needed; start with 'hubbub serve' ('hubbub --help' lists them)",
        file=sys.stderr,
    )
    return 2
