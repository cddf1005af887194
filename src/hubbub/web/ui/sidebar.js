// The list of buffers: the server, channels, private chats, each with its unread count
// and a mark for messages that name the user; the active one is aria-current.

import { SERVER } from "../lib/chat.js";
import { h, replace } from "./dom.js";
import { t, tn } from "./i18n.js";

export class BufferList {
	constructor(el, chat, hooks) {
		this.el = el;
		this.chat = chat;
		this.hooks = hooks; // select(name), close(name)
	}

	title(buffer) {
		if (buffer.name !== SERVER) return buffer.name;
		return this.chat.client.isupport.get("NETWORK") || this.chat.client.serverName || t("server");
	}

	render() {
		const active = this.chat.activeBuffer();
		const items = this.chat.ordered().map((buffer) => {
			const name = this.title(buffer);
			const badge = buffer.unread
				? h("span", {
						className: "badge" + (buffer.mentions ? " mention" : ""),
						textContent: buffer.mentions ? String(buffer.mentions) : String(buffer.unread),
					})
				: null;
			const described = [name];
			if (buffer.unread) described.push(tn("unread", buffer.unread));
			if (buffer.mentions) described.push(tn("mentionCount", buffer.mentions));
			if (buffer.kind === "channel" && !buffer.joined) described.push(t("notJoined"));
			const button = h(
				"button",
				{
					type: "button",
					className: "buffer " + buffer.kind + (buffer.unread ? " has-unread" : "") + (buffer.kind === "channel" && !buffer.joined ? " parted" : ""),
					"aria-current": buffer === active ? "page" : null,
					"aria-label": described.join(", "),
					"data-name": buffer.name,
					onclick: () => this.hooks.select(buffer.name),
				},
				h("span", { className: "name", textContent: name }),
				badge,
			);
			const close =
				buffer.name === SERVER
					? null
					: h("button", {
							type: "button",
							className: "close",
							textContent: "×",
							title: buffer.kind === "channel" ? t("leave", buffer.name) : t("closeChat", buffer.name),
							"aria-label": buffer.kind === "channel" ? t("leave", buffer.name) : t("closeChat", buffer.name),
							onclick: () => this.hooks.close(buffer.name),
						});
			return h("li", {}, button, close);
		});
		replace(this.el, items);
	}
}
