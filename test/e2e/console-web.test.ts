/**
 * The browser console gateway for real (run under `flock /tmp/lab.lock`): three namespaces of this test's own.
 * "client" holds tunnel-like source addresses (two tenants' tunnel addresses from the plan, a stranger's), "gw"
 * runs render/scripts/lr-console-web.py exactly as consoleWebFiles installs it (Debian's python3 and websockify,
 * as nobody with only CAP_NET_BIND_SERVICE, the key handed over like systemd's LoadCredential) on the instance
 * gateways with a certificate from a test CA, and "host" runs a real TCG QEMU (SeaBIOS on its serial port, a
 * password-protected VNC display named "tenant", QMP) plus a stand-in for the host's serial bridge. The tenants'
 * env files are the data-plane renderer's own. The client speaks HTTPS and WebSocket (the `ws` package) over socat
 * in the client namespace; TLS is checked against the test CA and the gateway's IP SAN. Delays are printed, not
 * asserted; the gateway's own answer says how long it waited.
 */
import "reflect-metadata"; // tsyringe (inside @peculiar/x509) needs the Reflect metadata polyfill
import { spawn } from "node:child_process";
import { webcrypto } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { type IncomingHttpHeaders, request } from "node:http";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Duplex } from "node:stream";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import * as x509 from "@peculiar/x509";
import WebSocket, { createWebSocketStream } from "ws";
import { ipToInt, intToIp } from "../../lib/ipv4";
import { run, sleep } from "../../lab/exec";
import { Netns, runPrefix } from "../../lab/netns";
import { Procs, readLog } from "../../lab/procs";
import { rfbHandshake } from "../../lab/rfb";
import { buildPlan } from "../../plan/build";
import { CONSOLE_WEB_PATHS, type ConsoleWebPaths, consoleWebArgs, consoleWebFiles, consoleWebScriptPath } from "../../render/console-web";
import { renderTenantEnv } from "../../render/dataplane-env";
import { PRODUCTION_SERVER_LAYOUT } from "../../render/layout";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const plan = buildPlan(
  {
    profile: "minimal",
    proxmox: { endpoint: "https://pve1.example.net:8006/", node: "pve1" },
    network: { publicPools: [{ cidr: "192.0.2.0/24", gateway: "192.0.2.1" }] },
    vpn: { hostnames: ["vpn1.example.net", "vpn2.example.net"] },
    // Three failures lock for a minute: the lock is reached in 1 + 2 + 4 s of delays.
    consoles: { login: { maxFailures: 3, window: "10m", lock: "1m" } },
    tenants: { acme: { slot: 1 }, coop: { slot: 2 } },
  },
  "e2e",
);
const vpn1 = plan.servers.find((s) => s.name === "vpn1")!;
const [udp, tcp] = vpn1.instances;
const acme = plan.tenants.find((t) => t.key === "acme")!;
const coop = plan.tenants.find((t) => t.key === "coop")!;
const GW1 = udp.gateway;
const GW2 = tcp.gateway;
const IP = { acme: acme.tunnelIps[udp.id], acme2: acme.tunnelIps[tcp.id], coop: coop.tunnelIps[udp.id], stranger: intToIp(ipToInt(GW1) + 250) };
const HOST = plan.host.mgmtIp;
const PASSWORD = "Ab3dEf7h";
const ROTATED = "Zq9xWv2k";
const REAL_CLIENT = "198.51.100.7";

