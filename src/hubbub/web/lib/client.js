// The connection to the server: IRC over WebSocket (IRCv3 WebSocket transport, one
// line per text message), registration with CAP negotiation, SASL and REGISTER,
// batches and labeled requests, and reconnection with backoff. It knows nothing of
// channels or views: the chat model (chat.js) listens to its events.
//
// Theory of operation (registration):
//
//   open ──▶ CAP LS 302, NICK, USER
//   CAP LS (maybe several lines, "*" until the last) ──▶ CAP REQ :<wanted ∩ offered>
//   CAP ACK ──▶ with a login:       AUTHENTICATE <mechanism> ... 903 ──▶ CAP END
//               with a new account: REGISTER <account> <email> <password>
//                                   REGISTER SUCCESS ──▶ CAP END
//               otherwise:          CAP END
//   433 before 001 ──▶ NICK <a free variant>, the user is told ("nick-taken")
//   001 ──▶ registered; the backoff is reset
//
// "Upon connecting, clients SHOULD send CAP LS 302 ... and then NICK and USER; the
// server waits for CAP END before completing registration" (IRCv3 capability
// negotiation). SCRAM is tried first where Web Crypto exists; an account made before
// the server kept SCRAM verifiers fails it once (904), and PLAIN is tried then.
//
// A close not asked for (the server went away, the network dropped) schedules a new
// connection after 1, 2, 4 ... 30 s (with jitter); a refused login, a refused account
// registration or an invalid nick do not: the user must change something first.

import * as irc from "./irc.js";
import { Authenticator } from "./sasl.js";

export const Status = Object.freeze({
	DISCONNECTED: "disconnected",
	CONNECTING: "connecting",
	REGISTERING: "registering",
	REGISTERED: "registered",
});

/** Capabilities requested when offered (sasl is asked for only with a login). */
export const WANTED_CAPS = [
	"account-notify",
	"away-notify",
	"batch",
	"cap-notify",
	"draft/account-registration",
	"draft/chathistory",
	"draft/metadata-3",
	"draft/read-marker",
	"echo-message",
	"extended-join",
	"invite-notify",
	"labeled-response",
	"message-tags",
	"multi-prefix",
	"server-time",
	"setname",
	"standard-replies",
];

const MAX_BACKOFF = 30_000;

export class Client extends EventTarget {
	/**
	 * @param {object} options url, nick, username?, realname?, account?, password?,
	 *   device? (this browser's name, sent with the account as "account@device"),
	 *   register? ({email, password}: create the account `account` or the nick)
	 * @param {function} makeSocket for tests: (url, protocols) => WebSocket-like
	 */
	constructor(options, makeSocket = (url, protocols) => new WebSocket(url, protocols)) {
		super();
		this.options = { username: "web", realname: "hubbub web", ...options };
		this.makeSocket = makeSocket;
		this.status = Status.DISCONNECTED;
		this.attempt = 0;
		this.reconnectTimer = null;
		this.autoReconnect = true;
		this.resetConnectionState();
	}

	resetConnectionState() {
		this.ws = null;
		this.nick = this.options.nick;
		this.account = null;
		this.available = new Map();
		this.caps = new Set();
		this.lsDone = false;
		this.isupport = new Map();
		this.fold = irc.caseMapping("rfc1459");
		this.prefixes = irc.parsePrefixes("(ov)@+");
		this.batches = new Map();
		this.pending = new Map(); // label → {resolve, reject, messages, batch}
		this.historyQueue = [];
		this.nickAttempt = 0;
		this.sasl = null; // the Authenticator of a login under way
		this.registering = false;
		this.serverName = null;
	}

	/** Opens the connection (again). */
	connect() {
		clearTimeout(this.reconnectTimer);
		this.reconnectTimer = null;
		if (this.ws) return;
		this.autoReconnect = true;
		this.resetConnectionState();
		this.setStatus(Status.CONNECTING);
		let ws;
		try {
			ws = this.makeSocket(this.options.url, ["text.ircv3.net"]);
		} catch (error) {
			this.emit("error", { kind: "connect", text: String(error) });
			this.scheduleReconnect();
			return;
		}
		this.ws = ws;
		ws.addEventListener("open", () => this.handleOpen());
		ws.addEventListener("message", (event) => {
			if (typeof event.data === "string") this.receiveLine(event.data);
		});
		ws.addEventListener("close", (event) => this.handleClose(ws, event));
	}

