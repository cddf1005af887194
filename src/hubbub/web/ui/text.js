// User text as DOM: formatting codes as classes, links made clickable. Every piece of
// what a user sent becomes a text node; a link is an <a> whose href is an http(s) URL
// that the URL parser accepted, and whose text is the text as sent.

import { formatRuns } from "../lib/irc.js";
import { h } from "./dom.js";

const NICK_COLOURS = 12;
// A URL starts at http:// or https:// (or www.) and runs to a space; trailing
// punctuation that usually ends a sentence is left out.
const URL_PATTERN = /\b(?:https?:\/\/|www\.)[^\s<>"]+/gi;

/** The colour class of a nick: the same nick gets the same colour everywhere. */
export function nickClass(nick) {
	let hash = 0;
	for (const c of nick.toLowerCase()) hash = (hash * 31 + c.codePointAt(0)) >>> 0;
	return "nick n" + (hash % NICK_COLOURS);
}

/** The URL for a link, or null: only http and https become links. */
export function safeUrl(text) {
	let url;
	try {
		url = new URL(/^www\./i.test(text) ? "https://" + text : text);
	} catch {
		return null;
	}
	return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
}

function trimUrl(text) {
	let end = text.length;
	while (end > 0 && /[.,;:!?'»”)\]}]/.test(text[end - 1])) {
		// Keep a closing bracket that closes one opened inside the URL.
		const c = text[end - 1];
		const open = { ")": "(", "]": "[", "}": "{" }[c];
		if (open && text.slice(0, end).split(open).length > text.slice(0, end).split(c).length - 1) break;
		end--;
	}
	return text.slice(0, end);
}

/** Text with its links as <a> elements; everything else as text nodes. */
export function linkify(text) {
	const out = [];
	let last = 0;
	for (const match of text.matchAll(URL_PATTERN)) {
		const raw = trimUrl(match[0]);
		const href = safeUrl(raw);
		if (!href) continue;
		if (match.index > last) out.push(text.slice(last, match.index));
		out.push(h("a", { href, textContent: raw, target: "_blank", rel: "noopener noreferrer" }));
		last = match.index + raw.length;
	}
	if (last < text.length) out.push(text.slice(last));
	return out;
}

/** A message's text: formatting runs as spans with classes, links clickable. */
export function richText(text) {
	return formatRuns(text).map((run) => {
		const classes = [];
		for (const flag of ["bold", "italic", "underline", "strike", "mono"]) if (run[flag]) classes.push("f-" + flag);
		let fg = run.fg;
		let bg = run.bg;
		if (run.reverse) [fg, bg] = [bg ?? 0, fg ?? 1];
		if (fg !== null) classes.push("fg" + fg);
		if (bg !== null) classes.push("bg" + bg);
		const parts = linkify(run.text);
		return classes.length ? h("span", { className: classes.join(" ") }, parts) : parts;
	});
}
