/**
 * The lab's network plumbing, all derived from the plan:
 *   wan   — the "internet" router: the public pools' gateways on its uplink to the host's public bridge, one /24 per
 *           end-user client, the attacker's networks, and a LEAK marker that answers if tunnel traffic ever escapes
 *           to the internet.
 *   host  — the Proxmox host: the public bridge (plan.bridges.public, Proxmox's vmbr0: the wan's uplink, both VPN
 *           servers' eth0, the services VM, every tenant router's WAN NIC and the unknown VM) with no address of its
 *           own and ip_forward off, so it never routes between it and the management bridge (plan.bridges.management,
 *           with the host's mgmt IP); runs QEMU (VNC consoles), the console firewall and the ban grid's bridge table.
 *   vpn1/vpn2 — eth0 public, eth2 management (to the host), one veth per tenant named TenantPlan.link
 *           (the kernel has no 8021q: the veth stands in for the VLAN sub-interface). `--hosts 2` (./hosts.ts): each
 *           on its own node, eth1 management, the tenant links the data plane's own vxlan devices over it.
 *   lr<s> — a tenant's LibreRouter: bridge with the router IP over both VPN servers' links, and a marker
 *           "internet" address on lo that answers with the tenant key.
 *   c<s>  — a tenant's end-user client behind the wan.
 *   x     — an outsider: behind the wan (stolen bundle, unknown certificate; the ban grid's allowlisted address) and
 *           on the management network with an address no plan address uses (not a VPN server: the host console
 *           firewall must refuse it).
 *   atk   — an attacker behind the wan (the ban grid's checks): ATTACKER.ip, and the load's addresses in ATTACKER.pool.
 *   svc   — the common-services VM on the public bridge and the management bridge: runs the rendered DHCP server
 *           (./services.ts) and the ban grid's LAPI on its management address (./bans.ts).
 *   ux    — a router-like VM with a MAC no tenant has, on the public bridge (the DHCP server must ignore it).
 * Each LibreRouter also has its WAN NIC (net0, `wan0`, its TenantPlan.publicMac) on the public bridge: fixed mode
 * leaves it unconfigured for DHCP (./bringup.ts), distinct mode sets the address and gateway as cloud-init does.
 * Links and addresses go in one `ip -batch` per namespace (a few hundred ip calls would take seconds).
 */
import type { Plan, ServerName } from "../plan/types";
import type { ServerLayout } from "../render/layout";
import type { Netns } from "./netns";
import { labTrunkLines } from "./layout";
import type { Procs } from "./procs";
import { intToIp, parseCidr, size } from "../lib/ipv4";
import { must } from "./exec";
import { isCluster, nodeRole, ROUTER_VNET_NIC, SWITCH, vnetLines, vnetNames } from "./hosts";

/** The "internet" address every LibreRouter serves (and the wan serves as LEAK). RFC 2544 benchmark block. */
export const MARKER_IP = "198.18.0.1";
export const MARKER_PORT = 80;
/** Port on which each client answers with its own name (to prove tenants cannot reach each other's tunnel IPs). */
export const CLIENT_PORT = 7;
export const OUTSIDER = { ip: "100.127.0.2", gw: "100.127.0.1", prefix: 24 };
/** The attacker: its own address, and a pool the wan routes to it (the ban-load check's 1,000 sources). */
export const ATTACKER = { ip: "100.126.0.2", gw: "100.126.0.1", prefix: 24, pool: "100.96.0.0/20" };
/** The wan's end of its uplink to the host's public bridge (the pools' gateways), and the host's end. */
export const UPLINK = { wan: "uplink", host: "up-wan" };
/** A tenant router's WAN interface (the VM's net0), and the unknown VM's MAC (locally administered; no tenant's). */
export const ROUTER_WAN = "wan0";
export const UNKNOWN_MAC = "02:4c:52:ff:ff:01";

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
  /** The outsider (stolen bundle / unknown certificate / non-VPN management address; allowlisted in the ban grid). */
  readonly x: string;
  /** The ban grid's attacker behind the wan. */
  readonly atk: string;
  /** The common-services VM (DHCP) and the VM with an unknown MAC, on the public bridge. */
  readonly svc: string;
  readonly ux: string;
  readonly lr: Readonly<Record<string, string>>;
  readonly c: Readonly<Record<string, string>>;
  /** Node name → its namespace (the API node's is `host`); one entry in the one-host lab. */
  readonly nodes: Readonly<Record<string, string>>;
  /** `--hosts 2`: the switches between the nodes (./hosts.ts). */
  readonly sw?: string;
}

