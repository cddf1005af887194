// The input line: Enter sends, / commands, Tab completes nicks, channels and commands
// (again to cycle), Up and Down recall what was sent, a paste of several lines asks
// before sending them, and typing notices go out while the user types.

import { commandNames, runInput } from "./commands.js";
import { t, tn } from "./i18n.js";

const HISTORY = 100;
const TYPING_EVERY = 3000;

export class Composer {
	/**
	 * @param {HTMLFormElement} form the composer form, with the textarea `input`
	 * @param {HTMLDialogElement} dialog asks before sending pasted lines
	 * @param {function} context () => the command context (chat, client, buffer, ...)
	 */
	constructor(form, dialog, context) {
		this.form = form;
		this.input = form.elements.namedItem("text");
		this.dialog = dialog;
		this.context = context;
		this.sent = [];
		this.recall = -1;
		this.draft = "";
		this.completion = null;
		this.typingSentAt = 0;
		this.typingTarget = null;
		form.addEventListener("submit", (e) => {
			e.preventDefault();
			this.submit();
		});
		this.input.addEventListener("keydown", (e) => this.keydown(e));
		this.input.addEventListener("input", () => this.typed());
		this.input.addEventListener("paste", (e) => this.pasted(e));
		this.pending = null;
		dialog.querySelector("form").addEventListener("submit", (e) => this.answered(e.submitter?.value === "send"));
		dialog.addEventListener("cancel", () => this.answered(false));
	}

	focus() {
		this.input.focus();
	}

	submit() {
		const text = this.input.value;
		if (!text.trim()) return;
		const lines = text.split(/\r?\n/).filter((l) => l.trim());
		if (lines.length > 1) {
			this.confirmLines(lines, () => this.clear(true));
			return;
		}
		this.send(lines[0] ?? text);
		this.clear(true);
	}

	/** Empties the box; after a message was sent, no "done" notice is needed. */
	clear(sent = false) {
		this.input.value = "";
		this.resize();
		if (sent) this.typingTarget = null;
		else this.stopTyping();
	}

	send(line) {
		this.sent.push(line);
		if (this.sent.length > HISTORY) this.sent.shift();
		this.recall = -1;
		runInput(this.context(), line);
	}

	/** Asks the user before sending `lines` as that many messages. */
	confirmLines(lines, after) {
		const dialog = this.dialog;
		dialog.querySelector(".paste-count").textContent = tn("pasteLines", lines.length);
		dialog.querySelector(".paste-preview").textContent = lines.slice(0, 5).join("\n") + (lines.length > 5 ? "\n…" : "");
		this.pending = { lines, after };
		dialog.showModal();
	}

	/** The answer to the dialog, known when its button is pressed (the close event
	 * comes later, and may come after the dialog was opened again). */
	answered(send) {
		const pending = this.pending;
		this.pending = null;
		if (!pending) return;
		if (send) {
			const ctx = this.context();
			for (const line of pending.lines) ctx.chat.say(ctx.buffer.name, line);
			pending.after?.();
		}
		this.focus();
	}

	pasted(event) {
		const text = event.clipboardData?.getData("text/plain") ?? "";
		const lines = text.split(/\r?\n/).filter((l) => l.trim());
		if (lines.length < 2) return;
		event.preventDefault();
		const ctx = this.context();
		if (ctx.buffer.kind === "server") {
			ctx.error(t("noTarget"));
			return;
		}
		this.confirmLines(lines);
	}

	keydown(e) {
		if (e.key === "Tab" && !e.shiftKey && !e.altKey && !e.ctrlKey) {
			if (this.complete()) e.preventDefault();
			return;
		}
		this.completion = null;
		if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
			e.preventDefault();
			this.submit();
		} else if (e.key === "ArrowUp" && !this.input.value.slice(0, this.input.selectionStart).includes("\n")) {
			if (this.sent.length && (this.recall === -1 ? true : this.recall > 0)) {
				e.preventDefault();
				if (this.recall === -1) {
					this.draft = this.input.value;
					this.recall = this.sent.length - 1;
				} else {
					this.recall -= 1;
				}
				this.setValue(this.sent[this.recall]);
			}
		} else if (e.key === "ArrowDown" && this.recall !== -1) {
			e.preventDefault();
			this.recall += 1;
			if (this.recall >= this.sent.length) {
				this.recall = -1;
				this.setValue(this.draft);
			} else {
				this.setValue(this.sent[this.recall]);
			}
		}
	}

	setValue(text) {
		this.input.value = text;
		this.input.setSelectionRange(text.length, text.length);
		this.resize();
	}

	resize() {
		this.input.style.height = "auto";
		this.input.style.height = Math.min(this.input.scrollHeight, 160) + "px";
	}

	/** Completes the word before the caret; true when it did something. */
	complete() {
		const input = this.input;
		let state = this.completion;
		if (!state) {
			const caret = input.selectionStart;
			const before = input.value.slice(0, caret);
			const start = before.search(/\S*$/);
			const word = before.slice(start);
			if (!word) return false;
			const ctx = this.context();
			const fold = (s) => ctx.client.fold(s);
			let candidates;
			if (start === 0 && word.startsWith("/")) {
				candidates = commandNames().map((c) => "/" + c + " ");
			} else if (ctx.client.isChannel(word)) {
				candidates = ctx.chat.ordered().filter((b) => b.kind === "channel").map((b) => b.name + " ");
			} else {
				const spoke = [...ctx.buffer.lines].reverse().filter((l) => l.nick && !l.self).map((l) => l.nick);
				const members = ctx.buffer.members.values().map((m) => m.nick);
				if (ctx.buffer.kind === "query") members.push(ctx.buffer.name);
				const suffix = start === 0 ? ": " : " ";
				candidates = [...new Set([...spoke, ...members])]
					.filter((nick) => members.some((m) => fold(m) === fold(nick)))
					.map((nick) => nick + suffix);
			}
			const wanted = fold(word);
			candidates = candidates.filter((c) => fold(c).startsWith(wanted));
			if (!candidates.length) return false;
			state = { start, end: caret, candidates, index: -1, after: input.value.slice(caret) };
			this.completion = state;
		}
		state.index = (state.index + 1) % state.candidates.length;
		const choice = state.candidates[state.index];
		const head = input.value.slice(0, state.start) + choice;
		input.value = head + state.after;
		input.setSelectionRange(head.length, head.length);
		return true;
	}

	typed() {
		this.resize();
		const ctx = this.context();
		const text = this.input.value;
		if (!text || text.startsWith("/") || ctx.buffer.kind === "server") {
			this.stopTyping();
			return;
		}
		const now = Date.now();
		if (this.typingTarget !== ctx.buffer.name || now - this.typingSentAt > TYPING_EVERY) {
			if (this.typingTarget && this.typingTarget !== ctx.buffer.name) this.stopTyping();
			this.typingTarget = ctx.buffer.name;
			this.typingSentAt = now;
			ctx.chat.sendTyping(ctx.buffer.name, "active");
		}
	}

	/** Tells the last target the user stopped typing (sent, cleared or left). */
	stopTyping() {
		if (!this.typingTarget) return;
		const ctx = this.context();
		ctx.chat.sendTyping(this.typingTarget, "done");
		this.typingTarget = null;
		this.typingSentAt = 0;
	}
}
