#!/usr/bin/python3
"""lr-console-web: the tenant's browser console gateway on a VPN server (HTTPS page, noVNC, text terminal, login).

Usage: lr-console-web.py CONFIG.json      (Debian 12: python3 3.11, python3-websockify 0.10, python3-cryptography)

Rendered by librerouter-hosting (render/console-web.ts), do not edit. Listens with TLS on every `listen` address
(the instance gateways; IP_FREEBIND, so it may start before OpenVPN has created the tunnels). A request is served only
when its source address is a tenant's tunnel address (LR_TUN1 or LR_TUN2 of one `<tenantsDir>/*.env`, re-read when
the files change) and its Host is a listen address; anything else gets an empty 403. websockify forks a process per
connection, so nothing that must be shared lives in memory: sessions are HMAC-signed cookies (key drawn at start: a
restart logs everyone out), login failures are files in `stateDir` under fcntl locks (removing `<key>.failures`
lifts a lock).

CONFIG (JSON): {"listen": [{"address": "10.255.0.1", "port": 443}, ...], "cert": PATH, "key": PATH (a leading
"$CREDENTIALS_DIRECTORY/" is systemd's LoadCredential= directory), "tenantsDir": DIR, "statusFiles": [PATH, ...],
"host": {"address": IP, "serialPort": PORT}, "assets": DIR, "novnc": DIR, "xterm": DIR (node-xterm's, with lib/),
"stateDir": DIR, "authLog": PATH, "login": {"maxFailures": N, "windowSeconds": S, "lockSeconds": S},
"sessionSeconds": S}

HTTP:
  GET  /                 the page (render/console-web/index.html); /console.js, /console.css: its assets
  GET  /novnc/...        noVNC from the novnc dir; /xterm/xterm.js (node-xterm's CommonJS modules bundled for the
                         browser at start) and /xterm/xterm.css
  GET  /session          200 {"tenant": KEY} with a valid cookie, else 401
  POST /login            {"password": "..."} (JSON, or a form field `password`): checked by a real RFB (VNC)
                         authentication against host:LR_VNC_PORT (host: the env file's LR_CONSOLE_HOST, the
                         tenant's node in a cluster, else the config's host.address; /ws/* the same), so no
                         password is stored here and a password rotated on the running QEMU counts at once.
                         200 {"ok": true, "tenant": KEY, "expires": EPOCH} + cookie lr_console (Secure, HttpOnly,
                             SameSite=Strict; bound to tenant key, source address and expiry)
                         403 {"error": "wrong password", "failures": N, "delay": S}
                         429 {"error": "locked", "retryAfter": S, "message": ...}   (Retry-After header too)
                         503 {"error": "not running", "message": ...}   (the VM's console does not answer)
  POST /logout           clears the cookie
  WS   /ws/vnc           (cookie) raw TCP to host:LR_VNC_PORT; noVNC does the VNC authentication end to end
  WS   /ws/serial        (cookie) the first client message is the console password, checked by RFB like /login
                         (the same failure counting and lock); then the host's serial bridge (`serial <LR_VMID>\\n`,
                         `ok\\n`); the gateway sends one empty binary message when attached, then raw bytes both
                         ways, in binary messages (websockify refuses text messages). Close codes: 4001 wrong
                         password, 4003 locked, 4004 VM not running, 4008 no password, 1011 bridge error (the
                         reason says which).
Each wrong password is delayed 1 s, 2 s, 4 s ... (at most 30 s; attempts of one tenant wait their turn); maxFailures
within windowSeconds lock the tenant's login for lockSeconds. Success clears the count.

Auth log (authLog, appended, and stderr), one line per wrong password; the ban grid's CrowdSec agent parses it, so
this format is stable:
  <ISO time> lr-console login-failed tenant=<key> tunnel=<source ip> client=<real ip|unknown> failures=<n>
  e.g. 2025-01-31T12:00:00Z lr-console login-failed tenant=acme tunnel=10.255.0.2 client=198.51.100.7 failures=1
<ISO time> is UTC (YYYY-MM-DDTHH:MM:SSZ); client is the tenant's public address from the OpenVPN status files
(status-version 1, 2 or 3), or "unknown"; failures counts the wrong passwords within windowSeconds, this one included.
No password is ever logged.
"""

import base64
import datetime
import errno
import fcntl
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
import signal
import socket
import ssl
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from websockify import websocketproxy, websockifyserver
from websockify.websocket import WebSocketWantReadError

