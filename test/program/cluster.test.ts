/**
 * The program on a small three-node cluster (test/config/fixture.ts clusterConfig: pve1 the API node, pve2, pve3; sdn
 * vxlan; 7 tenants, distinct mode) under mocks: a ProxmoxHost per node with its own SSH connection, every VM on its
 * planned node cloned from that node's template, the SDN zone, a vnet per tenant in the tenant's component, the SDN
 * apply, and HA with `ha.datastore`. Then change scenarios through the engine model (engine/classify.ts).
 *
 * What mocks cannot prove: that Proxmox lays out the vnets (an apply task), that the HA manager honours the rules,
 * and the engine's real ordering of a replacement against deletes (modelled here from step_generator.go).
 */
import { clusterConfig, withChange } from "../config/fixture";
import { buildPlan } from "../../plan/build";
import type { Plan } from "../../plan/types";
import { certRows, rowsMissingFrom, tenantCertRow } from "./engine/cert-figures";
import { classify } from "./engine/classify";
import { checkHaRule } from "./engine/provider-rules";
import { type Scenario, invariantViolations, scenario, stackConfig } from "./engine/scenario";
import { type ProgramRun, type Recorded, byName, reveal, runProgram, writtenFiles } from "./harness";

const TIMEOUT = 300_000;
const STACK = "test";
type Raw = Parameters<typeof scenario>[2];
const raw = (c: unknown) => c as Raw;
const APPLIER = "proxmoxve:sdn/applier:Applier";
const VNET = "proxmoxve:sdn/vnet:Vnet";
const SUBNET = "proxmoxve:sdn/subnet:Subnet";
const HARES = "proxmoxve:index/haresource:Haresource";
const HARULE = "proxmoxve:index/harule:Harule";
const tenantOf = (key: string) => (name: string) => name === `tenant-${key}` || name.startsWith(`tenant-${key}-`);
const ofType = (run: ProgramRun, type: string) => run.resources.filter((r) => r.type === type);
const inputs = (r: Recorded) => reveal(r.inputs) as Record<string, unknown>;
const conn = (r: Recorded) => (inputs(r).connection as { host: string; hostKey?: string }).host;
/** A command's stdin with every file it writes decoded (the serial bridge's config travels base64-encoded). */
const scriptText = (r: Recorded) => {
  const stdin = String(inputs(r).stdin);
  return [stdin, ...[...writtenFiles(stdin).values()].map((f) => f.content)].join("\n");
};
const byNameSorted = (rs: readonly Recorded[]) => [...rs].sort((a, b) => a.name.localeCompare(b.name));

const withHa = (tenants = false) => withChange(clusterConfig(), (c) => void (c.ha = { datastore: "ceph-vm", tenants }));

let plan: Plan;
let run: ProgramRun;
let fixed: ProgramRun;
let ha: ProgramRun;
let haTenants: ProgramRun;

beforeAll(async () => {
  plan = buildPlan(clusterConfig(), STACK);
  run = await runProgram(STACK, clusterConfig() as never);
  fixed = await runProgram(STACK, withChange(clusterConfig(), (c) => void (c.tenantNetwork = { mode: "fixed" })) as never);
  ha = await runProgram(STACK, withHa() as never);
  haTenants = await runProgram(STACK, withHa(true) as never);
  for (const r of [run, fixed, ha, haTenants]) if (r.error) throw r.error;
}, TIMEOUT);

describe("first pulumi up on the cluster", () => {
  test("every input passes the providers' create-time checks (HA rules, vnets, HA resources …), with and without HA and in fixed mode", () => {
    for (const r of [run, fixed, ha, haTenants]) {
      const plan0 = classify([], r.resources);
      expect(plan0.steps.flatMap((st) => st.invalid.map((m) => `${st.name}: ${m}`))).toEqual([]);
      expect(new Set(plan0.steps.map((st) => st.op))).toEqual(new Set(["create"]));
    }
  });
});

