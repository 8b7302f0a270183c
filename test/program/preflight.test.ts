/**
 * The preflight in the program (components/preflight.ts, index.ts): the reads go through their own provider, and a
 * failed check stops everything before the engine hears of any Proxmox resource.
 *
 * What this proves under mocks: the mock monitor receives registrations through the same SDK path as the engine
 * (runtime/resource.js prepareResource awaits `dependsOn`, the provider and the parent before it sends the request).
 * With a failed check, the only registration is the preflight provider: the main provider waits on the verdict,
 * every Proxmox resource and every component (children of components, so the remote commands and the PKI too) on the
 * main provider. The error is one `RunError` whose message is exactly the preflight's text: the SDK's uncaught handler
 * (cmd/run/run.js) prints a RunError's message without a stack trace, and then the language host exits with 32.
 * What mocks cannot show: that the real provider answers the data sources as bench/fakes.ts FAKE_PVE does (its
 * answers follow bpg v0.111.1's code, cited in components/preflight.ts); that needs a preview against a real host.
 */
import type { DeepMutable } from "../tools/mutable";
import type { StackInput } from "../../config/schema";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { FAKE_PVE, type FakePve } from "../../bench/fakes";
import { readStackFile } from "../../config/load";
import type { ChildResult } from "./preflight-child";
import { FAKE_SECRETS, type ProgramRun, byName, reveal, runProgram } from "./harness";

const ROOT = join(__dirname, "../..");
const E = "https://pve-minimal.example.net:8006/";
const head = (node: string, n: number) => `stack "minimal": preflight of Proxmox node "${node}" at ${E} found ${n} problem${n === 1 ? "" : "s"} (nothing was created):`;

type Raw = DeepMutable<StackInput> & Record<string, unknown>;
const minimal = (mutate: (c: Raw) => void = () => {}): Raw => {
  const c = structuredClone(readStackFile(ROOT, "minimal")) as Raw;
  mutate(c);
  return c;
};
const pve = (mutate: (p: DeepMutable<FakePve>) => void): FakePve => {
  const p = structuredClone(FAKE_PVE) as DeepMutable<FakePve>;
  mutate(p);
  return p;
};
const vmOf = (p: DeepMutable<FakePve>, vmId: number) => {
  const vm = p.vms.find((v) => v.vmId === vmId);
  if (!vm) throw new Error(`FAKE_PVE has no VM ${vmId}`);
  return vm;
};
const vm9000 = (p: DeepMutable<FakePve>) => vmOf(p, 9000);
const QCOW = "https://img.example.net/librerouter-1.5.qcow2";
/** The minimal stack in tenantNetwork.mode fixed. */
const fixedMinimal = (mutate: (c: Raw) => void = () => {}): Raw =>
  minimal((c) => {
    c.tenantNetwork = { mode: "fixed" };
    mutate(c);
  });
const SERVER_NO_CLOUD_INIT =
  'template.serverVmid: template 9001 ("debian-12-cloudinit") has no cloud-init drive, and the server template (full clones for vpn1, vpn2 and the services VM, configured by cloud-init) needs one: cloud-init installs root\'s SSH key and the management and public addresses the setup scripts connect to; add it with `qm set 9001 --ide2 local-lvm:cloudinit`';

