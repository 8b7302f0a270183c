/**
 * What the data plane renders differently under `sdn` (a VXLAN zone over several nodes), in the layout the program
 * gives it: no trunk anywhere, the management NIC eth1 is the underlay, VXLAN only from the zone's peers, consoles on
 * the tenant's own node. A stack without `sdn` keeps the one-node texts (the goldens hold both, byte for byte).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { filterRules, renderDataplaneTool, vxlanPeers } from "../../../render/dataplane";
import { renderTenantEnv, tenantEnv } from "../../../render/dataplane-env";
import { PRODUCTION_SERVER_LAYOUT, serverLayoutFor } from "../../../render/layout";
import { renderServerSetupScript } from "../../../render/server-setup";
import { twoTenantPlan } from "./fixture";
import { sdnPlan } from "./sdn-fixture";

const plan = sdnPlan();
const [vpn1, vpn2] = plan.servers;
const [acme, coop] = plan.tenants;
const L = serverLayoutFor(plan);
const tool = renderDataplaneTool(plan, vpn1, L);

describe("serverLayoutFor: the VPN servers' NIC names follow the VM's NICs", () => {
  it("one node: production's layout, eth0 public, eth1 trunk, eth2 management", () => {
    expect(serverLayoutFor(twoTenantPlan())).toBe(PRODUCTION_SERVER_LAYOUT);
    expect(PRODUCTION_SERVER_LAYOUT.ifaces).toEqual({ public: "eth0", trunk: "eth1", mgmt: "eth2" });
  });

  it("sdn: no trunk NIC, so the management NIC is net1, eth1; every directory as in production", () => {
    expect(L).toEqual({ ...PRODUCTION_SERVER_LAYOUT, ifaces: { public: "eth0", trunk: "", mgmt: "eth1" } });
  });
});

describe("lr-dataplane under sdn", () => {
  it("names no trunk and no single console host; the underlay and this VTEP instead", () => {
    expect(tool).not.toMatch(/TRUNK|HOST_MGMT|type vlan/);
    expect(tool).toContain("\nMGMT=eth1\nVXLAN_LOCAL=192.168.100.11\nVXLAN_PORT=4789\nVXLAN_MTU=1450\nVXLAN_PEERS=(192.168.100.10 192.168.100.20 192.168.100.12)\n");
    expect(tool).toContain('B+=("link add $T_LINK mtu $VXLAN_MTU type vxlan id $T_VNI local $VXLAN_LOCAL dstport $VXLAN_PORT")');
    expect(tool).toContain("--to-destination $T_CONSOLE_HOST:$T_VNC_PORT");
  });

  it("the skeleton sends DNATed consoles by main to the whole management network (any node); one node: to the host only", () => {
    const rule101 = (t: string) => t.split("\n").filter((l) => l.startsWith("101|"));
    expect(rule101(tool)).toEqual(["101|to 192.168.100.0/24 lookup 254|from all to 192.168.100.0/24 lookup 254"]);
    const one = twoTenantPlan();
    expect(rule101(renderDataplaneTool(one, one.servers[0], PRODUCTION_SERVER_LAYOUT))).toEqual(["101|to 192.168.100.10 lookup 254|from all to 192.168.100.10 lookup 254"]);
  });

  it("VXLAN is accepted only from the zone's other VTEPs to this server on eth1, dropped from anyone else, before the conntrack accept", () => {
    expect(vxlanPeers(plan, vpn1)).toEqual(["192.168.100.10", "192.168.100.20", "192.168.100.12"]);
    expect(vxlanPeers(plan, vpn2)).toEqual(["192.168.100.10", "192.168.100.20", "192.168.100.11"]);
    const rules = filterRules(plan, vpn1, L);
    const vx = rules.filter((r) => r.includes("--dport 4789"));
    expect(vx).toEqual([
      "-A LR-IN -s 192.168.100.10/32 -d 192.168.100.11/32 -i eth1 -p udp -m udp --dport 4789 -j ACCEPT",
      "-A LR-IN -s 192.168.100.20/32 -d 192.168.100.11/32 -i eth1 -p udp -m udp --dport 4789 -j ACCEPT",
      "-A LR-IN -s 192.168.100.12/32 -d 192.168.100.11/32 -i eth1 -p udp -m udp --dport 4789 -j ACCEPT",
      "-A LR-IN -p udp -m udp --dport 4789 -j DROP",
    ]);
    expect(rules.indexOf(vx[3])).toBeLessThan(rules.indexOf("-A LR-IN -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"));
    // The console DNAT may go to every node, and only out of the management NIC.
    expect(rules.filter((r) => r.includes("--ctstate DNAT"))).toEqual([
      "-A LR-FWD -d 192.168.100.10/32 -i tun-udp -o eth1 -p tcp -m conntrack --ctstate DNAT -j ACCEPT",
      "-A LR-FWD -d 192.168.100.20/32 -i tun-udp -o eth1 -p tcp -m conntrack --ctstate DNAT -j ACCEPT",
      "-A LR-FWD -d 192.168.100.10/32 -i tun-tcp -o eth1 -p tcp -m conntrack --ctstate DNAT -j ACCEPT",
      "-A LR-FWD -d 192.168.100.20/32 -i tun-tcp -o eth1 -p tcp -m conntrack --ctstate DNAT -j ACCEPT",
    ]);
  });

  it("refuses a zone whose peers lack this server, naming the key", () => {
    const lacking = { ...plan, sdn: { ...plan.sdn!, peers: plan.sdn!.peers.filter((p) => p !== vpn1.mgmtIp) } };
    expect(() => renderDataplaneTool(lacking, vpn1, L)).toThrow("sdn.peers 192.168.100.10, 192.168.100.20, 192.168.100.12 lack vpn1's management address 192.168.100.11 (network.management.vpnIps): it is a VTEP of the zone");
  });
});

describe("env files under sdn", () => {
  it("carry the tenant's VNI and its own node's address (its console host)", () => {
    expect(tenantEnv(vpn1, acme, plan.nodes)).toMatchObject({ LR_LINK: "vx1", LR_VNI: "100001", LR_CONSOLE_HOST: "192.168.100.10" });
    expect(tenantEnv(vpn1, coop, plan.nodes)).toMatchObject({ LR_LINK: "vx2", LR_VNI: "100002", LR_CONSOLE_HOST: "192.168.100.20" });
    expect(() => renderTenantEnv(plan.stack, vpn1, acme)).toThrow("tenant acme is on VXLAN vnet lr1: its env file needs plan.nodes (its console host); pass them to renderTenantEnv");
  });

  it("the tool reads them, and refuses a one-node file (no VNI, no console host)", () => {
    const dir = mkdtempSync(join(tmpdir(), "lr-sdn-env-"));
    try {
      const lib = tool.slice(0, tool.lastIndexOf("\ncase ${1:-} in\n"));
      const load = (text: string) => {
        writeFileSync(join(dir, "acme.env"), text);
        const r = spawnSync("bash", ["-c", `${lib}\nload_env "$1" && printf '%s %s %s\\n' "$T_LINK" "$T_VNI" "$T_CONSOLE_HOST"`, "lr-dataplane", join(dir, "acme.env")], { encoding: "utf8" });
        return { code: r.status, out: r.stdout, err: r.stderr };
      };
      expect(load(renderTenantEnv(plan.stack, vpn1, acme, plan.nodes))).toEqual({ code: 0, out: "vx1 100001 192.168.100.10\n", err: "" });
      const one = twoTenantPlan();
      expect(load(renderTenantEnv(one.stack, one.servers[0], one.tenants[0]))).toEqual({ code: 1, out: "", err: `lr-dataplane: ${join(dir, "acme.env")}: expected 17 fields, found 15\n` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the setup script under sdn", () => {
  const setup = renderServerSetupScript(plan, vpn1, L, []);

  it("needs no NIC MAC, renames nothing and writes no trunk file; it removes those of a one-node release", () => {
    expect(setup).not.toMatch(/TRUNK_MAC|renamed|05-librerouter-trunk\.link' 0644/);
    expect(setup).toContain("for f in '/etc/systemd/network/05-librerouter-trunk.link' '/etc/network/interfaces.d/librerouter-trunk'; do\n  if [[ -e $f ]]; then\n    rm -f \"$f\"");
  });

  it("one node: the trunk's MAC is required", () => {
    const one = twoTenantPlan();
    expect(() => renderServerSetupScript(one, one.servers[0], PRODUCTION_SERVER_LAYOUT, [])).toThrow("setup for vpn1: nics.trunkMac undefined is not a unicast MAC address like bc:24:11:5e:00:01; pass the VM's networkDevices[1].macAddress");
  });
});
