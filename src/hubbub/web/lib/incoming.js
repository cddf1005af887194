// What the server says, applied to the chat: each message the client receives changes
// the buffers (lines, members, topic, typing, read markers) through the Chat's own
// operations (ensure, addLine, info, emit). One function per kind of message.

import * as irc from "./irc.js";
import { Status } from "./client.js";
import { SERVER } from "./buffer.js";

const TYPING_ACTIVE_MS = 6000;
// WHOIS replies, shown in the conversation with that nick (or the one in view).
const STATUS_WHOIS = new Set([
	irc.RPL_WHOISUSER,
	irc.RPL_WHOISSERVER,
	irc.RPL_WHOISOPERATOR,
	irc.RPL_WHOISIDLE,
	irc.RPL_WHOISCHANNELS,
	irc.RPL_WHOISACCOUNT,
	irc.RPL_AWAY,
	"671",
	"276",
	"338",
	"378",
	"379",
	"760",
]);

/** A WHOIS reply as a sentence: the parameters joined as they came read as a jumble
 * ("anna anna is logged in as"). */
function whoisText(msg) {
	const [, nick = "", ...rest] = msg.params;
	const text = rest.at(-1) ?? "";
	switch (msg.command) {
		case irc.RPL_WHOISUSER:
			return `${nick} is ${rest[0]}@${rest[1]} (${text})`;
		case irc.RPL_WHOISSERVER:
			return `${nick} is on ${rest[0]} (${text})`;
		case irc.RPL_WHOISIDLE: {
			const idle = Number(rest[0]);
			const since = new Date(Number(rest[1]) * 1000);
			const sinceText = Number.isNaN(since.getTime()) ? "" : `, online since ${since.toLocaleString()}`;
			return `${nick} has been idle ${Number.isNaN(idle) ? rest[0] : idle + " s"}${sinceText}`;
		}
		case irc.RPL_WHOISCHANNELS:
			return `${nick} is in ${text}`;
		case irc.RPL_WHOISACCOUNT:
			return `${nick} ${text} ${rest[0]}`;
		case irc.RPL_AWAY:
			return `${nick} is away: ${text}`;
		case "760": // RPL_WHOISKEYVALUE (draft/metadata-3): key, visibility, value
			return `${nick} ${rest[0]}: ${text}`;
		default:
			return `${nick} ${text}`;
	}
}

/** The buffer a PRIVMSG/NOTICE/TAGMSG belongs in, or null (server notices). */
function targetOf(chat, msg) {
	let target = msg.params[0] ?? "";
	// STATUSMSG: "@#chan" is #chan, seen by its operators.
	const statusmsg = chat.client.isupport.get("STATUSMSG") ?? "";
	while (target && statusmsg.includes(target[0]) && chat.client.isChannel(target.slice(1))) target = target.slice(1);
	const from = msg.prefix.name;
	if (chat.client.isChannel(target)) return chat.ensure(target, "channel");
	if (chat.client.isMe(from)) {
		// What we said to someone: the echo of our own, or what another device of our
		// account said (multiclient). Either way it belongs with the one it was said to.
		if (chat.client.isMe(target)) return null;
		const known = chat.buffers.get(target);
		const buffer = chat.ensure(target, "query");
		if (!known) chat.loadLatest(buffer);
		return buffer;
	}
	if (!msg.prefix.user || from.includes(".") || from === "*") return null;
	const exists = chat.buffers.get(from);
	if (msg.command === "NOTICE" && !exists) return null;
	const buffer = chat.ensure(from, "query");
	if (!exists) chat.loadLatest(buffer);
	return buffer;
}

