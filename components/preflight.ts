/**
 * Preflight at preview: reads the node, its datastores, its VMs, the templates' devices and the PVE release through
 * the provider's data sources, and checks them (plan/preflight.ts) before any Proxmox resource is declared to the
 * engine.
 *
 * Data sources used (@muhlba91/pulumi-proxmoxve 8.6.0 over bpg/terraform-provider-proxmox v0.111.1):
 * - `getVersion` → `release` "x.y" (fwprovider/datasource_version.go, GET /version);
 * - `getNodesLegacy` → `names`, `onlines` (proxmoxtf/datasource/nodes.go, GET /nodes);
 * - `getDatastores` → per storage `id`, `contentTypes`, `active`, `enabled` (fwprovider/nodes/datastores);
 * - `getVmsLegacy` → per VM `vmId`, `name`, `template` (proxmoxtf/datasource/vms.go);
 * - `getVm` → `cdrom`: interface → `fileId` of every device with media=cdrom (fwprovider/nodes/vm/cdrom), which is
 *   how a cloud-init drive on any bus shows (`ide2: …:vm-<id>-cloudinit`). It exposes no disks and no NICs;
 * - `getFiles` (content `images`) → the volumes of a VMID on a storage (fwprovider/nodes/file/datasource_files.go):
 *   the next best fact for "the template's disk is on proxmox.datastore". No data source says which interface
 *   (scsi0) a volume is attached to.
 * In a cluster, `getDatastores` and `getVmsLegacy` again for every other online node of the plan (its templates,
 * proxmox.datastore and ha.datastore there).
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { formatPreflight, formatPreflightWarnings, type PreflightTarget, type PveFacts, preflightFindings, type TemplateFact, templateUses } from "../plan/preflight";
import type { Plan } from "../plan/types";
import { proxmoxProvider } from "./provider";

export interface ProxmoxPreflightArgs {
  readonly plan: Plan;
  /** Secret `proxmoxPassword` (root@pam). The preflight provider only reads: no SSH key. */
  readonly password: pulumi.Input<string>;
}

export interface ProxmoxPreflight {
  /** The provider the reads go through; never used for a resource. */
  readonly provider: proxmoxve.Provider;
  /** Resolves (to no resources) when every check passed; rejects with a `RunError` listing every problem otherwise. */
  readonly passed: pulumi.Output<pulumi.Resource[]>;
}

/** The first line of an invoke's error (the provider's own diagnostic). */
function reason(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0].trim();
}

/** Reads the facts, stage by stage; a failed read ends the reading with `apiError`. */
export async function readPveFacts(cfg: PreflightTarget, opts: pulumi.InvokeOptions): Promise<PveFacts> {
  const p = cfg.proxmox;
  const read = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw new Error(`${what}: ${reason(e)}`);
    }
  };
  try {
    const [version, list] = await Promise.all([read("getVersion", () => proxmoxve.getVersion(opts)), read("getNodesLegacy", () => proxmoxve.getNodesLegacy(opts))]);
    const nodes = list.names.map((name, i) => ({ name, online: list.onlines[i] === true }));
    if (!nodes.some((n) => n.name === p.node)) return { release: version.release, nodes };
    const [stores, vmList] = await Promise.all([
      read(`getDatastores ${p.node}`, () => proxmoxve.getDatastores({ nodeName: p.node }, opts)),
      read(`getVmsLegacy ${p.node}`, () => proxmoxve.getVmsLegacy({ nodeName: p.node }, opts)),
    ]);
    const datastores = (stores.datastores ?? []).map((d) => ({ id: d.id, type: d.type, contentTypes: d.contentTypes ?? [], active: d.active, enabled: d.enabled }));
    const vms = vmList.vms.map((v) => ({ vmId: v.vmId, name: v.name, template: v.template === true }));
    const imagesOk = datastores.some((d) => d.id === p.datastore && d.contentTypes.includes("images"));
    const templates: Record<number, TemplateFact> = {};
    for (const use of templateUses(cfg)) {
      if (!vms.some((v) => v.vmId === use.vmid && v.template)) continue;
      const vm = await read(`getVm ${use.vmid}`, () => proxmoxve.getVm({ nodeName: p.node, id: use.vmid }, opts));
      const cdrom = Object.fromEntries(Object.entries(vm.cdrom ?? {}).map(([iface, c]) => [iface, c.fileId]));
      if (!use.linked || !imagesOk) {
        templates[use.vmid] = { cdrom };
        continue;
      }
      const files = await read(`getFiles ${p.datastore}`, () => proxmoxve.getFiles({ nodeName: p.node, datastoreId: p.datastore, contentType: "images" }, opts));
      templates[use.vmid] = { cdrom, volumesOnDatastore: files.files.filter((f) => f.vmid === use.vmid).map((f) => f.id) };
    }
    // A cluster: every other planned node the cluster lists, its storages and guests (its templates, its datastores).
    const others = cfg.nodes.filter((n) => n.name !== p.node && nodes.some((x) => x.name === n.name && x.online));
    const otherNodes = Object.fromEntries(
      await Promise.all(
        others.map(async (n) => {
          const [s, v] = await Promise.all([read(`getDatastores ${n.name}`, () => proxmoxve.getDatastores({ nodeName: n.name }, opts)), read(`getVmsLegacy ${n.name}`, () => proxmoxve.getVmsLegacy({ nodeName: n.name }, opts))]);
          return [n.name, { datastores: (s.datastores ?? []).map((d) => ({ id: d.id, type: d.type, contentTypes: d.contentTypes ?? [], active: d.active, enabled: d.enabled })), vms: v.vms.map((x) => ({ vmId: x.vmId, name: x.name, template: x.template === true })) }] as const;
        }),
      ),
    );
    return { release: version.release, nodes, datastores, vms, templates, ...(others.length ? { otherNodes } : {}) };
  } catch (e) {
    return { apiError: reason(e) };
  }
}

/**
 * The preflight provider and its verdict. The main provider takes `passed` as `dependsOn`: the SDK registers no
 * resource before its provider, and the provider not before its dependencies, so when a check fails no Proxmox
 * resource (and no remote command, all of which wait on one) reaches the engine, at preview or at up. A separate
 * provider instance, because the main one must wait on these reads. `dependsOn` rather than an awaited input: a
 * rejected input is re-thrown as `error serializing property "endpoint": …`, a rejected dependency as it is; the
 * SDK prints a `RunError` without a stack trace (cmd/run/run.js uncaughtHandler). Warnings go to the engine's log
 * (`pulumi.log.warn`, shown by preview and up) whether or not a check failed.
 */
export function proxmoxPreflight(name: string, args: ProxmoxPreflightArgs): ProxmoxPreflight {
  const { plan } = args;
  const cfg = plan;
  const provider = proxmoxProvider(name, { plan, password: args.password });
  const passed = pulumi.output(readPveFacts(cfg, { provider })).apply((facts) => {
    const { errors, warnings } = preflightFindings(cfg, facts as PveFacts);
    if (warnings.length) void pulumi.log.warn(formatPreflightWarnings(warnings, plan.stack, cfg));
    if (errors.length) throw new pulumi.RunError(formatPreflight(errors, plan.stack, cfg));
    return [] as pulumi.Resource[];
  });
  return { provider, passed };
}
