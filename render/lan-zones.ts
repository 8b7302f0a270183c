/**
 * The nftables table that lets every tenant keep the appliance's own LAN (the same `10.0.0.0/24`, router `.1`,
 * behind every tenant link) without two tenants ever sharing connection-tracking state (issue 10, `fixed` mode):
 * - a conntrack zone per tenant: packets from a tunnel take the zone of their source tunnel IP (whatever they go
 *   to through the tenant's router, the LAN or beyond), packets from a tenant link the zone of the link.
 *   Masquerade to the server's LAN address then keeps each tenant's reply tuples apart, and a router that forges
 *   a reply for another tenant's flow hits nothing in its own zone. Console DNAT flows (to the server's tunnel
 *   gateways) stay in zone 0, so their replies from the management side still match. The zone is set before
 *   defragmentation (priority -450 < -400), so fragments are reassembled per tenant too;
 * - isolation keyed on the link: a tenant link may only reach its own tenant's tunnel IPs (with one address on
 *   every link, strict rp_filter cannot tell links apart);
 * - a guard on the server's own output: the LAN has no route in `main` (it lives only in the tenants' tables), so
 *   a packet the server itself sends to it (an echo reply, an ICMP error) cannot know its link and would leave by
 *   the default route; it is dropped instead.
 * Lookups are O(1) map/set lookups (a tenant is six elements, added and removed without touching the others),
 * so the per-packet cost does not grow with the tenants. Zone = the tenant's slot (1…65535; 0 is the default
 * zone). Wired into `lr-dataplane` (render/dataplane.ts renders the table into the tool; lr-dataplane.sh loads it
 * whole on base/apply-all and edits one tenant's elements on apply/delete). Pure text, no `@pulumi/*`.
 */
import { isCidr, isIpv4 } from "../lib/ipv4";
import type { InstancePlan, ServerPlan, TenantPlan } from "../plan/types";

export const LAN_TABLE = "lr_lan";

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

function ifname(n: string): string {
  if (!IFNAME.test(n)) throw new Error(`not an interface name: ${JSON.stringify(n)}`);
  return `"${n}"`;
}

/**
 * The table, its maps and sets (empty) and its chains, for the instances of one server (their tun devices and
 * gateways); `nft -f` loads it whole (after `table …` + `delete table …`: atomic, no stale element survives).
 */
export function renderLanZoneTable(lanCidr: string, instances: readonly InstancePlan[]): string {
  if (!isCidr(lanCidr)) throw new Error(`not a CIDR: ${JSON.stringify(lanCidr)}`);
  for (const i of instances) if (!isIpv4(i.gateway)) throw new Error(`instance ${i.id}: not an IPv4 gateway: ${i.gateway}`);
  const tuns = [...new Set(instances.map((i) => i.dev))].map(ifname).join(", ");
  const gws = [...new Set(instances.map((i) => i.gateway))].join(", ");
  return `table ip ${LAN_TABLE} {
  map link_zone { typeof iifname : ct zone; }
  map tun_zone { typeof ip saddr : ct zone; }
  set link_tun { typeof iifname . ip daddr; }
  set links { typeof iifname; }
  chain zones {
    type filter hook prerouting priority -450; policy accept;
    iifname { ${tuns} } ip daddr != { ${gws} } ct zone set ip saddr map @tun_zone
    ct zone set iifname map @link_zone
  }
  chain isolate {
    type filter hook forward priority filter - 1; policy accept;
    iifname @links iifname . ip daddr != @link_tun drop
  }
  chain guard {
    type filter hook output priority filter; policy accept;
    ip daddr ${lanCidr} drop
  }
}
`;
}

/** The tenant's two tunnel IPs on `server` (its UDP instance first), the keys of its tun_zone elements. */
function serverTunnelIps(server: ServerPlan, t: TenantPlan): string[] {
  return server.instances.map((i) => t.tunnelIps[i.id]);
}

/**
 * `nft` commands that add (or, with `delete`, remove) one tenant's elements on `server`: the same elements
 * `lr-dataplane` builds from the tenant's env file.
 */
export function lanZoneElements(server: ServerPlan, t: TenantPlan, op: "add" | "delete"): string[] {
  if (!Number.isInteger(t.slot) || t.slot < 1 || t.slot > 65535) throw new Error(`tenant ${t.key}: slot ${t.slot} is no conntrack zone`);
  const tuns = serverTunnelIps(server, t);
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
