// The chat as the user sees it: buffers (the server, channels, private chats) with
// their lines, members, topic, unread and mention counts, read markers and typing
// notices, kept from the client's messages. No DOM: the views listen to its events.
//
// Events (CustomEvent detail):
//   "buffers"  {}                      the list, an order, a badge or a title changed
//   "lines"    {buffer, appended?}     lines changed; `appended` when only added at the end
//   "members"  {buffer}                "topic" {buffer}   "typing" {buffer}
//   "notify"   {buffer, line}          a live mention or private message from someone
//   "joined"   {buffer}                we joined a channel (the view may switch to it)
//   "status"   {status, ...}           the client's status, passed on
//   "toast"    {key, args}             something to tell the user once

import * as irc from "./irc.js";
import { Status } from "./client.js";

export const SERVER = "*server*";
const MAX_LINES = 2000;
const TYPING_ACTIVE_MS = 6000;
const MESSAGE_KINDS = new Set(["msg", "action", "notice"]);
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
]);
let lineCounter = 0;

/** Is this a line that counts towards unread (said by someone)? */
export function isMessage(line) {
	return MESSAGE_KINDS.has(line.kind);
}

export class Buffer {
	constructor(name, kind, fold) {
		this.name = name;
		this.kind = kind; // "server" | "channel" | "query"
		this.lines = [];
		this.msgids = new Set();
		this.members = new irc.NameMap(fold);
		this.topic = "";
		this.joined = false;
		this.unread = 0;
		this.mentions = 0;
		this.marker = null; // read up to this time (ms), or null
		this.markerText = null; // the same, as the server wrote it
		this.typing = new irc.NameMap(fold); // nick → expiry (ms)
		this.historyLoaded = false;
		this.historyComplete = false;
		this.loadingOlder = false;
		this.namesPending = null;
	}
}

export class Chat extends EventTarget {
	/**
	 * @param {Client} client the connection
	 * @param {object} options channels: joined once registered; storage: a Storage
	 *   (localStorage) for read markers kept in the browser, or null
	 */
	constructor(client, options = {}) {
		super();
		this.client = client;
		this.storage = options.storage ?? null;
		this.autojoin = [...(options.channels ?? [])];
		this.buffers = new irc.NameMap((s) => client.fold(s));
		this.buffers.set(SERVER, new Buffer(SERVER, "server", (s) => client.fold(s)));
		this.active = SERVER;
		this.visible = true; // the page is shown and the active buffer scrolled to its end
		this.typingTimer = null;
		client.addEventListener("message", (e) => this.receive(e.detail));
		client.addEventListener("status", (e) => this.statusChanged(e.detail));
	}

	emit(type, detail = {}) {
		this.dispatchEvent(new CustomEvent(type, { detail }));
	}

	get nick() {
		return this.client.nick;
	}

	buffer(name) {
		return this.buffers.get(name) ?? null;
	}

	/** The buffers in the order the list shows them: server, channels, private chats. */
	ordered() {
		const rank = { server: 0, channel: 1, query: 2 };
		return this.buffers
			.values()
			.sort((a, b) => rank[a.kind] - rank[b.kind] || a.name.localeCompare(b.name));
	}

	ensure(name, kind) {
		let buffer = this.buffers.get(name);
		if (!buffer) {
			buffer = new Buffer(name, kind, (s) => this.client.fold(s));
			this.loadLocalMarker(buffer);
			this.buffers.set(name, buffer);
			this.emit("buffers");
		}
		return buffer;
	}

	/** Opens (or shows) a private chat with `nick`. */
	openQuery(nick) {
		const buffer = this.ensure(nick, "query");
		if (!buffer.historyLoaded) this.loadLatest(buffer);
		return buffer;
	}

	/** Forgets a buffer (after parting, or closing a private chat). */
	close(name) {
		if (name === SERVER) return;
		const buffer = this.buffers.get(name);
		if (!buffer) return;
		if (buffer.kind === "channel" && buffer.joined) {
			this.client.send({ command: "PART", params: [buffer.name] });
		}
		this.buffers.delete(name);
		if (this.client.fold(this.active) === this.client.fold(name)) this.active = SERVER;
		this.emit("buffers");
	}

