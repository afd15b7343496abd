// The token inspector: decodes the pasted token as it is typed (jose.js's renderToken),
// verifies its signature in this browser with WebCrypto against this service's JWKS, a
// pasted key or a shared secret, and on an explicit press of "Audit" sends it to this
// server's POST /audit. Every problem is said on the page, never thrown to the console.

import { JoseError, decodeToken, discover, element, keysFromText, renderProblem, renderToken, timeState, verifyToken } from "./jose.js";

const $ = (id) => document.getElementById(id);

const tokenField = $("token");
const decodedBox = $("decoded");
const verdictBox = $("verdict");
const auditBox = $("audit-result");

let rendering = 0;

/** The token field's value decoded, or null with the reason said in `box`. */
function currentToken(box) {
  const token = tokenField.value.trim();
  if (token === "") {
    say(box, "warn", "Paste a token first.");
    return null;
  }
  try {
    return { token, decoded: decodeToken(token) };
  } catch (error) {
    say(box, "bad", "The token cannot be read: see the message under the token field.");
    return null;
  }
}

/** Replaces `box`'s content with a paragraph of `text` in the tone `tone` (good/bad/warn). */
function say(box, tone, text, ...more) {
  const first = element("p", `verdict-${tone}`, text);
  box.replaceChildren(first, ...more.map((line) => element("p", "", line)));
}

/** What a screen reader is told of the decoded token: a summary, or the problem. */
function summary(decoded, target) {
  if (decoded === null) return target.textContent;
  if (decoded.kind === "JWE") return `An encrypted token (JWE): ${decoded.header.alg}, ${decoded.header.enc}.`;
  const claims = decoded.claims ? `${Object.keys(decoded.claims).length} claims` : "a payload that is not JSON";
  return `A signed token (JWS): ${decoded.header.alg}, ${claims}.`;
}

async function showToken() {
  const mine = (rendering += 1);
  verdictBox.replaceChildren();
  auditBox.replaceChildren();
  if (tokenField.value.trim() === "") {
    decodedBox.replaceChildren();
    $("token-status").textContent = "";
    return;
  }
  const target = element("div");
  const decoded = await renderToken(target, tokenField.value);
  if (mine !== rendering) return;
  $("token-status").textContent = summary(decoded, target);
  decodedBox.replaceChildren(...target.childNodes);
}

/** Shows the outcome of verifyToken, with what the token's times say. */
function showVerdict(decoded, result) {
  if (result.verdict === "valid") {
    const late = timeState(decoded);
    if (late) {
      say(verdictBox, "warn", `Signature valid, but the token is ${late}.`, result.message);
    } else {
      say(verdictBox, "good", result.message);
    }
    return;
  }
  const tone = result.verdict === "unsupported" ? "warn" : "bad";
  say(verdictBox, tone, result.message);
}

async function verifyWith(loadKeys) {
  const current = currentToken(verdictBox);
  if (current === null) return;
  say(verdictBox, "warn", "Checking...");
  let candidates;
  try {
    candidates = await loadKeys();
  } catch (error) {
    say(verdictBox, "bad", error instanceof JoseError ? error.message : `The key cannot be read: ${error && error.message}`);
    return;
  }
  try {
    showVerdict(current.decoded, await verifyToken(current.decoded, candidates));
  } catch (error) {
    say(verdictBox, "bad", `The signature could not be checked: ${error && error.message}`);
  }
}

async function serviceKeys() {
  const metadata = await discover();
  if (!metadata || typeof metadata.jwks_uri !== "string") throw new JoseError("This server publishes no JWKS (no jwks_uri in its discovery document).");
  // The page talks to its own origin only (connect-src 'self'): opened under another name of
  // this server (localhost for 127.0.0.1), the JWKS is asked for at the same path here.
  let url;
  try {
    url = new URL(metadata.jwks_uri, window.location.href);
  } catch {
    throw new JoseError("The service's jwks_uri is not a URL.");
  }
  if (url.origin !== window.location.origin) url = new URL(url.pathname + url.search, window.location.origin);
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" } });
  } catch {
    throw new JoseError(`The service's JWKS (${url}) could not be fetched from this page.`);
  }
  if (!response.ok) throw new JoseError(`The service's JWKS answered ${response.status}.`);
  return keysFromText(await response.text());
}

function pastedKeys() {
  return Promise.resolve().then(() => keysFromText($("key").value));
}

function secretKey() {
  return Promise.resolve().then(() => {
    const secret = $("secret").value;
    if (secret === "") throw new JoseError("No secret: type the shared secret first.");
    return [{ source: "secret", secret: new TextEncoder().encode(secret), label: "the shared secret" }];
  });
}

function finding(item) {
  const li = element("li");
  const severity = String(item.severity || "info");
  li.append(element("span", `severity severity-${severity}`, severity), document.createTextNode(` ${item.message || ""}`));
  if (item.where) li.append(element("span", "about", `Where: ${item.where}`));
  if (item.fix) li.append(element("span", "about", `Fix: ${item.fix}`));
  return li;
}

async function audit() {
  const current = currentToken(auditBox);
  if (current === null) return;
  say(auditBox, "warn", "Sending the token to this server for the audit...");
  let response;
  try {
    response = await fetch("/audit", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ token: current.token }),
    });
  } catch {
    say(auditBox, "bad", "Audit unavailable: this server could not be reached.");
    return;
  }
  if (response.status === 404 || response.status === 405) {
    say(auditBox, "warn", "Audit unavailable: this server does not offer an audit.");
    return;
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok || !body || !Array.isArray(body.findings)) {
    const why = body && (body.error_description || body.error);
    say(auditBox, "bad", `The audit failed (${response.status})${why ? `: ${why}` : "."}`);
    return;
  }
  if (body.findings.length === 0) {
    say(auditBox, "good", "Audit: no findings.");
    return;
  }
  const list = element("ul", "findings");
  body.findings.forEach((item) => list.append(finding(item)));
  const plural = body.findings.length === 1 ? "finding" : "findings";
  say(auditBox, "warn", `Audit: ${body.findings.length} ${plural}.`);
  auditBox.append(list);
}

function submitted(form, action) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    action();
  });
}

tokenField.addEventListener("input", () => {
  showToken().catch((error) => renderProblem(decodedBox, error));
});
submitted($("verify-service-form"), () => verifyWith(serviceKeys));
submitted($("verify-key-form"), () => verifyWith(pastedKeys));
submitted($("verify-secret-form"), () => verifyWith(secretKey));
$("audit-button").addEventListener("click", () => {
  audit();
});

discover().then((metadata) => {
  if (metadata === null) return;
  $("verify-service-form").hidden = false;
  $("flow-tab").hidden = false;
  document.dispatchEvent(new CustomEvent("jwtkit:service", { detail: metadata }));
});

if (tokenField.value.trim() !== "") showToken().catch((error) => renderProblem(decodedBox, error));
