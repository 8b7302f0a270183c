/** Per-slot allocation rules. Each is a pure function of config and slot only, so adding
 * or removing one tenant can never move another. */
import { VNI_MAX } from "../config/cluster-schema";
import type { StackConfig } from "../config/schema";
import { Cidr, contains, formatCidr, intToIp, ipToInt, netmask, parseCidr, size, subnet } from "../lib/ipv4";
import { INSTANCE_IDS, InstanceId, InstancePlan, Proto, ServerName } from "./types";

/** Linux reserves table ids 0 and 253–255 (unspec, default, main, local). */
export const RESERVED_TABLES = new Set([0, 253, 254, 255]);

export function privateNet(cfg: StackConfig, slot: number): Cidr {
  return subnet(parseCidr(cfg.network.tenantPrivate), 24, slot);
}

export function privateSlots(cfg: StackConfig): number {
  return size(parseCidr(cfg.network.tenantPrivate)) / 256;
}

/** The 4 instance pools: the tunnel supernet split in four equal blocks. */
export function instancePool(cfg: StackConfig, index: number): Cidr {
  const sup = parseCidr(cfg.network.tunnelSupernet);
  return subnet(sup, sup.prefix + 2, index);
}

/** Tenant s gets pool base + 1 + s (the server has base + 1). Largest usable slot: */
export function maxTunnelSlot(cfg: StackConfig): number {
  return size(instancePool(cfg, 0)) - 3;
}

export function tunnelIp(cfg: StackConfig, instance: number, slot: number): string {
  return intToIp(instancePool(cfg, instance).base + 1 + slot);
}

export function instances(cfg: StackConfig): InstancePlan[] {
  return INSTANCE_IDS.map((id, index) => {
    const server: ServerName = id.startsWith("vpn1") ? "vpn1" : "vpn2";
    const proto: Proto = id.endsWith("udp") ? "udp" : "tcp";
    const pool = instancePool(cfg, index);
    const tuning = cfg.vpn[proto];
    return {
      id,
      server,
      proto,
      port: proto === "udp" ? cfg.vpn.udpPort : cfg.vpn.tcpPort,
      dev: `tun-${proto}`,
      cidr: formatCidr(pool),
      network: intToIp(pool.base),
      netmask: netmask(pool.prefix),
      prefix: pool.prefix,
      gateway: intToIp(pool.base + 1),
      mtu: tuning.tunMtu,
      mssfix: tuning.mssfix,
    };
  });
}

export function tunnelIps(cfg: StackConfig, slot: number): Record<InstanceId, string> {
  // Indices as in INSTANCE_IDS.
  return { "vpn1-udp": tunnelIp(cfg, 0, slot), "vpn1-tcp": tunnelIp(cfg, 1, slot), "vpn2-udp": tunnelIp(cfg, 2, slot), "vpn2-tcp": tunnelIp(cfg, 3, slot) };
}

export const vmid = (cfg: StackConfig, slot: number): number => cfg.network.vmidBase + slot;
export const vlan = (cfg: StackConfig, slot: number): number => cfg.network.vlanBase + slot;
export const tableId = (cfg: StackConfig, slot: number): number => cfg.network.tableBase + slot;
export const vncDisplay = (cfg: StackConfig, slot: number): number => cfg.network.vncDisplayBase + slot;

/** Ports a tenant console must not take: Proxmox's own VNC proxies (5900–6000), the API, migration. */
export const RESERVED_PORTS: readonly [number, number, string][] = [
  [5900, 6000, "Proxmox's own VNC consoles (5900–6000)"],
  [8006, 8006, "the Proxmox API (8006)"],
  [60000, 60050, "Proxmox live migration (60000–60050)"],
];

/**
 * The highest slot any tenant can ever have under `cfg`: the tightest of the per-slot bounds buildPlan checks
 * (private /24s, tunnel pools, VLAN ids or VXLAN VNIs, VNC ports, VMIDs, the schema's 65535). Resources sized for every slot
 * up to it (the console firewall's port ranges, the VLAN trunk) never change when a tenant comes or goes.
 */
