/**
 * The tenants' consoles in the lab, installed and started from rendered text as the program does it:
 * - on the "Proxmox host": one real TCG QEMU per tenant, started the way qemu-server does it (its QMP and `serial0`
 *   sockets and its own `-vnc unix:…,password=on` display in the qemu-server run directory, then the VM's rendered
 *   `args`), idling in SeaBIOS with the serial port as its console (`graphics=off`); the rendered host console
 *   firewall; the serial bridge (render/host-serial.ts) from its rendered apply script, started as its unit says; the
 *   rendered password rotation;
 * - on each VPN server: the browser console gateway (render/console-gateway.ts) from its rendered apply script, with
 *   a certificate of the lab PKI for the server's instance gateways, started as its unit says.
 */
import { chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash, randomBytes, randomInt } from "node:crypto";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import type { ServerName, TenantPlan } from "../plan/types";
import { CONSOLE_WEB_UNIT } from "../render/console-web";
import { consoleGatewayScripts } from "../render/console-gateway";
import { hostConsoleFirewallScripts } from "../render/host-console";
import { serialBridgeFiles, serialBridgeScripts, vncRotateScripts } from "../render/host-serial";
import { renderKvmArguments, vncPasswordFileName } from "../render/vnc";
import { must, run, sleep } from "./exec";
import type { Lab } from "./lab";
import { nodeView } from "./hosts";
import { labConsoleWebPaths, labSerialBridgePaths } from "./layout";
import { readLog, waitForLog, type Proc, type StartOptions } from "./procs";

const PRINTABLE = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
/** The uid and gid that stand in for a unit's DynamicUser= (systemd draws one from 61184–65519). */
const NOBODY = 65534;
/** USER_HZ: the unit of /proc/<pid>/stat's times, 100 on Linux. */
const USER_HZ = 100;

/** 8 random printable characters: VNC authentication only uses the first 8 bytes. */
export function vncPassword(): string {
  return Array.from({ length: 8 }, () => PRINTABLE[randomInt(PRINTABLE.length)]).join("");
}

