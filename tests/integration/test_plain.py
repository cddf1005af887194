"""The plain-text door over real sockets: the seed's own client, nc-like clients, IRC users.

The seed's ``client.py`` runs unmodified in a pseudo-terminal; a small bootstrap in the
child process points its fixed ``('localhost', 8080)`` at the test server's port. Raw
socket clients stand in for ``nc`` and ``telnet``, and :class:`LineClient` for IRC users.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from hubbub.server import Server
from hubbub.settings import Settings
from hubbub.wire.message import Message
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients, make_settings

ROOM = "#lobby"
SEED_CLIENT = Path(
    os.environ.get(
        "HUBBUB_SEED_CLIENT",
        Path(__file__).resolve().parents[3] / "shared" / "seed" / "client.py",
    )
)
SEED_FOUND = SEED_CLIENT.is_file()
# Runs the seed client with its connect() redirected: ('localhost', 8080) → the test port.
BOOTSTRAP = """\
import runpy, socket, sys
port, path = int(sys.argv[1]), sys.argv[2]
connect = socket.socket.connect
def redirected(self, address):
    if address == ('localhost', 8080):
        address = ('127.0.0.1', port)
    return connect(self, address)
socket.socket.connect = redirected
sys.argv = [path]
runpy.run_path(path, run_name='__main__')
"""
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
# Bytes that move a cursor, ring a bell or recolour a terminal: C0 controls but the
# newline, DEL, and the C1 controls (UTF-8 C2 80..C2 9F).
TERMINAL_CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")
HOSTILE = (
    "\x1b[2J\x1b[H\x1b]0;owned\x07\x1b[31mred\x1b[0m \x0304,01colour\x03 \x02bold\x02"
    " \x07bell\x08\x7f \x9b31mend"
)
TOO_LONG = "Your line was too long and was not sent."
PROMPT = "Enter your name: "


def settings_for(tmp_path: Path, language: str | None = "en", **limits: float) -> Settings:
    return make_settings(tmp_path, **limits).replace(language=language)


def source_nick(message: Message) -> str:
    return (message.source or "").partition("!")[0]


def privmsg_from(nick: str, text: str | None = None) -> Callable[[Message], bool]:
    return lambda m: (
        m.command == "PRIVMSG"
        and source_nick(m) == nick
        and (text is None or m.params[-1] == text)
    )


# -- nc-like plain clients -------------------------------------------------------------


class PlainPeer:
    """A raw socket client of the plain door, as ``nc`` would be: bytes out, lines in."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.raw = b""  # everything received, for checks on control bytes

    @classmethod
    async def open(cls, server: Server) -> PlainPeer:
        host, port = server.plain_addresses[0]
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        return cls(reader, writer)

    async def send(self, data: str | bytes, end: bytes = b"\n") -> None:
        self.writer.write((data.encode() if isinstance(data, str) else data) + end)
        await self.writer.drain()

    async def line(self, seconds: float = 5.0) -> str | None:
        """The next line without its newline, or None at end of stream."""
        async with asyncio.timeout(seconds):
            raw = await self.reader.readline()
        self.raw += raw
        if not raw:
            return None
        assert raw.endswith(b"\n"), raw  # every line the server sends ends with a newline
        return raw[:-1].decode()

    async def read_until(
        self, match: str | Callable[[str], bool], seconds: float = 5.0
    ) -> list[str]:
        """Lines up to and including the first that matches (equal text, or a predicate)."""
        check = (lambda line: line == match) if isinstance(match, str) else match
        seen: list[str] = []
        async with asyncio.timeout(seconds):
            while True:
                line = await self.line(seconds)
                if line is None:
                    raise EOFError(f"closed; saw {seen}")
                seen.append(line)
                if check(line):
                    return seen

    async def sync(self) -> list[str]:
        """Everything received before the server answered a ``/who`` sent now."""
        await self.send(f"/who {ROOM}")
        seen = await self.read_until(lambda line: line.startswith(f"In {ROOM}: "))
        return seen[:-1]

    async def login(self, name: str) -> None:
        await self.read_until(PROMPT)
        await self.send(name)
        await self.read_until(lambda line: line.startswith(f"Welcome, {name}!"))

    async def rest(self, seconds: float = 5.0) -> list[str]:
        """Every line until the server closes the connection."""
        seen: list[str] = []
        async with asyncio.timeout(seconds):
            while (line := await self.line(seconds)) is not None:
                seen.append(line)
        return seen

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