const id = runPrefix();
const netns = new Netns(id);
const procs = new Procs();
const NS = { client: netns.name("client"), gw: netns.name("gw"), host: netns.name("host") };
const R = mkdtempSync(join(tmpdir(), "lr-cw-e2e-"));
const paths: ConsoleWebPaths = {
  ...CONSOLE_WEB_PATHS,
  libDir: `${R}/lib`,
  configFile: `${R}/etc/console-web.json`,
  systemdDir: `${R}/systemd`,
  certFile: `${R}/etc/cert.pem`,
  keyFile: `${R}/etc/key.pem`,
  // The unit owns these as RuntimeDirectory / LogsDirectory: the same shape, a name of this run's.
  stateDir: `/run/${id}-console`,
  authLog: `/var/log/${id}-console/auth.log`,
};
const args = { ...consoleWebArgs(plan, vpn1, PRODUCTION_SERVER_LAYOUT, paths), tenantsDir: `${R}/tenants`, statusFiles: [`${R}/status-udp.log`, `${R}/status-tcp.log`] };
const NOBODY = 65534;
let caPem = "";
let gatewayPid = 0;
let gatewayLog = "";

// ---------------------------------------------------------------- test CA

async function issueCertificates(): Promise<{ ca: string; cert: string; key: string }> {
  const alg = { name: "ECDSA", namedCurve: "P-256" };
  const sign = { name: "ECDSA", hash: "SHA-256" };
  type K = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]["keys"];
  const caKeys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as unknown as K;
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: "CN=console e2e CA",
    keys: caKeys,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 86400_000),
    signingAlgorithm: sign,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as unknown as K;
  const cert = await x509.X509CertificateGenerator.create({
    subject: "CN=console gateway",
    issuer: ca.subject,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 86400_000),
    signingAlgorithm: sign,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([GW1, GW2].map((value) => ({ type: "ip" as const, value }))),
    ],
  });
  const der = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey as unknown as webcrypto.CryptoKey);
  return { ca: ca.toString("pem"), cert: cert.toString("pem"), key: x509.PemConverter.encode(der, "PRIVATE KEY") };
}

// ---------------------------------------------------------------- client side (socat in the client namespace)

/** TLS to `gw`:443 from source `src` inside the client namespace, verified against the test CA and the IP SAN. */
function tlsVia(src: string, gw: string): TLSSocket {
  const child = spawn("ip", ["netns", "exec", NS.client, "socat", "STDIO", `TCP:${gw}:443,bind=${src},connect-timeout=5`], { stdio: ["pipe", "pipe", "ignore"] });
  const raw = Duplex.from({ readable: child.stdout, writable: child.stdin });
  const sock = tlsConnect({ socket: raw, ca: caPem, host: gw });
  // socat's end after the server closed is a "premature close" of the pipe pair: the request's or the
  // WebSocket's own listeners report errors that matter while they use the socket.
  sock.on("error", () => undefined);
  sock.on("close", () => child.kill("SIGKILL"));
  // The end of the pipe pair does not always reach the TLS socket as an end of stream: when socat is done (the
  // server closed) and its output has been read, the socket is closed here. Without this, a close the server starts
  // (4001, 4003) leaves the ws client waiting out its 30 s closing timeout half the time.
  child.on("close", () => setImmediate(() => sock.destroy()));
  return sock;
}

interface Res {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly ms: number;
}

function http(src: string, method: string, path: string, opts: { gw?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Res> {
  const gw = opts.gw ?? GW1;
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        method,
        path,
        headers: { Host: gw, Connection: "close", ...(opts.body !== undefined ? { "Content-Length": String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers },
        createConnection: () => tlsVia(src, gw),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8"), ms: Date.now() - t0 }));
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: no answer in 60 s`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

const login = (src: string, password: string, gw = GW1) =>
  http(src, "POST", "/login", { gw, headers: { "Content-Type": "application/json", Origin: `https://${gw}` }, body: JSON.stringify({ password }) });

/** The `name=value` part of the session cookie a login set. */
function cookieOf(res: Res): string {
  const set = res.headers["set-cookie"] ?? [];
  expect(set).toHaveLength(1);
  return set[0].split(";")[0];
}

type Opened = { ws: WebSocket; status?: undefined } | { ws?: undefined; status: number };

/** Opens a WebSocket; `onOpen` runs in the open event itself, before any message can be missed. */
function wsOpen(src: string, path: string, cookie: string | undefined, gw = GW1, onOpen?: (ws: WebSocket) => void): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://${gw}${path}`, {
      createConnection: (() => tlsVia(src, gw)) as unknown as NonNullable<WebSocket.ClientOptions["createConnection"]>,
      headers: { Origin: `https://${gw}`, ...(cookie ? { Cookie: cookie } : {}) },
      perMessageDeflate: false,
      handshakeTimeout: 20_000,
    });
    ws.once("open", () => {
      onOpen?.(ws);
      resolve({ ws });
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
    });
    ws.once("error", reject);
  });
}

