"""HELP texts: one short entry per command."""

from __future__ import annotations

_ENTRIES: dict[str, str] = {
    "ADMIN": "ADMIN|Shows who runs this server.",
    "AWAY": "AWAY [:message]|Marks you as away with a message; without one, as back.",
    "CAP": "CAP LS [302] | LIST | REQ :caps | END|Negotiates IRCv3 capabilities.",
    "HELP": "HELP [command]|Shows help on a command, or the list of commands.",
    "INFO": "INFO|Shows information about this server software.",
    "INVITE": "INVITE <nick> <#channel>|Invites a user into a channel; without arguments, "
    "lists your pending invitations.",
    "ISON": "ISON <nick> [nick ...]|Tells which of the nicks are online.",
    "JOIN": "JOIN <#channel>[,#channel] [key[,key]]|Joins channels; JOIN 0 leaves them all.",
    "KICK": "KICK <#channel> <nick>[,nick] [:reason]|Removes users from a channel (operators).",
    "KILL": "KILL <nick> :<reason>|Disconnects a user (IRC operators).",
    "BATCH": "BATCH +ref draft/multiline <target> ... BATCH -ref|Sends a multi-line message.",
    "LINKS": "LINKS|Lists the servers of this network.",
    "LIST": "LIST [#chan,mask,!mask,>N,<N,C>min,C<min,T>min,T<min]|Lists channels, "
    "filtered by name, users, age or topic age.",
    "LUSERS": "LUSERS|Shows how many users and channels there are.",
    "MARKREAD": "MARKREAD <target> [timestamp=YYYY-MM-DDThh:mm:ss.sssZ]|Reads or moves your "
    "read marker (draft/read-marker).",
    "MONITOR": "MONITOR + nick[,nick] | - nick[,nick] | C | L | S|Tells you when nicks come "
    "online or leave.",
    "MODE": "MODE <#channel|nick> [modes [params]]|Shows or changes modes. Channel modes: "
    "b e I k l i m n p s t o v. User modes: i o w.",
    "MOTD": "MOTD|Shows the message of the day.",
    "NAMES": "NAMES <#channel>[,#channel]|Lists who is in channels.",
    "NICK": "NICK <nickname>|Changes your nickname.",
    "NOTICE": "NOTICE <target>[,target] :<text>|Sends a notice; it never gets an error back.",
    "OPER": "OPER <name> <password>|Makes you an IRC operator.",
    "PART": "PART <#channel>[,#channel] [:reason]|Leaves channels.",
    "PASS": "PASS <password>|Gives the server password, before NICK and USER.",
    "PING": "PING <token>|Asks the server to answer PONG with the same token.",
    "PRIVMSG": "PRIVMSG <target>[,target] :<text>|Sends a message to channels or users; "
    "@#channel reaches its operators only.",
    "QUIT": "QUIT [:reason]|Leaves the server.",
    "REDACT": "REDACT <target> <msgid> [:reason]|Withdraws a message you sent (or, as a "
    "channel operator, anyone's) (draft/message-redaction).",
    "RENAME": "RENAME <#old> <#new> [:reason]|Renames a channel (channel operators).",
    "REHASH": "REHASH|Reloads the config file (IRC operators).",
    "SETNAME": "SETNAME :<real name>|Changes your real name.",
    "TAGMSG": "TAGMSG <target>|Sends only message tags, such as typing notifications.",
    "TIME": "TIME|Shows the server's time.",
    "TOPIC": "TOPIC <#channel> [:topic]|Shows or sets a channel's topic.",
    "USER": "USER <username> 0 * :<real name>|Registers your username and real name.",
    "USERHOST": "USERHOST <nick> [nick ...]|Shows users' hostmasks.",
    "VERSION": "VERSION|Shows the server's version and features.",
    "WALLOPS": "WALLOPS :<text>|Sends a message to users with mode +w (IRC operators).",
    "WHO": "WHO <mask|#channel> [o][%fields[,token]]|Lists users matching a mask.",
    "WHOIS": "WHOIS <nick>|Shows information about a user.",
    "WHOWAS": "WHOWAS <nick> [count]|Shows who used a nickname before.",
}

HELP_TOPICS: dict[str, list[str]] = {
    name: [f"{name}: {syntax.split('|')[0]}", *syntax.split("|")[1:]]
    for name, syntax in _ENTRIES.items()
}
HELP_TOPICS["HELPOP"] = HELP_TOPICS["HELP"]

INDEX: list[str] = [
    "hubbub speaks IRC. Commands (HELP <command> for more):",
    *(" ".join(sorted(_ENTRIES)[i : i + 10]) for i in range(0, len(_ENTRIES), 10)),
]
