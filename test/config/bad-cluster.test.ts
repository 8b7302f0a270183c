/** Bad `nodes`, `placement`, `sdn`, `ha` and `shards` blocks: each refused with the key and the fix; exact messages. */
import { buildPlan } from "../../plan/build";
import { baseConfig, clusterConfig, configError, type Fixture, loose, withChange } from "./fixture";

type Row = [name: string, mutate: (c: Fixture) => void, text: string];

const rows: Row[] = [
  ["two nodes on VLANs", (c) => void (c.sdn = { kind: "none" }), "sdn.kind: must be vxlan with two or more nodes: the tenants' networks must reach the VPN servers from every node; set sdn: { kind: vxlan } (the other defaults fit)"],
  ["a node without hardware", (c) => void delete c.nodes![1].hardware, "nodes.1.hardware: is required with two or more nodes (placement and the capacity check weigh each node): add { ramGb, cpuCores }"],
  [
    "a second node without its templates",
    (c) => void delete c.nodes![2].templates,
    "nodes.2.templates: is required for a node other than the API node: give the VMIDs of its copies of the templates, e.g. { librerouter: 9030, debian: 9031 } (a clone comes from a template on its own node)",
  ],
  ["the API node not listed", (c) => void Object.assign(c.nodes![0], { name: "pve0", templates: { librerouter: 9000, debian: 9001 } }), "nodes: does not list the API node pve1 (proxmox.node); add it, or set proxmox.node to one of pve0, pve2, pve3"],
  ["the API node elsewhere than hostIp", (c) => void (c.nodes![0].mgmtIp = "192.168.100.9"), "nodes.0.mgmtIp: got \"192.168.100.9\"; the API node pve1 (proxmox.node) is at network.management.hostIp 192.168.100.10: make them the same"],
  ["a node twice", (c) => void (c.nodes![2].name = "pve2"), "nodes.2.name: got \"pve2\" twice; every node is listed once"],
  ["two nodes on one address", (c) => void (c.nodes![2].mgmtIp = "192.168.100.20"), "nodes.2.mgmtIp: got \"192.168.100.20\"; already used by nodes.1; every node needs its own management address"],
  ["a node on vpn1's address", (c) => void (c.nodes![2].mgmtIp = "192.168.100.11"), "nodes.2.mgmtIp: got \"192.168.100.11\"; it is a VPN server's or the services VM's management address (network.management)"],
  ["a node outside management", (c) => void (c.nodes![2].mgmtIp = "10.1.2.3"), "nodes.2.mgmtIp: got \"10.1.2.3\"; must be inside network.management.cidr 192.168.100.0/24 (the VXLAN underlay and the nodes' API)"],
  ["both VPN servers on one node", (c) => void (c.placement = { vpn1: "pve2", vpn2: "pve2" }), "placement: vpn1 and vpn2 both run on pve2: one node failure would take every tenant down; put them on different nodes"],
  [
    "both VPN servers in one rack",
    (c) => void (c.nodes![1].failureDomain = "rack-1"),
    "placement: vpn1 (pve1) and vpn2 (pve2) share failure domain rack-1; put them in different ones",
  ],
  ["an unknown placement node", (c) => void (c.placement = { services: "pve9" }), "placement.services: got \"pve9\"; not a node of this stack (pve1, pve2, pve3)"],
  ["a tenant pinned to no node", (c) => void (c.tenants.acme.node = "pve9"), "tenants.acme.node: got \"pve9\"; not a node of this stack (pve1, pve2, pve3)"],
  ["VNIs past 24 bits", (c) => void (c.sdn = { kind: "vxlan", vniBase: 16_777_210 }), "sdn.vniBase: VNI sdn.vniBase + slot = 16777224 (slot 14) is above VXLAN's 16777215; lower sdn.vniBase (now 16777210)"],
  ["an underlay too small for VXLAN", (c) => void (c.sdn = { kind: "vxlan", underlayMtu: 1300 }), "sdn.underlayMtu: leaves the tenants' networks 1250 bytes, below IPv6's minimum 1280; raise the underlay's MTU"],
  ["tenants on HA without shared storage", (c) => void (c.ha = { tenants: true }), "ha.tenants: needs ha.datastore (a shared storage such as a Ceph RBD pool): a router on a local disk cannot restart on another node"],
  ["a zone id Proxmox refuses", (c) => void (c.sdn = { kind: "vxlan", zone: "lr-zone" }), "sdn.zone: got \"lr-zone\"; must be a Proxmox SDN id: a lowercase letter, then letters or digits, at most 8 characters, e.g. lrvx"],
  ["Ceph with one copy", (c) => void (c.ha = { datastore: "ceph-vm", replicas: 1 }), "ha.replicas: got 1; replicas must be at least 2 (Ceph pools keep 2 to 5 copies; 3 is the default and the safe choice)"],
  ["a VXLAN port the nodes do not use", (c) => void (c.sdn = { kind: "vxlan", port: 4790 }), "sdn.port: got 4790; the Proxmox provider cannot set the zone's VXLAN port, so the nodes use 4789: set sdn.port to 4789"],
  ["a node named like an infrastructure VM", (c) => void Object.assign(c.nodes![2], { name: "vpn2" }), 'nodes.2.name: got "vpn2"; a node may not be called vpn1, vpn2, services (the monitoring names the VMs so); rename the node'],
  ["firstSlot on the API node", (c) => void (c.nodes![0].firstSlot = 100), "nodes.0.firstSlot: is set on the API node pve1; it is for a node added to a running cluster, and the API node takes every tenant: remove it"],
  ["a misspelt node key", (c) => void (loose(c.nodes![1]).mgmtIP = "192.168.100.20"), "nodes.1: unknown key \"mgmtIP\" (did you mean \"mgmtIp\"?); remove it or fix the spelling (see Pulumi.yaml)"],
];

describe("bad cluster config", () => {
  it.each(rows)("%s", (_name, mutate, text) => {
    expect(configError(withChange(clusterConfig(), mutate)).message.split("\n")).toEqual(['stack "test": config has 1 problem (nothing was created):', `  - librerouter-hosting:${text}`]);
  });

  it("the cluster fixture itself is valid, and one node (no nodes key) still plans as before: the API node, no SDN, one stack", () => {
    const c = buildPlan(clusterConfig(), "test");
    expect(c.nodes.map((n) => n.name)).toEqual(["pve1", "pve2", "pve3"]);
    const one = buildPlan(baseConfig(), "test");
    expect(one.nodes).toEqual([{ name: "pve1", mgmtIp: "192.168.100.10", failureDomain: "pve1", templates: { vmid: one.templates.vmid, serverVmid: one.templates.serverVmid } }]);
    expect([one.sdn, one.shards, one.ha]).toEqual([undefined, undefined, { tenants: false, replicas: 3 }]);
    expect(new Set(one.tenants.map((t) => [t.node, t.link.slice(0, 2), t.sdn].join()))).toEqual(new Set(["pve1,vl,"]));
  });

  it("a VLAN id above 4094 is refused on VLANs and fine under SDN, where the VNI carries the tenant", () => {
    const far = (c: Fixture) => void (c.tenants.far = { slot: 4000, publicIp: "198.51.100.250" });
    expect(configError(withChange(baseConfig(), far)).message).toContain("VLAN id network.vlanBase + slot = 4100 is above 4094");
    const t = buildPlan(withChange(clusterConfig(), far), "test").tenants.find((x) => x.key === "far")!;
    expect([t.link, t.sdn]).toEqual(["vx4000", { vnet: "lr4000", vni: 104000 }]);
  });
});
