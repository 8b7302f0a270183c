/**
 * The lab's network plumbing, all derived from the plan:
 *   wan   — the "internet" router: bridge with the public pool gateways (vpn1/vpn2 eth0 on it), one /24 per
 *           end-user client, and a LEAK marker that answers if tunnel traffic ever escapes to the internet.
 *   vpn1/vpn2 — eth0 public, eth2 management (to the host), one veth per tenant named TenantPlan.link
 *           (the kernel has no 8021q: the veth stands in for the VLAN sub-interface).
 *   host  — management bridge with the host's mgmt IP; runs QEMU (VNC consoles) and the console firewall.
 *   lr<s> — a tenant's LibreRouter: bridge with the router IP over both VPN servers' links, and a marker
 *           "internet" address on lo that answers with the tenant key.
 *   c<s>  — a tenant's end-user client behind the wan.
 *   x     — an outsider: behind the wan (stolen bundle, unknown certificate) and on the management network
 *           with the services VM's address (not a VPN server: the host console firewall must refuse it).
 * Links and addresses go in one `ip -batch` per namespace (a few hundred ip calls would take seconds).
 */
import type { Plan, ServerName } from "../plan/types";
import type { ServerLayout } from "../render/layout";
import type { Netns } from "./netns";
import { labTrunkLines } from "./layout";
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
  /** The outsider (stolen bundle / unknown certificate / non-VPN management address). */
  readonly x: string;
  readonly lr: Readonly<Record<string, string>>;
  readonly c: Readonly<Record<string, string>>;
}

/** Namespace names of this run for `plan` (no side effects). */
export function namespaceNames(netns: Netns, plan: Plan): Namespaces {
  const by = (p: string) => Object.fromEntries(plan.tenants.map((t) => [t.key, netns.name(`${p}${t.slot}`)]));
  return { wan: netns.name("wan"), vpn1: netns.name("vpn1"), vpn2: netns.name("vpn2"), host: netns.name("host"), x: netns.name("x"), lr: by("lr"), c: by("c") };
}

/** ip -batch lines per namespace, plus the veth pairs (created from the root namespace). */
class Batches {
  readonly veths: string[] = [];
  readonly perNs = new Map<string, string[]>();

  in(ns: string, ...lines: string[]): void {
    const l = this.perNs.get(ns) ?? [];
    l.push(...lines);
    this.perNs.set(ns, l);
  }

  veth(nsA: string, ifA: string, nsB: string, ifB: string): void {
    this.veths.push(`link add name ${ifA} netns ${nsA} type veth peer name ${ifB} netns ${nsB}`);
    this.in(nsA, `link set ${ifA} up`);
    this.in(nsB, `link set ${ifB} up`);
  }

  bridge(ns: string, name: string, members: readonly string[]): void {
    this.in(ns, `link add ${name} type bridge`, `link set ${name} up`, ...members.map((m) => `link set ${m} master ${name}`));
  }
}

/** Creates every namespace, link, address and route, and the marker responders. */
export async function buildTopology(plan: Plan, netns: Netns, procs: Procs, layouts: Record<ServerName, ServerLayout>, logDir: string): Promise<Namespaces> {
  const ns = namespaceNames(netns, plan);
  await netns.addMany(["wan", "host", "x", ...plan.servers.map((s) => s.name), ...plan.tenants.flatMap((t) => [`lr${t.slot}`, `c${t.slot}`])]);
  const b = new Batches();
  for (const n of netns.created) b.in(n, "link set lo up");

  // wan: the public pools' gateways on one bridge with both VPN servers' public interfaces.
  const pub = plan.publicPools[0];
  for (const s of plan.servers) b.veth(ns.wan, `p-${s.name}`, ns[s.name], layouts[s.name].ifaces.public);
  b.bridge(ns.wan, "br0", plan.servers.map((s) => `p-${s.name}`));
  for (const p of plan.publicPools) b.in(ns.wan, `addr add ${p.gateway}/${p.prefix} dev br0`);
  b.in(ns.wan, `addr add ${MARKER_IP}/32 dev lo`);

  // Management network: host bridge with the host's mgmt IP; each VPN server's mgmt interface on it, and
  // the outsider with the services VM's address.
  for (const s of plan.servers) b.veth(ns.host, `m-${s.name}`, ns[s.name], layouts[s.name].ifaces.mgmt);
  b.veth(ns.host, "m-x", ns.x, "mgmt");
  const mgmtBridge = plan.bridges.management;
  b.bridge(ns.host, mgmtBridge, [...plan.servers.map((s) => `m-${s.name}`), "m-x"]);
  b.in(ns.host, `addr add ${plan.host.mgmtIp}/${plan.mgmt.prefix} dev ${mgmtBridge}`);
  b.in(ns.x, `addr add ${plan.services.mgmtIp}/${plan.mgmt.prefix} dev mgmt`);

  for (const s of plan.servers) {
    const l = layouts[s.name].ifaces;
    b.in(ns[s.name], ...labTrunkLines(s.name));
    b.in(ns[s.name], `addr add ${s.publicIp}/${pub.prefix} dev ${l.public}`, `route add default via ${pub.gateway}`, `addr add ${s.mgmtIp}/${plan.mgmt.prefix} dev ${l.mgmt}`);
  }

  for (const t of plan.tenants) {
    const lr = ns.lr[t.key];
    const c = ns.c[t.key];
    // LibreRouter: one L2 segment (the tenant's VLAN) shared with both VPN servers.
    for (const s of plan.servers) b.veth(ns[s.name], t.link, lr, `v-${s.name}`);
    b.bridge(lr, "br0", plan.servers.map((s) => `v-${s.name}`));
    b.in(lr, `addr add ${t.routerIp}/${t.privateCidr.split("/")[1]} dev br0`, `addr add ${MARKER_IP}/32 dev lo`);
    // End-user client behind the wan.
    const cn = clientNet(t.slot);
    b.veth(ns.wan, `c${t.slot}`, c, "eth0");
    b.in(ns.wan, `addr add ${cn.gw}/${cn.prefix} dev c${t.slot}`);
    b.in(c, `addr add ${cn.ip}/${cn.prefix} dev eth0`, `route add default via ${cn.gw}`);
  }

  // The outsider sits behind the wan like any client.
  b.veth(ns.wan, "x", ns.x, "eth0");
  b.in(ns.wan, `addr add ${OUTSIDER.gw}/${OUTSIDER.prefix} dev x`);
  b.in(ns.x, `addr add ${OUTSIDER.ip}/${OUTSIDER.prefix} dev eth0`, `route add default via ${OUTSIDER.gw}`);

  await netns.batch(undefined, b.veths);
  await Promise.all([...b.perNs].map(([n, lines]) => netns.batch(n, lines)));
  await netns.sysctl(ns.wan, "net.ipv4.ip_forward", 1);

  const marker = (name: string, where: string, reply: string) =>
    procs.start(name, where, ["socat", `TCP-LISTEN:${MARKER_PORT},reuseaddr,fork`, `EXEC:/bin/echo ${reply}`], `${logDir}/${name}.log`);
  await marker("marker-wan", ns.wan, "LEAK-wan");
  for (const t of plan.tenants) {
    await marker(`marker-lr-${t.key}`, ns.lr[t.key], t.key);
    await procs.start(`echo-c-${t.key}`, ns.c[t.key], ["socat", `TCP-LISTEN:${CLIENT_PORT},reuseaddr,fork`, `EXEC:/bin/echo client-${t.key}`], `${logDir}/echo-c-${t.key}.log`);
  }
  return ns;
}
