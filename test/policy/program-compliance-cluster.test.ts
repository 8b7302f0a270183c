/**
 * The cluster program (test/config/fixture.ts clusterConfig: three nodes, ha.datastore) under mocks through the
 * "placement fits its nodes" stack policy: the VM resources it registers (nodeName, memory) fit each node's RAM
 * from its own capacity output, and the policy refuses the same resources crowded onto one node.
 */
import { installMocks, type Registration } from "../../bench/mock-program";
import { STACK, VM } from "../../policy/resource-types";
import { CAPACITY_OUTPUT, type CapacityOutput } from "../../sizing/capacity-output";
import { clusterConfig, withChange } from "../config/fixture";
import { loadProgram, reveal, stackPolicyViolations, stackResources } from "./compliance-kit";

const regs: Registration[] = [];
let outputs: Record<string, unknown> = {};
const config = withChange(clusterConfig(), (c) => void (c.ha = { datastore: "ceph-vm", tenants: false }));

beforeAll(async () => {
  installMocks("test", config as unknown as Record<string, unknown>, regs, { inputs: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  outputs = await loadProgram(() => require("../../index"), regs);
}, 300_000);

const props = (r: { props: unknown }) => r.props as { nodeName?: string; template?: boolean; memory?: { dedicated?: number; floating?: number } };

test("the program's VMs, on their planned nodes, pass; the output gives every node's RAM and reserve", async () => {
  const capacity = reveal(outputs[CAPACITY_OUTPUT]) as CapacityOutput;
  expect(capacity.nodes?.map((n) => n.name)).toEqual(["pve1", "pve2", "pve3"]);
  const resources = stackResources("test", regs, outputs);
  const running = resources.filter((r) => r.type === VM && props(r).template !== true);
  // Every running VM is on a node and weighed: tenants, both VPN servers and the services VM.
  expect(new Set(running.map((r) => props(r).nodeName))).toEqual(new Set(["pve1", "pve2", "pve3"]));
  expect(running.every((r) => typeof props(r).memory?.dedicated === "number")).toBe(true);
  expect(await stackPolicyViolations("placement-fits-nodes", resources)).toEqual([]);
});

test("the same VMs on a node with less RAM than they need are refused, naming the node and the fix", async () => {
  const resources = stackResources("test", regs, outputs);
  const capacity = reveal(outputs[CAPACITY_OUTPUT]) as CapacityOutput;
  const onPve1 = resources.filter((r) => r.type === VM && props(r).template !== true && props(r).nodeName === "pve1");
  const mb = onPve1.reduce((a, r) => a + (props(r).memory?.floating || props(r).memory?.dedicated || 0) + 64, 0);
  const need = mb / 1024 + capacity.nodes![0].reservedGb;
  // pve1 with one GiB less than its VMs and reserve need (the stack output as a program overriding the plan would give it).
  const ramGb = Math.ceil(need) - 1;
  const shrunk = resources.map((r) => (r.type === STACK ? { ...r, props: { ...r.props, [CAPACITY_OUTPUT]: { ...capacity, nodes: capacity.nodes!.map((n, i) => (i === 0 ? { ...n, ramGb } : n)) } } } : r));
  const found = await stackPolicyViolations("placement-fits-nodes", shrunk as typeof resources);
  expect(found).toEqual([expect.stringMatching(new RegExp(`^node "pve1": ${onPve1.length} VMs need [\\d.]+ GiB at their memory floors .* above its ${ramGb} GiB; pin tenants to another node \\(tenants\\.<key>\\.node\\) or add RAM \\(nodes\\.0\\.hardware\\.ramGb\\)$`))]);
});