describe("a ProxmoxHost per node", () => {
  test("the API node keeps the released names, the others are named from the node name; no bridge is managed in a cluster", () => {
    expect(ofType(run, "librerouter:host:ProxmoxHost").map((r) => r.name)).toEqual(["host", "host-pve2", "host-pve3"]);
    expect(ofType(run, "proxmoxve:node/firewallLegacy:FirewallLegacy").map((r) => [r.name, inputs(r).nodeName])).toEqual([
      ["host-node-firewall", "pve1"],
      ["host-pve2-node-firewall", "pve2"],
      ["host-pve3-node-firewall", "pve3"],
    ]);
    // Cluster-wide: once, and every node's own firewall waits on it.
    const dc = ofType(run, "proxmoxve:cluster/firewallLegacy:FirewallLegacy");
    expect(dc.map((r) => r.name)).toEqual(["host-datacenter-firewall"]);
    for (const n of ["host", "host-pve2", "host-pve3"]) expect(byName(run.resources, `${n}-node-firewall`).options.dependencies).toEqual([dc[0].urn]);
    // The management bridge is the nodes' own network, the tenants' networks are vnets: no Bridge resource at all.
    expect(ofType(run, "proxmoxve:network/linux/bridge:Bridge")).toEqual([]);
  });

  test("each node's console firewall and serial bridge run over that node's own SSH connection, on its management address", () => {
    for (const n of plan.nodes) {
      const prefix = n.name === "pve1" ? "host" : `host-${n.name}`;
      for (const part of ["console-firewall", "serial-bridge"]) {
        const c = byName(run.resources, `${prefix}-${part}`);
        expect(conn(c)).toBe(n.name === "pve1" ? "pve1.example.net" : n.mgmtIp);
        expect(scriptText(c)).toContain(n.mgmtIp);
        for (const other of plan.nodes.filter((o) => o.name !== n.name)) expect([c.name, scriptText(c).includes(other.mgmtIp)]).toEqual([c.name, false]);
      }
    }
  });

  test("the ban grid on every node: each node's agent and bridge bouncer over its own connection, enrolled on the LAPI; each node's monitoring after it", () => {
    const enrol = String(inputs(byName(run.resources, "bans-services-enrol")).stdin);
    for (const n of plan.nodes) {
      const member = n.name === "pve1" ? "host" : `host-${n.name}`;
      const c = byName(run.resources, `bans-${member}`);
      expect(conn(c)).toBe(n.name === "pve1" ? "pve1.example.net" : n.mgmtIp);
      const files = writtenFiles(String(inputs(c).stdin));
      // Its bridge table: the bouncer's ban set in front of the VMs on this node's public bridge.
      expect([...files.values()].some((f) => /table bridge /.test(f.content))).toBe(true);
      expect([...files.entries()].find(([path]) => path.endsWith("/local_api_credentials.yaml"))?.[1].content).toContain(`login: ${member}\n`);
      expect(enrol).toContain(member);
      expect(enrol).toContain(`fw-${member}`);
      const host = byName(run.resources, n.name === "pve1" ? "host-console-firewall" : `host-${n.name}-console-firewall`);
      expect(c.options.dependencies).toEqual(expect.arrayContaining([host.urn, byName(run.resources, "bans-services-enrol").urn]));
      expect(byName(run.resources, `monitoring-${n.name}`).options.dependencies).toContain(c.urn);
    }
  });

  test("each node's console firewall lets the VPN servers' VXLAN in, drops the guests' other new connections on the management bridge, and leaves the cluster's own traffic to pve-firewall", () => {
    const guests = [...plan.servers.map((x) => x.mgmtIp), plan.services.mgmtIp];
    for (const n of plan.nodes) {
      // The apply script as sent (the tool it also installs is the same text, base64-encoded).
      const text = String(inputs(byName(run.resources, `${n.name === "pve1" ? "host" : `host-${n.name}`}-console-firewall`)).stdin);
      const mgmt = text.split("\n").filter((l) => l.startsWith("-A LR-MGMT") && !l.includes("--dports") && !l.includes("--dport 5899"));
      expect(mgmt).toEqual([
        "-A LR-MGMT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        // Monitoring (issue 14): Prometheus on the services VM scrapes this node's exporter.
        `-A LR-MGMT -s ${plan.services.mgmtIp}/32 -d ${n.mgmtIp}/32 -p tcp -m tcp --dport 9100 -j ACCEPT`,
        ...plan.servers.map((x) => `-A LR-MGMT -s ${x.mgmtIp}/32 -d ${n.mgmtIp}/32 -p udp -m udp --dport 4789 -j ACCEPT`),
        ...guests.map((ip) => `-A LR-MGMT -s ${ip}/32 -j DROP`),
        "-A LR-MGMT -j RETURN",
        // ip6tables: unchanged (every new IPv6 connection on the bridge dropped)
        "-A LR-MGMT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-A LR-MGMT -j DROP",
      ]);
    }
  });

  test("the provider uploads each node's snippets at that node's management address", () => {
    const provider = byName(run.resources, "proxmox");
    // A provider's nested inputs reach the engine as JSON text; the whole block is secret (it holds the key).
    const ssh = inputs(provider).ssh;
    expect((JSON.parse(String(ssh)) as { nodes: unknown }).nodes).toEqual(plan.nodes.map((n) => ({ name: n.name, address: n.mgmtIp })));
  });
});

