/**
 * `npm run lab -- --hosts 2`: the cluster's part of the lab, derived from the plan (plan.nodes, plan.sdn):
 *   sw    — the physical switches between the nodes: `pub` (the nodes' public bridges and the wan's uplink) and
 *           `mgmt` (the nodes' management bridges). No address, nothing but bridging.
 *   host  — node hostA (the API node: plan.host), hostB — node hostB: each with its public bridge and management
 *           bridge (its mgmt IP on it) uplinked to the switch, and per tenant network Proxmox's VXLAN zone layout:
 *           bridge `lr<slot>` with `vxlan_lr<slot>` in it (id = the tenant's VNI, local = the node's mgmt IP, dstport
 *           sdn.port, head-end replication: an all-zero FDB entry per other peer, as ifupdown2's vxlan-remoteip).
 * Each VM sits on its own node: a VPN server's public and management NICs on its node's bridges, a tenant router's
 * WAN NIC on its node's public bridge and its LAN NIC (the vnet) in its node's `lr<slot>`. The VPN servers' tenant
 * links are the rendered data plane's own vxlan devices `vx<slot>` (nothing pre-created). Pure planning here; the
 * topology (./topology.ts) turns it into ip lines.
 */
import type { Plan, TenantPlan } from "../plan/types";
import { type NodePlan, nodeView as planNodeView } from "../plan/cluster";

/** The switch namespace's bridges, and the port names on each side of a node's uplinks. */
export const SWITCH = { pub: "pub", mgmt: "mgmt", nodeUpPublic: "up-sw", nodeUpMgmt: "up-mgmt" } as const;
/** A tenant router's LAN NIC in the cluster lab (one NIC on its node's vnet bridge, in the router's br0). */
export const ROUTER_VNET_NIC = "v-node";

/** Namespace role of node `name`: the API node keeps the one-host lab's `host` (every host check acts there). */
export function nodeRole(plan: Plan, name: string): string {
  return name === plan.host.node ? "host" : name;
}

export function nodeOf(plan: Plan, name: string): NodePlan {
  return plan.nodes.find((n) => n.name === name) ?? fail(`lab: no node ${JSON.stringify(name)} in plan.nodes (${plan.nodes.map((n) => n.name).join(", ")})`);
}

/** The management address of the node tenant `t` runs on (its QEMU's VNC and serial0 live there). */
export function tenantNodeIp(plan: Plan, t: TenantPlan): string {
  return nodeOf(plan, t.node).mgmtIp;
}

/**
 * The plan as node `name` renders its own host files: plan.host is that node (its mgmt IP is where its QEMUs listen,
 * what its console firewall guards and its serial bridge binds). The API node's view is the plan itself.
 */
export function nodeView(plan: Plan, name: string): Plan {
  nodeOf(plan, name); // the lab's own refusal for a node it does not run
  return planNodeView(plan, name);
}

/** Whether the lab runs more than one node. */
export function isCluster(plan: Plan): boolean {
  return plan.nodes.length > 1;
}

/** Host-side interface names of a tenant's vnet on a node: Proxmox's bridge and vxlan device, and the router's port. */
export function vnetNames(t: TenantPlan): { bridge: string; vxlan: string; port: string } {
  const vnet = t.sdn?.vnet ?? fail(`lab: tenant ${t.key} has no sdn vnet (plan.sdn is not set)`);
  return { bridge: vnet, vxlan: `vxlan_${vnet}`, port: `t${t.slot}` };
}

/**
 * ip -batch lines on node `node` for every tenant's vnet (Proxmox makes every vnet of the zone on every node), and
 * the `bridge -batch` lines of their flood entries: one all-zero FDB entry per other peer of the zone.
 */
export function vnetLines(plan: Plan, node: NodePlan, mgmtBridge: string): { ip: string[]; fdb: string[] } {
  const sdn = plan.sdn ?? fail("lab: --hosts 2 needs plan.sdn (sdn.kind vxlan)");
  const others = [...new Set(sdn.peers.filter((p) => p !== node.mgmtIp))];
  const ip: string[] = [];
  const fdb: string[] = [];
  for (const t of plan.tenants) {
    const v = vnetNames(t);
    const vni = t.sdn?.vni ?? fail(`lab: tenant ${t.key} has no VNI`);
    ip.push(
      `link add ${v.vxlan} mtu ${sdn.mtu} type vxlan id ${vni} local ${node.mgmtIp} dstport ${sdn.port} dev ${mgmtBridge}`,
      `link add ${v.bridge} mtu ${sdn.mtu} type bridge`,
      `link set ${v.vxlan} master ${v.bridge}`,
      `link set ${v.vxlan} up`,
      `link set ${v.bridge} up`,
    );
    for (const p of others) fdb.push(`fdb append 00:00:00:00:00:00 dev ${v.vxlan} dst ${p}`);
  }
  return { ip, fdb };
}

function fail(msg: string): never {
  throw new Error(msg);
}