	setActive(name) {
		this.active = this.buffers.has(name) ? this.buffers.get(name).name : SERVER;
		this.emit("buffers");
	}

	activeBuffer() {
		return this.buffers.get(this.active) ?? this.buffers.get(SERVER);
	}

	/** Channels we are in, for a rejoin after reconnecting. */
	joinedChannels() {
		return this.buffers.values().filter((b) => b.kind === "channel" && b.joined).map((b) => b.name);
	}

	statusChanged(detail) {
		if (detail.status === Status.REGISTERED) {
			const channels = [...new Set([...this.autojoin, ...this.buffers.values().filter((b) => b.kind === "channel").map((b) => b.name)])];
			this.autojoin = [];
			for (const buffer of this.buffers.values()) buffer.joined = false;
			if (channels.length) this.join(channels.join(","));
			this.loadTargets();
			for (const buffer of this.buffers.values()) {
				if (buffer.kind === "query") this.loadLatest(buffer, true);
			}
		} else if (detail.status === Status.DISCONNECTED) {
			for (const buffer of this.buffers.values()) {
				buffer.typing.clear();
				buffer.loadingOlder = false;
			}
		}
		this.emit("status", detail);
		this.emit("buffers");
	}

	// --- sending ---------------------------------------------------------------

	join(channels, key) {
		const params = key ? [channels, key] : [channels];
		this.client.send({ command: "JOIN", params });
	}

	part(channel, reason) {
		this.client.send({ command: "PART", params: reason ? [channel, reason] : [channel] });
	}

	/** Says `text` (one line) to `target`, as an ACTION when `action`. */
	say(target, text, action = false) {
		// 512 bytes minus the prefix the server adds, the command and the target.
		const room = 400 - new TextEncoder().encode(target).length;
		for (const piece of irc.splitText(irc.clean(text), action ? room - 9 : room)) {
			const body = action ? "\x01ACTION " + piece + "\x01" : piece;
			this.client.send({ command: "PRIVMSG", params: [target, body] });
			if (!this.client.caps.has("echo-message")) {
				this.addLine(target, this.ensure(target, this.client.isChannel(target) ? "channel" : "query"), {
					kind: action ? "action" : "msg",
					nick: this.nick,
					text: piece,
					self: true,
				});
			}
		}
		const buffer = this.buffer(target);
		if (buffer) this.markRead(buffer);
	}

	canSendTyping() {
		const deny = this.client.isupport.get("CLIENTTAGDENY") ?? "";
		const denied = deny.split(",");
		const blocked = denied.includes("*") ? !denied.includes("-typing") : denied.includes("typing");
		return this.client.caps.has("message-tags") && !blocked;
	}

	/** Sends a typing notice (+typing=active|paused|done) to `target`. */
	sendTyping(target, state) {
		if (!this.canSendTyping()) return;
		this.client.send({ command: "TAGMSG", tags: { "+typing": state }, params: [target] });
	}

	// --- history and read markers ----------------------------------------------

	async loadLatest(buffer, again = false) {
		if (!this.client.caps.has("draft/chathistory") || (buffer.historyLoaded && !again)) return;
		buffer.historyLoaded = true;
		const page = this.client.historyPage(50);
		try {
			const answer = await this.client.request({
				command: "CHATHISTORY",
				params: ["LATEST", buffer.name, "*", String(page)],
			});
			if (answer.messages.length < page) buffer.historyComplete = true;
			this.addHistory(buffer, answer.messages);
		} catch {
			buffer.historyLoaded = false;
		}
	}

