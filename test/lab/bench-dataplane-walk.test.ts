import { longestWalk, serverRules, walk } from "../../lab/bench-dataplane-walk";
import { benchStack } from "../../lab/bench-dataplane-rig";
import { buildPlan } from "../../plan/build";
import type { IpRule } from "../../render/routing";

const DST = "198.18.0.1";

describe("walk", () => {
  const rules: IpRule[] = [
    { pref: 100, not: true, from: "10.255.0.0/16", action: { kind: "goto", target: 32766 } },
    { pref: 101, to: "192.168.100.10", action: { kind: "lookup", table: 254 } },
    { pref: 102, from: "10.255.0.0/18", action: { kind: "goto", target: 200 } },
    { pref: 150, action: { kind: "lookup", table: 999 } },
    { pref: 200, action: { kind: "nop" } },
    { pref: 201, from: "10.255.0.2", action: { kind: "lookup", table: 1001 } },
    { pref: 202, from: "10.255.0.3", action: { kind: "lookup", table: 1002 } },
    { pref: 32000, action: { kind: "unreachable" } },
    { pref: 32766, action: { kind: "lookup", table: 254 } },
  ];
  it("follows a goto past the rules it skips, through a nop, to the first matching lookup; counts `local` too", () => {
    // local, 100, 101, 102 (goto 200), 200 (nop), 201
    expect(walk(rules, "10.255.0.2", DST)).toEqual({ checked: 6, action: { kind: "lookup", table: 1001 } });
    expect(walk(rules, "10.255.0.3", DST)).toEqual({ checked: 7, action: { kind: "lookup", table: 1002 } });
  });
  it("honours a negated source and a destination selector", () => {
    expect(walk(rules, "198.51.100.7", DST)).toEqual({ checked: 3, action: { kind: "lookup", table: 254 } });
    expect(walk(rules, "10.255.0.2", "192.168.100.10")).toEqual({ checked: 3, action: { kind: "lookup", table: 254 } });
  });
  it("refuses a goto that does not jump forward", () => {
    expect(() => walk([{ pref: 5, action: { kind: "goto", target: 5 } }], "10.0.0.1", DST)).toThrow("rule 5 jumps to 5, not forward (the kernel refuses that)");
  });
});

describe("the rendered tree, walked", () => {
  for (const mode of ["fixed", "distinct"] as const) {
    it(`${mode}: every tenant's packets on both of vpn1's instances end in its own table, and longestWalk is the longest`, () => {
      const plan = buildPlan(benchStack(300, mode), "walk");
      const server = plan.servers[0];
      const rules = serverRules(plan, server);
      let most = 0;
      for (const t of plan.tenants) {
        for (const inst of server.instances) expect(walk(rules, t.tunnelIps[inst.id], DST).action).toEqual({ kind: "lookup", table: t.table.id });
        most = Math.max(most, walk(rules, t.tunnelIps[server.instances[0].id], DST).checked);
      }
      const longest = longestWalk(plan, server, DST);
      expect(longest.walk.checked).toBe(most);
      expect(walk(rules, longest.tenant.tunnelIps[server.instances[0].id], DST)).toEqual(longest.walk);
      // An address of the pool no tenant holds is refused, never looked up in main (another tenant's LAN).
      expect(walk(rules, "10.255.63.250", DST).action).toEqual({ kind: "unreachable" });
    });
  }
});
