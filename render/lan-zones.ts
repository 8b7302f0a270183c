/**
 * The nftables table that lets every tenant keep the appliance's own LAN (the same `10.0.0.0/24`, router `.1`,
 * behind every tenant link) without two tenants ever sharing connection-tracking state (issue 10, `fixed` mode):
 * - a conntrack zone per tenant: packets from a tunnel towards the LAN take the zone of their source tunnel IP,
 *   packets from a tenant link the zone of the link. Masquerade to the server's LAN address then keeps each
 *   tenant's reply tuples apart, and a router that forges a reply for another tenant's flow hits nothing in its
 *   own zone. Console DNAT flows (to the gateway, not the LAN) stay in zone 0, so their replies from the
 *   management side still match;
 * - isolation keyed on the link: a tenant link may only reach its own tenant's tunnel IPs (with one address on
 *   every link, strict rp_filter cannot tell links apart).
 * Both are O(1) map/set lookups (a tenant is three elements, added and removed without touching the others),
 * so the per-packet cost does not grow with the tenants. Zone = the tenant's slot (1…65535; 0 is the default
 * zone). Pure text, no `@pulumi/*`; not yet wired into lr-dataplane.
 */
import { isCidr, isIpv4 } from "../lib/ipv4";
import type { InstancePlan, TenantPlan } from "../plan/types";

export const LAN_TABLE = "lr_lan";

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

function ifname(n: string): string {
  if (!IFNAME.test(n)) throw new Error(`not an interface name: ${JSON.stringify(n)}`);
  return `"${n}"`;
}

/** The table, its maps and set (empty) and its two chains; `nft -f` loads it whole (delete first: atomic). */
export function renderLanZoneTable(lanCidr: string, instances: readonly InstancePlan[]): string {
  if (!isCidr(lanCidr)) throw new Error(`not a CIDR: ${JSON.stringify(lanCidr)}`);
  const tuns = [...new Set(instances.map((i) => i.dev))].map(ifname).join(", ");
  return `table ip ${LAN_TABLE} {
  map link_zone { typeof iifname : ct zone; }
  map tun_zone { typeof ip saddr : ct zone; }
  set link_tun { typeof iifname . ip daddr; }
  set links { typeof iifname; }
  chain zones {
    type filter hook prerouting priority raw; policy accept;
    iifname { ${tuns} } ip daddr ${lanCidr} ct zone set ip saddr map @tun_zone
    ct zone set iifname map @link_zone
  }
  chain isolate {
    type filter hook forward priority filter - 1; policy accept;
    iifname @links iifname . ip daddr != @link_tun drop
  }
}
`;
}

/** `nft` commands that add (or, with `del`, remove) one tenant's elements. */
export function lanZoneElements(t: TenantPlan, op: "add" | "delete"): string[] {
  if (!Number.isInteger(t.slot) || t.slot < 1 || t.slot > 65535) throw new Error(`tenant ${t.key}: slot ${t.slot} is no conntrack zone`);
  const tuns = Object.values(t.tunnelIps);
  for (const ip of tuns) if (!isIpv4(ip)) throw new Error(`tenant ${t.key}: not an IPv4 address: ${ip}`);
  const link = ifname(t.link);
  const kv = (k: string) => (op === "add" ? `${k} : ${t.slot}` : k);
  return [
    `${op} element ip ${LAN_TABLE} links { ${link} }`,
    `${op} element ip ${LAN_TABLE} link_zone { ${kv(link)} }`,
    `${op} element ip ${LAN_TABLE} tun_zone { ${tuns.map(kv).join(", ")} }`,
    `${op} element ip ${LAN_TABLE} link_tun { ${tuns.map((ip) => `${link} . ${ip}`).join(", ")} }`,
  ];
}
