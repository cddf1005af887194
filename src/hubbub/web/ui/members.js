// The member list of the active channel: highest status first, then by name, each
// with its op/voice prefix and the nick's colour; a click opens a private chat.

import { h, replace } from "./dom.js";
import { nickClass } from "./text.js";
import { avatarUrl } from "../lib/profiles.js";
import { t, tn } from "./i18n.js";

const MAX_SHOWN = 1000;

export class MemberView {
	constructor(listEl, titleEl, chat, onQuery) {
		this.listEl = listEl;
		this.titleEl = titleEl;
		this.chat = chat;
		this.onQuery = onQuery;
	}

	show(buffer) {
		if (!buffer || buffer.kind !== "channel") {
			replace(this.listEl);
			this.titleEl.textContent = t("members");
			return;
		}
		const ranks = this.chat.client.prefixes.map((p) => p.prefix);
		const rank = (m) => (m.prefixes ? ranks.indexOf(m.prefixes[0]) : ranks.length);
		const members = buffer.members.values().sort((a, b) => rank(a) - rank(b) || a.nick.localeCompare(b.nick, undefined, { sensitivity: "base" }));
		this.titleEl.textContent = tn("memberCount", members.length);
		const items = members.slice(0, MAX_SHOWN).map((member) => {
			const status = member.prefixes ? member.prefixes[0] : "";
			const profile = this.chat.profiles.of(member.nick);
			const avatar = avatarUrl(profile.avatar);
			const label = [member.nick, profile.displayName, profile.status, status === "@" ? t("op") : status === "+" ? t("voice") : "", member.away ? t("away") : ""].filter(Boolean).join(", ");
			return h(
				"li",
				{},
				h(
					"button",
					{ type: "button", className: "member" + (member.away ? " away" : ""), "aria-label": label, title: label, onclick: () => this.onQuery(member.nick) },
					h("span", { className: "prefix", textContent: status }),
					avatar ? h("img", { className: "avatar", src: avatar, alt: "", loading: "lazy", referrerPolicy: "no-referrer", width: 20, height: 20 }) : null,
					h("span", { className: nickClass(member.nick), textContent: member.nick }),
					profile.displayName ? h("span", { className: "display-name", textContent: profile.displayName }) : null,
					profile.status ? h("span", { className: "profile-status", textContent: profile.status }) : null,
				),
			);
		});
		if (members.length > MAX_SHOWN) items.push(h("li", { className: "more", textContent: tn("moreMembers", members.length - MAX_SHOWN) }));
		replace(this.listEl, items);
	}
}
