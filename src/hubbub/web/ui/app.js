// The app: the connect form (filled from the URL and from the last visit), then the
// chat's views wired to the model; the session kept across reloads, drawers at phone
// width, keyboard shortcuts, and opt-in desktop notifications.

import { Client, Status } from "../lib/client.js";
import { Chat, SERVER } from "../lib/chat.js";
import { BufferList } from "./sidebar.js";
import { Composer } from "./composer.js";
import { MemberView } from "./members.js";
import { MessageView } from "./messages.js";
import { byId, replace } from "./dom.js";
import { richText } from "./text.js";
import { COMMANDS } from "./commands.js";
import { ConnectForm, deviceName, parseChannels } from "./connect.js";
import { Notifier } from "./notify.js";
import { t, tn, translate } from "./i18n.js";

const SESSION_KEY = "hubbub.session";
const PASSWORD_KEY = "hubbub.password";

function readJson(storage, key) {
	try {
		return JSON.parse(storage?.getItem(key) ?? "null");
	} catch {
		return null;
	}
}

function write(storage, key, value) {
	try {
		if (value === null) storage?.removeItem(key);
		else storage?.setItem(key, typeof value === "string" ? value : JSON.stringify(value));
	} catch {
		// Storage refused (private mode, quota): the session is simply not remembered.
	}
}

export class App {
	constructor(location, storage, sessionStorage) {
		this.location = location;
		this.storage = storage;
		this.sessionStorage = sessionStorage;
		this.client = null;
		this.chat = null;
		this.expectedJoin = null;
		this.noticeTimer = null;
		this.everRegistered = false;
	}

	start() {
		translate(document);
		this.el = {
			connect: byId("connect"),
			form: byId("connect-form"),
			app: byId("app"),
			title: byId("buffer-title"),
			topic: byId("topic"),
			conn: byId("conn"),
			notice: byId("notice"),
			typing: byId("typing"),
			me: byId("me"),
			notify: byId("notify-toggle"),
			scrim: byId("scrim"),
		};
		this.form = new ConnectForm(this.el.form, (session) => this.connect(session));
		this.notifier = new Notifier(this.el.notify, this.storage, (text) => this.notice(text), (name) => this.select(name));
		this.setUpShell();

		const params = new URLSearchParams(this.location.search);
		const saved = readJson(this.storage, SESSION_KEY);
		const hashChannel = decodeURIComponent(this.location.hash.slice(1));
		const urlNick = params.get("nick")?.trim();
		const urlChannels = [...parseChannels(params.get("channels")), ...parseChannels(hashChannel)];
		if (urlNick) {
			// A link such as /?nick=anna&channels=%23rust,%23lobby joins at once.
			const same = saved && saved.nick === urlNick;
			const channels = [...new Set([...urlChannels, ...(same ? saved.channels ?? [] : [])])];
			const mode = same && saved.mode === "login" && this.password() ? "login" : "none";
			this.connect({ nick: urlNick, channels, mode, account: same ? saved.account : "", password: this.password(), active: same ? saved.active : null });
			return;
		}
		if (saved && saved.connected && saved.nick && (saved.mode !== "login" || this.password())) {
			this.connect({ ...saved, channels: [...new Set([...(saved.channels ?? []), ...urlChannels])], password: this.password() });
			return;
		}
		this.showForm(saved ? { ...saved, channels: urlChannels.length ? urlChannels : saved.channels } : { channels: urlChannels });
	}

	password() {
		try {
			return this.sessionStorage?.getItem(PASSWORD_KEY) ?? "";
		} catch {
			return "";
		}
	}

	showForm(values = {}, error = "") {
		this.el.app.hidden = true;
		this.el.connect.hidden = false;
		document.title = "hubbub";
		this.form.show(values, error);
	}

	// --- connecting ----------------------------------------------------------------

	connect(session) {
		this.teardown();
		this.session = {
			nick: session.nick,
			channels: session.channels ?? [],
			mode: session.mode ?? "none",
			account: session.mode === "none" ? "" : session.account || session.nick,
			active: session.active ?? null,
		};
		if (session.mode !== "none" && session.password) write(this.sessionStorage, PASSWORD_KEY, session.password);
		const scheme = this.location.protocol === "https:" ? "wss:" : "ws:";
		const options = { url: scheme + "//" + this.location.host + "/irc", nick: session.nick };
		if (session.mode === "login") {
			options.account = this.session.account;
			options.password = session.password;
			options.device = deviceName(this.storage);
		} else if (session.mode === "register") {
			options.account = this.session.account;
			options.register = { email: session.email, password: session.password };
		}
		const client = new Client(options);
		const chat = new Chat(client, { channels: this.session.channels, storage: this.storage });
		this.client = client;
		this.chat = chat;
		this.expectedJoin = this.session.active ?? this.session.channels[0] ?? null;
		this.everRegistered = false;
		this.wire(client, chat);
		this.el.connect.hidden = true;
		this.el.app.hidden = false;
		this.select(SERVER);
		client.connect();
	}