class Peers:
    """Opens plain clients and closes all of them at teardown."""

    def __init__(self) -> None:
        self.opened: list[PlainPeer] = []

    async def open(self, server: Server) -> PlainPeer:
        peer = await PlainPeer.open(server)
        self.opened.append(peer)
        return peer

    async def connect(self, server: Server, name: str) -> PlainPeer:
        peer = await self.open(server)
        await peer.login(name)
        return peer

    async def close_all(self) -> None:
        for peer in self.opened:
            await peer.close()


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    opened = Peers()
    try:
        yield opened
    finally:
        await opened.close_all()


async def still_chatting(bob: PlainPeer, carol: LineClient, tag: str) -> None:
    """bob (plain) and carol (IRC) in the default room still talk both ways."""
    await bob.send(f"{tag}: bob to carol")
    await carol.read_until(privmsg_from("bob", f"{tag}: bob to carol"))
    await carol.send(f"PRIVMSG {ROOM} :{tag}: carol to bob")
    await bob.read_until(f"carol: {tag}: carol to bob")


# -- the seed's client in a pseudo-terminal --------------------------------------------


class Terminal:
    """The seed's ``client.py`` on a pseudo-terminal: a keyboard, and the screen's text."""

    def __init__(self, process: asyncio.subprocess.Process, master: int) -> None:
        self.process = process
        self.master = master
        self.output = b""
        self.ended = False
        self._changed = asyncio.Event()
        asyncio.get_running_loop().add_reader(master, self._readable)

    @classmethod
    async def start(cls, port: int, lang: str) -> Terminal:
        env = {k: v for k, v in os.environ.items() if k not in LOCALE_VARIABLES}
        env.update(LANG=lang, PYTHONUTF8="1", PYTHONUNBUFFERED="1")
        master, slave = os.openpty()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                BOOTSTRAP,
                str(port),
                str(SEED_CLIENT),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                start_new_session=True,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        return cls(process, master)

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        if not data:
            self.ended = True
            asyncio.get_running_loop().remove_reader(self.master)
        self.output += data
        self._changed.set()

    @property
    def screen(self) -> str:
        return self.output.decode("utf-8", "replace").replace("\r\n", "\n")

    @property
    def lines(self) -> list[str]:
        """The screen's finished lines (the one the cursor is on is left out)."""
        return self.screen.split("\n")[:-1]

    async def wait_for(self, check: Callable[[Terminal], bool], seconds: float = 5.0) -> None:
        async with asyncio.timeout(seconds):
            while not check(self):
                if self.ended:
                    raise EOFError(f"the client ended; screen: {self.screen!r}")
                self._changed.clear()
                await self._changed.wait()

    async def wait_for_line(self, line: str, seconds: float = 5.0) -> None:
        """Until ``line`` is on the screen as a whole line of its own."""
        try:
            await self.wait_for(lambda t: line in t.lines, seconds)
        except TimeoutError:
            pytest.fail(f"{line!r} never showed as a line; screen: {self.lines!r}")

    async def wait_for_text(self, text: str, seconds: float = 5.0) -> None:
        await self.wait_for(lambda t: text in t.screen, seconds)

    def type(self, text: str) -> None:
        """Type a line and press Enter."""
        os.write(self.master, text.encode() + b"\n")

    async def quit(self) -> None:
        """Close the client as a user closing the window would."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
        async with asyncio.timeout(5):
            await self.process.wait()

    async def close(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        async with asyncio.timeout(5):
            await self.process.wait()
        if not self.ended:
            asyncio.get_running_loop().remove_reader(self.master)
        os.close(self.master)


class Terminals:
    def __init__(self) -> None:
        self.started: list[Terminal] = []

    async def start(self, server: Server, lang: str = "ru_RU.UTF-8") -> Terminal:
        if not SEED_FOUND:
            pytest.skip(f"the seed client is not at {SEED_CLIENT} (set HUBBUB_SEED_CLIENT)")
        terminal = await Terminal.start(server.plain_addresses[0][1], lang)
        self.started.append(terminal)
        return terminal


@pytest.fixture
async def terminals() -> AsyncIterator[Terminals]:
    started = Terminals()
    try:
        yield started
    finally:
        for terminal in started.started:
            await terminal.close()


async def seed_login(terminal: Terminal, name: str, welcome: str) -> None:
    """At the seed's own prompt, type the name; wait for the server's welcome."""
    await terminal.wait_for_text("Введите ваше имя: ")
    terminal.type(name)
    await terminal.wait_for_line(welcome)


def assert_lines_apart(terminal: Terminal, *texts: str) -> None:
    """Each server text is a whole line: nothing else shares a line with it."""
    for line in terminal.lines:
        for text in texts:
            if text in line:
                assert line == text, f"{text!r} ran together with other text: {line!r}"


@pytest.fixture
def russian_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LOCALE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")


async def test_two_seed_clients_chat_in_russian_every_line_apart(
    tmp_path: Path, terminals: Terminals
) -> None:
    async with running_server(settings_for(tmp_path, "ru")) as server:
        anna = await terminals.start(server)
        boris = await terminals.start(server)
        await seed_login(anna, "Анна", "Добро пожаловать, Анна! Вы в #lobby. Команды: /help.")
        await seed_login(boris, "Борис", "Добро пожаловать, Борис! Вы в #lobby. Команды: /help.")
        # Both saw the server's prompt, on a line of its own.
        await anna.wait_for_line("Введите ваше имя: ")
        await boris.wait_for_line("Введите ваше имя: ")
        await anna.wait_for_line("Борис подключился к чату!")

        anna.type("привет, Борис")
        await boris.wait_for_line("Анна: привет, Борис")
        boris.type("привет, Анна! как дела?")
        await anna.wait_for_line("Борис: привет, Анна! как дела?")
        # Typed seconds apart: each its own line (the seed sends no newline at all).
        await asyncio.sleep(1.0)  # a person reading the reply before typing again
        anna.type("хорошо")
        await boris.wait_for_line("Анна: хорошо")
        await asyncio.sleep(1.0)
        anna.type("а у тебя?")
        await boris.wait_for_line("Анна: а у тебя?")

        await anna.quit()
        await boris.wait_for_line("Анна отключился (Connection closed).")
        for terminal, name in ((anna, "Анна"), (boris, "Борис")):
            prompts = [line for line in terminal.lines if "Введите ваше имя: " in line]
            # The seed's own prompt with the typed name, then the server's, alone.
            assert prompts == [f"Введите ваше имя: {name}", "Введите ваше имя: "]
        assert_lines_apart(
            boris,
            "Анна: привет, Борис",
            "Анна: хорошо",
            "Анна: а у тебя?",
            "Анна отключился (Connection closed).",
        )
        assert_lines_apart(anna, "Борис подключился к чату!", "Борис: привет, Анна! как дела?")
        # Nothing one user typed showed up twice on the other's screen.
        assert boris.lines.count("Анна: хорошо") == 1


async def test_a_seed_client_under_lang_ru_meets_an_irc_user(
    tmp_path: Path, terminals: Terminals, clients: Clients, russian_environment: None
) -> None:
    """No language setting: LANG=ru_RU.UTF-8 in the server's environment picks Russian."""
    async with running_server(settings_for(tmp_path, None)) as server:
        carol = await clients.connect(server, "carol", ROOM)
        anna = await terminals.start(server)
        await seed_login(anna, "Анна", "Добро пожаловать, Анна! Вы в #lobby. Команды: /help.")
        await anna.wait_for_line("Введите ваше имя: ")
        await carol.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "Анна")

        anna.type("привет из терминала")
        got = await carol.read_until("PRIVMSG")
        assert source_nick(got[-1]) == "Анна"
        assert got[-1].params == (ROOM, "привет из терминала")
        await carol.send(f"PRIVMSG {ROOM} :привет из IRC")
        await anna.wait_for_line("carol: привет из IRC")
        await carol.send("PRIVMSG Анна :лично")
        await anna.wait_for_line("[лично] carol: лично")
        await carol.send("QUIT :пока")
        await anna.wait_for_line("carol отключился (Quit: пока).")