/** A /ws/serial session: what arrived (latin1 text), whether the gateway's attach message came, how it closed. */
class Serial {
  text = "";
  messages = 0;
  firstLength = -1;
  closed?: { code: number; reason: string };

  constructor(readonly ws: WebSocket) {
    ws.on("message", (d: Buffer) => {
      if (this.messages++ === 0) this.firstLength = d.length;
      this.text += d.toString("latin1");
    });
    ws.on("close", (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  async until(what: () => boolean, label: string, timeoutMs = 60_000): Promise<number> {
    const t0 = Date.now();
    while (!what()) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`serial: ${label} not seen within ${timeoutMs} ms; got ${JSON.stringify(this.text.slice(-500))}, closed ${JSON.stringify(this.closed)}`);
      await sleep(20);
    }
    return Date.now() - t0;
  }
}

async function serialSession(src: string, cookie: string, password: string): Promise<Serial> {
  let s: Serial | undefined;
  const o = await wsOpen(src, "/ws/serial", cookie, GW1, (ws) => {
    s = new Serial(ws);
    ws.send(Buffer.from(password, "latin1"));
  });
  if (!s) throw new Error(`/ws/serial refused: HTTP ${o.status}`);
  return s;
}

// ---------------------------------------------------------------- host side

const QMP = `${R}/host/qmp.sock`;

/** Sends QMP commands to the test's QEMU; resolves with their `return` values (an `error` rejects). */
function qmp(commands: readonly object[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const s = netConnect(QMP);
    const out: unknown[] = [];
    let buf = "";
    let greeted = false;
    const timer = setTimeout(() => s.destroy(new Error("QMP: no answer in 10 s")), 10_000);
    const send = () => s.write(`${JSON.stringify(out.length === 0 ? { execute: "qmp_capabilities" } : commands[out.length - 1])}\n`);
    s.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as { QMP?: unknown; return?: unknown; error?: { desc: string }; event?: string };
        buf = buf.slice(nl + 1);
        if (msg.QMP) {
          greeted = true;
          send();
        } else if (msg.error) {
          s.destroy(new Error(`QMP: ${msg.error.desc}`));
        } else if ("return" in msg && greeted) {
          out.push(msg.return);
          if (out.length === commands.length + 1) {
            clearTimeout(timer);
            s.end();
            resolve(out.slice(1));
          } else send();
        }
      }
    });
    s.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** The stand-in for the host's serial bridge (python3 stdlib): keeps each VM's output from boot on, replays it, then relays. */
