/**
 * The host side of the tenant consoles, for real: a TCG QEMU started the way qemu-server starts it (serial0 and
 * QMP sockets, its own unix VNC display first, the tenant's display from a password file), SeaBIOS printing on
 * the serial port (`graphics=off`), the serial bridge from the rendered config, and the rotation script:
 *   host 10.77.0.1 (QEMU, bridge :5899, tenant VNC :6001) ─ br0 ─ gw 10.77.0.2 (allowed), stranger 10.77.0.3 (not)
 * Root (namespaces); run under `flock /tmp/lab.lock`. Nothing leaves the three namespaces.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { rfbHandshake, rfbInNamespace } from "../../lab/rfb";
import { serialBridgeConfig, vncRotateScripts } from "../../render/host-serial";
import { must } from "../tools/netns-shell";

const P = `lrt-ser-${process.pid}`;
const NS = { host: `${P}-host`, gw: `${P}-gw`, stranger: `${P}-x` };
const DIR = `/tmp/${P}`;
const RUN = `${DIR}/run`;
const HOST_IP = "10.77.0.1";
const GW_IP = "10.77.0.2";
const PORT = 5899;
const VMID = 104;
const DISPLAY = 101;
const PW_FILE = `${DIR}/snippets/vnc-${VMID}.pw`;
const OLD_PW = "oldPass1";
const NEW_PW = "Nw7-pass";
const BRIDGE = join(__dirname, "../../render/scripts/lr-serial-bridge.py");
const CONFIG = `${DIR}/serial-bridge.json`;
const NOT_RUNNING = `\r\n[console: VM ${VMID} is not running; waiting for it]\r\n`;
/** SeaBIOS's first bytes on a serial console: terminal reset, no wrap, clear, then its banner. */
const SEABIOS_START = "\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version ";
const CONNECTED = `\r\n[console: VM ${VMID} connected]\r\n`;

