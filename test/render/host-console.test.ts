/**
 * The host firewall is sized for every slot the config allows: adding or removing a tenant must leave
 * every host-side script byte-identical, so the host's command never changes with the tenants.
 */
import { buildPlan } from "../../plan/build";
import { validateStack } from "../../plan/validate";
import { consolePortRanges, maxSlot } from "../../plan/alloc";
import { consoleChainRules, consoleJumps, consolePorts, hostConsoleFirewallScripts, renderHostConsoleFirewall, renderHostFirewallUnit } from "../../render/host-console";
import { PRODUCTION_HOST_LAYOUT } from "../../render/layout";
import { sdnPlan } from "./dataplane/sdn-fixture";

const base = {
  profile: "minimal",
  proxmox: { endpoint: "https://pve1.example.net:8006/", node: "pve1" },
  network: { publicPools: [{ cidr: "192.0.2.0/24", gateway: "192.0.2.1" }] },
  vpn: { hostnames: ["vpn1.example.net", "vpn2.example.net"] },
};
const raw = (tenants: Record<string, { slot: number; publicIp?: string }>, network: Record<string, unknown> = {}) => ({ ...base, network: { ...base.network, ...network }, tenants });
const withTenants = (tenants: Record<string, { slot: number; publicIp?: string }>, network: Record<string, unknown> = {}) => buildPlan(raw(tenants, network), "golden");
/** The validated config (maxSlot and the port ranges are functions of it). */
const configOf = (tenants: Record<string, { slot: number; publicIp?: string }>, network: Record<string, unknown> = {}) => validateStack(raw(tenants, network), "golden").config;

const hostArtifacts = (plan: ReturnType<typeof withTenants>) => {
  const s = hostConsoleFirewallScripts(plan, PRODUCTION_HOST_LAYOUT);
  return [renderHostConsoleFirewall(plan, PRODUCTION_HOST_LAYOUT), renderHostFirewallUnit(plan, PRODUCTION_HOST_LAYOUT), s.apply, s.delete];
};

describe("host firewall ports (fixed by the config)", () => {
  it("LR-MGMT lets each VPN server reach the console ports and the serial bridge, nobody else anything new", () => {
    expect(consoleChainRules(withTenants({ acme: { slot: 1 } }))).toEqual([
      "-A LR-CONSOLE -i lo -j RETURN",
      "-A LR-CONSOLE -j DROP",
      "-A LR-MGMT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
      "-A LR-MGMT -s 192.168.100.11/32 -d 192.168.100.10/32 -p tcp -m multiport --dports 6001:8005,8007:9994 -j ACCEPT",
      "-A LR-MGMT -s 192.168.100.12/32 -d 192.168.100.10/32 -p tcp -m multiport --dports 6001:8005,8007:9994 -j ACCEPT",
      "-A LR-MGMT -s 192.168.100.11/32 -d 192.168.100.10/32 -p tcp -m tcp --dport 5899 -j ACCEPT",
      "-A LR-MGMT -s 192.168.100.12/32 -d 192.168.100.10/32 -p tcp -m tcp --dport 5899 -j ACCEPT",
      // Monitoring (issue 14): Prometheus on the services VM scrapes the host's node exporter, nothing else.
      "-A LR-MGMT -s 192.168.100.13/32 -d 192.168.100.10/32 -p tcp -m tcp --dport 9100 -j ACCEPT",
      "-A LR-MGMT -j DROP",
    ]);
  });

  it("without the monitoring, LR-MGMT has no exporter rule", () => {
    const plan = buildPlan({ ...raw({ acme: { slot: 1 } }), monitoring: { enabled: false } }, "golden");
    expect(consoleChainRules(plan)).toEqual(consoleChainRules(withTenants({ acme: { slot: 1 } })).filter((r) => !r.includes("--dport 9100")));
  });

  it("covers 5900 + vncDisplayBase + 1 … the highest slot, without Proxmox's reserved ports", () => {
    const plan = withTenants({ acme: { slot: 1 } });
    // Defaults: VLAN 100 + slot ≤ 4094 is the tightest bound → slot 3994 → port 9994; 8006 is the API.
    expect(maxSlot(configOf({ acme: { slot: 1 } }))).toBe(3994);
    expect(plan.consolePorts).toEqual(consolePortRanges(configOf({ acme: { slot: 1 } })));
    expect(consolePorts(plan)).toBe("6001:8005,8007:9994");
    expect(consoleJumps(plan)).toEqual({
      v4: ["-i vmbr2 -j LR-MGMT", "-d 192.168.100.10/32 -j LR-CONSOLE"],
      v6: ["-i vmbr2 -j LR-MGMT"],
    });
  });

  it("follows the tightest per-slot bound and skips the migration ports", () => {
    const cfg = configOf({ acme: { slot: 1 } }, { vlanBase: 1, vncDisplayBase: 53000 });
    expect(maxSlot(cfg)).toBe(4093);
    expect(consolePortRanges(cfg)).toEqual([
      { lo: 58901, hi: 59999 },
      { lo: 60051, hi: 62993 },
    ]);
    const small = withTenants({ acme: { slot: 1 } }, { tunnelSupernet: "10.255.0.0/22", tenantPrivate: "10.0.0.0/16", managementBridge: "vmbr9" });
    expect(maxSlot(configOf({ acme: { slot: 1 } }, { tunnelSupernet: "10.255.0.0/22", tenantPrivate: "10.0.0.0/16", managementBridge: "vmbr9" }))).toBe(253);
    expect(consolePorts(small)).toBe("6001:6253");
    expect(consoleJumps(small).v4[0]).toBe("-i vmbr9 -j LR-MGMT");
  });

  it("maxSlot is the real bound: buildPlan takes a tenant on it and refuses one beyond it", () => {
    for (const network of [{}, { tunnelSupernet: "10.255.0.0/22" }, { tenantPrivate: "10.0.0.0/20" }, { vncDisplayBase: 59000, vlanBase: 1 }]) {
      const cfg = configOf({ acme: { slot: 1 } }, network);
      const limit = maxSlot(cfg);
      const at = withTenants({ acme: { slot: limit, publicIp: "192.0.2.20" } }, network).tenants[0];
      expect(consolePortRanges(cfg).some((r) => at.vnc.port >= r.lo && at.vnc.port <= r.hi)).toBe(true);
      expect(() => withTenants({ acme: { slot: limit + 1, publicIp: "192.0.2.20" } }, network)).toThrow(/tenants\.acme\.slot/);
    }
  });

  it("adding or removing a tenant leaves every host-side script byte-identical", () => {
    const two = hostArtifacts(withTenants({ acme: { slot: 1 }, "coop-sur": { slot: 2 } }));
    expect(hostArtifacts(withTenants({ acme: { slot: 1 }, "coop-sur": { slot: 2 }, late: { slot: 51 } }))).toEqual(two);
    expect(hostArtifacts(withTenants({ acme: { slot: 1 } }))).toEqual(two);
    expect(hostArtifacts(withTenants({}))).toEqual(two);
  });
});

