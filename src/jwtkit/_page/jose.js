// The JOSE helpers of the token page, shared by the inspector and the flow: base64url
// (RFC 7515 §2), strict JSON (UTF-8, one object, no duplicate member names: RFC 7515 §5.2,
// RFC 7519 §7.2), token splitting (JWS RFC 7515 §7.1, JWE RFC 7516 §7.1), the coloured
// rendering of a token with its header and claims explained (glossary.json), and WebCrypto
// key import and signature checks (RFC 7518 §3, RFC 8037 §3.1). Nothing here sends anything
// anywhere but this origin.

/** A problem with a token or key, said in words: `part` names where ("header", ...). */
export class JoseError extends Error {
  constructor(message, part = "") {
    super(message);
    this.name = "JoseError";
    this.part = part;
  }
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** The bytes of a base64url string without padding (RFC 7515 §2); JoseError otherwise. */
export function base64urlDecode(text, part = "") {
  if (!B64URL.test(text)) {
    const bad = text.match(/[^A-Za-z0-9_-]/u)[0];
    const shown = bad === "=" ? "padding '='" : `the character ${JSON.stringify(bad)}`;
    throw new JoseError(`is not base64url: it holds ${shown} (RFC 7515 §2 allows A-Z, a-z, 0-9, '-' and '_', no padding)`, part);
  }
  if (text.length % 4 === 1) {
    throw new JoseError(`is not base64url: its length (${text.length}) cannot be that of any encoding`, part);
  }
  const standard = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(standard + "===".slice((standard.length + 3) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The base64url encoding of `bytes`, without padding. */
export function base64urlEncode(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/u, "");
}

/** The first repeated member name of any object in the JSON `text`, or null. */
function duplicateMember(text) {
  const stack = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top && top.keys && top.expectKey) {
        const name = JSON.parse(text.slice(i, j + 1));
        if (top.keys.has(name)) return name;
        top.keys.add(name);
        top.expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === "{") stack.push({ keys: new Set(), expectKey: true });
    else if (c === "[") stack.push({ keys: null });
    else if (c === "}" || c === "]") stack.pop();
    else if (c === ",") {
      const top = stack[stack.length - 1];
      if (top && top.keys) top.expectKey = true;
    }
    i += 1;
  }
  return null;
}

/** `text` as strict JSON: one object, no duplicate member names. */
export function parseJsonObject(text, part = "") {
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new JoseError(`is not JSON (${error.message})`, part);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new JoseError("is JSON but not an object ({...})", part);
  }
  const repeated = duplicateMember(text);
  if (repeated !== null) {
    throw new JoseError(`names the member ${JSON.stringify(repeated)} twice (RFC 7515 §5.2 refuses duplicates)`, part);
  }
  return value;
}

/** A base64url segment decoded: `bytes`, `text` (strict UTF-8, or null) and, with
 * `json: true`, `json` (a strict JSON object; JoseError when it is not one). */
export function decodeSegment(segment, { json = false, part = "" } = {}) {
  const bytes = base64urlDecode(segment, part);
  let text = null;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    if (json) throw new JoseError("is not UTF-8 text", part);
  }
  const decoded = { bytes, text };
  if (json) decoded.json = parseJsonObject(text, part);
  return decoded;
}

/** The parts' names of a JWS (3) and a JWE (5), in order, and their CSS classes. */
export const PARTS = {
  JWS: ["header", "payload", "signature"],
  JWE: ["header", "encrypted key", "iv", "ciphertext", "tag"],
};
const PART_CLASS = {
  header: "part-header",
  payload: "part-payload",
  signature: "part-signature",
  "encrypted key": "part-encrypted-key",
  iv: "part-iv",
  ciphertext: "part-ciphertext",
  tag: "part-tag",
};

/** `token` (surrounding white space and a "Bearer " prefix dropped) split into its parts:
 * `{kind: "JWS" | "JWE", parts, names}`. JoseError, in words, for anything else. */
