// The flow tab: a sign-in walked through step by step against this very service (see
// docs/page.md, "The flow"). The page is the public OAuth client the service builds in when its
// `demo` setting is on (GET /demo): the authorization code flow with PKCE S256, state and nonce
// (OAuth 2.1 §4.1, RFC 7636, OpenID Connect Core §3.1), the token exchange, a call to
// /userinfo, the access token's expiry, refresh-token rotation and reuse detection (RFC 9700
// §4.14.2), revocation (RFC 7009) and RP-initiated logout. Each request and answer is shown as
// sent and received; tokens are shortened on screen and shown in full on demand. What must
// survive the redirects lives in sessionStorage (this tab only) and is cleared at the end.

import { decodeToken, discover, element, keysFromText, renderToken, verifyToken } from "./jose.js";

const $ = (id) => document.getElementById(id);
const STORE = "jwtkit-flow";
/** The names whose values are credentials: shortened on screen. */
const SECRET_NAMES = new Set(["code", "code_verifier", "access_token", "refresh_token", "id_token", "token", "id_token_hint"]);

const section = $("flow");
const body = $("flow-body");
const title = $("flow-view-title");
const errorBox = $("flow-error");
const next = $("flow-next");
const restart = $("flow-restart");
const talk = $("flow-talk");

/** What the walk-through knows: the service (discovery and GET /demo) and the saved state. */
const ctx = { metadata: null, demo: null, saved: null, action: null, timer: null, interacted: false, run: 0 };

/** Thrown when "Start over" was pressed while a request was under way: its answer is dropped. */
class Superseded extends Error {}

/** Throws Superseded when the walk-through was started over since `run`. */
function still(run) {
  if (run !== ctx.run) throw new Superseded();
}

// -- saved state -------------------------------------------------------------------------------

function load() {
  try {
    const value = JSON.parse(sessionStorage.getItem(STORE) ?? "null");
    return value && typeof value === "object" ? value : null;
  } catch {
    return null;
  }
}

function save(changes) {
  ctx.saved = { ...(ctx.saved ?? {}), ...changes };
  sessionStorage.setItem(STORE, JSON.stringify(ctx.saved));
}

function forget() {
  ctx.saved = null;
  sessionStorage.removeItem(STORE);
}

// -- WebCrypto -----------------------------------------------------------------------------------

function base64url(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/gu, "-").replace(/\//gu, "_").replace(/=+$/u, "");
}

/** `size` random bytes, base64url: 32 bytes make a 43-character PKCE verifier (RFC 7636 §4.1). */
function randomText(size) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

/** The S256 code challenge of `verifier` (RFC 7636 §4.2): BASE64URL(SHA-256(ASCII(verifier))). */
async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

// -- showing ---------------------------------------------------------------------------------------

/** A credential as shown on screen: its start and end. */
function shorten(value) {
  const text = String(value);
  return text.length > 24 ? `${text.slice(0, 12)}…${text.slice(-6)}` : text;
}

function shortenParams(params, short) {
  return [...params]
    .map(([name, value]) => {
      const encoded = encodeURIComponent(value);
      return `${name}=${short && SECRET_NAMES.has(name) ? shorten(encoded) : encoded}`;
    })
    .join("&");
}

function shortenJson(value, short) {
  if (!short || value === null || typeof value !== "object") return value;
  const copy = {};
  for (const [name, member] of Object.entries(value)) copy[name] = SECRET_NAMES.has(name) && typeof member === "string" ? shorten(member) : member;
  return copy;
}

function shortenUrl(url, short) {
  const parsed = new URL(url);
  const query = shortenParams(parsed.searchParams, short);
  return `${parsed.origin}${parsed.pathname}${query ? `?${query}` : ""}`;
}

function headerLines(headers, short) {
  return headers.map(([name, value]) => {
    const shown = short && name.toLowerCase() === "authorization" ? value.replace(/^(Bearer )(.+)$/u, (_, scheme, token) => scheme + shorten(token)) : value;
    return `${name}: ${shown}`;
  });
}