async def test_a_seed_client_in_english_sees_the_english_door(
    tmp_path: Path, terminals: Terminals, peers: Peers
) -> None:
    async with running_server(settings_for(tmp_path, "en")) as server:
        bob = await peers.connect(server, "bob")
        alice = await terminals.start(server, "en_US.UTF-8")
        await seed_login(
            alice, "alice", "Welcome, alice! You are in #lobby. Type /help for commands."
        )
        await alice.wait_for_line(PROMPT)
        await bob.read_until("alice joined the chat!")
        alice.type("/help")
        await alice.wait_for_line("Anything else you type is said in your current room.")
        alice.type("/me waves")
        await bob.read_until("* alice waves")
        await bob.send("hi alice")
        await alice.wait_for_line("bob: hi alice")
        await alice.quit()
        await bob.read_until("alice left (Connection closed).")


# -- plain and IRC users in one room ---------------------------------------------------


async def test_plain_and_irc_users_talk_in_the_default_room_both_ways(
    tmp_path: Path, peers: Peers, clients: Clients
) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        alice = await peers.connect(server, "alice")
        bob = await clients.connect(server, "bob", ROOM)
        await alice.read_until("bob joined the chat!")
        dave = await peers.connect(server, "Давид")
        await alice.read_until("Давид joined the chat!")
        await bob.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "Давид")

        await alice.send("hi bob")
        got = await bob.read_until("PRIVMSG")
        assert got[-1].source == "alice!~alice@127.0.0.1"
        assert got[-1].params == (ROOM, "hi bob")
        await dave.read_until("alice: hi bob")

        await bob.send(f"PRIVMSG {ROOM} :hi alice, привет Давид")
        await alice.read_until("bob: hi alice, привет Давид")
        await dave.read_until("bob: hi alice, привет Давид")

        await dave.send("/me машет")
        got = await bob.read_until("PRIVMSG")
        assert source_nick(got[-1]) == "Давид"
        assert got[-1].params == (ROOM, "\x01ACTION машет\x01")
        await bob.send(f"PRIVMSG {ROOM} :\x01ACTION waves back\x01")
        assert await alice.read_until("* bob waves back") == ["* Давид машет", "* bob waves back"]
        assert await alice.sync() == []


