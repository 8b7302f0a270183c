/**
 * Preflight: does the Proxmox host meet what the program is about to ask of it? Checks on plain facts read from the
 * Proxmox API (components/preflight.ts gathers them through the provider's data sources); each problem names the
 * config key to change and the fix. Pure: no `@pulumi/*` import.
 */
import { type ConfigIssue, formatIssue } from "../config/errors";
import type { Plan } from "./types";

/** What the preflight checks against: the host settings, the templates and the tenant-network mode of the plan. */
export type PreflightTarget = Pick<Plan, "proxmox" | "templates" | "tenantNetwork" | "nodes" | "ha" | "sdn">;

/** A storage as `getDatastores` reports it for the node. */
export interface DatastoreFact {
  readonly id: string;
  readonly type: string;
  readonly contentTypes: readonly string[];
  /** Undefined when the API left it out. */
  readonly active?: boolean;
  readonly enabled?: boolean;
}

/** A guest on the node as `getVmsLegacy` lists it. */
export interface VmFact {
  readonly vmId: number;
  readonly name: string;
  readonly template: boolean;
}

/** What `getVm` and `getFiles` say about one template VM that exists. */
export interface TemplateFact {
  /**
   * The VM's devices with media=cdrom (getVm `cdrom`), interface → file ID, e.g. `ide2: local-lvm:vm-9000-cloudinit`.
   * A cloud-init drive on any bus (ideN, sataN, scsiN) is one of them: Proxmox marks it media=cdrom.
   */
  readonly cdrom: Readonly<Record<string, string>>;
  /** Volume IDs owned by this VMID on `proxmox.datastore` (getFiles, content `images`); only read for the tenant template. */
  readonly volumesOnDatastore?: readonly string[];
}

/** Everything the checks need, as read from the API. A section is absent when an earlier read made it moot. */
export interface PveFacts {
  /** Set when the API could not be read at all; nothing else is then checked. */
  readonly apiError?: string;
  /** `getVersion` release, `x.y`. */
  readonly release?: string;
  readonly nodes?: readonly { readonly name: string; readonly online: boolean }[];
  /** Present when `proxmox.node` exists. */
  readonly datastores?: readonly DatastoreFact[];
  readonly vms?: readonly VmFact[];
  /** Per VMID of a template that exists on the node. */
  readonly templates?: Readonly<Record<number, TemplateFact>>;
  /** A cluster's other nodes (plan.nodes but the API node) that the cluster lists: their storages and guests. */
  readonly otherNodes?: Readonly<Record<string, { readonly datastores: readonly DatastoreFact[]; readonly vms: readonly VmFact[] }>>;
}

/** Storage types every node of a cluster sees as one (Proxmox's shared storages; a local type holds no HA disk). */
const SHARED_TYPES = new Set(["rbd", "cephfs", "nfs", "cifs", "glusterfs", "iscsi", "iscsidirect", "zfs", "pbs"]);

/** Which template VMIDs the program clones, what for, and the config key that names each. */
export interface TemplateUse {
  readonly key: "template.vmid" | "template.serverVmid";
  readonly vmid: number;
  /** The "mode" the template serves, in the words of the error messages. */
  readonly role: string;
  /** `required`: the clones are configured by cloud-init (the reason in the error); `unused`: nothing configures it. */
  readonly cloudInit: { readonly use: "required"; readonly why: string } | { readonly use: "unused" };
  /** Linked clones must stay on the template's storage (from another one every clone is a full copy). */
  readonly linked: boolean;
}

/**
 * The existing templates the stack clones (the tenant one only when it is not built here from an image). The tenant
 * template needs cloud-init in tenantNetwork.mode distinct only: in fixed mode a tenant VM has no `initialization`
 * and takes its public address by DHCP (the image as shipped).
 */
