/** policy/rules.ts placementViolations: the VM resources' memory floors per node against the capacity output's nodes. */
import { placementViolations } from "../../policy/rules";

const nodes = [
  { name: "pve-a", ramGb: 64, reservedGb: 40, qemuOverheadMb: 64 },
  { name: "pve-b", ramGb: 64, reservedGb: 8, qemuOverheadMb: 0 },
];
const capacity = { verdict: "ok", profile: "full", tenants: 0, lines: [], nodes };

describe("placement fits its nodes", () => {
  test("a floor is memory.floating when set, else memory.dedicated; QEMU's overhead is added per VM", () => {
    // pve-a: 40 GiB reserved; 11 VMs × (2,048 + 64) MiB = 22.7 GiB → 62.7 GiB fits 64; a 12th (64.8 GiB) does not.
    const vms = Array.from({ length: 11 }, (_, i) => ({ name: `lr-t${i}`, nodeName: "pve-a", memory: { dedicated: 8192, floating: 2048 } }));
    expect(placementViolations(capacity, vms)).toEqual([]);
    expect(placementViolations(capacity, [...vms, { name: "lr-t11", nodeName: "pve-a", memory: { dedicated: 8192, floating: 2048 } }])).toEqual([
      'node "pve-a": 12 VMs need 24.8 GiB at their memory floors (with 64 MiB QEMU overhead each) + 40.0 GiB for the host and Ceph = 64.8 GiB, above its 64 GiB; pin tenants to another node (tenants.<key>.node) or add RAM (nodes.0.hardware.ramGb)',
    ]);
    // Without ballooning (floating 0 or absent) the whole dedicated memory counts: 57 GiB + 8 > 64 on pve-b.
    expect(placementViolations(capacity, [{ name: "infra-services", nodeName: "pve-b", memory: { dedicated: 57 * 1024, floating: 0 } }])).toEqual([
      'node "pve-b": 1 VMs need 57.0 GiB at their memory floors (with 0 MiB QEMU overhead each) + 8.0 GiB for the host and Ceph = 65.0 GiB, above its 64 GiB; pin tenants to another node (tenants.<key>.node) or add RAM (nodes.1.hardware.ramGb)',
    ]);
    expect(placementViolations(capacity, [{ name: "infra-services", nodeName: "pve-b", memory: { dedicated: 56 * 1024 } }])).toEqual([]);
  });

  test("each node is weighed on its own: the same VMs split over two nodes fit", () => {
    const big = (name: string, nodeName: string) => ({ name, nodeName, memory: { dedicated: 40 * 1024 } });
    expect(placementViolations(capacity, [big("a", "pve-b"), big("b", "pve-b")])).toHaveLength(1);
    expect(placementViolations({ ...capacity, nodes: [nodes[0], nodes[1], { name: "pve-c", ramGb: 64, reservedGb: 8, qemuOverheadMb: 0 }] }, [big("a", "pve-b"), big("b", "pve-c")])).toEqual([]);
  });

  test("templates never run; a VM on a node the stack does not have is refused; an unknown nodeName is not weighed", () => {
    expect(placementViolations(capacity, [{ name: "tpl", nodeName: "pve-b", template: true, memory: { dedicated: 512 * 1024 } }])).toEqual([]);
    expect(placementViolations(capacity, [{ name: "lr-x", nodeName: "pve-z", memory: { dedicated: 512 } }])).toEqual(['VM "lr-x" is placed on node "pve-z", which is not a node of the stack (pve-a, pve-b)']);
    expect(placementViolations(capacity, [{ name: "lr-x", nodeName: undefined, memory: { dedicated: 512 * 1024 } }])).toEqual([]);
  });

  test("a one-node stack's output has no nodes: the capacity line covers it, nothing to weigh here", () => {
    expect(placementViolations({ verdict: "ok", lines: [] }, [{ name: "lr-x", nodeName: "pve1", memory: { dedicated: 1 << 30 } }])).toEqual([]);
    expect(placementViolations(undefined, [])).toEqual([]);
  });
});
