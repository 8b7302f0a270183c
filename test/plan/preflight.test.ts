/** The preflight checks on plain facts (plan/preflight.ts): one row per failing fact, exact messages. */
import type { DeepMutable } from "../tools/mutable";
import { cloudInitDrive, formatPreflight, formatPreflightWarnings, isCloudInitVolume, parseRelease, preflightFindings, preflightIssues, type PreflightTarget, type PveFacts } from "../../plan/preflight";
import { buildPlan } from "../../plan/build";
import { baseConfig, clusterConfig, type Fixture, withChange } from "../config/fixture";
import { formatIssue } from "../../config/errors";

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
      9000: { cdrom: { ide2: "local-lvm:vm-9000-cloudinit" }, volumesOnDatastore: ["local-lvm:base-9000-disk-0", "local-lvm:vm-9000-cloudinit"] },
      9001: { cdrom: { ide0: "local:iso/debian.iso", ide2: "local-lvm:vm-9001-cloudinit" } },
    },
  };
}
const facts = (mutate: (f: DeepMutable<Required<PveFacts>>) => void): PveFacts => {
  const f = structuredClone(goodFacts()) as DeepMutable<Required<PveFacts>>;
  mutate(f);
  return f;
};

const E = "https://pve1.example.net:8006/";
const fixed = (mutate: (c: Fixture) => void = () => {}) =>
  config((c) => {
    c.tenantNetwork = { mode: "fixed" };
    mutate(c);
  });
const NO_CLOUD_INIT_DISTINCT =
  "template.vmid: template 9000 (\"librerouter-template\") has no cloud-init drive, so it can serve only tenantNetwork.mode fixed, and this stack uses mode distinct, where each tenant router gets its public and private addresses and its resolver from cloud-init; add a cloud-init drive with `qm set 9000 --ide2 local-lvm:cloudinit`, or set tenantNetwork.mode: fixed (the image as shipped: the appliance's own LAN in every tenant, the public address by DHCP from the services VM)";
