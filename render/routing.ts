/**
 * Policy routing on a VPN server as a `goto` tree of `ip rule`s: the kernel walks rules in order, so a linear
 * list of 2,000 rules cuts forwarding to a few percent, and a 3-level tree keeps most of it (`npm run
 * bench:dataplane` measures both). Pure: no `@pulumi/*` import.
 *
 * Layout (prefs; the kernel's `0 lookup local`, `32766 lookup main`, `32767 lookup default` stay as they are):
 *   100  not from <tunnel supernet> goto 32766      return traffic (and the server's own) checks 2 rules
 *   101  to <host mgmt ip> lookup main              DNATed consoles go to the host, not the tenant
 *   102+i from <root of instance i> goto <region i> one per instance of this server
 *   104  goto 32000                                 a tunnel source outside both roots
 *   1000… the two regions (below)
 *   32000 unreachable                              END: nothing from the tunnels ever falls into `main`
 * A region is a tree over the address offset inside the instance pool, dispatching on 3 bits per level
 * (the top level takes what is left of the covered bits): an inner node is `[goto child 0…7][catch]` followed by
 * its children's regions; a leaf is `[nop anchor][host 0…7][catch]`. Every node's size is fixed, so a tenant's
 * host-rule pref follows from its tunnel IP alone. The anchor exists because a `goto` needs a rule at exactly
 * its target pref, and a leaf's first host may not be a tenant. Catches jump to END, so a packet whose table
 * has no route (its link is down) is refused instead of walking on or reaching `main` (another tenant's /24).
 */
import { formatCidr, ipToInt } from "../lib/ipv4";
import { PREF, type RoutingLayout } from "../plan/routing-layout";
import type { TenantPlan } from "../plan/types";

export type RuleAction =
  | { readonly kind: "goto"; readonly target: number }
  | { readonly kind: "lookup"; readonly table: number }
  | { readonly kind: "nop" }
  | { readonly kind: "unreachable" };

/** One `ip rule`: selector (`from`, optionally negated, and `to`) and action. */
export interface IpRule {
  readonly pref: number;
  readonly from?: string;
  readonly not?: boolean;
  readonly to?: string;
  readonly action: RuleAction;
}

export const MAIN_TABLE = 254;
export { MAX_TREE_BITS, PREF, SKELETON_GRANULE } from "../plan/routing-layout";
export type { RoutingLayout } from "../plan/routing-layout";

/** Bits below level d (the span of one child of a level-d node is 2^spanBits(d)). */
function spanBits(widths: readonly number[], d: number): number {
  return widths.slice(d + 1).reduce((a, b) => a + b, 0);
}

/** Pref of the host rule for pool offset `offset` of instance `index` (0 = the server's UDP instance). */
export function hostPref(layout: RoutingLayout, index: number, offset: number): number {
  const { widths, regionSizes } = layout;
  let region = layout.instances[index].region;
  for (let d = 0; d < widths.length; d++) {
    const f = 2 ** widths[d];
    const k = Math.floor(offset / 2 ** spanBits(widths, d)) % f;
    if (d === widths.length - 1) return region + 1 + k;
    region += f + 1 + k * regionSizes[d + 1];
  }
  throw new Error("unreachable");
}

/** Offset of `ip` in instance `index`'s pool. */
function offsetOf(layout: RoutingLayout, index: number, ip: string): number {
  return ipToInt(ip) - layout.instances[index].poolBase;
}

/**
 * The static rules `lr-dataplane base` installs (everything but the tenants' host rules), in INSTALL order:
 * END first and leaves before their dispatch rules, so a half-installed tree never lets a packet reach `main`.
 */
export function skeletonRules(layout: RoutingLayout): IpRule[] {
  const { widths, regionSizes } = layout;
  const leaves: IpRule[] = [];
  const inner: IpRule[][] = widths.map(() => []);
  const toEnd: RuleAction = { kind: "goto", target: PREF.end };
  const node = (index: number, d: number, start: number, region: number): void => {
    const f = 2 ** widths[d];
    const span = 2 ** spanBits(widths, d);
    const inst = layout.instances[index];
    if (d === widths.length - 1) {
      leaves.push({ pref: region, action: { kind: "nop" } });
      const gw = offsetOf(layout, index, inst.gateway);
      if (gw >= start && gw < start + f) leaves.push({ pref: region + 1 + (gw - start), from: inst.gateway, action: { kind: "lookup", table: MAIN_TABLE } });
      leaves.push({ pref: region + 1 + f, action: toEnd });
      return;
    }
    for (let k = 0; k < f && start + k * span <= layout.limit; k++) {
      const child = region + f + 1 + k * regionSizes[d + 1];
      inner[d].push({ pref: region + k, from: formatCidr({ base: inst.poolBase + start + k * span, prefix: 32 - spanBits(widths, d) }), action: { kind: "goto", target: child } });
      node(index, d + 1, start + k * span, child);
    }
    inner[d].push({ pref: region + f, action: toEnd });
  };
  layout.instances.forEach((inst, i) => node(i, 0, 0, inst.region));
  const head: IpRule[] = [
    { pref: PREF.end, action: { kind: "unreachable" } },
    { pref: PREF.notFrom, not: true, from: layout.supernet, action: { kind: "goto", target: PREF.main } },
    { pref: PREF.mgmt, to: layout.hostMgmtIp, action: { kind: "lookup", table: MAIN_TABLE } },
  ];
  const tail: IpRule[] = [
    ...layout.instances.map((inst, i) => ({ pref: PREF.dispatch + i, from: inst.root, action: { kind: "goto", target: inst.region } as RuleAction })),
    { pref: PREF.dispatchCatch, action: toEnd },
  ];
  return [...head, ...leaves, ...inner.reverse().flat(), ...tail];
}

/** The two host rules of `tenant` on this server: `from <tunnel ip> lookup <table>`, one per instance. */
export function tenantRules(layout: RoutingLayout, tenant: TenantPlan): IpRule[] {
  return layout.instances.map((inst, i) => {
    const ip = tenant.tunnelIps[inst.id];
    return { pref: hostPref(layout, i, offsetOf(layout, i, ip)), from: ip, action: { kind: "lookup", table: tenant.table.id } };
  });
}

function actionText(a: RuleAction): string {
  if (a.kind === "goto") return `goto ${a.target}`;
  if (a.kind === "lookup") return `lookup ${a.table}`;
  return a.kind;
}

/** Arguments after `ip rule add` (also an `ip -batch` line after `rule add `). */
export function ipRuleArgs(r: IpRule): string {
  const sel = [r.from ? `${r.not ? "not " : ""}from ${r.from}` : "", r.to ? `to ${r.to}` : ""].filter(Boolean).join(" ");
  return `pref ${r.pref}${sel ? ` ${sel}` : ""} ${actionText(r.action)}`;
}

/**
 * The line `ip -N rule show` prints for the rule (iproute2 6.1: `/32` dropped, `from all` when no source, and
 * with -N the action `unreachable` as its number, 7).
 */
export function ipRuleShowLine(r: IpRule): string {
  const host = (c: string) => c.replace(/\/32$/, "");
  const from = r.from ? `${r.not ? "not " : ""}from ${host(r.from)}` : "from all";
  const action = r.action.kind === "unreachable" ? "7" : actionText(r.action);
  return `${r.pref}:\t${from}${r.to ? ` to ${host(r.to)}` : ""} ${action}`;
}