export function maxSlot(cfg: StackConfig): number {
  const net = cfg.network;
  const linkIds = cfg.sdn.kind === "vxlan" ? VNI_MAX - cfg.sdn.vniBase : 4094 - net.vlanBase;
  return Math.min(65535, privateSlots(cfg) - 1, maxTunnelSlot(cfg), linkIds, 65535 - 5900 - net.vncDisplayBase, 999_999_999 - net.vmidBase);
}

/**
 * Every port a tenant console can ever take under `cfg`, as inclusive ranges: 5900 + vncDisplayBase + 1 …
 * 5900 + vncDisplayBase + maxSlot, without the reserved ports (buildPlan refuses a slot that lands on one).
 */
export function consolePortRanges(cfg: StackConfig): { lo: number; hi: number }[] {
  let ranges = [{ lo: 5900 + cfg.network.vncDisplayBase + 1, hi: 5900 + cfg.network.vncDisplayBase + maxSlot(cfg) }];
  for (const [rlo, rhi] of RESERVED_PORTS) {
    ranges = ranges.flatMap((r) => [{ lo: r.lo, hi: Math.min(r.hi, rlo - 1) }, { lo: Math.max(r.lo, rhi + 1), hi: r.hi }]).filter((r) => r.lo <= r.hi);
  }
  return ranges;
}

export type InfraName = "host" | "vpn1" | "vpn2" | "services";

export interface PublicAddressing {
  /** Host, VPN servers and common services; one is absent when the pools ran out before it (a config error). */
  readonly infra: Readonly<Partial<Record<InfraName, string>>>;
  /** Addresses left for tenants, in order: slot s takes index s - 1. */
  readonly tenantAddresses: readonly string[];
  /** Every usable address in the pools (no network, broadcast, gateway or reserved). */
  readonly usable: readonly string[];
}

/** Usable addresses of the public pools; the infrastructure takes the first four unless set. */
export function publicAddressing(cfg: StackConfig): PublicAddressing {
  const usable: string[] = [];
  for (const pool of cfg.network.publicPools) {
    const c = parseCidr(pool.cidr);
    const skip = new Set([ipToInt(pool.gateway), ...pool.reserved.map(ipToInt)]);
    const first = c.prefix >= 31 ? c.base : c.base + 1;
    const last = c.prefix >= 31 ? c.base + size(c) - 1 : c.base + size(c) - 2;
    for (let a = first; a <= last; a++) if (!skip.has(a)) usable.push(intToIp(a));
  }
  const fixed = cfg.network.infraPublicIps;
  const taken = new Set(Object.values(fixed).filter((v): v is string => !!v));
  const free = usable.filter((a) => !taken.has(a));
  let next = 0;
  const infra: Partial<Record<InfraName, string>> = {};
  for (const name of ["host", "vpn1", "vpn2", "services"] as const) {
    const ip = fixed[name] ?? free[next++];
    if (ip !== undefined) infra[name] = ip;
  }
  const infraSet = new Set(Object.values(infra));
  return { infra, usable, tenantAddresses: usable.filter((a) => !infraSet.has(a)) };
}

/** The pool an address belongs to, if any. */
export function poolOf(cfg: StackConfig, ip: string): StackConfig["network"]["publicPools"][number] | undefined {
  const n = ipToInt(ip);
  return cfg.network.publicPools.find((p) => {
    const c = parseCidr(p.cidr);
    return n >= c.base && n < c.base + size(c);
  });
}

/** Why `ip` cannot be handed out from the public pools, or undefined when it is a usable address. */
export function unusableReason(cfg: StackConfig, ip: string): string | undefined {
  const i = cfg.network.publicPools.findIndex((p) => contains(parseCidr(p.cidr), ipToInt(ip)));
  if (i < 0) return `not inside network.publicPools (${cfg.network.publicPools.map((p) => p.cidr).join(", ")})`;
  const p = cfg.network.publicPools[i];
  const c = parseCidr(p.cidr);
  const n = ipToInt(ip);
  if (ip === p.gateway) return `that is the gateway of network.publicPools.${i} (${p.cidr})`;
  if (c.prefix < 31 && n === c.base) return `that is the network address of network.publicPools.${i} (${p.cidr})`;
  if (c.prefix < 31 && n === c.base + size(c) - 1) return `that is the broadcast address of network.publicPools.${i} (${p.cidr})`;
  if (p.reserved.includes(ip)) return `it is listed in network.publicPools.${i}.reserved`;
  return undefined;
}
