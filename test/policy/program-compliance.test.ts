/**
 * The program complies with its own policy pack: index.ts runs under mocks for the minimal stack (50 tenants;
 * the per-tenant resources are the same at 500, which only the benchmark evaluates for time), and every
 * registered resource goes through every resource policy (inputs unwrapped as the analyzer sees them, the
 * URN with its parent type as the mock monitor builds it), then the stack outputs through the stack policy.
 * Mocks cannot show provider defaults or values that are unknown during a real preview.
 */
import { installMocks, type Registration } from "../../bench/mock-program";
import { readStackFile } from "../../config/load";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import { CLUSTER_FIREWALL, FILE, FW_IPSET, FW_OPTIONS, LOCAL_COMMAND, NODE_FIREWALL, REMOTE_COMMAND, STACK, VM } from "../../policy/resource-types";
import { capacityViolations } from "../../policy/rules";
import { TENANT_NETWORK_OUTPUT } from "../../policy/tenant-network-output";
import { CAPACITY_OUTPUT, type CapacityOutput } from "../../sizing/capacity-output";
import { loadProgram, resourcePolicyViolations, reveal, stackPolicyViolations, stackResources } from "./compliance-kit";

const regs: Registration[] = [];
let outputs: Record<string, unknown> = {};

beforeAll(async () => {
  installMocks("minimal", readStackFile(`${__dirname}/../..`, "minimal"), regs, { inputs: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  outputs = await loadProgram(() => require("../../index"), regs);
}, 300_000);

test("the pack's type tokens are the ones the SDK classes the components use register", () => {
  // The SDKs declare the token only in their JavaScript (a static the typings leave out).
  const token = (cls: object) => (cls as { __pulumiType?: string }).__pulumiType;
  expect([VM, FILE, REMOTE_COMMAND, LOCAL_COMMAND].map(String)).toEqual([proxmoxve.VmLegacy, proxmoxve.FileLegacy, command.remote.Command, command.local.Command].map(token));
  expect([FW_OPTIONS, FW_IPSET, CLUSTER_FIREWALL, NODE_FIREWALL].map(String)).toEqual(
    [proxmoxve.firewall.OptionsLegacy, proxmoxve.firewall.IpsetLegacy, proxmoxve.cluster.FirewallLegacy, proxmoxve.node.FirewallLegacy].map(token),
  );
});

test("the minimal program registers tenant VMs, password snippets and commands (the policies have something to check)", () => {
  const count = (pred: (r: Registration) => boolean) => regs.filter(pred).length;
  const fileName = (r: Registration) => String((reveal(r.inputs) as { sourceRaw?: { fileName?: string } }).sourceRaw?.fileName);
  expect(count((r) => r.type === VM && r.urn.includes("librerouter:tenant:Tenant$"))).toBe(50);
  expect(count((r) => r.type === FILE && fileName(r).startsWith("vnc-"))).toBe(50);
  expect(count((r) => r.type === REMOTE_COMMAND)).toBeGreaterThan(100);
});

test("every resource passes every resource policy", async () => {
  expect(await resourcePolicyViolations(regs)).toEqual([]);
});

test("the stack outputs pass the stack policy", async () => {
  const resources = stackResources("minimal", [], outputs).filter((r) => r.type === STACK);
  expect(await stackPolicyViolations("stack-fits-profile", resources)).toEqual([]);
  expect((outputs[CAPACITY_OUTPUT] as { verdict: string }).verdict).toBe("warn");
});

test("the program's resources pass the anti-spoofing stack policy, and it sees each tenant's firewall resources", async () => {
  // The minimal stack is distinct: the output says so, and no MAC is exported (none is set on the NICs).
  expect(reveal(outputs[TENANT_NETWORK_OUTPUT])).toEqual({ mode: "distinct" });
  const resources = stackResources("minimal", regs, outputs);
  expect(await stackPolicyViolations("tenant-anti-spoofing", resources)).toEqual([]);
  // Drop one tenant's IP set: exactly that tenant is reported (the policy reads the program's own vmIds and set names).
  const victim = resources.find((r) => r.type === FW_IPSET)!;
  const vmName = resources.find((r) => r.type === VM && r.props.vmId === victim.props.vmId)!.props.name as string;
  expect(await stackPolicyViolations("tenant-anti-spoofing", resources.filter((r) => r !== victim))).toEqual([expect.stringContaining(`tenant VM "${vmName}" has no ipfilter-net0 IP set`)]);
});

test("the capacity output carries each line's note, which the stack policy quotes for a failing line", () => {
  const out = outputs[CAPACITY_OUTPUT] as CapacityOutput;
  expect(Object.keys(out).sort()).toEqual(["lines", "profile", "tenants", "verdict"]);
  expect(out.lines.length).toBeGreaterThan(5);
  for (const l of out.lines) {
    expect(Object.keys(l).sort()).toEqual(["available", "needed", "note", "resource", "status", "unit"]);
    expect(typeof l.note === "string" && l.note.length > 0).toBe(true);
  }
  const failing = { ...out, verdict: "fail", lines: [{ ...out.lines[0], status: "fail" }] };
  expect(capacityViolations(failing)).toEqual([`stack does not fit its profile "${out.profile}" with ${out.tenants} tenants: ${out.lines[0].resource}: ${out.lines[0].note}`]);
});