const BRIDGE = String.raw`
import os, re, socket, sys, threading, time
listen, port, sockdir, vmids = sys.argv[1], int(sys.argv[2]), sys.argv[3], [int(v) for v in sys.argv[4:]]

class VM:
    def __init__(self, vmid):
        self.vmid, self.buf, self.clients, self.sock, self.lock = vmid, bytearray(), [], None, threading.Lock()
        threading.Thread(target=self.pump, daemon=True).start()

    def pump(self):
        while True:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(os.path.join(sockdir, "%d.serial0" % self.vmid))
            except OSError:
                s.close()
                time.sleep(0.02)
                continue
            self.sock = s
            print("attached %d" % self.vmid, flush=True)
            while True:
                d = s.recv(4096)
                if not d:
                    break
                with self.lock:
                    self.buf += d
                    del self.buf[:-65536]
                    clients = list(self.clients)
                for c in clients:
                    try:
                        c.sendall(d)
                    except OSError:
                        pass
            self.sock = None

vms = {v: VM(v) for v in vmids}

def serve(c):
    line = b""
    while not line.endswith(b"\n") and len(line) < 64:
        d = c.recv(1)
        if not d:
            return c.close()
        line += d
    m = re.fullmatch(rb"serial ([0-9]{1,10})\n", line)
    vm = vms.get(int(m.group(1))) if m else None
    if vm is None:
        c.sendall(b"error no such VM\n")
        return c.close()
    with vm.lock:
        c.sendall(b"ok\n" + bytes(vm.buf))
        vm.clients.append(c)
    try:
        while True:
            d = c.recv(4096)
            if not d:
                break
            if vm.sock:
                vm.sock.sendall(d)
    except OSError:
        pass
    with vm.lock:
        vm.clients.remove(c)
    c.close()

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((listen, port))
srv.listen(16)
print("listening", flush=True)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

async function listening(ns: string, port: number, count: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const r = await run(["ss", "-Hltn", `sport = :${port}`], { ns });
    if (r.stdout.trim().split("\n").filter((l) => l.includes(`:${port}`)).length >= count) return;
    await sleep(20);
  }
  throw new Error(`port ${port} in ${ns}: fewer than ${count} listeners after 10 s`);
}

const authLines = () => readLog(paths.authLog).split("\n").filter(Boolean);
const LINE = new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ lr-console login-failed tenant=acme tunnel=${IP.acme.replace(/\./g, "\\.")} client=${REAL_CLIENT} failures=(\\d+)$`);

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("test/e2e needs root (namespaces, QEMU, dropping to nobody)");
  chmodSync(R, 0o755);
  for (const ip of [IP.acme, IP.acme2, IP.coop]) expect(ip).not.toBe(IP.stranger);

  // The gateway's files, as the setup installs them; the key where systemd's LoadCredential= puts it.
  const pki = await issueCertificates();
  caPem = pki.ca;
  for (const f of consoleWebFiles(args)) {
    mkdirSync(dirname(f.path), { recursive: true, mode: 0o755 });
    writeFileSync(f.path, f.content, { mode: parseInt(f.mode, 8) });
  }
  writeFileSync(paths.certFile, pki.cert, { mode: 0o644 });
  const creds = `${R}/creds`;
  mkdirSync(creds, { mode: 0o500 });
  writeFileSync(`${creds}/tls.key`, pki.key, { mode: 0o400 });
  chownSync(`${creds}/tls.key`, NOBODY, NOBODY);
  chownSync(creds, NOBODY, NOBODY);
  for (const d of [paths.stateDir, dirname(paths.authLog)]) {
    mkdirSync(d, { mode: 0o700 });
    chownSync(d, NOBODY, NOBODY);
  }
  mkdirSync(args.tenantsDir, { mode: 0o755 });
  for (const t of [acme, coop]) writeFileSync(`${args.tenantsDir}/${t.key}.env`, renderTenantEnv("e2e", vpn1, t), { mode: 0o644 });
  writeFileSync(
    args.statusFiles[0],
    `OpenVPN CLIENT LIST\nUpdated,2025-01-31 12:00:00\nCommon Name,Real Address,Bytes Received,Bytes Sent,Connected Since\nacme,${REAL_CLIENT}:51234,1,2,2025-01-31 11:00:00\nROUTING TABLE\nVirtual Address,Common Name,Real Address,Last Ref\n${IP.acme},acme,${REAL_CLIENT}:51234,2025-01-31 12:00:00\nGLOBAL STATS\nMax bcast/mcast queue length,0\nEND\n`,
    { mode: 0o644 },
  );

  // client ── gw (the tunnel side: both instance gateways) ── host (management).
  await netns.addMany(["client", "gw", "host"]);
  await netns.veth(NS.client, "cl0", NS.gw, "gw0");
  for (const [ip, prefix] of [[GW1, udp.cidr], [GW2, tcp.cidr]]) await netns.addr(NS.gw, "gw0", `${ip}/${prefix.split("/")[1]}`);
  for (const [ip, pool] of [[IP.acme, udp], [IP.coop, udp], [IP.stranger, udp], [IP.acme2, tcp]] as const) await netns.addr(NS.client, "cl0", `${ip}/${pool.cidr.split("/")[1]}`);
  await netns.veth(NS.gw, "gm0", NS.host, "hm0");
  await netns.addr(NS.gw, "gm0", `${vpn1.mgmtIp}/32`);
  await netns.addr(NS.host, "hm0", `${HOST}/32`);
  await netns.route(NS.gw, `${HOST}/32`, "dev", "gm0");
  await netns.route(NS.host, `${vpn1.mgmtIp}/32`, "dev", "hm0");

  // The VM: paused until the bridge holds its serial port, so the replay has SeaBIOS's first line.
  mkdirSync(`${R}/host`, { mode: 0o700 });
  writeFileSync(`${R}/host/pw`, PASSWORD, { mode: 0o600 });
  writeFileSync(`${R}/host/bridge.py`, BRIDGE, { mode: 0o600 });
  const bridgeLog = `${R}/bridge.log`;
  await procs.start("bridge", NS.host, ["/usr/bin/python3", "-u", `${R}/host/bridge.py`, HOST, String(plan.consoles.serialBridgePort), `${R}/host`, String(acme.vmid)], bridgeLog, { ready: /listening/ });
  await procs.start(
    "qemu",
    NS.host,
    [
      "qemu-system-x86_64", "-nodefaults", "-machine", "pc,accel=tcg,graphics=off", "-m", "32", "-vga", "std", "-display", "none",
      // 65535 ms is the most QEMU 7.2 accepts for splash-time.
      "-boot", "menu=on,splash-time=65535", "-S",
      "-object", `secret,id=vncpw-t,file=${R}/host/pw`, "-vnc", `${HOST}:${acme.vnc.port - 5900},id=tenant,password-secret=vncpw-t`,
      "-chardev", `socket,id=serial0,path=${R}/host/${acme.vmid}.serial0,server=on,wait=off`, "-device", "isa-serial,chardev=serial0",
      "-qmp", `unix:${QMP},server=on,wait=off`,
    ],
    `${R}/qemu.log`,
  );
  await listening(NS.host, acme.vnc.port, 1);
  for (let i = 0; i < 500 && !/attached/.test(readLog(bridgeLog)); i++) await sleep(20);
  expect(readLog(bridgeLog)).toContain(`attached ${acme.vmid}`);

  // The gateway as the unit runs it: an unprivileged user with CAP_NET_BIND_SERVICE only, the key as a credential.
  gatewayLog = `${R}/gateway.log`;
  const gw = await procs.start(
    "gateway",
    NS.gw,
    ["env", `CREDENTIALS_DIRECTORY=${creds}`, "setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--inh-caps=+net_bind_service", "--ambient-caps=+net_bind_service", "/usr/bin/python3", consoleWebScriptPath(paths), paths.configFile],
    gatewayLog,
    { ready: /listening on/, timeoutMs: 20_000 },
  );
  gatewayPid = gw.pid;
  await listening(NS.gw, 443, 2);
}, 120_000);

