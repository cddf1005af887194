// Profiles (IRCv3 draft/metadata-3): the display names, avatars and statuses of the
// people this client shares a channel with. The client subscribes to those keys as it
// registers; the server then tells of each one as people join and as they change it
// (RPL_KEYVALUE, RPL_KEYNOTSET), and of too many at once with RPL_METADATASYNCLATER,
// after which the client asks for them (SYNC). Nothing here fetches anything: an avatar
// is only ever an <img> the browser loads, and only for an https URL.
//
// A profile is kept by nick, and a nick passes from one person to another: the server
// says nothing of a newcomer who sets no keys, so a profile left behind would be shown
// for whoever takes the nick next. incoming.js therefore moves it on NICK (the same
// person) and forgets it on QUIT and once no joined channel is shared with its holder.

import { Status } from "./client.js";
import { NameMap } from "./irc.js";

export const CAP = "draft/metadata-3";
export const PROFILE_KEYS = ["display-name", "avatar", "status"];
const RPL_KEYVALUE = "761";
const RPL_KEYNOTSET = "766";
const RPL_METADATASYNCLATER = "774";
// What is shown of a display name or status: the member list is narrow.
const MAX_SHOWN = 64;

/** The URL of an avatar the page may show as an image, or null: https only (an inline
 * image the server accepts is left unshown, as the page's policy promises). */
export function avatarUrl(value) {
	if (typeof value !== "string" || !value.startsWith("https://")) return null;
	try {
		const url = new URL(value);
		return url.protocol === "https:" && !url.username && !url.password ? url.href : null;
	} catch {
		return null;
	}
}

export class Profiles {
	/** @param {Chat} chat whose client's messages are read; it is told "profiles" {nick}. */
	constructor(chat) {
		this.chat = chat;
		const client = chat.client;
		this.byNick = new NameMap((s) => client.fold(s));
		this.pending = null;
		client.addEventListener("status", (e) => {
			if (e.detail.status !== Status.REGISTERED || !client.caps.has(CAP)) return;
			this.byNick.clear();
			client.send({ command: "METADATA", params: ["*", "SUB", ...PROFILE_KEYS] });
		});
		client.addEventListener("message", (e) => this.receive(e.detail));
	}

	/** {displayName, avatar, status} of `nick` (each "" when unset). */
	of(nick) {
		return this.byNick.get(nick) ?? { displayName: "", avatar: "", status: "" };
	}

	/** `nick` quit, or shares no channel with us any more: forget their profile. */
	forget(nick) {
		if (this.byNick.delete(nick)) this.chat.emit("profiles", { nick });
	}

	/** Forgets each of `nicks` who is in no channel we are in (never our own). */
	forgetUnshared(nicks) {
		for (const nick of nicks) {
			if (this.chat.client.isMe(nick)) continue;
			const shared = this.chat.buffers
				.values()
				.some((b) => b.kind === "channel" && b.joined && b.members.has(nick));
			if (!shared) this.forget(nick);
		}
	}

	/** `from` is now `to`: the same person, so the same profile. Whatever was kept for
	 * `to` belonged to someone who has since left the nick. */
	rename(from, to) {
		const profile = this.byNick.get(from);
		this.byNick.delete(from);
		if (profile) this.byNick.set(to, profile);
		else this.byNick.delete(to);
		this.chat.emit("profiles", { nick: to });
	}

	/** A SET of one's own `key` was sent: say "saved" once the server confirms it. */
	expect(key) {
		this.pending = key;
	}

	receive(msg) {
		const p = msg.params;
		if (msg.command === "FAIL" && p[0] === "METADATA") this.pending = null;
		if (msg.command === RPL_METADATASYNCLATER && p[1]) {
			this.chat.client.send({ command: "METADATA", params: [p[1], "SYNC"] });
			return;
		}
		if (msg.command !== RPL_KEYVALUE && msg.command !== RPL_KEYNOTSET) return;
		const [, target, key] = p;
		if (target && key === this.pending && this.chat.client.isMe(target)) {
			this.pending = null;
			this.chat.emit("profile-saved", { key, value: msg.command === RPL_KEYVALUE ? String(p[4] ?? "") : "" });
		}
		if (!target || this.chat.client.isChannel(target) || !PROFILE_KEYS.includes(key)) return;
		const value = msg.command === RPL_KEYVALUE ? String(p[4] ?? "").slice(0, key === "avatar" ? 2048 : MAX_SHOWN) : "";
		const field = { "display-name": "displayName", avatar: "avatar", status: "status" }[key];
		const profile = { ...this.of(target), [field]: value };
		if (profile.displayName || profile.avatar || profile.status) this.byNick.set(target, profile);
		else this.byNick.delete(target);
		this.chat.emit("profiles", { nick: target });
	}
}