async def test_private_messages_go_both_ways_between_plain_and_irc(
    tmp_path: Path, peers: Peers, clients: Clients
) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        alice = await peers.connect(server, "alice")
        bob = await clients.connect(server, "bob")
        dave = await peers.connect(server, "dave")
        await alice.sync()

        await bob.send("PRIVMSG alice :psst, alice")
        assert await alice.read_until("[private] bob: psst, alice") == [
            "[private] bob: psst, alice"
        ]
        await alice.send("/msg bob psst back")
        got = await bob.read_until("PRIVMSG")
        assert source_nick(got[-1]) == "alice"
        assert got[-1].params == ("bob", "psst back")
        await bob.send("NOTICE alice :a notice")
        await alice.read_until("[private] -bob- a notice")
        await alice.send("/msg nobody hello?")
        await alice.read_until("There is nobody called nobody.")
        # Private means private: the third user saw none of it.
        assert await dave.sync() == []


async def test_nick_changes_are_seen_on_both_sides(
    tmp_path: Path, peers: Peers, clients: Clients
) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        alice = await peers.connect(server, "alice")
        bob = await clients.connect(server, "bob", ROOM)
        await alice.read_until("bob joined the chat!")

        await alice.send("/nick Алиса")
        await alice.read_until("You are now Алиса.")
        got = await bob.read_until("NICK")
        assert source_nick(got[-1]) == "alice"
        assert got[-1].params == ("Алиса",)
        await bob.send("NICK robert")
        await alice.read_until("bob is now known as robert")

        await alice.send("as Алиса")
        got = await bob.read_until("PRIVMSG")
        assert source_nick(got[-1]) == "Алиса"
        await bob.send("PRIVMSG Алиса :as robert")
        await alice.read_until("[private] robert: as robert")
        # The old name is free again, and taken names are refused with a reason.
        await alice.send("/nick robert")
        await alice.read_until("The name robert is taken. Try another one.")
        await bob.send("NICK alice")
        await alice.read_until("robert is now known as alice")