	teardown() {
		if (!this.client) return;
		this.client.quit();
		this.client = null;
		this.chat = null;
	}

	/** Leaves the server and shows the form again. */
	quit(reason = "") {
		this.saveSession(false);
		write(this.sessionStorage, PASSWORD_KEY, null);
		const values = { ...this.session, channels: this.chat?.joinedChannels() ?? this.session.channels };
		this.client?.quit(reason);
		this.client = null;
		this.chat = null;
		// A link's ?nick= would connect again on a reload: the user left, so drop it.
		if (this.location.search) window.history.replaceState(null, "", this.location.pathname);
		this.showForm(values);
	}

	saveSession(connected = true) {
		if (!this.session) return;
		const channels = this.chat ? this.chat.joinedChannels() : this.session.channels;
		write(this.storage, SESSION_KEY, {
			nick: this.session.nick,
			channels: connected && this.chat && !channels.length && !this.everRegistered ? this.session.channels : channels,
			mode: this.session.mode === "register" ? "login" : this.session.mode,
			account: this.session.account,
			active: this.chat?.active === SERVER ? null : (this.chat?.active ?? null),
			connected,
		});
	}

	wire(client, chat) {
		const views = this.views(chat);
		client.addEventListener("status", (e) => {
			if (this.client !== client) return;
			this.showStatus(e.detail);
		});
		client.addEventListener("error", (e) => {
			if (this.client !== client || !e.detail.fatal) return;
			const key = { nick: "errNick", sasl: "errSasl", register: "errRegister", server: "errServer" }[e.detail.kind] ?? "errServer";
			const text = t(key) + (e.detail.text && e.detail.text !== "unsupported" ? " (" + e.detail.text + ")" : "");
			this.saveSession(false);
			const values = { ...this.session };
			this.client = null;
			this.chat = null;
			this.showForm(values, text);
		});
		client.addEventListener("nick-taken", (e) => {
			this.notice(t("nickTaken", e.detail.taken, e.detail.next));
		});
		client.addEventListener("registered-account", (e) => {
			this.notice(e.detail.verify ? t("accountVerify", e.detail.account) : t("accountMade", e.detail.account));
			if (!e.detail.verify) this.session.mode = "login";
		});
		chat.addEventListener("buffers", () => {
			if (this.chat !== chat) return;
			views.buffers.render();
			this.updateTitle();
			if (this.everRegistered) this.saveSession(true);
		});
		chat.addEventListener("lines", (e) => {
			if (this.chat !== chat) return;
			if (e.detail.buffer !== chat.activeBuffer()) return;
			if (e.detail.appended) views.messages.appended(e.detail.appended);
			else if (!e.detail.marker) views.messages.refresh();
		});
		chat.addEventListener("members", (e) => {
			if (this.chat !== chat) return;
			if (e.detail.buffer === chat.activeBuffer()) views.members.show(e.detail.buffer);
		});
		chat.addEventListener("profile-saved", (e) => {
			if (this.chat !== chat) return;
			const { key, value } = e.detail;
			chat.info(value ? t("profileSet", key, value) : t("profileCleared", key));
		});
		chat.addEventListener("profiles", () => {
			if (this.chat !== chat) return;
			const buffer = chat.activeBuffer();
			if (buffer?.kind === "channel") views.members.show(buffer);
		});
		chat.addEventListener("topic", (e) => {
			if (this.chat !== chat) return;
			if (e.detail.buffer === chat.activeBuffer()) this.showHeader(e.detail.buffer);
		});
		chat.addEventListener("typing", (e) => {
			if (this.chat !== chat) return;
			if (e.detail.buffer === chat.activeBuffer()) this.showTyping(e.detail.buffer);
		});
		chat.addEventListener("joined", (e) => {
			if (this.chat !== chat) return;
			const buffer = e.detail.buffer;
			const wanted = this.expectedJoin && client.fold(this.expectedJoin) === client.fold(buffer.name);
			if (wanted || chat.active === SERVER) {
				if (wanted) this.expectedJoin = null;
				this.select(buffer.name);
				views.composer.focus();
			} else if (buffer === chat.activeBuffer()) {
				this.select(buffer.name);
			}
		});
		chat.addEventListener("nick", (e) => {
			if (this.chat !== chat) return;
			// The name chosen is the one to ask for again, after a reload or a reconnection.
			this.session.nick = e.detail.nick;
			client.options.nick = e.detail.nick;
			this.saveSession(true);
			this.updateTitle();
		});
		chat.addEventListener("notify", (e) => {
			if (this.chat !== chat) return;
			const seen = document.visibilityState === "visible" && chat.activeBuffer() === e.detail.buffer;
			if (!seen) this.notifier.notify(e.detail.buffer, e.detail.line);
		});
	}