/** Namespace names of this run for `plan` (no side effects). */
export function namespaceNames(netns: Netns, plan: Plan): Namespaces {
  const by = (p: string) => Object.fromEntries(plan.tenants.map((t) => [t.key, netns.name(`${p}${t.slot}`)]));
  const nodes = Object.fromEntries(plan.nodes.map((n) => [n.name, netns.name(nodeRole(plan, n.name))]));
  return { wan: netns.name("wan"), vpn1: netns.name("vpn1"), vpn2: netns.name("vpn2"), host: netns.name("host"), x: netns.name("x"), atk: netns.name("atk"), svc: netns.name("svc"), ux: netns.name("ux"), lr: by("lr"), c: by("c"), nodes, ...(isCluster(plan) ? { sw: netns.name("sw") } : {}) };
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

  /** A veth pair, both ends up; `macB`: the MAC of the `ifB` end (a VM's NIC). */
  veth(nsA: string, ifA: string, nsB: string, ifB: string, macB?: string): void {
    this.veths.push(`link add name ${ifA} netns ${nsA} type veth peer name ${ifB} netns ${nsB}${macB ? ` address ${macB}` : ""}`);
    this.in(nsA, `link set ${ifA} up`);
    this.in(nsB, `link set ${ifB} up`);
  }

  bridge(ns: string, name: string, members: readonly string[]): void {
    this.in(ns, `link add ${name} type bridge`, `link set ${name} up`, ...members.map((m) => `link set ${m} master ${name}`));
  }
}

/**
 * The outsider's management address: the management network's last host address, which no plan address may use
 * (the services VM's own address is the services namespace's now).
 */
export function outsiderMgmtIp(plan: Plan): string {
  const net = parseCidr(plan.mgmt.cidr);
  const ip = intToIp(net.base + size(net) - 2);
  const text = JSON.stringify(plan);
  if (text.includes(`"${ip}"`) || text.includes(`"${ip}/`)) throw new Error(`lab: the outsider's management address ${ip} (the last of ${plan.mgmt.cidr}) is a plan address`);
  return ip;
}