async def test_rooms_topics_kicks_and_quits_cross_the_doors(
    tmp_path: Path, peers: Peers, clients: Clients
) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        bob = await clients.connect(server, "bob", "#dev")
        alice = await peers.connect(server, "alice")
        await alice.send("/join dev")
        await alice.read_until("You are now in #dev.")
        await bob.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "alice")
        await alice.send("/rooms")
        assert await alice.read_until(f"  {ROOM} (1)") == ["Rooms:", "  #dev (2)", f"  {ROOM} (1)"]

        await bob.send("TOPIC #dev :release day")
        await alice.read_until("bob changed the topic of #dev: release day")
        await alice.send("in dev")
        got = await bob.read_until("PRIVMSG")
        assert got[-1].params == ("#dev", "in dev")

        await bob.send("KICK #dev alice :too chatty")
        await alice.read_until("You were kicked from #dev by bob: too chatty")
        await bob.send(f"JOIN {ROOM}")
        await alice.read_until("bob joined the chat!")
        await alice.send("back in the lobby")
        got = await bob.read_until(privmsg_from("alice"))
        assert got[-1].params == (ROOM, "back in the lobby")

        await bob.send(f"PART {ROOM} :brb")
        await alice.read_until(f"bob left {ROOM} (brb)")
        await bob.send(f"JOIN {ROOM}")
        await alice.read_until("bob joined the chat!")
        await alice.send("/quit bedtime")
        assert await alice.rest() == ["bedtime"]
        got = await bob.read_until("QUIT")
        assert source_nick(got[-1]) == "alice"
        assert got[-1].params == ("bedtime",)


async def test_an_irc_user_quitting_is_announced_to_plain_users(
    tmp_path: Path, peers: Peers, clients: Clients
) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        alice = await peers.connect(server, "alice")
        bob = await clients.connect(server, "bob", ROOM)
        await alice.read_until("bob joined the chat!")
        await bob.send("QUIT :\x1b[2Jbye\u2067 \u202eenod\x07")
        got = await alice.read_until(lambda line: line.startswith("bob left"))
        # What IRC users read of the reason, less what could drive the terminal.
        assert got == ["bob left (Quit: bye enod)."]
        assert TERMINAL_CONTROL.search(alice.raw) is None
        assert "\u202e" not in alice.raw.decode()


# -- hostile input ---------------------------------------------------------------------


@pytest.fixture
async def chatting(
    tmp_path: Path, peers: Peers, clients: Clients
) -> AsyncIterator[tuple[Server, PlainPeer, LineClient]]:
    """A server where bob (plain) and carol (IRC) chat in the default room."""
    async with running_server(settings_for(tmp_path, registration_timeout=1.0)) as server:
        bob = await peers.connect(server, "bob")
        carol = await clients.connect(server, "carol", ROOM)
        await bob.read_until("carol joined the chat!")
        await still_chatting(bob, carol, "before")
        yield server, bob, carol


async def test_a_blank_name_gets_the_reason_and_the_prompt_again(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers
) -> None:
    server, bob, carol = chatting
    mallory = await peers.open(server)
    await mallory.read_until(PROMPT)
    await mallory.send("   \t ")
    assert await mallory.read_until(PROMPT) == ["The name cannot be empty.", PROMPT]
    await still_chatting(bob, carol, "after")
    await mallory.send("mallory")
    await bob.read_until("mallory joined the chat!")


async def test_pressing_enter_at_the_name_prompt_gets_the_reason_and_the_prompt_again(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers
) -> None:
    server, bob, carol = chatting
    mallory = await peers.open(server)
    await mallory.read_until(PROMPT)
    await mallory.send(b"")
    assert await mallory.read_until(PROMPT, seconds=3) == ["The name cannot be empty.", PROMPT]
    await still_chatting(bob, carol, "after")


async def test_a_huge_name_gets_a_reply_and_the_prompt_again(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers
) -> None:
    server, bob, carol = chatting
    mallory = await peers.open(server)
    await mallory.read_until(PROMPT)
    await mallory.send("m" * 5000)
    assert await mallory.read_until(PROMPT) == [TOO_LONG, PROMPT]
    await mallory.send("m" * 100)
    assert await mallory.read_until(PROMPT) == [
        "The name " + "m" * 100 + " is not allowed: nickname longer than 30 characters.",
        PROMPT,
    ]
    await still_chatting(bob, carol, "after")
    await mallory.send("mallory")
    await bob.read_until("mallory joined the chat!")


