/**
 * The kernel's `ip rule` walk simulated over the rendered rules (fib_rules_lookup): the tests and the e2e suite
 * use it to prove every tenant lands in its own table, and to count the rules a packet checks.
 */
import { ipToInt, parseCidr } from "../../lib/ipv4";
import type { ServerPlan, TenantPlan } from "../../plan/types";
import { type IpRule, MAIN_TABLE, PREF, skeletonRules, tenantRules } from "../../render/routing";

/** Every rule of the server (skeleton and `tenants`' host rules), sorted by pref, plus the kernel's main and default. */
export function serverRules(server: ServerPlan, tenants: readonly TenantPlan[]): IpRule[] {
  const layout = server.routing;
  const rules = [...skeletonRules(layout), ...tenants.flatMap((t) => tenantRules(layout, t))];
  rules.push({ pref: PREF.main, action: { kind: "lookup", table: MAIN_TABLE } }, { pref: PREF.default, action: { kind: "lookup", table: 253 } });
  rules.sort((a, b) => a.pref - b.pref);
  for (let i = 1; i < rules.length; i++) if (rules[i].pref === rules[i - 1].pref) throw new Error(`two rules share pref ${rules[i].pref}`);
  return rules;
}

function matches(r: IpRule, src: number, dst: number): boolean {
  const inCidr = (c: string, ip: number) => {
    const p = parseCidr(c.includes("/") ? c : `${c}/32`);
    return ip >= p.base && ip < p.base + 2 ** (32 - p.prefix);
  };
  const fromOk = r.from === undefined || inCidr(r.from, src) !== !!r.not;
  return fromOk && (r.to === undefined || inCidr(r.to, dst));
}

/** What the kernel does with a packet: how many rules it checks (the local rule at pref 0 not counted) and where it ends. */
export interface Walk {
  readonly checked: number;
  /** The table whose lookup resolved it, or "unreachable". Tenant tables and main are taken to hold a default route. */
  readonly result: number | "unreachable";
}

/** Simulates the kernel's rule walk over `rules` sorted by pref. */
export function simulateWalk(rules: readonly IpRule[], srcIp: string, dstIp: string): Walk {
  const src = ipToInt(srcIp);
  const dst = ipToInt(dstIp);
  let checked = 0;
  for (let i = 0; i < rules.length; ) {
    const r = rules[i];
    checked++;
    if (!matches(r, src, dst)) {
      i++;
      continue;
    }
    const a = r.action;
    if (a.kind === "lookup") return { checked, result: a.table };
    if (a.kind === "unreachable") return { checked, result: "unreachable" };
    if (a.kind === "goto") {
      const j = rules.findIndex((x) => x.pref === a.target);
      i = j < 0 ? i + 1 : j;
    } else i++;
  }
  return { checked, result: "unreachable" };
}

/** Rules a packet from `srcIp` to an internet address checks on `server` before it is routed. */
export function ruleWalk(server: ServerPlan, tenants: readonly TenantPlan[], srcIp: string): number {
  return simulateWalk(serverRules(server, tenants), srcIp, "203.0.113.1").checked;
}