COOKIE = "lr_console"
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
INT_RE = re.compile(r"^[0-9]{1,10}$")
LINE_RE = re.compile(r"^([A-Z][A-Z0-9_]{0,31})=(.*)$")
SEGMENT_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$")
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".mp3": "audio/mpeg",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
    "connect-src 'self'; media-src 'self' data:; worker-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
MAX_BODY = 4096
MAX_STATUS_BYTES = 8 << 20
RFB_TIMEOUT = 5.0
PASSWORD_WAIT = 30.0
LOG = logging.getLogger("websocket.lr-console")


def fail(msg):
    print(f"lr-console-web: {msg}", file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------- config


def load_config(path):
    try:
        with open(path, encoding="utf-8") as f:
            c = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"cannot read config {path}: {e}")
    if not isinstance(c, dict):
        fail(f"{path}: not a JSON object")

    def need(obj, key, kind, where=""):
        v = obj.get(key) if isinstance(obj, dict) else None
        name = f"{where}{key}"
        if kind == "path":
            if not isinstance(v, str) or not v.startswith(("/", "$CREDENTIALS_DIRECTORY/")) or "\0" in v:
                fail(f"{path}: {name} must be an absolute path, got {v!r}")
        elif kind == "ip":
            try:
                if not isinstance(v, str) or ipaddress.ip_address(v).version != 4:
                    raise ValueError
            except ValueError:
                fail(f"{path}: {name} must be an IPv4 address, got {v!r}")
        elif kind == "port":
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 65535:
                fail(f"{path}: {name} must be a port (1-65535), got {v!r}")
        elif kind == "count":
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 10_000_000:
                fail(f"{path}: {name} must be a positive whole number, got {v!r}")
        return v

    listen = c.get("listen")
    if not isinstance(listen, list) or not listen:
        fail(f"{path}: listen must be a non-empty list of {{address, port}}")
    cfg = {
        "listen": [(need(item, "address", "ip", "listen[]."), need(item, "port", "port", "listen[].")) for item in listen],
        "host": (need(c.get("host"), "address", "ip", "host."), need(c.get("host"), "serialPort", "port", "host.")),
        "login": {k: need(c.get("login"), k, "count", "login.") for k in ("maxFailures", "windowSeconds", "lockSeconds")},
        "sessionSeconds": need(c, "sessionSeconds", "count"),
    }
    for k in ("cert", "key", "tenantsDir", "assets", "novnc", "xterm", "stateDir", "authLog"):
        cfg[k] = need(c, k, "path")
    status = c.get("statusFiles")
    if not isinstance(status, list):
        fail(f"{path}: statusFiles must be a list of paths")
    cfg["statusFiles"] = [need({"f": s}, "f", "path", "statusFiles[]") for s in status]
    if cfg["key"].startswith("$CREDENTIALS_DIRECTORY/"):
        creds = os.environ.get("CREDENTIALS_DIRECTORY")
        if not creds:
            fail("key names $CREDENTIALS_DIRECTORY but it is not set (systemd LoadCredential=)")
        cfg["key"] = os.path.join(creds, cfg["key"][len("$CREDENTIALS_DIRECTORY/"):])
    return cfg


# ---------------------------------------------------------------- tenants


class Tenant:
    __slots__ = ("key", "tunnels", "vnc_port", "vmid", "host")

    def __init__(self, key, tunnels, vnc_port, vmid, host=None):
        self.key, self.tunnels, self.vnc_port, self.vmid, self.host = key, tunnels, vnc_port, vmid, host


def console_host(cfg, tenant):
    """Where the tenant's VNC port and serial bridge are: its node (LR_CONSOLE_HOST, a cluster), else the host."""
    return tenant.host or cfg["host"][0]


def _ipv4(v):
    try:
        return str(ipaddress.IPv4Address(v)) == v
    except ValueError:
        return False


