/**
 * Proxmox HA (plan.ha.datastore set): the VMs whose disks live on the shared datastore become HA resources, so the
 * HA manager restarts them on another node when theirs fails. Rules (PVE 9+ `/cluster/ha/rules`; PVE 8 has no such
 * endpoint and the rules fail at `up`, after the HA resources were created; HA groups are PVE 8's mechanism):
 * - vpn1 and vpn2 never on one node: a resource-affinity rule, `negative`. bpg refuses `strict` on that type
 *   (fwprovider/cluster/ha/resource_harule.go ValidateConfig: "only valid when type is node-affinity"); the HA
 *   manager always keeps negatively affine resources apart.
 * - each VM on its planned node: a node-affinity rule with that node alone, NOT strict, so a failed node's VMs may
 *   run anywhere else, and (failback, PVE 9's default for a resource) return when it is back, which keeps the program's
 *   `nodeName` true.
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../plan/types";

/**
 * One restart on the same node (a crashed QEMU process), then relocation; two relocations so a VM whose first target
 * fails too still finds a node in a three-node cluster. PVE's defaults are 1 and 1.
 */
export const HA_POLICY = { state: "started", maxRestart: 1, maxRelocate: 2 } as const;

/** An HA rule id (bpg: a letter first, letters, digits, '-', '_', '.'; a letter or digit last). */
export function haRuleId(plan: Plan, what: string): string {
  return `lr-${plan.stack}-${what}`.replace(/[^A-Za-z0-9_.-]/g, "-");
}

/** The VM `vmid` as an HA resource, after the VM exists. */
export function haResource(name: string, vmid: number, comment: string, vm: pulumi.Resource, opts: { readonly parent: pulumi.Resource }): proxmoxve.Haresource {
  return new proxmoxve.Haresource(name, { resourceId: `vm:${vmid}`, ...HA_POLICY, comment }, { parent: opts.parent, dependsOn: [vm] });
}

/** Prefer `node` for the HA resource (non-strict node affinity), after it is an HA resource. */
export function nodeAffinity(name: string, rule: string, vmid: number, node: string, ha: pulumi.Resource, opts: { readonly parent: pulumi.Resource }): proxmoxve.Harule {
  return new proxmoxve.Harule(
    name,
    { rule, type: "node-affinity", resources: [`vm:${vmid}`], nodes: { [node]: 1 }, strict: false, comment: `librerouter: prefer ${node}` },
    { parent: opts.parent, dependsOn: [ha] },
  );
}

export interface InfraHaArgs {
  readonly plan: Plan;
  /** The VPN servers' and the services VM's VMs, by plan name (vpn1, vpn2, services). */
  readonly vms: Readonly<Record<"vpn1" | "vpn2" | "services", pulumi.Resource>>;
}

/** The infrastructure VMs' HA resources and rules (created only with `ha.datastore`). */
export class InfraHa extends pulumi.ComponentResource {
  public readonly resources: Readonly<Record<string, proxmoxve.Haresource>>;
  public readonly rules: readonly proxmoxve.Harule[];

  constructor(name: string, args: InfraHaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("librerouter:ha:InfraHa", name, {}, opts);
    const { plan } = args;
    if (!plan.ha.datastore) throw new Error("InfraHa: ha.datastore is not set (the VMs' disks must be on shared storage)");
    const placed = [
      ...plan.servers.map((s) => ({ key: s.name, vmid: s.vmid, node: s.node })),
      { key: "services", vmid: plan.services.vmid, node: plan.services.node },
    ] as const;
    const resources: Record<string, proxmoxve.Haresource> = {};
    const rules: proxmoxve.Harule[] = [];
    for (const p of placed) {
      const vm = args.vms[p.key as keyof InfraHaArgs["vms"]];
      if (!vm) throw new Error(`InfraHa: no VM for ${p.key}`);
      resources[p.key] = haResource(`${name}-${p.key}`, p.vmid, `librerouter ${plan.stack}: ${p.key}`, vm, { parent: this });
      rules.push(nodeAffinity(`${name}-${p.key}-node`, haRuleId(plan, `${p.key}-node`), p.vmid, p.node, resources[p.key], { parent: this }));
    }
    const [vpn1, vpn2] = plan.servers;
    rules.push(
      new proxmoxve.Harule(
        `${name}-vpn-apart`,
        { rule: haRuleId(plan, "vpn-apart"), type: "resource-affinity", affinity: "negative", resources: [`vm:${vpn1.vmid}`, `vm:${vpn2.vmid}`], comment: "librerouter: vpn1 and vpn2 never on one node" },
        { parent: this, dependsOn: [resources[vpn1.name], resources[vpn2.name]] },
      ),
    );
    this.resources = resources;
    this.rules = rules;
    this.registerOutputs({});
  }
}
