// SASL for AUTHENTICATE: the mechanisms PLAIN and SCRAM-SHA-256 (RFC 5802, RFC 7677,
// computed with Web Crypto), and the exchange (Authenticator) that picks one and carries
// its base64 chunks. A mechanism's `step(challenge)` takes the server's decoded
// challenge (bytes) and resolves to the response (bytes).

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes as base64. */
export function toBase64(bytes) {
	let binary = "";
	for (const b of bytes) binary += String.fromCharCode(b);
	return btoa(binary);
}

/** base64 as bytes (throws on bad input). */
export function fromBase64(text) {
	const binary = atob(text);
	const out = new Uint8Array(binary.length);
	for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
	return out;
}

/** True where this page may use SCRAM: Web Crypto exists only in secure contexts. */
export function scramAvailable() {
	return Boolean(globalThis.crypto && crypto.subtle);
}

export class Plain {
	name = "PLAIN";
	constructor(account, password) {
		this.account = account;
		this.password = password;
	}
	// RFC 4616: message = [authzid] UTF8NUL authcid UTF8NUL passwd
	async step() {
		return encoder.encode("\0" + this.account + "\0" + this.password);
	}
}

async function hmac(key, data) {
	const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}

async function sha256(data) {
	return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

async function pbkdf2(password, salt, iterations) {
	const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
	const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
	return new Uint8Array(bits);
}

function xor(a, b) {
	return a.map((byte, i) => byte ^ b[i]);
}

function attributes(text) {
	const out = {};
	for (const part of text.split(",")) {
		const eq = part.indexOf("=");
		if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
	}
	return out;
}

/** RFC 5802 saslname: "=" as "=3D" and "," as "=2C". */
function saslname(name) {
	return name.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

/**
 * SCRAM-SHA-256 without channel binding. Steps: client-first; on the server-first
 * message, client-final with the proof; on the server-final message, its signature is
 * checked (a server that cannot prove it knows the password is refused) and an empty
 * response ends the exchange.
 */
export class Scram {
	name = "SCRAM-SHA-256";
	constructor(account, password, nonce) {
		this.account = account;
		// SASLprep is approximated by NFKC, which is what it does for ordinary passwords.
		this.password = password.normalize("NFKC");
		this.nonce = nonce ?? toBase64(crypto.getRandomValues(new Uint8Array(18)));
		this.state = "start";
	}

	async step(challenge) {
		switch (this.state) {
			case "start": {
				this.clientFirstBare = "n=" + saslname(this.account) + ",r=" + this.nonce;
				this.state = "first";
				// gs2-header "n,," : no channel binding, no authzid.
				return encoder.encode("n,," + this.clientFirstBare);
			}
			case "first": {
				const serverFirst = decoder.decode(challenge);
				const attrs = attributes(serverFirst);
				const iterations = Number(attrs.i);
				if (!attrs.r?.startsWith(this.nonce) || !attrs.s || !(iterations > 0)) {
					throw new Error("SCRAM: bad server-first message");
				}
				const finalNoProof = "c=biws,r=" + attrs.r;
				const salted = await pbkdf2(encoder.encode(this.password), fromBase64(attrs.s), iterations);
				const clientKey = await hmac(salted, encoder.encode("Client Key"));
				const storedKey = await sha256(clientKey);
				const authMessage = encoder.encode(this.clientFirstBare + "," + serverFirst + "," + finalNoProof);
				const clientSignature = await hmac(storedKey, authMessage);
				const serverKey = await hmac(salted, encoder.encode("Server Key"));
				this.expected = toBase64(await hmac(serverKey, authMessage));
				this.state = "final";
				return encoder.encode(finalNoProof + ",p=" + toBase64(xor(clientKey, clientSignature)));
			}
			case "final": {
				const attrs = attributes(decoder.decode(challenge));
				if (attrs.v !== this.expected) throw new Error("SCRAM: the server's signature is wrong");
				this.state = "done";
				return new Uint8Array(0);
			}
			default:
				throw new Error("SCRAM: unexpected challenge");
		}
	}
}

const CHUNK = 400;

/**
 * One login by AUTHENTICATE: SCRAM-SHA-256 where Web Crypto exists, else PLAIN; after
 * a failure, PLAIN once if not tried yet. Challenges and responses are base64 "split
 * to 400-byte chunks ... If the last chunk was exactly 400 bytes long, it must also be
 * followed by AUTHENTICATE +" (IRCv3 SASL 3.1).
 */
export class Authenticator {
	/**
	 * @param {string[]} offered the mechanisms the server lists (CAP LS sasl=...)
	 * @param {function} send (param) => sends "AUTHENTICATE <param>"
	 */
	constructor(offered, account, password, send) {
		this.offered = offered;
		this.account = account;
		this.password = password;
		this.send = send;
		this.tried = new Set();
		this.mechanism = null;
		this.buffer = "";
	}

	/** Starts with the best mechanism not tried; false when none is left. */
	start() {
		let mechanism = null;
		if (this.offered.includes("SCRAM-SHA-256") && scramAvailable() && !this.tried.has("SCRAM-SHA-256")) {
			mechanism = new Scram(this.account, this.password);
		} else if (this.offered.includes("PLAIN") && !this.tried.has("PLAIN")) {
			mechanism = new Plain(this.account, this.password);
		}
		if (!mechanism) return false;
		this.tried.add(mechanism.name);
		this.mechanism = mechanism;
		this.buffer = "";
		this.send(mechanism.name);
		return true;
	}

	/** After a failure (904): tries PLAIN if SCRAM failed; false when nothing is left. */
	retry() {
		this.mechanism = null;
		return !this.tried.has("PLAIN") && this.offered.includes("PLAIN") && this.start();
	}

	/** One AUTHENTICATE line from the server. */
	receive(data) {
		const mechanism = this.mechanism;
		if (!mechanism) return;
		if (data !== "+") this.buffer += data;
		if (data.length === CHUNK) return;
		const challenge = this.buffer;
		this.buffer = "";
		let bytes;
		try {
			bytes = challenge ? fromBase64(challenge) : new Uint8Array(0);
		} catch {
			this.send("*");
			return;
		}
		mechanism.step(bytes).then(
			(response) => {
				if (this.mechanism !== mechanism) return;
				const encoded = toBase64(response);
				for (let i = 0; i < encoded.length; i += CHUNK) this.send(encoded.slice(i, i + CHUNK));
				if (encoded.length % CHUNK === 0) this.send("+");
			},
			() => this.send("*"),
		);
	}
}
