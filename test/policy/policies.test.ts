/**
 * The policies as the analyzer calls them: `validateResource(args, reportViolation)` with the argument bag
 * @pulumi/policy builds ({ type, props, urn, name, opts, getConfig, … }), and `validateStack` with the
 * stack's resources. Importing policies.ts must not start the gRPC server (only policy/index.ts does).
 */
import type { PolicyResource, ReportViolation, ResourceValidation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { noPlaintextSecret, placementFitsNodes, policies, stackFitsProfile, tenantVmSafe, vncConsoleSafe, vncSnippetMode } from "../../policy/policies";
import { FILE, STACK, VM } from "../../policy/resource-types";

const PROJECT = "urn:pulumi:prod::librerouter-hosting::";

function resourceArgs(type: string, name: string, props: Record<string, unknown>, parent?: string, config: object = {}, additionalSecretOutputs: string[] = []): ResourceValidationArgs {
  const urn = `${PROJECT}${parent ? `${parent}$` : ""}${type}::${name}`;
  return {
    type,
    props,
    urn,
    name,
    opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs },
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string): never => {
      throw new Error(`not applicable: ${reason}`);
    },
  };
}

/** Runs every validation of a policy on one resource and returns the messages it reported. */
async function violations(policy: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<string[]> {
  const spy = jest.fn<void, Parameters<ReportViolation>>();
  const fns: ResourceValidation[] = Array.isArray(policy.validateResource) ? policy.validateResource : policy.validateResource ? [policy.validateResource] : [];
  for (const fn of fns) await fn(args, spy);
  for (const call of spy.mock.calls) expect(call).toHaveLength(1); // resource policies never name another URN
  return spy.mock.calls.map((c) => c[0]);
}

const GOOD_ARGS = "-object secret,id=vncpw-acme,file=/var/lib/vz/snippets/vnc-1001.pw -vnc 192.168.100.10:101,id=tenant,password-secret=vncpw-acme";
const tenantVm = (props: Record<string, unknown>) => resourceArgs(VM, "tenant-acme-vm", { name: "lr-acme", protection: true, clone: { vmId: 9000, full: false }, kvmArguments: GOOD_ARGS, ...props }, "librerouter:tenant:Tenant");

test("the pack: eight mandatory policies with unique names", () => {
  expect(policies.map((p) => [p.name, p.enforcementLevel])).toEqual([
    ["vnc-console-safe", "mandatory"],
    ["tenant-vm-protected-linked-clone", "mandatory"],
    ["tenant-nic-firewalled", "mandatory"],
    ["vnc-snippet-mode-0600", "mandatory"],
    ["no-plaintext-secret", "mandatory"],
    ["stack-fits-profile", "mandatory"],
    ["placement-fits-nodes", "mandatory"],
    ["tenant-anti-spoofing", "mandatory"],
  ]);
});

describe("a compliant tenant VM passes every resource policy", () => {
  test.each([vncConsoleSafe, tenantVmSafe, noPlaintextSecret])("$name", async (policy) => {
    expect(await violations(policy, tenantVm({}))).toEqual([]);
  });
});

test("vnc-console-safe: the seed's 0.0.0.0 listener; a console without password", async () => {
  expect(await violations(vncConsoleSafe, tenantVm({ kvmArguments: "-vnc 0.0.0.0:3149,password=on" }))).toEqual([
    "console args: -vnc 0.0.0.0:3149 listens on 0.0.0.0; use the host's management address",
  ]);
  expect(await violations(vncConsoleSafe, tenantVm({ kvmArguments: "-vnc 192.168.100.10:101,id=tenant" }))).toEqual([
    "console args: -vnc 192.168.100.10:101 has no password-secret= (QEMU would offer security type None)",
  ]);
});

test("VM policies ignore other resource types", async () => {
  const file = resourceArgs(FILE, "x", { kvmArguments: "-vnc 0.0.0.0:1", name: "lr-acme" });
  for (const p of [vncConsoleSafe, tenantVmSafe]) expect(await violations(p, file)).toEqual([]);
});

test("tenant-vm-protected-linked-clone: unprotected full clone; VPN server VMs are exempt whatever their name", async () => {
  expect(await violations(tenantVmSafe, tenantVm({ protection: false, clone: { vmId: 9000, full: true } }))).toEqual([
    'tenant VM "lr-acme" must have protection: true (it holds the tenant\'s data); got false',
    'tenant VM "lr-acme" must be a linked clone (clone.full: false); got clone.full: true (the provider\'s default is a full clone)',
  ]);
  const vpn = resourceArgs(VM, "vpn1-vm", { name: "lr-vpn1-prod", protection: false }, "librerouter:vpn:OpenVpnServer");
  expect(await violations(tenantVmSafe, vpn)).toEqual([]);
});

describe("vnc-snippet-mode-0600", () => {
  const snippet = (props: Record<string, unknown>) =>
    resourceArgs(FILE, "tenant-acme-vnc-password", { contentType: "snippets", datastoreId: "local", nodeName: "pve1", sourceRaw: { fileName: "vnc-acme.pw", data: "Ab3#xY9z" }, fileMode: "0600", ...props }, "librerouter:tenant:Tenant");

  test("root-only 8-character file passes", async () => {
    expect(await violations(vncSnippetMode, snippet({}))).toEqual([]);
  });

  test("default mode and a newline-terminated password are both reported", async () => {
    expect(await violations(vncSnippetMode, snippet({ fileMode: undefined, sourceRaw: { fileName: "vnc-acme.pw", data: "Ab3#xY9z\n" } }))).toEqual([
      'VNC password snippet "vnc-acme.pw" must have fileMode "0600" (root-only); got nothing',
      'VNC password snippet "vnc-acme.pw" must hold exactly 8 characters and no newline (QEMU reads it raw and uses 8 bytes); got 9 characters',
    ]);
  });

  test("an unknown password (first preview) stops only the content check: the mode is still checked", async () => {
    const props = { contentType: "snippets", fileMode: "0644", sourceRaw: {} as Record<string, unknown> };
    Object.defineProperty(props.sourceRaw, "fileName", { value: "vnc-acme.pw", enumerable: true });
    Object.defineProperty(props.sourceRaw, "data", { get: () => { throw new Error("unknown during preview"); }, enumerable: true });
    const fns = vncSnippetMode.validateResource as ResourceValidation[];
    const spy = jest.fn();
    await fns[0](resourceArgs(FILE, "f", props), spy);
    expect(() => fns[1](resourceArgs(FILE, "f", props), spy)).toThrow("unknown during preview");
    expect(spy.mock.calls).toEqual([['VNC password snippet "vnc-acme.pw" must have fileMode "0600" (root-only); got "0644"']]);
  });
});

test("no-plaintext-secret: reads additionalSecretOutputs from the resource options", async () => {
  const props = { create: "bash -s", stdin: "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----" };
  expect(await violations(noPlaintextSecret, resourceArgs("command:remote:Command", "tenant-acme-apply", props))).toEqual([
    "command feeds key material on stdin but does not mark stdout and stderr secret (additionalSecretOutputs)",
  ]);
  expect(await violations(noPlaintextSecret, resourceArgs("command:remote:Command", "tenant-acme-apply", props, undefined, {}, ["stdout", "stderr"]))).toEqual([]);
});

describe("stack-fits-profile", () => {
  const stackArgs = (outputs: Record<string, unknown>): StackValidationArgs => ({
    resources: [
      { type: STACK, urn: `${PROJECT}${STACK}::librerouter-hosting-prod`, name: "librerouter-hosting-prod", props: outputs } as unknown as PolicyResource,
      { type: VM, urn: `${PROJECT}${VM}::x`, name: "x", props: { capacityReport: { verdict: "fail" } } } as unknown as PolicyResource,
    ],
    stackTags: new Map(),
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (): never => {
      throw new Error("not applicable");
    },
  });
  const run = async (outputs: Record<string, unknown>) => {
    const spy = jest.fn();
    await (stackFitsProfile as StackValidationPolicy).validateStack(stackArgs(outputs), spy);
    return spy.mock.calls;
  };

  test("reads the capacity output of the stack resource (not of other resources)", async () => {
    expect(await run({ capacityReport: { profile: "optimal", tenants: 500, verdict: "warn", lines: [] } })).toEqual([]);
  });

  test("a failing report is a stack-level violation (no URN)", async () => {
    const capacity = { profile: "optimal", tenants: 500, verdict: "fail", lines: [{ resource: "ram", status: "fail", note: "ram: short by 52 GiB; raise hardware.ramGb" }] };
    expect(await run({ capacityReport: capacity })).toEqual([['stack does not fit its profile "optimal" with 500 tenants: ram: ram: short by 52 GiB; raise hardware.ramGb']]);
  });

  test("no capacity output fails closed", async () => {
    expect(await run({})).toEqual([['the stack exports no "capacityReport" output; index.ts must export the capacity summary so the policy can check it']]);
  });
});

describe("placement-fits-nodes", () => {
  const node = (name: string, ramGb: number) => ({ name, ramGb, reservedGb: 8, qemuOverheadMb: 64 });
  const capacityReport = { profile: "full", tenants: 2, verdict: "ok", lines: [], nodes: [node("pve-a", 16), node("pve-b", 512)] };
  const vm = (name: string, nodeName: string, memory: Record<string, number>, template = false) =>
    ({ type: VM, urn: `${PROJECT}${VM}::${name}`, name, props: { name, nodeName, memory, template } }) as unknown as PolicyResource;
  const run = async (resources: PolicyResource[]) => {
    const spy = jest.fn();
    const stack = { type: STACK, urn: `${PROJECT}${STACK}::librerouter-hosting-cluster`, name: "librerouter-hosting-cluster", props: { capacityReport } } as unknown as PolicyResource;
    await (placementFitsNodes as StackValidationPolicy).validateStack(
      { resources: [stack, ...resources], stackTags: new Map(), getConfig: <T extends object>() => ({}) as T, notApplicable: (): never => { throw new Error("n/a"); } },
      spy,
    );
    return spy.mock.calls;
  };

  test("reads nodeName and memory of the VM resources against the stack output's nodes", async () => {
    // pve-a: 8 GiB reserve + 3 × (2 GiB floor + 64 MiB) = 14.2 GiB of 16 (four: 16.25): fits; a fourth VM does not.
    const three = ["a", "b", "c"].map((k) => vm(`lr-${k}`, "pve-a", { dedicated: 4096, floating: 2048 }));
    expect(await run(three)).toEqual([]);
    expect(await run([...three, vm("lr-d", "pve-a", { dedicated: 4096, floating: 2048 })])).toEqual([
      [
        'node "pve-a": 4 VMs need 8.3 GiB at their memory floors (with 64 MiB QEMU overhead each) + 8.0 GiB for the host and Ceph = 16.3 GiB, above its 16 GiB; pin tenants to another node (tenants.<key>.node) or add RAM (nodes.0.hardware.ramGb)',
      ],
    ]);
    // The same VM on the other node, or a template on pve-a (it never runs), fits.
    expect(await run([...three, vm("lr-d", "pve-b", { dedicated: 4096, floating: 2048 })])).toEqual([]);
    expect(await run([...three, vm("tpl", "pve-a", { dedicated: 4096 }, true)])).toEqual([]);
  });
});
