#!/usr/bin/python3
"""lr-metrics: the VPN server's own figures for node exporter's textfile collector (issue 14).

One run reads the OpenVPN instances' status files, the ccd and pin directories, the hooks' log lines since the last
run (the journal, or files in the lab), the CA and server certificates and the ban set, and rewrites one .prom file
atomically. Counters (refusals, hook runs) live in a state file so they only grow. A systemd timer runs it; it never
talks to OpenVPN's management socket (one client at a time: the tenant delete script's `kill` must never wait).
Usage: lr-metrics.py CONFIG.json   (render/monitoring/lr-metrics.ts writes the config)
"""
import json
import os
import re
import ssl
import subprocess
import sys
import time

# config/schema.ts TENANT_KEY (and the hooks' is_tenant_key): a ccd file of any other name is no tenant.
TENANT = re.compile(r"^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$")
# journalctl -o short-unix: "<epoch.usec> <host> <ident>[<pid>]: <message>"
LINE = re.compile(r"^(\d+(?:\.\d+)?) \S+ ([^\s\[]+)\[(\d+)\]: (.*)$")
DECISION = re.compile(r"^lr-(auth|tc2): cn=(\S+) (ACCEPT|REJECT): (.*)$")
PEER_INFO = re.compile(r"(?:^|\s)peer info: ")

AUTH_REASONS = [
    ("no ccd file", "unknown_cert"),
    ("common name is not a tenant key", "unknown_cert"),
    ("certificate pin", "revoked_cert"),
    ("is not the tenant's current one", "revoked_cert"),
    ("does not match", "wrong_hwid"),
    ("local record differs", "wrong_hwid"),
    ("malformed record", "wrong_hwid"),
    ("no pin and", "unpinned"),
    ("needs both servers", "peer_unreachable"),
]
TC2_REASONS = [("no ccd file", "unknown_cert"), ("is not the tenant's current one", "revoked_key"), ("no tls-crypt-v2 key pinned", "revoked_key")]


def reason_of(kind, text):
    """The refusal's reason label from the hook's own words (render/scripts/auth-verify.sh, tls-crypt-v2-verify.sh)."""
    for needle, reason in AUTH_REASONS if kind == "auth" else TC2_REASONS:
        if needle in text:
            return reason
    return "other" if kind == "auth" else "bad_key"


def esc(v):
    return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Out:
    """Prometheus text format, one HELP/TYPE per family, in the order first written."""

    def __init__(self):
        self.families = {}

    def add(self, name, mtype, help_text, value, labels=None):
        labels = labels or {}
        fam = self.families.setdefault(name, (mtype, help_text, []))
        lab = ",".join('%s="%s"' % (k, esc(v)) for k, v in sorted(labels.items()))
        fam[2].append("%s{%s} %s" % (name, lab, repr(float(value)) if isinstance(value, float) else value) if lab else "%s %s" % (name, value))

    def text(self):
        lines = []
        for name, (mtype, help_text, samples) in self.families.items():
            lines += ["# HELP %s %s" % (name, help_text), "# TYPE %s %s" % (name, mtype)] + samples
        return "\n".join(lines) + "\n"


def read_status(path):
    """Client rows of an OpenVPN status file, version 1 (the config's `status`) or 2 (Debian's unit adds
    `--status-version 2`): (cn, bytes received, bytes sent, since). Columns are found by their header names."""
    rows, v1 = [], False
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    header = None
    for line in lines:
        parts = line.split(",")
        if line == "OpenVPN CLIENT LIST":
            v1 = True
            continue
        if line in ("ROUTING TABLE", "GLOBAL STATS", "END"):
            v1 = False
            continue
        if parts[0] == "HEADER" and len(parts) > 1 and parts[1] == "CLIENT_LIST":
            header = parts[2:]
            continue
        if v1 and parts[0] == "Common Name":
            header = parts
            continue
        if header is None:
            continue
        if parts[0] == "CLIENT_LIST":
            parts = parts[1:]
        elif not v1:
            continue
        if len(parts) < len(header):
            continue
        col = dict(zip(header, parts))
        try:
            if col.get("Connected Since (time_t)"):
                since = int(col["Connected Since (time_t)"])
            else:
                since = int(time.mktime(time.strptime(col["Connected Since"], "%Y-%m-%d %H:%M:%S")))
            rows.append((col["Common Name"], int(col["Bytes Received"]), int(col["Bytes Sent"]), since))
        except (KeyError, ValueError):
            continue
    return rows


