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
//   "nick"     {nick}                  our nick changed (by /nick, or the server)
//   "status"   {status, ...}           the client's status, passed on
// What the server says is applied by incoming.js.

import * as irc from "./irc.js";
import { Status } from "./client.js";
import { Buffer, SERVER, isMessage } from "./buffer.js";
import { receive } from "./incoming.js";
import { Profiles } from "./profiles.js";

export { Buffer, SERVER, isMessage };

const MAX_LINES = 2000;
let lineCounter = 0;

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
		client.addEventListener("message", (e) => receive(this, e.detail));
		this.profiles = new Profiles(this);
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
		if (!this.client.caps.has("draft/chathistory")) buffer.historyComplete = true;
		if (buffer.historyComplete || buffer.loadingOlder) return 0;
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
			this.addHistory(buffer, answer.messages, true);
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

	/**
	 * Adds a page of history. Lines said in the same millisecond keep the server's
	 * order: a page from before goes ahead of the lines known, any other after them
	 * (the sort is stable, by time only).
	 */
	addHistory(buffer, messages, before = false) {
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
		buffer.lines = (before ? [...lines, ...buffer.lines] : [...buffer.lines, ...lines]).sort((a, b) => a.time - b.time);
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

	/** Does `text` name us (our nick, or the nick we asked for, as a word)? */
	mentions(text) {
		const fold = this.client.fold;
		const names = new Set([this.nick, this.client.options.nick].filter(Boolean).map(fold));
		const plain = irc.stripFormatting(text);
		const words = plain.split(/[^\p{L}\p{N}_\-[\]\\`^{}|]+/u);
		return words.some((word) => word && names.has(fold(word)));
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
			buffer.lines.sort((a, b) => a.time - b.time);
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