def parse_tenant(name, text):
    """A tenant from its env file (NAME=value lines, never sourced), or raises ValueError saying what is wrong."""
    vals = {}
    for n, line in enumerate(text.split("\n"), 1):
        if line == "" or line.startswith("#"):
            continue
        m = LINE_RE.match(line)
        if not m:
            raise ValueError(f"line {n} is not NAME=value")
        if m.group(1) in vals:
            raise ValueError(f"{m.group(1)} given twice")
        vals[m.group(1)] = m.group(2)
    for field in ("LR_KEY", "LR_TUN1", "LR_TUN2", "LR_VNC_PORT", "LR_VMID"):
        if field not in vals:
            raise ValueError(f"no {field}")
    key = vals["LR_KEY"]
    if not NAME_RE.match(key) or key != name:
        raise ValueError(f"LR_KEY {key!r} is not the file's name")
    for field in ("LR_TUN1", "LR_TUN2"):
        if not _ipv4(vals[field]):
            raise ValueError(f"{field} {vals[field]!r} is not an IPv4 address")
    if not INT_RE.match(vals["LR_VNC_PORT"]) or not 1 <= int(vals["LR_VNC_PORT"]) <= 65535:
        raise ValueError(f"LR_VNC_PORT {vals['LR_VNC_PORT']!r} is not a port")
    if not INT_RE.match(vals["LR_VMID"]) or not 100 <= int(vals["LR_VMID"]) <= 999_999_999:
        raise ValueError(f"LR_VMID {vals['LR_VMID']!r} is not a VMID")
    # Under SDN (a cluster): the node the tenant's VM runs on; absent: the config's host.
    host = vals.get("LR_CONSOLE_HOST")
    if host is not None and not _ipv4(host):
        raise ValueError(f"LR_CONSOLE_HOST {host!r} is not an IPv4 address")
    return Tenant(key, (vals["LR_TUN1"], vals["LR_TUN2"]), int(vals["LR_VNC_PORT"]), int(vals["LR_VMID"]), host)


class Tenants:
    """The tenants by tunnel address, re-read whenever a file in the directory changes (checked on every lookup)."""

    def __init__(self, directory):
        self.dir = directory
        self.stamp = None
        self.by_ip = {}

    def _stamp(self):
        try:
            entries = []
            with os.scandir(self.dir) as it:
                for e in it:
                    if e.name.endswith(".env") and e.is_file():
                        st = e.stat()
                        entries.append((e.name, st.st_ino, st.st_size, st.st_mtime_ns))
            return (os.stat(self.dir).st_mtime_ns, tuple(sorted(entries)))
        except OSError as e:
            return ("error", str(e))

    def refresh(self):
        stamp = self._stamp()
        if stamp == self.stamp:
            return
        self.stamp = stamp
        if stamp[0] == "error":
            print(f"lr-console-web: cannot read {self.dir}: {stamp[1]}", file=sys.stderr)
            self.by_ip = {}
            return
        by_ip, clash = {}, set()
        for name, *_ in stamp[1]:
            try:
                with open(os.path.join(self.dir, name), encoding="utf-8") as f:
                    t = parse_tenant(name[: -len(".env")], f.read(65536))
            except (OSError, ValueError, UnicodeDecodeError) as e:
                print(f"lr-console-web: {self.dir}/{name} ignored: {e}", file=sys.stderr)
                continue
            for ip in set(t.tunnels):
                if ip in by_ip and by_ip[ip].key != t.key:
                    clash.add(ip)
                by_ip[ip] = t
        for ip in clash:
            # Fail closed: an address two files claim opens nobody's console.
            print(f"lr-console-web: tunnel address {ip} is claimed by more than one tenant: refused", file=sys.stderr)
            del by_ip[ip]
        self.by_ip = by_ip

    def lookup(self, ip):
        self.refresh()
        return self.by_ip.get(ip)


# ---------------------------------------------------------------- OpenVPN status files


def _real_ip(addr):
    a = re.sub(r"^\[AF_INET6?\]", "", addr.strip())
    if a.startswith("["):
        host = a[1 : a.find("]")] if "]" in a else ""
    elif a.count(":") == 1:
        host = a.split(":")[0]
    elif a.count(":") > 1:
        host = a.rsplit(":", 1)[0]
    else:
        host = a
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return str(ip)


def client_address(status_files, tunnel_ip):
    """The tenant's real (public) address from the status files' routing table, or "unknown"."""
    for path in status_files:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read(MAX_STATUS_BYTES)
        except OSError:
            continue
        routing = False
        for line in text.splitlines():
            sep = "\t" if "\t" in line else ","
            fields = line.split(sep)
            if fields[0] == "ROUTING_TABLE" and len(fields) >= 4:  # status-version 2 and 3
                virt, real = fields[1], fields[3]
            elif line.startswith("ROUTING TABLE"):  # status-version 1
                routing = True
                continue
            elif line.startswith(("GLOBAL STATS", "END")):
                routing = False
                continue
            elif routing and len(fields) >= 3:
                virt, real = fields[0], fields[2]
            else:
                continue
            if virt == tunnel_ip:
                ip = _real_ip(real)
                if ip:
                    return ip
    return "unknown"


