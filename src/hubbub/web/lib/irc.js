// IRC lines as values: parse and format one line, message tags, ISUPPORT, case
// mapping, formatting codes. No I/O and no state: the client (client.js) and the chat
// model (chat.js) are built on it.

/** Numerics the client acts on, by their spec names (modern IRC client protocol). */
export const RPL_WELCOME = "001";
export const RPL_ISUPPORT = "005";
export const RPL_UMODEIS = "221";
export const RPL_AWAY = "301";
export const RPL_UNAWAY = "305";
export const RPL_NOWAWAY = "306";
export const RPL_WHOISUSER = "311";
export const RPL_WHOISSERVER = "312";
export const RPL_WHOISOPERATOR = "313";
export const RPL_WHOISIDLE = "317";
export const RPL_ENDOFWHOIS = "318";
export const RPL_WHOISCHANNELS = "319";
export const RPL_LISTSTART = "321";
export const RPL_LIST = "322";
export const RPL_LISTEND = "323";
export const RPL_CHANNELMODEIS = "324";
export const RPL_WHOISACCOUNT = "330";
export const RPL_NOTOPIC = "331";
export const RPL_TOPIC = "332";
export const RPL_TOPICWHOTIME = "333";
export const RPL_NAMREPLY = "353";
export const RPL_ENDOFNAMES = "366";
export const RPL_MOTD = "372";
export const RPL_MOTDSTART = "375";
export const RPL_ENDOFMOTD = "376";
export const ERR_NOMOTD = "422";
export const ERR_ERRONEUSNICKNAME = "432";
export const ERR_NICKNAMEINUSE = "433";
export const ERR_NICKCOLLISION = "436";
export const ERR_UNAVAILRESOURCE = "437";
export const ERR_PASSWDMISMATCH = "464";
export const ERR_YOUREBANNEDCREEP = "465";
export const RPL_LOGGEDIN = "900";
export const RPL_LOGGEDOUT = "901";
export const ERR_NICKLOCKED = "902";
export const RPL_SASLSUCCESS = "903";
export const ERR_SASLFAIL = "904";
export const ERR_SASLTOOLONG = "905";
export const ERR_SASLABORTED = "906";
export const ERR_SASLALREADY = "907";

// message-tags: "the following characters in tag values MUST be escaped".
const TAG_ESCAPES = { ":": ";", s: " ", "\\": "\\", r: "\r", n: "\n" };
const TAG_UNESCAPES = { ";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n" };

function unescapeTag(value) {
	let out = "";
	for (let i = 0; i < value.length; i++) {
		const c = value[i];
		if (c !== "\\") {
			out += c;
			continue;
		}
		i++;
		// "If a \ exists with no valid escape, the \ is dropped."
		if (i < value.length) out += TAG_ESCAPES[value[i]] ?? value[i];
	}
	return out;
}

function escapeTag(value) {
	return String(value).replace(/[; \\\r\n]/g, (c) => TAG_UNESCAPES[c]);
}

/** `nick!user@host` (or a server name) as {name, user, host}. */
export function parsePrefix(text) {
	const bang = text.indexOf("!");
	const at = text.indexOf("@", bang < 0 ? 0 : bang);
	if (bang < 0 && at < 0) return { name: text, user: null, host: null };
	const nameEnd = bang >= 0 ? bang : at;
	return {
		name: text.slice(0, nameEnd),
		user: bang >= 0 ? text.slice(bang + 1, at >= 0 ? at : undefined) : null,
		host: at >= 0 ? text.slice(at + 1) : null,
	};
}

/**
 * One line, without CR LF, as {tags, prefix, command, params}.
 * A line that is not IRC (empty, no command) gives null: the caller ignores it.
 */
