/**
 * The cluster lab's plan and plumbing (`npm run lab -- --hosts 2`, lab/hosts.ts): two nodes over a VXLAN zone, vpn1
 * and vpn2 on different nodes, tenants on both, every vnet on every node with flood entries to exactly the other
 * VTEPs; each node renders its own host files (plan.host is that node). The one-host lab's stack is untouched.
 */
import { buildPlan } from "../../plan/build";
import { Netns } from "../../lab/netns";
import { isCluster, nodeRole, nodeView, tenantNodeIp, vnetLines, vnetNames } from "../../lab/hosts";
import { LAB_CLUSTER_MIN_TENANTS, LAB_NODES, labPlan, labStack } from "../../lab/stack";
import { namespaceNames } from "../../lab/topology";
import { CLUSTER_CHECKS, nodeNamespaces } from "../../lab/check-cluster";
import { CHECKS } from "../../lab/checks";
import { labServerLayout } from "../../lab/layout";
import { PRODUCTION_SERVER_LAYOUT } from "../../render/layout";
import type { Lab } from "../../lab/lab";

const HWID = "a".repeat(64);

describe("lab --hosts 2", () => {
  const plan = labPlan(4, HWID, "fixed", 2);

  it("plans two nodes over VXLAN: vpn1 on hostA, vpn2 on hostB, tenants on both, the checks' first two and last tenant on hostA", () => {
    expect(plan.nodes.map((n) => [n.name, n.mgmtIp])).toEqual([
      ["hostA", "192.168.100.10"],
      ["hostB", "192.168.100.20"],
    ]);
    expect(plan.host.node).toBe("hostA");
    expect(plan.sdn).toMatchObject({ vniBase: 100000, port: 4789, mtu: 1450, peers: ["192.168.100.10", "192.168.100.20", "192.168.100.11", "192.168.100.12"] });
    expect(plan.servers.map((s) => [s.name, s.node])).toEqual([
      ["vpn1", "hostA"],
      ["vpn2", "hostB"],
    ]);
    expect(plan.tenants.map((t) => [t.key, t.node, t.link, t.sdn?.vni])).toEqual([
      ["acme", "hostA", "vx1", 100001],
      ["coop-sur", "hostA", "vx2", 100002],
      ["delta", "hostB", "vx3", 100003],
      ["echo", "hostA", "vx4", 100004],
    ]);
    expect(isCluster(plan)).toBe(true);
  });

  it("refuses fewer tenants than the checks need, naming the option", () => {
    expect(() => labStack(LAB_CLUSTER_MIN_TENANTS - 1, HWID, "fixed", 2)).toThrow(`--hosts 2 needs --tenants ${LAB_CLUSTER_MIN_TENANTS} or more`);
  });

  it("keeps the one-host stack as it was: no nodes, sdn or placement, node lab, VLAN links", () => {
    const one = labStack(2, HWID);
    expect(one).not.toHaveProperty("nodes");
    expect(one).not.toHaveProperty("sdn");
    expect(one).not.toHaveProperty("placement");
    expect(one.proxmox).toEqual({ endpoint: "https://pve-lab.invalid:8006/", node: "lab" });
    const p = buildPlan(one, "lab");
    expect(p.sdn).toBeUndefined();
    expect(isCluster(p)).toBe(false);
    expect(p.tenants.map((t) => t.link)).toEqual(["vl101", "vl102"]);
    expect(tenantNodeIp(p, p.tenants[1])).toBe(p.host.mgmtIp);
  });

  it("lays out every vnet on each node: bridge lr<slot> with vxlan_lr<slot> (VNI, local = the node), flooding to every other VTEP only", () => {
    const [a, b] = plan.nodes;
    const va = vnetLines(plan, a, plan.bridges.management);
    expect(va.ip).toContain(`link add vxlan_lr3 mtu 1450 type vxlan id 100003 local 192.168.100.10 dstport 4789 dev ${plan.bridges.management}`);
    expect(va.ip).toContain("link set vxlan_lr3 master lr3");
    expect(va.fdb.filter((l) => l.includes("dev vxlan_lr3 "))).toEqual(["192.168.100.20", "192.168.100.11", "192.168.100.12"].map((p) => `fdb append 00:00:00:00:00:00 dev vxlan_lr3 dst ${p}`));
    const vb = vnetLines(plan, b, plan.bridges.management);
    expect(vb.ip).toContain(`link add vxlan_lr1 mtu 1450 type vxlan id 100001 local 192.168.100.20 dstport 4789 dev ${plan.bridges.management}`);
    expect(vb.fdb.some((l) => l.endsWith("dst 192.168.100.20"))).toBe(false);
    expect(vb.fdb).toHaveLength(plan.tenants.length * 3);
    expect(vnetNames(plan.tenants[2])).toEqual({ bridge: "lr3", vxlan: "vxlan_lr3", port: "t3" });
  });

  it("renders each node's host files as that node: plan.host is hostB's address in hostB's view, the plan itself in hostA's", () => {
    expect(nodeView(plan, "hostA")).toBe(plan);
    const b = nodeView(plan, "hostB");
    expect(b.host).toEqual({ ...plan.host, node: "hostB", mgmtIp: LAB_NODES[1].mgmtIp });
    expect(b.tenants).toBe(plan.tenants);
    expect(() => nodeView(plan, "hostC")).toThrow('lab: no node "hostC" in plan.nodes (hostA, hostB)');
    expect(tenantNodeIp(plan, plan.tenants[2])).toBe("192.168.100.20");
  });

  it("names a namespace per node (the API node's is the one-host lab's host) and the switch; node-failure kills what runs on the node", () => {
    const netns = new Netns("lrltest");
    const ns = namespaceNames(netns, plan);
    expect(ns.nodes).toEqual({ hostA: "lrltest-host", hostB: "lrltest-hostB" });
    expect(ns.sw).toBe("lrltest-sw");
    expect(nodeRole(plan, "hostA")).toBe("host");
    const lab = { plan, ns } as unknown as Lab;
    expect(nodeNamespaces(lab, "hostA").sort()).toEqual(["lrltest-host", "lrltest-vpn1", "lrltest-svc", "lrltest-ux", "lrltest-lr1", "lrltest-lr2", "lrltest-lr4"].sort());
    expect(nodeNamespaces(lab, "hostB").sort()).toEqual(["lrltest-hostB", "lrltest-vpn2", "lrltest-lr3"].sort());
    const one = namespaceNames(netns, labPlan(2, HWID));
    expect(one.nodes).toEqual({ lab: "lrltest-host" });
    expect(one.sw).toBeUndefined();
  });

  it("gives the VPN servers production's interface names for the plan: eth1 management and no trunk under SDN, the one-host lab's as before", () => {
    expect(labServerLayout("/run", "vpn2", plan).ifaces).toEqual({ public: "eth0", trunk: "", mgmt: "eth1" });
    expect(labServerLayout("/run", "vpn2", plan).confDir).toBe("/run/vpn2/conf");
    expect(labServerLayout("/run", "vpn1", labPlan(2, HWID)).ifaces).toEqual(PRODUCTION_SERVER_LAYOUT.ifaces);
    expect(labServerLayout("/run", "vpn1").ifaces).toEqual(PRODUCTION_SERVER_LAYOUT.ifaces);
  });

  it("has the cluster checks console-nodes, then node-failure last (it leaves its node dead), no id clashing with lab/checks.ts", () => {
    expect(CLUSTER_CHECKS.map((c) => c.id)).toEqual(["console-nodes", "node-failure"]);
    const ids = [...CHECKS, ...CLUSTER_CHECKS].map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
