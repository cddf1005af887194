// Desktop notifications (the Notification API), opt-in: a button asks the browser's
// permission, and the choice is kept in this browser. Mentions and private messages
// notify when their conversation is not in view.

import { stripFormatting } from "../lib/irc.js";
import { t } from "./i18n.js";

const NOTIFY_KEY = "hubbub.notify";

export class Notifier {
	/**
	 * @param {HTMLButtonElement} button toggles notifications (aria-pressed)
	 * @param {Storage} storage where the choice is kept
	 * @param {function} tell (text) => tells the user something
	 * @param {function} select (name) => shows a conversation
	 */
	constructor(button, storage, tell, select) {
		this.button = button;
		this.storage = storage;
		this.tell = tell;
		this.select = select;
		button.addEventListener("click", () => this.toggle());
		this.show();
	}

	on() {
		let chosen = null;
		try {
			chosen = this.storage?.getItem(NOTIFY_KEY);
		} catch {
			return false;
		}
		return "Notification" in window && Notification.permission === "granted" && chosen === "on";
	}

	show() {
		const on = this.on();
		this.button.hidden = !("Notification" in window);
		this.button.textContent = on ? t("notifyOn") : t("notifyOff");
		this.button.setAttribute("aria-pressed", String(on));
	}

	async toggle() {
		let choice = "off";
		if (!this.on()) {
			const permission = Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
			if (permission === "granted") choice = "on";
			else this.tell(t("notifyDenied"));
		}
		try {
			this.storage?.setItem(NOTIFY_KEY, choice);
		} catch {
			// Not kept: the choice lasts for this page.
		}
		this.show();
	}

	/** Notifies of `line` in `buffer`, if the user asked for notifications. */
	notify(buffer, line) {
		if (!this.on()) return;
		const title = buffer.kind === "query" ? line.nick : line.nick + " · " + buffer.name;
		const notification = new Notification(title, { body: stripFormatting(line.text).slice(0, 200), tag: "hubbub-" + buffer.name });
		notification.addEventListener("click", () => {
			window.focus();
			this.select(buffer.name);
			notification.close();
		});
	}
}