export function parseMessage(line) {
	let rest = line.replace(/[\r\n]+$/, "");
	const tags = {};
	if (rest.startsWith("@")) {
		const end = rest.indexOf(" ");
		if (end < 0) return null;
		for (const item of rest.slice(1, end).split(";")) {
			if (!item) continue;
			const eq = item.indexOf("=");
			if (eq < 0) tags[item] = "";
			else tags[item.slice(0, eq)] = unescapeTag(item.slice(eq + 1));
		}
		rest = rest.slice(end + 1);
	}
	rest = rest.replace(/^ +/, "");
	let prefix = null;
	if (rest.startsWith(":")) {
		const end = rest.indexOf(" ");
		if (end < 0) return null;
		prefix = parsePrefix(rest.slice(1, end));
		rest = rest.slice(end + 1);
	}
	const params = [];
	let command = null;
	while (rest.length) {
		rest = rest.replace(/^ +/, "");
		if (!rest.length) break;
		if (command !== null && rest.startsWith(":")) {
			params.push(rest.slice(1));
			break;
		}
		const end = rest.indexOf(" ");
		const word = end < 0 ? rest : rest.slice(0, end);
		rest = end < 0 ? "" : rest.slice(end + 1);
		if (command === null) command = word.toUpperCase();
		else params.push(word);
	}
	if (!command) return null;
	return { tags, prefix, command, params };
}

/** {tags?, command, params} as one line, without CR LF. */
export function formatMessage(msg) {
	let out = "";
	const tags = Object.entries(msg.tags || {});
	if (tags.length) {
		out +=
			"@" +
			tags.map(([k, v]) => (v === "" || v === true ? k : k + "=" + escapeTag(v))).join(";") +
			" ";
	}
	out += msg.command;
	const params = msg.params || [];
	params.forEach((param, i) => {
		// Only the last parameter may hold spaces, start with ':' or be empty.
		const trailing = i === params.length - 1 && (param === "" || /[ ]|^:/.test(param));
		out += trailing ? " :" + param : " " + param;
	});
	return out;
}

/** A parameter the client sends that the user typed: no line breaks, no NUL. */
export function clean(text) {
	return String(text).replace(/[\r\n\0]+/g, " ");
}

/** ISUPPORT tokens (params between the nick and the trailing text) into a Map. */
export function parseISupport(tokens, into) {
	for (const token of tokens) {
		if (token.startsWith("-")) {
			into.delete(token.slice(1).toUpperCase());
			continue;
		}
		const eq = token.indexOf("=");
		const key = (eq < 0 ? token : token.slice(0, eq)).toUpperCase();
		const value = eq < 0 ? "" : token.slice(eq + 1).replace(/\\x([0-9a-fA-F]{2})/g, (_, h) =>
			String.fromCharCode(parseInt(h, 16)),
		);
		into.set(key, value);
	}
	return into;
}

/** PREFIX=(ov)@+ as [{mode: "o", prefix: "@"}, ...], highest first. */
export function parsePrefixes(value) {
	const m = /^\(([^)]*)\)(.*)$/.exec(value || "(ov)@+");
	if (!m || m[1].length !== m[2].length) return parsePrefixes("(ov)@+");
	return [...m[1]].map((mode, i) => ({ mode, prefix: m[2][i] }));
}