/** The text of a request: `{method, url, headers: [[name, value]], body: URLSearchParams|null}`. */
function requestText(request, short) {
  const url = new URL(request.url);
  const target = shortenUrl(request.url, short).slice(url.origin.length);
  const lines = [`${request.method} ${target} HTTP/1.1`, `Host: ${url.host}`, ...headerLines(request.headers, short)];
  if (request.body) lines.push("", shortenParams(request.body, short));
  return lines.join("\n");
}

/** The text of a response: `{status, statusText, headers: [[name, value]], json, text}`. */
function responseText(response, short) {
  const lines = [`HTTP/1.1 ${response.status} ${response.statusText}`.trimEnd(), ...headerLines(response.headers, short)];
  if (response.json !== undefined) lines.push("", JSON.stringify(shortenJson(response.json, short), null, 2));
  else if (response.text) lines.push("", response.text);
  return lines.join("\n");
}

/** A block showing a message (request or response), shortened, with the full text on demand. */
function message(label, text, full, className) {
  const box = element("div", `flow-message ${className}`);
  box.append(element("h3", "", label));
  const pre = element("pre", "http", text);
  pre.tabIndex = 0;
  pre.setAttribute("aria-label", label);
  box.append(pre);
  if (full !== text) {
    const details = element("details", "flow-full");
    details.append(element("summary", "", "Show in full (to copy)"));
    const whole = element("pre", "http", full);
    whole.tabIndex = 0;
    details.append(whole);
    box.append(details);
  }
  return box;
}

/** One request and its answer, shown side by side. */
function exchangeBlock(exchange, heading) {
  const box = element("section", "flow-exchange");
  box.append(element("h3", "flow-exchange-title", heading));
  box.append(message("Request", requestText(exchange.request, true), requestText(exchange.request, false), "flow-request"));
  if (exchange.response) box.append(message("Response", responseText(exchange.response, true), responseText(exchange.response, false), "flow-response"));
  return box;
}

/** A check and its outcome: ✓ or ✗, said in words too. */
function check(ok, text) {
  const p = element("p", ok ? "flow-check verdict-good" : "flow-check verdict-bad", `${ok ? "✓" : "✗"} ${text}`);
  return p;
}

function paragraph(text) {
  return element("p", "", text);
}

/** A token decoded with jose.js's renderToken, under a heading. */
async function tokenBlock(heading, token, className) {
  const box = element("section", `flow-token ${className}`);
  box.append(element("h3", "", heading));
  const inner = element("div", "decoded");
  box.append(inner);
  await renderToken(inner, token);
  return box;
}

function opaqueBlock(heading, token, className, about) {
  const box = element("section", `flow-token ${className}`);
  box.append(element("h3", "", heading));
  const code = element("code", "flow-opaque", shorten(token));
  box.append(element("p", "", about), code);
  return box;
}

// -- the diagram and the steps -----------------------------------------------------------------

const ACTORS = { browser: "flow-actor-browser", as: "flow-actor-as", api: "flow-actor-api" };

/** Highlights who talks: `peer` is "as" (authorization server), "api" or null. */
function talking(peer, words) {
  for (const id of Object.values(ACTORS)) $(id).classList.remove("flow-active");
  $("flow-wire-as").classList.toggle("flow-active", peer === "as");
  $("flow-wire-api").classList.toggle("flow-active", peer === "api");
  if (peer) {
    $(ACTORS.browser).classList.add("flow-active");
    $(ACTORS[peer]).classList.add("flow-active");
  }
  talk.textContent = words;
}

/** Marks the steps before `number` done and `number` current (8: all done). */
function showStep(number) {
  for (let i = 1; i <= 7; i += 1) {
    const item = $(`flow-step-${i}`);
    item.classList.toggle("flow-done", i < number);
    if (i === number) item.setAttribute("aria-current", "step");
    else item.removeAttribute("aria-current");
  }
  section.dataset.step = String(number);
}

/** Shows a view: its title, its content, the Next button's words and what it does. */
function show(step, heading, nodes, nextLabel, action) {
  showStep(step);
  title.textContent = heading;
  body.replaceChildren(...nodes);
  setNext(nextLabel, action);
}

