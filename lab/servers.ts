/**
 * The two VPN servers in their namespaces, driven only by rendered text: the setup script (with the OpenVPN
 * configs, hooks and PKI as its files, LR_SERVICES=none so it starts nothing), the tenant apply/delete scripts,
 * and `lr-dataplane`. The lab itself only starts openvpn (systemd's job in production) and simulates reboots.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import type { Proto, ServerName, TenantPlan } from "../plan/types";
import { dataplaneToolPath } from "../render/dataplane";
import { LAN_TABLE } from "../render/lan-zones";
import { openvpnFilePaths } from "../render/openvpn-server";
import { serverFiles } from "../render/server-files";
import { OPENVPN_NPROC, renderServerSetupScript, SetupFile } from "../render/server-setup";
import { tenantServerScripts } from "../render/tenant-scripts";
import { enrolPeers } from "../plan/enrolment";
import { ENROL_UNIT } from "../render/enrol-peer";
import { OPENVPN_USER } from "../render/service-user";
import { must, run, sleep } from "./exec";
import type { Lab } from "./lab";
import { LAB_TRUNK } from "./layout";
import type { Proc } from "./procs";

function serverPlan(lab: Lab, name: ServerName) {
  return lab.plan.servers.find((s) => s.name === name)!;
}

/** The same file list the OpenVpnServer component hands the setup script, with the lab's PKI. */
export function labServerFiles(lab: Lab, name: ServerName): SetupFile[] {
  const cert = lab.pki.servers[name];
  const secrets = { caPem: lab.pki.caPem, certPem: cert.certPem, keyPem: cert.keyPem, tlsCryptV2Key: lab.pki.tlsCryptV2ServerKey };
  return serverFiles(lab.plan, serverPlan(lab, name), lab.layouts[name], secrets);
}