export function receive(chat, msg) {
	const p = msg.params;
	const from = msg.prefix.name;
	switch (msg.command) {
		case "PRIVMSG":
		case "NOTICE": {
			const buffer = targetOf(chat, msg) ?? (msg.command === "NOTICE" && chat.client.status === Status.REGISTERED ? chat.activeBuffer() : chat.buffers.get(SERVER));
			const text = p[1] ?? "";
			const ctcp = irc.parseCtcp(text);
			if (ctcp && ctcp.command !== "ACTION") return;
			const self = chat.client.isMe(from);
			buffer.typing.delete(from);
			chat.addLine(buffer.name, buffer, {
				kind: ctcp ? "action" : msg.command === "NOTICE" ? "notice" : "msg",
				nick: msg.prefix.user ? from : null,
				text: ctcp ? ctcp.text : text,
				self,
				mention: !self && buffer.kind !== "server" && (buffer.kind === "query" || chat.mentions(text)),
			}, msg);
			chat.emit("typing", { buffer });
			break;
		}
		case "TAGMSG": {
			const state = msg.tags["+typing"];
			if (!state || chat.client.isMe(from)) return;
			const buffer = targetOf(chat, msg);
			if (!buffer) return;
			if (state === "active") buffer.typing.set(from, Date.now() + TYPING_ACTIVE_MS);
			else buffer.typing.delete(from);
			chat.scheduleTypingExpiry();
			chat.emit("typing", { buffer });
			break;
		}
		case "JOIN":
			receiveJoin(chat, msg);
			break;
		case "PART":
		case "KICK":
			receiveLeave(chat, msg);
			break;
		case "QUIT":
			for (const buffer of chat.buffers.values()) {
				if (buffer.members.has(from) || (buffer.kind === "query" && chat.client.fold(buffer.name) === chat.client.fold(from))) {
					buffer.members.delete(from);
					buffer.typing.delete(from);
					chat.addLine(buffer.name, buffer, { kind: "quit", nick: from, text: p[0] ?? "" }, msg);
					chat.emit("members", { buffer });
				}
			}
			chat.profiles.forget(from);
			break;
		case "NICK":
			receiveNick(chat, msg);
			break;
		case "TOPIC": {
			const buffer = chat.ensure(p[0], "channel");
			buffer.topic = p[1] ?? "";
			chat.addLine(buffer.name, buffer, { kind: "topic", nick: from, text: buffer.topic }, msg);
			chat.emit("topic", { buffer });
			break;
		}
		case irc.RPL_TOPIC: {
			const buffer = chat.ensure(p[1], "channel");
			buffer.topic = p[2] ?? "";
			chat.emit("topic", { buffer });
			break;
		}
		case irc.RPL_NOTOPIC: {
			const buffer = chat.buffers.get(p[1]);
			if (buffer) {
				buffer.topic = "";
				chat.emit("topic", { buffer });
			}
			break;
		}
		case irc.RPL_NAMREPLY:
			receiveNames(chat, p[2], p[3] ?? "");
			break;
		case irc.RPL_ENDOFNAMES: {
			const buffer = chat.buffers.get(p[1]);
			if (buffer && buffer.namesPending) {
				buffer.members = buffer.namesPending;
				buffer.namesPending = null;
				chat.emit("members", { buffer });
			}
			break;
		}
		case "MODE":
			receiveMode(chat, msg);
			break;
		case "AWAY":
		case "ACCOUNT":
			for (const buffer of chat.buffers.values()) {
				const member = buffer.members.get(from);
				if (!member) continue;
				if (msg.command === "AWAY") member.away = p.length > 0;
				else member.account = p[0] === "*" ? null : p[0];
				chat.emit("members", { buffer });
			}
			break;
		case "INVITE":
			chat.info(p[1] ?? "", "invite", null, { nick: from, target: p[0] });
			break;
		case "MARKREAD": {
			const buffer = chat.buffers.get(p[0]);
			const value = (p[1] ?? "").startsWith("timestamp=") ? p[1].slice(10) : null;
			const time = value ? Date.parse(value) : NaN;
			if (buffer && !Number.isNaN(time) && (buffer.marker === null || time > buffer.marker)) {
				buffer.marker = time;
				buffer.markerText = value;
				chat.saveLocalMarker(buffer);
				chat.countUnread(buffer);
				chat.emit("buffers");
				chat.emit("lines", { buffer, marker: true });
			}
			break;
		}
		case "FAIL":
		case "WARN":
		case "NOTE":
			if (p[0] === "CHATHISTORY" || (p[0] === "REGISTER" && chat.client.status !== Status.REGISTERED)) return;
			chat.info(p.at(-1) ?? "", msg.command === "FAIL" ? "error" : "info");
			break;
		case "REGISTER":
			chat.info(p.at(-1) ?? "", "info", chat.buffers.get(SERVER));
			break;
		case irc.RPL_WELCOME:
		case "002":
		case "003":
		case irc.RPL_MOTD:
		case irc.RPL_MOTDSTART:
		case irc.RPL_LOGGEDIN:
		case irc.RPL_SASLSUCCESS:
			chat.info(p.at(-1) ?? "", "info", chat.buffers.get(SERVER), { quiet: true });
			break;
		case irc.RPL_UNAWAY:
		case irc.RPL_NOWAWAY:
			chat.info(p.at(-1) ?? "");
			break;
		case irc.RPL_LIST:
			chat.info(p[3] ?? "", "list", null, { target: p[1], count: p[2] });
			break;
		case irc.RPL_LISTSTART:
		case irc.RPL_LISTEND:
		case irc.RPL_ENDOFWHOIS:
		case irc.RPL_ENDOFMOTD:
		case irc.RPL_TOPICWHOTIME:
		case "004":
		case irc.RPL_ISUPPORT:
		case "250":
		case "251":
		case "252":
		case "253":
		case "254":
		case "255":
		case "265":
		case "266":
		case irc.RPL_UMODEIS:
		case irc.RPL_CHANNELMODEIS:
		case "329":
			break;
		default:
			receiveNumeric(chat, msg);
	}
}

