/**
 * A VPN server forwards nothing until its firewall is loaded: the boot-time sysctls leave forwarding off, and
 * lr-dataplane closes FORWARD before it changes anything and turns forwarding on only as its last step. The lab's
 * fail-closed check runs a half-way failure for real.
 */
import { renderDataplaneTool } from "../../render/dataplane";
import { PRODUCTION_SERVER_LAYOUT } from "../../render/layout";
import { SYSCTL_DROPIN } from "../../render/server-setup";
import { shellFunctionBody, twoTenantPlan } from "./dataplane/fixture";

const plan = twoTenantPlan();
const tool = renderDataplaneTool(plan, plan.servers[0], PRODUCTION_SERVER_LAYOUT);

const body = (name: string): string[] => shellFunctionBody(tool, name);

describe("fail closed", () => {
  it("the sysctl drop-in systemd applies at boot does not turn forwarding on, takes no RA and gives new links no IPv6", () => {
    expect(SYSCTL_DROPIN.content.split("\n").filter((l) => !l.startsWith("#"))).toEqual([
      "net.ipv4.conf.all.rp_filter = 1",
      "net.ipv4.conf.default.rp_filter = 1",
      "net.ipv4.conf.*.rp_filter = 1",
      "net.ipv6.conf.all.accept_ra = 0",
      "net.ipv6.conf.default.accept_ra = 0",
      "net.ipv6.conf.*.accept_ra = 0",
      "net.ipv6.conf.all.autoconf = 0",
      "net.ipv6.conf.default.autoconf = 0",
      "net.ipv6.conf.*.autoconf = 0",
      "net.ipv6.conf.default.disable_ipv6 = 1",
      "net.ipv4.conf.default.arp_ignore = 1",
      "net.ipv4.conf.default.arp_announce = 2",
      "",
    ]);
  });

  it("base and apply-all close FORWARD right after taking the lock and open forwarding as their very last step", () => {
    // One rebuild sequence for both (and for apply on a flushed firewall): rebuild_all closes, rebuild_firewall opens.
    expect(body("cmd_base")).toEqual(["rebuild_all"]);
    expect(body("cmd_apply_all")).toEqual(["rebuild_all tenants"]);
    const all = body("rebuild_all");
    expect(all.slice(0, 2)).toEqual(["lock", "close_forward"]);
    expect(all[all.length - 1]).toBe('rebuild_firewall "${1:-}"');
    const fw = body("rebuild_firewall");
    expect(fw[fw.length - 1]).toBe("open_forward");
    expect(body("cmd_apply").slice(-3)).toEqual(["close_forward", "rebuild_firewall", "fi"]);
    expect(body("close_forward")).toEqual(['"$IPT" -P FORWARD DROP']);
    expect(body("open_forward")).toEqual(['"$SYSCTL" -q -w net.ipv4.ip_forward=1']);
  });

  it("only open_forward turns forwarding on", () => {
    expect(tool.split("\n").filter((l) => l.includes("ip_forward") && !l.trim().startsWith("#"))).toEqual(['  "$SYSCTL" -q -w net.ipv4.ip_forward=1']);
  });
});