type Case = [name: string, raw: Raw, host: FakePve, node: string, line: string];
const cases: Case[] = [
  ["node not in the cluster", minimal((c) => (c.proxmox.node = "pve9")), FAKE_PVE, "pve9", 'proxmox.node: node "pve9" is not in the cluster (nodes: pve1); set proxmox.node to one of them'],
  [
    "API not readable (every invoke fails)",
    minimal(),
    pve((p) => (p.apiError = "authentication failure")),
    "pve1",
    `proxmox.endpoint: could not read the Proxmox API at ${E} (getVersion: authentication failure); check proxmox.endpoint, proxmox.insecure (self-signed certificate) and the proxmoxPassword secret (root@pam)`,
  ],
  ["PVE 7", minimal(), pve((p) => (p.release = "7.4")), "pve1", `proxmox.endpoint: ${E} runs Proxmox VE 7.4; this program needs Proxmox VE 8 or later; upgrade the host (pve7to8) or point proxmox.endpoint at a PVE 8 host`],
  [
    "createFromImage on PVE 8.3",
    minimal((c) => (c.template = { createFromImage: true, imageUrl: QCOW })),
    pve((p) => (p.release = "8.3")),
    "pve1",
    `template.createFromImage: needs Proxmox VE 8.4 or later (the "import" content type for downloaded disk images), and ${E} runs 8.3; upgrade the host, or build the template by hand and set template.createFromImage to false`,
  ],
  [
    "createFromImage without Import content",
    minimal((c) => (c.template = { createFromImage: true, imageUrl: QCOW })),
    pve((p) => (p.datastores[0].contentTypes = ["backup", "iso", "snippets", "vztmpl"])),
    "pve1",
    'proxmox.snippetsDatastore: datastore "local" does not allow content "import" (it allows: backup, iso, snippets, vztmpl), and template.createFromImage downloads the image there as import content; add it with `pvesm set local --content backup,import,iso,snippets,vztmpl` or set proxmox.snippetsDatastore to a datastore that allows it',
  ],
  [
    "snippets datastore without snippets",
    minimal((c) => Object.assign(c.proxmox, { snippetsDatastore: "local-lvm", snippetsPath: "/var/lib/lvm-snippets" })),
    FAKE_PVE,
    "pve1",
    'proxmox.snippetsDatastore: datastore "local-lvm" does not allow content "snippets" (it allows: images, rootdir), and the tenants\' VNC password files are uploaded there as snippets; add it with `pvesm set local-lvm --content images,rootdir,snippets` or set proxmox.snippetsDatastore to a datastore that allows it',
  ],
  [
    "VM datastore without images",
    minimal((c) => (c.proxmox.datastore = "local")),
    FAKE_PVE,
    "pve1",
    'proxmox.datastore: datastore "local" does not allow content "images" (it allows: backup, import, iso, snippets, vztmpl), and the VM disks and cloud-init drives are created there; add it with `pvesm set local --content backup,images,import,iso,snippets,vztmpl` or set proxmox.datastore to a datastore that allows it',
  ],
  [
    "tenant template missing",
    minimal((c) => (c.template = { vmid: 9005 })),
    FAKE_PVE,
    "pve1",
    'template.vmid: VM 9005 does not exist on node pve1, and the tenant template (linked clones configured by cloud-init) must exist before pulumi up; create it (README "Running it for real") or set template.vmid to its VMID, or set template.createFromImage: true with template.imageUrl to build it here',
  ],
  [
    "tenant template is not a template",
    minimal(),
    pve((p) => (vm9000(p).template = false)),
    "pve1",
    'template.vmid: VM 9000 ("librerouter-template") on node pve1 is not a template, and the tenant template (linked clones configured by cloud-init) must be one; convert it with `qm template 9000` or set template.vmid to a template\'s VMID',
  ],
  [
    "distinct mode, tenant template without cloud-init",
    minimal(),
    pve((p) => (vm9000(p).cdrom = {})),
    "pve1",
    "template.vmid: template 9000 (\"librerouter-template\") has no cloud-init drive, so it can serve only tenantNetwork.mode fixed, and this stack uses mode distinct, where each tenant router gets its public and private addresses and its resolver from cloud-init; add a cloud-init drive with `qm set 9000 --ide2 local-lvm:cloudinit`, or set tenantNetwork.mode: fixed (the image as shipped: the appliance's own LAN in every tenant, the public address by DHCP from the services VM)",
  ],
  [
    "tenant template's disk on another storage",
    minimal(),
    pve((p) => (vm9000(p).volumes = ["local-zfs:base-9000-disk-0", "local-lvm:vm-9000-cloudinit"])),
    "pve1",
    'template.vmid: template 9000 ("librerouter-template") has no disk on proxmox.datastore "local-lvm", where the tenants\' linked clones are made; from another storage bpg moves, i.e. fully copies, every clone\'s disk; set proxmox.datastore to the storage of the template\'s scsi0 disk (`qm config 9000` shows it)',
  ],
  [
    "server template without cloud-init",
    minimal(),
    pve((p) => (vmOf(p, 9001).cdrom = {})),
    "pve1",
    SERVER_NO_CLOUD_INIT,
  ],
  [
    "fixed mode: the server template still needs cloud-init",
    fixedMinimal(),
    pve((p) => {
      vm9000(p).cdrom = {};
      vmOf(p, 9001).cdrom = {};
    }),
    "pve1",
    SERVER_NO_CLOUD_INIT,
  ],
];