async def test_a_huge_name_sent_without_a_newline_gets_a_reply(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers
) -> None:
    """The seed's client sends its name with no newline: a 5000-character one too."""
    server, bob, carol = chatting
    mallory = await peers.open(server)
    await mallory.read_until(PROMPT)
    await mallory.send("m" * 5000, end=b"")
    assert await mallory.read_until(PROMPT, seconds=3) == [TOO_LONG, PROMPT]
    await mallory.send("mallory", end=b"")
    await mallory.read_until(lambda line: line.startswith("Welcome, mallory!"))
    await bob.read_until("mallory joined the chat!")
    await still_chatting(bob, carol, "after")


@pytest.mark.parametrize(
    "name", [b"\x1b[31m\x07", b"\x00\x01\x02\x03", b"\x1b]0;title\x07", b"\x08\x08\x7f"]
)
async def test_a_name_of_control_characters_only_is_refused(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers, name: bytes
) -> None:
    server, bob, carol = chatting
    mallory = await peers.open(server)
    await mallory.read_until(PROMPT)
    await mallory.send(name)
    assert await mallory.read_until(PROMPT) == ["The name cannot be empty.", PROMPT]
    await still_chatting(bob, carol, "after")


async def test_control_characters_in_a_name_never_reach_other_users(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers
) -> None:
    server, bob, carol = chatting
    mallory = await peers.open(server)
    await mallory.read_until(PROMPT)
    await mallory.send(b"\x1b[2J\x1b]0;x\x07ev\x07il\x1b[0m")
    await mallory.read_until(lambda line: line.startswith("Welcome, evil!"))
    await bob.read_until("evil joined the chat!")
    got = await carol.read_until("JOIN")
    assert source_nick(got[-1]) == "evil"
    assert TERMINAL_CONTROL.search(bob.raw) is None
    await still_chatting(bob, carol, "after")


async def test_a_1mb_line_without_newline_gets_a_clear_reply_and_others_are_unaffected(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers
) -> None:
    server, bob, carol = chatting
    mallory = await peers.connect(server, "mallory")
    await bob.read_until("mallory joined the chat!")
    for _ in range(16):
        await mallory.send(b"A" * 65536, end=b"")
        await still_chatting(bob, carol, "during")
    # A clear reply, and the connection goes on.
    # Lines said before mallory came (the room's recent history) and since are skipped.
    got = await mallory.read_until(
        lambda line: not line.startswith(("bob: ", "carol: ", "  ", "Recently in")), 3
    )
    assert got[-1] == TOO_LONG
    await mallory.send("still here")
    await bob.read_until("mallory: still here")
    await mallory.send("/who")
    assert await mallory.read_until(lambda line: line.startswith("In #lobby")) == [
        "In #lobby: @bob, carol, mallory"
    ]
    await still_chatting(bob, carol, "after")
    assert b"AAAA" not in bob.raw


async def test_a_1mb_line_with_a_newline_is_refused_and_the_connection_goes_on(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers
) -> None:
    server, bob, carol = chatting
    mallory = await peers.connect(server, "mallory")
    await bob.read_until("mallory joined the chat!")
    await mallory.send(b"A" * 1_000_000)
    got = await mallory.read_until(TOO_LONG)
    # Only the room's recent history may come before the reply.
    assert got[-1] == TOO_LONG
    assert all(line.startswith(("  ", "Recently in")) for line in got[:-1])
    await mallory.send("still here")
    await bob.read_until("mallory: still here")
    await still_chatting(bob, carol, "after")
    assert b"AAAA" not in bob.raw


def garbage(size: int, seed: int) -> bytes:
    """Random bytes without line terminators."""
    data = random.Random(seed).randbytes(size)
    return data.replace(b"\n", b"?").replace(b"\r", b"?")


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_binary_garbage_is_relayed_cleaned_and_nobody_is_disturbed(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers, seed: int
) -> None:
    server, bob, carol = chatting
    mallory = await peers.open(server)
    await mallory.read_until(PROMPT)
    await mallory.send(garbage(200, seed))
    assert (await mallory.read_until(PROMPT))[-1] == PROMPT
    await mallory.send("mallory")
    await bob.read_until("mallory joined the chat!")
    await mallory.send(garbage(2000, seed))
    await mallory.send("done")
    got = await bob.read_until("mallory: done")
    assert len(got) > 1
    assert all(line.startswith("mallory: ") for line in got)
    assert TERMINAL_CONTROL.search(bob.raw) is None
    relayed = await carol.read_until(privmsg_from("mallory", "done"))
    assert all(len(m.params[-1].encode()) < 512 for m in relayed)
    await still_chatting(bob, carol, "after")