/** The fixed-mode warning for template 9000 with its cloud-init drive on `iface`. */
const unusedCloudInit = (iface: string, fileId: string) =>
  `template.vmid: template 9000 ("librerouter-template") has a cloud-init drive (${iface}: ${fileId}), which tenantNetwork.mode fixed does not use: every tenant clone gets its own copy that the program neither configures nor removes, and a guest that runs cloud-init applies the template's own cloud-init settings (\`qm cloudinit dump 9000 network\` shows them); harmless for an image without cloud-init such as the LibreRouter image as shipped; to drop it, run \`qm set 9000 --delete ${iface}\` before the tenants are cloned`;
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
    "tenant template without cloud-init in distinct mode (an ISO in the drive is not one)",
    config(),
    facts((f) => (f.templates[9000].cdrom = { ide2: "local:iso/openwrt.iso" })),
    [NO_CLOUD_INIT_DISTINCT],
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
    facts((f) => (f.templates[9001].cdrom = {})),
    [
      'template.serverVmid: template 9001 ("debian-12-cloudinit") has no cloud-init drive, and the server template (full clones for vpn1, vpn2 and the services VM, configured by cloud-init) needs one: cloud-init installs root\'s SSH key and the management and public addresses the setup scripts connect to; add it with `qm set 9001 --ide2 local-lvm:cloudinit`',
    ],
  ],
  [
    "a cloud-init drive of another VM does not count",
    config(),
    facts((f) => (f.templates[9001].cdrom = { ide2: "local-lvm:vm-9000-cloudinit" })),
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

describe("the tenant template per tenantNetwork.mode", () => {
  type ModeRow = [name: string, target: PreflightTarget, facts: PveFacts, errors: string[], warnings: string[]];
  const findings = (t: PreflightTarget, f: PveFacts) => {
    const r = preflightFindings(t, f);
    return { errors: r.errors.map((i) => `${i.key}: ${i.message}`), warnings: r.warnings.map((i) => `${i.key}: ${i.message}`) };
  };
  const withoutCloudInit = facts((f) => (f.templates[9000].cdrom = {}));
  const modeRows: ModeRow[] = [
    ["distinct, cloud-init drive on ide2: ok", config(), goodFacts(), [], []],
    ["distinct, cloud-init drive on sata0 (any bus counts): ok", config(), facts((f) => (f.templates[9000].cdrom = { sata0: "local-lvm:vm-9000-cloudinit" })), [], []],
    ["distinct, no cdrom at all: refused, naming both fixes", config(), withoutCloudInit, [NO_CLOUD_INIT_DISTINCT], []],
    ["fixed, no cloud-init drive (the image as shipped): ok, nothing said", fixed(), withoutCloudInit, [], []],
    ["fixed, an ISO in the drive: ok", fixed(), facts((f) => (f.templates[9000].cdrom = { ide2: "local:iso/openwrt.iso" })), [], []],
    ["fixed, cloud-init drive on ide2: allowed, with a warning", fixed(), goodFacts(), [], [unusedCloudInit("ide2", "local-lvm:vm-9000-cloudinit")]],
    [
      "fixed, cloud-init drive on scsi1 next to an ISO: the warning names the drive's own interface",
      fixed(),
      facts((f) => (f.templates[9000].cdrom = { ide2: "local:iso/openwrt.iso", scsi1: "local:9000/vm-9000-cloudinit.qcow2" })),
      [],
      [unusedCloudInit("scsi1", "local:9000/vm-9000-cloudinit.qcow2")],
    ],
    [
      "fixed: the server template still needs cloud-init",
      fixed(),
      facts((f) => {
        f.templates[9000].cdrom = {};
        f.templates[9001].cdrom = {};
      }),
      [
        'template.serverVmid: template 9001 ("debian-12-cloudinit") has no cloud-init drive, and the server template (full clones for vpn1, vpn2 and the services VM, configured by cloud-init) needs one: cloud-init installs root\'s SSH key and the management and public addresses the setup scripts connect to; add it with `qm set 9001 --ide2 local-lvm:cloudinit`',
      ],
      [],
    ],
    [
      "fixed, tenant template missing: the role says what fixed mode clones",
      fixed((c) => (c.template = { vmid: 9005 })),
      goodFacts(),
      [
        'template.vmid: VM 9005 does not exist on node pve1, and the tenant template (linked clones of the image as shipped, no cloud-init) must exist before pulumi up; create it (README "Running it for real") or set template.vmid to its VMID, or set template.createFromImage: true with template.imageUrl to build it here',
      ],
      [],
    ],
    ["fixed, template built here from an image: no existing tenant template to check", fixed((c) => (c.template = { createFromImage: true, imageUrl: "https://img.example.net/lr.qcow2", vmid: 9100 })), goodFacts(), [], []],
    ["fixed, cloud-init template whose disk is elsewhere: the storage error stands, the warning too", fixed(), facts((f) => (f.templates[9000].volumesOnDatastore = ["local-lvm:vm-9000-cloudinit"])), [
      'template.vmid: template 9000 ("librerouter-template") has no disk on proxmox.datastore "local-lvm", where the tenants\' linked clones are made; from another storage bpg moves, i.e. fully copies, every clone\'s disk; set proxmox.datastore to the storage of the template\'s scsi0 disk (`qm config 9000` shows it)',
    ], [unusedCloudInit("ide2", "local-lvm:vm-9000-cloudinit")]],
    ["fixed, API not readable: the one error, no warning", fixed(), { apiError: "getVersion: authentication failure" }, [
      `proxmox.endpoint: could not read the Proxmox API at ${E} (getVersion: authentication failure); check proxmox.endpoint, proxmox.insecure (self-signed certificate) and the proxmoxPassword secret (root@pam)`,
    ], []],
  ];
  test.each(modeRows)("%s", (_name, cfg, f, errors, warnings) => {
    expect(findings(cfg, f)).toEqual({ errors, warnings });
    expect(preflightIssues(cfg, f).map((i) => `${i.key}: ${i.message}`)).toEqual(errors);
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

describe("formatPreflightWarnings", () => {
  test("a head saying the run goes on, then one line per warning", () => {
    const cfg = fixed();
    expect(formatPreflightWarnings(preflightFindings(cfg, goodFacts()).warnings, "prod", cfg)).toBe(
      `stack "prod": preflight of Proxmox node "pve1" at ${E}: 1 warning (the run goes on):\n  - librerouter-hosting:${unusedCloudInit("ide2", "local-lvm:vm-9000-cloudinit")}`,
    );
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

  test.each([
    [{ ide2: "local-lvm:vm-9000-cloudinit" }, ["ide2", "local-lvm:vm-9000-cloudinit"]],
    [{ ide0: "local:iso/x.iso", sata1: "local-lvm:vm-9000-cloudinit" }, ["sata1", "local-lvm:vm-9000-cloudinit"]],
    [{ ide2: "local-lvm:vm-9001-cloudinit" }, undefined],
    [{}, undefined],
  ])("cloudInitDrive(%p, 9000) = %p", (cdrom, want) => expect(cloudInitDrive({ cdrom }, 9000)).toEqual(want));
});

describe("a cluster's preflight (plan.nodes, sdn, ha)", () => {
  const cluster = (mutate: (c: Fixture) => void = () => {}) => buildPlan(withChange(clusterConfig(), mutate), "test");
  const lvm = { id: "local-lvm", type: "lvmthin", contentTypes: ["images", "rootdir"], active: true, enabled: true };
  const ceph = { id: "ceph-vm", type: "rbd", contentTypes: ["images"], active: true, enabled: true };
  const tpl = (vmId: number) => ({ vmId, name: `tpl-${vmId}`, template: true });
  /** PVE 9.0, three nodes online, each other node with its templates, local-lvm and the Ceph pool everywhere. */
  const healthy = (): DeepMutable<Required<PveFacts>> =>
    facts((f) => {
      f.release = "9.0";
      f.nodes = ["pve1", "pve2", "pve3"].map((name) => ({ name, online: true }));
      f.datastores.push(ceph);
      f.otherNodes = { pve2: { datastores: [lvm, ceph], vms: [tpl(9010), tpl(9011)] }, pve3: { datastores: [lvm, ceph], vms: [tpl(9020), tpl(9021)] } };
    }) as DeepMutable<Required<PveFacts>>;
  const errors = (target: PreflightTarget, f: PveFacts) => preflightFindings(target, f).errors.map(formatIssue);
  const withHa = () => cluster((c) => (c.ha = { datastore: "ceph-vm" }));

  test("a healthy cluster passes, with and without HA", () => {
    expect(preflightFindings(cluster(), healthy())).toEqual({ errors: [], warnings: [] });
    expect(preflightFindings(withHa(), healthy())).toEqual({ errors: [], warnings: [] });
  });

  test.each<[string, () => PreflightTarget, (f: DeepMutable<Required<PveFacts>>) => void, string[]]>([
    ["SDN on PVE 8.0", cluster, (f) => void (f.release = "8.0"), [`sdn.kind: needs Proxmox VE 8.1 or later (SDN zones, vnets and the applier), and ${E} runs 8.0; upgrade every node`]],
    [
      "HA rules on PVE 8.4",
      withHa,
      (f) => void (f.release = "8.4"),
      [`ha.datastore: needs Proxmox VE 9 or later for its HA rules (vpn1 and vpn2 apart, each VM on its node: /cluster/ha/rules), and ${E} runs 8.4; upgrade the cluster (pve8to9), or leave ha.datastore out for now (no HA)`],
    ],
    ["a node not joined", cluster, (f) => void (f.nodes = f.nodes.filter((n) => n.name !== "pve3")), ['nodes: node "pve3" is not in the cluster (nodes: pve1, pve2); join it (pvecm add pve1) or fix its name']],
    ["a node offline", cluster, (f) => void (f.nodes[1].online = false), ['nodes: node "pve2" is offline; bring it up before pulumi up (its VMs and vnets are made there)']],
    [
      "a node without its LibreRouter template, another with a VM that is not a template",
      cluster,
      (f) => {
        f.otherNodes.pve2.vms = [tpl(9011)];
        f.otherNodes.pve3.vms = [tpl(9020), { vmId: 9021, name: "debian", template: false }];
      },
      [
        'nodes: node "pve2": VM 9010 (its templates.librerouter) does not exist there; copy the template to the node (`qm clone 9000 9010 --target pve2 --full` on the API node, then `qm template 9010`) or fix nodes[].templates.librerouter',
        'nodes: node "pve3": VM 9021 (its templates.debian) ("debian") is not a template; copy the template to the node (`qm clone 9001 9021 --target pve3 --full` on the API node, then `qm template 9021`) or fix nodes[].templates.debian',
      ],
    ],
    [
      "the VM datastore missing on a node",
      cluster,
      (f) => void (f.otherNodes.pve3.datastores = [ceph]),
      ['proxmox.datastore: datastore "local-lvm" is not on node "pve3" with content images; the tenants\' disks on that node are made there: add it to the node (Datacenter → Storage → Nodes)'],
    ],
    [
      "the HA datastore missing on a node",
      withHa,
      (f) => void (f.otherNodes.pve2.datastores = [lvm]),
      ['ha.datastore: datastore "ceph-vm" is not on node "pve2"; the HA manager restarts a VM only on a node that sees its disks: add the shared storage to every node'],
    ],
  ])("%s", (_name, target, mutate, want) => {
    const f = healthy();
    mutate(f);
    expect(errors(target(), f)).toEqual(want.map((w) => `librerouter-hosting:${w}`));
  });

  test("an HA datastore of a local type is a warning (it may be replicated), not an error", () => {
    const f = healthy();
    f.otherNodes.pve2.datastores = [lvm, { ...ceph, type: "lvmthin" }];
    expect(preflightFindings(withHa(), f).warnings.map((w) => w.message)).toEqual([
      'datastore "ceph-vm" on node "pve2" is of type lvmthin, which is not a shared storage type (rbd, cephfs, nfs, …): a VM on it cannot restart elsewhere unless the storage is replicated; check `pvesm status`',
    ]);
  });
});