	/** Closes for good (QUIT when registered); no reconnection follows. */
	quit(reason = "") {
		this.autoReconnect = false;
		clearTimeout(this.reconnectTimer);
		this.reconnectTimer = null;
		if (this.ws && this.status === Status.REGISTERED) {
			this.send({ command: "QUIT", params: reason ? [reason] : [] });
		}
		this.ws?.close(1000);
		if (!this.ws) this.setStatus(Status.DISCONNECTED);
	}

	/** Connect now, skipping the wait of a scheduled reconnection. */
	reconnectNow() {
		if (this.reconnectTimer !== null) this.connect();
	}

	emit(type, detail) {
		this.dispatchEvent(new CustomEvent(type, { detail }));
	}

	setStatus(status, extra = {}) {
		this.status = status;
		this.emit("status", { status, ...extra });
	}

	send(msg) {
		if (!this.ws || this.ws.readyState !== 1) return false;
		this.ws.send(irc.formatMessage(msg));
		return true;
	}

	/** A raw line the user typed (/raw), cleaned of line breaks. */
	sendRaw(line) {
		if (!this.ws || this.ws.readyState !== 1) return false;
		this.ws.send(irc.clean(line));
		return true;
	}

	handleOpen() {
		this.setStatus(Status.REGISTERING);
		this.send({ command: "CAP", params: ["LS", "302"] });
		this.send({ command: "NICK", params: [this.nick] });
		this.send({ command: "USER", params: [this.options.username, "0", "*", this.options.realname] });
	}

	handleClose(ws, event) {
		if (ws !== this.ws) return;
		const wasRegistered = this.status === Status.REGISTERED;
		for (const request of this.pending.values()) request.reject(new Error("disconnected"));
		for (const request of this.historyQueue) request.reject(new Error("disconnected"));
		this.ws = null;
		this.pending.clear();
		this.historyQueue = [];
		if (this.autoReconnect) {
			this.scheduleReconnect(wasRegistered, event.code);
		} else {
			this.setStatus(Status.DISCONNECTED, { code: event.code });
		}
	}

	scheduleReconnect(wasRegistered = false, code = 0) {
		const base = Math.min(MAX_BACKOFF, 1000 * 2 ** this.attempt);
		const delay = Math.round(base * (0.8 + Math.random() * 0.4));
		this.attempt += 1;
		this.setStatus(Status.DISCONNECTED, { reconnectIn: delay, wasRegistered, code });
		clearTimeout(this.reconnectTimer);
		this.reconnectTimer = setTimeout(() => this.connect(), delay);
	}

	/** Stops for a reason the user must act on: no reconnection. */
	fail(kind, text) {
		this.autoReconnect = false;
		this.emit("error", { kind, text, fatal: true });
		this.ws?.close(1000);
	}

	isChannel(name) {
		return irc.isChannel(name, this.isupport.get("CHANTYPES") ?? "#&");
	}

	isMe(nick) {
		return this.fold(nick) === this.fold(this.nick);
	}

	receiveLine(line) {
		const msg = irc.parseMessage(line);
		if (!msg) return;
		if (!msg.prefix) msg.prefix = { name: this.serverName ?? "*", user: null, host: null };
		const ref = msg.tags.batch;
		const batch = ref ? this.batches.get(ref) : undefined;
		if (batch) msg.batch = batch;

		if (msg.command === "BATCH") {
			this.handleBatch(msg);
			return;
		}
		if (batch && batch.held) {
			batch.messages.push(msg);
			return;
		}
		this.handle(msg);
		const label = msg.tags.label;
		if (label && this.pending.has(label)) {
			const request = this.pending.get(label);
			this.pending.delete(label);
			request.resolve({ messages: [msg] });
		}
		this.emit("message", msg);
	}

