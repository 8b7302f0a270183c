/**
 * The program complies with its policy pack in tenantNetwork.mode fixed too: the minimal stack switched to fixed
 * (four tenants: the per-tenant resources are what the policies check), under mocks, through every resource policy
 * and the anti-spoofing stack policy with the program's own stack outputs. Then the two fixed-mode rules, broken on
 * one tenant each, are reported for exactly that tenant. Mocks cannot show values unknown during a real preview
 * (none here: the MACs and the mode come from the plan).
 */
import { installMocks, type Registration } from "../../bench/mock-program";
import { readStackFile } from "../../config/load";
import { FW_OPTIONS, VM } from "../../policy/resource-types";
import { TENANT_NETWORK_OUTPUT } from "../../policy/tenant-network-output";
import { loadProgram, resourcePolicyViolations, reveal, stackPolicyViolations, stackResources } from "./compliance-kit";

const regs: Registration[] = [];
let outputs: Record<string, unknown> = {};

beforeAll(async () => {
  const raw = { ...readStackFile(`${__dirname}/../..`, "minimal"), tenantNetwork: { mode: "fixed" }, numberedTenants: { count: 4, exclude: [1, 2] } };
  installMocks("minimal", raw, regs, { inputs: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  outputs = await loadProgram(() => require("../../index"), regs);
}, 300_000);

type Nic = { macAddress?: string };

test("the output names the mode and one planned MAC per tenant, and each tenant VM's net0 carries it", () => {
  const out = reveal(outputs[TENANT_NETWORK_OUTPUT]) as { mode: string; publicMacs: Record<string, string> };
  expect(out.mode).toBe("fixed");
  expect(Object.keys(out.publicMacs).sort()).toEqual(["acme", "coop-sur", "t3", "t4"]);
  const vms = regs.filter((r) => r.type === VM && r.urn.includes("librerouter:tenant:Tenant$")).map((r) => reveal(r.inputs) as { name: string; networkDevices: Nic[] });
  expect(vms.map((v) => [v.name, v.networkDevices[0].macAddress]).sort()).toEqual(Object.entries(out.publicMacs).map(([k, mac]) => [`lr-${k}`, mac]).sort());
});

test("every resource passes every resource policy", async () => {
  expect(await resourcePolicyViolations(regs)).toEqual([]);
});

test("the anti-spoofing stack policy passes, and reports a wrong MAC or DHCP off for exactly that tenant", async () => {
  const resources = stackResources("minimal", regs, outputs);
  expect(await stackPolicyViolations("tenant-anti-spoofing", resources)).toEqual([]);

  const acme = resources.find((r) => r.type === VM && r.props.name === "lr-acme")!;
  const nics = acme.props.networkDevices as Nic[];
  const wrongMac = resources.map((r) => (r === acme ? { ...r, props: { ...r.props, networkDevices: [{ ...nics[0], macAddress: "02:00:00:00:00:01" }, ...nics.slice(1)] } } : r));
  expect(await stackPolicyViolations("tenant-anti-spoofing", wrongMac as typeof resources)).toEqual([expect.stringMatching(/^tenant VM "lr-acme" net0 must have macAddress 02:[0-9a-f:]{14}, its planned MAC .*; got "02:00:00:00:00:01"$/)]);

  const noDhcp = resources.map((r) => (r.type === FW_OPTIONS && r.props.vmId === acme.props.vmId ? { ...r, props: { ...r.props, dhcp: false } } : r));
  expect(await stackPolicyViolations("tenant-anti-spoofing", noDhcp as typeof resources)).toEqual([expect.stringMatching(/^tenant VM "lr-acme" firewall options: dhcp must be true \(tenantNetwork\.mode fixed: .*\); got false$/)]);
});
