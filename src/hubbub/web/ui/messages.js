// The message view of the active buffer: a window of at most MAX_RENDER lines of the
// buffer's model, with day separators, the "new messages" marker, and joins, parts,
// quits and nick changes folded into one quiet row. Scrolling to the top shows older
// lines of the model, then asks the server for more (CHATHISTORY BEFORE); scrolling
// back down moves the window back to the end.

import { isMessage } from "../lib/chat.js";
import { h, replace } from "./dom.js";
import { nickClass, richText } from "./text.js";
import { t, lang } from "./i18n.js";

const MAX_RENDER = 300;
const STEP = 100;
const NEAR = 60; // px from an edge that counts as "at" it
const FOLDED = new Set(["join", "part", "quit", "nick"]);

function dayOf(time) {
	const d = new Date(time);
	return d.getFullYear() * 10000 + d.getMonth() * 100 + d.getDate();
}

function dayLabel(time) {
	const d = new Date(time);
	const options = { weekday: "long", day: "numeric", month: "long" };
	if (d.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
	return d.toLocaleDateString(lang(), options);
}

function timeOf(line) {
	const d = new Date(line.time);
	return h("time", {
		className: "ts",
		dateTime: d.toISOString(),
		title: d.toLocaleString(lang()),
		textContent: d.toLocaleTimeString(lang(), { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }),
	});
}

function nick(name) {
	return h("span", { className: nickClass(name), textContent: name });
}

/** The short text of a membership change, for a folded row. */
function membership(line) {
	switch (line.kind) {
		case "join":
			return t("joined", line.nick);
		case "part":
			return line.text ? t("leftWith", line.nick, line.text) : t("left", line.nick);
		case "quit":
			return line.text ? t("quitWith", line.nick, line.text) : t("quit", line.nick);
		case "nick":
			return t("nickChanged", line.nick, line.text);
		default:
			return "";
	}
}

export class MessageView {
	/**
	 * @param {HTMLElement} el the scrolling container (role=log)
	 * @param {Chat} chat the model
	 * @param {object} hooks join(channel), query(nick): actions of clickable names
	 */
	constructor(el, chat, hooks) {
		this.el = el;
		this.chat = chat;
		this.hooks = hooks;
		this.buffer = null;
		this.start = 0;
		this.end = 0;
		this.follow = true;
		this.markerAt = null;
		this.rendered = 0;
		this.lastLine = null;
		this.lastFold = null;
		this.jump = h("button", { type: "button", className: "jump", hidden: true, textContent: t("jumpLatest"), onclick: () => this.toEnd() });
		el.after(this.jump);
		el.addEventListener("scroll", () => this.scrolled(), { passive: true });
	}

	atBottom() {
		return this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < NEAR;
	}

	/** Shows `buffer` from its end; its read marker as it is now is drawn. */
	show(buffer) {
		this.buffer = buffer;
		this.markerAt = buffer.marker;
		this.toEnd();
	}

	toEnd() {
		const lines = this.buffer.lines;
		this.end = lines.length;
		this.start = Math.max(0, this.end - MAX_RENDER);
		this.follow = true;
		this.render();
		this.el.scrollTop = this.el.scrollHeight;
		this.updateJump();
	}

	/** The model's lines changed in another way than an append: redraw, keeping place. */
	refresh() {
		if (!this.buffer) return;
		const lines = this.buffer.lines;
		const firstId = this.firstRenderedId;
		let start = firstId ? lines.findIndex((l) => l.id === firstId) : -1;
		if (start < 0) start = Math.max(0, lines.length - MAX_RENDER);
		if (this.follow) {
			this.end = lines.length;
			this.start = Math.min(start, Math.max(0, this.end - MAX_RENDER));
		} else {
			this.start = start;
			this.end = Math.min(lines.length, start + MAX_RENDER);
		}
		const bottom = this.follow && this.atBottom();
		this.renderAnchored();
		if (bottom) this.el.scrollTop = this.el.scrollHeight;
	}

	/** A line was added at the end of the model. */
	appended(line) {
		if (!this.follow) {
			this.updateJump(true);
			return;
		}
		const bottom = this.atBottom();
		this.end = this.buffer.lines.length;
		if (this.rendered >= MAX_RENDER + STEP) {
			this.start = Math.max(0, this.end - MAX_RENDER);
			this.render();
		} else {
			this.addRow(line);
		}
		if (bottom || line.self) this.el.scrollTop = this.el.scrollHeight;
	}

	updateJump(newBelow = false) {
		this.jump.hidden = this.follow && !newBelow;
	}

	async scrolled() {
		if (!this.buffer) return;
		if (this.el.scrollTop < NEAR) {
			if (this.start > 0) {
				this.moveUp();
			} else if (!this.buffer.historyComplete && !this.buffer.loadingOlder) {
				const buffer = this.buffer;
				this.renderTop(true);
				const got = await this.chat.loadOlder(buffer);
				if (buffer !== this.buffer) return;
				if (got > 0) this.moveUp();
				else this.renderAnchored();
			}
		} else if (!this.follow && this.atBottom()) {
			this.end = Math.min(this.buffer.lines.length, this.end + STEP);
			this.start = Math.max(0, this.end - MAX_RENDER);
			this.follow = this.end === this.buffer.lines.length;
			this.renderAnchored();
			this.updateJump();
		}
		this.chat.visible = document.visibilityState === "visible" && this.follow && this.atBottom();
		if (this.chat.visible) this.chat.markRead(this.buffer);
	}

	moveUp() {
		const firstId = this.firstRenderedId;
		const lines = this.buffer.lines;
		const current = Math.max(0, lines.findIndex((l) => l.id === firstId));
		this.start = Math.max(0, current - STEP);
		this.end = Math.min(lines.length, this.start + MAX_RENDER);
		this.follow = this.end === lines.length;
		this.renderAnchored();
		this.updateJump();
	}

	/** Redraws keeping the first visible line where it was on the screen. */
	renderAnchored() {
		const top = this.el.getBoundingClientRect().top;
		const anchor = [...this.el.querySelectorAll("[data-line]")].find((row) => row.getBoundingClientRect().bottom > top);
		const id = anchor?.dataset.line;
		const offset = anchor ? anchor.getBoundingClientRect().top - top : 0;
		this.render();
		const again = id ? this.el.querySelector(`[data-line="${id}"]`) : null;
		if (again) this.el.scrollTop += again.getBoundingClientRect().top - top - offset;
	}

	renderTop(loading = false) {
		const complete = this.start === 0 && this.buffer.historyComplete;
		const text = loading ? t("loadingOlder") : complete ? t("beginning") : t("scrollForOlder");
		const top = this.el.querySelector(".history-top") ?? h("div", { className: "history-top" });
		top.textContent = text;
		// The server's own messages have no history to scroll to.
		top.hidden = this.buffer.kind === "server";
		return top;
	}

	render() {
		const lines = this.buffer.lines.slice(this.start, this.end);
		this.rendered = 0;
		this.lastLine = null;
		this.lastFold = null;
		this.markerDrawn = false;
		this.firstRenderedId = lines[0]?.id ?? null;
		replace(this.el, this.renderTop());
		for (const line of lines) this.addRow(line);
	}

	addRow(line) {
		const previous = this.lastLine;
		if (!previous || dayOf(previous.time) !== dayOf(line.time)) {
			this.el.append(h("div", { className: "day", role: "separator", textContent: dayLabel(line.time) }));
			this.lastFold = null;
		}
		const marker = this.markerAt;
		if (
			marker !== null &&
			isMessage(line) &&
			!line.self &&
			line.time > marker &&
			!this.markerDrawn
		) {
			this.markerDrawn = true;
			this.el.append(h("div", { className: "unread-marker", role: "separator", textContent: t("newMessages") }));
			this.lastFold = null;
		}
		this.lastLine = line;
		this.rendered += 1;
		if (!this.firstRenderedId) this.firstRenderedId = line.id;
		if (FOLDED.has(line.kind)) {
			if (this.lastFold && this.el.lastElementChild === this.lastFold.row) {
				this.lastFold.lines.push(line);
				this.fillFold(this.lastFold);
				return;
			}
			const fold = { lines: [line], row: h("div", { className: "line fold", "data-line": line.id }) };
			this.fillFold(fold);
			this.lastFold = fold;
			this.el.append(fold.row);
			return;
		}
		this.lastFold = null;
		this.el.append(this.row(line));
	}

	fillFold(fold) {
		const text = fold.lines.map(membership).join(" · ");
		replace(fold.row, timeOf(fold.lines[0]), h("span", { className: "text", textContent: text }));
	}

	row(line) {
		const classes = ["line", line.kind];
		if (line.mention) classes.push("mention");
		if (line.self) classes.push("self");
		const row = h("div", { className: classes.join(" "), "data-line": line.id });
		const body = this.body(line);
		// Element.append writes null as the text "null": a part not shown is left out.
		row.append(timeOf(line), ...body.filter((part) => part !== null && part !== undefined));
		return row;
	}

	/** The sender's display name beside its nick (the nick says who it is). */
	displayName(name) {
		const shown = this.chat.profiles?.of(name).displayName;
		return shown ? h("span", { className: "display-name", textContent: shown }) : null;
	}

	body(line) {
		switch (line.kind) {
			case "msg":
				return line.nick
					? [nick(line.nick), this.displayName(line.nick), h("span", { className: "text" }, richText(line.text))]
					: [h("span", { className: "text" }, richText(line.text))];
			case "action":
				return [h("span", { className: "text" }, "* ", nick(line.nick ?? ""), " ", richText(line.text))];
			case "notice":
				return [
					line.nick ? h("span", { className: "notice-from" }, "-", nick(line.nick), "-") : "",
					h("span", { className: "text" }, richText(line.text)),
				];
			case "kick":
				return [h("span", { className: "text", textContent: t("kicked", line.nick, line.by, line.text) })];
			case "topic":
				return [h("span", { className: "text" }, t("topicSet", line.nick), " ", richText(line.text))];
			case "mode":
				return [h("span", { className: "text", textContent: t("modeSet", line.nick, line.text) })];
			case "invite":
				return [h("span", { className: "text" }, t("invited", line.nick), " ", this.channelButton(line.target))];
			case "list":
				return [
					this.channelButton(line.target),
					h("span", { className: "count", textContent: " (" + line.count + ") " }),
					h("span", { className: "text" }, richText(line.text)),
				];
			default:
				return [h("span", { className: "text" }, richText(line.text))];
		}
	}

	channelButton(name) {
		return h("button", {
			type: "button",
			className: "linkish",
			textContent: name,
			title: t("joinChannel", name),
			onclick: () => this.hooks.join(name),
		});
	}
}