describe("every VM on its planned node, cloned from that node's template", () => {
  test("tenants: nodeName, clone source, VNC on the node's address, the node's snippet, firewall and console-pw", () => {
    // The fixture spreads the tenants over all three nodes (weighted rendezvous hashing).
    expect(new Set(plan.tenants.map((t) => t.node))).toEqual(new Set(["pve1", "pve2", "pve3"]));
    for (const t of plan.tenants) {
      const n = plan.nodes.find((x) => x.name === t.node);
      if (!n) throw new Error(t.node);
      const vm = inputs(byName(run.resources, `tenant-${t.key}-vm`));
      expect([t.key, vm.nodeName, (vm.clone as { vmId: number }).vmId]).toEqual([t.key, t.node, n.templates.vmid]);
      expect(vm.migrate).toBeUndefined();
      expect(String(vm.kvmArguments)).toContain(`-vnc ${n.mgmtIp}:${t.vnc.display},`);
      expect(inputs(byName(run.resources, `tenant-${t.key}-vnc-pw`)).nodeName).toBe(t.node);
      for (const part of ["ipfilter", "firewall"]) expect(inputs(byName(run.resources, `tenant-${t.key}-${part}`)).nodeName).toBe(t.node);
      expect(conn(byName(run.resources, `tenant-${t.key}-console-pw`))).toBe(t.node === "pve1" ? "pve1.example.net" : n.mgmtIp);
    }
  });

  test("vpn1, vpn2 and services: their node, its Debian template, migrate on a node change; the guests are reached through the API node", () => {
    const placed = { vpn1: plan.servers[0].node, vpn2: plan.servers[1].node, services: plan.services.node };
    expect(placed).toEqual({ vpn1: "pve1", vpn2: "pve2", services: "pve3" });
    for (const [vm, node] of Object.entries(placed)) {
      const n = plan.nodes.find((x) => x.name === node);
      const i = inputs(byName(run.resources, `${vm}-vm`));
      expect([vm, i.nodeName, (i.clone as { vmId: number }).vmId, i.migrate]).toEqual([vm, node, n?.templates.serverVmid, true]);
      // Through the API node, wherever the VM runs: a new placement changes no command's connection.
      expect(conn(byName(run.resources, `${vm}-hostkey`))).toBe("pve1.example.net");
    }
  });

  test("under SDN the VPN servers have no trunk NIC: public and management only, and the tenant VM's LAN NIC is its vnet without a VLAN tag", () => {
    for (const s of plan.servers) {
      const i = inputs(byName(run.resources, `${s.name}-vm`));
      expect(i.networkDevices).toEqual([
        { bridge: "vmbr0", model: "virtio" },
        { bridge: "vmbr2", model: "virtio" },
      ]);
      expect((i.initialization as { ipConfigs: unknown[] }).ipConfigs).toHaveLength(2);
    }
    for (const t of plan.tenants) expect((inputs(byName(run.resources, `tenant-${t.key}-vm`)).networkDevices as unknown[])[1]).toEqual({ bridge: `lr${t.slot}`, model: "virtio" });
  });
});