const host = (cmd: string) => {
  const r = spawnSync("bash", ["-c", cmd], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} → ${r.status}: ${r.stderr}`);
};

/** A process in a namespace whose output is collected; `waitFor` polls it. */
class Proc {
  readonly child: ChildProcess;
  out = "";
  err = "";
  exit?: number;

  constructor(ns: string, argv: readonly string[]) {
    this.child = spawn("ip", ["netns", "exec", ns, ...argv], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout!.on("data", (d: Buffer) => (this.out += d.toString("latin1")));
    this.child.stderr!.on("data", (d: Buffer) => (this.err += d.toString("latin1")));
    this.child.stdin!.on("error", () => undefined);
    this.child.on("exit", (code, signal) => (this.exit = code ?? (signal ? 128 : -1)));
  }

  send(text: string): void {
    this.child.stdin!.write(Buffer.from(text, "latin1"));
  }

  /** Resolves with the index of `what` in stdout (or stderr) at or after `from`, once it is there. */
  async waitFor(what: string, opts: { from?: number; stream?: "out" | "err"; timeoutMs?: number } = {}): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const text = opts.stream === "err" ? this.err : this.out;
      const i = text.indexOf(what, opts.from ?? 0);
      if (i >= 0) return i;
      if (Date.now() - t0 > (opts.timeoutMs ?? 20_000)) throw new Error(`no ${JSON.stringify(what)} after ${opts.timeoutMs ?? 20_000} ms; got out ${JSON.stringify(this.out.slice(-400))} err ${JSON.stringify(this.err.slice(-400))}`);
      await sleep(20);
    }
  }

  async exited(timeoutMs = 10_000): Promise<number> {
    const t0 = Date.now();
    while (this.exit === undefined) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`still running after ${timeoutMs} ms; out ${JSON.stringify(this.out.slice(-200))}`);
      await sleep(20);
    }
    return this.exit;
  }

  stop(): void {
    if (this.exit === undefined) this.child.kill("SIGKILL");
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const procs: Proc[] = [];
const started = (p: Proc) => (procs.push(p), p);
/** A viewer: a TCP connection from `ns` to the bridge that asks for `vmid`. */
const viewer = (ns: string, vmid: number | string = VMID) => {
  const v = started(new Proc(ns, ["socat", "-", `TCP:${HOST_IP}:${PORT}`]));
  v.send(`serial ${vmid}\n`);
  return v;
};

/** QEMU as qemu-server starts it for a tenant VM with `serial0: socket` and the console args. */
function startQemu(): Proc {
  return started(
    new Proc(NS.host, [
      "qemu-system-x86_64", "-nodefaults", "-machine", "pc,accel=tcg,graphics=off", "-m", "32", "-vga", "std", "-display", "none",
      // QEMU 7.2 caps splash-time at 65535 ms: the menu prompt waits 65 s, enough for every step here.
      "-boot", "menu=on,splash-time=65535", "-name", `vm${VMID}`,
      "-chardev", `socket,id=qmp,path=${RUN}/${VMID}.qmp,server=on,wait=off`, "-mon", "chardev=qmp,mode=control",
      "-vnc", `unix:${RUN}/${VMID}.vnc,password=on`,
      "-chardev", `socket,id=serial0,path=${RUN}/${VMID}.serial0,server=on,wait=off`, "-device", "isa-serial,chardev=serial0",
      "-object", `secret,id=vncpw-t,file=${PW_FILE}`, "-vnc", `${HOST_IP}:${DISPLAY},id=tenant,password-secret=vncpw-t`,
    ]),
  );
}

let bridge: Proc;
let qemu: Proc;

beforeAll(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(RUN, { recursive: true });
  mkdirSync(`${DIR}/snippets`, { recursive: true, mode: 0o700 });
  writeFileSync(PW_FILE, OLD_PW, { mode: 0o600 });
  for (const ns of Object.values(NS)) host(`ip netns add ${ns}`);
  must(NS.host, "ip link set lo up && ip link add br0 type bridge && ip link set br0 up && ip addr add 10.77.0.1/24 dev br0");
  for (const [ns, ip, ifname] of [[NS.gw, GW_IP, "v-gw"], [NS.stranger, "10.77.0.3", "v-x"]]) {
    host(`ip link add ${ifname} netns ${NS.host} type veth peer name eth0 netns ${ns}`);
    must(NS.host, `ip link set ${ifname} master br0 && ip link set ${ifname} up`);
    must(ns, `ip link set lo up && ip link set eth0 up && ip addr add ${ip}/24 dev eth0`);
  }
  // The rendered config, pointed at the test's socket directory; VMIDs 100-199 except 150 are tenants.
  writeFileSync(CONFIG, serialBridgeConfig({ mgmtIp: HOST_IP, allowFrom: [GW_IP], vmidMin: 100, vmidMax: 199, exclude: [150], socketDir: RUN }));
  bridge = started(new Proc(NS.host, ["/usr/bin/python3", BRIDGE, "serve", CONFIG]));
  await bridge.waitFor("lr-serial-bridge: listening on", { stream: "err" });
  const t0 = Date.now();
  qemu = startQemu();
  await bridge.waitFor(`vm ${VMID}: serial connected`, { stream: "err" });
  console.log(`bridge connected to the new VM's serial ${Date.now() - t0} ms after QEMU was started`);
});

afterAll(() => {
  for (const p of procs) p.stop();
  for (const ns of Object.values(NS)) {
    const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout.split("\n").filter((x) => /^\d+$/.test(x));
    for (const pid of pids) spawnSync("kill", ["-9", pid]);
    spawnSync("ip", ["netns", "del", ns]);
  }
  rmSync(DIR, { recursive: true, force: true });
});

