/**
 * The cluster part of the plan: the nodes, where each VM runs, the SDN zone that carries the tenants' networks
 * between nodes, the HA settings and the shard stacks. One node (no `nodes` key) is the cluster of one: the API
 * node at network.management.hostIp, no SDN, one stack. Pure.
 */
import { VNI_MAX, VXLAN_OVERHEAD } from "../config/cluster-schema";
import type { StackConfig } from "../config/schema";
import type { Plan } from "./types";
import { contains, ipToInt, parseCidr } from "../lib/ipv4";
import { rendezvousNode } from "./placement";
import { checkShards } from "./shards";
import type { Err } from "./tenant-seeds";

export interface NodePlan {
  readonly name: string;
  /** Management address: the node's API and SSH, and its VXLAN underlay address. */
  readonly mgmtIp: string;
  readonly failureDomain: string;
  /** The node's own figures (cluster stacks); absent on a one-node stack, where sizing takes the stack's `hardware`. */
  readonly hardware?: { readonly ramGb: number; readonly cpuCores: number; readonly threadsPerCore: number };
  /** This node's copies of the LibreRouter and Debian templates. */
  readonly templates: { readonly vmid: number; readonly serverVmid: number };
  /** The node's pinned SSH host key, when given. */
  readonly sshHostKey?: string;
  /** Hashed placement offers the node only tenants from this slot on (a node added to a running cluster). */
  readonly firstSlot?: number;
}

/** A Proxmox SDN VXLAN zone: one vnet (bridge `lr<slot>`, VNI vniBase + slot) per tenant, the VPN servers as VTEPs. */
export interface SdnPlan {
  readonly zone: string;
  readonly vniBase: number;
  /** The vnets' MTU: the underlay's less VXLAN's 50 bytes. */
  readonly mtu: number;
  readonly port: number;
  /** Every VTEP of the zone (Proxmox's `peers`): each node's management address, then vpn1's and vpn2's. */
  readonly peers: readonly string[];
}

export interface HaPlan {
  /** The shared storage the HA-managed VMs' disks live on; absent: no HA resource at all. */
  readonly datastore?: string;
  readonly tenants: boolean;
  readonly replicas: number;
}

export interface ShardsPlan {
  readonly tenantsPerShard: number;
  /** Shards holding at least one tenant, in order. */
  readonly names: readonly string[];
}

/** The nodes as planned; the first is the API node (proxmox.node). */
export function planNodes(cfg: StackConfig): NodePlan[] {
  const api = cfg.proxmox.node;
  const own = { vmid: cfg.template.vmid, serverVmid: cfg.template.serverVmid };
  if (!cfg.nodes.length) {
    return [{ name: api, mgmtIp: cfg.network.management.hostIp, failureDomain: api, templates: own, ...(cfg.proxmox.sshHostKey ? { sshHostKey: cfg.proxmox.sshHostKey } : {}) }];
  }
  const nodes = cfg.nodes.map(
    (n): NodePlan => ({
      name: n.name,
      mgmtIp: n.mgmtIp,
      failureDomain: n.failureDomain ?? n.name,
      ...(n.hardware ? { hardware: n.hardware } : {}),
      // validate refuses a node other than the API node without its own templates.
      templates: n.templates ? { vmid: n.templates.librerouter, serverVmid: n.templates.debian } : own,
      ...(n.sshHostKey ? { sshHostKey: n.sshHostKey } : n.name === api && cfg.proxmox.sshHostKey ? { sshHostKey: cfg.proxmox.sshHostKey } : {}),
      ...(n.firstSlot ? { firstSlot: n.firstSlot } : {}),
    }),
  );
  return [...nodes.filter((n) => n.name === api), ...nodes.filter((n) => n.name !== api)];
}

/** Where vpn1, vpn2 and the services VM run: placement.* or the first, second and third node (wrapping). */
export function infraNodes(cfg: StackConfig): { vpn1: string; vpn2: string; services: string } {
  const names = planNodes(cfg).map((n) => n.name);
  const at = (i: number) => names[i % names.length];
  return { vpn1: cfg.placement.vpn1 ?? at(0), vpn2: cfg.placement.vpn2 ?? at(1), services: cfg.placement.services ?? at(2) };
}

