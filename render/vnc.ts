/**
 * A tenant's VNC console on the Proxmox host: QEMU `args` that add a second VNC display on the host's
 * management address, password from a root-only snippet file (QEMU reads it before the port opens), and a
 * validator for any args string. Pure: no `@pulumi/*` import.
 */
import ipaddr from "ipaddr.js";
import type { Plan, TenantPlan } from "../plan/types";
import type { HostLayout } from "./layout";

/** The snippet file holding the tenant's 8-character password (no newline, mode 0600): `vnc-<vmid>.pw`. */
export function vncPasswordFileName(tenant: TenantPlan): string {
  return `vnc-${tenant.vmid}.pw`;
}

/**
 * `-object secret,id=vncpw-<key>,file=<snippets>/vnc-<vmid>.pw -vnc <host mgmt ip>:<display>,id=tenant,password-secret=vncpw-<key>`.
 * The password is in place before the port opens, and re-read at every start.
 */
export function renderKvmArguments(plan: Plan, tenant: TenantPlan, layout: HostLayout): string {
  const id = `vncpw-${tenant.key}`;
  const args = `-object secret,id=${id},file=${layout.snippetsDir}/${vncPasswordFileName(tenant)} -vnc ${plan.host.mgmtIp}:${tenant.vnc.display},id=tenant,password-secret=${id}`;
  assertConsoleSafe(args);
  return args;
}

/** Words of an args string the way Proxmox splits them (whitespace; single or double quotes group). */
function words(text: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** `head,k=v,flag` → head and settings (`,,` is QEMU's escaped comma; a bare flag is "on"). */
function settings(value: string): { head: string; opts: Map<string, string> } {
  const parts = value.replace(/,,/g, "\u0000").split(",").map((p) => p.replace(/\u0000/g, ","));
  const opts = new Map<string, string>();
  for (const p of parts.slice(1)) {
    const eq = p.indexOf("=");
    opts.set(eq < 0 ? p : p.slice(0, eq), eq < 0 ? "on" : p.slice(eq + 1));
  }
  return { head: parts[0], opts };
}

/** True for loopback, RFC 1918, link-local, CGNAT and IPv6 ULA/loopback/link-local literals. */
function isInternalAddress(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  if (!ipaddr.isValid(h)) return false;
  const range = ipaddr.parse(h).range();
  return ["private", "loopback", "linkLocal", "carrierGradeNat", "uniqueLocal"].includes(range);
}

/**
 * Throws if `args` would open a console to the world: a `-vnc` (or `-display vnc=`) listening on a wildcard,
 * a hostname or a public address, without `password-secret` naming a file-backed `-object secret` (or
 * `password=on`), or with a websocket or reverse connection; also any `-gdb`/`-s` debug server. Then an allow-list:
 * nothing but the recipe's own options and settings. The policy pack reuses this. Messages name the offending option.
 */
export function assertConsoleSafe(args: string): void {
  const w = words(args);
  const secrets = new Map<string, string | undefined>();
  const displays: string[] = [];
  for (let i = 0; i < w.length; i++) {
    const opt = w[i].replace(/^--/, "-");
    if ((opt === "-vnc" || opt === "-object") && w[i + 1] === undefined) throw new Error(`console args: ${opt} has no value; the console args are -object secret,… and -vnc … pairs only`);
    const val = w[i + 1] ?? "";
    if (opt === "-object" && val.startsWith("secret,")) {
      const { opts } = settings(val);
      const id = opts.get("id");
      if (id) secrets.set(id, opts.has("data") ? undefined : opts.get("file"));
    }
    if (opt === "-vnc") displays.push(val);
    if (opt === "-display" && val.startsWith("vnc=")) displays.push(val.slice(4));
    if (opt === "-s" || opt === "-gdb") throw new Error(`console args: ${opt} opens a debug server; remove it`);
  }
  for (const d of displays) {
    const { head, opts } = settings(d);
    if (head === "none" || head.startsWith("unix:")) continue;
    const colon = head.lastIndexOf(":");
    const host = colon < 0 ? "" : head.slice(0, colon);
    if (colon < 0 || !/^\d+$/.test(head.slice(colon + 1))) throw new Error(`console args: -vnc ${head} is not host:display`);
    if (!isInternalAddress(host)) throw new Error(`console args: -vnc ${head} listens on ${host === "" ? "every address" : host}; use the host's management address`);
    for (const bad of ["websocket", "reverse", "to"]) if (opts.has(bad)) throw new Error(`console args: -vnc ${head} sets ${bad}=, which opens or moves the listener; remove it`);
    const secret = opts.get("password-secret");
    if (secret !== undefined) {
      if (!secrets.has(secret)) throw new Error(`console args: -vnc ${head} names password-secret=${secret} but no -object secret,id=${secret} is given`);
      if (!secrets.get(secret)) throw new Error(`console args: secret ${secret} must come from file=, not data= (it would sit in the VM config)`);
    } else if (opts.get("password") !== "on") {
      throw new Error(`console args: -vnc ${head} has no password-secret= (QEMU would offer security type None)`);
    }
  }
  assertOnlyConsoleRecipe(w);
}

/** The settings each option of the recipe may carry; anything else is not ours. */
const RECIPE: Readonly<Record<string, { head: RegExp; keys: readonly string[] }>> = {
  "-object": { head: /^secret$/, keys: ["id", "file"] },
  "-vnc": { head: /^(?:[0-9a-fA-F.:[\]]+:\d+|unix:\/[\w./-]+)$/, keys: ["id", "password-secret", "password"] },
};

/**
 * Allow-list: the args hold `-object secret,id=…,file=…` and `-vnc …` pairs and nothing else. VM args reach QEMU's
 * command line as root on the host: a `-monitor`, `-chardev`, `-qmp`, `-device` or `-netdev` smuggled in by a
 * careless edit is refused even when it opens no VNC port.
 */
function assertOnlyConsoleRecipe(w: readonly string[]): void {
  if (w.length % 2 !== 0) throw new Error(`console args: ${w[w.length - 1]} has no value; the console args are -object secret,… and -vnc … pairs only`);
  for (let i = 0; i < w.length; i += 2) {
    const opt = w[i];
    const rule = RECIPE[opt];
    if (!rule) throw new Error(`console args: ${opt} is not part of the console recipe (only -object secret,id=…,file=… and -vnc …); remove it`);
    const { head, opts } = settings(w[i + 1]);
    if (!rule.head.test(head)) throw new Error(`console args: ${opt} ${head} is not part of the console recipe; remove it`);
    for (const [k, v] of opts) {
      if (!rule.keys.includes(k)) throw new Error(`console args: ${opt} ${head} sets ${k}=, which the console recipe does not use; remove it`);
      if (!/^[\w./-]+$/.test(v)) throw new Error(`console args: ${opt} ${head} has ${k}=${JSON.stringify(v)}; only letters, digits and . _ / - are allowed`);
    }
  }
}