describe("SDN", () => {
  test("one VXLAN zone: id, every node and both VPN servers as peers, the underlay's MTU less 50, all nodes; after its finalizer", () => {
    const zones = ofType(run, "proxmoxve:sdn/zone/vxlan:Vxlan");
    expect(zones.map((z) => [z.name, inputs(z)])).toEqual([
      ["sdn-zone", { resourceId: "lrvx", peers: ["192.168.100.10", "192.168.100.20", "192.168.100.30", ...plan.servers.map((x) => x.mgmtIp)], mtu: 1450, nodes: ["pve1", "pve2", "pve3"] }],
    ]);
    expect(zones[0].options.dependencies).toEqual([byName(run.resources, "sdn-finalizer").urn]);
    expect(zones[0].parent).toBe(byName(run.resources, "sdn").urn);
  });

  test("a vnet per tenant, in the tenant's component, named from its key: vnet lr<slot>, tag = VNI, after the zone and its own finalizer", () => {
    const vnets = ofType(run, VNET);
    expect(vnets.map((v) => v.name)).toEqual(plan.tenants.map((t) => `tenant-${t.key}-vnet`));
    for (const t of plan.tenants) {
      const v = byName(run.resources, `tenant-${t.key}-vnet`);
      expect(inputs(v)).toEqual({ resourceId: `lr${t.slot}`, zone: "lrvx", tag: 100000 + t.slot, alias: `librerouter tenant ${t.key}` });
      expect(v.parent).toBe(byName(run.resources, `tenant-${t.key}`).urn);
      expect([...v.options.dependencies].sort()).toEqual([byName(run.resources, "sdn-zone").urn, byName(run.resources, `tenant-${t.key}-sdn-finalizer`).urn].sort());
      expect(v.options.deleteBeforeReplace).toBeUndefined();
    }
  });

  test("distinct mode: a subnet per vnet (its LAN, no gateway), delete-before-replace; fixed mode: none (the same /24 everywhere collides in one zone)", () => {
    for (const t of plan.tenants) {
      const s = byName(run.resources, `tenant-${t.key}-subnet`);
      expect(inputs(s)).toEqual({ vnet: `lr${t.slot}`, cidr: t.privateCidr });
      expect(s.options.deleteBeforeReplace).toBe(true);
      expect(s.options.dependencies).toEqual([byName(run.resources, `tenant-${t.key}-vnet`).urn]);
    }
    expect(ofType(fixed, SUBNET)).toEqual([]);
    expect(ofType(fixed, VNET)).toHaveLength(plan.tenants.length);
  });

  test("the apply: after the zone and every vnet and subnet, replaced when any of them changes (replacementTrigger), no apply on its own delete", () => {
    const apply = byName(run.resources, "sdn-apply");
    expect(inputs(apply)).toEqual({ onCreate: true, onDestroy: false });
    const sdnParts = run.resources.filter((r) => r.name === "sdn-zone" || r.type === VNET || r.type === SUBNET).map((r) => r.urn);
    expect([...apply.options.dependencies].sort()).toEqual(sdnParts.sort());
    expect(apply.options.replacementTrigger).toMatch(/^[0-9a-f]{64}$/);
    // Finalizers: nothing at create, the apply at delete (after their vnet or zone, which depend on them).
    const finalizers = ofType(run, APPLIER).filter((a) => a.name !== "sdn-apply");
    expect(finalizers.map((f) => f.name)).toEqual(["sdn-finalizer", ...plan.tenants.map((t) => `tenant-${t.key}-sdn-finalizer`)]);
    for (const f of finalizers) expect(inputs(f)).toEqual({ onCreate: false, onDestroy: true });
  });

  test("each tenant VM waits for its vnet and the apply (the vnet's bridge exists on its node only after the apply)", () => {
    for (const t of plan.tenants) {
      const deps = byName(run.resources, `tenant-${t.key}-vm`).options.dependencies;
      expect(deps).toEqual(expect.arrayContaining([byName(run.resources, `tenant-${t.key}-vnet`).urn, byName(run.resources, "sdn-apply").urn]));
    }
  });

  test("a VXLAN port other than 4789 is refused with the key and the fix (bpg cannot set the zone's port)", async () => {
    const r = await runProgram(STACK, withChange(clusterConfig(), (c) => void (c.sdn = { kind: "vxlan", port: 4790 })) as never);
    expect(r.error?.message).toContain("sdn.port: got 4790; the Proxmox provider cannot set the zone's VXLAN port, so the nodes use 4789: set sdn.port to 4789");
  });
});

