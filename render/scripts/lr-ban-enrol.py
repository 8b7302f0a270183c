#!/usr/bin/python3
"""lr-ban-enrol: make the ban grid's LAPI know every machine and bouncer with the credentials Pulumi chose.

Runs on the services VM as the LAPI's user, the LAPI up. Everything secret arrives on stdin, as JSON:
  {"lapi": "https://ip:8080/", "ca": "<ca.crt>", "db": "<crowdsec.db>", "cscli": ["cscli", "-c", "<config.yaml>"],
   "machines": {"<name>": "<password>"}, "bouncers": {"<name>": "<api key>"}}
Idempotent: a credential that already works is kept; a missing one is added, a changed one reset. Secrets never go
on a command line (cscli's --password / -k would show them in /proc): machines register through the API (then
`cscli machines validate`), a bouncer's key is set as its SHA-512 in the LAPI's database, which is what cscli stores.
Prints one line per name, never a secret.
"""
import hashlib, json, sqlite3, ssl, subprocess, sys, urllib.error, urllib.parse, urllib.request

CFG = json.load(sys.stdin)
TLS = ssl.create_default_context(cafile=CFG["ca"])


def call(path, body=None, headers=None):
    """HTTP status of a request to the LAPI (JSON body → POST)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(urllib.parse.urljoin(CFG["lapi"], path), data=data, headers={"Content-Type": "application/json", "User-Agent": "lr-ban-enrol/1", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10, context=TLS) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def cscli(*args):
    return subprocess.run([*CFG["cscli"], *args], check=True, capture_output=True, text=True).stdout


def names(kind, field):
    return {x[field] for x in json.loads(cscli(kind, "list", "-o", "json") or "[]") or []}


def machine(name, password):
    if call("v1/watchers/login", {"machine_id": name, "password": password, "scenarios": []}) == 200:
        return "kept"
    state = "reset" if name in names("machines", "machineId") else "added"
    if state == "reset":
        cscli("machines", "delete", name)
    code = call("v1/watchers", {"machine_id": name, "password": password})
    if code not in (200, 201):
        raise SystemExit(f"lr-ban-enrol: registering machine {name} failed: HTTP {code}")
    cscli("machines", "validate", name)
    return state


def bouncer(name, key):
    if call("v1/decisions?ip=127.0.0.1", headers={"X-Api-Key": key}) == 200:
        return "kept"
    state = "reset" if name in names("bouncers", "name") else "added"
    if state == "added":
        cscli("bouncers", "add", name, "-o", "raw")  # a random key, replaced below (its output is dropped)
    with sqlite3.connect(CFG["db"], timeout=30) as db:
        n = db.execute("UPDATE bouncers SET api_key = ? WHERE name = ?", (hashlib.sha512(key.encode()).hexdigest(), name)).rowcount
    if n != 1:
        raise SystemExit(f"lr-ban-enrol: bouncer {name} is not in the LAPI database")
    if call("v1/decisions?ip=127.0.0.1", headers={"X-Api-Key": key}) != 200:
        raise SystemExit(f"lr-ban-enrol: bouncer {name}: the LAPI refuses its key after the reset")
    return state


for kind, fn in (("machines", machine), ("bouncers", bouncer)):
    for name, secret in sorted(CFG.get(kind, {}).items()):
        print(f"{kind[:-1]} {name}: {fn(name, secret)}")
