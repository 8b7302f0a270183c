/**
 * A tenant's LAN per `tenantNetwork.mode`: `distinct`, the slot's /24 of network.tenantPrivate (router .1, vpn1 .2,
 * vpn2 .3); `fixed`, the same `tenantNetwork.lan` for every tenant. And the checks each mode needs. Pure.
 */
import type { StackConfig } from "../config/schema";
import { contains, formatCidr, intToIp, ipToInt, overlaps, parseCidr, size } from "../lib/ipv4";
import * as alloc from "./alloc";
import type { Err } from "./tenant-seeds";

export interface TenantLan {
  readonly cidr: string;
  readonly router: string;
  /** vpn1's and vpn2's addresses on it. */
  readonly vpnIps: readonly [string, string];
}

export function tenantLan(cfg: StackConfig, slot: number): TenantLan {
  if (cfg.tenantNetwork.mode === "fixed") return cfg.tenantNetwork.lan;
  const priv = alloc.privateNet(cfg, slot);
  return { cidr: formatCidr(priv), router: intToIp(priv.base + 1), vpnIps: [intToIp(priv.base + 2), intToIp(priv.base + 3)] };
}

/**
 * fixed mode: the LAN holds its three addresses (distinct host addresses), and is outside every block the VPN
 * servers route in `main` (management, tunnels, public pools): there it lives only in the tenants' own tables.
 */
export function checkFixedLan(cfg: StackConfig, err: Err): void {
  if (cfg.tenantNetwork.mode !== "fixed") return;
  const { lan } = cfg.tenantNetwork;
  const c = parseCidr(lan.cidr);
  if (c.prefix < 16 || c.prefix > 29) {
    err("tenantNetwork.lan.cidr", `got "${lan.cidr}"; must be a /16 to /29 (the appliance's LAN, e.g. 10.0.0.0/24)`);
    return;
  }
  const named: [string, string][] = [
    ["tenantNetwork.lan.router", lan.router],
    ["tenantNetwork.lan.vpnIps.0", lan.vpnIps[0]],
    ["tenantNetwork.lan.vpnIps.1", lan.vpnIps[1]],
  ];
  const seen = new Map<string, string>();
  for (const [k, ip] of named) {
    const n = ipToInt(ip);
    if (!contains(c, n) || n === c.base || n === c.base + size(c) - 1) err(k, `got "${ip}"; must be a host address inside tenantNetwork.lan.cidr ${lan.cidr}`);
    else if (seen.has(ip)) err(k, `got "${ip}"; already ${seen.get(ip)}; the router and the two VPN servers each need their own address`);
    seen.set(ip, k);
  }
  const net = cfg.network;
  const blocks: [string, string][] = [
    ["network.management.cidr", net.management.cidr],
    ["network.tunnelSupernet", net.tunnelSupernet],
    ...net.publicPools.map((p, i): [string, string] => [`network.publicPools.${i}.cidr`, p.cidr]),
  ];
  for (const [k, b] of blocks) {
    if (overlaps(c, parseCidr(b))) err("tenantNetwork.lan.cidr", `got "${lan.cidr}"; overlaps ${k} ${b}; the VPN servers route that block themselves, so move ${k} (the tenants' LAN is the image's own)`);
  }
}
