/** The preflight checks on plain facts (plan/preflight.ts): one row per failing fact, exact messages. */
import type { DeepMutable } from "../tools/mutable";
import { formatPreflight, isCloudInitVolume, parseRelease, preflightIssues, type PreflightTarget, type PveFacts } from "../../plan/preflight";
import { buildPlan } from "../../plan/build";
import { baseConfig, type Fixture, withChange } from "../config/fixture";

const config = (mutate: (c: Fixture) => void = () => {}): PreflightTarget => buildPlan(withChange(baseConfig(), mutate), "test");

/** A healthy PVE 8.4 node pve1: local (dir) and local-lvm (lvmthin), templates 9000 and 9001 with cloud-init on local-lvm. */
function goodFacts(): PveFacts {
  return {
    release: "8.4",
    nodes: [{ name: "pve1", online: true }],
    datastores: [
      { id: "local", type: "dir", contentTypes: ["backup", "import", "iso", "snippets", "vztmpl"], active: true, enabled: true },
      { id: "local-lvm", type: "lvmthin", contentTypes: ["images", "rootdir"], active: true, enabled: true },
    ],
    vms: [
      { vmId: 100, name: "scratch", template: false },
      { vmId: 9000, name: "librerouter-template", template: true },
      { vmId: 9001, name: "debian-12-cloudinit", template: true },
    ],
    templates: {
      9000: { cdromFileIds: ["local-lvm:vm-9000-cloudinit"], volumesOnDatastore: ["local-lvm:base-9000-disk-0", "local-lvm:vm-9000-cloudinit"] },
      9001: { cdromFileIds: ["local:iso/debian.iso", "local-lvm:vm-9001-cloudinit"] },
    },
  };
}
const facts = (mutate: (f: DeepMutable<Required<PveFacts>>) => void): PveFacts => {
  const f = structuredClone(goodFacts()) as DeepMutable<Required<PveFacts>>;
  mutate(f);
  return f;
};

const E = "https://pve1.example.net:8006/";
type Row = [name: string, target: PreflightTarget, facts: PveFacts, lines: string[]];

