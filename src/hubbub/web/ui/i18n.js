// The client's words in English and Russian, chosen from the browser's languages.
// t(key, ...args) fills {0}, {1} ...; tn(key, n) picks the plural form for n (Intl
// plural rules) and fills {n}. Static text in index.html names its key in data-i18n
// (text), data-i18n-label (aria-label) or data-i18n-placeholder.

const EN = {
	tagline: "Pick a name and start talking.",
	nickLabel: "Your name",
	channelsLabel: "Rooms to join",
	accountLegend: "Account",
	modeNone: "No account",
	modeLogin: "Log in",
	modeRegister: "Create an account",
	accountLabel: "Account name",
	accountPlaceholder: "the same as your name",
	passwordLabel: "Password",
	emailLabel: "Email (optional)",
	connect: "Connect",
	conversations: "Conversations",
	members: "Members",
	quitButton: "Leave",
	chat: "Chat",
	messages: "Messages",
	messageBox: "Message",
	send: "Send",
	cancel: "Cancel",
	sendAll: "Send them",
	badNick: "Choose a name without spaces or punctuation at its start.",
	needPassword: "Enter the password.",
	needSecure: "Passwords are only sent over https: open this page with https://.",
	errNick: "The server does not accept this name.",
	errSasl: "Logging in failed: check the account name and password.",
	errRegister: "The account could not be created.",
	errServer: "The server refused the connection.",
	nickTaken: "The name {0} is taken: you are {1}.",
	accountMade: "Account {0} created: you are logged in.",
	accountVerify: "Account {0} created; it must be verified before use.",
	serverPlaceholder: "Type /join #room, or /help",
	messagePlaceholder: "Message {0}",
	privateChat: "Private chat",
	typingOne: "{0} is typing…",
	typingTwo: "{0} and {1} are typing…",
	typingMany: "Several people are typing…",
	connecting: "Connecting…",
	disconnected: "Disconnected.",
	reconnectIn: { one: "Connection lost. Trying again in {n} second.", other: "Connection lost. Trying again in {n} seconds." },
	reconnectNow: "Reconnect now",
	notifyOn: "Notifications: on",
	notifyOff: "Notifications: off",
	notifyDenied: "The browser does not allow notifications for this page.",
	server: "Server",
	unread: { one: "{n} unread message", other: "{n} unread messages" },
	mentionCount: { one: "{n} mention", other: "{n} mentions" },
	notJoined: "not joined",
	leave: "Leave {0}",
	closeChat: "Close the chat with {0}",
	memberCount: { one: "{n} member", other: "{n} members" },
	moreMembers: { one: "and {n} more", other: "and {n} more" },
	op: "operator",
	voice: "voice",
	away: "away",
	joined: "{0} joined",
	left: "{0} left",
	leftWith: "{0} left ({1})",
	quit: "{0} quit",
	quitWith: "{0} quit ({1})",
	nickChanged: "{0} is now {1}",
	kicked: "{1} removed {0} ({2})",
	topicSet: "{0} set the topic:",
	modeSet: "{0} sets mode {1}",
	invited: "{0} invites you to",
	joinChannel: "Join {0}",
	jumpLatest: "↓ Latest messages",
	loadingOlder: "Loading older messages…",
	beginning: "The beginning of the conversation.",
	scrollForOlder: "Scroll up for older messages.",
	newMessages: "New messages",
	noTarget: "Join a room or open a private chat first (/join #room, /query name).",
	notChannel: "This is not a room.",
	topicIs: "Topic: {0}",
	noTopic: "No topic is set.",
	unknownCommand: "Unknown command /{0}. Type /help for the list.",
	usage: "Usage: {0}",
	pasteLines: { one: "Send {n} line?", other: "Send {n} lines as separate messages?" },
	helpIntro: "Commands:",
	help_join: "join a room",
	help_part: "leave a room",
	help_msg: "send a private message",
	help_query: "open a private chat",
	help_me: "describe an action",
	help_nick: "change your name",
	help_topic: "show or set the room's topic",
	help_away: "mark yourself away (no message: back)",
	help_whois: "who is this?",
	help_profile: "your display name, avatar (an https URL) and status: list, set, or clear with no value",
	profileSet: "{0} set to: {1}",
	profileCleared: "{0} cleared",
	profileUnset: "(not set)",
	help_list: "list the rooms",
	help_quit: "leave the server",
	help_raw: "send a raw IRC line",
	help_close: "close this conversation",
	help_help: "this help",
	helpKeys: "Keys: Tab completes names, Up/Down recall sent lines, Alt+Up/Down or Alt+1…9 change conversation, Alt+A goes to unread, Escape closes panels.",
};