function setNext(label, action) {
  ctx.action = action;
  next.textContent = label;
  next.disabled = action === null;
  // The button was disabled while its step ran, which took the keyboard focus away: give
  // it back, so that Enter goes on (not on the first view: the page does not jump there).
  const lost = document.activeElement === null || document.activeElement === document.body;
  if (action !== null && ctx.interacted && lost) next.focus();
}

function clearError() {
  errorBox.hidden = true;
  errorBox.replaceChildren();
}

/** Says what went wrong, in words, with the exchange that showed it (if any). */
function fail(words, exchange) {
  errorBox.replaceChildren(element("p", "problem", words));
  if (exchange) errorBox.append(exchangeBlock(exchange, "What was sent and answered"));
  errorBox.hidden = false;
  setNext("Next: start again", startView);
}

// -- HTTP ----------------------------------------------------------------------------------------

/** Sends a request to this service and reads the answer: `{request, response}`. */
async function send(method, url, { headers = [], form = null } = {}) {
  const sent = [["Accept", "application/json"], ...headers];
  if (form) sent.push(["Content-Type", "application/x-www-form-urlencoded"]);
  const request = { method, url, headers: sent, body: form };
  const run = ctx.run;
  const answer = await fetch(url, { method, headers: sent, body: form ? form.toString() : undefined, credentials: "same-origin", cache: "no-store" });
  const text = await answer.text();
  still(run);
  const response = { status: answer.status, statusText: answer.statusText, headers: [...answer.headers.entries()], text };
  if ((answer.headers.get("content-type") ?? "").includes("json") && text) {
    try {
      response.json = JSON.parse(text);
    } catch {
      // shown as text
    }
  }
  return { request, response };
}

/** The OAuth error of an answer in words: "invalid_grant: the refresh token ...". */
function oauthError(exchange) {
  const json = exchange.response.json;
  if (json && typeof json.error === "string") {
    return `${json.error}${json.error_description ? `: ${json.error_description}` : ""}`;
  }
  return `HTTP ${exchange.response.status}`;
}

function endpoint(name, fallback) {
  const value = ctx.metadata && typeof ctx.metadata[name] === "string" ? ctx.metadata[name] : null;
  return value ?? new URL(fallback, location.origin).href;
}

// -- the steps -------------------------------------------------------------------------------------

function startView() {
  ctx.run += 1;
  clearError();
  stopTimer();
  forget();
  talking(null, "Nobody talks yet.");
  show(1, "1. Prepare the request", [
    paragraph("The page makes, with the browser's own random generator (WebCrypto): a PKCE code verifier and its S256 challenge (RFC 7636), a state (it ties the answer to this request) and a nonce (it ties the ID token to it). Only the challenge, the state and the nonce go to the server now; the verifier stays here until the code is exchanged."),
  ], "Next: make PKCE, state and nonce", prepare);
}

