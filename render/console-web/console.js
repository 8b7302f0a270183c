// The browser console page (served by lr-console-web): log in with the console password, then the graphical console
// (noVNC, /ws/vnc) and the text console (xterm.js, /ws/serial). Everything comes from the gateway itself; the
// password stays in this page's memory only (never stored), because noVNC and the text console both need it.
// Tests read window.lrConsole: state "login"|"ready"|"refused"|"locked"|"error", screen and text
// "connecting"|"connected"|"failed", termText().
import RFB from "/novnc/core/rfb.js";

const $ = (id) => document.getElementById(id);
const encoder = new TextEncoder();

let password = null;
let rfb = null;
let screenTimer = 0;
let screenDelay = 1000;
let screenStopped = false;
let term = null;
let serial = null;
let textTimer = 0;
let textDelay = 1000;
let textStopped = false;
const notes = { screen: "", text: "" };

const api = { state: "login", screen: "connecting", text: "connecting", termText };
window.lrConsole = api;

function wsUrl(path) {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
}

function showStatus() {
  const part = (name, label) => notes[name] || `${label}: ${api[name]}`;
  $("status").textContent = `${part("screen", "Screen")} · ${part("text", "Text")}`;
}

function refuse(state, message) {
  api.state = state;
  $("refusal").textContent = message;
  $("refusal").hidden = false;
}

/** Back to the login form (the password no longer works, or the login expired). */
function backToLogin(state, message) {
  stopConsoles();
  password = null;
  $("console-view").hidden = true;
  $("login-view").hidden = false;
  refuse(state, message);
  $("password").focus();
}

async function login(ev) {
  ev.preventDefault();
  const typed = $("password").value;
  if (!typed) return;
  $("login").disabled = true;
  $("refusal").hidden = true;
  $("login-progress").hidden = false;
  let res;
  let body = {};
  try {
    res = await fetch("/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ password: typed }),
      credentials: "same-origin",
      cache: "no-store",
    });
    body = await res.json().catch(() => ({}));
  } catch {
    res = null;
  }
  $("login").disabled = false;
  $("login-progress").hidden = true;
  if (!res) return refuse("error", "The console gateway does not answer. Is your VPN tunnel up?");
  if (res.ok) {
    password = typed;
    $("password").value = "";
    api.state = "ready";
    startConsoles();
  } else if (res.status === 403) {
    refuse("refused", "Wrong password." + (body.delay ? ` The next try is slowed down (${body.delay} s).` : ""));
  } else if (res.status === 429) {
    refuse("locked", body.message || "Too many wrong passwords: login locked for a while.");
  } else {
    refuse("error", body.message || `Login failed (HTTP ${res.status}).`);
  }
  $("password").select();
}

/** After a console drop that never connected: a 401 on /session means the login expired. */
async function checkSession() {
  try {
    const res = await fetch("/session", { credentials: "same-origin", cache: "no-store" });
    if (res.status === 401) backToLogin("login", "Your login expired: log in again.");
  } catch {
    /* the tunnel is down: the consoles keep retrying */
  }
}

// ---------------------------------------------------------------- graphical console (noVNC)

function connectScreen() {
  clearTimeout(screenTimer);
  if (screenStopped || password === null) return;
  api.screen = "connecting";
  showStatus();
  let connected = false;
  let refused = false;
  const r = new RFB($("screen"), wsUrl("/ws/vnc"), { credentials: { password } });
  rfb = r;
  r.scaleViewport = true;
  r.resizeSession = false;
  r.focusOnClick = true;
  r.background = "#000";
  r.addEventListener("connect", () => {
    connected = true;
    screenDelay = 1000;
    notes.screen = "";
    api.screen = "connected";
    showStatus();
  });
  r.addEventListener("credentialsrequired", () => r.sendCredentials({ password }));
  r.addEventListener("securityfailure", () => {
    refused = true;
  });
  r.addEventListener("disconnect", () => {
    if (rfb === r) rfb = null;
    api.screen = "failed";
    if (screenStopped) return;
    if (refused) return backToLogin("refused", "The console refused the password (was it changed?): log in again.");
    notes.screen = "Screen: reconnecting…";
    showStatus();
    if (!connected) void checkSession();
    screenTimer = setTimeout(connectScreen, screenDelay);
    screenDelay = Math.min(screenDelay * 2, 15000);
  });
}