export function splitToken(token) {
  const text = String(token).trim().replace(/^Bearer\s+/iu, "");
  if (text === "") throw new JoseError("The token is empty: paste a compact JWS (three parts) or JWE (five parts).");
  if (text.startsWith("{")) {
    throw new JoseError("This is JSON, not a compact token: the page reads the compact form (parts joined by dots), not the JSON serialization.");
  }
  if (/\s/u.test(text)) throw new JoseError("The token holds white space: a compact token is one line of base64url parts joined by dots.");
  const parts = text.split(".");
  const kind = parts.length === 3 ? "JWS" : parts.length === 5 ? "JWE" : null;
  if (kind === null) {
    throw new JoseError(`The token has ${parts.length} part${parts.length === 1 ? "" : "s"} (${parts.length - 1} dot${parts.length === 2 ? "" : "s"}): a JWS has 3, a JWE 5 (RFC 7515 §7.1, RFC 7516 §7.1).`);
  }
  const names = PARTS[kind];
  parts.forEach((part, index) => {
    // A JWS payload may be unencoded ("b64": false, RFC 7797 §5): decodeToken checks it.
    if (!(kind === "JWS" && index === 1)) base64urlDecode(part, names[index]);
  });
  return { kind, parts, names };
}

/** The token decoded: splitToken's fields plus `header` (object), and for a JWS `payload`
 * (its text), `claims` (an object when the payload is JSON, else null), `signingInput` and
 * `signature` (bytes). JoseError naming the part for anything malformed. */
export function decodeToken(token) {
  const split = splitToken(token);
  const [headerPart] = split.parts;
  if (headerPart === "") throw new JoseError("is empty", "header");
  const header = decodeSegment(headerPart, { json: true, part: "header" }).json;
  if (typeof header.alg !== "string") throw new JoseError('has no "alg" (the algorithm, RFC 7515 §4.1.1)', "header");
  const decoded = { ...split, header };
  if (split.kind === "JWE") {
    if (typeof header.enc !== "string") throw new JoseError('of a JWE has no "enc" (RFC 7516 §4.1.2)', "header");
    split.parts.slice(1).forEach((part, index) => base64urlDecode(part, split.names[index + 1]));
    return decoded;
  }
  const unencoded = header.b64 === false;
  const payload = unencoded ? { bytes: new TextEncoder().encode(split.parts[1]), text: split.parts[1] } : decodeSegment(split.parts[1], { part: "payload" });
  decoded.payload = payload.text;
  decoded.claims = null;
  if (payload.text !== null && payload.text.trimStart().startsWith("{")) {
    decoded.claims = parseJsonObject(payload.text, "payload");
  }
  decoded.signingInput = new TextEncoder().encode(`${split.parts[0]}.${split.parts[1]}`);
  decoded.signature = base64urlDecode(split.parts[2], "signature");
  return decoded;
}

// -- time ----------------------------------------------------------------------------------

/** `seconds` as the largest whole unit: "14 min", "3 h", "2 days". */
export function duration(seconds) {
  const s = Math.abs(Math.round(seconds));
  const units = [[86400 * 365, "year", "years"], [86400, "day", "days"], [3600, "h", "h"], [60, "min", "min"], [1, "s", "s"]];
  for (const [size, one, many] of units) {
    if (s >= size) {
      const n = Math.floor(s / size);
      return `${n} ${n === 1 ? one : many}`;
    }
  }
  return "0 s";
}

/** A NumericDate (RFC 7519 §2) as a UTC date: "2026-12-06 17:42:00 UTC". */
export function utcDate(numeric) {
  const date = new Date(numeric * 1000);
  if (Number.isNaN(date.getTime())) return "not a date";
  return date.toISOString().replace("T", " ").replace(/\.\d{3}Z$/u, " UTC");
}