def tenants_of(cfg):
    keys = set()
    for d in cfg["ccdDirs"]:
        try:
            keys.update(k for k in os.listdir(d) if TENANT.match(k) and not k.startswith("lr-vpn"))
        except FileNotFoundError:
            pass
    return sorted(keys)


def has_pin(cfg, key):
    for d in (cfg["pinsDir"], cfg["enrolledDir"]):
        try:
            with open(os.path.join(d, key), encoding="utf-8") as f:
                if f.readline().strip():
                    return True
        except (FileNotFoundError, PermissionError, NotADirectoryError):
            pass
    return False


def new_log_lines(cfg, state):
    """The hooks' and OpenVPN's log lines since the last run, in short-unix form."""
    src = cfg["log"]
    if "journal" in src:
        cmd = ["journalctl", "-o", "short-unix", "--no-pager", "--show-cursor", "-q"]
        for u in src["journal"]:
            cmd += ["-u", u]
        cursor = state.get("cursor")
        cmd += ["--after-cursor", cursor] if cursor else ["--since", "-%ds" % src.get("firstWindowSeconds", 600)]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=30).stdout.splitlines()
        except (OSError, subprocess.TimeoutExpired):
            return []  # no journal this run: counters stay, the next run reads on from the cursor
        if out and out[-1].startswith("-- cursor: "):
            state["cursor"] = out.pop()[len("-- cursor: "):]
        return out
    lines, offsets = [], state.setdefault("offsets", {})
    for path in src["files"]:
        try:
            size = os.path.getsize(path)
        except FileNotFoundError:
            continue
        start = offsets.get(path, 0)
        if size < start:
            start = 0  # rotated or truncated
        with open(path, "rb") as f:
            f.seek(start)
            data = f.read(size - start)
        cut = data.rfind(b"\n") + 1  # complete lines only
        offsets[path] = start + cut
        lines += data[:cut].decode("utf-8", "replace").splitlines()
    return lines


def take_log(lines, state, tenants):
    """Counts refusals and times the auth hook: from OpenVPN's last `peer info` line of a client to the hook's decision."""
    refusals = state.setdefault("refusals", {})
    per_tenant = state.setdefault("tenantRefusals", {})
    last = state.setdefault("lastRefusal", {})
    hook = state.setdefault("hook", {"sum": 0.0, "count": 0, "last": 0.0})
    pending = state.setdefault("pending", {})
    for raw in lines:
        m = LINE.match(raw)
        if not m:
            continue
        at, proc, msg = float(m.group(1)), "%s[%s]" % (m.group(2), m.group(3)), m.group(4)
        if PEER_INFO.search(msg):
            pending[proc] = at
            continue
        d = DECISION.match(msg)
        if not d:
            continue
        kind, cn, verdict, text = d.groups()
        if kind == "auth" and proc in pending:
            took = max(0.0, at - pending.pop(proc))
            hook["sum"] += took
            hook["count"] += 1
            hook["last"] = took
        if verdict != "REJECT":
            continue
        reason = reason_of(kind, text)
        refusals[reason] = refusals.get(reason, 0) + 1
        if cn in tenants:
            k = "%s|%s" % (cn, reason)
            per_tenant[k] = per_tenant.get(k, 0) + 1
            last[cn] = [reason, at]
    # A client that vanished between its peer info and the hook must not pair with a much later decision.
    newest = max(pending.values(), default=0.0)
    for proc, at in list(pending.items()):
        if newest - at > 120:
            pending.pop(proc)