// ---------------------------------------------------------------- text console (xterm.js over /ws/serial)

function openTerminal() {
  if (term) return;
  const { Terminal, fit } = window.LrXterm;
  if (fit) Terminal.applyAddon(fit);
  term = new Terminal({ cursorBlink: true, scrollback: 5000, fontSize: 14 });
  term.open($("text"));
  fitTerminal();
  term.on("data", (data) => {
    if (serial && serial.readyState === WebSocket.OPEN && serial.lrAttached) serial.send(encoder.encode(data));
  });
  window.addEventListener("resize", fitTerminal);
}

function fitTerminal() {
  if (term && typeof term.fit === "function") {
    try {
      term.fit();
    } catch {
      /* not laid out yet */
    }
  }
}

function connectText() {
  clearTimeout(textTimer);
  if (textStopped || password === null) return;
  api.text = "connecting";
  showStatus();
  const ws = new WebSocket(wsUrl("/ws/serial"));
  const decoder = new TextDecoder("utf-8");
  ws.binaryType = "arraybuffer";
  ws.lrAttached = false;
  serial = ws;
  ws.onopen = () => ws.send(encoder.encode(password));
  ws.onmessage = (ev) => {
    if (!ws.lrAttached) {
      // The gateway's first message (empty) says the serial port is attached.
      ws.lrAttached = true;
      textDelay = 1000;
      notes.text = "";
      api.text = "connected";
      showStatus();
    }
    const bytes = new Uint8Array(ev.data);
    if (bytes.length) term.write(decoder.decode(bytes, { stream: true }));
  };
  ws.onclose = (ev) => {
    if (serial === ws) serial = null;
    api.text = "failed";
    if (textStopped) return;
    if (ev.code === 4001) return backToLogin("refused", "The console refused the password (was it changed?): log in again.");
    if (ev.code === 4003) return backToLogin("locked", ev.reason || "Too many wrong passwords: login locked for a while.");
    notes.text = ev.code === 4004 ? "Text: the VM is not running; waiting for it…" : "Text: reconnecting…";
    showStatus();
    if (!ws.lrAttached) void checkSession();
    textTimer = setTimeout(connectText, textDelay);
    textDelay = Math.min(textDelay * 2, 15000);
  };
}

/** The terminal's text (its whole buffer, scrollback included), one line per row. */
function termText() {
  if (!term) return "";
  const buf = term._core && term._core.buffer;
  if (buf && buf.lines && typeof buf.translateBufferLineToString === "function") {
    const rows = [];
    for (let i = 0; i < buf.lines.length; i++) rows.push(buf.translateBufferLineToString(i, true));
    return rows.join("\n").replace(/\s+$/, "");
  }
  term.selectAll();
  const text = term.getSelection();
  term.clearSelection();
  return text;
}

// ---------------------------------------------------------------- page

function selectTab(name) {
  for (const [tab, panel] of [["tab-screen", "screen"], ["tab-text", "text"]]) {
    const on = panel === name;
    $(tab).setAttribute("aria-selected", String(on));
    $(panel).classList.toggle("inactive", !on);
  }
  if (name === "text") {
    fitTerminal();
    if (term) term.focus();
  }
}

function startConsoles() {
  screenStopped = textStopped = false;
  $("login-view").hidden = true;
  $("console-view").hidden = false;
  $("refusal").hidden = true;
  openTerminal();
  selectTab("screen");
  connectScreen();
  connectText();
}

function stopConsoles() {
  screenStopped = textStopped = true;
  clearTimeout(screenTimer);
  clearTimeout(textTimer);
  if (rfb) rfb.disconnect();
  if (serial) serial.close();
  rfb = serial = null;
}

async function logout() {
  stopConsoles();
  password = null;
  try {
    await fetch("/logout", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: "{}" });
  } finally {
    location.reload();
  }
}

$("login-form").addEventListener("submit", (ev) => void login(ev));
$("tab-screen").addEventListener("click", () => selectTab("screen"));
$("tab-text").addEventListener("click", () => selectTab("text"));
$("logout").addEventListener("click", () => void logout());