	// batch: "BATCH +<reference> <type> [params]" opens, "BATCH -<reference>" closes.
	handleBatch(msg) {
		const ref = msg.params[0] ?? "";
		const name = ref.slice(1);
		if (ref.startsWith("+")) {
			const type = msg.params[1] ?? "";
			const parent = msg.batch ?? null;
			const held =
				(parent && parent.held) || type === "chathistory" || type === "draft/chathistory-targets" || Boolean(msg.tags.label && this.pending.has(msg.tags.label));
			this.batches.set(name, { name, type, params: msg.params.slice(2), tags: msg.tags, parent, held, messages: [] });
			return;
		}
		const batch = this.batches.get(name);
		this.batches.delete(name);
		if (!batch) return;
		if (batch.parent && batch.parent.held) {
			batch.parent.messages.push(...batch.messages);
			return;
		}
		const label = batch.tags.label;
		if (label && this.pending.has(label)) {
			const request = this.pending.get(label);
			this.pending.delete(label);
			request.resolve({ batch, messages: batch.messages });
			return;
		}
		if (batch.type === "chathistory") {
			const request = this.historyQueue.shift();
			request?.resolve({ batch, messages: batch.messages });
			return;
		}
		if (batch.held) for (const inner of batch.messages) this.emit("message", inner);
	}

	/**
	 * Sends a request and resolves with its answer: {messages, batch?}. With
	 * labeled-response the answer is what carries the label; without it, only
	 * CHATHISTORY is supported (answers come in the order asked).
	 */
	request(msg) {
		return new Promise((resolve, reject) => {
			if (this.caps.has("labeled-response")) {
				const label = irc.nextLabel();
				this.pending.set(label, { resolve, reject });
				if (!this.send({ ...msg, tags: { ...msg.tags, label } })) {
					this.pending.delete(label);
					reject(new Error("not connected"));
				}
			} else if (msg.command === "CHATHISTORY") {
				this.historyQueue.push({ resolve, reject });
				if (!this.send(msg)) {
					this.historyQueue.pop();
					reject(new Error("not connected"));
				}
			} else {
				reject(new Error("labeled-response is needed"));
			}
		});
	}

	/** The largest page CHATHISTORY gives (ISUPPORT CHATHISTORY), at most `wanted`. */
	historyPage(wanted = 50) {
		const max = Number(this.isupport.get("CHATHISTORY"));
		return max > 0 ? Math.min(max, wanted) : wanted;
	}

	handle(msg) {
		const p = msg.params;
		switch (msg.command) {
			case "CAP":
				this.handleCap(msg);
				break;
			case "AUTHENTICATE":
				this.handleAuthenticate(p[0] ?? "");
				break;
			case "REGISTER":
				if (p[0] === "SUCCESS" || p[0] === "VERIFICATION_REQUIRED") {
					this.emit("registered-account", { account: p[1], text: p.at(-1), verify: p[0] !== "SUCCESS" });
					if (p[0] === "SUCCESS") this.account = p[1];
					this.endCap();
				}
				break;
			case "FAIL":
				if (p[0] === "REGISTER" && this.status !== Status.REGISTERED) {
					this.fail("register", p.at(-1));
				}
				break;
			case "PING":
				this.send({ command: "PONG", params: p.slice(0, 1) });
				break;
			case "ERROR":
				this.emit("error", { kind: "server", text: p[0] ?? "" });
				break;
			case "NICK":
				if (this.isMe(msg.prefix.name)) this.nick = p[0];
				break;
			case irc.RPL_WELCOME:
				this.nick = p[0];
				this.serverName = msg.prefix.name;
				this.attempt = 0;
				this.setStatus(Status.REGISTERED);
				break;
			case irc.RPL_ISUPPORT:
				irc.parseISupport(p.slice(1, -1), this.isupport);
				this.fold = irc.caseMapping(this.isupport.get("CASEMAPPING"));
				this.prefixes = irc.parsePrefixes(this.isupport.get("PREFIX"));
				break;
			case irc.ERR_NICKNAMEINUSE:
			case irc.ERR_NICKCOLLISION:
			case irc.ERR_UNAVAILRESOURCE:
				if (this.status !== Status.REGISTERED) this.tryAnotherNick(p[1] ?? this.nick);
				break;
			case irc.ERR_ERRONEUSNICKNAME:
				if (this.status !== Status.REGISTERED) this.fail("nick", p.at(-1));
				break;
			case irc.ERR_PASSWDMISMATCH:
			case irc.ERR_YOUREBANNEDCREEP:
				this.fail("server", p.at(-1));
				break;
			case irc.RPL_LOGGEDIN:
				this.account = p[2];
				break;
			case irc.RPL_LOGGEDOUT:
				this.account = null;
				break;
			case irc.RPL_SASLSUCCESS:
				this.sasl = null;
				this.endCap();
				break;
			case irc.ERR_SASLFAIL:
			case irc.ERR_SASLTOOLONG:
			case irc.ERR_SASLABORTED:
			case irc.ERR_NICKLOCKED:
				this.handleSaslFailure(p.at(-1));
				break;
			default:
				break;
		}
	}