/** A tenant's node: its `node` pin, else rendezvous hashing of its key over the nodes weighted by RAM. */
export function tenantNode(cfg: StackConfig, key: string, slot: number, pin?: string): string {
  if (pin) return pin;
  const nodes = planNodes(cfg);
  if (nodes.length === 1) return nodes[0].name;
  // A node added later (nodes[].firstSlot) takes only tenants added after it: the others keep their node.
  const open = nodes.filter((n) => slot >= (n.firstSlot ?? 1));
  return rendezvousNode(key, open.map((n) => ({ name: n.name, weight: n.hardware?.ramGb ?? 1 })));
}

export function planSdn(cfg: StackConfig): SdnPlan | undefined {
  if (cfg.sdn.kind === "none") return undefined;
  const s = cfg.sdn;
  const peers = [...planNodes(cfg).map((n) => n.mgmtIp), ...cfg.network.management.vpnIps];
  return { zone: s.zone, vniBase: s.vniBase, mtu: s.underlayMtu - VXLAN_OVERHEAD, port: s.port, peers };
}

export const vni = (cfg: StackConfig, slot: number): number | undefined => (cfg.sdn.kind === "vxlan" ? cfg.sdn.vniBase + slot : undefined);
/** Proxmox vnet ids are ≤ 8 letters and digits: `lr` + slot (≤ 65535) fits. */
export const vnetId = (slot: number): string => `lr${slot}`;

/** The shard stack a slot belongs to: s01 holds slots 1…n, s02 n+1…2n (n = shards.tenantsPerShard). */
export function shardOf(cfg: StackConfig, slot: number): string | undefined {
  const n = cfg.shards.tenantsPerShard;
  return n === undefined ? undefined : `s${String(Math.ceil(slot / n)).padStart(2, "0")}`;
}

export function planHa(cfg: StackConfig): HaPlan {
  return { ...(cfg.ha.datastore ? { datastore: cfg.ha.datastore } : {}), tenants: cfg.ha.tenants, replicas: cfg.ha.replicas };
}

