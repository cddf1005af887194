// The / commands of the input line, as in the terminal client: a table of name →
// {usage, run}. `run(ctx, args)` gets the text after the command; ctx offers the chat,
// the client, the active buffer and the few app actions a command needs.

import { SERVER } from "../lib/chat.js";
import { clean } from "../lib/irc.js";
import { t } from "./i18n.js";

function firstWord(text) {
	const trimmed = text.trim();
	const space = trimmed.indexOf(" ");
	return space < 0 ? [trimmed, ""] : [trimmed.slice(0, space), trimmed.slice(space + 1)];
}

function channelOf(ctx, name) {
	if (!name) return name;
	return ctx.client.isChannel(name) ? name : "#" + name;
}

function needTarget(ctx) {
	const buffer = ctx.buffer;
	if (buffer.name === SERVER) {
		ctx.error(t("noTarget"));
		return null;
	}
	return buffer.name;
}

export const COMMANDS = {
	join: {
		usage: "/join #channel [key]",
		run(ctx, args) {
			const [channels, key] = firstWord(args);
			if (!channels) return ctx.usage("join");
			const names = channels.split(",").map((c) => channelOf(ctx, c)).join(",");
			const first = ctx.chat.buffer(names.split(",")[0]);
			// Already there: show it (the server says nothing to a JOIN of a joined room).
			if (first && first.joined) ctx.select(first.name);
			else ctx.expectJoin(names.split(",")[0]);
			ctx.chat.join(names, key.trim() || undefined);
		},
	},
	part: {
		usage: "/part [#channel] [reason]",
		run(ctx, args) {
			let [channel, reason] = firstWord(args);
			if (!channel || !ctx.client.isChannel(channel)) {
				reason = args.trim();
				channel = ctx.buffer.kind === "channel" ? ctx.buffer.name : null;
			}
			if (!channel) return ctx.usage("part");
			ctx.chat.part(channel, reason);
		},
	},
	msg: {
		usage: "/msg nick text",
		run(ctx, args) {
			const [target, text] = firstWord(args);
			if (!target || !text) return ctx.usage("msg");
			if (!ctx.client.isChannel(target)) ctx.chat.openQuery(target);
			ctx.chat.say(target, text);
		},
	},
	query: {
		usage: "/query nick [text]",
		run(ctx, args) {
			const [target, text] = firstWord(args);
			if (!target || ctx.client.isChannel(target)) return ctx.usage("query");
			ctx.chat.openQuery(target);
			ctx.select(target);
			if (text) ctx.chat.say(target, text);
		},
	},
	me: {
		usage: "/me action",
		run(ctx, args) {
			const target = needTarget(ctx);
			if (target && args.trim()) ctx.chat.say(target, args, true);
		},
	},
	nick: {
		usage: "/nick newnick",
		run(ctx, args) {
			const [nick] = firstWord(args);
			if (!nick) return ctx.usage("nick");
			ctx.client.send({ command: "NICK", params: [nick] });
		},
	},
	topic: {
		usage: "/topic [text]",
		run(ctx, args) {
			if (ctx.buffer.kind !== "channel") return ctx.error(t("notChannel"));
			if (args.trim()) ctx.client.send({ command: "TOPIC", params: [ctx.buffer.name, clean(args)] });
			else ctx.info(ctx.buffer.topic ? t("topicIs", ctx.buffer.topic) : t("noTopic"));
		},
	},
	away: {
		usage: "/away [message]",
		run(ctx, args) {
			ctx.client.send({ command: "AWAY", params: args.trim() ? [clean(args)] : [] });
		},
	},
	whois: {
		usage: "/whois nick",
		run(ctx, args) {
			const [nick] = firstWord(args);
			if (!nick) return ctx.usage("whois");
			ctx.client.send({ command: "WHOIS", params: [nick] });
		},
	},
	profile: {
		usage: "/profile [key [value]]",
		run(ctx, args) {
			// display-name, avatar (an https URL), status, or any key the server allows.
			const [key, value] = firstWord(args);
			if (!key) {
				const own = ctx.chat.profiles.of(ctx.client.nick);
				for (const [name, field] of [["display-name", "displayName"], ["avatar", "avatar"], ["status", "status"]])
					ctx.info(name + ": " + (own[field] || t("profileUnset")));
				ctx.client.send({ command: "METADATA", params: ["*", "LIST"] });
				return;
			}
			const params = value.trim() ? ["*", "SET", key, clean(value.trim())] : ["*", "SET", key];
			// Said once the server confirms it; a refusal comes as an error instead.
			ctx.chat.profiles.expect(key);
			ctx.client.send({ command: "METADATA", params });
		},
	},
	list: {
		usage: "/list [pattern]",
		run(ctx, args) {
			ctx.client.send({ command: "LIST", params: args.trim() ? [args.trim()] : [] });
		},
	},
	quit: {
		usage: "/quit [reason]",
		run(ctx, args) {
			ctx.quit(args.trim());
		},
	},
	raw: {
		usage: "/raw LINE",
		run(ctx, args) {
			if (!args.trim()) return ctx.usage("raw");
			ctx.client.sendRaw(args.trim());
		},
	},
	close: {
		usage: "/close",
		run(ctx) {
			ctx.chat.close(ctx.buffer.name);
		},
	},
	help: {
		usage: "/help",
		run(ctx) {
			ctx.info(t("helpIntro"));
			for (const [name, command] of Object.entries(COMMANDS)) ctx.info(command.usage + " — " + t("help_" + name));
			ctx.info(t("helpKeys"));
		},
	},
};

// Aliases as the terminal client and most IRC clients have them.
COMMANDS.j = COMMANDS.join;
COMMANDS.leave = COMMANDS.part;
COMMANDS.q = COMMANDS.query;
COMMANDS.quote = COMMANDS.raw;

/** Runs one input line: a command, or text to say ("//" says a line starting with "/"). */
export function runInput(ctx, text) {
	if (text.startsWith("/") && !text.startsWith("//")) {
		const [word, args] = firstWord(text.slice(1));
		const command = COMMANDS[word.toLowerCase()];
		if (!command) {
			ctx.error(t("unknownCommand", word));
			return;
		}
		command.run(ctx, args);
		return;
	}
	const body = text.startsWith("//") ? text.slice(1) : text;
	const target = needTarget(ctx);
	if (target && body) ctx.chat.say(target, body);
}

/** Command names for completion. */
export function commandNames() {
	return Object.keys(COMMANDS).filter((name) => name.length > 1 && !["leave", "quote"].includes(name));
}