def cert_end(path, state):
    """notAfter of a PEM certificate (epoch), cached by mtime: openssl runs once per changed file."""
    try:
        mtime = os.stat(path).st_mtime
    except FileNotFoundError:
        return None
    cache = state.setdefault("certs", {})
    hit = cache.get(path)
    if hit and hit[0] == mtime:
        return hit[1]
    try:
        out = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", path], capture_output=True, text=True, check=False, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    if not out.startswith("notAfter="):
        return None
    end = int(ssl.cert_time_to_seconds(out[len("notAfter="):]))
    cache[path] = [mtime, end]
    return end


def bans_in_force(b):
    """Elements of the ban grid's nft set (render/bans/enforce.ts), or None when the table is not there."""
    try:
        r = subprocess.run(["nft", "-j", "list", "set", b["family"], b["table"], b["set"]], capture_output=True, text=True, check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0:
        return None
    for item in json.loads(r.stdout).get("nftables", []):
        if "set" in item:
            return len(item["set"].get("elem", []))
    return 0


def running_configs(proc_root):
    """The `--config` argument of every openvpn process /proc shows (None when it shows no process but this one:
    a hidepid mount, so absence proves nothing)."""
    configs, others = [], False
    try:
        pids = [d for d in os.listdir(proc_root) if d.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(os.path.join(proc_root, pid, "cmdline"), "rb") as f:
                args = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        if int(pid) != os.getpid():
            others = True
        if args and os.path.basename(args[0]) == "openvpn":
            configs += [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--config"]
    return configs if others else None


def process_alive(inst, configs):
    """Whether an openvpn process runs the instance's config: the same path, or (Debian's unit: `--config udp.conf`
    in /etc/openvpn/server) the same file name given relative."""
    want = inst.get("config")
    return any(c == want or (not os.path.isabs(c) and os.path.basename(c) == os.path.basename(want)) for c in configs)


def collect(cfg, state, now):
    out = Out()
    tenants = tenants_of(cfg)
    known = set(tenants)
    sessions = {}
    # A SIGKILLed instance leaves its status file behind, fresh for up to 2 periods: its process tells at once. Only
    # when /proc shows one of this server's instances running (a scan that works here) is a missing one down.
    configs = running_configs(os.environ.get("LR_METRICS_PROC", "/proc"))
    alive = {inst["id"]: process_alive(inst, configs) for inst in cfg["instances"] if inst.get("config") and configs is not None}
    judged = any(alive.values())
    for inst in cfg["instances"]:
        iid, proto, path = inst["id"], inst["proto"], inst["status"]
        try:
            age = now - os.stat(path).st_mtime
            rows = read_status(path)
        except FileNotFoundError:
            age, rows = None, []
        up = age is not None and age <= 2 * inst["statusEverySeconds"] + 2
        if judged and iid in alive:
            up = up and alive[iid]
            out.add("lr_instance_process_up", "gauge", "1 when an openvpn process runs the instance's config", 1 if alive[iid] else 0, {"id": iid, "proto": proto})
        rows = [r for r in rows if r[0] in known] if up else []
        out.add("lr_instance_up", "gauge", "1 when the OpenVPN instance rewrote its status file within 2 periods and its process runs", 1 if up else 0, {"id": iid, "proto": proto})
        out.add("lr_instance_sessions", "gauge", "Tenant sessions on the instance", len(rows), {"id": iid, "proto": proto})
        out.add("lr_instance_max_sessions", "gauge", "Sessions the instance's tunnel pool holds (max-clients)", inst["maxSessions"], {"id": iid, "proto": proto})
        if age is not None:
            out.add("lr_instance_status_age_seconds", "gauge", "Seconds since the instance last wrote its status file", round(max(age, 0.0), 3), {"id": iid, "proto": proto})
        for cn, rx, tx, since in rows:
            sessions[cn] = (iid, rx, tx, since)
    take_log(new_log_lines(cfg, state), state, known)
    for key in tenants:
        s = sessions.get(key)
        out.add("lr_tenant_connected", "gauge", "1 when the tenant has a session on this server", 1 if s else 0, {"tenant": key})
        out.add("lr_tenant_pinned", "gauge", "1 when the tenant has a hardware pin (ops or enrolled)", 1 if has_pin(cfg, key) else 0, {"tenant": key})
    for key, (iid, rx, tx, since) in sorted(sessions.items()):
        out.add("lr_tenant_session_since_seconds", "gauge", "When the tenant's session began (epoch)", since, {"tenant": key, "id": iid})
        out.add("lr_tenant_received_bytes", "gauge", "Bytes the server received from the tenant in this session", rx, {"tenant": key, "id": iid})
        out.add("lr_tenant_sent_bytes", "gauge", "Bytes the server sent the tenant in this session", tx, {"tenant": key, "id": iid})
    # Every tenant from 0, so rate() and increase() see its first refusal (a counter's first sample has no increase).
    refused = {key: 0 for key in tenants}
    for k, n in state["tenantRefusals"].items():
        key = k.split("|", 1)[0]
        if key in refused:
            refused[key] += n
    for key in tenants:
        out.add("lr_tenant_refused_total", "counter", "Sessions of the tenant the hooks refused, any reason", refused[key], {"tenant": key})
    for k, n in sorted(state["tenantRefusals"].items()):
        key, reason = k.split("|", 1)
        if key in known:
            out.add("lr_tenant_refusals_total", "counter", "Sessions of the tenant the hooks refused, by reason", n, {"tenant": key, "reason": reason})
    for key, (reason, at) in sorted(state["lastRefusal"].items()):
        if key in known:
            out.add("lr_tenant_last_refusal_timestamp_seconds", "gauge", "When the tenant was last refused, with that reason", int(at), {"tenant": key, "reason": reason})
    for reason, n in sorted(state["refusals"].items()):
        out.add("lr_refusals_total", "counter", "Sessions the hooks refused, by reason (any common name)", n, {"reason": reason})
    hook = state["hook"]
    out.add("lr_hook_seconds_sum", "counter", "Seconds the auth hook took, summed (peer info to decision)", round(hook["sum"], 6))
    out.add("lr_hook_seconds_count", "counter", "Auth hook decisions timed", hook["count"])
    out.add("lr_hook_last_seconds", "gauge", "The last timed auth hook decision", round(hook["last"], 6))
    for kind, path in sorted(cfg["certs"].items()):
        end = cert_end(path, state)
        if end is not None:
            out.add("lr_cert_expiry_timestamp_seconds", "gauge", "When the certificate ends (epoch)", end, {"kind": kind, "name": cfg["server"] if kind == "server" else kind})
    if cfg.get("bans"):
        n = bans_in_force(cfg["bans"])
        out.add("lr_bans_table_present", "gauge", "1 when the ban grid's nft table is loaded", 0 if n is None else 1)
        if n is not None:
            out.add("lr_bans_in_force", "gauge", "Addresses in the ban set now", n)
    out.add("lr_metrics_timestamp_seconds", "gauge", "When lr-metrics last wrote this file (epoch)", int(now))
    return out.text()


def write_atomic(path, text, mode=0o644):
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: lr-metrics.py CONFIG.json\n")
        return 2
    with open(argv[1], encoding="utf-8") as f:
        cfg = json.load(f)
    try:
        with open(cfg["state"], encoding="utf-8") as f:
            state = json.load(f)
    except (FileNotFoundError, ValueError):
        state = {}
    now = float(os.environ.get("LR_METRICS_NOW", time.time()))
    text = collect(cfg, state, now)
    # The node exporter reads only *.prom: the temp name never shows half a file.
    write_atomic(cfg["out"], text)
    write_atomic(cfg["state"], json.dumps(state), 0o600)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
