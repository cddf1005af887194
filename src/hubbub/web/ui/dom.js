// A small DOM builder: elements from a tag, properties and children. Text is always
// set as text (text nodes, textContent): nothing here parses HTML.

/**
 * h("a", {className: "x", href: url}, "text", child) → HTMLAnchorElement.
 * Properties are assigned (`className`, `href`, `hidden` ...); keys starting with
 * "aria-" or "data-", and `role`, are attributes; `on<event>` keys add listeners.
 */
export function h(tag, props = {}, ...children) {
	const el = document.createElement(tag);
	for (const [key, value] of Object.entries(props ?? {})) {
		if (value === undefined || value === null || value === false) continue;
		if (key.startsWith("on") && typeof value === "function") {
			el.addEventListener(key.slice(2).toLowerCase(), value);
		} else if (key.startsWith("aria-") || key.startsWith("data-") || key === "role") {
			el.setAttribute(key, value === true ? "true" : String(value));
		} else {
			el[key] = value;
		}
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const child of children.flat(Infinity)) {
		if (child === null || child === undefined || child === false) continue;
		el.append(child instanceof Node ? child : document.createTextNode(String(child)));
	}
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
	el.replaceChildren();
	append(el, children);
}

/** document.getElementById, which must find it. */
export function byId(id) {
	const el = document.getElementById(id);
	if (!el) throw new Error("missing #" + id);
	return el;
}
