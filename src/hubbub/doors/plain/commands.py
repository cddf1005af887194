"""Slash commands of the plain door: /join /part /rooms /who /whois /msg /me /nick /topic
/quit /help."""

from __future__ import annotations

from collections.abc import Callable

from hubbub.core.errors import ChatError
from hubbub.core.metadata import readable_key
from hubbub.doors.plain.ports import SessionView
from hubbub.doors.plain.render import refusal_text

Handler = Callable[[SessionView, str], None]
COMMANDS: dict[str, Handler] = {}
# Room listings are cut here: a plain terminal is no place for thousands of lines.
_MAX_LISTED = 50
# Rooms or names a listing goes through for the price of one line of flood control (as
# IRC's WHO and LIST: :data:`hubbub.doors.irc.command.SEARCHED_PER_LINE`).
_SEARCHED_PER_LINE = 100


def command(*names: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in names:
            COMMANDS[name] = handler
        return handler

    return register


def run(session: SessionView, text: str) -> None:
    """Run one ``/command arguments`` line."""
    name, _, arguments = text[1:].partition(" ")
    handler = COMMANDS.get(name.lower())
    if handler is None:
        message = session.ctx._("Unknown command /{command}. Type /help for the list.")
        session.tell(message.format(command=name))
        return
    try:
        handler(session, arguments.strip())
    except ChatError as error:
        session.tell(refusal_text(session.ctx, error))


def _room_name(argument: str) -> str:
    return argument if argument.startswith("#") else "#" + argument


@command("join", "j")
def join(session: SessionView, arguments: str) -> None:
    if not arguments:
        session.tell(session.ctx._("Usage: /join #room"))
        return
    session.join(_room_name(arguments.split()[0]))


@command("part", "leave")
def part(session: SessionView, arguments: str) -> None:
    user = session.user
    assert user is not None
    given, _, reason = arguments.partition(" ")
    room = _room_name(given) if given else session.room
    if room is None:
        session.tell(session.ctx._("You are not in a room. Use /join #room."))
        return
    session.ctx.hub.part(user, room, reason)
    session.forget_room(room)
    session.tell(session.ctx._("You left {room}.").format(room=room))
    if session.room is not None:
        session.tell(session.ctx._("You are now in {room}.").format(room=session.room))


@command("rooms", "list")
def rooms(session: SessionView, arguments: str) -> None:
    user = session.user
    assert user is not None
    visible = [c for c in session.ctx.hub.channels.values() if c.shown_to(user)]
    visible.sort(key=lambda c: -len(c.members))
    session.tell(session.ctx._("Rooms:"))
    for channel in visible[:_MAX_LISTED]:
        topic = f" - {channel.topic.text}" if channel.topic else ""
        session.tell(f"  {channel.name} ({len(channel.members)}){topic}")
    session.spend(len(visible) // _SEARCHED_PER_LINE)


@command("who", "names")
def who(session: SessionView, arguments: str) -> None:
    user = session.user
    assert user is not None
    room = _room_name(arguments) if arguments else session.room
    channel = session.ctx.hub.find_channel(room) if room else None
    # As IRC's NAMES: a private or secret room's members, and invisible users anywhere,
    # are shown only to those in the room.
    if channel is None or not channel.shown_to(user):
        session.tell(session.ctx._("There is no room {subject}.").format(subject=room or ""))
        return
    inside = user in channel.members
    names = sorted(
        (channel.prefix_of(m) + m.nick for m in channel.members if inside or "i" not in m.modes),
        key=str.casefold,
    )
    session.tell(
        session.ctx._("In {room}: {names}").format(room=channel.name, names=", ".join(names))
    )
    session.spend(len(names) // _SEARCHED_PER_LINE)


@command("whois")
def whois(session: SessionView, arguments: str) -> None:
    """Who someone is: the display name and status they set (draft/metadata-3 keys)."""
    user = session.user
    assert user is not None
    _ = session.ctx._
    name = arguments.split()[0] if arguments else ""
    if not name:
        session.tell(_("Usage: /whois name"))
        return
    found = session.ctx.hub.find_user(name)
    if found is None:
        session.tell(_("There is nobody called {subject}.").format(subject=name))
        return
    shown = {
        key: found.metadata[key]
        for key in ("display-name", "status")
        if key in found.metadata and readable_key(user, found, key)
    }
    if not shown:
        session.tell(_("{name} has set no display name or status.").format(name=found.nick))
        return
    if "display-name" in shown:
        line = _("{name} is called {display}.")
        session.tell(line.format(name=found.nick, display=shown["display-name"]))
    if "status" in shown:
        session.tell(
            _("Status of {name}: {status}").format(name=found.nick, status=shown["status"])
        )


@command("msg", "query")
def msg(session: SessionView, arguments: str) -> None:
    target, _, text = arguments.partition(" ")
    if not target or not text.strip():
        session.tell(session.ctx._("Usage: /msg name text"))
        return
    said_to = session.say(text.strip(), target)
    if said_to is not None:
        # Private messages are not echoed back by the server: this says it went.
        session.tell(session.ctx._("→ {name}: {text}").format(name=said_to, text=text.strip()))


@command("me")
def me(session: SessionView, arguments: str) -> None:
    if arguments:
        session.say(f"\x01ACTION {arguments}\x01")


@command("nick", "name")
def nick(session: SessionView, arguments: str) -> None:
    user = session.user
    assert user is not None
    if not arguments:
        session.tell(session.ctx._("Usage: /nick new-name"))
        return
    name = arguments.split()[0]
    if not session.refuse_owned(name):
        session.ctx.hub.change_nick(user, name)


@command("topic")
def topic(session: SessionView, arguments: str) -> None:
    user = session.user
    assert user is not None
    room = session.room
    if room is None:
        session.tell(session.ctx._("You are not in a room. Use /join #room."))
        return
    if arguments:
        session.ctx.hub.set_topic(user, room, arguments)
        return
    channel = session.ctx.hub.find_channel(room)
    if channel is None or channel.topic is None:
        session.tell(session.ctx._("{room} has no topic.").format(room=room))
    else:
        session.tell(
            session.ctx._("Topic of {room}: {topic}").format(room=room, topic=channel.topic.text)
        )


@command("quit", "exit")
def quit_(session: SessionView, arguments: str) -> None:
    session.close(arguments or "Goodbye!")


@command("help", "?")
def help_(session: SessionView, arguments: str) -> None:
    _ = session.ctx._
    session.tell(
        _("Commands:"),
        _("  /join #room        join a room (it becomes your current room)"),
        _("  /part [#room]      leave a room"),
        _("  /rooms             list the rooms"),
        _("  /who [#room]       who is in a room"),
        _("  /whois name        someone's display name and status"),
        _("  /msg name text     a private message"),
        _("  /me text           an action"),
        _("  /nick name         change your name"),
        _("  /topic [text]      show or set the topic"),
        _("  /quit [reason]     leave the chat"),
        _("Anything else you type is said in your current room."),
    )