async def test_invalid_utf8_is_replaced_for_everyone(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers
) -> None:
    server, bob, carol = chatting
    mallory = await peers.connect(server, "mallory")
    await bob.read_until("mallory joined the chat!")
    await mallory.send(b"caf\xc3 \xff\xfe ok \xe2\x82")
    await bob.read_until("mallory: caf\ufffd \ufffd\ufffd ok \ufffd")
    got = await carol.read_until(privmsg_from("mallory"))
    assert got[-1].params == (ROOM, "caf\ufffd \ufffd\ufffd ok \ufffd")


async def test_a_paste_of_lines_without_a_final_newline_is_one_message_a_line(
    chatting: tuple[Server, PlainPeer, LineClient],
) -> None:
    _server, bob, carol = chatting
    # One chunk, as nc sends a paste whose last line has no newline yet: the lines before
    # end at their newlines, the last one at the pause after it (plain_pause).
    await bob.send("uno\r\ndos\ntres", end=b"")
    got = await carol.read_until(privmsg_from("bob", "tres"))
    said = [m.params for m in got if m.command == "PRIVMSG"]
    assert said == [(ROOM, "uno"), (ROOM, "dos"), (ROOM, "tres")]
    await still_chatting(bob, carol, "after")


async def test_a_utf8_character_split_across_a_pause_is_not_broken(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers
) -> None:
    server, bob, _carol = chatting
    mallory = await peers.connect(server, "mallory")
    await bob.read_until("mallory joined the chat!")
    word = "привет".encode()
    await mallory.send(word[:3], end=b"")  # "п" and half of "р"
    # The pause is the input here: longer than plain_pause, so "п" is taken as a line
    # and the half character is held for the rest of its bytes.
    await asyncio.sleep(0.6)
    await mallory.send(word[3:], end=b"")
    assert await bob.read_until("mallory: ривет") == ["mallory: п", "mallory: ривет"]


async def test_escape_sequences_in_messages_never_reach_a_plain_terminal(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers
) -> None:
    server, bob, carol = chatting
    mallory = await peers.connect(server, "mallory")
    await bob.read_until("mallory joined the chat!")
    await mallory.send(HOSTILE)
    await bob.read_until("mallory: red colour bold bell end")
    got = await carol.read_until(privmsg_from("mallory"))
    assert "\x1b" not in got[-1].params[-1]
    await carol.send(f"PRIVMSG {ROOM} :{HOSTILE}")
    await carol.send(f"NOTICE {ROOM} :{HOSTILE}")
    await carol.send(f"PRIVMSG bob :\x01ACTION {HOSTILE}\x01")
    await bob.read_until("carol: red colour bold bell end")
    await bob.read_until("-carol- red colour bold bell end")
    await bob.read_until("[private] * carol red colour bold bell end")
    for byte in (b"\x1b", b"\x03", b"\x07", b"\x02", b"\x08", b"\x7f", b"\xc2\x9b"):
        assert byte not in bob.raw
    assert TERMINAL_CONTROL.search(bob.raw) is None
    await still_chatting(bob, carol, "after")


async def test_a_client_that_never_sends_is_closed_after_the_registration_timeout(
    chatting: tuple[Server, PlainPeer, LineClient], peers: Peers
) -> None:
    server, bob, carol = chatting
    silent = await peers.open(server)
    half_named = await peers.open(server)
    await half_named.read_until(PROMPT)
    await still_chatting(bob, carol, "meanwhile")
    assert await silent.rest() == [PROMPT, "Registration timeout"]
    assert await half_named.rest() == ["Registration timeout"]
    await still_chatting(bob, carol, "after")
    # A named user who then says nothing is not cut off: plain clients cannot answer PING.
    await bob.send("/who")
    assert (await bob.read_until(lambda line: line.startswith("In #lobby")))[-1] == (
        "In #lobby: @bob, carol"
    )


