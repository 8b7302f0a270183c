#!/usr/bin/python3
"""lr-ban-report: tenants' routers report attackers; the gateway checks who asks and what, then raises an alert
on the CrowdSec LAPI as its own machine, so the LAPI profiles decide the ban (same durations and repeat-offender rule
as the grid's own detections).

POST /v1/report  Authorization: Bearer <tenant token>  body: ip=<IPv4>[&reason=<word>]  (form or JSON {"ip":..})
  200 {"banned": ip}       accepted, alert raised
  400 bad request          not one public unicast IPv4 address
  401 unauthorized         unknown token, or token used from another address than the tenant's own
  403 protected            the address is protected (service, management, tenants, allowlist)
  429 quota                the tenant's hourly quota is used up
Config (JSON, mode 0640: it holds the tokens and the gateway's LAPI password; rendered by render/bans/report.ts): {"listen": "ip:port", "lapi": "https://..:8080/", "lapiCa": "<ca.crt>", "login": .., "password": ..,
  "quotaPerHour": 20, "requireGlobal": true, "stateFile": "...", "protected": [cidr, ...],
  "tenants": {"<key>": {"token": "...", "sources": ["<tenant public ip>"]}}, "tokenKey": "..."}
Production lists no tenant: "tokenKey" (secret) signs each tenant's token, <key>.<hex HMAC-SHA256(tokenKey,
"lr-ban-report|<key>|<tenant public ip>")> (render/bans/tenant-report.ts), so the gateway checks a token against the
address it comes from, and adding or removing a tenant changes nothing here.
"""
import hashlib, hmac, ipaddress, json, os, ssl, sys, threading, time, urllib.error, urllib.parse, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CFG = json.load(open(sys.argv[1]))
# TLS to the LAPI: verify its certificate against the service CA ("lapiCa"), never the system store alone.
LAPI_TLS = ssl.create_default_context(cafile=CFG["lapiCa"]) if CFG.get("lapiCa") else None
PROTECTED = [ipaddress.ip_network(c) for c in CFG["protected"]]
LOCK = threading.Lock()
HOUR = 3600.0


def load_state():
    try:
        return json.load(open(CFG["stateFile"]))
    except (OSError, ValueError):
        return {}


STATE = load_state()  # tenant -> [epoch of accepted reports in the last hour]; survives restarts


def save_state():
    tmp = CFG["stateFile"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(STATE, f)
    os.replace(tmp, CFG["stateFile"])


class Lapi:
    """Machine login (JWT) and alert push; re-logs in when the token is refused or expired."""
    def __init__(self):
        self.token, self.lock = None, threading.Lock()

    def _req(self, path, body, auth=True):
        req = urllib.request.Request(urllib.parse.urljoin(CFG["lapi"], path), data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "User-Agent": "lr-ban-report/1"})
        if auth:
            req.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(req, timeout=5, context=LAPI_TLS) as r:
            return json.load(r)

    def login(self):
        self.token = self._req("v1/watchers/login", {"machine_id": CFG["login"], "password": CFG["password"], "scenarios": []}, auth=False)["token"]

    def alert(self, body):
        with self.lock:
            for attempt in (1, 2):
                if not self.token:
                    self.login()
                try:
                    return self._req("v1/alerts", body)
                except urllib.error.HTTPError as e:
                    if e.code in (401, 403) and attempt == 1:
                        self.token = None
                        continue
                    raise


LAPI = Lapi()


TOKEN_KEY = CFG.get("tokenKey", "").encode()
KEY_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


def tenant_for(token, peer):
    for key, t in CFG.get("tenants", {}).items():
        if hmac.compare_digest(t["token"], token):
            return key if peer in t["sources"] else None
    key, _, mac = token.partition(".")
    if not TOKEN_KEY or not key or not mac or not set(key) <= KEY_CHARS:
        return None
    want = hmac.new(TOKEN_KEY, f"lr-ban-report|{key}|{peer}".encode(), hashlib.sha256).hexdigest()
    return key if hmac.compare_digest(want, mac) else None


def check_ip(text):
    try:
        ip = ipaddress.IPv4Address(text.strip())
    except ValueError:
        return None, "not an IPv4 address"
    if ip.is_multicast or ip.is_loopback or ip.is_unspecified or ip.is_link_local or ip.is_reserved or str(ip).endswith(".255"):
        return None, "not a unicast host address"
    if CFG.get("requireGlobal", True) and not ip.is_global:  # the lab's "internet" uses documentation/CGNAT blocks
        return None, "not a public address"
    return ip, None


def alert_body(key, ip, reason):
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    scenario = "lr/tenant-report"
    msg = f"reported by tenant {key}: {reason}"
    return [{"capacity": 0, "events": [], "events_count": 1, "leakspeed": "0", "message": msg, "remediation": True,
             "scenario": scenario, "scenario_hash": "", "scenario_version": "1", "simulated": False,
             "labels": [], "meta": [{"key": "tenant", "value": key}],
             "source": {"scope": "Ip", "value": str(ip), "ip": str(ip)}, "start_at": now, "stop_at": now}]


class Handler(BaseHTTPRequestHandler):
    def reply(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):  # one line per request on stderr (the journal)
        sys.stderr.write("%s %s\n" % (self.client_address[0], fmt % args))

    def do_POST(self):
        if self.path != "/v1/report":
            return self.reply(404, {"error": "not found"})
        auth = self.headers.get("Authorization", "")
        key = tenant_for(auth[7:], self.client_address[0]) if auth.startswith("Bearer ") else None
        if not key:  # never log the token itself
            sys.stderr.write(f"refused: unauthorized report from {self.client_address[0]}\n")
            return self.reply(401, {"error": "unauthorized"})
        raw = self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 4096)).decode(errors="replace")
        if self.headers.get("Content-Type", "").startswith("application/json"):
            try:
                form = {k: str(v) for k, v in json.loads(raw).items()}
            except (ValueError, AttributeError):
                return self.reply(400, {"error": "bad json"})
        else:
            form = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
        ip, err = check_ip(form.get("ip", ""))
        if err:
            return self.reply(400, {"error": err})
        if any(ip in n for n in PROTECTED):
            sys.stderr.write(f"refused: tenant {key} reported protected {ip}\n")
            return self.reply(403, {"error": "protected address"})
        reason = "".join(c for c in form.get("reason", "report") if c.isalnum() or c in "-_.")[:40] or "report"
        with LOCK:
            now = time.time()
            recent = [t for t in STATE.get(key, []) if t > now - HOUR]
            if len(recent) >= CFG["quotaPerHour"]:
                return self.reply(429, {"error": "hourly quota used", "quotaPerHour": CFG["quotaPerHour"]})
            recent.append(now)
            STATE[key] = recent
            save_state()
        try:
            LAPI.alert(alert_body(key, ip, reason))
        except Exception as e:  # the quota slot stays used: a failing LAPI must not turn into unlimited retries
            sys.stderr.write(f"lapi error for {key}/{ip}: {e}\n")
            return self.reply(502, {"error": "decision store unavailable"})
        sys.stderr.write(f"accepted: tenant {key} reported {ip} ({reason})\n")
        return self.reply(200, {"banned": str(ip)})


if __name__ == "__main__":
    host, port = CFG["listen"].rsplit(":", 1)
    ThreadingHTTPServer((host, int(port)), Handler).serve_forever()