async function prepare() {
  const verifier = randomText(32);
  const challenge = await challengeOf(verifier);
  const state = randomText(16);
  const nonce = randomText(16);
  const url = new URL(endpoint("authorization_endpoint", "/authorize"));
  const params = {
    response_type: "code",
    client_id: ctx.demo.client_id,
    redirect_uri: ctx.demo.redirect_uri,
    scope: ctx.demo.scope,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  save({ phase: "authorizing", verifier, state, nonce, issuer: ctx.metadata.issuer });
  const table = element("dl", "flow-values");
  for (const [name, value] of [["code_verifier (kept here)", verifier], ["code_challenge = BASE64URL(SHA-256(verifier))", challenge], ["state", state], ["nonce", nonce]]) {
    table.append(element("dt", "", name), element("dd", "mono", value));
  }
  talking(null, "Only the browser works: it makes the values.");
  show(1, "1. Prepare the request and sign in", [
    table,
    paragraph("The browser now goes to the authorization endpoint with this request. The service shows its sign-in page; after it, it sends the browser back here with a code."),
    exchangeBlock({ request: { method: "GET", url: url.href, headers: [], body: null } }, "The authorization request (a navigation)"),
  ], "Next: go to the sign-in page", () => {
    talking("as", "The browser goes to the authorization server (GET /authorize).");
    location.assign(url.href);
  });
}

/** Back from /authorize: `/?code=...&state=...&iss=...` (or `?error=...`). */
function arrived(query) {
  const saved = ctx.saved;
  history.replaceState(null, "", `${location.pathname}#flow`);
  const redirect = { request: { method: "GET", url: `${location.origin}${location.pathname}?${query.toString()}`, headers: [], body: null } };
  if (!saved || saved.phase !== "authorizing") {
    fail("This tab did not start a sign-in (no saved state): the answer is ignored. Start again.", redirect);
    return;
  }
  const checks = [];
  const stateOk = query.get("state") === saved.state;
  checks.push(check(stateOk, stateOk ? "state is the one this page sent: the answer belongs to its request." : "state is not the one this page sent: the answer is refused (RFC 6749 §10.12)."));
  const issOk = query.get("iss") === saved.issuer;
  checks.push(check(issOk, issOk ? `iss is this service's issuer (${saved.issuer}): RFC 9207.` : `iss is not this service's issuer (${saved.issuer}): the answer is refused (RFC 9207).`));
  talking("as", "The authorization server sent the browser back here with a code.");
  if (query.has("error")) {
    forget();
    show(2, "2. The answer", [exchangeBlock(redirect, "The redirect back to this page"), ...checks], "Next: start again", startView);
    fail(`The service refused the sign-in: ${query.get("error")}${query.has("error_description") ? `: ${query.get("error_description")}` : ""}.`);
    return;
  }
  if (!stateOk || !issOk || !query.get("code")) {
    forget();
    show(2, "2. The answer", [exchangeBlock(redirect, "The redirect back to this page"), ...checks], "Next: start again", startView);
    fail("The answer does not match this page's request: it is not used.");
    return;
  }
  save({ phase: "code", code: query.get("code") });
  show(2, "2. Back with a code", [
    exchangeBlock(redirect, "The redirect back to this page"),
    ...checks,
    paragraph("The code is worth nothing without the verifier, which never left this page: the next step sends both to the token endpoint."),
  ], "Next: exchange the code at /token", exchangeCode);
}

/** The service's published keys (its JWKS, from the discovery document's jwks_uri). */
async function serviceKeys() {
  const answer = await fetch(endpoint("jwks_uri", "/.well-known/jwks.json"), { headers: { Accept: "application/json" } });
  if (!answer.ok) throw new Error(`the service's JWKS answered ${answer.status}`);
  return keysFromText(await answer.text());
}

/** The checks of the ID token a client owes (OpenID Connect Core §3.1.3.7): the signature
 * with the service's keys, iss, aud and the nonce; a list of `{ok, text}`. */
async function idTokenChecks(idToken, nonce) {
  let decoded;
  try {
    decoded = decodeToken(idToken);
  } catch (error) {
    return [{ ok: false, text: `The ID token cannot be read: ${error.message}` }];
  }
  const claims = decoded.claims ?? {};
  const checks = [];
  let signature;
  try {
    signature = await verifyToken(decoded, await serviceKeys());
  } catch (error) {
    signature = { verdict: "error", message: `The ID token's signature could not be checked: ${error.message}.` };
  }
  checks.push({ ok: signature.verdict === "valid", text: `ID token: ${signature.message} (the key from the service's JWKS)` });
  const issOk = claims.iss === ctx.metadata.issuer;
  checks.push({ ok: issOk, text: issOk ? "ID token: iss is this service's issuer." : "ID token: iss is not this service's issuer." });
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const audOk = audiences.includes(ctx.demo.client_id);
  checks.push({ ok: audOk, text: audOk ? `ID token: aud names this page's client (${ctx.demo.client_id}).` : "ID token: aud does not name this page's client." });
  const nonceOk = claims.nonce === nonce;
  checks.push({ ok: nonceOk, text: nonceOk ? "The ID token's nonce is the one this page sent: it was issued for this sign-in." : "The ID token's nonce is not the one this page sent." });
  return checks;
}

async function exchangeCode() {
  const run = ctx.run;
  const saved = ctx.saved;
  const form = new URLSearchParams({
    grant_type: "authorization_code",
    code: saved.code,
    redirect_uri: ctx.demo.redirect_uri,
    code_verifier: saved.verifier,
    client_id: ctx.demo.client_id,
  });
  talking("as", "The browser talks to the authorization server (POST /token).");
  const exchange = await send("POST", endpoint("token_endpoint", "/token"), { form });
  if (exchange.response.status !== 200 || !exchange.response.json) {
    forget();
    fail(`The token endpoint refused the code: ${oauthError(exchange)}.`, exchange);
    return;
  }
  const tokens = exchange.response.json;
  const checks = await idTokenChecks(tokens.id_token, saved.nonce);
  still(run);
  const trusted = checks.every((item) => item.ok);
  save({ phase: "tokens", code: null, access: tokens.access_token, refresh: tokens.refresh_token, idToken: tokens.id_token });
  const nodes = [
    exchangeBlock(exchange, "The token request"),
    ...checks.map((item) => check(item.ok, item.text)),
    await tokenBlock("The access token (for the API)", tokens.access_token, "flow-access"),
    await tokenBlock("The ID token (for this page: who signed in)", tokens.id_token, "flow-id"),
    opaqueBlock("The refresh token", tokens.refresh_token, "flow-refresh", "Opaque: a random string that means something only to the service, which keeps its hash."),
  ];
  still(run);
  show(2, "2. Tokens", nodes, "Next: call the API (/userinfo)", callUserinfo);
  if (!trusted) fail("The ID token fails a check (above): a client would not trust this sign-in.");
}

async function callUserinfo() {
  talking("api", "The browser calls the API with the access token (GET /userinfo).");
  const exchange = await send("GET", endpoint("userinfo_endpoint", "/userinfo"), { headers: [["Authorization", `Bearer ${ctx.saved.access}`]] });
  if (exchange.response.status !== 200) {
    fail(`The API refused the access token: ${exchange.response.status}.`, exchange);
    return;
  }
  show(3, "3. The API answers", [
    exchangeBlock(exchange, "The API call"),
    check(true, "200: the API accepted the access token and says who signed in."),
  ], "Next: wait for the access token to expire", waitForExpiry);
}

function stopTimer() {
  if (ctx.timer !== null) clearInterval(ctx.timer);
  ctx.timer = null;
}

function waitForExpiry() {
  let exp = 0;
  try {
    exp = Number(decodeToken(ctx.saved.access).claims.exp);
  } catch {
    exp = Date.now() / 1000;
  }
  const countdown = element("p", "flow-countdown");
  countdown.id = "flow-countdown";
  countdown.setAttribute("role", "timer");
  talking(null, "Nobody talks: the access token is running out.");
  show(4, "4. The access token expires", [
    paragraph(`Access tokens of this demo live ${ctx.demo.access_token_ttl} s (the service's demo_access_token_ttl setting). Its exp claim says when it ends; then the API refuses it.`),
    countdown,
  ], "Next: waiting for the expiry…", null);
  const tick = () => {
    const left = Math.ceil(exp + 1 - Date.now() / 1000);
    if (left > 0) {
      countdown.textContent = `The access token expires in ${left} s.`;
      return false;
    }
    stopTimer();
    countdown.textContent = "The access token has expired.";
    expired().catch((error) => {
      if (!(error instanceof Superseded)) fail(`The step failed: ${error.message}.`);
    });
    return true;
  };
  if (!tick()) ctx.timer = setInterval(tick, 250);
}

async function expired() {
  talking("api", "The browser calls the API with the expired access token (GET /userinfo).");
  const exchange = await send("GET", endpoint("userinfo_endpoint", "/userinfo"), { headers: [["Authorization", `Bearer ${ctx.saved.access}`]] });
  if (exchange.response.status !== 401) {
    fail(`The API should have refused the expired token with 401, it answered ${exchange.response.status}.`, exchange);
    return;
  }
  const challenge = exchange.response.headers.find(([name]) => name.toLowerCase() === "www-authenticate");
  show(4, "4. The access token has expired", [
    element("p", "flow-countdown", "The access token has expired."),
    exchangeBlock(exchange, "The API call with the expired token"),
    check(true, `401: refused. The WWW-Authenticate header says why (RFC 6750 §3): ${challenge ? challenge[1] : "(none)"}`),
    paragraph("No need to sign in again: the refresh token gets a new access token."),
  ], "Next: refresh the tokens", refresh);
}

async function refresh() {
  const run = ctx.run;
  const old = ctx.saved.refresh;
  const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: old, client_id: ctx.demo.client_id });
  talking("as", "The browser talks to the authorization server (POST /token, refresh_token).");
  const exchange = await send("POST", endpoint("token_endpoint", "/token"), { form });
  if (exchange.response.status !== 200 || !exchange.response.json) {
    fail(`The refresh was refused: ${oauthError(exchange)}.`, exchange);
    return;
  }
  const tokens = exchange.response.json;
  const rotated = typeof tokens.refresh_token === "string" && tokens.refresh_token !== old;
  save({ access: tokens.access_token, refresh: tokens.refresh_token, oldRefresh: old });
  const newAccess = await tokenBlock("The new access token", tokens.access_token, "flow-access");
  still(run);
  const compare = element("dl", "flow-values");
  compare.append(element("dt", "", "old refresh token"), element("dd", "mono", shorten(old)), element("dt", "", "new refresh token"), element("dd", "mono", shorten(tokens.refresh_token)));
  show(5, "5. Refreshed", [
    exchangeBlock(exchange, "The refresh request"),
    check(rotated, rotated ? "The refresh token rotated: a new one came back, the old one is now used up (RFC 9700 §4.14.2)." : "The refresh token did not rotate."),
    compare,
    newAccess,
  ], "Next: replay the old refresh token", replay);
}

