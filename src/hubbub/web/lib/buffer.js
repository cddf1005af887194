// A buffer: one conversation as the client keeps it (the server's messages, a channel,
// a private chat), and what makes a line a message.

import * as irc from "./irc.js";

export const SERVER = "*server*";
const MESSAGE_KINDS = new Set(["msg", "action", "notice"]);

/** Is this a line that counts towards unread (said by someone)? */
export function isMessage(line) {
	return MESSAGE_KINDS.has(line.kind);
}

export class Buffer {
	constructor(name, kind, fold) {
		this.name = name;
		this.kind = kind; // "server" | "channel" | "query"
		this.lines = [];
		this.msgids = new Set();
		this.members = new irc.NameMap(fold);
		this.topic = "";
		this.joined = false;
		this.unread = 0;
		this.mentions = 0;
		this.marker = null; // read up to this time (ms), or null
		this.markerText = null; // the same, as the server wrote it
		this.typing = new irc.NameMap(fold); // nick → expiry (ms)
		this.historyLoaded = false;
		this.historyComplete = false;
		this.loadingOlder = false;
		this.namesPending = null;
	}
}