function receiveNumeric(chat, msg) {
	if (!/^\d{3}$/.test(msg.command)) return;
	const p = msg.params;
	if (STATUS_WHOIS.has(msg.command)) {
		const target = chat.buffers.get(p[1]) ?? chat.activeBuffer();
		chat.info(whoisText(msg), "whois", target);
		return;
	}
	const code = Number(msg.command);
	if (code >= 400 && code < 600) {
		if (chat.client.status !== Status.REGISTERED && (msg.command === irc.ERR_NICKNAMEINUSE || code >= 902)) return;
		const subject = p.length > 2 ? p[1] + ": " : "";
		chat.info(subject + p.at(-1), "error");
	} else if (chat.client.status === Status.REGISTERED) {
		chat.info(p.slice(1).join(" "), "info", chat.buffers.get(SERVER), { quiet: true });
	}
}

function receiveJoin(chat, msg) {
	const from = msg.prefix.name;
	const name = msg.params[0];
	const buffer = chat.ensure(name, "channel");
	if (chat.client.isMe(from)) {
		buffer.joined = true;
		buffer.namesPending = null;
		buffer.members.clear();
		chat.emit("buffers");
		chat.emit("joined", { buffer });
		chat.loadLatest(buffer, true);
		return;
	}
	// extended-join: JOIN <channel> <account> :<realname>
	const account = msg.params[1] && msg.params[1] !== "*" ? msg.params[1] : null;
	buffer.members.set(from, { nick: from, prefixes: "", away: false, account });
	chat.addLine(name, buffer, { kind: "join", nick: from }, msg);
	chat.emit("members", { buffer });
}