async function replay() {
  const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: ctx.saved.oldRefresh, client_id: ctx.demo.client_id });
  talking("as", "The browser (playing a thief) sends the old refresh token again (POST /token).");
  const exchange = await send("POST", endpoint("token_endpoint", "/token"), { form });
  const refused = exchange.response.status === 400 && exchange.response.json?.error === "invalid_grant";
  show(6, "6. Replay: refused", [
    paragraph("A refresh token used twice means two parties hold it: the service cannot tell which is the thief, so it revokes the whole family (reuse detection)."),
    exchangeBlock(exchange, "The old refresh token, again"),
    check(refused, refused ? "invalid_grant: the old refresh token is refused, and its family revoked." : "The replay was not refused with invalid_grant."),
  ], "Next: try the new refresh token", replayNew);
  if (!refused) fail(`The replay should be refused with invalid_grant: ${oauthError(exchange)}.`, exchange);
}

async function replayNew() {
  const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: ctx.saved.refresh, client_id: ctx.demo.client_id });
  talking("as", "The browser sends the new refresh token (POST /token).");
  const exchange = await send("POST", endpoint("token_endpoint", "/token"), { form });
  const refused = exchange.response.status === 400 && exchange.response.json?.error === "invalid_grant";
  show(6, "6. The whole family is revoked", [
    exchangeBlock(exchange, "The new refresh token"),
    check(refused, refused ? "invalid_grant: the new refresh token is refused too, the replay revoked the family." : "The new refresh token was not refused."),
  ], "Next: revoke the access token (/revoke)", revoke);
  if (!refused) fail(`The new refresh token should be refused with invalid_grant: ${oauthError(exchange)}.`, exchange);
}

