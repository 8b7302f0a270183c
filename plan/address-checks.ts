/**
 * Checks on public addresses and on values that must be unique: special-purpose IPv4 ranges that cannot be used
 * on a public network, pools too large to enumerate, duplicate VPN host names and hardware IDs. Pure.
 *
 * Private (10/8, 172.16/12, 192.168/16) and shared (100.64/10) ranges are allowed in public pools: a host behind
 * a provider's 1:1 NAT, a test network and the data-plane bench (100.64.0.0/20) use them, and they work there.
 * The documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24) are allowed: the example stacks use them.
 */
import type { StackConfig } from "../config/schema";
import { type Cidr, contains, formatCidr, ipToInt, isIpv4, overlaps, parseCidr, size } from "../lib/ipv4";
import type { Err } from "./tenant-seeds";

/** Ranges no public address can come from (RFC 6890), most specific first. */
const NOT_PUBLIC: readonly [Cidr, string][] = (
  [
    ["0.0.0.0/8", '"this network"'],
    ["127.0.0.0/8", "loopback"],
    ["169.254.0.0/16", "link-local"],
    ["224.0.0.0/4", "multicast"],
    ["255.255.255.255/32", "the limited broadcast address"],
    ["240.0.0.0/4", "reserved for future use"],
  ] as const
).map(([c, why]) => [parseCidr(c), why]);

/** Why `ip` cannot be a public address (its special range), or undefined. */
export function notPublicReason(ip: string): string | undefined {
  const n = ipToInt(ip);
  const hit = NOT_PUBLIC.find(([c]) => contains(c, n));
  return hit && `is in ${formatCidr(hit[0])} (${hit[1]}), which cannot be used on a public network`;
}

/** Why the block `cidr` cannot be a public pool (the first special range it overlaps), or undefined. */
function notPublicPoolReason(cidr: string): string | undefined {
  const c = parseCidr(cidr);
  const hit = NOT_PUBLIC.find(([r]) => overlaps(c, r));
  return hit && `overlaps ${formatCidr(hit[0])} (${hit[1]}), which cannot be used on a public network`;
}

/** The largest public pool: a /16 holds more addresses than the 65,535 tenant slots and 4 infrastructure VMs use. */
export const MAX_POOL_PREFIX = 16;
/** At most this many addresses in all pools together (the planner lists every one of them). */
export const MAX_POOL_ADDRESSES = 2 * 65536;

const FIX = "use the addresses your provider routes to this host";

/**
 * The pools' special ranges and sizes. Returns false when a pool is too large to enumerate: the planner must
 * stop before listing its addresses (a /8 took 50 s and gigabytes).
 */
export function checkPublicPools(cfg: StackConfig, err: Err): boolean {
  let bounded = true;
  let total = 0;
  cfg.network.publicPools.forEach((p, i) => {
    const k = `network.publicPools.${i}`;
    const c = parseCidr(p.cidr);
    total += size(c);
    if (c.prefix < MAX_POOL_PREFIX) {
      bounded = false;
      err(`${k}.cidr`, `got "${p.cidr}"; a public pool may be at most a /${MAX_POOL_PREFIX} (65536 addresses, more than the 65535 tenant slots and 4 infrastructure VMs can use); list only the blocks routed to this host, each /${MAX_POOL_PREFIX} or smaller`);
      return;
    }
    const why = notPublicPoolReason(p.cidr);
    if (why) err(`${k}.cidr`, `got "${p.cidr}"; ${why}; ${FIX}`);
    const gw = notPublicReason(p.gateway);
    if (gw) err(`${k}.gateway`, `got "${p.gateway}"; ${gw}; set the gateway your provider gives for ${p.cidr}`);
  });
  if (bounded && total > MAX_POOL_ADDRESSES) {
    bounded = false;
    err("network.publicPools", `the pools hold ${total} addresses in all; at most ${MAX_POOL_ADDRESSES} (two /16) can ever be used (65535 tenant slots and 4 infrastructure VMs); remove pools you do not need`);
  }
  return bounded;
}

/** VPN host names that are IPv4 addresses must be public ones, and the two servers need different names. */
export function checkVpnHostnames(cfg: StackConfig, err: Err): void {
  const names = cfg.vpn.hostnames;
  if (!names) return;
  names.forEach((h, i) => {
    const why = isIpv4(h) ? notPublicReason(h) : undefined;
    if (why) err(`vpn.hostnames.${i}`, `got "${h}"; ${why}; clients dial it, so use vpn${i + 1}'s public name or address`);
  });
  if (names[0] === names[1]) err("vpn.hostnames.1", `got "${names[1]}"; the same as vpn.hostnames.0, so clients have no second server to fail over to; set vpn2's own name, e.g. vpn2.example.net`);
}

/** A hardware ID pins one device to one tenant: two tenants with the same ID are a copy-paste error or a stolen ID. */
export function checkHardwareIds(cfg: StackConfig, err: Err): void {
  const seen = new Map<string, string>();
  for (const [key, t] of Object.entries(cfg.tenants).sort(([, a], [, b]) => a.slot - b.slot)) {
    if (!t.hardwareId) continue;
    const prior = seen.get(t.hardwareId);
    if (prior) err(`tenants.${key}.hardwareId`, `the same ID as tenants.${prior}.hardwareId; each tenant's device has its own ID: run \`lr-connect --print-id\` on tenant "${key}"'s machine and set that`);
    else seen.set(t.hardwareId, key);
  }
}