	views(chat) {
		const app = this;
		const messages = new MessageView(byId("messages"), chat, {
			join: (name) => {
				this.expectedJoin = name;
				chat.join(name);
			},
		});
		const members = new MemberView(byId("member-list"), byId("members-title"), chat, (nick) => {
			chat.openQuery(nick);
			this.select(nick);
			this.composer.focus();
		});
		const buffers = new BufferList(byId("buffer-list"), chat, {
			select: (name) => {
				this.select(name);
				this.composer.focus();
			},
			close: (name) => chat.close(name),
		});
		const composer = new Composer(byId("composer"), byId("paste-dialog"), () => ({
			chat,
			client: chat.client,
			buffer: chat.activeBuffer(),
			info: (text) => chat.info(text),
			error: (text) => chat.info(text, "error"),
			usage: (name) => chat.info(t("usage", COMMANDS[name].usage), "error"),
			select: (name) => this.select(name),
			expectJoin: (name) => {
				app.expectedJoin = name;
			},
			quit: (reason) => this.quit(reason),
		}));
		this.viewsOf = { messages, members, buffers, composer };
		this.composer = composer;
		return this.viewsOf;
	}

	// --- the chat views ----------------------------------------------------------------

	select(name) {
		const chat = this.chat;
		if (!chat) return;
		const previous = chat.activeBuffer();
		if (this.composer && previous && chat.client.fold(previous.name) !== chat.client.fold(name)) this.composer.stopTyping();
		chat.setActive(name);
		const buffer = chat.activeBuffer();
		this.showHeader(buffer);
		this.viewsOf.messages.show(buffer);
		this.viewsOf.members.show(buffer);
		this.showTyping(buffer);
		this.el.app.classList.toggle("no-members", buffer.kind !== "channel");
		this.closeDrawers();
		chat.visible = document.visibilityState === "visible";
		if (chat.visible) chat.markRead(buffer);
		byId("input").placeholder = buffer.name === SERVER ? t("serverPlaceholder") : t("messagePlaceholder", buffer.name);
		if (this.everRegistered) this.saveSession(true);
	}

	bufferTitle(buffer) {
		if (buffer.name !== SERVER) return buffer.name;
		return this.chat.client.isupport.get("NETWORK") || this.chat.client.serverName || t("server");
	}

	showHeader(buffer) {
		this.el.title.textContent = this.bufferTitle(buffer);
		if (buffer.kind === "channel") {
			replace(this.el.topic, buffer.topic ? richText(buffer.topic) : t(buffer.joined ? "noTopic" : "notJoined"));
		} else if (buffer.kind === "query") {
			replace(this.el.topic, t("privateChat"));
		} else {
			replace(this.el.topic, this.chat.client.serverName ?? "");
		}
		this.el.topic.title = this.el.topic.textContent;
	}

	showTyping(buffer) {
		const nicks = buffer.typing.entries().map(([nick]) => nick);
		this.el.typing.textContent =
			nicks.length === 0 ? "" : nicks.length === 1 ? t("typingOne", nicks[0]) : nicks.length === 2 ? t("typingTwo", nicks[0], nicks[1]) : t("typingMany");
	}

	updateTitle() {
		if (!this.chat) return;
		const unread = this.chat.buffers.values().reduce((n, b) => n + (b.kind === "server" ? 0 : b.mentions), 0);
		const buffer = this.chat.activeBuffer();
		document.title = (unread ? "(" + unread + ") " : "") + this.bufferTitle(buffer) + " · hubbub";
		this.el.title.textContent = this.bufferTitle(buffer);
		// At phone width the list is a drawer: its button shows that others have news.
		const others = this.chat.buffers.values().filter((b) => b !== buffer);
		const toggle = byId("toggle-buffers");
		toggle.classList.toggle("has-unread", others.some((b) => b.unread > 0));
		toggle.classList.toggle("has-mention", others.some((b) => b.mentions > 0));
		this.el.me.textContent = this.chat.client.nick + (this.chat.client.account ? " (" + this.chat.client.account + ")" : "");
	}

