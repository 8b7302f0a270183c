/**
 * The common-services VM's DHCP in the lab (fixed mode: the tenant routers' public addresses without cloud-init):
 * the rendered apply script (LR_SERVICES=none: files only), then the real dnsmasq started with the rendered unit's
 * ExecStartPre and ExecStart command lines, in the services namespace on the public bridge. The routers ask with
 * busybox's udhcpc (what OpenWrt, and so a LibreRouter, runs on its WAN), through a hook that sets the address and
 * default route as netifd would and records what the server handed out.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { DHCP_UNIT, type DhcpLayout, dhcpReservationScripts, dhcpSetupScripts } from "../render/dhcp";
import { must, run } from "./exec";
import type { Lab } from "./lab";
import { alive, type Proc } from "./procs";
import { ROUTER_WAN } from "./topology";

/** What a router's DHCP client got (`ip` empty when nothing answered). */
export interface Lease {
  readonly ip: string;
  readonly mask: string;
  readonly router: string;
  readonly dns: string;
  readonly lease: string;
  readonly serverId: string;
}

/** The DHCP layout under `<runDir>/svc/`. */
export function labDhcpLayout(runDir: string): DhcpLayout {
  const base = `${runDir}/svc`;
  return { conf: `${base}/etc/dnsmasq.conf`, hostsDir: `${base}/etc/hosts.d`, leaseFile: `${base}/lib/dhcp.leases`, pidFile: `${base}/run/dnsmasq.pid`, systemdDir: `${base}/systemd` };
}

/**
 * udhcpc's hook. bound/renew: the address and default route (replace: a renew of the same lease changes
 * nothing), and the answer in $LR_LEASE_OUT. With LR_CONFIGURE=0 it only records (a probe that must not touch the
 * interface). deconfig/leasefail/nak: nothing (the lab never takes an address away).
 */
const UDHCPC_HOOK = `#!/bin/sh
case "$1" in
  bound|renew)
    if [ "\${LR_CONFIGURE:-1}" = 1 ]; then
      ip -4 addr replace "$ip/$subnet" dev "$interface" || exit 1
      ip -4 route replace default via "$router" dev "$interface" || exit 1
    fi
    printf 'ip=%s mask=%s router=%s dns=%s lease=%s serverid=%s\\n' "$ip" "$subnet" "$router" "$dns" "$lease" "$serverid" >"$LR_LEASE_OUT"
    ;;
esac
exit 0
`;

/** One unit file line's value (`ExecStart=`…), or throws naming the unit. */
function unitLine(lab: Lab, key: string): string {
  const unit = readFileSync(`${lab.dhcpLayout.systemdDir}/${DHCP_UNIT}`, "utf8");
  const line = unit.split("\n").find((l) => l.startsWith(`${key}=`));
  if (!line) throw new Error(`${DHCP_UNIT}: no ${key}=`);
  return line.slice(key.length + 1);
}

/**
 * The services VM's DHCP setup: the rendered server apply, then each tenant's reservation apply (the program's
 * separate commands, in the order it runs them), with LR_SERVICES=none; then the server as the unit starts it.
 */
export async function setupDhcp(lab: Lab): Promise<string> {
  // What the VM has before the script: /run, where the unit's pid file goes.
  mkdirSync(dirname(lab.dhcpLayout.pidFile), { recursive: true, mode: 0o755 });
  const scripts = [dhcpSetupScripts(lab.plan, lab.dhcpLayout).apply, ...lab.plan.tenants.map((t) => dhcpReservationScripts(lab.plan, t, lab.dhcpLayout).apply)];
  let out = "";
  for (const [i, text] of scripts.entries()) {
    const script = lab.path("svc", "scripts", `dhcp-apply-${i}.sh`);
    writeFileSync(script, text, { mode: 0o700 });
    out += await must(["env", "LR_SERVICES=none", "bash", script], { ns: lab.ns.svc });
  }
  writeFileSync(lab.path("lr", "udhcpc.sh"), UDHCPC_HOOK, { mode: 0o755 });
  await startDhcp(lab);
  return out.trim();
}

/**
 * dnsmasq as systemd runs the unit: ExecStartPre (the config test), then ExecStart, which daemonizes (Type=forking);
 * its pid file names the daemon, which the lab then owns like any process it started (stopped at teardown).
 */
export async function startDhcp(lab: Lab): Promise<Proc> {
  for (const key of ["ExecStartPre", "ExecStart"]) await must(unitLine(lab, key).split(" "), { ns: lab.ns.svc });
  const pid = Number(readFileSync(lab.dhcpLayout.pidFile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) throw new Error(`dnsmasq: pid file ${lab.dhcpLayout.pidFile} names no running process`);
  const proc = lab.procs.adopt("dnsmasq", pid, lab.logFile("dnsmasq"));
  lab.dhcpServer = proc;
  return proc;
}

/** Stops the DHCP server (what `systemctl stop` does: SIGTERM to the main pid) and waits until it is gone. */
export async function stopDhcp(lab: Lab): Promise<void> {
  const p = lab.dhcpServer;
  if (p) await lab.procs.stop(p, 3000);
  lab.dhcpServer = undefined;
}

/**
 * One DHCP exchange from namespace `ns` on its WAN NIC (3 discovers, 1 s apart, then give up: `-n -q`, as the e2e
 * does). `configure`: the hook sets the address and default route. Resolves with what the server handed out, `ip`
 * empty when nothing answered.
 */
export async function dhcpAsk(lab: Lab, ns: string, name: string, configure = true): Promise<Lease> {
  const out = lab.path("lr", `lease-${name}.txt`);
  writeFileSync(out, "");
  const hook = lab.path("lr", "udhcpc.sh");
  const argv = ["env", `LR_LEASE_OUT=${out}`, `LR_CONFIGURE=${configure ? 1 : 0}`, "busybox", "udhcpc", "-i", ROUTER_WAN, "-f", "-q", "-n", "-t", "3", "-T", "1", "-A", "1", "-s", hook];
  const r = await run(argv, { ns, timeoutMs: 15_000 });
  const text = readFileSync(out, "utf8").trim();
  const f = Object.fromEntries(text.split(" ").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
  if (text && r.code !== 0) throw new Error(`udhcpc in ${ns} got ${text} but exited ${r.code}: ${r.stderr.trim()}`);
  return { ip: f.ip ?? "", mask: f.mask ?? "", router: f.router ?? "", dns: f.dns ?? "", lease: f.lease ?? "", serverId: f.serverid ?? "" };
}

/** Every tenant router asks for its public address (in parallel); throws unless each got one. */
export async function routersByDhcp(lab: Lab): Promise<Map<string, Lease>> {
  const got = await Promise.all(lab.plan.tenants.map(async (t) => [t.key, await dhcpAsk(lab, lab.ns.lr[t.key], t.key)] as const));
  for (const [key, l] of got) if (!l.ip) throw new Error(`${key}'s router got no DHCP answer on ${ROUTER_WAN} (${lab.tenant(key).publicMac})`);
  const leases = new Map(got);
  lab.leases = leases;
  return leases;
}

/** The lease file's lines `<expiry> <mac> <ip> <hostname> <client-id>`, by MAC. */
export function leaseFile(lab: Lab): Map<string, { ip: string; host: string; line: string }> {
  const text = readFileSync(lab.dhcpLayout.leaseFile, "utf8");
  const out = new Map<string, { ip: string; host: string; line: string }>();
  for (const line of text.split("\n").filter(Boolean)) {
    const [, mac, ip, host] = line.split(" ");
    out.set(mac, { ip, host, line });
  }
  return out;
}
