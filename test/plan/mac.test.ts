/** Tenant public MACs: stable per stack and key, unicast and locally administered, unique or refused with the fix. */
import { buildPlan } from "../../plan/build";
import { UNICAST_MAC, derivedPublicMac, macClashes } from "../../plan/mac";
import { baseConfig, configError, withChange } from "../config/fixture";

test("derived from stack and key only: same across plans, other slots and other tenants; differs by stack and key", () => {
  const a = buildPlan(baseConfig(), "prod").tenants.find((t) => t.key === "acme")!;
  const moved = buildPlan(
    withChange(baseConfig(), (c) => {
      c.tenants.acme = { slot: 7 };
      delete c.tenants.beta;
      c.numberedTenants = { count: 0 };
    }),
    "prod",
  ).tenants.find((t) => t.key === "acme")!;
  expect(a.publicMac).toBe(derivedPublicMac("prod", "acme"));
  expect(moved.publicMac).toBe(a.publicMac);
  expect(derivedPublicMac("staging", "acme")).not.toBe(a.publicMac);
  expect(derivedPublicMac("prod", "acmf")).not.toBe(a.publicMac);
});

test("every derived MAC is unicast and locally administered (first octet 02), lowercase, six octets", () => {
  const plan = buildPlan(withChange(baseConfig(), (c) => (c.numberedTenants = { count: 200, firstSlot: 10 })), "prod");
  for (const t of plan.tenants) {
    expect(t.publicMac).toMatch(UNICAST_MAC);
    expect(t.publicMac.startsWith("02:")).toBe(true);
  }
  expect(new Set(plan.tenants.map((t) => t.publicMac)).size).toBe(plan.tenants.length);
});

test("tenants.<key>.publicMac overrides; a clash names both tenants and the fix; a bad MAC is refused", () => {
  const set = buildPlan(withChange(baseConfig(), (c) => (c.tenants.acme.publicMac = "02:4c:52:00:00:01")), "prod");
  expect(set.tenants.find((t) => t.key === "acme")!.publicMac).toBe("02:4c:52:00:00:01");
  const clash = configError(withChange(baseConfig(), (c) => (c.tenants.beta.publicMac = derivedPublicMac("prod", "acme"))), "prod");
  expect(clash.issues).toEqual([
    { key: "tenants.beta.publicMac", message: `${derivedPublicMac("prod", "acme")} is also tenant "acme"'s MAC; set tenants.beta.publicMac to another locally administered MAC (02:…)` },
  ]);
  for (const bad of ["03:00:00:00:00:01", "02:4C:52:00:00:01", "02:4c:52:00:00", "02-4c-52-00-00-01", "02:4c:52:00:00:01\nx"]) {
    const e = configError(withChange(baseConfig(), (c) => (c.tenants.acme.publicMac = bad)));
    expect(e.issues.map((i) => i.key)).toEqual(["tenants.acme.publicMac"]);
    expect(e.issues[0].message).toContain("lowercase unicast MAC");
  }
});

test("macClashes reports each later duplicate once", () => {
  expect(macClashes([{ key: "a", publicMac: "02:00:00:00:00:01" }, { key: "b", publicMac: "02:00:00:00:00:02" }])).toEqual([]);
  expect(macClashes(["a", "b", "c"].map((key) => ({ key, publicMac: "02:00:00:00:00:01" })))).toHaveLength(2);
});