async function revoke() {
  const form = new URLSearchParams({ token: ctx.saved.access, token_type_hint: "access_token", client_id: ctx.demo.client_id });
  talking("as", "The browser talks to the authorization server (POST /revoke).");
  const exchange = await send("POST", endpoint("revocation_endpoint", "/revoke"), { form });
  if (exchange.response.status !== 200) {
    fail(`The revocation failed: ${oauthError(exchange)}.`, exchange);
    return;
  }
  show(7, "7. Sign out", [
    exchangeBlock(exchange, "The revocation (RFC 7009)"),
    check(true, "200: the access token is revoked (a token already revoked or expired is answered the same)."),
    paragraph("Last, the sign-in session at the service ends: the browser goes to its logout endpoint with the ID token as a hint, and comes back here."),
  ], "Next: sign out at /logout", logout);
}

function logout() {
  const state = randomText(16);
  const url = new URL(endpoint("end_session_endpoint", "/logout"));
  url.searchParams.set("id_token_hint", ctx.saved.idToken);
  url.searchParams.set("post_logout_redirect_uri", ctx.demo.redirect_uri);
  url.searchParams.set("client_id", ctx.demo.client_id);
  url.searchParams.set("state", state);
  save({ phase: "logging-out", logoutState: state, logoutUrl: url.href });
  talking("as", "The browser goes to the authorization server (GET /logout).");
  location.assign(url.href);
}

