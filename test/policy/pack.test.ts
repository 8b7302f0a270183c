/**
 * The policy pack as the Pulumi engine runs it: Pulumi's own policy runner (`run-policy-pack`, ts-node)
 * loads policy/ (PulumiPolicy.yaml, package.json version, index.ts), prints its gRPC port, and answers
 * the analyzer RPCs the engine sends during `pulumi preview --policy-pack policy`. What this cannot show:
 * the Pulumi CLI itself (not installed here) and the exact property shapes a real preview sends.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

/* eslint-disable @typescript-eslint/no-require-imports */
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");

const ROOT = join(__dirname, "../..");
const PROJECT = "urn:pulumi:prod::librerouter-hosting::";
/** How the engine marks a value it does not know yet (a fresh random password during a first preview). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

interface Diagnostic { policy: string; message: string; level: number }
type Unary = (req: unknown, cb: (err: Error | null, res: { getDiagnosticsList(): { getPolicyname(): string; getMessage(): string; getEnforcementlevel(): number }[] }) => void) => void;

let pack: ChildProcess;
let client: { analyze: Unary; analyzeStack: Unary; close(): void };

beforeAll(async () => {
  pack = spawn(process.execPath, [join(ROOT, "node_modules/@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:1", "."], { cwd: join(ROOT, "policy"), stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  pack.stderr?.on("data", (b) => (stderr += String(b)));
  const port = await new Promise<string>((resolve, reject) => {
    pack.stdout?.once("data", (b) => resolve(String(b).trim()));
    pack.once("exit", (code) => reject(new Error(`policy pack exited with ${code}: ${stderr}`)));
  });
  expect(port).toMatch(/^\d+$/);
  const Client = grpc.makeGenericClientConstructor(analyzerGrpc.AnalyzerService, "Analyzer");
  client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as typeof client;
}, 120_000);

afterAll(() => {
  client?.close();
  pack?.kill();
});

const options = (additionalSecretOutputs: string[] = []) => {
  const o = new analyzerPb.AnalyzerResourceOptions();
  o.setAdditionalsecretoutputsList(additionalSecretOutputs);
  return o;
};

const diagnostics = (res: Parameters<Parameters<Unary>[1]>[1]): Diagnostic[] =>
  res.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), message: d.getMessage(), level: d.getEnforcementlevel() }));

function analyze(type: string, name: string, props: Record<string, unknown>, parent?: string): Promise<Diagnostic[]> {
  const req = new analyzerPb.AnalyzeRequest();
  req.setType(type);
  req.setName(name);
  req.setUrn(`${PROJECT}${parent ? `${parent}$` : ""}${type}::${name}`);
  req.setProperties(Struct.fromJavaScript(props as never));
  req.setOptions(options());
  return new Promise((resolve, reject) => client.analyze(req, (err, res) => (err ? reject(err) : resolve(diagnostics(res)))));
}

/** The stack resource with `outputs`, then `others` ([type, name, props, parent type]). */
function analyzeStack(outputs: Record<string, unknown>, others: [type: string, name: string, props: Record<string, unknown>, parent: string][] = []): Promise<Diagnostic[]> {
  const resource = (type: string, name: string, urn: string, props: Record<string, unknown>) => {
    const r = new analyzerPb.AnalyzerResource();
    r.setType(type);
    r.setName(name);
    r.setUrn(urn);
    r.setProperties(Struct.fromJavaScript(props as never));
    r.setOptions(options());
    return r;
  };
  const req = new analyzerPb.AnalyzeStackRequest();
  req.setResourcesList([
    resource("pulumi:pulumi:Stack", "librerouter-hosting-prod", `${PROJECT}pulumi:pulumi:Stack::librerouter-hosting-prod`, outputs),
    ...others.map(([type, name, props, parent]) => resource(type, name, `${PROJECT}${parent}$${type}::${name}`, props)),
  ]);
  return new Promise((resolve, reject) => client.analyzeStack(req, (err, res) => (err ? reject(err) : resolve(diagnostics(res)))));
}

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const MANDATORY = 1;
const ADVISORY = 0;

test("a compliant tenant VM: no diagnostics", async () => {
  const props = {
    name: "lr-acme",
    protection: true,
    clone: { vmId: 9000, full: false },
    kvmArguments: "-object secret,id=vncpw-acme,file=/var/lib/vz/snippets/vnc-1001.pw -vnc 192.168.100.10:101,id=tenant,password-secret=vncpw-acme",
  };
  expect(await analyze(VM, "tenant-acme-vm", props, "librerouter:tenant:Tenant")).toEqual([]);
}, 30_000);