afterAll(async () => {
  await procs.stopAll();
  await netns.cleanup();
  for (const d of [R, paths.stateDir, dirname(paths.authLog)]) rmSync(d, { recursive: true, force: true });
});

describe("browser console gateway (real websockify, QEMU and TLS in namespaces)", () => {
  it("runs as nobody with CAP_NET_BIND_SERVICE alone; no secret in its command line", () => {
    const status = readFileSync(`/proc/${gatewayPid}/status`, "utf8");
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(NOBODY));
    expect(/^CapEff:\s+(\w+)/m.exec(status)?.[1]).toBe("0000000000000400");
    const argv = readFileSync(`/proc/${gatewayPid}/cmdline`, "utf8").split("\0").filter(Boolean);
    expect(argv).toEqual(["/usr/bin/python3", consoleWebScriptPath(paths), paths.configFile]);
  });

  it("gives any other source (or another Host name) an empty 403: no page, no login, no WebSocket", async () => {
    for (const path of ["/", "/console.js", "/novnc/core/rfb.js", "/session"]) {
      const r = await http(IP.stranger, "GET", path);
      expect({ path, status: r.status, body: r.body }).toEqual({ path, status: 403, body: "" });
    }
    expect((await login(IP.stranger, PASSWORD)).status).toBe(403);
    expect(await wsOpen(IP.stranger, "/ws/serial", undefined)).toEqual({ status: 403 });
    // Nor does a tenant's browser sent here under another name (DNS rebinding).
    expect((await http(IP.acme, "GET", "/", { headers: { Host: "console.example.net" } })).status).toBe(403);
  });

  it("refuses a wrong password clearly, slower each time, and logs it for the ban grid", async () => {
    const first = await login(IP.acme, "wrongpw1");
    const second = await login(IP.acme, "wrongpw2");
    console.log(`wrong password answers after ${first.ms} ms and ${second.ms} ms (the gateway waits 1 s, then 2 s)`);
    expect([first.status, JSON.parse(first.body)]).toEqual([403, { error: "wrong password", message: "Wrong password.", failures: 1, delay: 1 }]);
    expect([second.status, JSON.parse(second.body)]).toEqual([403, { error: "wrong password", message: "Wrong password.", failures: 2, delay: 2 }]);
    expect(first.headers["set-cookie"]).toBeUndefined();
    expect(authLines().map((l) => LINE.exec(l)?.[1])).toEqual(["1", "2"]);
  });

  let cookie = "";
  it("gives the right password a Secure, HttpOnly, SameSite=Strict cookie, and clears the count", async () => {
    const r = await login(IP.acme, PASSWORD);
    const body = JSON.parse(r.body) as { ok: boolean; tenant: string; expires: number };
    expect([r.status, body.ok, body.tenant]).toEqual([200, true, "acme"]);
    const set = r.headers["set-cookie"]![0];
    expect(set).toMatch(new RegExp(`^lr_console=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+; Path=/; Max-Age=${plan.consoles.sessionSeconds}; Secure; HttpOnly; SameSite=Strict$`));
    cookie = cookieOf(r);
    expect((await http(IP.acme, "GET", "/session", { headers: { Cookie: cookie } })).body).toBe('{"tenant": "acme"}\n');
    // A success starts the count again.
    expect(JSON.parse((await login(IP.acme, "wrongpw3")).body)).toMatchObject({ failures: 1, delay: 1 });
  });

  it("/ws/serial: the password, then the VM's serial console both ways (SeaBIOS, its boot menu)", async () => {
    await qmp([{ execute: "cont" }]);
    const s = await serialSession(IP.acme, cookie, PASSWORD);
    const boot = await s.until(() => /SeaBIOS/.test(s.text) && /Press ESC for boot menu/.test(s.text), "SeaBIOS and its prompt");
    expect(s.firstLength).toBe(0); // the gateway's "attached" message
    s.ws.send(Buffer.from("\x1b"));
    const menu = await s.until(() => /Select boot device:/.test(s.text), "the boot menu");
    console.log(`serial: SeaBIOS prompt after ${boot} ms, boot menu ${menu} ms after ESC`);
    s.ws.close();
  });

  it("/ws/vnc: the VM's RFB console; VNC authentication end to end with the password, and not without it", async () => {
    // The stream is made in the open event: the server's greeting may come with the 101 answer.
    let stream: Duplex | undefined;
    await wsOpen(IP.acme, "/ws/vnc", cookie, GW1, (ws) => (stream = createWebSocketStream(ws)));
    const result = await rfbHandshake(stream!, PASSWORD, 10_000);
    expect({ version: result.version, types: result.securityTypes, result: result.result }).toEqual({ version: "RFB 003.008", types: [2], result: "OK" });
    expect(result.serverInit!.width).toBeGreaterThan(0);
    await wsOpen(IP.acme, "/ws/vnc", cookie, GW1, (ws) => (stream = createWebSocketStream(ws)));
    expect((await rfbHandshake(stream!, "wrongpw4", 10_000)).result).toBe("FAILED");
  });

  it("refuses a cookie replayed from another source, another tenant's or the same tenant's other tunnel, and none at all", async () => {
    for (const [src, gw] of [[IP.coop, GW1], [IP.acme2, GW2]]) {
      expect((await http(src, "GET", "/session", { gw, headers: { Cookie: cookie } })).status).toBe(401);
      expect(await wsOpen(src, "/ws/serial", cookie, gw)).toEqual({ status: 401 });
      expect(await wsOpen(src, "/ws/vnc", cookie, gw)).toEqual({ status: 401 });
    }
    expect(await wsOpen(IP.acme, "/ws/vnc", undefined)).toEqual({ status: 401 });
    expect(await wsOpen(IP.acme, "/ws/vnc", `${cookie.slice(0, -2)}xx`)).toEqual({ status: 401 });
    // The other tunnel works with its own login (the page at that gateway).
    expect((await login(IP.acme2, PASSWORD, GW2)).status).toBe(200);
  });

  it("says the VM is not running when its console does not answer (not a wrong password, not counted)", async () => {
    const before = authLines().length;
    const r = await login(IP.coop, "whatever");
    expect([r.status, JSON.parse(r.body).error]).toEqual([503, "not running"]);
    expect(JSON.parse(r.body).message).toMatch(/not running/);
    expect(authLines()).toHaveLength(before);
  });

  it("serves the page and every module it loads (200, right types, security headers), nothing from elsewhere, no traversal", async () => {
    const page = await http(IP.acme, "GET", "/");
    expect(page.status).toBe(200);
    expect(page.headers).toMatchObject({
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "x-frame-options": "DENY",
      "x-content-type-options": "nosniff",
    });
    expect(page.headers["content-security-policy"]).toMatch(/^default-src 'self'; script-src 'self'; style-src 'self';/);
    const seen = new Map<string, number>();
    const queue = [...page.body.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    // The icon is empty inline data (no request at all); everything else comes from the gateway.
    expect(queue.shift()).toBe("data:,");
    expect(queue).toEqual(["/console.css", "/xterm/xterm.css", "/xterm/xterm.js", "/console.js"]);
    // The ES module graph from console.js (noVNC's core), followed as the browser would.
    while (queue.length) {
      const url = queue.shift()!;
      if (seen.has(url)) continue;
      const r = await http(IP.acme, "GET", url);
      seen.set(url, r.status);
      expect({ url, status: r.status }).toEqual({ url, status: 200 });
      expect(r.headers["content-type"]).toBe(url.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8");
      if (url.endsWith(".js") && url !== "/xterm/xterm.js") {
        for (const m of r.body.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm)) queue.push(new URL(m[1], `https://${GW1}${url}`).pathname);
      }
      if (["/console.js", "/console.css"].includes(url)) expect(r.body).not.toMatch(/https?:\/\//);
    }
    console.log(`page: ${seen.size} files loaded`);
    expect(seen.size).toBeGreaterThan(30);
    expect(page.body).not.toMatch(/https?:\/\//);
    for (const bad of ["/novnc/../../../etc/passwd", "/novnc/%2e%2e/%2e%2e/etc/passwd", "/novnc/core", "/novnc/core/", "/novnc/.hidden", "/xterm/lib/xterm.js", "/console-web.json"]) {
      expect({ bad, status: (await http(IP.acme, "GET", bad)).status }).toEqual({ bad, status: 404 });
    }
  });

  it("a password rotated on the running QEMU counts at once: the old one fails at /login and /ws/serial, the new one works", async () => {
    expect(await qmp([{ execute: "set_password", arguments: { protocol: "vnc", password: ROTATED, display: "tenant" } }])).toEqual([{}]);
    const old = await login(IP.acme, PASSWORD);
    expect([old.status, JSON.parse(old.body).error]).toEqual([403, "wrong password"]);
    const fresh = await login(IP.acme, ROTATED);
    expect(fresh.status).toBe(200);
    // The cookie from before the rotation is still a valid login, but the serial console checks the password again.
    const s = await serialSession(IP.acme, cookie, PASSWORD);
    await s.until(() => s.closed !== undefined, "the close");
    expect([s.closed, s.text]).toEqual([{ code: 4001, reason: "wrong password" }, ""]);
    const s2 = await serialSession(IP.acme, cookieOf(fresh), ROTATED);
    await s2.until(() => s2.messages > 0, "the attach message");
    expect(s2.closed).toBeUndefined();
    s2.ws.close();
  });

  it("locks the login after maxFailures: even the right password waits; the refusal says how long", async () => {
    const answers = [];
    for (const pw of ["wrongpw5", "wrongpw6", "wrongpw7"]) answers.push(await login(IP.acme, pw));
    console.log(`wrong passwords towards the lock answered after ${answers.map((a) => a.ms).join(", ")} ms`);
    expect(answers.map((a) => [a.status, JSON.parse(a.body).failures, JSON.parse(a.body).delay])).toEqual([
      [403, 1, 1],
      [403, 2, 2],
      [429, 3, 4],
    ]);
    const right = await login(IP.acme, ROTATED);
    expect([right.status, right.headers["retry-after"], JSON.parse(right.body)]).toEqual([
      429,
      expect.stringMatching(/^\d+$/),
      { error: "locked", message: "Too many wrong passwords: console login locked, try again in 1 min.", retryAfter: expect.any(Number) },
    ]);
    const s = await serialSession(IP.acme, cookie, ROTATED);
    await s.until(() => s.closed !== undefined, "the close");
    expect(s.closed).toEqual({ code: 4003, reason: "Too many wrong passwords: console login locked, try again in 1 min." });
    // Lifting the lock (what the expiry does): the state file goes.
    unlinkSync(`${paths.stateDir}/acme.failures`);
    expect((await login(IP.acme, ROTATED)).status).toBe(200);
  });

  it("follows tenants as their files come and go, without a restart", async () => {
    const file = `${args.tenantsDir}/coop.env`;
    const text = readFileSync(file, "utf8");
    unlinkSync(file);
    expect((await http(IP.coop, "GET", "/")).status).toBe(403);
    writeFileSync(file, text, { mode: 0o644 });
    expect((await http(IP.coop, "GET", "/")).status).toBe(200);
  });

  it("wrote one stable line per wrong password to the auth log (and stderr), never a password", () => {
    const lines = authLines();
    expect(lines.map((l) => LINE.exec(l)?.[1])).toEqual(["1", "2", "1", "1", "1", "1", "2", "3"]);
    const log = readLog(gatewayLog);
    for (const l of lines) expect(log).toContain(l);
    for (const pw of [PASSWORD, ROTATED, "wrongpw1", "wrongpw5"]) expect(readLog(gatewayLog) + lines.join("\n")).not.toContain(pw);
    const st = statSync(paths.authLog);
    expect([(st.mode & 0o777).toString(8), st.uid]).toEqual(["640", NOBODY]);
  });
});