	showStatus(detail) {
		const conn = this.el.conn;
		switch (detail.status) {
			case Status.REGISTERED:
				conn.hidden = true;
				replace(conn);
				this.everRegistered = true;
				this.saveSession(true);
				this.updateTitle();
				this.showHeader(this.chat.activeBuffer());
				break;
			case Status.CONNECTING:
			case Status.REGISTERING:
				conn.hidden = false;
				replace(conn, t("connecting"));
				break;
			case Status.DISCONNECTED: {
				conn.hidden = false;
				if (detail.reconnectIn !== undefined) {
					const seconds = Math.max(1, Math.round(detail.reconnectIn / 1000));
					const now = document.createElement("button");
					now.type = "button";
					now.className = "linkish";
					now.textContent = t("reconnectNow");
					now.addEventListener("click", () => this.client?.reconnectNow());
					replace(conn, tn("reconnectIn", seconds), " ", now);
				} else {
					replace(conn, t("disconnected"));
				}
				break;
			}
			default:
				break;
		}
	}

	notice(text) {
		const el = this.el.notice;
		el.hidden = false;
		el.textContent = text;
		this.chat?.info(text, "info", this.chat.buffer(SERVER));
		clearTimeout(this.noticeTimer);
		this.noticeTimer = setTimeout(() => {
			el.hidden = true;
		}, 15000);
	}

	// --- the shell: drawers, keys, notifications ---------------------------------------

	setUpShell() {
		const app = this.el.app;
		const toggles = { buffers: byId("toggle-buffers"), members: byId("toggle-members") };
		const narrow = window.matchMedia("(max-width: 760px)");
		const toggle = (which) => {
			if (which === "members" && !narrow.matches) {
				app.classList.toggle("hide-members");
				toggles.members.setAttribute("aria-expanded", String(!app.classList.contains("hide-members")));
				return;
			}
			const open = !app.classList.contains("show-" + which);
			this.closeDrawers();
			app.classList.toggle("show-" + which, open);
			toggles[which].setAttribute("aria-expanded", String(open));
			this.el.scrim.hidden = !open;
			if (open) (byId(which === "buffers" ? "sidebar" : "members").querySelector("button") ?? toggles[which]).focus();
		};
		toggles.buffers.addEventListener("click", () => toggle("buffers"));
		toggles.members.addEventListener("click", () => toggle("members"));
		this.el.scrim.addEventListener("click", () => this.closeDrawers());
		byId("quit").addEventListener("click", () => this.quit());
		document.addEventListener("keydown", (e) => this.shortcut(e));
		document.addEventListener("visibilitychange", () => {
			if (!this.chat) return;
			const view = this.viewsOf.messages;
			this.chat.visible = document.visibilityState === "visible" && view.follow && view.atBottom();
			if (this.chat.visible) this.chat.markRead(this.chat.activeBuffer());
		});
		window.addEventListener("online", () => this.client?.reconnectNow());
	}

	closeDrawers() {
		const app = this.el.app;
		app.classList.remove("show-buffers", "show-members");
		byId("toggle-buffers").setAttribute("aria-expanded", "false");
		if (window.matchMedia("(max-width: 760px)").matches) byId("toggle-members").setAttribute("aria-expanded", "false");
		this.el.scrim.hidden = true;
	}

	shortcut(e) {
		if (!this.chat || this.el.app.hidden) return;
		if (e.key === "Escape") {
			this.closeDrawers();
			return;
		}
		if (!e.altKey || e.ctrlKey || e.metaKey) return;
		const buffers = this.chat.ordered();
		const index = buffers.indexOf(this.chat.activeBuffer());
		let next = null;
		if (e.key === "ArrowUp") next = buffers[(index - 1 + buffers.length) % buffers.length];
		else if (e.key === "ArrowDown") next = buffers[(index + 1) % buffers.length];
		else if (/^[1-9]$/.test(e.key)) next = buffers[Number(e.key) - 1];
		else if (e.key === "a" || e.key === "A") next = buffers.find((b) => b.mentions) ?? buffers.find((b) => b.unread);
		if (!next) return;
		e.preventDefault();
		this.select(next.name);
		this.composer.focus();
	}
}
