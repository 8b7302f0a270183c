/**
 * The tenants' consoles on the lab's "Proxmox host": one real QEMU per tenant started the way qemu-server
 * does it (its own `-vnc unix:…,password=on` display first, the VM's `args` last), with the rendered
 * `renderKvmArguments`, and the rendered host console firewall.
 */
import { randomInt } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { TenantPlan } from "../plan/types";
import { hostConsoleFirewallScripts } from "../render/host-console";
import { renderKvmArguments } from "../render/vnc";
import { must, run, sleep } from "./exec";
import type { Lab } from "./lab";
import type { Proc } from "./procs";

const PRINTABLE = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

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

/** Writes the password snippet (exactly 8 characters, no newline, 0600) and starts the tenant's QEMU. */
export async function startConsole(lab: Lab, tenant: TenantPlan): Promise<Proc> {
  const args = splitArgs(renderKvmArguments(lab.plan, tenant, lab.hostLayout));
  const pwFile = secretFile(args);
  const password = vncPassword();
  mkdirSync(dirname(pwFile), { recursive: true, mode: 0o700 });
  writeFileSync(pwFile, password, { mode: 0o600 });
  lab.vncPasswords.set(tenant.key, password);
  const proxmox = ["qemu-system-x86_64", "-machine", "none", "-nodefaults", "-S", "-m", "16", "-name", tenant.vmName, "-vnc", `unix:${lab.path("host", "run", `${tenant.vmid}.vnc`)},password=on`];
  const proc = await lab.procs.start(`qemu-${tenant.key}`, lab.ns.host, [...proxmox, ...args], lab.logFile(`qemu-${tenant.key}`));
  await listening(lab.ns.host, tenant.vnc.port, 10_000);
  lab.qemus.set(tenant.key, proc);
  return proc;
}

/** Runs the host firewall's install script (what the host's remote command runs) in the host namespace, no systemd. */
export async function applyHostFirewall(lab: Lab): Promise<void> {
  const file = lab.path("host", "console-firewall-install.sh");
  writeFileSync(file, hostConsoleFirewallScripts(lab.plan, lab.hostLayout).apply, { mode: 0o700 });
  await must(["env", "LR_SERVICES=none", "bash", file], { ns: lab.ns.host });
}