describe("serial console through the bridge", () => {
  let first: Proc;
  let late: Proc;

  it("replays SeaBIOS's banner to a viewer who attaches after it was printed", async () => {
    first = viewer(NS.gw);
    await first.waitFor("Press ESC for boot menu.");
    const t0 = Date.now();
    late = viewer(NS.gw);
    const at = await late.waitFor("Press ESC for boot menu.");
    console.log(`bridge attach (connect, request, ok, replay): ${Date.now() - t0} ms`);
    expect(late.out.startsWith("ok\n")).toBe(true);
    expect(late.out.indexOf("SeaBIOS (version ")).toBeGreaterThan(0);
    expect(late.out.indexOf("SeaBIOS (version ")).toBeLessThan(at);
    // The bridge was there from QEMU's start: nothing of the boot is missing from the first viewer either.
    expect(first.out.startsWith(`ok\n${SEABIOS_START}`)).toBe(true);
  });

  it("takes input from one viewer (ESC opens the boot menu) and shows the output to both", async () => {
    const a = first.out.length;
    const b = late.out.length;
    late.send("\x1b");
    await late.waitFor("Select boot device:", { from: b });
    await first.waitFor("Select boot device:", { from: a });
    await sleep(300);
    expect(first.out.slice(a)).toBe(late.out.slice(b));
  });

  it("the operator's attach joins the console through 127.0.0.1; Ctrl-] detaches", async () => {
    const t0 = Date.now();
    const op = started(new Proc(NS.host, ["/usr/bin/python3", BRIDGE, "attach", String(VMID), "--config", CONFIG]));
    await op.waitFor("Select boot device:");
    console.log(`operator attach (python start, connect, replay): ${Date.now() - t0} ms`);
    expect(op.err).toContain(`[attached to VM ${VMID}; Ctrl-] detaches]`);
    op.send("\x1d");
    expect(await op.exited()).toBe(0);
    await bridge.waitFor(`detach vm=${VMID} from=127.0.0.1:`, { stream: "err" });
  });

  it("refuses a source not in allowFrom, a VMID that is not a tenant's, a bad request and silence", async () => {
    const refusal = async (p: Proc) => {
      expect(await p.exited()).toBe(0);
      return p.out;
    };
    expect(await refusal(viewer(NS.stranger))).toBe("error source not allowed\n");
    expect(await refusal(viewer(NS.gw, 150))).toBe("error vmid 150 is not a tenant console\n");
    expect(await refusal(viewer(NS.gw, 99))).toBe("error vmid 99 is not a tenant console\n");
    expect(await refusal(viewer(NS.gw, 200))).toBe("error vmid 200 is not a tenant console\n");
    expect(await refusal(viewer(NS.gw, "104 please"))).toBe("error malformed request\n");
    const silent = started(new Proc(NS.gw, ["socat", "-", `TCP:${HOST_IP}:${PORT}`]));
    const t0 = Date.now();
    expect(await refusal(silent)).toBe("error timeout\n");
    console.log(`silent client refused after ${Date.now() - t0} ms`);
    // The log says who was refused and why, and never the console's data.
    expect(bridge.err).toMatch(/refused from=10\.77\.0\.3:\d+ reason=source not allowed/);
    expect(bridge.err).not.toMatch(/SeaBIOS|boot device/);
  });

  it("keeps its viewers across a VM restart: notices, then the new boot", async () => {
    const a = first.out.length;
    qemu.stop();
    await first.waitFor(NOT_RUNNING, { from: a });
    // A viewer who comes while the VM is down: ok, the old output, and the notice.
    const down = viewer(NS.gw);
    await down.waitFor(NOT_RUNNING);
    expect(down.out.startsWith(`ok\n${SEABIOS_START}`)).toBe(true);
    const t0 = Date.now();
    qemu = startQemu();
    const c = await first.waitFor(CONNECTED, { from: a });
    console.log(`viewer saw the restarted VM ${Date.now() - t0} ms after QEMU was started`);
    await first.waitFor("SeaBIOS (version ", { from: c });
    await first.waitFor("Press ESC for boot menu.", { from: c });
    const d = await down.waitFor(CONNECTED);
    await down.waitFor("Press ESC for boot menu.", { from: d });
    expect(down.out.indexOf("SeaBIOS (version ", d)).toBeGreaterThan(d);
    // Input still reaches the new QEMU.
    down.send("\x1b");
    await first.waitFor("Select boot device:", { from: c });
  });
  it("a restarted bridge (new config, upgrade) takes the running VM's serial back", async () => {
    bridge.stop();
    await bridge.exited();
    const t0 = Date.now();
    bridge = started(new Proc(NS.host, ["/usr/bin/python3", BRIDGE, "serve", CONFIG]));
    await bridge.waitFor(`vm ${VMID}: serial connected`, { stream: "err" });
    console.log(`restarted bridge back on the running VM's serial after ${Date.now() - t0} ms`);
    const v = viewer(NS.gw);
    await v.waitFor("ok\n");
    // The ring buffer lived in the old process: only what comes now is shown. SeaBIOS sits in its boot menu
    // (previous test) and prints nothing by itself; a guest reset (same QEMU process, as `qm reset`) boots again.
    await sleep(500);
    expect(v.out).toBe("ok\n");
    must(NS.host, `printf '%s\\n' '{"execute":"qmp_capabilities"}' '{"execute":"system_reset"}' | socat -t 1 - UNIX-CONNECT:${RUN}/${VMID}.qmp`);
    await v.waitFor("Press ESC for boot menu.");
    expect(v.out.startsWith(`ok\n${SEABIOS_START}`)).toBe(true);
    v.send("\x1b");
    await v.waitFor("Select boot device:");
  });
});