/** Splits a Proxmox `args:` line into argv (whitespace-separated; quotes are not used by the renderer). */
export function splitArgs(args: string): string[] {
  if (/["'\\]/.test(args)) throw new Error(`kvm args contain quotes or backslashes, which the lab does not parse: ${args}`);
  return args.trim().split(/\s+/);
}

/** The password file the args name (`-object secret,…,file=<path>`). */
export function secretFile(argv: readonly string[]): string {
  for (const a of argv) {
    const m = /(?:^|,)file=([^,]+)/.exec(a);
    if (a.startsWith("secret,") && m) return m[1];
  }
  throw new Error(`kvm args name no secret file: ${argv.join(" ")}`);
}

/** Waits until something listens on TCP `port` in namespace `ns`. */
async function listening(ns: string, port: number, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const r = await run(["ss", "-Hltn", `sport = :${port}`], { ns });
    if (r.stdout.includes(`:${port}`)) return;
    await sleep(20);
  }
  throw new Error(`nothing listens on port ${port} in ${ns} after ${timeoutMs} ms`);
}

/** The tenant VM's sockets in the host's qemu-server run directory. */
export function vmSockets(lab: Lab, t: TenantPlan): { qmp: string; serial: string; vnc: string } {
  const base = `${lab.qemuDirOf(t.node)}/${t.vmid}`;
  return { qmp: `${base}.qmp`, serial: `${base}.serial0`, vnc: `${base}.vnc` };
}

/**
 * The tenant VM's QEMU command line as qemu-server builds it for `serial0: socket` (a running TCG machine that idles
 * in SeaBIOS's boot menu prompt, 65 s, then retries every 60 s: there is no disk), then the VM's rendered `args`.
 */
export function qemuArgv(lab: Lab, t: TenantPlan): string[] {
  const s = vmSockets(lab, t);
  const proxmox = [
    "qemu-system-x86_64", "-nodefaults", "-name", t.vmName,
    "-machine", "pc,accel=tcg,graphics=off", "-m", "32", "-vga", "std",
    // 65535 ms is the longest splash QEMU 7.2 accepts: the "Press ESC" prompt waits that long after each reset.
    "-boot", "menu=on,splash-time=65535",
    "-chardev", `socket,id=qmp,path=${s.qmp},server=on,wait=off`, "-mon", "chardev=qmp,mode=control",
    "-vnc", `unix:${s.vnc},password=on`,
    "-chardev", `socket,id=serial0,path=${s.serial},server=on,wait=off`, "-device", "isa-serial,chardev=serial0",
  ];
  // Rendered as the tenant's node renders it: its VNC listens on that node's management address.
  return [...proxmox, ...splitArgs(renderKvmArguments(nodeView(lab.plan, t.node), t, lab.hostLayoutOf(t.node)))];
}

/**
 * Writes the password snippet (exactly 8 characters, no newline, 0600) and starts the tenant's QEMU; waits for its
 * tenant VNC port and, when the serial bridge runs, for the bridge to hold its serial port.
 */
export async function startConsole(lab: Lab, tenant: TenantPlan): Promise<Proc> {
  const argv = qemuArgv(lab, tenant);
  const pwFile = secretFile(argv);
  const password = vncPassword();
  mkdirSync(dirname(pwFile), { recursive: true, mode: 0o700 });
  mkdirSync(lab.qemuDirOf(tenant.node), { recursive: true, mode: 0o755 });
  writeFileSync(pwFile, password, { mode: 0o600 });
  lab.vncPasswords.set(tenant.key, password);
  const bridge = lab.serialBridges.get(tenant.node) ?? lab.serialBridge;
  const from = bridge ? readLog(bridge.log).length : 0;
  const ns = lab.ns.nodes[tenant.node] ?? lab.ns.host;
  const proc = await lab.procs.start(`qemu-${tenant.key}`, ns, argv, lab.logFile(`qemu-${tenant.key}`));
  await listening(ns, tenant.vnc.port, 10_000);
  if (bridge) await waitForLog(bridge.log, new RegExp(`vm ${tenant.vmid}: serial connected`), 10_000, bridge, from);
  lab.qemus.set(tenant.key, proc);
  return proc;
}

/** The lab's files of node `node`: the API node's under `host/`, another's under `nodes/<node>/host/`. */
function nodeFile(lab: Lab, node: string, file: string): string {
  return node === lab.plan.host.node ? lab.path("host", file) : lab.path("nodes", node, "host", file);
}

/** Runs the host firewall's install script (what the host's remote command runs) in node `node`'s namespace, no systemd. */
export async function applyHostFirewall(lab: Lab, node = lab.plan.host.node): Promise<void> {
  const file = nodeFile(lab, node, "console-firewall-install.sh");
  writeFileSync(file, hostConsoleFirewallScripts(nodeView(lab.plan, node), lab.hostLayoutOf(node)).apply, { mode: 0o700 });
  await must(["env", "LR_SERVICES=none", "bash", file], { ns: lab.ns.nodes[node] ?? lab.ns.host });
}

/** A rendered unit's `[Service]` settings: key → its values in order (a repeated key keeps each). */
export function unitSettings(unit: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = "";
  for (const line of unit.split("\n")) {
    const sec = /^\[(\w+)\]$/.exec(line);
    if (sec) section = sec[1];
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (section === "Service" && kv) out.set(kv[1], [...(out.get(kv[1]) ?? []), kv[2]]);
  }
  return out;
}

const capNames = (v: string | undefined) => (v ?? "").split(/\s+/).filter(Boolean).map((c) => c.replace(/^CAP_/, "").toLowerCase());

/**
 * Starts the daemon of installed unit `unitFile` in `ns` the way systemd would, as far as the lab can: its ExecStart
 * as its User= (nobody stands in for a DynamicUser=) with SupplementaryGroups=, NoNewPrivileges=, the capability
 * bounding set, AmbientCapabilities= and UMask=; LoadCredential= copied to a directory of the run (0700, the file
 * 0600, both the user's) named by CREDENTIALS_DIRECTORY; RuntimeDirectory= and LogsDirectory= made with their modes,
 * the user's, removed at teardown. Not reproduced: the file-system and system-call sandboxing, IPAddressAllow=,
 * Restart=.
 */
export async function startUnit(lab: Lab, name: string, ns: string, unitFile: string, opts: StartOptions = {}): Promise<Proc> {
  const s = unitSettings(readFileSync(unitFile, "utf8"));
  const one = (k: string) => s.get(k)?.at(-1);
  const exec = one("ExecStart") ?? "";
  if (!exec.startsWith("/")) throw new Error(`${unitFile}: ExecStart ${JSON.stringify(exec)} is not a plain absolute command`);
  const dynamic = one("DynamicUser") === "yes";
  if (!dynamic && (one("User") ?? "root") !== "root") throw new Error(`${unitFile}: User=${one("User")}: the lab starts root and DynamicUser= units only`);
  const uid = dynamic ? NOBODY : 0;
  const setpriv = ["setpriv"];
  if (dynamic) {
    const groups = (one("SupplementaryGroups") ?? "").split(/\s+/).filter(Boolean);
    setpriv.push(`--reuid=${uid}`, `--regid=${uid}`, groups.length ? `--groups=${groups.join(",")}` : "--clear-groups");
  }
  const bounding = one("CapabilityBoundingSet");
  if (bounding !== undefined) setpriv.push(`--bounding-set=${["-all", ...capNames(bounding).map((c) => `+${c}`)].join(",")}`);
  const ambient = capNames(one("AmbientCapabilities"));
  if (ambient.length) setpriv.push(`--inh-caps=${ambient.map((c) => `+${c}`).join(",")}`, `--ambient-caps=${ambient.map((c) => `+${c}`).join(",")}`);
  if (one("NoNewPrivileges") === "yes") setpriv.push("--no-new-privs");
  const env: string[] = [];
  const creds = s.get("LoadCredential") ?? [];
  if (creds.length) {
    const dir = lab.dirPath("credentials", name);
    for (const c of creds) {
      const [cred, source] = [c.slice(0, c.indexOf(":")), c.slice(c.indexOf(":") + 1)];
      writeFileSync(`${dir}/${cred}`, readFileSync(source), { mode: 0o600 });
      chownSync(`${dir}/${cred}`, uid, uid);
    }
    chownSync(dir, uid, uid);
    await must(["chmod", "0700", dir]);
    env.push(`CREDENTIALS_DIRECTORY=${dir}`);
  }
  for (const [key, base] of [["RuntimeDirectory", "/run"], ["LogsDirectory", "/var/log"]] as const) {
    const d = one(key);
    if (!d) continue;
    if (!/^[A-Za-z0-9._-]+$/.test(d) || !d.startsWith(`${lab.netns.prefix}-`)) throw new Error(`${unitFile}: ${key}=${d} is not a name of this run's (${lab.netns.prefix}-…)`);
    const path = `${base}/${d}`;
    rmSync(path, { recursive: true, force: true });
    mkdirSync(path, { mode: 0o700 });
    chownSync(path, uid, uid);
    await must(["chmod", one(`${key}Mode`) ?? "0755", path]);
    lab.cleanups.push(() => rmSync(path, { recursive: true, force: true }));
  }
  const umask = one("UMask");
  const wrap = umask ? ["sh", "-c", `umask ${umask} && exec "$@"`, name] : [];
  const argv = [...(env.length ? ["env", ...env] : []), ...setpriv, "--", ...wrap, ...exec.split(" ")];
  return lab.procs.start(name, ns, argv, lab.logFile(name), opts);
}

/**
 * Node `node`'s serial bridge (default the API node's): the rendered apply (the program's plan values, the node's
 * address and qemu-server directory), then its unit's daemon.
 */
export async function startSerialBridge(lab: Lab, node = lab.plan.host.node): Promise<Proc> {
  const c = lab.plan.consoles;
  const api = node === lab.plan.host.node;
  const paths = labSerialBridgePaths(api ? lab.dir : join(lab.dir, "nodes", node));
  const socketDir = lab.qemuDirOf(node);
  const config = { mgmtIp: nodeView(lab.plan, node).host.mgmtIp, port: c.serialBridgePort, allowFrom: lab.plan.servers.map((s) => s.mgmtIp), vmidMin: c.tenantVmids.min, vmidMax: c.tenantVmids.max, exclude: c.tenantVmids.exclude, socketDir };
  mkdirSync(socketDir, { recursive: true, mode: 0o755 });
  const file = nodeFile(lab, node, "serial-bridge-install.sh");
  writeFileSync(file, serialBridgeScripts({ config, paths }).apply, { mode: 0o700 });
  const ns = lab.ns.nodes[node] ?? lab.ns.host;
  await must(["env", "LR_SERVICES=none", "bash", file], { ns });
  const proc = await startUnit(lab, api ? "serial-bridge" : `serial-bridge-${node}`, ns, serialBridgeFiles(paths).unit, { ready: /lr-serial-bridge: listening on/ });
  if (api) lab.serialBridge = proc;
  lab.serialBridges.set(node, proc);
  return proc;
}

/**
 * A VPN server's console gateway: a certificate of the lab PKI for the server's instance gateways (what
 * components/console-gateway.ts issues), the rendered apply with LR_SERVICES=none into the lab's paths, then the
 * unit's daemon (the key as its credential). Waits until it listens on every instance gateway.
 */
export async function startConsoleGateway(lab: Lab, name: ServerName): Promise<Proc> {
  const server = lab.plan.servers.find((s) => s.name === name)!;
  const paths = labConsoleWebPaths(lab.dir, lab.netns.prefix, name);
  const tls = await lab.pki.issueService(`console.${name}.${lab.plan.stack}.librerouter`, server.instances.map((i) => i.gateway));
  const file = lab.path(name, "scripts", "console-gateway.sh");
  // 0700: the script carries the gateway's key.
  writeFileSync(file, consoleGatewayScripts(lab.plan, server, lab.layouts[name], tls, paths).apply, { mode: 0o700 });
  await must(["env", "LR_SERVICES=none", "bash", file], { ns: lab.ns[name] });
  const proc = await startUnit(lab, `console-web-${name}`, lab.ns[name], `${paths.systemdDir}/${CONSOLE_WEB_UNIT}`, { ready: /lr-console-web: listening on/, timeoutMs: 20_000 });
  lab.gateways.set(name, proc);
  return proc;
}

/** Sends QMP commands to tenant `t`'s QEMU on its `<vmid>.qmp` socket (as qemu-server's tools do); resolves with their return values. */
export function qmp(lab: Lab, t: TenantPlan, commands: readonly object[], timeoutMs = 10_000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const s = connect(vmSockets(lab, t).qmp);
    const out: unknown[] = [];
    let buf = "";
    const timer = setTimeout(() => s.destroy(new Error(`QMP of ${t.key}: no answer in ${timeoutMs} ms`)), timeoutMs);
    const send = () => s.write(`${JSON.stringify(out.length === 0 ? { execute: "qmp_capabilities" } : commands[out.length - 1])}\n`);
    s.on("data", (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const msg = JSON.parse(buf.slice(0, nl)) as { QMP?: unknown; return?: unknown; error?: { desc: string } };
        buf = buf.slice(nl + 1);
        if (msg.QMP) send();
        else if (msg.error) s.destroy(new Error(`QMP of ${t.key}: ${msg.error.desc}`));
        else if ("return" in msg) {
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

/**
 * What `pulumi up` does with a new console password: the snippet file QEMU reads (FileLegacy: 0600, the 8 characters
 * and nothing else), then the tenant's rendered rotation script on stdin of bash in the host namespace (a fresh
 * revision, as the program's changes with the password). Returns the script's output.
 */
export async function rotateVncPassword(lab: Lab, t: TenantPlan, password: string): Promise<string> {
  const file = `${lab.hostLayoutOf(t.node).snippetsDir}/${vncPasswordFileName(t)}`;
  if (file !== secretFile(qemuArgv(lab, t))) throw new Error(`${t.key}: the rotation's file ${file} is not the one QEMU reads`);
  writeFileSync(file, password, { mode: 0o600 });
  const revision = createHash("sha256").update(randomBytes(16)).digest("hex").slice(0, 32);
  const out = await must(["bash", "-s"], { ns: lab.ns.nodes[t.node] ?? lab.ns.host, input: vncRotateScripts({ vmid: t.vmid, passwordFile: file, qmpDir: lab.qemuDirOf(t.node), revision }).apply });
  lab.vncPasswords.set(t.key, password);
  return out.trim();
}

export interface QemuCost {
  readonly key: string;
  /** CPU seconds (user + system) since the process started, and the wall seconds since then. */
  readonly cpuS: number;
  readonly wallS: number;
  readonly rssMiB: number;
}

/** What each running tenant QEMU has cost so far (from /proc). */
export function qemuCosts(lab: Lab): QemuCost[] {
  const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  return [...lab.qemus].map(([key, p]) => {
    const stat = readFileSync(`/proc/${p.pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p.pid}/status`, "utf8"))?.[1] ?? 0);
    return { key, cpuS: (Number(f[11]) + Number(f[12])) / USER_HZ, wallS: uptime - Number(f[19]) / USER_HZ, rssMiB: rss / 1024 };
  });
}

/** One line: each QEMU's average CPU share of a core since its start, its CPU seconds and RSS. */
export function describeQemuCosts(costs: readonly QemuCost[]): string {
  return costs.map((c) => `${c.key} ${((100 * c.cpuS) / c.wallS).toFixed(1)}% of a core over ${c.wallS.toFixed(0)} s (${c.cpuS.toFixed(2)} s CPU), RSS ${c.rssMiB.toFixed(0)} MiB`).join("; ");
}
