"""How refusals read on IRC: each core :class:`Reason` as a numeric and its text."""

from __future__ import annotations

from hubbub.core.errors import ChatError, Reason
from hubbub.wire import numerics as n

# Reason → (numeric, text). The numeric's parameters are the refusal's subject, then its
# detail for the two-name numerics (441, 443), as the modern IRC client protocol gives them.
_REFUSALS: dict[Reason, tuple[str, str]] = {
    Reason.NO_SUCH_NICK: (n.ERR_NOSUCHNICK, "No such nick/channel"),
    Reason.NO_SUCH_CHANNEL: (n.ERR_NOSUCHCHANNEL, "No such channel"),
    Reason.NICK_IN_USE: (n.ERR_NICKNAMEINUSE, "Nickname is already in use"),
    Reason.ERRONEOUS_NICK: (n.ERR_ERRONEUSNICKNAME, "Erroneous nickname"),
    Reason.BAD_CHANNEL_NAME: (n.ERR_BADCHANMASK, "Bad channel name"),
    Reason.CANNOT_SEND: (n.ERR_CANNOTSENDTOCHAN, "Cannot send to channel"),
    Reason.TOO_MANY_CHANNELS: (n.ERR_TOOMANYCHANNELS, "You have joined too many channels"),
    Reason.NOT_ON_CHANNEL: (n.ERR_NOTONCHANNEL, "You're not on that channel"),
    Reason.USER_NOT_IN_CHANNEL: (n.ERR_USERNOTINCHANNEL, "They aren't on that channel"),
    Reason.USER_ON_CHANNEL: (n.ERR_USERONCHANNEL, "is already on channel"),
    Reason.CHANOP_NEEDED: (n.ERR_CHANOPRIVSNEEDED, "You're not a channel operator"),
    Reason.CHANNEL_FULL: (n.ERR_CHANNELISFULL, "Cannot join channel (+l)"),
    Reason.INVITE_ONLY: (n.ERR_INVITEONLYCHAN, "Cannot join channel (+i)"),
    Reason.BANNED: (n.ERR_BANNEDFROMCHAN, "Cannot join channel (+b)"),
    Reason.BAD_KEY: (n.ERR_BADCHANNELKEY, "Cannot join channel (+k)"),
    Reason.LIST_FULL: (n.ERR_BANLISTFULL, "Channel list is full"),
    Reason.INVALID_MODE_PARAM: (n.ERR_INVALIDMODEPARAM, "Invalid mode parameter"),
    Reason.NO_PRIVILEGES: (n.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator"),
    Reason.USERS_DONT_MATCH: (n.ERR_USERSDONTMATCH, "Can't change mode for other users"),
    Reason.CANT_KILL_SERVER: (n.ERR_CANTKILLSERVER, "You can't kill a server!"),
    Reason.UNKNOWN_MESSAGE: (n.ERR_UNKNOWNERROR, "No such message"),
    Reason.FORBIDDEN: (n.ERR_UNKNOWNERROR, "Not allowed"),
    Reason.NAME_IN_USE: (n.ERR_UNKNOWNERROR, "That name is taken"),
    # METADATA answers these with FAIL (commands/metadata.py); other commands never meet them.
    Reason.INVALID_KEY: (n.ERR_UNKNOWNERROR, "Invalid key"),
    Reason.INVALID_VALUE: (n.ERR_UNKNOWNERROR, "Invalid value"),
    Reason.KEY_NO_PERMISSION: (n.ERR_UNKNOWNERROR, "Permission denied"),
    Reason.LIMIT_REACHED: (n.ERR_UNKNOWNERROR, "Metadata limit reached"),
}

_TWO_NAMES = frozenset({Reason.USER_NOT_IN_CHANNEL, Reason.USER_ON_CHANNEL})


def refusal(error: ChatError) -> tuple[str, list[str]]:
    """The numeric and parameters (after the client's nick) for a refusal."""
    numeric, text = _REFUSALS[error.reason]
    params = [error.subject] if error.subject else []
    if error.reason in _TWO_NAMES:
        params.append(error.detail)
    elif error.reason is Reason.INVALID_MODE_PARAM:
        # Modern IRC client protocol, ERR_INVALIDMODEPARAM:
        # "<client> <target chan/user> <mode char> <parameter> :<description>"
        params += [error.detail, "*"]
    elif error.reason is Reason.LIST_FULL:
        params.append(error.detail)
    elif error.detail:
        text = (
            f"{text}: {error.detail}"
            if error.reason is Reason.ERRONEOUS_NICK
            else (f"{text} ({error.detail})")
        )
    return numeric, [*params, text]