const rows: Row[] = [
  ["a healthy host", config(), goodFacts(), []],
  ["a healthy host, template built from an image", config((c) => (c.template = { createFromImage: true, imageUrl: "https://img.example.net/lr.qcow2", vmid: 9100 })), goodFacts(), []],
  [
    "API not readable",
    config(),
    { apiError: "getVersion: authentication failure" },
    [`proxmox.endpoint: could not read the Proxmox API at ${E} (getVersion: authentication failure); check proxmox.endpoint, proxmox.insecure (self-signed certificate) and the proxmoxPassword secret (root@pam)`],
  ],
  [
    "PVE 7",
    config(),
    facts((f) => (f.release = "7.4")),
    [`proxmox.endpoint: ${E} runs Proxmox VE 7.4; this program needs Proxmox VE 8 or later; upgrade the host (pve7to8) or point proxmox.endpoint at a PVE 8 host`],
  ],
  [
    "a release that is not a version",
    config(),
    facts((f) => (f.release = "")),
    [`proxmox.endpoint: the API at ${E} reported release "", not a Proxmox VE version; point proxmox.endpoint at a Proxmox VE 8 host`],
  ],
  ["PVE 8.3 with an existing template", config(), facts((f) => (f.release = "8.3")), []],
  [
    "PVE 8.3 with createFromImage (import content needs 8.4)",
    config((c) => (c.template = { createFromImage: true, imageUrl: "https://img.example.net/lr.qcow2" })),
    facts((f) => (f.release = "8.3")),
    [`template.createFromImage: needs Proxmox VE 8.4 or later (the "import" content type for downloaded disk images), and ${E} runs 8.3; upgrade the host, or build the template by hand and set template.createFromImage to false`],
  ],
  [
    "node not in the cluster (nothing on the node is checked then)",
    config((c) => (c.proxmox.node = "pve9")),
    facts((f) => (f.nodes = [{ name: "pve1", online: true }, { name: "pve2", online: true }])),
    ['proxmox.node: node "pve9" is not in the cluster (nodes: pve1, pve2); set proxmox.node to one of them'],
  ],
  [
    "node offline",
    config(),
    facts((f) => (f.nodes[0].online = false)),
    ['proxmox.node: node "pve1" is offline; bring it up (or set proxmox.node to an online node) before pulumi up'],
  ],
  [
    "VM datastore that does not exist",
    config((c) => (c.proxmox.datastore = "nas")),
    facts((f) => delete f.templates[9000].volumesOnDatastore),
    ['proxmox.datastore: datastore "nas" does not exist on node pve1 (datastores: local, local-lvm); set proxmox.datastore to one of them'],
  ],
  [
    "VM datastore without images",
    config((c) => (c.proxmox.datastore = "local")),
    facts((f) => delete f.templates[9000].volumesOnDatastore),
    [
      'proxmox.datastore: datastore "local" does not allow content "images" (it allows: backup, import, iso, snippets, vztmpl), and the VM disks and cloud-init drives are created there; add it with `pvesm set local --content backup,images,import,iso,snippets,vztmpl` or set proxmox.datastore to a datastore that allows it',
    ],
  ],
  [
    "snippets datastore without snippets",
    config((c) => Object.assign(c.proxmox, { snippetsDatastore: "local-lvm", snippetsPath: "/var/lib/lvm-snippets" })),
    goodFacts(),
    [
      'proxmox.snippetsDatastore: datastore "local-lvm" does not allow content "snippets" (it allows: images, rootdir), and the tenants\' VNC password files are uploaded there as snippets; add it with `pvesm set local-lvm --content images,rootdir,snippets` or set proxmox.snippetsDatastore to a datastore that allows it',
    ],
  ],
  [
    "createFromImage without Import content",
    config((c) => (c.template = { createFromImage: true, imageUrl: "https://img.example.net/lr.qcow2" })),
    facts((f) => (f.datastores[0].contentTypes = ["iso", "snippets", "vztmpl"])),
    [
      'proxmox.snippetsDatastore: datastore "local" does not allow content "import" (it allows: iso, snippets, vztmpl), and template.createFromImage downloads the image there as import content; add it with `pvesm set local --content import,iso,snippets,vztmpl` or set proxmox.snippetsDatastore to a datastore that allows it',
    ],
  ],
  [
    "inactive snippets datastore (one line, not one per content type)",
    config((c) => (c.template = { createFromImage: true, imageUrl: "https://img.example.net/lr.qcow2" })),
    facts((f) => (f.datastores[0].active = false)),
    ['proxmox.snippetsDatastore: datastore "local" is not active on node pve1; enable it (Datacenter → Storage) or set proxmox.snippetsDatastore to another one'],
  ],
  [
    "tenant template missing",
    config((c) => (c.template = { vmid: 9005 })),
    goodFacts(),
    [
      'template.vmid: VM 9005 does not exist on node pve1, and the tenant template (linked clones configured by cloud-init) must exist before pulumi up; create it (README "Running it for real") or set template.vmid to its VMID, or set template.createFromImage: true with template.imageUrl to build it here',
    ],
  ],
  [
    "tenant template is a plain VM",
    config((c) => (c.template = { vmid: 100 })),
    goodFacts(),
    ['template.vmid: VM 100 ("scratch") on node pve1 is not a template, and the tenant template (linked clones configured by cloud-init) must be one; convert it with `qm template 100` or set template.vmid to a template\'s VMID'],
  ],
  [
    "tenant template without cloud-init (an ISO in the drive is not one)",
    config(),
    facts((f) => (f.templates[9000].cdromFileIds = ["local:iso/openwrt.iso"])),
    [
      'template.vmid: template 9000 ("librerouter-template") has no cloud-init drive, and the tenant template (linked clones configured by cloud-init) needs one: each tenant router gets its public and private addresses and its resolver from cloud-init, and the program has no tenant mode without it yet; add it with `qm set 9000 --ide2 local-lvm:cloudinit`',
    ],
  ],
  [
    "tenant template's disk on another storage (bpg would full-copy every linked clone)",
    config(),
    facts((f) => (f.templates[9000].volumesOnDatastore = ["local-lvm:vm-9000-cloudinit"])),
    [
      'template.vmid: template 9000 ("librerouter-template") has no disk on proxmox.datastore "local-lvm", where the tenants\' linked clones are made; from another storage bpg moves, i.e. fully copies, every clone\'s disk; set proxmox.datastore to the storage of the template\'s scsi0 disk (`qm config 9000` shows it)',
    ],
  ],
  [
    "server template missing",
    config((c) => (c.template = { serverVmid: 9002 })),
    goodFacts(),
    [
      'template.serverVmid: VM 9002 does not exist on node pve1, and the server template (full clones for vpn1, vpn2 and the services VM, configured by cloud-init) must exist before pulumi up; create it (README "Running it for real") or set template.serverVmid to its VMID',
    ],
  ],
  [
    "server template without cloud-init",
    config(),
    facts((f) => (f.templates[9001].cdromFileIds = [])),
    [
      'template.serverVmid: template 9001 ("debian-12-cloudinit") has no cloud-init drive, and the server template (full clones for vpn1, vpn2 and the services VM, configured by cloud-init) needs one: cloud-init installs root\'s SSH key and the management and public addresses the setup scripts connect to; add it with `qm set 9001 --ide2 local-lvm:cloudinit`',
    ],
  ],
  [
    "a cloud-init drive of another VM does not count",
    config(),
    facts((f) => (f.templates[9001].cdromFileIds = ["local-lvm:vm-9000-cloudinit"])),
    [
      'template.serverVmid: template 9001 ("debian-12-cloudinit") has no cloud-init drive, and the server template (full clones for vpn1, vpn2 and the services VM, configured by cloud-init) needs one: cloud-init installs root\'s SSH key and the management and public addresses the setup scripts connect to; add it with `qm set 9001 --ide2 local-lvm:cloudinit`',
    ],
  ],
];

