/**
 * The lab's network plumbing, all derived from the plan:
 *   wan   — the "internet" router: bridge with the public pool gateways (vpn1/vpn2 eth0 on it), one /24 per
 *           end-user client, and a LEAK marker that answers if tunnel traffic ever escapes to the internet.
 *   vpn1/vpn2 — eth0 public, eth2 management (to the host), one veth per tenant named TenantPlan.link
 *           (the kernel has no 8021q: the veth stands in for the VLAN sub-interface).
 *   host  — management bridge with the host's mgmt IP; runs QEMU (VNC consoles) and the console firewall.
 *   lr<s> — a tenant's LibreRouter: bridge with the router IP over both VPN servers' links, and a marker
 *           "internet" address on lo that answers with the tenant key.
 *   c<s>  — a tenant's end-user client behind the wan; x — an outsider (stolen bundle, unknown certificate).
 */
import type { Plan, ServerName, TenantPlan } from "../plan/types";
import type { ServerLayout } from "../render/layout";
import type { Netns } from "./netns";
import type { Procs } from "./procs";

/** The "internet" address every LibreRouter serves (and the wan serves as LEAK). RFC 2544 benchmark block. */
export const MARKER_IP = "198.18.0.1";
export const MARKER_PORT = 80;
/** Port on which each client answers with its own name (to prove tenants cannot reach each other's tunnel IPs). */
export const CLIENT_PORT = 7;
export const OUTSIDER = { ip: "100.127.0.2", gw: "100.127.0.1", prefix: 24 };

/** The end-user client's address for slot s: 100.(64 + s/256).(s%256).2/24, gateway .1 (in wan). */
export function clientNet(slot: number): { ip: string; gw: string; prefix: number } {
  const base = `100.${64 + (slot >> 8)}.${slot & 255}`;
  return { ip: `${base}.2`, gw: `${base}.1`, prefix: 24 };
}

export interface Namespaces {
  readonly wan: string;
  readonly vpn1: string;
  readonly vpn2: string;
  readonly host: string;
  /** The outsider (stolen bundle / unknown certificate). */
  readonly x: string;
  readonly lr: Readonly<Record<string, string>>;
  readonly c: Readonly<Record<string, string>>;
}

/** Namespace names of this run for `plan` (no side effects). */
export function namespaceNames(netns: Netns, plan: Plan): Namespaces {
  const by = (p: string) => Object.fromEntries(plan.tenants.map((t) => [t.key, netns.name(`${p}${t.slot}`)]));
  return { wan: netns.name("wan"), vpn1: netns.name("vpn1"), vpn2: netns.name("vpn2"), host: netns.name("host"), x: netns.name("x"), lr: by("lr"), c: by("c") };
}

function prefixOf(cidr: string): number {
  return Number(cidr.split("/")[1]);
}

/** Creates every namespace, link, address and route, and the marker responders. */
export async function buildTopology(plan: Plan, netns: Netns, procs: Procs, layouts: Record<ServerName, ServerLayout>, logDir: string): Promise<Namespaces> {
  const ns = namespaceNames(netns, plan);
  await netns.add("wan");
  await netns.add("host");
  await netns.add("x");
  for (const s of plan.servers) await netns.add(s.name);
  for (const t of plan.tenants) {
    await netns.add(`lr${t.slot}`);
    await netns.add(`c${t.slot}`);
  }

  // wan: the public pools' gateways on one bridge with both VPN servers' public interfaces.
  const pub = plan.publicPools[0];
  const wanPorts = plan.servers.map((s) => `p-${s.name}`);
  for (const s of plan.servers) await netns.veth(ns.wan, `p-${s.name}`, ns[s.name], layouts[s.name].ifaces.public);
  await netns.bridge(ns.wan, "br0", wanPorts);
  for (const p of plan.publicPools) await netns.addr(ns.wan, "br0", `${p.gateway}/${p.prefix}`);
  await netns.sysctl(ns.wan, "net.ipv4.ip_forward", 1);
  await netns.addr(ns.wan, "lo", `${MARKER_IP}/32`);
  await procs.start("wan-leak-marker", ns.wan, ["socat", `TCP-LISTEN:${MARKER_PORT},reuseaddr,fork`, "EXEC:/bin/echo LEAK-wan"], `${logDir}/wan-marker.log`);

  // Management network: host bridge with the host's mgmt IP; each VPN server's mgmt interface on it.
  const mgmtPorts = plan.servers.map((s) => `m-${s.name}`);
  for (const s of plan.servers) await netns.veth(ns.host, `m-${s.name}`, ns[s.name], layouts[s.name].ifaces.mgmt);
  await netns.bridge(ns.host, "vmbr2", mgmtPorts);
  await netns.addr(ns.host, "vmbr2", `${plan.host.mgmtIp}/${plan.mgmt.prefix}`);

  for (const s of plan.servers) {
    const n = ns[s.name];
    await netns.addr(n, layouts[s.name].ifaces.public, `${s.publicIp}/${pub.prefix}`);
    await netns.route(n, "default", "via", pub.gateway);
    await netns.addr(n, layouts[s.name].ifaces.mgmt, `${s.mgmtIp}/${plan.mgmt.prefix}`);
  }

  for (const t of plan.tenants) await tenantPlumbing(plan, t, netns, procs, ns, logDir);

  // The outsider sits behind the wan like any client.
  await netns.veth(ns.wan, "x", ns.x, "eth0");
  await netns.addr(ns.wan, "x", `${OUTSIDER.gw}/${OUTSIDER.prefix}`);
  await netns.addr(ns.x, "eth0", `${OUTSIDER.ip}/${OUTSIDER.prefix}`);
  await netns.route(ns.x, "default", "via", OUTSIDER.gw);
  return ns;
}

async function tenantPlumbing(plan: Plan, t: TenantPlan, netns: Netns, procs: Procs, ns: Namespaces, logDir: string): Promise<void> {
  const lr = ns.lr[t.key];
  const c = ns.c[t.key];
  // LibreRouter: one L2 segment (the tenant's VLAN) shared with both VPN servers.
  const members = plan.servers.map((s) => `v-${s.name}`);
  for (const s of plan.servers) await netns.veth(ns[s.name], t.link, lr, `v-${s.name}`);
  await netns.bridge(lr, "br0", members);
  await netns.addr(lr, "br0", `${t.routerIp}/${prefixOf(t.privateCidr)}`);
  await netns.addr(lr, "lo", `${MARKER_IP}/32`);
  await procs.start(`lr-marker-${t.key}`, lr, ["socat", `TCP-LISTEN:${MARKER_PORT},reuseaddr,fork`, `EXEC:/bin/echo ${t.key}`], `${logDir}/lr-${t.key}-marker.log`);

  // End-user client behind the wan.
  const cn = clientNet(t.slot);
  await netns.veth(ns.wan, `c${t.slot}`, c, "eth0");
  await netns.addr(ns.wan, `c${t.slot}`, `${cn.gw}/${cn.prefix}`);
  await netns.addr(c, "eth0", `${cn.ip}/${cn.prefix}`);
  await netns.route(c, "default", "via", cn.gw);
  await procs.start(`client-echo-${t.key}`, c, ["socat", `TCP-LISTEN:${CLIENT_PORT},reuseaddr,fork`, `EXEC:/bin/echo client-${t.key}`], `${logDir}/c-${t.key}-echo.log`);
}