export function templateUses(target: PreflightTarget): TemplateUse[] {
  const uses: TemplateUse[] = [];
  if (!target.templates.image) {
    const fixed = target.tenantNetwork.mode === "fixed";
    uses.push({
      key: "template.vmid",
      vmid: target.templates.vmid,
      role: fixed ? "the tenant template (linked clones of the image as shipped, no cloud-init)" : "the tenant template (linked clones configured by cloud-init)",
      cloudInit: fixed ? { use: "unused" } : { use: "required", why: "each tenant router gets its public and private addresses and its resolver from cloud-init" },
      linked: true,
    });
  }
  uses.push({
    key: "template.serverVmid",
    vmid: target.templates.serverVmid,
    role: "the server template (full clones for vpn1, vpn2 and the services VM, configured by cloud-init)",
    cloudInit: { use: "required", why: "cloud-init installs root's SSH key and the management and public addresses the setup scripts connect to" },
    linked: false,
  });
  return uses;
}

/**
 * The template's own cloud-init drive, `[interface, file ID]`, if it has one: with one it can serve both
 * tenant-network modes, without one only fixed.
 */
export function cloudInitDrive(t: TemplateFact, vmid: number): readonly [string, string] | undefined {
  return Object.entries(t.cdrom).find(([, f]) => isCloudInitVolume(f, vmid));
}

/** `8.4` → [8, 4]; undefined when the text is not `major.minor…`. */
export function parseRelease(release: string | undefined): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release ?? "");
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/**
 * bpg's test for a VM's cloud-init drive (proxmox/nodes/vms IsCloudInitDrive: the volume `vm-<vmid>-cloudinit`),
 * anchored at the start of the volume name (`local-lvm:vm-9000-cloudinit`, `local:9000/vm-9000-cloudinit.qcow2`).
 */
export function isCloudInitVolume(fileId: string, vmid: number): boolean {
  return new RegExp(`(?:^|[:/])vm-${vmid}-cloudinit(?:\\.|$)`).test(fileId);
}

/** Content types a datastore must carry, with the config key that names the datastore and why. */
function contentNeeds(target: PreflightTarget): { key: string; id: string; content: string; why: string }[] {
  const p = target.proxmox;
  const needs = [
    { key: "proxmox.datastore", id: p.datastore, content: "images", why: "the VM disks and cloud-init drives are created there" },
    { key: "proxmox.snippetsDatastore", id: p.snippetsDatastore, content: "snippets", why: "the tenants' VNC password files are uploaded there as snippets" },
  ];
  if (target.templates.image) {
    needs.push({ key: "proxmox.snippetsDatastore", id: p.snippetsDatastore, content: "import", why: "template.createFromImage downloads the image there as import content" });
  }
  return needs;
}

/** What the preflight found: `errors` stop the run before anything is created; `warnings` are logged and the run goes on. */
export interface PreflightFindings {
  readonly errors: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
}

/** The errors of `preflightFindings`: every prerequisite the host misses, one issue each. */
export function preflightIssues(target: PreflightTarget, facts: PveFacts): ConfigIssue[] {
  return [...preflightFindings(target, facts).errors];
}

/**
 * Every prerequisite the host misses, one error each, and what works but deserves the operator's eye. Checks that
 * depend on an earlier one (the node, then its datastores and VMs, then each template's devices) are skipped when
 * that earlier one failed. Not checked: the template's NICs (fixed mode wants net0 WAN, net1 LAN). No data source
 * shows them (getVm has cdrom, cpu, rng, vga), and they do not reach the tenants: bpg's clone sends net0…netN from
 * the resource and deletes every higher netX (proxmoxtf/resource/vm/vm.go, createClone). Which guest NIC is the WAN
 * is the image's own choice, which Proxmox cannot see.
 */