describe("backpressure", () => {
  /** A stand-in serial socket for VM 105 that, once DIR/go exists, writes 16 MiB and a marker as fast as it can. */
  const PRODUCER = `
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
while not os.path.exists(sys.argv[2]): time.sleep(0.02)
block = b"x" * (1 << 19)
for _ in range(32): c.sendall(block)
c.sendall(b"END-OF-FLOOD")
time.sleep(60)
`;
  const FLOOD = 32 * (1 << 19);

  it("drops a viewer that does not read, while the others get every byte", async () => {
    started(new Proc(NS.host, ["/usr/bin/python3", "-c", PRODUCER, `${RUN}/105.serial0`, `${DIR}/go`]));
    await bridge.waitFor("vm 105: serial connected", { stream: "err" });
    // Reads nothing after its request: its receive window closes and the bridge's queue for it grows.
    const stalled = started(new Proc(NS.gw, ["/usr/bin/python3", "-c", `import socket, time; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096); s.connect(("${HOST_IP}", ${PORT})); s.sendall(b"serial 105\\n"); time.sleep(60)`]));
    const reader = viewer(NS.gw, 105);
    await reader.waitFor("ok\n");
    await bridge.waitFor("attach vm=105 from=10.77.0.2:", { stream: "err" });
    await bridge.waitFor("viewers=2", { stream: "err" });
    const t0 = Date.now();
    writeFileSync(`${DIR}/go`, "");
    await reader.waitFor("END-OF-FLOOD", { timeoutMs: 60_000 });
    console.log(`16 MiB through the bridge to one viewer, another stalled: ${Date.now() - t0} ms`);
    expect(reader.out.length).toBe(3 + FLOOD + "END-OF-FLOOD".length);
    expect(bridge.err).toMatch(/detach vm=105 from=10\.77\.0\.2:\d+ reason=too-slow viewers=1/);
    stalled.stop();
  });
});

describe("VNC password rotation on the running VM", () => {
  const tenant = (pw: string) => rfbInNamespace(NS.gw, HOST_IP, 5900 + DISPLAY, pw);
  /** qemu-server's own display (unix socket, password=on, never given a password by us). */
  const proxmoxDisplay = (pw: string) => rfbHandshake(connect({ path: `${RUN}/${VMID}.vnc` }), pw);
  const rotate = () => must(NS.host, "bash -s", vncRotateScripts({ vmid: VMID, passwordFile: PW_FILE, qmpDir: RUN }).apply);

  it("the password from the file works at start, a wrong one does not", async () => {
    await waitListening();
    expect((await tenant(OLD_PW)).result).toBe("OK");
    expect((await tenant(NEW_PW)).result).toBe("FAILED");
  });

  it("after a new file and the rotation: the old password FAILS and the new one is OK, on display tenant only", async () => {
    writeFileSync(PW_FILE, NEW_PW, { mode: 0o600 });
    const t0 = Date.now();
    const out = rotate();
    console.log(`rotation (bash, python, QMP set_password): ${Date.now() - t0} ms`);
    expect(out).toBe(`vm ${VMID}: console password set on the running VM\n`);
    expect((await tenant(OLD_PW)).result).toBe("FAILED");
    const ok = await tenant(NEW_PW);
    expect([ok.result, ok.serverInit?.name]).toEqual(["OK", `QEMU (vm${VMID})`]);
    // Proxmox's display kept no password of ours.
    expect((await proxmoxDisplay(NEW_PW)).result).toBe("FAILED");
  });

  it("a stopped VM needs nothing; at its next start the file's password holds", async () => {
    qemu.stop();
    await qemu.exited();
    expect(rotate()).toBe(`vm ${VMID}: not running; the password applies at its next start\n`);
    qemu = startQemu();
    await waitListening();
    expect((await tenant(NEW_PW)).result).toBe("OK");
    expect((await tenant(OLD_PW)).result).toBe("FAILED");
  });
});

/** Until the tenant display listens (QEMU opens it right after start). */
async function waitListening(): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (must(NS.host, `ss -Hltn 'sport = :${5900 + DISPLAY}'`).includes(`:${5900 + DISPLAY}`)) return;
    await sleep(20);
  }
  throw new Error("the tenant display does not listen");
}