function signedOut(query) {
  const saved = ctx.saved;
  history.replaceState(null, "", `${location.pathname}#flow`);
  const stateOk = query.get("state") === saved.logoutState;
  const request = { method: "GET", url: saved.logoutUrl, headers: [], body: null };
  forget();
  talking(null, "Signed out: nobody holds a valid token any more.");
  show(8, "Signed out", [
    exchangeBlock({ request }, "The logout request (a navigation)"),
    check(stateOk, stateOk ? "Back from the logout with this page's state: the session at the service has ended." : "Back from the logout, but with another state."),
    paragraph("The walk-through is over and this tab's saved state is cleared."),
  ], "Next: back to the start", startView);
}

// -- start -----------------------------------------------------------------------------------

next.addEventListener("click", async () => {
  const action = ctx.action;
  if (action === null) return;
  clearError();
  next.disabled = true;
  try {
    await action();
  } catch (error) {
    if (!(error instanceof Superseded)) fail(`The step failed: ${error && error.message ? error.message : String(error)}.`);
  } finally {
    if (ctx.action !== null) next.disabled = false;
  }
});
next.addEventListener("focus", () => {
  ctx.interacted = true;
});

restart.addEventListener("click", () => {
  startView();
  next.focus();
});

async function main() {
  const metadata = await discover();
  if (metadata === null) return; // local mode: the inspector only
  let demo = null;
  try {
    const answer = await fetch("/demo", { headers: { Accept: "application/json" }, cache: "no-store" });
    demo = answer.ok ? await answer.json() : null;
  } catch {
    demo = null;
  }
  if (demo === null || demo.enabled !== true) {
    $("flow-tab").hidden = true; // the demo is off on this service: no flow to show
    section.dataset.demo = "off";
    return;
  }
  section.dataset.demo = "on";
  ctx.metadata = metadata;
  ctx.demo = demo;
  ctx.saved = load();
  $("flow-tab").hidden = false;
  section.hidden = false;
  $("flow-client").textContent = demo.client_id;
  if (demo.user) {
    $("flow-username").textContent = demo.user.username;
    $("flow-password").textContent = demo.user.password;
    $("flow-user").hidden = false;
  } else {
    $("flow-no-user").hidden = false;
  }
  if (new URL(demo.redirect_uri).origin !== location.origin) {
    show(1, "Open the page at the issuer", [paragraph(`The walk-through runs at ${demo.redirect_uri}, the redirect URI of the demo client: this page was opened at ${location.origin}.`)], "Next: go there", () => location.assign(`${demo.redirect_uri}#flow`));
    return;
  }
  const query = new URLSearchParams(location.search);
  if (ctx.saved && ctx.saved.phase === "logging-out" && !query.has("code")) {
    signedOut(query);
  } else if (query.has("code") || query.has("error")) {
    arrived(query);
  } else {
    startView();
    return;
  }
  section.scrollIntoView();
  next.focus({ preventScroll: true });
}

main();