describe("host firewall of a cluster node (sdn)", () => {
  // pve-b's view of the plan, as plan/cluster.ts nodeView gives it: its own address is the host's.
  const cluster = sdnPlan();
  const pveB = { ...cluster, host: { ...cluster.host, node: "pve-b", mgmtIp: "192.168.100.20" } };

  it("LR-MGMT: the VPN servers reach this node's consoles, serial bridge and VXLAN port; the guests nothing else; the nodes' own traffic goes on to pve-firewall", () => {
    const ports = consolePorts(pveB);
    expect(consoleChainRules(pveB)).toEqual([
      "-A LR-CONSOLE -i lo -j RETURN",
      "-A LR-CONSOLE -j DROP",
      "-A LR-MGMT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
      `-A LR-MGMT -s 192.168.100.11/32 -d 192.168.100.20/32 -p tcp -m multiport --dports ${ports} -j ACCEPT`,
      `-A LR-MGMT -s 192.168.100.12/32 -d 192.168.100.20/32 -p tcp -m multiport --dports ${ports} -j ACCEPT`,
      "-A LR-MGMT -s 192.168.100.11/32 -d 192.168.100.20/32 -p tcp -m tcp --dport 5899 -j ACCEPT",
      "-A LR-MGMT -s 192.168.100.12/32 -d 192.168.100.20/32 -p tcp -m tcp --dport 5899 -j ACCEPT",
      // Monitoring (issue 14): Prometheus on the services VM scrapes this node's exporter, before the guests' drops.
      "-A LR-MGMT -s 192.168.100.13/32 -d 192.168.100.20/32 -p tcp -m tcp --dport 9100 -j ACCEPT",
      "-A LR-MGMT -s 192.168.100.11/32 -d 192.168.100.20/32 -p udp -m udp --dport 4789 -j ACCEPT",
      "-A LR-MGMT -s 192.168.100.12/32 -d 192.168.100.20/32 -p udp -m udp --dport 4789 -j ACCEPT",
      "-A LR-MGMT -s 192.168.100.11/32 -j DROP",
      "-A LR-MGMT -s 192.168.100.12/32 -j DROP",
      "-A LR-MGMT -s 192.168.100.13/32 -j DROP",
      "-A LR-MGMT -j RETURN",
    ]);
    expect(consoleJumps(pveB).v4).toEqual(["-i vmbr2 -j LR-MGMT", "-d 192.168.100.20/32 -j LR-CONSOLE"]);
  });
});