/** Creates every namespace, link, address and route, and the marker responders. */
export async function buildTopology(plan: Plan, netns: Netns, procs: Procs, layouts: Record<ServerName, ServerLayout>, logDir: string): Promise<Namespaces> {
  const ns = namespaceNames(netns, plan);
  const cluster = isCluster(plan);
  const extra = cluster ? ["sw", ...plan.nodes.map((n) => nodeRole(plan, n.name)).filter((r) => r !== "host")] : [];
  await netns.addMany(["wan", "host", "x", "atk", "svc", "ux", ...extra, ...plan.servers.map((s) => s.name), ...plan.tenants.flatMap((t) => [`lr${t.slot}`, `c${t.slot}`])]);
  const b = new Batches();
  for (const n of netns.created) b.in(n, "link set lo up");
  // Where each VM's NICs plug in: its node (one node: the host). Ports per node's public and management bridge.
  const at = (node: string) => ns.nodes[node] ?? ns.host;
  const publicOf = new Map<string, string[]>(plan.nodes.map((n) => [at(n.name), []]));
  const mgmtOf = new Map<string, string[]>(plan.nodes.map((n) => [at(n.name), []]));
  const port = (m: Map<string, string[]>, where: string, name: string) => m.get(where)!.push(name);

  // The host's public bridge (vmbr0): the wan's uplink, both VPN servers' public interfaces, the services VM, every
  // tenant router's WAN NIC and the unknown VM. No address on it: the host only bridges there.
  const pub = plan.publicPools[0];
  const mgmtBridge = plan.bridges.management;
  if (cluster) {
    // The switches: the wan's uplink and every node's public bridge on `pub`, every node's management bridge on `mgmt`.
    const sw = ns.sw!;
    b.veth(ns.wan, UPLINK.wan, sw, UPLINK.host);
    const pubPorts = [UPLINK.host];
    const mgmtPorts: string[] = [];
    for (const n of plan.nodes) {
      b.veth(sw, `p-${n.name}`, at(n.name), SWITCH.nodeUpPublic);
      b.veth(sw, `m-${n.name}`, at(n.name), SWITCH.nodeUpMgmt);
      port(publicOf, at(n.name), SWITCH.nodeUpPublic);
      port(mgmtOf, at(n.name), SWITCH.nodeUpMgmt);
      pubPorts.push(`p-${n.name}`);
      mgmtPorts.push(`m-${n.name}`);
    }
    b.bridge(sw, SWITCH.pub, pubPorts);
    b.bridge(sw, SWITCH.mgmt, mgmtPorts);
  } else {
    b.veth(ns.wan, UPLINK.wan, ns.host, UPLINK.host);
    port(publicOf, ns.host, UPLINK.host);
  }
  for (const s of plan.servers) port(publicOf, at(s.node), `p-${s.name}`);
  for (const p of plan.publicPools) b.in(ns.wan, `addr add ${p.gateway}/${p.prefix} dev ${UPLINK.wan}`);
  for (const s of plan.servers) b.veth(at(s.node), `p-${s.name}`, ns[s.name], layouts[s.name].ifaces.public);
  const svcNode = at(plan.services.node);
  b.veth(svcNode, "p-svc", ns.svc, "eth0");
  b.in(ns.svc, `addr add ${plan.services.publicIp}/${pub.prefix} dev eth0`, `route add default via ${pub.gateway}`);
  // The unknown VM and the outsider's management NIC on the API node.
  b.veth(ns.host, "p-ux", ns.ux, ROUTER_WAN, UNKNOWN_MAC);
  port(publicOf, svcNode, "p-svc");
  port(publicOf, ns.host, "p-ux");
  b.in(ns.wan, `addr add ${MARKER_IP}/32 dev lo`);

  // Management network: each node's bridge with its mgmt IP; each VPN server's mgmt interface on its node's, the
  // services VM (the ban grid's LAPI listens there), and the outsider.
  for (const s of plan.servers) b.veth(at(s.node), `m-${s.name}`, ns[s.name], layouts[s.name].ifaces.mgmt);
  b.veth(svcNode, "m-svc", ns.svc, "mgmt");
  b.veth(ns.host, "m-x", ns.x, "mgmt");
  for (const s of plan.servers) port(mgmtOf, at(s.node), `m-${s.name}`);
  port(mgmtOf, svcNode, "m-svc");
  port(mgmtOf, ns.host, "m-x");
  // Ports in the one-host lab's order (uplinks first).
  for (const [where, ports] of mgmtOf) b.bridge(where, mgmtBridge, ports.sort((a, c) => Number(c.startsWith("up-")) - Number(a.startsWith("up-"))));
  for (const n of plan.nodes) b.in(at(n.name), `addr add ${cluster ? n.mgmtIp : plan.host.mgmtIp}/${plan.mgmt.prefix} dev ${mgmtBridge}`);
  b.in(ns.svc, `addr add ${plan.services.mgmtIp}/${plan.mgmt.prefix} dev mgmt`);
  b.in(ns.x, `addr add ${outsiderMgmtIp(plan)}/${plan.mgmt.prefix} dev mgmt`);

  for (const s of plan.servers) {
    const l = layouts[s.name].ifaces;
    // Under SDN the server has no trunk NIC (its tenant links are vxlan devices over the management NIC).
    if (!plan.sdn) b.in(ns[s.name], ...labTrunkLines(s.name));
    b.in(ns[s.name], `addr add ${s.publicIp}/${pub.prefix} dev ${l.public}`, `route add default via ${pub.gateway}`, `addr add ${s.mgmtIp}/${plan.mgmt.prefix} dev ${l.mgmt}`);
  }

  for (const t of plan.tenants) {
    const lr = ns.lr[t.key];
    const c = ns.c[t.key];
    if (cluster) {
      // LibreRouter: its one LAN NIC on its node's vnet bridge; the VPN servers reach it over VXLAN.
      const v = vnetNames(t);
      b.veth(at(t.node), v.port, lr, ROUTER_VNET_NIC);
      b.in(at(t.node), `link set ${v.port} mtu ${plan.sdn!.mtu}`);
      b.in(lr, `link set ${ROUTER_VNET_NIC} mtu ${plan.sdn!.mtu}`);
      b.bridge(lr, "br0", [ROUTER_VNET_NIC]);
    } else {
      // LibreRouter: one L2 segment (the tenant's VLAN) shared with both VPN servers.
      for (const s of plan.servers) b.veth(ns[s.name], t.link, lr, `v-${s.name}`);
      b.bridge(lr, "br0", plan.servers.map((s) => `v-${s.name}`));
    }
    b.in(lr, `addr add ${t.routerIp}/${t.privateCidr.split("/")[1]} dev br0`, `addr add ${MARKER_IP}/32 dev lo`);
    // Its WAN NIC on its node's public bridge: cloud-init's address and gateway in distinct mode, DHCP later in fixed mode.
    b.veth(at(t.node), `r${t.slot}`, lr, ROUTER_WAN, t.publicMac);
    port(publicOf, at(t.node), `r${t.slot}`);
    if (plan.tenantNetwork.mode === "distinct") b.in(lr, `addr add ${t.publicIp}/${t.publicPrefix} dev ${ROUTER_WAN}`, `route add default via ${t.publicGateway}`);
    // End-user client behind the wan.
    const cn = clientNet(t.slot);
    b.veth(ns.wan, `c${t.slot}`, c, "eth0");
    b.in(ns.wan, `addr add ${cn.gw}/${cn.prefix} dev c${t.slot}`);
    b.in(c, `addr add ${cn.ip}/${cn.prefix} dev eth0`, `route add default via ${cn.gw}`);
  }

  for (const [where, ports] of publicOf) b.bridge(where, plan.bridges.public, ports);
  // Every vnet on every node (after the management bridge: the vxlan devices ride it), with its flood entries.
  const fdb = new Map<string, string[]>();
  if (cluster) {
    for (const n of plan.nodes) {
      const v = vnetLines(plan, n, mgmtBridge);
      b.in(at(n.name), ...v.ip);
      fdb.set(at(n.name), v.fdb);
    }
    for (const t of plan.tenants) b.in(at(t.node), `link set ${vnetNames(t).port} master ${vnetNames(t).bridge}`);
  }

  // The outsider and the attacker sit behind the wan like any client; the attacker's pool is routed to it.
  b.veth(ns.wan, "x", ns.x, "eth0");
  b.in(ns.wan, `addr add ${OUTSIDER.gw}/${OUTSIDER.prefix} dev x`);
  b.in(ns.x, `addr add ${OUTSIDER.ip}/${OUTSIDER.prefix} dev eth0`, `route add default via ${OUTSIDER.gw}`);
  b.veth(ns.wan, "atk", ns.atk, "eth0");
  b.in(ns.wan, `addr add ${ATTACKER.gw}/${ATTACKER.prefix} dev atk`, `route add ${ATTACKER.pool} via ${ATTACKER.ip}`);
  b.in(ns.atk, `addr add ${ATTACKER.ip}/${ATTACKER.prefix} dev eth0`, `route add default via ${ATTACKER.gw}`);

  await netns.batch(undefined, b.veths);
  await Promise.all([...b.perNs].map(([n, lines]) => netns.batch(n, lines)));
  await Promise.all([...fdb].map(([n, lines]) => must(["bridge", "-n", n, "-batch", "-"], { input: lines.join("\n") + "\n" })));
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