/** The relative phrase of claim `name` at `numeric`, seen at `now` (Unix seconds). */
export function timePhrase(name, numeric, now) {
  const delta = numeric - now;
  const span = duration(delta);
  if (name === "exp") return delta > 0 ? `expires in ${span}` : `expired ${span} ago`;
  if (name === "nbf") return delta > 0 ? `not valid until ${span} from now` : `valid since ${span} ago`;
  return delta > 0 ? `in ${span}` : `${span} ago`;
}

// -- rendering -----------------------------------------------------------------------------

let glossaryPromise = null;

/** glossary.json (fetched once from this origin); an empty glossary if it cannot be had. */
export function loadGlossary() {
  if (glossaryPromise === null) {
    glossaryPromise = fetch(new URL("glossary.json", import.meta.url))
      .then((response) => (response.ok ? response.json() : null))
      .catch(() => null)
      .then((value) => value ?? { header: {}, claims: {}, time_claims: [] });
  }
  return glossaryPromise;
}

/** A new element `tag` with `className` and text `text`. */
export function element(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

function coloured(split) {
  const pre = element("pre", "token");
  pre.setAttribute("aria-label", `The token's ${split.parts.length} parts`);
  split.parts.forEach((part, index) => {
    if (index > 0) pre.append(element("span", "dot", "."));
    const span = element("span", PART_CLASS[split.names[index]], part);
    span.title = split.names[index];
    pre.append(span);
  });
  const legend = element("ul", "legend");
  split.names.forEach((name) => legend.append(element("li", PART_CLASS[name], name)));
  return [pre, legend];
}

function membersTable(object, entries, caption, now, timeClaims) {
  const table = element("table", "members");
  table.append(element("caption", "visually-hidden", caption));
  const body = element("tbody");
  for (const [name, value] of Object.entries(object)) {
    const row = element("tr");
    const th = element("th", "mono", name);
    th.scope = "row";
    const entry = Object.prototype.hasOwnProperty.call(entries, name) ? entries[name] : null;
    if (entry) th.append(element("span", "word", entry.word));
    const td = element("td");
    td.append(element("code", "value", JSON.stringify(value)));
    if (timeClaims.includes(name) && typeof value === "number" && Number.isFinite(value)) {
      const when = element("span", `when when-${name}`, `${utcDate(value)} (${timePhrase(name, value, now)})`);
      td.append(when);
    }
    if (entry) td.append(element("span", "about", entry.about));
    row.append(th, td);
    body.append(row);
  }
  table.append(body);
  return table;
}

function jsonBlock(value, label) {
  const pre = element("pre", "json", JSON.stringify(value, null, 2));
  pre.setAttribute("aria-label", label);
  pre.tabIndex = 0; // scrollable: reachable by the keyboard
  return pre;
}

/** Says, in `container`, what is wrong with the input: the part and the problem. */
export function renderProblem(container, error) {
  container.replaceChildren();
  const where = error instanceof JoseError && error.part ? `The ${error.part} ` : "";
  const text = error instanceof JoseError ? `${where}${error.message}` : `This is not a token: ${String(error && error.message)}`;
  const p = element("p", "problem", text);
  p.id = "problem";
  container.append(p);
}

/** Renders `token` into `container`: the coloured parts, the header and the claims as JSON
 * and as a table with each registered name explained and times shown as dates and relative
 * to now; a JWE's payload is marked encrypted. Malformed input is explained in words
 * (renderProblem), never thrown. Resolves to decodeToken's result, or null. */
export async function renderToken(container, token, { now = Date.now() / 1000 } = {}) {
  const glossary = await loadGlossary();
  let decoded;
  try {
    decoded = decodeToken(token);
  } catch (error) {
    renderProblem(container, error);
    return null;
  }
  const nodes = [...coloured(decoded)];
  const headerTitle = element("h2", "section-title", "Header");
  headerTitle.append(element("span", "kind", decoded.kind === "JWE" ? "JWE: encrypted token" : "JWS: signed token"));
  nodes.push(headerTitle, jsonBlock(decoded.header, "Header as JSON"), membersTable(decoded.header, glossary.header, "Header parameters", now, []));
  if (decoded.kind === "JWE") {
    nodes.push(element("h2", "section-title", "Payload"));
    const box = element("div", "encrypted");
    box.id = "encrypted";
    box.append(element("p", "", `Encrypted: the payload is ciphertext (${decoded.header.enc}), readable only with the recipient's key (${decoded.header.alg}). It is not decrypted here.`));
    nodes.push(box);
  } else if (decoded.claims) {
    nodes.push(element("h2", "section-title", "Claims"), jsonBlock(decoded.claims, "Claims as JSON"), membersTable(decoded.claims, glossary.claims, "Claims", now, glossary.time_claims));
  } else {
    nodes.push(element("h2", "section-title", "Payload"));
    const text = decoded.payload === null ? `A binary payload (${decoded.parts[1].length} base64url characters), not text.` : decoded.payload;
    nodes.push(element("pre", "json", text));
  }
  container.replaceChildren(...nodes);
  return decoded;
}

// -- service -------------------------------------------------------------------------------

let discovery = null;

/** The discovery document of this origin (`GET /.well-known/openid-configuration`): an
 * object in service mode, null otherwise (local mode). Fetched once. */
export function discover() {
  if (discovery === null) {
    discovery = fetch("/.well-known/openid-configuration", { headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((value) => (value && typeof value === "object" && !Array.isArray(value) ? value : null))
      .catch(() => null);
  }
  return discovery;
}

// -- WebCrypto -----------------------------------------------------------------------------

const HASH = { 256: "SHA-256", 384: "SHA-384", 512: "SHA-512" };
const CURVE = { ES256: "P-256", ES384: "P-384", ES512: "P-521" };

/** How WebCrypto checks `alg` (RFC 7518 §3.1): `{kty, params, verify}`, or null when this
 * page cannot check it (ML-DSA, ES256K, none, ...). `crv` (a JWK's) picks Ed25519 for EdDSA. */
export function algorithmOf(alg, crv = "Ed25519") {
  const size = alg.slice(2);
  if (/^HS(256|384|512)$/u.test(alg)) return { kty: "oct", params: { name: "HMAC", hash: HASH[size] }, verify: { name: "HMAC" } };
  if (/^RS(256|384|512)$/u.test(alg)) return { kty: "RSA", params: { name: "RSASSA-PKCS1-v1_5", hash: HASH[size] }, verify: { name: "RSASSA-PKCS1-v1_5" } };
  if (/^PS(256|384|512)$/u.test(alg)) return { kty: "RSA", params: { name: "RSA-PSS", hash: HASH[size] }, verify: { name: "RSA-PSS", saltLength: Number(size) / 8 } };
  if (CURVE[alg]) return { kty: "EC", crv: CURVE[alg], params: { name: "ECDSA", namedCurve: CURVE[alg] }, verify: { name: "ECDSA", hash: HASH[size] } };
  if ((alg === "EdDSA" && crv === "Ed25519") || alg === "Ed25519") return { kty: "OKP", crv: "Ed25519", params: { name: "Ed25519" }, verify: { name: "Ed25519" } };
  return null;
}

/** Why `alg` cannot be checked in this page, in words. */
export function unsupportedReason(alg) {
  if (alg === "none") return 'The token is not signed ("alg": "none"): there is no signature to check, and it must not be trusted.';
  if (/^ML-DSA/u.test(alg)) return `${alg} (post-quantum ML-DSA) cannot be checked in this browser: WebCrypto has no ML-DSA. Verify it with jwtkit verify.`;
  if (alg === "ES256K") return "ES256K (secp256k1) cannot be checked in this browser: WebCrypto has no secp256k1. Verify it with jwtkit verify.";
  if (alg === "EdDSA") return "EdDSA with Ed448 cannot be checked in this browser. Verify it with jwtkit verify.";
  if (alg === "Ed448") return "Ed448 cannot be checked in this browser. Verify it with jwtkit verify.";
  return `The algorithm ${JSON.stringify(alg)} cannot be checked in this browser. Verify it with jwtkit verify.`;
}

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "priv"];
const PEM = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/u;

/** A candidate key: `{source: "jwk" | "spki" | "secret", jwk?, der?, secret?, label}`. */

/** The keys in the pasted `text`: a JWK, a JWK Set (its `keys`) or a PEM public key
 * (SPKI). KeyError-like JoseError, in words, for a private key or anything else. */
export function keysFromText(text) {
  const trimmed = String(text).trim();
  if (trimmed === "") throw new JoseError("No key: paste a JWK, a JWK Set or a PEM public key.");
  const pem = trimmed.match(PEM);
  if (pem) {
    const label = pem[1];
    if (label.includes("PRIVATE")) {
      throw new JoseError("This is a private key: paste the public key instead (-----BEGIN PUBLIC KEY-----). A private key has no business in a browser page.");
    }
    if (label === "CERTIFICATE") throw new JoseError("This is a certificate: paste its public key (-----BEGIN PUBLIC KEY-----, e.g. from openssl x509 -pubkey -noout).");
    if (label !== "PUBLIC KEY") throw new JoseError(`A PEM "${label}" is not read here: paste an SPKI public key (-----BEGIN PUBLIC KEY-----).`);
    let der;
    try {
      const binary = atob(pem[2].replace(/\s+/gu, ""));
      der = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    } catch {
      throw new JoseError("The PEM key's base64 is damaged.");
    }
    return [{ source: "spki", der, label: "the pasted PEM key" }];
  }
  if (trimmed.startsWith("-----BEGIN")) throw new JoseError("The PEM key is cut short: it needs its -----END ...----- line.");
  const object = parseJsonObject(trimmed, "key");
  const list = Array.isArray(object.keys) ? object.keys : [object];
  if (list.length === 0) throw new JoseError("The JWK Set has no keys.");
  return list.map((jwk, index) => {
    if (jwk === null || typeof jwk !== "object" || typeof jwk.kty !== "string") {
      throw new JoseError(`The key${list.length > 1 ? ` #${index + 1} of the set` : ""} is not a JWK: it has no "kty" (RFC 7517 §4.1).`);
    }
    if (jwk.kty !== "oct" && PRIVATE_MEMBERS.some((name) => name in jwk)) {
      throw new JoseError("This JWK holds a private key: paste the public key instead (without \"d\" and the other private members).");
    }
    const name = typeof jwk.kid === "string" ? `the key "${jwk.kid}"` : `the pasted ${jwk.kty} key`;
    return { source: "jwk", jwk, label: name };
  });
}

/** The outcome of a check: `{verdict, message}`; verdict is one of "valid", "invalid",
 * "no-fit", "unsupported", "error". */
function outcome(verdict, message) {
  return { verdict, message };
}

async function importKey(candidate, alg) {
  const how = algorithmOf(alg, candidate.jwk && candidate.jwk.crv);
  if (candidate.source === "secret") {
    return crypto.subtle.importKey("raw", candidate.secret, how.params, false, ["verify"]);
  }
  if (candidate.source === "spki") {
    return crypto.subtle.importKey("spki", candidate.der, how.params, false, ["verify"]);
  }
  const { alg: _alg, key_ops: _ops, use: _use, ext: _ext, ...jwk } = candidate.jwk;
  return crypto.subtle.importKey("jwk", jwk, how.params, false, ["verify"]);
}

/** Why `candidate` cannot check a token of `alg`, or null when it may. */
function misfit(candidate, alg, how) {
  if (candidate.source === "secret") return how.kty === "oct" ? null : `a shared secret cannot check ${alg}, which needs a public key`;
  if (how.kty === "oct") return candidate.jwk && candidate.jwk.kty === "oct" ? null : `${alg} is checked with a shared secret, not a public key`;
  if (candidate.source === "spki") return null;
  const { jwk } = candidate;
  if (jwk.kty !== how.kty) return `${candidate.label} is an ${jwk.kty} key; ${alg} needs an ${how.kty} key`;
  if (how.crv && jwk.crv !== how.crv) return `${candidate.label} is on the curve ${jwk.crv}; ${alg} needs ${how.crv}`;
  if (typeof jwk.alg === "string" && jwk.alg !== alg) return `${candidate.label} is for ${jwk.alg}, not ${alg}`;
  if (jwk.use === "enc") return `${candidate.label} is for encryption ("use": "enc"), not signatures`;
  return null;
}

/** Checks the signature of the decoded JWS with `candidates` (keysFromText's, or a secret:
 * `[{source: "secret", secret: bytes, label}]`): picks the key by `kid` when the token has
 * one, then asks WebCrypto. Resolves to `{verdict, message}`; never claims valid unless
 * WebCrypto said so. */
export async function verifyToken(decoded, candidates) {
  const { alg } = decoded.header;
  if (decoded.kind === "JWE") return outcome("unsupported", "This is an encrypted token (JWE): it has no signature to check here.");
  if (algorithmOf(alg) === null) return outcome("unsupported", unsupportedReason(alg));
  let usable = candidates;
  const { kid } = decoded.header;
  if (typeof kid === "string" && candidates.length > 1) {
    usable = candidates.filter((c) => !c.jwk || c.jwk.kid === kid);
    if (usable.length === 0) return outcome("no-fit", `No key fits: none of the ${candidates.length} keys has the token's key ID "${kid}".`);
  }
  const reasons = [];
  let uncheckable = false;
  for (const candidate of usable) {
    const how = algorithmOf(alg, candidate.jwk && candidate.jwk.kty === "OKP" ? candidate.jwk.crv : "Ed25519");
    if (how === null) {
      uncheckable = true; // EdDSA with an Ed448 key
      reasons.push(`${candidate.label} is an ${candidate.jwk.crv} key, which this browser cannot check`);
      continue;
    }
    const why = misfit(candidate, alg, how);
    if (why) {
      reasons.push(why);
      continue;
    }
    let key;
    try {
      key = await importKey(candidate, alg);
    } catch (error) {
      if (error && error.name === "NotSupportedError") {
        return outcome("unsupported", `${alg} cannot be checked in this browser: its WebCrypto does not support ${how.params.name}. Verify it with jwtkit verify.`);
      }
      reasons.push(`${candidate.label} cannot be used for ${alg} (${error && error.message ? error.message : "WebCrypto refused it"})`);
      continue;
    }
    let good = false;
    try {
      good = await crypto.subtle.verify(how.verify, key, decoded.signature, decoded.signingInput);
    } catch {
      good = false;
    }
    if (good) return outcome("valid", `Signature valid: ${alg}, checked with ${candidate.label}.`);
    if (usable.length === 1 || typeof kid === "string") {
      return outcome("invalid", `Invalid signature: ${candidate.label} does not confirm this token (${alg}). The token was changed, or signed with another key.`);
    }
    reasons.push(`${candidate.label} does not confirm the signature`);
  }
  if (uncheckable) return outcome("unsupported", unsupportedReason(alg));
  if (reasons.length && reasons.every((r) => r.endsWith("does not confirm the signature"))) {
    return outcome("invalid", `Invalid signature: none of the ${reasons.length} keys confirms this token (${alg}).`);
  }
  return outcome("no-fit", `The key does not fit: ${reasons.join("; ")}.`);
}

/** What the token's times say at `now`: null, "expired" or "not yet valid" (RFC 7519 §4.1.4,
 * §4.1.5), for the verdict. */
export function timeState(decoded, now = Date.now() / 1000) {
  const claims = decoded.claims || {};
  if (typeof claims.exp === "number" && claims.exp <= now) return `expired ${duration(now - claims.exp)} ago`;
  if (typeof claims.nbf === "number" && claims.nbf > now) return `not valid for another ${duration(claims.nbf - now)}`;
  return null;
}