async def test_a_client_that_never_reads_is_cut_off_at_its_sendq_and_others_get_everything(
    tmp_path: Path, peers: Peers, clients: Clients
) -> None:
    settings = settings_for(tmp_path, sendq=262_144, flood_rate=0)
    async with running_server(settings) as server:
        alice = await peers.connect(server, "alice")
        bob = await peers.connect(server, "bob")
        carol = await clients.connect(server, "carol", ROOM)
        slow = await open_slow_reader(server, peers)
        await slow.login("slow")
        await alice.read_until("slow joined the chat!")
        await bob.read_until("slow joined the chat!")
        await alice.sync()
        await bob.sync()
        transport = slow.writer.transport
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()

        sent = 0
        alice_got: list[str] = []
        bob_got: list[str] = []
        pad = "👋" * 95  # 4 bytes a character: few characters for the server to clean
        cut_off = "slow left (SendQ exceeded)."
        async with asyncio.timeout(9):
            while cut_off not in alice_got or cut_off not in bob_got:
                assert sent < 20_000, "the slow client was never cut off"
                batch = range(sent, sent + 150)
                alice.writer.write(b"".join(f"a{i} {pad}\n".encode() for i in batch))
                bob.writer.write(b"".join(f"b{i} {pad}\n".encode() for i in batch))
                await alice.writer.drain()
                await bob.writer.drain()
                sent += 150
                bob_got += await bob.read_until(f"alice: a{sent - 1} {pad}")
                alice_got += await alice.read_until(f"bob: b{sent - 1} {pad}")

        # Nothing was lost, nothing came out of order, for the two who kept reading.
        assert [line for line in alice_got if line != cut_off] == [
            f"bob: b{i} {pad}" for i in range(sent)
        ]
        assert [line for line in bob_got if line != cut_off] == [
            f"alice: a{i} {pad}" for i in range(sent)
        ]
        quits = await carol.read_until(lambda m: m.command == "QUIT", seconds=8)
        assert source_nick(quits[-1]) == "slow"
        assert "SendQ exceeded" in quits[-1].params[0]
        await alice.send("still here")
        await bob.read_until("alice: still here")
        await still_chatting(bob, carol, "after")


async def open_slow_reader(server: Server, peers: Peers) -> PlainPeer:
    """A plain client with a tiny receive window, so unread output backs up at the server."""
    with socket_with_small_window() as sock:
        host, port = server.plain_addresses[0]
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 16)
    peer = PlainPeer(reader, writer)
    peers.opened.append(peer)
    return peer


@contextlib.contextmanager
def socket_with_small_window() -> Iterator[socket.socket]:
    """A non-blocking TCP socket with a 4 KB receive buffer; closed if not handed over."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        yield sock
    except BaseException:
        sock.close()
        raise


@pytest.mark.parametrize(("line_length", "pieces"), [(512, 2), (2048, 1)])
async def test_a_long_plain_line_is_cut_to_fit_the_servers_line_length(
    tmp_path: Path, peers: Peers, clients: Clients, line_length: int, pieces: int
) -> None:
    async with running_server(settings_for(tmp_path, line_length=line_length)) as server:
        bob = await peers.connect(server, "bob")
        carol = await clients.connect(server, "carol", ROOM)
        await bob.read_until("carol joined the chat!")
        text = " ".join(["word"] * 180)  # 899 characters
        await bob.send(text)
        await bob.send("done")
        relayed = await carol.read_until(privmsg_from("bob", "done"))
        said = [m.params[-1] for m in relayed if m.command == "PRIVMSG"][:-1]
        assert len(said) == pieces
        assert " ".join(said) == text
        assert all(len(m.params[-1].encode()) < line_length for m in relayed)


async def test_whois_shows_the_display_name_and_status_set_over_irc(
    server: Server, peers: Peers, clients: Clients
) -> None:
    alice = await clients.open(server)
    await alice.register("alice")
    await alice.send(
        "METADATA * SET display-name :Alice \x1b[31mLiddell",  # refused: a control byte
        "METADATA * SET display-name :Alice Liddell",
        "METADATA * SET status :reading",
        "METADATA * SET private.note :not for bob",
    )
    await alice.sync()
    bob = await peers.connect(server, "bob")
    await bob.send("/whois alice")
    assert await bob.read_until("Status of alice: reading") == [
        "alice is called Alice Liddell.",
        "Status of alice: reading",
    ]
    await bob.send("/whois nobody")
    await bob.read_until("There is nobody called nobody.")
    await bob.send("/whois")
    await bob.read_until("Usage: /whois name")
    await bob.send("/whois bob")
    await bob.read_until("bob has set no display name or status.")
    assert b"not for bob" not in bob.raw
