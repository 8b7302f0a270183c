/** The tenants a config declares (named plus numbered) and the public address each gets, with the checks on both. */
import type { StackConfig } from "../config/schema";
import { notPublicReason } from "./address-checks";
import * as alloc from "./alloc";

/** One declared tenant before it is planned. */
export interface TenantSeed {
  readonly key: string;
  readonly slot: number;
  /** The config key that declares it (`tenants.acme` or `numberedTenants`), for error messages. */
  readonly configKey: string;
  readonly numbered: boolean;
  readonly spec: StackConfig["tenants"][string];
}

export type Err = (key: string, message: string) => void;

/** Named tenants plus the numbered range, with slot and key uniqueness checked. */
export function expandTenants(cfg: StackConfig, err: Err): TenantSeed[] {
  const seeds: TenantSeed[] = [];
  const bySlot = new Map<number, TenantSeed>();
  const n = cfg.numberedTenants;
  const excluded = new Set(n?.exclude ?? []);
  if (n) {
    const last = n.firstSlot + n.count - 1;
    n.exclude.forEach((s, i) => {
      if (s < n.firstSlot || s > last) err(`numberedTenants.exclude.${i}`, `got ${s}; not in the numbered range ${n.firstSlot}–${last}; remove it`);
    });
    for (let slot = n.firstSlot; slot <= last; slot++) {
      if (excluded.has(slot)) continue;
      const seed = { key: `${n.prefix}${slot}`, slot, configKey: "numberedTenants", numbered: true, spec: { slot } };
      seeds.push(seed);
      bySlot.set(slot, seed);
    }
  }
  const numberedKeys = new Set(seeds.map((s) => s.key));
  // Slot order, so which of two tenants is blamed for a shared slot does not depend on the map's order.
  const named = Object.entries(cfg.tenants).sort(([a, x], [b, y]) => x.slot - y.slot || (a < b ? -1 : 1));
  for (const [key, spec] of named) {
    const configKey = `tenants.${key}`;
    if (numberedKeys.has(key)) {
      err(configKey, `key "${key}" is also a numbered tenant (numberedTenants.prefix "${n?.prefix}"); rename the tenant or change the prefix`);
      continue;
    }
    const prior = bySlot.get(spec.slot);
    if (prior) {
      const hint = prior.numbered ? `; add ${spec.slot} to numberedTenants.exclude to hand the slot over, or pick a free slot` : "; every tenant needs its own slot, pick a free one";
      err(`${configKey}.slot`, `got ${spec.slot}; slot already used by tenant "${prior.key}"${hint}`);
      continue;
    }
    const seed = { key, slot: spec.slot, configKey, numbered: false, spec };
    seeds.push(seed);
    bySlot.set(spec.slot, seed);
  }
  return seeds;
}

/** Public address per tenant key: slot s takes the s-th free pool address unless `publicIp` is set. */
export function assignPublicIps(cfg: StackConfig, seeds: readonly TenantSeed[], pub: alloc.PublicAddressing, err: Err): Map<string, string> {
  const owner = new Map<string, string>();
  const infraOwners = [
    [pub.infra.host, "the Proxmox host (network.infraPublicIps.host)"],
    [pub.infra.vpn1, "VPN server vpn1 (network.infraPublicIps.vpn1)"],
    [pub.infra.vpn2, "VPN server vpn2 (network.infraPublicIps.vpn2)"],
    [pub.infra.services, "the common services VM (network.infraPublicIps.services)"],
  ] as const;
  for (const [ip, who] of infraOwners) if (ip !== undefined) owner.set(ip, who);
  const ips = new Map<string, string>();
  const homeless: TenantSeed[] = [];
  for (const t of seeds) {
    if (t.spec.publicIp) continue;
    const ip = pub.tenantAddresses[t.slot - 1];
    if (!ip) homeless.push(t);
    else {
      ips.set(t.key, ip);
      owner.set(ip, `tenant "${t.key}"`);
    }
  }
  // Overrides are checked after every default and in slot order, so the override is blamed whatever the map order.
  for (const t of seeds.filter((s) => s.spec.publicIp).sort((a, b) => a.slot - b.slot)) {
    const ip = t.spec.publicIp;
    if (ip === undefined) continue;
    const key = `${t.configKey}.publicIp`;
    const special = notPublicReason(ip);
    const why = alloc.unusableReason(cfg, ip);
    if (special) err(key, `got "${ip}"; ${special}; pick a free address of network.publicPools`);
    else if (why) err(key, `got "${ip}"; ${why}; pick a free address of network.publicPools`);
    else if (owner.has(ip)) err(key, `got "${ip}"; already used by ${owner.get(ip)}; give tenant "${t.key}" another address`);
    owner.set(ip, `tenant "${t.key}"`);
    ips.set(t.key, ip);
  }
  if (homeless.length) {
    const n = pub.tenantAddresses.length;
    const list = homeless.slice(0, 5).map((t) => `"${t.key}" (slot ${t.slot})`).join(", ") + (homeless.length > 5 ? ` and ${homeless.length - 5} more` : "");
    const one = homeless.length === 1;
    err(
      "network.publicPools",
      `${pub.usable.length} usable addresses in ${cfg.network.publicPools.map((p) => p.cidr).join(", ")} leave ${n} for tenants after the host, the 2 VPN servers and the common services, so ${n > 1 ? `only slots 1–${n} get one` : n === 1 ? "only slot 1 gets one" : "no slot gets one"}; tenant${one ? "" : "s"} ${list} ${one ? "has" : "have"} none; add a pool to network.publicPools or set publicIp on named tenants`,
    );
  }
  return ips;
}