export function preflightFindings(target: PreflightTarget, facts: PveFacts): PreflightFindings {
  const p = target.proxmox;
  if (facts.apiError !== undefined) {
    return {
      errors: [
        {
          key: "proxmox.endpoint",
          message: `could not read the Proxmox API at ${p.endpoint} (${facts.apiError}); check proxmox.endpoint, proxmox.insecure (self-signed certificate) and the proxmoxPassword secret (root@pam)`,
        },
      ],
      warnings: [],
    };
  }
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const add = (key: string, message: string) => issues.push({ key, message });

  const release = parseRelease(facts.release);
  if (!release) add("proxmox.endpoint", `the API at ${p.endpoint} reported release "${facts.release ?? ""}", not a Proxmox VE version; point proxmox.endpoint at a Proxmox VE 8 host`);
  else if (release[0] < 8) add("proxmox.endpoint", `${p.endpoint} runs Proxmox VE ${facts.release}; this program needs Proxmox VE 8 or later; upgrade the host (pve7to8) or point proxmox.endpoint at a PVE 8 host`);
  else if (target.templates.image && release[0] === 8 && release[1] < 4) {
    add("template.createFromImage", `needs Proxmox VE 8.4 or later (the "import" content type for downloaded disk images), and ${p.endpoint} runs ${facts.release}; upgrade the host, or build the template by hand and set template.createFromImage to false`);
  }

  const nodes = facts.nodes ?? [];
  const node = nodes.find((n) => n.name === p.node);
  if (!node) {
    add("proxmox.node", `node "${p.node}" is not in the cluster (nodes: ${nodes.map((n) => n.name).join(", ") || "none"}); set proxmox.node to one of them`);
    return { errors: issues, warnings };
  }
  if (!node.online) add("proxmox.node", `node "${p.node}" is offline; bring it up (or set proxmox.node to an online node) before pulumi up`);

  clusterFindings(target, facts, release, add, warnings);

  const stores = facts.datastores ?? [];
  const missing = new Set<string>();
  for (const need of contentNeeds(target)) {
    const ds = stores.find((d) => d.id === need.id);
    if (!ds) {
      if (!missing.has(need.key)) add(need.key, `datastore "${need.id}" does not exist on node ${p.node} (datastores: ${stores.map((d) => d.id).join(", ") || "none"}); set ${need.key} to one of them`);
      missing.add(need.key);
      continue;
    }
    if (ds.active === false || ds.enabled === false) {
      if (!missing.has(need.key)) add(need.key, `datastore "${need.id}" is ${ds.enabled === false ? "disabled" : "not active"} on node ${p.node}; enable it (Datacenter → Storage) or set ${need.key} to another one`);
      missing.add(need.key);
      continue;
    }
    if (!ds.contentTypes.includes(need.content)) {
      const content = [...ds.contentTypes, need.content].sort().join(",");
      add(need.key, `datastore "${need.id}" does not allow content "${need.content}" (it allows: ${[...ds.contentTypes].sort().join(", ") || "nothing"}), and ${need.why}; add it with \`pvesm set ${need.id} --content ${content}\` or set ${need.key} to a datastore that allows it`);
    }
  }

  const vms = facts.vms ?? [];
  for (const use of templateUses(target)) {
    const vm = vms.find((v) => v.vmId === use.vmid);
    if (!vm) {
      const alt = use.linked ? ", or set template.createFromImage: true with template.imageUrl to build it here" : "";
      add(use.key, `VM ${use.vmid} does not exist on node ${p.node}, and ${use.role} must exist before pulumi up; create it (README "Running it for real") or set ${use.key} to its VMID${alt}`);
      continue;
    }
    if (!vm.template) {
      add(use.key, `VM ${use.vmid} ("${vm.name}") on node ${p.node} is not a template, and ${use.role} must be one; convert it with \`qm template ${use.vmid}\` or set ${use.key} to a template's VMID`);
      continue;
    }
    const t = facts.templates?.[use.vmid];
    if (!t) continue;
    const drive = cloudInitDrive(t, use.vmid);
    if (use.cloudInit.use === "required" && !drive) {
      const qmSet = `\`qm set ${use.vmid} --ide2 ${p.datastore}:cloudinit\``;
      if (use.linked) {
        add(
          use.key,
          `template ${use.vmid} ("${vm.name}") has no cloud-init drive, so it can serve only tenantNetwork.mode fixed, and this stack uses mode distinct, where ${use.cloudInit.why}; add a cloud-init drive with ${qmSet}, or set tenantNetwork.mode: fixed (the image as shipped: the appliance's own LAN in every tenant, the public address by DHCP from the services VM)`,
        );
      } else {
        add(use.key, `template ${use.vmid} ("${vm.name}") has no cloud-init drive, and ${use.role} needs one: ${use.cloudInit.why}; add it with ${qmSet}`);
      }
    }
    if (use.cloudInit.use === "unused" && drive) warnings.push({ key: use.key, message: unusedCloudInitWarning(use.vmid, vm.name, drive) });
    if (use.linked && t.volumesOnDatastore && !t.volumesOnDatastore.some((v) => !isCloudInitVolume(v, use.vmid))) {
      add(
        use.key,
        `template ${use.vmid} ("${vm.name}") has no disk on proxmox.datastore "${p.datastore}", where the tenants' linked clones are made; from another storage bpg moves, i.e. fully copies, every clone's disk; set proxmox.datastore to the storage of the template's scsi0 disk (\`qm config ${use.vmid}\` shows it)`,
      );
    }
  }
  return { errors: issues, warnings };
}