	tryAnotherNick(taken) {
		// The nick asked for is taken: anna_, anna2, anna3, ... then random digits.
		const wanted = this.options.nick;
		this.nickAttempt += 1;
		const n = this.nickAttempt;
		const next = n === 1 ? wanted + "_" : n < 10 ? wanted + n : wanted + Math.floor(100 + Math.random() * 900);
		this.nick = next;
		this.emit("nick-taken", { wanted, taken, next });
		this.send({ command: "NICK", params: [next] });
	}

	handleCap(msg) {
		const sub = msg.params[1];
		const args = msg.params.slice(2);
		switch (sub) {
			case "LS": {
				// CAP LS 302: "CAP * LS * :<caps>" for each line but the last.
				const more = args[0] === "*";
				this.addAvailable(args.at(-1) ?? "");
				if (!more) {
					this.lsDone = true;
					this.requestCaps(true);
				}
				break;
			}
			case "NEW":
				this.addAvailable(args.at(-1) ?? "");
				this.requestCaps(false);
				break;
			case "DEL":
				for (const cap of (args.at(-1) ?? "").split(" ")) {
					this.available.delete(cap);
					this.caps.delete(cap);
				}
				break;
			case "ACK":
				for (const cap of (args.at(-1) ?? "").split(" ").filter(Boolean)) {
					if (cap.startsWith("-")) this.caps.delete(cap.slice(1));
					else this.caps.add(cap);
				}
				if (this.status !== Status.REGISTERED) this.afterAck();
				break;
			case "NAK":
				if (this.status !== Status.REGISTERED) this.afterAck();
				break;
			default:
				break;
		}
	}

	addAvailable(text) {
		for (const item of text.split(" ").filter(Boolean)) {
			const eq = item.indexOf("=");
			this.available.set(eq < 0 ? item : item.slice(0, eq), eq < 0 ? "" : item.slice(eq + 1));
		}
	}

	wantsLogin() {
		return Boolean(this.options.account && this.options.password && !this.options.register);
	}

	requestCaps(first) {
		const wanted = WANTED_CAPS.filter((cap) => this.available.has(cap) && !this.caps.has(cap));
		if (this.wantsLogin() && this.available.has("sasl") && !this.caps.has("sasl")) wanted.push("sasl");
		if (wanted.length) {
			this.send({ command: "CAP", params: ["REQ", wanted.join(" ")] });
		} else if (first) {
			this.afterAck();
		}
	}

	/** After the answer to CAP REQ: log in, create the account, or end negotiation. */
	afterAck() {
		if (this.registering || this.sasl) return;
		if (this.options.register) {
			if (this.caps.has("draft/account-registration") || this.available.has("draft/account-registration")) {
				this.registering = true;
				const { email, password } = this.options.register;
				const account = this.options.account || "*";
				this.send({ command: "REGISTER", params: [account, email || "*", password] });
				return;
			}
			this.fail("register", "unsupported");
			return;
		}
		if (this.wantsLogin()) {
			if (!this.caps.has("sasl")) {
				this.fail("sasl", "unsupported");
				return;
			}
			this.startSasl();
			return;
		}
		this.endCap();
	}

	endCap() {
		if (this.status !== Status.REGISTERED) this.send({ command: "CAP", params: ["END"] });
	}

	startSasl() {
		const offered = (this.available.get("sasl") || "PLAIN").split(",");
		// "account@device" names this browser to the server (multiclient): another
		// connection of the account with our nick shares one user with it, and each
		// device keeps its own place.
		const { account, device } = this.options;
		const name = device ? account + "@" + device : account;
		this.sasl = new Authenticator(offered, name, this.options.password, (param) =>
			this.send({ command: "AUTHENTICATE", params: [param] }),
		);
		if (!this.sasl.start()) this.fail("sasl", "");
	}

	handleSaslFailure(text) {
		if (this.status === Status.REGISTERED || !this.sasl) return;
		// An account made before its server kept SCRAM verifiers fails SCRAM once.
		if (!this.sasl.retry()) this.fail("sasl", text);
	}

	handleAuthenticate(data) {
		this.sasl?.receive(data);
	}
}