# ---------------------------------------------------------------- RFB (VNC) password check, RFC 6143


def _reverse_bits(b):
    return int(f"{b:08b}"[::-1], 2)


def vnc_response(password, challenge):
    """DES-ECB of the 16-byte challenge keyed by the first 8 password bytes (NUL-padded), each bit-reversed."""
    raw = bytes(ord(ch) & 0xFF for ch in password[:8]).ljust(8, b"\0")
    key = bytes(_reverse_bits(b) for b in raw)
    enc = Cipher(algorithms.TripleDES(key), modes.ECB()).encryptor()  # TripleDES with an 8-byte key is DES
    return enc.update(challenge) + enc.finalize()


def _recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("console closed the connection")
        buf += chunk
    return buf


def rfb_check(host, port, password, timeout=RFB_TIMEOUT):
    """("ok"|"wrong"|"down"|"error", detail): one VNC authentication, closed after the SecurityResult."""
    try:
        s = socket.create_connection((host, port), timeout=timeout)
    except (ConnectionRefusedError, socket.timeout, OSError) as e:
        return "down", str(e)
    try:
        with s:
            greeting = _recv_exact(s, 12)
            m = re.match(rb"^RFB (\d{3})\.(\d{3})\n$", greeting)
            if not m:
                return "error", "the console does not speak RFB"
            version = (int(m.group(1)), int(m.group(2)))
            if version >= (3, 8):
                s.sendall(b"RFB 003.008\n")
            elif version >= (3, 7):
                s.sendall(b"RFB 003.007\n")
            else:
                s.sendall(b"RFB 003.003\n")
            if version >= (3, 7):
                n = _recv_exact(s, 1)[0]
                if n == 0:
                    reason = _recv_exact(s, int.from_bytes(_recv_exact(s, 4), "big"))[:200]
                    return "error", "the console refused: " + reason.decode("latin-1")
                types = _recv_exact(s, n)
                if 2 not in types:
                    return "error", "the console offers no VNC password check"
                s.sendall(b"\x02")
            else:
                sec = int.from_bytes(_recv_exact(s, 4), "big")
                if sec != 2:
                    return "error", "the console offers no VNC password check"
            s.sendall(vnc_response(password, _recv_exact(s, 16)))
            result = int.from_bytes(_recv_exact(s, 4), "big")
            return ("ok", "") if result == 0 else ("wrong", "")
    except ConnectionResetError as e:
        return "down", str(e)
    except (OSError, EOFError) as e:
        return "error", str(e)


# ---------------------------------------------------------------- sessions


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_cookie(secret, key, ip, expires):
    payload = f"v1|{key}|{ip}|{expires}".encode("ascii")
    return b64(payload) + "." + b64(hmac.new(secret, payload, hashlib.sha256).digest())


def cookie_valid(secret, value, key, ip, now):
    try:
        p, sig = value.split(".")
        payload = unb64(p)
        if not hmac.compare_digest(unb64(sig), hmac.new(secret, payload, hashlib.sha256).digest()):
            return False
        v, k, i, exp = payload.decode("ascii").split("|")
        return v == "v1" and k == key and i == ip and int(exp) > now
    except (ValueError, UnicodeDecodeError):
        return False


# ---------------------------------------------------------------- failures (files under fcntl locks)


def iso_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Failures:
    """`<stateDir>/<key>.failures` (JSON), held under an exclusive lock for a whole attempt."""

    def __init__(self, state_dir, key):
        self.path = os.path.join(state_dir, f"{key}.failures")

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.lockf(self.fd, fcntl.LOCK_EX)
        try:
            data = json.loads(os.pread(self.fd, 65536, 0) or b"{}")
            self.times = [float(t) for t in data.get("failures", [])]
            self.locked_until = float(data.get("lockedUntil", 0))
        except (ValueError, TypeError, AttributeError):
            self.times, self.locked_until = [], 0.0
        return self

    def save(self):
        data = json.dumps({"failures": self.times, "lockedUntil": self.locked_until}).encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)

    def __exit__(self, *exc):
        os.close(self.fd)  # releases the lock
        return False