	/** Asks for the page before the oldest line; resolves to the number of lines got. */
	async loadOlder(buffer) {
		if (!this.client.caps.has("draft/chathistory") || buffer.historyComplete || buffer.loadingOlder) return 0;
		const oldest = buffer.lines.find((line) => line.msgid || line.ts);
		if (!oldest) {
			buffer.historyComplete = true;
			return 0;
		}
		const point = oldest.msgid ? "msgid=" + oldest.msgid : "timestamp=" + oldest.ts;
		const page = this.client.historyPage(50);
		buffer.loadingOlder = true;
		try {
			const answer = await this.client.request({ command: "CHATHISTORY", params: ["BEFORE", buffer.name, point, String(page)] });
			const count = answer.messages.length;
			if (count < page || answer.messages.some((m) => m.command === "FAIL")) buffer.historyComplete = true;
			this.addHistory(buffer, answer.messages);
			return count;
		} catch {
			return 0;
		} finally {
			buffer.loadingOlder = false;
		}
	}

	/** CHATHISTORY TARGETS: private chats with recent messages get their buffers. */
	async loadTargets() {
		if (!this.client.caps.has("draft/chathistory") || !this.client.caps.has("batch")) return;
		const now = new Date().toISOString();
		const since = new Date(Date.now() - 30 * 86400_000).toISOString();
		try {
			const answer = await this.client.request({
				command: "CHATHISTORY",
				params: ["TARGETS", "timestamp=" + now, "timestamp=" + since, "20"],
			});
			for (const msg of answer.messages) {
				const target = msg.command === "CHATHISTORY" && msg.params[0] === "TARGETS" ? msg.params[1] : null;
				if (target && !this.client.isChannel(target)) this.openQuery(target);
			}
		} catch {
			// No private chats to show: nothing to do.
		}
	}

	addHistory(buffer, messages) {
		const lines = [];
		for (const msg of messages) {
			const line = this.lineOf(msg, buffer);
			if (line && !(line.msgid && buffer.msgids.has(line.msgid))) lines.push(line);
		}
		if (!lines.length) {
			this.emit("lines", { buffer });
			return;
		}
		for (const line of lines) if (line.msgid) buffer.msgids.add(line.msgid);
		buffer.lines = [...buffer.lines, ...lines].sort((a, b) => a.time - b.time || a.seq - b.seq);
		this.trim(buffer);
		this.countUnread(buffer);
		this.emit("lines", { buffer });
		this.emit("buffers");
	}

	/** A line from a PRIVMSG, NOTICE or ACTION in a history batch, or null. */
	lineOf(msg, buffer) {
		if (msg.command !== "PRIVMSG" && msg.command !== "NOTICE") return null;
		const nick = msg.prefix?.name ?? "";
		const text = msg.params[1] ?? "";
		const ctcp = irc.parseCtcp(text);
		if (ctcp && ctcp.command !== "ACTION") return null;
		const self = this.client.isMe(nick);
		return this.makeLine(msg, {
			kind: ctcp ? "action" : msg.command === "NOTICE" ? "notice" : "msg",
			nick,
			text: ctcp ? ctcp.text : text,
			self,
			mention: !self && (buffer.kind === "query" || this.mentions(text)),
		});
	}

	makeLine(msg, fields) {
		lineCounter += 1;
		const ts = msg?.tags?.time ?? null;
		const parsed = ts ? Date.parse(ts) : NaN;
		return {
			id: "l" + lineCounter,
			seq: lineCounter,
			msgid: msg?.tags?.msgid ?? null,
			ts: ts ?? new Date().toISOString(),
			time: Number.isNaN(parsed) ? Date.now() : parsed,
			kind: "info",
			nick: null,
			text: "",
			self: false,
			mention: false,
			...fields,
		};
	}