/** A function mapping a name to its comparison key, for the server's CASEMAPPING. */
export function caseMapping(name) {
	switch ((name || "").toLowerCase()) {
		case "ascii":
			return (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
		case "rfc1459":
			return (s) =>
				s.replace(/[A-Z[\]\\~]/g, (c) => ({ "[": "{", "]": "}", "\\": "|", "~": "^" })[c] ?? c.toLowerCase());
		default:
			// rfc8265 (PRECIS) and anything unknown: Unicode lowercase of the NFC form.
			return (s) => s.normalize("NFC").toLowerCase();
	}
}

/** A Map whose keys compare under a case mapping; keeps the name as first given. */
export class NameMap {
	constructor(fold) {
		this.fold = fold;
		this.map = new Map();
	}
	get size() {
		return this.map.size;
	}
	get(name) {
		return this.map.get(this.fold(name))?.[1];
	}
	has(name) {
		return this.map.has(this.fold(name));
	}
	set(name, value) {
		this.map.set(this.fold(name), [name, value]);
		return this;
	}
	delete(name) {
		return this.map.delete(this.fold(name));
	}
	clear() {
		this.map.clear();
	}
	values() {
		return [...this.map.values()].map(([, v]) => v);
	}
	entries() {
		return [...this.map.values()];
	}
}

/** True for a name that starts with one of the server's channel types. */
export function isChannel(name, chantypes = "#&") {
	return name.length > 0 && chantypes.includes(name[0]);
}

/** CTCP: "\x01ACTION waves\x01" as {command, text}, or null for plain text. */
export function parseCtcp(text) {
	if (!text.startsWith("\x01")) return null;
	const body = text.slice(1).replace(/\x01$/, "");
	const space = body.indexOf(" ");
	return space < 0
		? { command: body.toUpperCase(), text: "" }
		: { command: body.slice(0, space).toUpperCase(), text: body.slice(space + 1) };
}

/**
 * Text with mIRC formatting codes as runs of {text, bold, italic, underline, strike,
 * mono, reverse, fg, bg}; fg and bg are colour numbers 0-15 or null. Hex colours (\x04)
 * and unknown codes are dropped: the codes are shown as style, never as characters.
 */
export function formatRuns(text) {
	const runs = [];
	let style = { bold: false, italic: false, underline: false, strike: false, mono: false, reverse: false, fg: null, bg: null };
	let current = "";
	const flush = () => {
		if (current) runs.push({ text: current, ...style });
		current = "";
	};
	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		const toggle = { "\x02": "bold", "\x1d": "italic", "\x1f": "underline", "\x1e": "strike", "\x11": "mono", "\x16": "reverse" }[c];
		if (toggle) {
			flush();
			style = { ...style, [toggle]: !style[toggle] };
		} else if (c === "\x0f") {
			flush();
			style = { bold: false, italic: false, underline: false, strike: false, mono: false, reverse: false, fg: null, bg: null };
		} else if (c === "\x03") {
			flush();
			const m = /^(\d{1,2})?(?:,(\d{1,2}))?/.exec(text.slice(i + 1));
			if (!m[1]) {
				style = { ...style, fg: null, bg: null };
				if (m[0]) i += m[0].length;
			} else {
				i += m[0].length;
				const fg = Number(m[1]);
				const bg = m[2] === undefined ? style.bg : Number(m[2]);
				style = { ...style, fg: fg < 16 ? fg : null, bg: bg !== null && bg < 16 ? bg : null };
			}
		} else if (c === "\x04") {
			flush();
			const m = /^([0-9a-fA-F]{6})?(?:,([0-9a-fA-F]{6}))?/.exec(text.slice(i + 1));
			i += m[0].length;
		} else if (c < " " && c !== "\t") {
			// Other control characters (CTCP's \x01 among them) are not text.
		} else {
			current += c;
		}
	}
	flush();
	return runs;
}

/** The text without formatting codes. */
export function stripFormatting(text) {
	return formatRuns(text)
		.map((r) => r.text)
		.join("");
}

/** Splits a message into pieces of at most `max` UTF-8 bytes, at spaces when it can. */
export function splitText(text, max) {
	const encoder = new TextEncoder();
	const pieces = [];
	let rest = text;
	while (encoder.encode(rest).length > max) {
		// The longest prefix of whole characters that fits.
		let lo = 0;
		let hi = rest.length;
		while (lo < hi) {
			const mid = Math.ceil((lo + hi) / 2);
			if (encoder.encode(rest.slice(0, mid)).length <= max) lo = mid;
			else hi = mid - 1;
		}
		let cut = lo;
		// Do not cut a surrogate pair in two.
		if (cut > 0 && /[\ud800-\udbff]/.test(rest[cut - 1])) cut--;
		const space = rest.lastIndexOf(" ", cut);
		if (space > cut / 2) cut = space;
		pieces.push(rest.slice(0, cut));
		rest = rest.slice(cut).replace(/^ /, "");
	}
	pieces.push(rest);
	return pieces;
}

let labelCounter = 0;

/** A fresh label for labeled-response. */
export function nextLabel() {
	labelCounter += 1;
	return "l" + labelCounter;
}
