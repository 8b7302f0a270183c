/**
 * End-user clients: the rendered bundle and launcher per tenant, started in the tenant's client namespace
 * through the launcher (which runs openvpn with `--setenv UV_HWID <id>`, its DNS hook and kill-switch; the pid
 * is the launcher's: SIGTERM to it ends openvpn and undoes DNS and kill-switch).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { InstancePlan, ServerName, TenantPlan } from "../plan/types";
import { clientBundleName, renderClientBundle } from "../render/client-bundle";
import { LAUNCHER_NAME, renderLauncher } from "../render/launcher";
import type { Lab } from "./lab";
import type { Issued } from "./pki";
import { Proc, readLog, waitForLog } from "./procs";
import { clientNet } from "./topology";

export const CONNECTED = /Initialization Sequence Completed/;

/**
 * Writes `<run>/clients/<name>/<key>.ovpn` (0600: it holds the private key) and the launcher; returns their paths.
 * With `only`, the bundle keeps just that server's `<connection>` blocks (to ask one server, not fail over).
 */
export function writeClientFiles(lab: Lab, tenant: TenantPlan, cert: Issued, name = tenant.key, only?: ServerName): { bundle: string; launcher: string } {
  const bundle = lab.path("clients", name, clientBundleName(tenant));
  const launcher = lab.path("clients", name, LAUNCHER_NAME);
  // The tenant's current tls-crypt-v2 key: a copied bundle carries it, whatever certificate it is built around.
  const creds = { caPem: lab.pki.caPem, certPem: cert.certPem, keyPem: cert.keyPem, tlsCryptV2Key: lab.pki.tc2Key(tenant.key).pem };
  let text = renderClientBundle(lab.plan, tenant, creds);
  if (only) {
    const host = lab.plan.servers.find((s) => s.name === only)!.hostname;
    text = text.replace(/<connection>\n([\s\S]*?)<\/connection>\n/g, (block, body: string) => (body.startsWith(`remote ${host} `) ? block : ""));
    if (!text.includes(`remote ${host} `) || (text.match(/<connection>/g) ?? []).length !== 2) throw new Error(`bundle for ${only} only: expected its 2 connection blocks`);
  }
  writeFileSync(bundle, text, { mode: 0o600 });
  writeFileSync(launcher, renderLauncher(lab.plan.stack, tenant), { mode: 0o755 });
  return { bundle, launcher };
}

/** `writeClientFiles` with the bundle cut down to `inst`'s one `<connection>` block (to ask one instance, no fallback). */
export function writeSingleInstanceFiles(lab: Lab, t: TenantPlan, cert: Issued, name: string, inst: InstancePlan): { bundle: string; launcher: string } {
  const files = writeClientFiles(lab, t, cert, name, inst.server);
  const proto = inst.proto === "udp" ? "udp4" : "tcp4-client";
  const text = readFileSync(files.bundle, "utf8").replace(/<connection>\n([\s\S]*?)<\/connection>\n/g, (block, body: string) => (body.split("\n")[0].endsWith(` ${proto}`) ? block : ""));
  if ((text.match(/<connection>/g) ?? []).length !== 1) throw new Error(`bundle for ${inst.id}: expected one connection block`);
  writeFileSync(files.bundle, text, { mode: 0o600 });
  return files;
}

/** The client namespace's own resolv.conf before any tunnel: its LAN resolver (the wan side; nothing answers). */
export function labResolvConf(tenant: TenantPlan): string {
  return `# lab client ${tenant.key}: its LAN resolver, outside the tunnel\nnameserver ${clientNet(tenant.slot).gw}\noptions timeout:1 attempts:1\n`;
}

/**
 * `/etc/netns/<ns>/resolv.conf`, which `ip netns exec` bind-mounts on /etc/resolv.conf: the launcher's DNS hook
 * writes there, never the host's file. Created with labResolvConf() when absent.
 */
export function clientResolvConf(lab: Lab, tenant: TenantPlan): string {
  const dir = `/etc/netns/${lab.ns.c[tenant.key]}`;
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/resolv.conf`;
  if (!existsSync(file)) writeFileSync(file, labResolvConf(tenant), { mode: 0o644 });
  return file;
}

/**
 * Starts the tenant's client through its launcher and waits until the tunnel is up. `--dns file` (the fallback
 * that rewrites resolv.conf) whatever the host runs; TMPDIR in the run directory so nothing stays behind. `only`:
 * a bundle naming that one instance (its own files, `<key>-<instance>`), else the tenant's whole bundle.
 */
export async function startClient(lab: Lab, tenant: TenantPlan, timeoutMs = 20_000, launcherArgs: readonly string[] = [], only?: InstancePlan): Promise<Proc> {
  const cert = lab.clientCerts.get(tenant.key);
  if (!cert) throw new Error(`no client certificate for ${tenant.key}`);
  const { bundle, launcher } = only ? writeSingleInstanceFiles(lab, tenant, cert, `${tenant.key}-${only.id}`, only) : writeClientFiles(lab, tenant, cert);
  clientResolvConf(lab, tenant);
  const tmp = lab.dirPath("clients", tenant.key, "tmp");
  const argv = ["env", `TMPDIR=${tmp}`, "sh", launcher, "--dns", "file", ...launcherArgs, bundle];
  const proc = await lab.procs.start(`client-${tenant.key}`, lab.ns.c[tenant.key], argv, lab.logFile(`client-${tenant.key}`), {
    ready: CONNECTED,
    timeoutMs,
  });
  lab.clients.set(tenant.key, proc);
  return proc;
}

/** Stops the tenant's client (SIGTERM to its launcher, which undoes DNS and kill-switch; SIGKILL after `graceMs`). */
export async function stopClient(lab: Lab, t: TenantPlan, graceMs = 3000): Promise<void> {
  const p = lab.clients.get(t.key);
  if (p) await lab.procs.stop(p, graceMs);
  lab.clients.delete(t.key);
}

/** Number of completed connections in a client log so far (each reconnect adds one). */
export function connectCount(log: string): number {
  return readLog(log).split("\n").filter((l) => CONNECTED.test(l)).length;
}

/** Waits until the client log shows connection number `n` (1-based); returns the elapsed ms. */
export async function waitForConnection(proc: Proc, n: number, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  await waitForLog(proc.log, new RegExp(`(?:${CONNECTED.source}[\\s\\S]*){${n}}`), timeoutMs, proc);
  return Date.now() - t0;
}

/** The tunnel address of the client's latest connection (its `net_addr_v4_add` log line), or "" when none. */
export function pushedAddress(log: string): string {
  const all = [...readLog(log).matchAll(/net_addr_v4_add: (\d+\.\d+\.\d+\.\d+)\//g)];
  return all.length ? all[all.length - 1][1] : "";
}
