/**
 * The env file's one-match fast path (envFileRegex) accepts exactly the rendered files and reads the same values
 * the field-by-field path does; anything else falls through to that path. JavaScript's RegExp stands in for
 * bash's ERE here (fully anchored, no backreferences: both accept the same strings); the e2e suite runs bash.
 */
import { ENV_FIELDS, KIND_RE, envFileRegex, renderTenantEnv, tenantEnv } from "../../../render/dataplane-env";
import { numberedPlan, twoTenantPlan } from "./fixture";

const { regex, index } = envFileRegex();
const re = new RegExp(regex.replace(/\\n/g, "\n"));
const plan = twoTenantPlan();
const [acme] = plan.tenants;
const acmeText = renderTenantEnv(plan, plan.servers[0], acme);

/** The values the fast path reads, or undefined when it does not match. */
function fast(text: string): Record<string, string> | undefined {
  const m = re.exec(text);
  return m ? Object.fromEntries(ENV_FIELDS.map(([k]) => [k, m[index[k]]])) : undefined;
}

describe("env file fast path", () => {
  it("reads every field of every rendered env file (both servers, 300 tenants) as tenantEnv has it", () => {
    const big = numberedPlan(300);
    for (const p of [plan, big])
      for (const server of p.servers)
        for (const t of p.tenants) expect(fast(renderTenantEnv(p, server, t))).toEqual(tenantEnv(p, server, t));
  });

  it("field indices of the golden acme file", () => {
    expect(fast(acmeText)).toEqual({
      LR_KEY: "acme",
      LR_SLOT: "1",
      LR_LINK: "vl101",
      LR_VLAN: "101",
      LR_LAN_ADDR: "10.0.1.2/24",
      LR_LAN_NET: "10.0.1.0/24",
      LR_ROUTER: "10.0.1.1",
      LR_TABLE: "1001",
      LR_TABLE_NAME: "lb1",
      LR_TUN1: "10.255.0.2",
      LR_PREF1: "1033",
      LR_TUN2: "10.255.64.2",
      LR_PREF2: "12590",
      LR_VNC_PORT: "6001",
    });
  });

  it.each([
    ["a value of the wrong kind", acmeText.replace("LR_ROUTER=10.0.1.1", "LR_ROUTER=10.0.1.256")],
    ["shell syntax in a value", acmeText.replace("LR_LINK=vl101", "LR_LINK=vl101;reboot")],
    ["a missing field", acmeText.replace("LR_VNC_PORT=6001\n", "")],
    ["a field given twice", acmeText.replace("LR_SLOT=1\n", "LR_SLOT=1\nLR_SLOT=1\n")],
    ["an unknown field", acmeText.replace("LR_SLOT=1\n", "LR_SLOT=1\nLR_EXTRA=1\n")],
    ["fields in another order", acmeText.replace("LR_SLOT=1\nLR_LINK=vl101\n", "LR_LINK=vl101\nLR_SLOT=1\n")],
    ["no final newline", acmeText.replace(/\n$/, "")],
    ["a blank line", acmeText.replace("LR_SLOT=1\n", "LR_SLOT=1\n\n")],
    ["a name too long", acmeText.replace("LR_KEY=acme", `LR_KEY=a${"b".repeat(32)}`)],
    ["a prefix above 32", acmeText.replace("LR_LAN_NET=10.0.1.0/24", "LR_LAN_NET=10.0.1.0/33")],
  ])("takes the field-by-field path for %s", (_what, text) => {
    expect(text).not.toBe(acmeText);
    expect(fast(text)).toBeUndefined();
  });

  it("kind regexes: exact accepts and rejects", () => {
    const ok = (kind: keyof typeof KIND_RE, v: string) => new RegExp(`^(${KIND_RE[kind]})$`).test(v);
    expect([ok("name", "coop-sur"), ok("name", "9a"), ok("name", "A")]).toEqual([true, false, false]);
    expect([ok("ifname", "eth1.101"), ok("ifname", "a".repeat(16)), ok("ifname", "-x")]).toEqual([true, false, false]);
    expect([ok("int", "0123456789"), ok("int", "12345678901"), ok("int", "")]).toEqual([true, false, false]);
    expect([ok("ip", "255.0.0.1"), ok("ip", "1.2.3"), ok("ip", "01.2.3.4")]).toEqual([true, false, false]);
    expect([ok("cidr", "10.0.0.0/32"), ok("cidr", "10.0.0.0/"), ok("cidr", "10.0.0.0/24/1")]).toEqual([true, false, false]);
  });
});
