/** The goto tree (render/routing.ts) simulated rule by rule: every tenant lands in its own table, within bounds. */
import fc from "fast-check";
import { ipToInt, intToIp } from "../../../lib/ipv4";
import { routingLayout } from "../../../plan/routing-layout";
import { PREF, hostPref, ipRuleArgs, ipRuleShowLine, skeletonRules } from "../../../render/routing";
import { ruleWalk, serverRules, simulateWalk } from "../../tools/routing-walk";
import { numberedPlan, twoTenantPlan } from "./fixture";

const INTERNET = "203.0.113.7";

/** Worst walk over every tenant of every server, and whether each ended in its own table. */
function survey(count: number, exclude: number[] = []) {
  const plan = numberedPlan(count, exclude);
  let worst = 0;
  const wrong: string[] = [];
  for (const server of plan.servers) {
    const rules = serverRules(server, plan.tenants);
    for (const t of plan.tenants)
      for (const inst of server.instances) {
        const w = simulateWalk(rules, t.tunnelIps[inst.id], INTERNET);
        if (w.result !== t.table.id) wrong.push(`${t.key}@${inst.id} → ${w.result}`);
        worst = Math.max(worst, w.checked);
      }
  }
  return { plan, worst, wrong, rules: serverRules(plan.servers[0], plan.tenants).length - 2 };
}

describe("routing tree", () => {
  it.each([
    [50, 22, 170],
    [500, 30, 1434],
    [2000, 33, 5694],
  ])("%i tenants: every packet ends in its own table, worst walk %i rules, %i rules per server", (count, worst, rules) => {
    const s = survey(count);
    expect(s.wrong).toEqual([]);
    expect(s.worst).toBe(worst);
    expect(s.worst).toBeLessThanOrEqual(40);
    expect(s.rules).toBe(rules);
  });

  it("return traffic checks 2 rules and goes to main; the server's gateways use main too", () => {
    const plan = twoTenantPlan();
    const server = plan.servers[1];
    const rules = serverRules(server, plan.tenants);
    expect(simulateWalk(rules, INTERNET, "10.255.128.2")).toEqual({ checked: 2, result: 254 });
    expect(ruleWalk(server, plan.tenants, "10.0.1.1")).toBe(2);
    for (const inst of server.instances) expect(simulateWalk(rules, inst.gateway, "10.255.128.2").result).toBe(254);
  });

  it("a tenant's DNATed console packet (to the host) is routed by main, above the tenant rule", () => {
    const plan = twoTenantPlan();
    const rules = serverRules(plan.servers[0], plan.tenants);
    expect(simulateWalk(rules, plan.tenants[0].tunnelIps["vpn1-udp"], plan.host.mgmtIp)).toEqual({ checked: 2, result: 254 });
  });

  it("a tunnel source with no tenant is refused, never main and never another tenant's table", () => {
    const plan = twoTenantPlan();
    const rules = serverRules(plan.servers[0], plan.tenants);
    expect(simulateWalk(rules, "10.255.0.9", INTERNET).result).toBe("unreachable");
    expect(simulateWalk(rules, "10.255.100.9", INTERNET).result).toBe("unreachable");
    expect(simulateWalk(rules, "10.255.130.9", INTERNET).result).toBe("unreachable");
  });

  it("a tenant whose table has no route falls to END (unreachable), not to main or a neighbour", () => {
    const plan = twoTenantPlan();
    const rules = serverRules(plan.servers[0], plan.tenants).filter((r) => !(r.action.kind === "lookup" && r.action.table === plan.tenants[0].table.id));
    expect(simulateWalk(rules, plan.tenants[0].tunnelIps["vpn1-udp"], INTERNET).result).toBe("unreachable");
  });

  it("host prefs follow from the tunnel IP alone: the same for a tenant whatever other tenants exist", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 300 }), (slots, probe) => {
        const all = Array.from({ length: 300 }, (_, i) => i + 1);
        const keep = new Set([...slots, probe]);
        const small = numberedPlan(300, all.filter((s) => !keep.has(s)));
        const big = numberedPlan(300);
        const ip = intToIp(ipToInt("10.255.0.0") + 1 + probe);
        const pref = (p: typeof big) => serverRules(p.servers[0], p.tenants).find((r) => r.from === ip)?.pref;
        expect(pref(small)).toBeDefined();
        expect(pref(small)).toBe(pref(big));
        const ws = simulateWalk(serverRules(small.servers[0], small.tenants), intToIp(ipToInt("10.255.64.0") + 1 + probe), INTERNET);
        expect(ws.result).toBe(small.tenants.find((t) => t.slot === probe)?.table.id);
      }),
      { numRuns: 25 },
    );
  });

  it("any subset of slots up to 2,000: every tenant routed to its table within 40 rules", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 2000 }), { minLength: 1, maxLength: 60 }), (slots) => {
        const keep = new Set(slots);
        const plan = numberedPlan(2000, Array.from({ length: 2000 }, (_, i) => i + 1).filter((s) => !keep.has(s)));
        for (const server of plan.servers) {
          const rules = serverRules(server, plan.tenants);
          for (const t of plan.tenants)
            for (const inst of server.instances) {
              const w = simulateWalk(rules, t.tunnelIps[inst.id], INTERNET);
              expect(w.result).toBe(t.table.id);
              expect(w.checked).toBeLessThanOrEqual(40);
            }
        }
      }),
      { numRuns: 15 },
    );
  });

  it("rule text: add arguments and the exact `ip -N rule show` lines", () => {
    const plan = twoTenantPlan();
    const layout = plan.servers[0].routing;
    const sk = skeletonRules(layout);
    expect(sk.slice(0, 3).map(ipRuleArgs)).toEqual(["pref 32000 unreachable", "pref 100 not from 10.255.0.0/16 goto 32766", "pref 101 to 192.168.100.10 lookup 254"]);
    expect(sk.slice(0, 3).map(ipRuleShowLine)).toEqual(["32000:\tfrom all 7", "100:\tnot from 10.255.0.0/16 goto 32766", "101:\tfrom all to 192.168.100.10 lookup 254"]);
    expect(hostPref(layout, 0, 2)).toBe(1033);
    expect(hostPref(layout, 1, 2)).toBe(12590);
    expect(PREF.end).toBeLessThan(PREF.main);
  });

  it("refuses a tenant beyond what the tree covers, naming it", () => {
    const plan = twoTenantPlan();
    const far = { ...plan, tenants: [{ ...plan.tenants[0], key: "far", slot: 9000, tunnelIps: { ...plan.tenants[0].tunnelIps, "vpn1-udp": "10.255.35.41" } }] };
    expect(() => routingLayout({ tunnelSupernet: far.tunnelSupernet, hostMgmtIp: far.host.mgmtIp }, far.servers[0].instances, far.tenants)).toThrow('tenant "far" (slot 9000) has tunnel IP 10.255.35.41: the routing tree covers pool offsets below 8192 only (slots ≤ 8190)');
  });
});