/**
 * A cluster's own needs: SDN needs Proxmox VE 8.1 (the SDN stack installed and supported), HA rules 9.0
 * (`/cluster/ha/rules`; 8.x has HA groups only, and the rules would fail at up after the HA resources were made).
 * Every other node of the plan is in the cluster and online, holds its copies of the templates as templates, and
 * sees proxmox.datastore and ha.datastore; ha.datastore must be a shared type on every node.
 */
function clusterFindings(target: PreflightTarget, facts: PveFacts, release: [number, number] | undefined, add: (key: string, message: string) => void, warnings: ConfigIssue[]): void {
  if (target.nodes.length < 2 && !target.ha.datastore) return;
  const p = target.proxmox;
  if (release && target.sdn && (release[0] < 8 || (release[0] === 8 && release[1] < 1))) {
    add("sdn.kind", `needs Proxmox VE 8.1 or later (SDN zones, vnets and the applier), and ${p.endpoint} runs ${facts.release}; upgrade every node`);
  }
  if (release && target.ha.datastore && release[0] < 9) {
    add("ha.datastore", `needs Proxmox VE 9 or later for its HA rules (vpn1 and vpn2 apart, each VM on its node: /cluster/ha/rules), and ${p.endpoint} runs ${facts.release}; upgrade the cluster (pve8to9), or leave ha.datastore out for now (no HA)`);
  }
  const listed = facts.nodes ?? [];
  for (const n of target.nodes) {
    if (n.name === p.node) continue;
    const seen = listed.find((x) => x.name === n.name);
    if (!seen) {
      add("nodes", `node "${n.name}" is not in the cluster (nodes: ${listed.map((x) => x.name).join(", ") || "none"}); join it (pvecm add ${p.node}) or fix its name`);
      continue;
    }
    if (!seen.online) add("nodes", `node "${n.name}" is offline; bring it up before pulumi up (its VMs and vnets are made there)`);
    const other = facts.otherNodes?.[n.name];
    if (!other) continue;
    for (const [key, vmid] of [
      ["librerouter", n.templates.vmid],
      ["debian", n.templates.serverVmid],
    ] as const) {
      const vm = other.vms.find((v) => v.vmId === vmid);
      if (!vm || !vm.template) {
        add("nodes", `node "${n.name}": VM ${vmid} (its templates.${key}) ${vm ? `("${vm.name}") is not a template` : "does not exist there"}; copy the template to the node (\`qm clone ${key === "librerouter" ? target.templates.vmid : target.templates.serverVmid} ${vmid} --target ${n.name} --full\` on the API node, then \`qm template ${vmid}\`) or fix nodes[].templates.${key}`);
      }
    }
    if (!other.datastores.some((d) => d.id === p.datastore && d.contentTypes.includes("images"))) {
      add("proxmox.datastore", `datastore "${p.datastore}" is not on node "${n.name}" with content images; the tenants' disks on that node are made there: add it to the node (Datacenter → Storage → Nodes)`);
    }
  }
  const ha = target.ha.datastore;
  if (!ha) return;
  const seenOn: [string, DatastoreFact | undefined][] = [[p.node, facts.datastores?.find((d) => d.id === ha)], ...Object.entries(facts.otherNodes ?? {}).map(([name, o]): [string, DatastoreFact | undefined] => [name, o.datastores.find((d) => d.id === ha)])];
  for (const [node, ds] of seenOn) {
    if (!ds) add("ha.datastore", `datastore "${ha}" is not on node "${node}"; the HA manager restarts a VM only on a node that sees its disks: add the shared storage to every node`);
    else if (!ds.contentTypes.includes("images")) add("ha.datastore", `datastore "${ha}" on node "${node}" does not allow content "images"; add it (\`pvesm set ${ha} --content images\`)`);
    else if (!SHARED_TYPES.has(ds.type)) warnings.push({ key: "ha.datastore", message: `datastore "${ha}" on node "${node}" is of type ${ds.type}, which is not a shared storage type (rbd, cephfs, nfs, …): a VM on it cannot restart elsewhere unless the storage is replicated; check \`pvesm status\`` });
  }
}

