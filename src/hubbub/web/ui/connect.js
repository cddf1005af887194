// The connect form: a name, rooms, and an account to log in to or create. It hands
// what was chosen to the app; links (?nick=...&channels=...) skip it.

import { t } from "./i18n.js";

/** "#rust,lobby" → ["#rust", "#lobby"]. */
export function parseChannels(text) {
	return (text ?? "")
		.split(/[,\s]+/)
		.map((c) => c.trim())
		.filter(Boolean)
		.map((c) => (/^[#&]/.test(c) ? c : "#" + c));
}

const DEVICE_KEY = "hubbub.device";

/**
 * This browser's device name, sent as "account@web-<id>" when logging in: the server
 * keeps a read position and a replay per device, so each browser is its own. Made once
 * and kept; where storage is refused, a name for this page only.
 */
export function deviceName(storage) {
	try {
		const kept = storage?.getItem(DEVICE_KEY);
		if (kept && /^web-[a-z0-9]{1,28}$/.test(kept)) return kept;
	} catch {
		// Refused storage: a name for this page, made below.
	}
	const digits = [...crypto.getRandomValues(new Uint8Array(8))].map((b) => (b % 36).toString(36)).join("");
	const name = "web-" + digits;
	try {
		storage?.setItem(DEVICE_KEY, name);
	} catch {
		// Not kept: the next page is another device, replayed as a new one.
	}
	return name;
}

export class ConnectForm {
	/**
	 * @param {HTMLFormElement} form the form of index.html
	 * @param {function} connect (session) => connects: {nick, channels, mode, account, password, email}
	 */
	constructor(form, connect) {
		this.form = form;
		this.error = form.querySelector("#connect-error");
		const fields = form.querySelector(".account-fields");
		const registerFields = form.querySelector(".register-fields");
		this.modeChanged = () => {
			const mode = this.field("mode").value;
			fields.hidden = mode === "none";
			registerFields.hidden = mode !== "register";
			this.field("password").autocomplete = mode === "register" ? "new-password" : "current-password";
		};
		for (const radio of form.querySelectorAll("input[name=mode]")) radio.addEventListener("change", this.modeChanged);
		form.addEventListener("submit", (e) => {
			e.preventDefault();
			const session = this.read();
			if (session) connect(session);
		});
	}

	field(name) {
		return this.form.elements.namedItem(name);
	}

	/** The form's values, or null (with the reason shown) when they will not do. */
	read() {
		const get = (name) => this.field(name).value.trim();
		const nick = get("nick");
		const mode = this.field("mode").value;
		if (!nick || /[\s,*?!@]/.test(nick) || /^[#&:$\d-]/.test(nick)) {
			this.error.textContent = t("badNick");
			this.field("nick").focus();
			return null;
		}
		// Without https (or this machine) a password would cross the network readable,
		// and Web Crypto, which SCRAM needs, is not there.
		if (mode !== "none" && !window.isSecureContext) {
			this.error.textContent = t("needSecure");
			return null;
		}
		if (mode !== "none" && !this.field("password").value) {
			this.error.textContent = t("needPassword");
			this.field("password").focus();
			return null;
		}
		return {
			nick,
			channels: parseChannels(get("channels")),
			mode,
			account: get("account") || nick,
			password: this.field("password").value,
			email: get("email"),
		};
	}

	/** Fills the form with `values` (a session), shows `error`, focuses what is missing. */
	show(values = {}, error = "") {
		const set = (name, value) => {
			if (value !== undefined && value !== null) this.field(name).value = value;
		};
		set("nick", values.nick);
		// A newcomer lands in the room the plain door uses too, unless told otherwise.
		set("channels", (values.channels?.length ? values.channels : ["#lobby"]).join(","));
		set("account", values.account);
		if (values.mode === "login") this.field("mode").value = "login";
		this.modeChanged();
		this.error.textContent = error;
		this.field(values.nick ? (values.mode === "login" ? "password" : "channels") : "nick").focus();
	}
}