describe("HA (ha.datastore)", () => {
  test("no ha.datastore: no HA resource or rule", () => {
    expect([...ofType(run, HARES), ...ofType(run, HARULE)]).toEqual([]);
  });

  test("the infrastructure VMs' disks on the shared datastore, each an HA resource (started, 1 restart, 2 relocations) after its VM", () => {
    for (const vm of ["vpn1", "vpn2", "services"]) {
      const i = inputs(byName(ha.resources, `${vm}-vm`));
      expect([(i.clone as { datastoreId: string }).datastoreId, (i.initialization as { datastoreId: string }).datastoreId]).toEqual(["ceph-vm", "ceph-vm"]);
    }
    const vmid = { vpn1: plan.servers[0].vmid, vpn2: plan.servers[1].vmid, services: plan.services.vmid };
    expect(byNameSorted(ofType(ha, HARES)).map((r) => [r.name, inputs(r), r.options.dependencies])).toEqual(
      (["services", "vpn1", "vpn2"] as const).map((k) => [`ha-${k}`, { resourceId: `vm:${vmid[k]}`, state: "started", maxRestart: 1, maxRelocate: 2, comment: `librerouter test: ${k}` }, [byName(ha.resources, `${k}-vm`).urn]]),
    );
    // Tenants stay off HA unless ha.tenants.
    for (const t of plan.tenants) expect((inputs(byName(ha.resources, `tenant-${t.key}-vm`)).disks as { datastoreId: string }[])[0].datastoreId).toBe("local-lvm");
  });

  test("rules: vpn1 and vpn2 never together (negative resource affinity), each infra VM prefers its planned node (not strict), after the HA resources", () => {
    const rules = byNameSorted(ofType(ha, HARULE));
    const vmid = { vpn1: plan.servers[0].vmid, vpn2: plan.servers[1].vmid, services: plan.services.vmid };
    expect(rules.map((r) => [r.name, inputs(r)])).toEqual([
      ...(["services", "vpn1", "vpn2"] as const).map((k) => [
        `ha-${k}-node`,
        { rule: `lr-test-${k}-node`, type: "node-affinity", resources: [`vm:${vmid[k]}`], nodes: { [{ vpn1: "pve1", vpn2: "pve2", services: "pve3" }[k]]: 1 }, strict: false, comment: `librerouter: prefer ${{ vpn1: "pve1", vpn2: "pve2", services: "pve3" }[k]}` },
      ]),
      ["ha-vpn-apart", { rule: "lr-test-vpn-apart", type: "resource-affinity", affinity: "negative", resources: [`vm:${vmid.vpn1}`, `vm:${vmid.vpn2}`], comment: "librerouter: vpn1 and vpn2 never on one node" }],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
    expect([...byName(ha.resources, "ha-vpn-apart").options.dependencies].sort()).toEqual([byName(ha.resources, "ha-vpn1").urn, byName(ha.resources, "ha-vpn2").urn].sort());
    expect(byName(ha.resources, "ha-vpn1-node").options.dependencies).toEqual([byName(ha.resources, "ha-vpn1").urn]);
    // Every rule passes bpg's own checks; `strict` on the resource-affinity rule would not.
    for (const r of rules) expect([r.name, checkHaRule(inputs(r))]).toEqual([r.name, []]);
    expect(checkHaRule({ ...inputs(byName(ha.resources, "ha-vpn-apart")), strict: true })).toEqual(["strict: only valid when type is node-affinity"]);
  });

  test("ha.tenants: each tenant's disk on the shared datastore, migrate on a node change, its own HA resource and node rule in its component", () => {
    for (const t of plan.tenants) {
      const vm = inputs(byName(haTenants.resources, `tenant-${t.key}-vm`));
      expect((vm.disks as { datastoreId: string }[])[0].datastoreId).toBe("ceph-vm");
      // Disk and base on shared storage: a node change migrates (local linked clones cannot, so they have no migrate).
      expect(vm.migrate).toBe(true);
      const res = byName(haTenants.resources, `tenant-${t.key}-ha`);
      const rule = byName(haTenants.resources, `tenant-${t.key}-ha-node`);
      expect(inputs(res).resourceId).toBe(`vm:${t.vmid}`);
      expect(inputs(rule)).toEqual({ rule: `lr-test-vm${t.vmid}-node`, type: "node-affinity", resources: [`vm:${t.vmid}`], nodes: { [t.node]: 1 }, strict: false, comment: `librerouter: prefer ${t.node}` });
      expect(rule.parent).toBe(byName(haTenants.resources, `tenant-${t.key}`).urn);
    }
    expect(ofType(haTenants, HARES)).toHaveLength(plan.tenants.length + 3);
  });
});

describe("change scenarios on the cluster", () => {
  let add: Scenario;
  let remove: Scenario;
  let moveVpn: Scenario;
  let moveTenant: Scenario;
  const base = () => raw(clusterConfig());
  // t12 is the only tenant on pve3 (asserted below).
  const withoutT12 = () => raw(withChange(clusterConfig(), (c) => void (c.numberedTenants.exclude = [12])));
  beforeAll(async () => {
    add = await scenario("cluster: add tenant newco", STACK, base(), raw(withChange(clusterConfig(), (c) => void (c.tenants.newco = { slot: 3 }))));
    remove = await scenario("cluster: remove t12, pve3's last tenant (VM and filters unprotected)", STACK, base(), withoutT12(), {
      unprotected: ["tenant-t12-vm", "tenant-t12-ipfilter", "tenant-t12-firewall"],
    });
    moveVpn = await scenario("cluster: vpn2 to pve3", STACK, base(), raw(withChange(clusterConfig(), (c) => void (c.placement = { vpn2: "pve3", services: "pve2" }))));
    moveTenant = await scenario("cluster: pin acme to pve2", STACK, base(), raw(withChange(clusterConfig(), (c) => void (c.tenants.acme.node = "pve2"))));
  }, TIMEOUT);

  test("adding a tenant creates only its resources (vnet and subnet included); the apply is replaced to lay the new vnet out; the reverse zone gains its PTR", () => {
    expect(add.changes.filter(([, n]) => !tenantOf("newco")(n))).toEqual([
      // newco's certificate end joins the monitoring's figures on the services VM, in place.
      ["update", "monitoring-services", ["stdin"]],
      ["replace", "sdn-apply", ["replacementTrigger"]],
      ["update", "services-setup", ["stdin"]],
    ]);
    expect(rowsMissingFrom(certRows(add.after.resources), certRows(add.before.resources))).toEqual([tenantCertRow(add.after.resources, "newco")]);
    expect(rowsMissingFrom(certRows(add.before.resources), certRows(add.after.resources))).toEqual([]);
    const created = add.changes.filter(([, n]) => tenantOf("newco")(n));
    expect(created.every(([op]) => op === "create")).toBe(true);
    expect(created.map(([, n]) => n)).toEqual(expect.arrayContaining(["tenant-newco-vnet", "tenant-newco-subnet", "tenant-newco-sdn-finalizer", "tenant-newco-vm"]));
    expect(invariantViolations(add, (n) => tenantOf("newco")(n) || n === "services-setup" || n === "sdn-apply" || n === "monitoring-services")).toEqual([]);
  });

  test("removing a node's last tenant touches no other tenant and nothing of its node: its resources go, its finalizer applies the removal", () => {
    expect(plan.tenants.filter((t) => t.node === "pve3").map((t) => t.key)).toEqual(["t12"]);
    const others = remove.changes.filter(([, n]) => !tenantOf("t12")(n));
    expect(others).toEqual([
      // t12's certificate end leaves the monitoring's figures, in place (no delete script).
      ["update", "monitoring-services", ["stdin"]],
      ["replace", "sdn-apply", ["replacementTrigger"]],
      ["update", "services-setup", ["stdin"]],
    ]);
    expect(rowsMissingFrom(certRows(remove.before.resources), certRows(remove.after.resources))).toEqual([tenantCertRow(remove.before.resources, "t12")]);
    expect(rowsMissingFrom(certRows(remove.after.resources), certRows(remove.before.resources))).toEqual([]);
    expect(remove.changes.filter(([, n]) => tenantOf("t12")(n)).every(([op]) => op === "delete")).toBe(true);
    expect(remove.changes.map(([, n]) => n)).toEqual(expect.arrayContaining(["tenant-t12-vnet", "tenant-t12-subnet", "tenant-t12-sdn-finalizer"]));
    expect(invariantViolations(remove, (n) => tenantOf("t12")(n) || n === "services-setup" || n === "sdn-apply" || n === "monitoring-services", ["tenant-t12-console-pw", "tenant-t12-vpn1", "tenant-t12-vpn2"])).toEqual([]);
  });

  test("moving vpn2 and services to other nodes migrates them in place (migrate): no rebuild, no new MAC, no command runs again", () => {
    // The clone source (the new node's template) is ignored (VM_IGNORE_CHANGES); the guests are reached through the
    // API node, so no connection changes either.
    expect(moveVpn.changes).toEqual([
      ["update", "services-vm", ["nodeName"]],
      ["update", "vpn2-vm", ["nodeName"]],
    ]);
    expect(invariantViolations(moveVpn, (n) => n === "services-vm" || n === "vpn2-vm")).toEqual([]);
  });

  test("moving a tenant to another node is a replacement of its router, which protect refuses at preview (a local linked clone cannot migrate)", () => {
    const vm = moveTenant.changes.find(([, n]) => n === "tenant-acme-vm");
    expect(vm).toEqual(["replace-dbr refused:protected", "tenant-acme-vm", ["nodeName", "kvmArguments"]]);
  });
});

describe("cluster growth and HA placement changes", () => {
  let addNode: Scenario;
  let addGuarded: Scenario;
  let moveHa: Scenario;
  const hw = { ramGb: 256, cpuCores: 16 };
  const withPve4 = (c: ReturnType<typeof clusterConfig>) => void c.nodes?.push({ name: "pve4", mgmtIp: "192.168.100.40", failureDomain: "rack-4", hardware: hw, templates: { librerouter: 9030, debian: 9031 } });
  beforeAll(async () => {
    addNode = await scenario("cluster: add node pve4", STACK, raw(clusterConfig()), raw(withChange(clusterConfig(), withPve4)));
    const nextSlot = Math.max(...plan.tenants.map((t) => t.slot)) + 1;
    addGuarded = await scenario("cluster: add node pve4 with firstSlot", STACK, raw(clusterConfig()), raw(withChange(clusterConfig(), (c) => void (withPve4(c), (c.nodes![3].firstSlot = nextSlot)))));
    moveHa = await scenario("cluster with HA: vpn2 to pve3", STACK, raw(withHa()), raw(withChange(withHa(), (c) => void (c.placement = { vpn2: "pve3", services: "pve2" }))));
  }, TIMEOUT);

  test("adding a node: its host and the zone's new peer and node; tenants that hashing moves to it are refused (hence nodes[].firstSlot), no other tenant changes", () => {
    const after = buildPlan(withChange(clusterConfig(), withPve4), STACK);
    const moved = after.tenants.filter((t) => plan.tenants.find((x) => x.key === t.key)?.node !== t.node).map((t) => t.key);
    expect(moved.every((k) => after.tenants.find((t) => t.key === k)?.node === "pve4")).toBe(true);
    const vmSteps = addNode.changes.filter(([, n]) => /^tenant-.*-vm$/.test(n));
    expect(vmSteps.map(([op, n]) => [op, n])).toEqual(moved.map((k) => ["replace-dbr refused:protected", `tenant-${k}-vm`]));
    const shared = addNode.changes.filter(([, n]) => !n.startsWith("tenant-") && !n.startsWith("host-pve4"));
    // The zone's peers and nodes are updates; the apply runs again; every node's serial bridge and console firewall
    // and the VPN servers learn the new VTEP; the provider learns the node's SSH address.
    expect(shared.find(([, n]) => n === "sdn-zone")).toEqual(["update", "sdn-zone", ["nodes[3]", "peers[3]", "peers[4]", "peers[5]"]]);
    expect(shared.find(([, n]) => n === "sdn-apply")).toEqual(["replace", "sdn-apply", ["replacementTrigger"]]);
    expect(addNode.changes.filter(([, n]) => n.startsWith("host-pve4")).every(([op]) => op === "create")).toBe(true);
    // The ban grid gains the node's member (its agent's password, its bouncer's key, its setup) and enrols them; no
    // other member's setup changes (the node's address is inside the management network every member already protects).
    expect(addNode.changes.filter(([, n]) => n.startsWith("bans-")).sort()).toEqual([
      ["create", "bans-bouncer-fw-host-pve4", []],
      ["create", "bans-host-pve4", []],
      ["create", "bans-machine-host-pve4", []],
      ["update", "bans-services-enrol", ["stdin"]],
    ]);
    expect(moved.length).toBeGreaterThan(0);
    expect(addNode.changes.filter(([, n]) => n.startsWith("tenant-") && !moved.some((k) => tenantOf(k)(n)))).toEqual([]);
  });

  test("adding a node with firstSlot = the next free slot: no tenant changes at all; only the node's host, the zone and what learns the new VTEP", () => {
    expect(addGuarded.changes.filter(([, n]) => n.startsWith("tenant-"))).toEqual([]);
    const shared = (sc: Scenario) => sc.changes.filter(([, n]) => !n.startsWith("tenant-"));
    expect(shared(addGuarded)).toEqual(shared(addNode));
    expect(invariantViolations(addGuarded, () => true)).toEqual([]);
  });

  test("with HA, a new placement migrates vpn2 (the HA manager's migrate for a running HA resource) and updates its node rule in place", () => {
    expect(moveHa.changes).toEqual([
      ["update", "ha-services-node", ["comment", "nodes.pve2", "nodes.pve3"]],
      ["update", "ha-vpn2-node", ["comment", "nodes.pve2", "nodes.pve3"]],
      ["update", "services-vm", ["nodeName"]],
      ["update", "vpn2-vm", ["nodeName"]],
    ]);
    expect(invariantViolations(moveHa, () => true)).toEqual([]);
  });
});

describe("switching a one-node stack from VLANs (sdn none) to SDN", () => {
  let s: Scenario;
  beforeAll(async () => {
    const after = stackConfig("minimal");
    after["sdn"] = { kind: "vxlan" };
    s = await scenario("minimal: sdn none → vxlan", "minimal", stackConfig("minimal"), after);
  }, TIMEOUT);

  test("replaces nothing: the SDN objects are created, the private bridge deleted (last, after every VM left it), everything else updated in place", () => {
    expect(s.plan.steps.filter((st) => st.op.startsWith("replace"))).toEqual([]);
    const tenants = s.before.resources.filter((r) => r.type === "librerouter:tenant:Tenant").map((r) => r.name);
    expect(tenants).toHaveLength(50);
    const created = s.changes.filter(([op]) => op === "create").map(([, n]) => n);
    expect(created.sort()).toEqual(["sdn", "sdn-apply", "sdn-finalizer", "sdn-zone", ...tenants.flatMap((t) => [`${t}-sdn-finalizer`, `${t}-subnet`, `${t}-vnet`])].sort());
    expect(s.changes.filter(([op]) => op === "delete")).toEqual([["delete", "host-private-bridge", []]]);
  });

  test("each tenant router's LAN NIC moves from the VLAN trunk to its vnet in place: no restart (qemu-server re-plugs the tap live, the guest sees its link flap)", () => {
    for (const t of s.plan.steps.filter((st) => /^tenant-.*-vm$/.test(st.name))) {
      expect([t.name, t.op, t.paths, t.effects]).toEqual([t.name, "update", ["networkDevices[1].bridge", "networkDevices[1].vlanId"], []]);
    }
  });

  test("the VPN servers lose their trunk NIC: their VM is updated and restarted (cloud-init's NICs change), then their setup and every tenant's link on them", () => {
    for (const v of ["vpn1-vm", "vpn2-vm"]) {
      const st = s.plan.steps.find((x) => x.name === v);
      expect([st?.op, st?.effects]).toEqual(["update", ["reboot"]]);
    }
    const updated = s.changes.filter(([op, n]) => op === "update" && !/^tenant-.*-vm$/.test(n) && !/-vm$/.test(n)).map(([, n]) => n);
    // The console firewall and the serial bridge: without VLANs the tenant slots (so VMIDs and VNC ports) may go higher.
    expect(updated.filter((n) => !/^tenant-.*-vpn[12]$/.test(n)).sort()).toEqual(["host-console-firewall", "host-serial-bridge", "vpn1-setup", "vpn2-setup"]);
    expect(updated.filter((n) => /^tenant-.*-vpn[12]$/.test(n))).toHaveLength(100);
    expect(s.plan.deleteScripts).toEqual([]);
  });
});