describe("preflightIssues", () => {
  test.each(rows)("%s", (_name, cfg, f, lines) => {
    expect(preflightIssues(cfg, f).map((i) => `${i.key}: ${i.message}`)).toEqual(lines);
  });

  test("every problem at once, in check order: release, node, datastores, then each template", () => {
    const cfg = config((c) => {
      Object.assign(c.proxmox, { snippetsDatastore: "local-lvm", snippetsPath: "/var/lib/lvm-snippets" });
      c.template = { vmid: 100, serverVmid: 9002 };
    });
    const f = facts((x) => (x.release = "7.4"));
    expect(preflightIssues(cfg, f).map((i) => i.key)).toEqual(["proxmox.endpoint", "proxmox.snippetsDatastore", "template.vmid", "template.serverVmid"]);
  });
});

describe("formatPreflight", () => {
  test("a head naming the node and endpoint, then one line per problem, as config errors read", () => {
    const cfg = config((c) => (c.proxmox.node = "pve9"));
    expect(formatPreflight(preflightIssues(cfg, goodFacts()), "prod", cfg)).toBe(
      `stack "prod": preflight of Proxmox node "pve9" at ${E} found 1 problem (nothing was created):\n` +
        '  - librerouter-hosting:proxmox.node: node "pve9" is not in the cluster (nodes: pve1); set proxmox.node to one of them',
    );
    const two = [
      { key: "a", message: "x" },
      { key: "b", message: "y" },
    ];
    expect(formatPreflight(two, "prod", cfg)).toBe(`stack "prod": preflight of Proxmox node "pve9" at ${E} found 2 problems (nothing was created):\n  - librerouter-hosting:a: x\n  - librerouter-hosting:b: y`);
  });
});

describe("helpers", () => {
  test.each([
    ["8.4", [8, 4]],
    ["8.0", [8, 0]],
    ["9.1.2", [9, 1]],
    ["pve", undefined],
    [undefined, undefined],
  ])("parseRelease(%p)", (s, want) => expect(parseRelease(s)).toEqual(want));

  test.each([
    ["local-lvm:vm-9000-cloudinit", 9000, true],
    ["local:9000/vm-9000-cloudinit.qcow2", 9000, true],
    ["local-lvm:vm-90001-cloudinit", 9000, false],
    ["local-lvm:base-9000-disk-0", 9000, false],
    ["local-lvm:xvm-9000-cloudinit", 9000, false],
  ])("isCloudInitVolume(%p, %p) = %p", (id, vmid, want) => expect(isCloudInitVolume(id, vmid)).toBe(want));
});