/** Cross-field checks of nodes, placement, sdn and ha. `tenants`: each tenant's key and `node` pin. */
export function checkCluster(cfg: StackConfig, tenants: readonly { key: string; slot: number; node?: string }[], err: Err): void {
  const nodes = cfg.nodes.length ? cfg.nodes : undefined;
  const api = cfg.proxmox.node;
  const mgmt = parseCidr(cfg.network.management.cidr);
  const names = new Set((nodes ?? []).map((n) => n.name));
  const known = nodes ? [...names].join(", ") : api;
  const exists = (n: string) => (nodes ? names.has(n) : n === api);
  // The machines' names label every metric (plan/monitoring.ts): a node may not share one with an infrastructure VM.
  const RESERVED = ["vpn1", "vpn2", "services"];
  if (!nodes && RESERVED.includes(api)) err("proxmox.node", `got "${api}"; a node may not be called ${RESERVED.join(", ")} (the monitoring names the VMs so); rename the node`);
  if (nodes) {
    nodes.forEach((n, i) => RESERVED.includes(n.name) && err(`nodes.${i}.name`, `got "${n.name}"; a node may not be called ${RESERVED.join(", ")} (the monitoring names the VMs so); rename the node`));
    const seenName = new Set<string>();
    const seenIp = new Map<string, string>();
    const infraIps = new Set([...cfg.network.management.vpnIps, cfg.network.management.servicesIp]);
    nodes.forEach((n, i) => {
      const k = `nodes.${i}`;
      if (seenName.has(n.name)) err(`${k}.name`, `got "${n.name}" twice; every node is listed once`);
      seenName.add(n.name);
      const ip = ipToInt(n.mgmtIp);
      if (!contains(mgmt, ip)) err(`${k}.mgmtIp`, `got "${n.mgmtIp}"; must be inside network.management.cidr ${cfg.network.management.cidr} (the VXLAN underlay and the nodes' API)`);
      else if (seenIp.has(n.mgmtIp)) err(`${k}.mgmtIp`, `got "${n.mgmtIp}"; already used by ${seenIp.get(n.mgmtIp)}; every node needs its own management address`);
      else if (infraIps.has(n.mgmtIp)) err(`${k}.mgmtIp`, `got "${n.mgmtIp}"; it is a VPN server's or the services VM's management address (network.management)`);
      seenIp.set(n.mgmtIp, k);
      if (n.name === api && n.mgmtIp !== cfg.network.management.hostIp) {
        err(`${k}.mgmtIp`, `got "${n.mgmtIp}"; the API node ${api} (proxmox.node) is at network.management.hostIp ${cfg.network.management.hostIp}: make them the same`);
      }
      if (n.firstSlot !== undefined && n.name === api) err(`${k}.firstSlot`, `is set on the API node ${api}; it is for a node added to a running cluster, and the API node takes every tenant: remove it`);
      if (nodes.length > 1 && !n.hardware) err(`${k}.hardware`, `is required with two or more nodes (placement and the capacity check weigh each node): add { ramGb, cpuCores }`);
      if (nodes.length > 1 && n.name !== api && !n.templates) {
        err(`${k}.templates`, `is required for a node other than the API node: give the VMIDs of its copies of the templates, e.g. { librerouter: ${cfg.template.vmid + 10 * (i + 1)}, debian: ${cfg.template.serverVmid + 10 * (i + 1)} } (a clone comes from a template on its own node)`);
      }
    });
    if (!names.has(api)) err("nodes", `does not list the API node ${api} (proxmox.node); add it, or set proxmox.node to one of ${known}`);
    if (nodes.length > 1 && cfg.sdn.kind !== "vxlan") err("sdn.kind", "must be vxlan with two or more nodes: the tenants' networks must reach the VPN servers from every node; set sdn: { kind: vxlan } (the other defaults fit)");
  }
  for (const [vm, node] of Object.entries(cfg.placement)) {
    if (node !== undefined && !exists(node)) err(`placement.${vm}`, `got "${node}"; not a node of this stack (${known})`);
  }
  const place = infraNodes(cfg);
  const domain = (n: string) => nodes?.find((x) => x.name === n)?.failureDomain ?? n;
  const domains = new Set((nodes ?? []).map((n) => n.failureDomain ?? n.name));
  if (nodes && nodes.length > 1 && exists(place.vpn1) && exists(place.vpn2)) {
    if (place.vpn1 === place.vpn2) err("placement", `vpn1 and vpn2 both run on ${place.vpn1}: one node failure would take every tenant down; put them on different nodes`);
    else if (domains.size > 1 && domain(place.vpn1) === domain(place.vpn2)) {
      err("placement", `vpn1 (${place.vpn1}) and vpn2 (${place.vpn2}) share failure domain ${domain(place.vpn1)}; put them in different ones`);
    }
  }
  for (const t of tenants) {
    if (t.node !== undefined && !exists(t.node)) err(`tenants.${t.key}.node`, `got "${t.node}"; not a node of this stack (${known})`);
  }
  if (cfg.sdn.kind === "vxlan") {
    const top = Math.max(0, ...tenants.map((t) => t.slot));
    if (cfg.sdn.vniBase + top > VNI_MAX) err("sdn.vniBase", `VNI sdn.vniBase + slot = ${cfg.sdn.vniBase + top} (slot ${top}) is above VXLAN's ${VNI_MAX}; lower sdn.vniBase (now ${cfg.sdn.vniBase})`);
    const mtu = cfg.sdn.underlayMtu - VXLAN_OVERHEAD;
    if (mtu < 1280) err("sdn.underlayMtu", `leaves the tenants' networks ${mtu} bytes, below IPv6's minimum 1280; raise the underlay's MTU`);
    // bpg's VXLAN zone has no vxlan-port input (fwprovider/cluster/sdn/zone/resource_vxlan.go): Proxmox's nodes use 4789.
    if (cfg.sdn.port !== 4789) err("sdn.port", `got ${cfg.sdn.port}; the Proxmox provider cannot set the zone's VXLAN port, so the nodes use 4789: set sdn.port to 4789`);
  }
  checkShards(cfg, tenants.map((t) => t.slot), err);
  if (cfg.ha.tenants && !cfg.ha.datastore) err("ha.tenants", "needs ha.datastore (a shared storage such as a Ceph RBD pool): a router on a local disk cannot restart on another node");
}

/**
 * The plan as seen from `node`: `host.node` and `host.mgmtIp` are that node's (the console firewall, the serial bridge
 * and a tenant's VNC listener render from them); `host.publicIp` stays the API node's, the only one the config knows.
 * The API node's view is the plan itself.
 */
export function nodeView(plan: Plan, node: string): Plan {
  if (node === plan.host.node) return plan;
  const n = plan.nodes.find((x) => x.name === node);
  if (!n) throw new Error(`node ${node} is not in the plan's nodes (${plan.nodes.map((x) => x.name).join(", ")})`);
  return { ...plan, host: { ...plan.host, node: n.name, mgmtIp: n.mgmtIp } };
}