/** Runs a rendered script with bash inside the server's namespace (script kept in the run dir, 0700: it may hold keys). */
async function runScript(lab: Lab, name: ServerName, file: string, text: string, env: Record<string, string> = {}): Promise<string> {
  const path = lab.path(name, "scripts", file);
  writeFileSync(path, text, { mode: 0o700 });
  return must(["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), "bash", path], { ns: lab.ns[name] });
}

/** Rendered setup script, then every tenant's rendered apply script. */
export async function setupServer(lab: Lab, name: ServerName): Promise<void> {
  const server = serverPlan(lab, name);
  const nics = { trunkMac: LAB_TRUNK.mac[name] };
  await runScript(lab, name, "setup.sh", renderServerSetupScript(lab.plan, server, lab.layouts[name], labServerFiles(lab, name), nics), { LR_SERVICES: "none" });
  for (const t of lab.plan.tenants) await applyTenant(lab, name, t);
  await startResponder(lab, name);
}

const responders = new WeakMap<Lab, Map<ServerName, Proc>>();

/**
 * Starts the server's enrolment responder as systemd would after setup: the installed unit's ExecStart, as its
 * User= (the OpenVPN account the setup script created), and waits until it listens. A running one is replaced.
 */
export async function startResponder(lab: Lab, name: ServerName): Promise<Proc> {
  const byServer = responders.get(lab) ?? new Map<ServerName, Proc>();
  responders.set(lab, byServer);
  await stopResponder(lab, name);
  const unit = readFileSync(`${lab.layouts[name].systemdDir}/${ENROL_UNIT}`, "utf8");
  const exec = /^ExecStart=(.+)$/m.exec(unit)?.[1] ?? "";
  const user = /^User=(.+)$/m.exec(unit)?.[1] ?? "";
  if (!exec || user !== OPENVPN_USER) throw new Error(`${ENROL_UNIT} of ${name}: no ExecStart, or User=${user} is not ${OPENVPN_USER}`);
  const peers = enrolPeers(lab.plan, serverPlan(lab, name));
  const proc = await lab.procs.start(`enrol-${name}`, lab.ns[name], ["setpriv", `--reuid=${user}`, `--regid=${user}`, "--init-groups", "--", ...exec.split(" ")], lab.logFile(`enrol-${name}`));
  byServer.set(name, proc);
  for (let i = 0; i < 250; i++) {
    if ((await must(["ss", "-Hltn", `sport = :${peers.port}`], { ns: lab.ns[name] })).includes(`${peers.selfIp}:${peers.port}`)) return proc;
    if (proc.exited) break;
    await sleep(20);
  }
  throw new Error(`enrolment responder of ${name} does not listen on ${peers.selfIp}:${peers.port} (${proc.exited ?? "running"})`);
}

/** Stops the server's enrolment responder (a down peer). */
export async function stopResponder(lab: Lab, name: ServerName): Promise<void> {
  const p = responders.get(lab)?.get(name);
  if (p) await lab.procs.stop(p, 1000);
  responders.get(lab)?.delete(name);
}

/** The tenant's rendered scripts on one server, pinned to its current certificate and tls-crypt-v2 key in the lab. */
function tenantScripts(lab: Lab, name: ServerName, t: TenantPlan): { apply: string; delete: string } {
  const cert = lab.clientCerts.get(t.key);
  if (!cert) throw new Error(`no client certificate for ${t.key}`);
  return tenantServerScripts(lab.plan, serverPlan(lab, name), t, lab.layouts[name], cert.certPem, lab.pki.tc2Key(t.key).keyId);
}

/** The tenant's rendered apply script on one server (with the certificate in lab.clientCerts). */
export async function applyTenant(lab: Lab, name: ServerName, t: TenantPlan): Promise<void> {
  await runScript(lab, name, `apply-${t.key}.sh`, tenantScripts(lab, name, t).apply);
}

export async function deleteTenant(lab: Lab, name: ServerName, t: TenantPlan): Promise<void> {
  await runScript(lab, name, `delete-${t.key}.sh`, tenantScripts(lab, name, t).delete);
}

/** `lr-dataplane <args>` as installed by the setup script. */
export function runDataplane(lab: Lab, name: ServerName, ...args: string[]): Promise<string> {
  return must([dataplaneToolPath(lab.layouts[name]), ...args], { ns: lab.ns[name] });
}

export function instanceLog(lab: Lab, id: string): string {
  return lab.logFile(`openvpn-${id}`);
}

/**
 * Starts one OpenVPN instance (what `openvpn-server@<proto>` does) and waits for it to serve. `nproc`: its
 * RLIMIT_NPROC, by default what the rendered unit drop-in gives it (set by prlimit before the exec: a running
 * nobody process's limit cannot be changed without CAP_SYS_RESOURCE).
 */
export async function startInstance(lab: Lab, name: ServerName, proto: Proto, nproc = OPENVPN_NPROC): Promise<Proc> {
  const id = `${name}-${proto}` as const;
  const conf = openvpnFilePaths(lab.layouts[name]).configs[proto];
  const argv = ["prlimit", `--nproc=${nproc}:${nproc}`, "openvpn", "--config", conf];
  const proc = await lab.procs.start(`openvpn-${id}`, lab.ns[name], argv, instanceLog(lab, id), { ready: /Initialization Sequence Completed/ });
  lab.servers.set(id, proc);
  return proc;
}

/** Both instances of a server. */
export async function startServer(lab: Lab, name: ServerName, nproc = OPENVPN_NPROC): Promise<void> {
  for (const inst of serverPlan(lab, name).instances) await startInstance(lab, name, inst.proto, nproc);
}

/** SIGKILL both instances (a crash: no exit notification reaches the clients). */
export async function killServer(lab: Lab, name: ServerName): Promise<void> {
  for (const inst of serverPlan(lab, name).instances) {
    const p = lab.servers.get(inst.id);
    if (p) await lab.procs.kill(p);
    lab.servers.delete(inst.id);
  }
}

/**
 * What a reboot of the VPN VM loses: every ip rule (the kernel's defaults come back), the tenant tables,
 * the IPv4 addresses on the tenant links, all iptables and nft state, and the sysctls (IPv6 back on the tenant links,
 * with their link-local addresses, and RAs taken). Files on disk stay. (In production the VLAN links vanish too; the lab's veths are not ours.)
 */
export async function simulateReboot(lab: Lab, name: ServerName): Promise<void> {
  const ns = lab.ns[name];
  const ip = (...a: string[]) => must(["ip", ...a], { ns });
  // With many rules one `ip rule flush` removes only a bounded number: repeat until only local is left.
  for (let i = 0; i < 10; i++) {
    await run(["ip", "rule", "flush"], { ns });
    if ((await ip("rule", "show")).trim().split("\n").length <= 1) break;
  }
  await ip("rule", "add", "pref", "32766", "lookup", "main");
  await ip("rule", "add", "pref", "32767", "lookup", "default");
  for (const t of lab.plan.tenants) {
    await ip("route", "flush", "table", String(t.table.id));
    await ip("-4", "addr", "flush", "dev", t.link);
    await ip("link", "set", "dev", t.link, "group", "0");
  }
  await must(["iptables-restore"], { ns, input: "*filter\nCOMMIT\n*nat\nCOMMIT\n" });
  // fixed mode's nft LAN table (absent in distinct mode: nothing to delete).
  await run(["nft", "delete", "table", "ip", LAN_TABLE], { ns });
  for (const c of ["INPUT", "FORWARD", "OUTPUT"]) await must(["iptables", "-P", c, "ACCEPT"], { ns });
  await must(["sysctl", "-qw", "net.ipv4.ip_forward=0", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"], { ns });
  // The kernel's IPv6 defaults: links (re)made at boot get IPv6 and take RAs until the drop-in and apply-all close it.
  const v6 = ["all", "default", ...lab.plan.tenants.map((t) => t.link)].flatMap((d) => [`net/ipv6/conf/${d}/accept_ra=1`, `net/ipv6/conf/${d}/autoconf=1`]);
  await must(["sysctl", "-qw", ...v6, "net/ipv6/conf/default/disable_ipv6=0", ...lab.plan.tenants.map((t) => `net/ipv6/conf/${t.link}/disable_ipv6=0`)], { ns });
}

/** Common names with a live session on an instance, from `status 2` on its management socket. */
export function liveSessions(lab: Lab, name: ServerName, proto: Proto, timeoutMs = 3000): Promise<string[]> {
  const sock = openvpnFilePaths(lab.layouts[name]).managementSockets[proto];
  return new Promise((resolve, reject) => {
    const c = connect(sock);
    let buf = "";
    let asked = false;
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`no status from ${sock} within ${timeoutMs} ms`));
    }, timeoutMs);
    c.on("data", (d: Buffer) => {
      buf += d.toString();
      if (!asked && buf.includes(">INFO:")) {
        asked = true;
        c.write("status 2\n");
      }
      if (/\nEND\r?\n/.test(buf)) {
        clearTimeout(timer);
        c.end("quit\n");
        resolve(buf.split("\n").filter((l) => l.startsWith("CLIENT_LIST,")).map((l) => l.split(",")[1]));
      }
    });
    c.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