test("the seed's console (0.0.0.0, no password) on an unprotected full clone: three mandatory violations", async () => {
  const props = { name: "lr-acme", protection: false, clone: { vmId: 9000, full: true }, kvmArguments: "-vnc 0.0.0.0:3149" };
  expect(await analyze(VM, "tenant-acme-vm", props, "librerouter:tenant:Tenant")).toEqual([
    { policy: "vnc-console-safe", level: MANDATORY, message: expect.stringContaining("console args: -vnc 0.0.0.0:3149 listens on 0.0.0.0; use the host's management address") },
    { policy: "tenant-vm-protected-linked-clone", level: MANDATORY, message: expect.stringContaining('tenant VM "lr-acme" must have protection: true') },
    { policy: "tenant-vm-protected-linked-clone", level: MANDATORY, message: expect.stringContaining('tenant VM "lr-acme" must be a linked clone (clone.full: false); got clone.full: true') },
  ]);
}, 30_000);

test("a password file whose content is unknown during preview: the mode is still enforced, the content check is advisory", async () => {
  const props = { contentType: "snippets", datastoreId: "local", nodeName: "pve1", sourceRaw: { fileName: "vnc-acme.pw", data: UNKNOWN } };
  const d = await analyze("proxmoxve:index/fileLegacy:FileLegacy", "tenant-acme-vnc-password", props, "librerouter:tenant:Tenant");
  expect(d.map((x) => [x.policy, x.level])).toEqual([
    ["vnc-snippet-mode-0600", MANDATORY],
    ["vnc-snippet-mode-0600", ADVISORY],
    ["no-plaintext-secret", ADVISORY],
  ]);
  expect(d[0].message).toContain('VNC password snippet "vnc-acme.pw" must have fileMode "0600" (root-only); got nothing');
  expect(d[1].message).toContain("can't run policy 'vnc-snippet-mode-0600'");
}, 30_000);

test("stack: the exported capacity report decides; a failing line is a mandatory violation", async () => {
  expect(await analyzeStack({ capacityReport: { profile: "optimal", tenants: 500, verdict: "ok", lines: [] } })).toEqual([]);
  const capacity = { profile: "optimal", tenants: 500, verdict: "fail", lines: [{ resource: "ram", status: "fail", note: "ram: short by 52 GiB; raise hardware.ramGb" }] };
  expect(await analyzeStack({ capacityReport: capacity })).toEqual([
    { policy: "stack-fits-profile", level: MANDATORY, message: expect.stringContaining('stack does not fit its profile "optimal" with 500 tenants: ram: ram: short by 52 GiB; raise hardware.ramGb') },
  ]);
}, 30_000);

test("stack: the anti-spoofing policy reads the mode from the stack's outputs next to the resources (fixed: dhcp must be on)", async () => {
  const host = "librerouter:host:ProxmoxHost";
  const tenant = "librerouter:tenant:Tenant";
  const mac = "02:1a:2b:3c:4d:5e";
  const others: Parameters<typeof analyzeStack>[1] = [
    ["proxmoxve:cluster/firewallLegacy:FirewallLegacy", "dc", { enabled: true }, host],
    ["proxmoxve:node/firewallLegacy:FirewallLegacy", "node", { enabled: true, nodeName: "pve1" }, host],
    [VM, "tenant-acme-vm", { name: "lr-acme", vmId: 1001, networkDevices: [{ bridge: "vmbr0", firewall: true, macAddress: mac }, { bridge: "vmbr1", vlanId: 101 }] }, tenant],
    ["proxmoxve:firewall/optionsLegacy:OptionsLegacy", "tenant-acme-firewall", { vmId: 1001, enabled: true, macfilter: true, ipfilter: true, dhcp: false, radv: false }, tenant],
    ["proxmoxve:firewall/ipsetLegacy:IpsetLegacy", "tenant-acme-ipfilter", { vmId: 1001, name: "ipfilter-net0", cidrs: [{ name: "192.0.2.10" }] }, tenant],
  ];
  const capacityReport = { profile: "optimal", tenants: 1, verdict: "ok", lines: [] };
  expect(await analyzeStack({ capacityReport, tenantNetwork: { mode: "distinct" } }, others)).toEqual([]);
  expect(await analyzeStack({ capacityReport, tenantNetwork: { mode: "fixed", publicMacs: { acme: mac } } }, others)).toEqual([
    { policy: "tenant-anti-spoofing", level: MANDATORY, message: expect.stringContaining('tenant VM "lr-acme" firewall options: dhcp must be true (tenantNetwork.mode fixed:') },
    { policy: "tenant-anti-spoofing", level: MANDATORY, message: expect.stringContaining('tenant VM "lr-acme" net0 sends DHCP server traffic unfiltered (tenantNetwork.mode fixed:') },
  ]);
}, 30_000);