describe("a failed preflight check", () => {
  let results: ChildResult[] = [];
  beforeAll(() => {
    // One process for every case: a failure leaves the SDK's registrations waiting for good (as in a real run), and
    // jest would claim the unhandled RunError as a failure of this test file (preflight-child.ts).
    const child = spawnSync(join(ROOT, "node_modules/.bin/tsx"), [join(__dirname, "preflight-child.ts")], {
      input: JSON.stringify(cases.map(([, raw, host]) => ({ stack: "minimal", raw, pve: host }))),
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    // Exit status 32, as the SDK's own after a logged error (cmd/run/index.js).
    expect([child.status, child.stderr.includes("Error:") ? child.stderr : ""]).toEqual([32, ""]);
    results = JSON.parse(child.stdout.trim().split("\n").pop() ?? "[]") as ChildResult[];
  }, 240_000);

  test.each(cases.map((c, i) => [c[0], i] as const))("%s: one RunError with the exact text, only the preflight provider registered", (_name, i) => {
    const [, , , node, line] = cases[i];
    const r = results[i];
    expect(r.errors).toEqual([{ runError: true, message: `${head(node, 1)}\n  - librerouter-hosting:${line}` }]);
    expect(r.registered).toEqual([{ type: "pulumi:providers:proxmoxve", name: "proxmox-preflight", provider: "" }]);
    expect(r.warnings).toEqual([]);
    // Every read went through the preflight provider (the main one does not exist yet).
    expect(r.calls.filter((c) => c.token.startsWith("proxmoxve:")).length).toBeGreaterThan(0);
    for (const c of r.calls.filter((x) => x.token.startsWith("proxmoxve:"))) expect(c.provider).toMatch(/::pulumi:providers:proxmoxve::proxmox-preflight::proxmox-preflight-id$/);
  });

  test("the reads stop where a failed fact makes the rest moot (node missing: no per-node read)", () => {
    expect(results[0].calls.map((c) => c.token).filter((t) => t.startsWith("proxmoxve:"))).toEqual(["proxmoxve:index/getVersion:getVersion", "proxmoxve:index/getNodesLegacy:getNodesLegacy"]);
  });
});

describe("tenantNetwork.mode fixed: which tenant templates pass", () => {
  // Whole program runs (the checks pass), so two named tenants and two numbered ones keep them short.
  const small = (c: Raw) => (c.numberedTenants = { count: 4, exclude: [1, 2] });
  const scenarios: [name: string, raw: Raw, host: FakePve][] = [
    ["a template with a cloud-init drive", fixedMinimal(small), FAKE_PVE],
    ["a template without one (the image as shipped)", fixedMinimal(small), pve((p) => (vm9000(p).cdrom = {}))],
  ];
  let results: ChildResult[] = [];
  beforeAll(() => {
    const child = spawnSync(join(ROOT, "node_modules/.bin/tsx"), [join(__dirname, "preflight-child.ts")], {
      input: JSON.stringify(scenarios.map(([, raw, host]) => ({ stack: "minimal", raw, pve: host }))),
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    expect(child.stderr.includes("Error:") ? child.stderr : "").toBe("");
    results = JSON.parse(child.stdout.trim().split("\n").pop() ?? "[]") as ChildResult[];
  }, 240_000);

  const mainProviderAndTenants = (r: ChildResult) => [
    r.registered.filter((x) => x.type === "pulumi:providers:proxmoxve").map((x) => x.name),
    r.registered.filter((x) => x.type === "librerouter:tenant:Tenant").length,
  ];

  test("a cloud-init template: the run goes on (main provider, every tenant), with the warning logged once", () => {
    const r = results[0];
    expect(r.errors).toEqual([]);
    expect(mainProviderAndTenants(r)).toEqual([["proxmox-preflight", "proxmox"], 4]);
    expect(r.warnings).toEqual([
      `stack "minimal": preflight of Proxmox node "pve1" at ${E}: 1 warning (the run goes on):\n` +
        '  - librerouter-hosting:template.vmid: template 9000 ("librerouter-template") has a cloud-init drive (ide2: local-lvm:vm-9000-cloudinit), which tenantNetwork.mode fixed does not use: every tenant clone gets its own copy that the program neither configures nor removes, and a guest that runs cloud-init applies the template\'s own cloud-init settings (`qm cloudinit dump 9000 network` shows them); harmless for an image without cloud-init such as the LibreRouter image as shipped; to drop it, run `qm set 9000 --delete ide2` before the tenants are cloned',
    ]);
  });

  test("a template without cloud-init: the run goes on, nothing logged", () => {
    const r = results[1];
    expect(r.errors).toEqual([]);
    expect(mainProviderAndTenants(r)).toEqual([["proxmox-preflight", "proxmox"], 4]);
    expect(r.warnings).toEqual([]);
  });
});

describe("a host that meets every prerequisite", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram("minimal", readStackFile(ROOT, "minimal"));
  }, 120_000);

  test("loads, and declares the read-only preflight provider next to the main one", () => {
    expect(run.error).toBeUndefined();
    const providers = run.resources.filter((r) => r.type === "pulumi:providers:proxmoxve").map((r) => r.name);
    expect(providers).toEqual(["proxmox-preflight", "proxmox"]);
  });

  test("the preflight provider: same API and root@pam password as the main one, no SSH key", () => {
    const p = reveal(byName(run.resources, "proxmox-preflight").inputs) as Record<string, unknown>;
    expect(p.endpoint).toBe(E);
    expect(p.username).toBe("root@pam");
    expect(p.password).toBe(FAKE_SECRETS.proxmoxPassword);
    expect(p.ssh).toBeUndefined();
  });

  test("no resource uses the preflight provider: every Proxmox resource is on the main one", () => {
    const proxmox = run.resources.filter((r) => r.custom && r.type.startsWith("proxmoxve:"));
    expect(proxmox.length).toBeGreaterThan(50);
    for (const r of proxmox) expect(r.provider).toMatch(/::pulumi:providers:proxmoxve::proxmox::proxmox-id$/);
  });
});