def log_failure(auth_log, key, tunnel, client, n):
    line = f"{iso_now()} lr-console login-failed tenant={key} tunnel={tunnel} client={client} failures={n}\n"
    sys.stderr.write(line)
    sys.stderr.flush()
    try:
        fd = os.open(auth_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            os.write(fd, line.encode("ascii"))
        finally:
            os.close(fd)
    except OSError as e:
        print(f"lr-console-web: cannot write {auth_log}: {e}", file=sys.stderr)


def check_password(cfg, tenant, src, password):
    """One password attempt for `tenant` from `src`: ("ok"|"wrong"|"locked"|"down"|"error", info dict)."""
    login = cfg["login"]
    with Failures(cfg["stateDir"], tenant.key) as st:
        now = time.time()
        st.times = [t for t in st.times if now - t < login["windowSeconds"]]
        if st.locked_until > now:
            return "locked", {"retryAfter": int(st.locked_until - now + 0.999)}
        kind, detail = rfb_check(console_host(cfg, tenant), tenant.vnc_port, password)
        if kind == "ok":
            if st.times or st.locked_until:
                st.times, st.locked_until = [], 0.0
                st.save()
            return "ok", {}
        if kind != "wrong":
            return kind, {"detail": detail}
        st.times.append(now)
        n = len(st.times)
        locked = n >= login["maxFailures"]
        if locked:
            st.locked_until = now + login["lockSeconds"]
        st.save()
        log_failure(cfg["authLog"], tenant.key, src, client_address(cfg["statusFiles"], src), n)
        delay = min(30, 2 ** (n - 1))
        time.sleep(delay)  # under the lock: the tenant's next attempt waits too
        if locked:
            return "locked", {"retryAfter": login["lockSeconds"], "failures": n, "delay": delay}
        return "wrong", {"failures": n, "delay": delay}


def lock_message(seconds):
    minutes = (seconds + 59) // 60
    return f"Too many wrong passwords: console login locked, try again in {minutes} min."


NOT_RUNNING = "The router's VM is not running, or its console does not answer yet: start it or wait, then try again."


# ---------------------------------------------------------------- xterm bundle


def bundle_xterm(xterm_dir):
    """node-xterm's CommonJS modules (lib/**/*.js, no tests) as one browser script defining window.LrXterm."""
    lib = os.path.join(xterm_dir, "lib")
    modules = []
    for root, dirs, files in os.walk(lib, followlinks=True):  # Debian links lib/addons to libjs-xterm
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(".js") or name.endswith(".test.js"):
                continue
            path = os.path.join(root, name)
            mid = os.path.relpath(path, lib)[: -len(".js")].replace(os.sep, "/")
            with open(path, encoding="utf-8") as f:
                src = re.sub(r"^//# sourceMappingURL=.*$", "", f.read(), flags=re.M)
            modules.append(f"{json.dumps(mid)}: function (require, module, exports) {{\n{src}\n}}")
    if not any(m.startswith('"xterm":') for m in modules):
        raise OSError(f"{lib}/xterm.js not found (Debian's node-xterm)")
    return (
        "/* node-xterm (Debian), bundled by lr-console-web: CommonJS modules in one script. */\n"
        "(function () {\n'use strict';\nvar defs = {\n" + ",\n".join(modules) + "\n};\nvar cache = {};\n"
        "function resolve(from, spec) {\n"
        "  var parts = spec.charAt(0) === '.' ? from.split('/').slice(0, -1).concat(spec.split('/')) : spec.split('/');\n"
        "  var out = [];\n"
        "  parts.forEach(function (p) { if (p === '..') out.pop(); else if (p !== '.' && p !== '') out.push(p); });\n"
        "  var id = out.join('/').replace(/\\.js$/, '');\n"
        "  if (defs[id]) return id;\n"
        "  if (defs[id + '/index']) return id + '/index';\n"
        "  throw new Error('xterm bundle: cannot find module ' + spec + ' from ' + from);\n"
        "}\n"
        "function load(id) {\n"
        "  if (cache[id]) return cache[id].exports;\n"
        "  var module = { exports: {} };\n"
        "  cache[id] = module;\n"
        "  defs[id].call(module.exports, function (spec) { return load(resolve(id, spec)); }, module, module.exports);\n"
        "  return module.exports;\n"
        "}\n"
        "window.LrXterm = { Terminal: load('xterm'), fit: defs['addons/fit/fit'] ? load('addons/fit/fit') : null };\n"
        "})();\n"
    ).encode("utf-8")


# ---------------------------------------------------------------- HTTP and WebSocket handler


class Handler(websocketproxy.ProxyRequestHandler):
    cfg = None
    secret = None
    tenants = None
    xterm_js = b""
    timeout = 30  # idle keep-alive connections (one process each) do not linger

    def version_string(self):
        return "lr-console"

    def log_message(self, format, *args):
        LOG.info("%s %s", self.client_address[0], format % args)

    # -- helpers

    def end_headers(self):
        for name, value in (
            ("Content-Security-Policy", CSP),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Cross-Origin-Resource-Policy", "same-origin"),
            ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        ):
            self.send_header(name, value)
        if not getattr(self, "_cache_set", False):
            self.send_header("Cache-Control", "no-store")
        self._cache_set = False
        super().end_headers()

    def send_body(self, code, body=b"", ctype=None, headers=(), head=False):
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            if name == "Cache-Control":
                self._cache_set = True
            self.send_header(name, value)
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    def send_json(self, code, obj, headers=()):
        self.send_body(code, json.dumps(obj).encode() + b"\n", "application/json", headers)

    def forbidden(self):
        self.close_connection = True
        self.send_body(403, headers=(("Connection", "close"),))

    def src(self):
        return self.client_address[0]

    def tenant(self):
        """The tenant whose tunnel address the request comes from, for a request to one of our own addresses."""
        hosts = {f"{a}:{p}" for a, p in self.cfg["listen"]} | {a for a, p in self.cfg["listen"] if p == 443}
        if self.headers.get("Host") not in hosts:
            return None  # a name that resolves here (DNS rebinding) is not the gateway
        return self.tenants.lookup(self.src())

    def same_origin(self):
        origin = self.headers.get("Origin")
        host = self.headers.get("Host", "")
        if origin is not None and origin != f"https://{host}":
            return False
        return self.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")

    def cookie(self):
        for part in self.headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE:
                return value
        return ""

    def session_ok(self, tenant):
        return cookie_valid(self.secret, self.cookie(), tenant.key, self.src(), time.time())

    # -- static files

    def file_path(self, base, segments):
        if not segments or not all(SEGMENT_RE.match(s) for s in segments):
            return None
        path = os.path.join(base, *segments)
        ext = os.path.splitext(path)[1]
        if ext not in TYPES or not os.path.isfile(path):
            return None
        return path

    def serve_file(self, path, head, cache="no-cache"):
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
                if self.headers.get("If-None-Match") == etag:
                    return self.send_body(304, headers=(("ETag", etag), ("Cache-Control", cache)))
                body = f.read()
        except OSError:
            return self.send_body(404, b"not found\n", "text/plain; charset=utf-8", head=head)
        ctype = TYPES[os.path.splitext(path)[1]]
        self.send_body(200, body, ctype, (("ETag", etag), ("Cache-Control", cache)), head)

    def do_GET(self, head=False):
        tenant = self.tenant()
        if tenant is None:
            return self.forbidden()
        path = urllib.parse.urlsplit(self.path).path
        if "\0" in path or "\\" in path or "%" in path:
            return self.send_body(404, b"not found\n", "text/plain; charset=utf-8", head=head)
        if path in ("/", "/index.html"):
            return self.serve_file(os.path.join(self.cfg["assets"], "index.html"), head, "no-store")
        if path == "/session":
            if self.session_ok(tenant):
                return self.send_json(200, {"tenant": tenant.key})
            return self.send_json(401, {"error": "not logged in"})
        if path == "/xterm/xterm.js":
            return self.send_body(200, self.xterm_js, TYPES[".js"], (("Cache-Control", "no-cache"),), head)
        segments = path.split("/")[1:]
        found = None
        if segments[0] == "novnc":
            found = self.file_path(self.cfg["novnc"], segments[1:])
        elif path == "/xterm/xterm.css":
            found = os.path.join(self.cfg["xterm"], "lib", "xterm.css")
        elif segments[0] != "xterm":
            found = self.file_path(self.cfg["assets"], segments)
        if found is None:
            return self.send_body(404, b"not found\n", "text/plain; charset=utf-8", head=head)
        self.serve_file(found, head)

    def do_HEAD(self):
        self.do_GET(head=True)

    # -- login

    def read_body(self):
        """The request body (at most MAX_BODY bytes), or None (then the connection closes)."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def password_from(self, body):
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        try:
            if ctype == "application/json":
                pw = json.loads(body.decode("utf-8")).get("password")
            elif ctype == "application/x-www-form-urlencoded":
                pw = urllib.parse.parse_qs(body.decode("utf-8"), max_num_fields=8).get("password", [None])[0]
            else:
                return None
        except (ValueError, AttributeError, UnicodeDecodeError):
            return None
        return pw if isinstance(pw, str) and 0 < len(pw) <= 256 else None

    def do_POST(self):
        tenant = self.tenant()
        if tenant is None:
            return self.forbidden()
        body = self.read_body()
        if body is None:
            return self.send_json(413, {"error": "request too large"})
        path = urllib.parse.urlsplit(self.path).path
        if not self.same_origin():
            return self.send_json(403, {"error": "cross-site request refused"})
        if path == "/logout":
            gone = f"{COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict"
            return self.send_json(200, {"ok": True}, (("Set-Cookie", gone),))
        if path != "/login":
            return self.send_json(404, {"error": "not found"})
        password = self.password_from(body)
        if password is None:
            return self.send_json(400, {"error": "password required", "message": "Type the console password."})
        kind, info = check_password(self.cfg, tenant, self.src(), password)
        if kind == "ok":
            expires = int(time.time()) + self.cfg["sessionSeconds"]
            value = make_cookie(self.secret, tenant.key, self.src(), expires)
            cookie = f"{COOKIE}={value}; Path=/; Max-Age={self.cfg['sessionSeconds']}; Secure; HttpOnly; SameSite=Strict"
            return self.send_json(200, {"ok": True, "tenant": tenant.key, "expires": expires}, (("Set-Cookie", cookie),))
        if kind == "wrong":
            return self.send_json(403, {"error": "wrong password", "message": "Wrong password.", **info})
        if kind == "locked":
            body = {"error": "locked", "message": lock_message(info["retryAfter"]), **info}
            return self.send_json(429, body, (("Retry-After", str(info["retryAfter"])),))
        if kind == "down":
            return self.send_json(503, {"error": "not running", "message": NOT_RUNNING})
        LOG.info("%s tenant=%s console check failed: %s", self.src(), tenant.key, info.get("detail"))
        return self.send_json(502, {"error": "console error", "message": "The console gave an unexpected answer; try again later."})

    # -- WebSockets

    def handle_upgrade(self):
        tenant = self.tenant()
        if tenant is None:
            return self.forbidden()
        path = urllib.parse.urlsplit(self.path).path
        if path not in ("/ws/vnc", "/ws/serial"):
            return self.send_json(404, {"error": "not found"})
        if not self.same_origin():
            return self.send_json(403, {"error": "cross-site request refused"})
        if not self.session_ok(tenant):
            return self.send_json(401, {"error": "not logged in"})
        self.lr_tenant, self.lr_path = tenant, path
        super().handle_upgrade()

    def new_websocket_client(self):
        tenant = self.lr_tenant
        self.server.target_host = console_host(self.cfg, tenant)
        self.server.unix_target = None
        if self.lr_path == "/ws/vnc":
            self.server.target_port = tenant.vnc_port
            return super().new_websocket_client()  # websockify's own TCP proxy
        password = self.first_message()
        if not password:
            raise self.CClose(4008, "no password")
        kind, info = check_password(self.cfg, tenant, self.src(), password)
        if kind == "wrong":
            raise self.CClose(4001, "wrong password")
        if kind == "locked":
            raise self.CClose(4003, lock_message(info["retryAfter"]))
        if kind == "down":
            raise self.CClose(4004, "VM not running")
        if kind != "ok":
            raise self.CClose(1011, "console error")
        tsock, rest = self.attach_serial(tenant)
        try:
            self.send_frames([b""])  # attached
            if rest:
                self.send_frames([rest])
            self.do_proxy(tsock)
        finally:
            try:
                tsock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            tsock.close()

    def first_message(self):
        deadline = time.time() + PASSWORD_WAIT
        while time.time() < deadline:
            try:
                msg = self.request.recvmsg()
            except WebSocketWantReadError:
                continue
            except (OSError, socket.timeout):
                return None
            if msg is None:
                return None
            if msg:
                return msg[:256].decode("utf-8", errors="replace").rstrip("\r\n")
        return None

    def attach_serial(self, tenant):
        host, port = console_host(self.cfg, tenant), self.cfg["host"][1]
        try:
            tsock = socket.create_connection((host, port), timeout=10)
        except OSError as e:
            LOG.info("%s tenant=%s serial bridge %s:%s: %s", self.src(), tenant.key, host, port, e)
            raise self.CClose(1011, "serial bridge unreachable")
        try:
            tsock.sendall(f"serial {tenant.vmid}\n".encode("ascii"))
            buf = b""
            while b"\n" not in buf and len(buf) < 512:
                chunk = tsock.recv(512)
                if not chunk:
                    break
                buf += chunk
            line, _, rest = buf.partition(b"\n")
            text = line.decode("utf-8", errors="replace").strip()
            if text != "ok":
                reason = text[6:] if text.startswith("error ") else "no answer"
                raise self.CClose(1011, ("serial bridge: " + reason)[:120])
            tsock.settimeout(None)
            tsock.setsockopt(socket.SOL_TCP, socket.TCP_NODELAY, 1)
            return tsock, rest
        except OSError as e:
            tsock.close()
            raise self.CClose(1011, f"serial bridge: {e}"[:120])
        except self.CClose:
            tsock.close()
            raise


# ---------------------------------------------------------------- server


class Server(websocketproxy.WebSocketProxy):
    tenants = None

    @staticmethod
    def socket(host, port=None, connect=False, prefer_ipv6=False, unix_socket=None, use_ssl=False, tcp_keepalive=True,
               tcp_keepcnt=None, tcp_keepidle=None, tcp_keepintvl=None):
        if connect or unix_socket:
            return websockifyserver.WebSockifyServer.socket(host, port, connect, prefer_ipv6, unix_socket, use_ssl,
                                                            tcp_keepalive, tcp_keepcnt, tcp_keepidle, tcp_keepintvl)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # The gateway addresses appear when OpenVPN creates its tunnels, possibly after this starts.
        sock.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_FREEBIND", 15), 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.bind((host, port))
        sock.listen(128)
        return sock

    def poll(self):
        # Between connections: the table the next forked handler inherits is fresh.
        self.tenants.refresh()


SSL_OPTIONS = (
    ssl.OP_NO_SSLv2 | ssl.OP_NO_SSLv3 | ssl.OP_NO_TLSv1 | ssl.OP_NO_TLSv1_1 | ssl.OP_NO_COMPRESSION
    | ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_SINGLE_DH_USE | ssl.OP_SINGLE_ECDH_USE | ssl.OP_NO_RENEGOTIATION
)


def serve(cfg, address, port):
    server = Server(
        RequestHandlerClass=Handler,
        listen_host=address,
        listen_port=port,
        cert=cfg["cert"],
        key=cfg["key"],
        ssl_only=True,
        ssl_options=SSL_OPTIONS,
        heartbeat=30,
        file_only=True,
    )
    server.tenants = Handler.tenants
    server.start_server()


def main():
    if len(sys.argv) != 2:
        print("usage: lr-console-web.py CONFIG.json", file=sys.stderr)
        sys.exit(2)
    cfg = load_config(sys.argv[1])
    logger = logging.getLogger(websocketproxy.WebSocketProxy.log_prefix)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    for path in (cfg["cert"], cfg["key"]):
        if not os.access(path, os.R_OK):
            fail(f"cannot read {path}")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cfg["cert"], cfg["key"])
    except (ssl.SSLError, OSError) as e:
        fail(f"certificate {cfg['cert']} / key: {e}")
    os.makedirs(cfg["stateDir"], mode=0o700, exist_ok=True)
    try:
        Handler.xterm_js = bundle_xterm(cfg["xterm"])
    except OSError as e:
        fail(f"xterm: {e}")
    Handler.cfg = cfg
    Handler.secret = secrets.token_bytes(32)
    Handler.tenants = Tenants(cfg["tenantsDir"])
    Handler.tenants.refresh()

    children = {}
    for address, port in cfg["listen"]:
        pid = os.fork()
        if pid == 0:
            try:
                serve(cfg, address, port)
            except Exception as e:  # noqa: BLE001 - the supervisor restarts the whole service
                print(f"lr-console-web: {address}:{port}: {e}", file=sys.stderr)
                os._exit(1)
            os._exit(0)
        children[pid] = f"{address}:{port}"
    print(f"lr-console-web: listening on {', '.join(children.values())} (TLS)", file=sys.stderr, flush=True)

    stopping = []

    def stop(signum, _frame):
        stopping.append(signum)
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        where = children.pop(pid, None)
        if where is None:
            continue
        if not stopping:
            # One listener gone: stop the others too, so systemd restarts the whole gateway.
            print(f"lr-console-web: listener {where} exited ({status}); stopping", file=sys.stderr, flush=True)
            code = 1
            stop(signal.SIGTERM, None)
    sys.exit(code)


if __name__ == "__main__":
    main()