/**
 * A warning, not an error: the clones work, and refusing would stop a stack switching distinct → fixed on the
 * template it has. What happens to the drive (bpg v0.111.1, qemu-server): with no `initialization`, bpg's clone
 * touches no cloud-init device (proxmoxtf/resource/vm/vm.go, createClone) and its read leaves `initialization` empty
 * for a clone configured without one (no drift, so never removed); Proxmox gives every clone its own drive
 * (`vm-<newid>-cloudinit`, QemuServer.pm clone_disk), copies the template's ci* settings and regenerates the ISO at
 * each start. Inert for an image without cloud-init; an image that runs it applies settings the program never sees.
 */
function unusedCloudInitWarning(vmid: number, name: string, [iface, fileId]: readonly [string, string]): string {
  return `template ${vmid} ("${name}") has a cloud-init drive (${iface}: ${fileId}), which tenantNetwork.mode fixed does not use: every tenant clone gets its own copy that the program neither configures nor removes, and a guest that runs cloud-init applies the template's own cloud-init settings (\`qm cloudinit dump ${vmid} network\` shows them); harmless for an image without cloud-init such as the LibreRouter image as shipped; to drop it, run \`qm set ${vmid} --delete ${iface}\` before the tenants are cloned`;
}

/** The RunError text: a head line naming the host, then one line per issue (as config/errors.ts formats them). */
export function formatPreflight(issues: readonly ConfigIssue[], stack: string, target: PreflightTarget): string {
  const n = issues.length;
  const head = `stack "${stack}": preflight of Proxmox node "${target.proxmox.node}" at ${target.proxmox.endpoint} found ${n} problem${n === 1 ? "" : "s"} (nothing was created):`;
  return [head, ...issues.map((i) => `  - ${formatIssue(i)}`)].join("\n");
}

/** The logged warning text, shaped like the error's. */
export function formatPreflightWarnings(warnings: readonly ConfigIssue[], stack: string, target: PreflightTarget): string {
  const n = warnings.length;
  const head = `stack "${stack}": preflight of Proxmox node "${target.proxmox.node}" at ${target.proxmox.endpoint}: ${n} warning${n === 1 ? "" : "s"} (the run goes on):`;
  return [head, ...warnings.map((i) => `  - ${formatIssue(i)}`)].join("\n");
}
