/**
 * No IPv6 on the tenant links: lr-dataplane sets the IPv6 defaults (no IPv6 on new links, no RA taken) before it
 * creates any tenant link, and closes IPv6 on every tenant link after. The lab's ipv6-closed check sends the RA
 * and the probes for real.
 */
import { renderDataplaneTool } from "../../../render/dataplane";
import { PRODUCTION_SERVER_LAYOUT } from "../../../render/layout";
import { shellFunctionBody, twoTenantPlan } from "./fixture";

const plan = twoTenantPlan();
const tool = renderDataplaneTool(plan, plan.servers[0], PRODUCTION_SERVER_LAYOUT);

const body = (name: string): string[] => shellFunctionBody(tool, name);

describe("lr-dataplane IPv6", () => {
  it("the defaults give new links no IPv6 and take no RA or autoconfiguration", () => {
    expect(body("ipv6_defaults")).toEqual([
      "[[ -d $V6/default ]] || return 1",
      `printf '1' >"$V6/default/disable_ipv6"`,
      `printf '0' >"$V6/all/accept_ra"`,
      `printf '0' >"$V6/default/accept_ra"`,
      `printf '0' >"$V6/all/autoconf"`,
      `printf '0' >"$V6/default/autoconf"`,
    ]);
    expect(tool).toContain("\nV6=/proc/sys/net/ipv6/conf\n");
  });

  it("apply and apply-all set the defaults before the batch that creates tenant links, and close each link after it", () => {
    const apply = body("cmd_apply");
    expect(apply.indexOf("ipv6_defaults || true")).toBeGreaterThan(-1);
    expect(apply.indexOf("ipv6_defaults || true")).toBeLessThan(apply.indexOf("run_batch"));
    expect(apply.indexOf("link_sysctls")).toBe(apply.indexOf("run_batch") + 1);
    // apply-all: rebuild_all sets the sysctls, then rebuild_firewall runs the tenants' batch.
    expect(body("cmd_apply_all")).toEqual(["rebuild_all tenants"]);
    const all = body("rebuild_all");
    expect(all.indexOf("set_sysctls")).toBeLessThan(all.indexOf('rebuild_firewall "${1:-}"'));
    const fw = body("rebuild_firewall");
    expect(fw.indexOf("link_sysctls")).toBe(fw.indexOf("run_batch") + 1);
    expect(body("set_sysctls")).toContain("ipv6_defaults || return 0");
  });

  it("every tenant link, the trunk and the tun devices lose IPv6; every interface takes no RA", () => {
    expect(body("link_sysctls")).toEqual([
      "local name",
      `for name in "\${LINKS[@]}"; do`,
      `printf '%s' "$LINK_RP" >"/proc/sys/net/ipv4/conf/$name/rp_filter"`,
      `printf '1' >"/proc/sys/net/ipv4/conf/$name/arp_ignore"`,
      `printf '2' >"/proc/sys/net/ipv4/conf/$name/arp_announce"`,
      "[[ -d $V6/$name ]] || continue",
      `printf '0' >"$V6/$name/accept_ra"`,
      `printf '0' >"$V6/$name/autoconf"`,
      `printf '1' >"$V6/$name/disable_ipv6"`,
      "done",
    ]);
    const set = body("set_sysctls");
    expect(set).toContain(`for f in "$V6"/*/accept_ra "$V6"/*/autoconf; do printf '0' >"$f"; done`);
    expect(set).toContain(`for name in "$TRUNK" "$DEV1" "$DEV2"; do`);
  });
});