function receiveLeave(chat, msg) {
	const kick = msg.command === "KICK";
	const name = msg.params[0];
	const who = kick ? msg.params[1] : msg.prefix.name;
	const buffer = chat.buffers.get(name);
	if (!buffer) return;
	const reason = msg.params[kick ? 2 : 1] ?? "";
	buffer.typing.delete(who);
	// Those who may now share no channel with us: their profiles are no longer followed.
	const gone = chat.client.isMe(who) ? buffer.members.values().map((m) => m.nick) : [who];
	if (chat.client.isMe(who)) {
		buffer.joined = false;
		buffer.members.clear();
		if (!kick) {
			chat.buffers.delete(name);
			if (chat.client.fold(chat.active) === chat.client.fold(name)) chat.active = SERVER;
			chat.profiles.forgetUnshared(gone);
			chat.emit("buffers");
			return;
		}
		chat.emit("buffers");
	} else {
		buffer.members.delete(who);
	}
	chat.profiles.forgetUnshared(gone);
	chat.addLine(name, buffer, { kind: kick ? "kick" : "part", nick: who, by: msg.prefix.name, text: reason }, msg);
	chat.emit("members", { buffer });
}

function receiveNick(chat, msg) {
	const from = msg.prefix.name;
	const to = msg.params[0];
	// The client has already taken the new nick when it was ours.
	const mine = chat.client.isMe(to);
	chat.profiles.rename(from, to);
	for (const buffer of chat.buffers.values()) {
		const member = buffer.members.get(from);
		const isQuery = buffer.kind === "query" && chat.client.fold(buffer.name) === chat.client.fold(from);
		if (member) {
			buffer.members.delete(from);
			buffer.members.set(to, { ...member, nick: to });
			chat.emit("members", { buffer });
		}
		if (member || isQuery || (mine && buffer.kind === "server")) {
			chat.addLine(buffer.name, buffer, { kind: "nick", nick: from, text: to, self: mine }, msg);
		}
		if (isQuery && !chat.buffers.has(to)) {
			chat.buffers.delete(from);
			buffer.name = to;
			chat.buffers.set(to, buffer);
			if (chat.client.fold(chat.active) === chat.client.fold(from)) chat.active = to;
		}
	}
	if (mine) chat.emit("nick", { nick: to });
	chat.emit("buffers");
}

function receiveNames(chat, channel, text) {
	const buffer = chat.buffers.get(channel);
	if (!buffer) return;
	if (!buffer.namesPending) buffer.namesPending = new irc.NameMap((s) => chat.client.fold(s));
	const prefixChars = chat.client.prefixes.map((p) => p.prefix).join("");
	for (const entry of text.split(" ").filter(Boolean)) {
		let i = 0;
		while (i < entry.length && prefixChars.includes(entry[i])) i++;
		// userhost-in-names: nick!user@host
		const nick = irc.parsePrefix(entry.slice(i)).name;
		buffer.namesPending.set(nick, { nick, prefixes: sortPrefixes(chat, entry.slice(0, i)), away: false, account: null });
	}
}

function sortPrefixes(chat, prefixes) {
	return chat.client.prefixes
		.map((p) => p.prefix)
		.filter((c) => prefixes.includes(c))
		.join("");
}

function receiveMode(chat, msg) {
	const [target, modes = "", ...args] = msg.params;
	const buffer = chat.buffers.get(target);
	if (!buffer || buffer.kind !== "channel") return;
	// CHANMODES=A,B,C,D: A and B always take a parameter, C only when set.
	const [a = "", b = "", c = ""] = (chat.client.isupport.get("CHANMODES") ?? "beI,k,l,imnpst").split(",");
	const prefixModes = chat.client.prefixes;
	let adding = true;
	let changed = false;
	for (const mode of modes) {
		if (mode === "+" || mode === "-") {
			adding = mode === "+";
			continue;
		}
		const prefix = prefixModes.find((p) => p.mode === mode);
		if (prefix) {
			const nick = args.shift();
			const member = nick && buffer.members.get(nick);
			if (member) {
				const current = member.prefixes.replace(prefix.prefix, "");
				member.prefixes = sortPrefixes(chat, adding ? current + prefix.prefix : current);
				changed = true;
			}
		} else if (a.includes(mode) || b.includes(mode) || (adding && c.includes(mode))) {
			args.shift();
		}
	}
	chat.addLine(target, buffer, { kind: "mode", nick: msg.prefix.name, text: msg.params.slice(1).join(" ") }, msg);
	if (changed) chat.emit("members", { buffer });
}