const RU = {
	tagline: "Выберите имя и начинайте разговор.",
	nickLabel: "Ваше имя",
	channelsLabel: "Комнаты",
	accountLegend: "Учётная запись",
	modeNone: "Без учётной записи",
	modeLogin: "Войти",
	modeRegister: "Создать учётную запись",
	accountLabel: "Имя учётной записи",
	accountPlaceholder: "то же, что имя",
	passwordLabel: "Пароль",
	emailLabel: "Почта (необязательно)",
	connect: "Войти в чат",
	conversations: "Разговоры",
	members: "Участники",
	quitButton: "Выйти",
	chat: "Чат",
	messages: "Сообщения",
	messageBox: "Сообщение",
	send: "Отправить",
	cancel: "Отмена",
	sendAll: "Отправить",
	badNick: "Имя не должно содержать пробелов и начинаться со знака препинания.",
	needPassword: "Введите пароль.",
	needSecure: "Пароль можно отправить только по https: откройте страницу по адресу https://.",
	errNick: "Сервер не принимает это имя.",
	errSasl: "Не удалось войти: проверьте имя учётной записи и пароль.",
	errRegister: "Не удалось создать учётную запись.",
	errServer: "Сервер отказал в подключении.",
	nickTaken: "Имя {0} занято: вы — {1}.",
	accountMade: "Учётная запись {0} создана, вы вошли.",
	accountVerify: "Учётная запись {0} создана; её нужно подтвердить.",
	serverPlaceholder: "Наберите /join #комната или /help",
	messagePlaceholder: "Сообщение в {0}",
	privateChat: "Личный разговор",
	typingOne: "{0} печатает…",
	typingTwo: "{0} и {1} печатают…",
	typingMany: "Несколько человек печатают…",
	connecting: "Подключение…",
	disconnected: "Соединение закрыто.",
	reconnectIn: {
		one: "Связь потеряна. Новая попытка через {n} секунду.",
		few: "Связь потеряна. Новая попытка через {n} секунды.",
		many: "Связь потеряна. Новая попытка через {n} секунд.",
		other: "Связь потеряна. Новая попытка через {n} секунды.",
	},
	reconnectNow: "Подключиться сейчас",
	notifyOn: "Уведомления: вкл.",
	notifyOff: "Уведомления: выкл.",
	notifyDenied: "Браузер не разрешает уведомления для этой страницы.",
	server: "Сервер",
	unread: { one: "{n} непрочитанное", few: "{n} непрочитанных", many: "{n} непрочитанных", other: "{n} непрочитанных" },
	mentionCount: { one: "{n} упоминание", few: "{n} упоминания", many: "{n} упоминаний", other: "{n} упоминания" },
	notJoined: "вы не в комнате",
	leave: "Покинуть {0}",
	closeChat: "Закрыть разговор с {0}",
	memberCount: { one: "{n} участник", few: "{n} участника", many: "{n} участников", other: "{n} участника" },
	moreMembers: { one: "и ещё {n}", few: "и ещё {n}", many: "и ещё {n}", other: "и ещё {n}" },
	op: "оператор",
	voice: "голос",
	away: "отошёл",
	joined: "{0} вошёл",
	left: "{0} вышел",
	leftWith: "{0} вышел ({1})",
	quit: "{0} отключился",
	quitWith: "{0} отключился ({1})",
	nickChanged: "{0} теперь {1}",
	kicked: "{1} удалил {0} ({2})",
	topicSet: "{0} сменил тему:",
	modeSet: "{0} ставит режим {1}",
	invited: "{0} приглашает вас в",
	joinChannel: "Войти в {0}",
	jumpLatest: "↓ К последним сообщениям",
	loadingOlder: "Загрузка более ранних сообщений…",
	beginning: "Начало разговора.",
	scrollForOlder: "Прокрутите вверх, чтобы увидеть более ранние сообщения.",
	newMessages: "Новые сообщения",
	noTarget: "Сначала войдите в комнату или откройте личный разговор (/join #комната, /query имя).",
	notChannel: "Это не комната.",
	topicIs: "Тема: {0}",
	noTopic: "Тема не задана.",
	unknownCommand: "Неизвестная команда /{0}. Список: /help.",
	usage: "Использование: {0}",
	pasteLines: {
		one: "Отправить {n} строку?",
		few: "Отправить {n} строки отдельными сообщениями?",
		many: "Отправить {n} строк отдельными сообщениями?",
		other: "Отправить {n} строки отдельными сообщениями?",
	},
	helpIntro: "Команды:",
	help_join: "войти в комнату",
	help_part: "покинуть комнату",
	help_msg: "личное сообщение",
	help_query: "открыть личный разговор",
	help_me: "описать действие",
	help_nick: "сменить имя",
	help_topic: "показать или сменить тему комнаты",
	help_away: "отметить, что вы отошли (без текста: вернулись)",
	help_whois: "кто это?",
	help_profile: "ваше отображаемое имя, аватар (https-адрес) и статус: показать, задать, без значения — стереть",
	profileSet: "{0}: {1}",
	profileCleared: "{0}: стёрто",
	profileUnset: "(не задано)",
	help_list: "список комнат",
	help_quit: "выйти с сервера",
	help_raw: "отправить строку IRC как есть",
	help_close: "закрыть этот разговор",
	help_help: "эта справка",
	helpKeys: "Клавиши: Tab дополняет имена, вверх/вниз — отправленные строки, Alt+вверх/вниз или Alt+1…9 — другой разговор, Alt+A — к непрочитанному, Escape закрывает панели.",
};

const DICTIONARIES = { en: EN, ru: RU };

function pick(languages) {
	for (const language of languages) {
		const base = String(language).toLowerCase().split("-")[0];
		if (base in DICTIONARIES) return base;
	}
	return "en";
}

let current = pick(typeof navigator === "undefined" ? [] : navigator.languages?.length ? navigator.languages : [navigator.language]);
let plurals = new Intl.PluralRules(current);

/** The language in use ("en" or "ru"). */
export function lang() {
	return current;
}

/** For tests: use `language` from now on. */
export function setLanguage(language) {
	current = pick([language]);
	plurals = new Intl.PluralRules(current);
}

function fill(text, args) {
	return text.replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i)] ?? ""));
}

export function t(key, ...args) {
	const entry = DICTIONARIES[current][key] ?? EN[key] ?? key;
	return fill(typeof entry === "string" ? entry : entry.other, args);
}

export function tn(key, n, ...args) {
	const entry = DICTIONARIES[current][key] ?? EN[key];
	if (!entry) return key;
	const form = typeof entry === "string" ? entry : (entry[plurals.select(n)] ?? entry.other);
	return fill(form.replace(/\{n\}/g, String(n)), args);
}

/** Puts the words of the current language in the page's static text. */
export function translate(root) {
	document.documentElement.lang = current;
	for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
	for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
	for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}