	/** Does `text` name us (our nick as a word)? */
	mentions(text) {
		const nick = this.nick;
		if (!nick) return false;
		const plain = irc.stripFormatting(text);
		const fold = this.client.fold;
		const words = plain.split(/[^\p{L}\p{N}_\-[\]\\`^{}|]+/u);
		return words.some((word) => word && fold(word) === fold(nick));
	}

	countUnread(buffer) {
		let unread = 0;
		let mentions = 0;
		for (const line of buffer.lines) {
			if (!isMessage(line) || line.self) continue;
			if (buffer.marker !== null && line.time <= buffer.marker) continue;
			unread += 1;
			if (line.mention) mentions += 1;
		}
		buffer.unread = unread;
		buffer.mentions = mentions;
	}

	/** The reader saw the end of `buffer`: move its read marker there. */
	markRead(buffer) {
		const last = [...buffer.lines].reverse().find((line) => isMessage(line));
		if (!last || (buffer.marker !== null && last.time <= buffer.marker)) {
			if (buffer.unread || buffer.mentions) {
				buffer.unread = 0;
				buffer.mentions = 0;
				this.emit("buffers");
			}
			return;
		}
		buffer.marker = last.time;
		buffer.markerText = last.ts;
		buffer.unread = 0;
		buffer.mentions = 0;
		this.saveLocalMarker(buffer);
		if (this.client.caps.has("draft/read-marker") && buffer.kind !== "server") {
			this.client.send({ command: "MARKREAD", params: [buffer.name, "timestamp=" + last.ts] });
		}
		this.emit("buffers");
	}

	markerKey(buffer) {
		const who = this.client.account ?? this.client.options.nick;
		return "hubbub.read." + this.client.fold(who) + "." + this.client.fold(buffer.name);
	}

	loadLocalMarker(buffer) {
		if (!this.storage || buffer.kind === "server") return;
		const value = this.storage.getItem(this.markerKey(buffer));
		const time = value ? Date.parse(value) : NaN;
		if (!Number.isNaN(time)) {
			buffer.marker = time;
			buffer.markerText = value;
		}
	}

	saveLocalMarker(buffer) {
		if (!this.storage || buffer.kind === "server" || !buffer.markerText) return;
		try {
			this.storage.setItem(this.markerKey(buffer), buffer.markerText);
		} catch {
			// A full or refused storage only loses the marker's copy in this browser.
		}
	}

	// --- receiving ---------------------------------------------------------------

	addLine(target, buffer, fields, msg = null) {
		const line = this.makeLine(msg, fields);
		if (line.msgid) {
			if (buffer.msgids.has(line.msgid)) return null;
			buffer.msgids.add(line.msgid);
		}
		const last = buffer.lines.at(-1);
		buffer.lines.push(line);
		let appended = true;
		if (last && last.time > line.time) {
			buffer.lines.sort((a, b) => a.time - b.time || a.seq - b.seq);
			appended = false;
		}
		this.trim(buffer);
		if (isMessage(line) && !line.self) {
			const seen = this.visible && this.client.fold(this.active) === this.client.fold(buffer.name);
			if (seen) {
				this.markRead(buffer);
			} else if (buffer.marker === null || line.time > buffer.marker) {
				buffer.unread += 1;
				if (line.mention) buffer.mentions += 1;
				this.emit("buffers");
			}
			if (line.mention) this.emit("notify", { buffer, line });
		}
		this.emit("lines", { buffer, appended: appended ? line : null });
		return line;
	}

	trim(buffer) {
		if (buffer.lines.length <= MAX_LINES) return;
		const dropped = buffer.lines.splice(0, buffer.lines.length - MAX_LINES);
		for (const line of dropped) if (line.msgid) buffer.msgids.delete(line.msgid);
		buffer.historyComplete = false;
	}

	info(text, kind = "info", buffer = null, extra = {}) {
		const target = buffer ?? this.activeBuffer();
		return this.addLine(target.name, target, { kind, text, ...extra });
	}

	/** The buffer a PRIVMSG/NOTICE/TAGMSG belongs in, or null (server notices). */
	targetOf(msg) {
		let target = msg.params[0] ?? "";
		// STATUSMSG: "@#chan" is #chan, seen by its operators.
		const statusmsg = this.client.isupport.get("STATUSMSG") ?? "";
		while (target && statusmsg.includes(target[0]) && this.client.isChannel(target.slice(1))) target = target.slice(1);
		const from = msg.prefix.name;
		if (this.client.isChannel(target)) return this.ensure(target, "channel");
		if (this.client.isMe(from)) {
			// echo-message of what we said to someone.
			return this.client.isMe(target) ? null : this.ensure(target, "query");
		}
		if (!msg.prefix.user || from.includes(".") || from === "*") return null;
		const exists = this.buffers.get(from);
		if (msg.command === "NOTICE" && !exists) return null;
		const buffer = this.ensure(from, "query");
		if (!exists) this.loadLatest(buffer);
		return buffer;
	}

	receive(msg) {
		const p = msg.params;
		const from = msg.prefix.name;
		switch (msg.command) {
			case "PRIVMSG":
			case "NOTICE": {
				const buffer = this.targetOf(msg) ?? (msg.command === "NOTICE" && this.client.status === Status.REGISTERED ? this.activeBuffer() : this.buffers.get(SERVER));
				const text = p[1] ?? "";
				const ctcp = irc.parseCtcp(text);
				if (ctcp && ctcp.command !== "ACTION") return;
				const self = this.client.isMe(from);
				buffer.typing.delete(from);
				this.addLine(buffer.name, buffer, {
					kind: ctcp ? "action" : msg.command === "NOTICE" ? "notice" : "msg",
					nick: msg.prefix.user ? from : null,
					text: ctcp ? ctcp.text : text,
					self,
					mention: !self && buffer.kind !== "server" && (buffer.kind === "query" || this.mentions(text)),
				}, msg);
				this.emit("typing", { buffer });
				break;
			}
			case "TAGMSG": {
				const state = msg.tags["+typing"];
				if (!state || this.client.isMe(from)) return;
				const buffer = this.targetOf(msg);
				if (!buffer) return;
				if (state === "active") buffer.typing.set(from, Date.now() + TYPING_ACTIVE_MS);
				else buffer.typing.delete(from);
				this.scheduleTypingExpiry();
				this.emit("typing", { buffer });
				break;
			}
			case "JOIN":
				this.receiveJoin(msg);
				break;
			case "PART":
			case "KICK":
				this.receiveLeave(msg);
				break;
			case "QUIT":
				for (const buffer of this.buffers.values()) {
					if (buffer.members.has(from) || (buffer.kind === "query" && this.client.fold(buffer.name) === this.client.fold(from))) {
						buffer.members.delete(from);
						buffer.typing.delete(from);
						this.addLine(buffer.name, buffer, { kind: "quit", nick: from, text: p[0] ?? "" }, msg);
						this.emit("members", { buffer });
					}
				}
				break;
			case "NICK":
				this.receiveNick(msg);
				break;
			case "TOPIC": {
				const buffer = this.ensure(p[0], "channel");
				buffer.topic = p[1] ?? "";
				this.addLine(buffer.name, buffer, { kind: "topic", nick: from, text: buffer.topic }, msg);
				this.emit("topic", { buffer });
				break;
			}
			case irc.RPL_TOPIC: {
				const buffer = this.ensure(p[1], "channel");
				buffer.topic = p[2] ?? "";
				this.emit("topic", { buffer });
				break;
			}
			case irc.RPL_NOTOPIC: {
				const buffer = this.buffers.get(p[1]);
				if (buffer) {
					buffer.topic = "";
					this.emit("topic", { buffer });
				}
				break;
			}
			case irc.RPL_NAMREPLY:
				this.receiveNames(p[2], p[3] ?? "");
				break;
			case irc.RPL_ENDOFNAMES: {
				const buffer = this.buffers.get(p[1]);
				if (buffer && buffer.namesPending) {
					buffer.members = buffer.namesPending;
					buffer.namesPending = null;
					this.emit("members", { buffer });
				}
				break;
			}
			case "MODE":
				this.receiveMode(msg);
				break;
			case "AWAY":
			case "ACCOUNT":
				for (const buffer of this.buffers.values()) {
					const member = buffer.members.get(from);
					if (!member) continue;
					if (msg.command === "AWAY") member.away = p.length > 0;
					else member.account = p[0] === "*" ? null : p[0];
					this.emit("members", { buffer });
				}
				break;
			case "INVITE":
				this.info(p[1] ?? "", "invite", null, { nick: from, target: p[0] });
				break;
			case "MARKREAD": {
				const buffer = this.buffers.get(p[0]);
				const value = (p[1] ?? "").startsWith("timestamp=") ? p[1].slice(10) : null;
				const time = value ? Date.parse(value) : NaN;
				if (buffer && !Number.isNaN(time) && (buffer.marker === null || time > buffer.marker)) {
					buffer.marker = time;
					buffer.markerText = value;
					this.saveLocalMarker(buffer);
					this.countUnread(buffer);
					this.emit("buffers");
					this.emit("lines", { buffer, marker: true });
				}
				break;
			}
			case "FAIL":
			case "WARN":
			case "NOTE":
				if (p[0] === "CHATHISTORY" || (p[0] === "REGISTER" && this.client.status !== Status.REGISTERED)) return;
				this.info(p.at(-1) ?? "", msg.command === "FAIL" ? "error" : "info");
				break;
			case "REGISTER":
				this.info(p.at(-1) ?? "", "info", this.buffers.get(SERVER));
				break;
			case irc.RPL_WELCOME:
			case "002":
			case "003":
			case irc.RPL_MOTD:
			case irc.RPL_MOTDSTART:
			case irc.RPL_LOGGEDIN:
			case irc.RPL_SASLSUCCESS:
				this.info(p.at(-1) ?? "", "info", this.buffers.get(SERVER), { quiet: true });
				break;
			case irc.RPL_UNAWAY:
			case irc.RPL_NOWAWAY:
				this.info(p.at(-1) ?? "");
				break;
			case irc.RPL_LIST:
				this.info(p[3] ?? "", "list", null, { target: p[1], count: p[2] });
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
				this.receiveNumeric(msg);
		}
	}

	receiveNumeric(msg) {
		if (!/^\d{3}$/.test(msg.command)) return;
		const p = msg.params;
		if (STATUS_WHOIS.has(msg.command)) {
			const target = this.buffers.get(p[1]) ?? this.activeBuffer();
			this.info(p.slice(1).join(" "), "whois", target);
			return;
		}
		const code = Number(msg.command);
		if (code >= 400 && code < 600) {
			if (this.client.status !== Status.REGISTERED && (msg.command === irc.ERR_NICKNAMEINUSE || code >= 902)) return;
			const subject = p.length > 2 ? p[1] + ": " : "";
			this.info(subject + p.at(-1), "error");
		} else if (this.client.status === Status.REGISTERED) {
			this.info(p.slice(1).join(" "), "info", this.buffers.get(SERVER), { quiet: true });
		}
	}

	receiveJoin(msg) {
		const from = msg.prefix.name;
		const name = msg.params[0];
		const buffer = this.ensure(name, "channel");
		if (this.client.isMe(from)) {
			buffer.joined = true;
			buffer.namesPending = null;
			buffer.members.clear();
			this.emit("buffers");
			this.emit("joined", { buffer });
			this.loadLatest(buffer, true);
			return;
		}
		// extended-join: JOIN <channel> <account> :<realname>
		const account = msg.params[1] && msg.params[1] !== "*" ? msg.params[1] : null;
		buffer.members.set(from, { nick: from, prefixes: "", away: false, account });
		this.addLine(name, buffer, { kind: "join", nick: from }, msg);
		this.emit("members", { buffer });
	}

	receiveLeave(msg) {
		const kick = msg.command === "KICK";
		const name = msg.params[0];
		const who = kick ? msg.params[1] : msg.prefix.name;
		const buffer = this.buffers.get(name);
		if (!buffer) return;
		const reason = msg.params[kick ? 2 : 1] ?? "";
		buffer.typing.delete(who);
		if (this.client.isMe(who)) {
			buffer.joined = false;
			buffer.members.clear();
			if (!kick) {
				this.buffers.delete(name);
				if (this.client.fold(this.active) === this.client.fold(name)) this.active = SERVER;
				this.emit("buffers");
				return;
			}
			this.emit("buffers");
		} else {
			buffer.members.delete(who);
		}
		this.addLine(name, buffer, { kind: kick ? "kick" : "part", nick: who, by: msg.prefix.name, text: reason }, msg);
		this.emit("members", { buffer });
	}

	receiveNick(msg) {
		const from = msg.prefix.name;
		const to = msg.params[0];
		// The client has already taken the new nick when it was ours.
		const mine = this.client.isMe(to);
		for (const buffer of this.buffers.values()) {
			const member = buffer.members.get(from);
			const isQuery = buffer.kind === "query" && this.client.fold(buffer.name) === this.client.fold(from);
			if (member) {
				buffer.members.delete(from);
				buffer.members.set(to, { ...member, nick: to });
				this.emit("members", { buffer });
			}
			if (member || isQuery || (mine && buffer.kind === "server")) {
				this.addLine(buffer.name, buffer, { kind: "nick", nick: from, text: to, self: mine }, msg);
			}
			if (isQuery && !this.buffers.has(to)) {
				this.buffers.delete(from);
				buffer.name = to;
				this.buffers.set(to, buffer);
				if (this.client.fold(this.active) === this.client.fold(from)) this.active = to;
			}
		}
		this.emit("buffers");
	}

	receiveNames(channel, text) {
		const buffer = this.buffers.get(channel);
		if (!buffer) return;
		if (!buffer.namesPending) buffer.namesPending = new irc.NameMap((s) => this.client.fold(s));
		const prefixChars = this.client.prefixes.map((p) => p.prefix).join("");
		for (const entry of text.split(" ").filter(Boolean)) {
			let i = 0;
			while (i < entry.length && prefixChars.includes(entry[i])) i++;
			// userhost-in-names: nick!user@host
			const nick = irc.parsePrefix(entry.slice(i)).name;
			buffer.namesPending.set(nick, { nick, prefixes: this.sortPrefixes(entry.slice(0, i)), away: false, account: null });
		}
	}

	sortPrefixes(prefixes) {
		return this.client.prefixes
			.map((p) => p.prefix)
			.filter((c) => prefixes.includes(c))
			.join("");
	}

	receiveMode(msg) {
		const [target, modes = "", ...args] = msg.params;
		const buffer = this.buffers.get(target);
		if (!buffer || buffer.kind !== "channel") return;
		// CHANMODES=A,B,C,D: A and B always take a parameter, C only when set.
		const [a = "", b = "", c = ""] = (this.client.isupport.get("CHANMODES") ?? "beI,k,l,imnpst").split(",");
		const prefixModes = this.client.prefixes;
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
					member.prefixes = this.sortPrefixes(adding ? current + prefix.prefix : current);
					changed = true;
				}
			} else if (a.includes(mode) || b.includes(mode) || (adding && c.includes(mode))) {
				args.shift();
			}
		}
		this.addLine(target, buffer, { kind: "mode", nick: msg.prefix.name, text: msg.params.slice(1).join(" ") }, msg);
		if (changed) this.emit("members", { buffer });
	}

	scheduleTypingExpiry() {
		if (this.typingTimer !== null) return;
		this.typingTimer = setTimeout(() => {
			this.typingTimer = null;
			const now = Date.now();
			let pending = false;
			for (const buffer of this.buffers.values()) {
				let changed = false;
				for (const [nick, expiry] of buffer.typing.entries()) {
					if (expiry <= now) {
						buffer.typing.delete(nick);
						changed = true;
					} else {
						pending = true;
					}
				}
				if (changed) this.emit("typing", { buffer });
			}
			if (pending) this.scheduleTypingExpiry();
		}, 1000);
	}
}
