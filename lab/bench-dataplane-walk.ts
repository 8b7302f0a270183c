/**
 * How many `ip rule`s the kernel checks for a packet (pure): the rendered rules of a VPN server walked in pref order
 * as fib_rules does (a `goto` continues at the first rule with pref ≥ its target, `nop` falls through, the first
 * matching `lookup` ends the walk), so `npm run bench:dataplane` can send as the tenant with the longest walk and
 * print each rig's walk next to its rate.
 */
import { ipToInt } from "../lib/ipv4";
import type { Plan, ServerPlan, TenantPlan } from "../plan/types";
import { type IpRule, skeletonRules, tenantRules } from "../render/routing";

const inCidr = (ip: number, cidr: string): boolean => {
  const [net, bits = "32"] = cidr.split("/");
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return ((ip & mask) >>> 0) === ((ipToInt(net) & mask) >>> 0);
};

/** Every rule of `server` for `plan`'s tenants, in pref order (the kernel's `0 lookup local` not included). */
export function serverRules(plan: Plan, server: ServerPlan): IpRule[] {
  return [...skeletonRules(server.routing), ...plan.tenants.flatMap((t) => tenantRules(server.routing, t))].sort((a, b) => a.pref - b.pref);
}

/** Rules checked (counting `0 lookup local`, which the kernel checks first) and the action that ended the walk. */
export interface Walk {
  readonly checked: number;
  readonly action: IpRule["action"] | undefined;
}

/** The walk of a packet from `src` to `dst` over `rules` (sorted by pref; a `to`-less, `from`-less rule matches all). */
export function walk(rules: readonly IpRule[], src: string, dst: string): Walk {
  const s = ipToInt(src);
  const d = ipToInt(dst);
  let checked = 1;
  for (let i = 0; i < rules.length; ) {
    const r = rules[i];
    checked++;
    const match = (!r.from || inCidr(s, r.from) !== (r.not ?? false)) && (!r.to || inCidr(d, r.to));
    if (!match || r.action.kind === "nop") {
      i++;
      continue;
    }
    if (r.action.kind !== "goto") return { checked, action: r.action };
    const target = r.action.target;
    const next = rules.findIndex((x) => x.pref >= target);
    if (next <= i) throw new Error(`rule ${r.pref} jumps to ${target}, not forward (the kernel refuses that)`);
    i = next;
  }
  return { checked, action: undefined };
}

/** The tenant whose packets (from its tunnel IP on `server`'s first instance to `dst`) walk the most rules, and that walk. */
export function longestWalk(plan: Plan, server: ServerPlan, dst: string): { tenant: TenantPlan; walk: Walk } {
  const rules = serverRules(plan, server);
  let best: { tenant: TenantPlan; walk: Walk } | undefined;
  for (const t of plan.tenants) {
    const w = walk(rules, t.tunnelIps[server.instances[0].id], dst);
    if (!best || w.checked > best.walk.checked) best = { tenant: t, walk: w };
  }
  if (!best) throw new Error(`plan ${plan.stack} has no tenant`);
  return best;
}
