/**
 * The tenants' networks as a Proxmox SDN VXLAN zone (plan.sdn): the zone (its VTEPs are every node and both VPN
 * servers), one vnet per tenant (bridge `lr<slot>` on every node, VNI = tag) created in the tenant's own component,
 * a subnet per vnet in distinct mode, and the SDN apply.
 *
 * Why the applies are placed as they are (bpg fwprovider/cluster/sdn/applier/resource.go): an Applier calls
 * PUT /cluster/sdn in Create (on_create, default true) and in Delete (on_destroy, default true) and does nothing in
 * Read; its only inputs are those two ForceNew booleans, so it never runs again by itself (Terraform pairs it with
 * `replace_triggered_by`). Here:
 * - `<zone>-apply`: `replacementTrigger` = a digest of every SDN input this stack declares, so any zone, vnet or
 *   subnet change replaces it, and the replacement's Create runs after them (it depends on all of them). It is
 *   create-before-delete, so on_destroy is off: the old one's delete would only apply a second time.
 * - A removal is applied by a finalizer: deletes run after every registration, dependents first, so an apply that
 *   depends on a removed vnet would run before that vnet is gone. Each tenant's vnet and the zone depend on their own
 *   finalizer (on_create off, on_destroy on), which is deleted right after them and applies the removal.
 * Tenant VMs wait on `applied`: their vnet's bridge exists on their node only once the apply ran.
 */
import { createHash } from "node:crypto";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Plan, TenantPlan } from "../plan/types";

/** bpg's VXLAN zone has no `vxlan-port` input (fwprovider/cluster/sdn/zone/resource_vxlan.go): the nodes use VXLAN's 4789. */
export const PROXMOX_VXLAN_PORT = 4789;

/** One tenant's SDN objects. */
export interface TenantVnet {
  readonly id: string;
  readonly vni: number;
  /** Distinct mode: the subnet's CIDR. */
  readonly cidr?: string;
  readonly vnet: proxmoxve.sdn.Vnet;
  readonly subnet?: proxmoxve.sdn.Subnet;
}

export interface SdnZoneArgs {
  /** `sdn.*` (zone, mtu, peers) and the nodes come from the plan; it must have `sdn`. */
  readonly plan: Plan;
  /**
   * Default true: this stack owns the zone (and its finalizer). False for a stack that only adds vnets to a zone
   * another stack of the same cluster owns (a shard stack): then only its own apply is declared here.
   */
  readonly ownsZone?: boolean;
}

export class SdnZone extends pulumi.ComponentResource {
  public readonly zoneId: string;
  /** The zone; undefined when another stack owns it (`ownsZone: false`). */
  public readonly zone?: proxmoxve.sdn.zone.Vxlan;
  /** Resolves to the apply once `applyAfter` declared it: what every tenant VM waits on. */
  public readonly applied: Promise<pulumi.Resource>;
  private readonly name: string;
  private readonly plan: Plan;
  private settle: (r: pulumi.Resource) => void = () => undefined;
  private apply?: proxmoxve.sdn.Applier;

  constructor(name: string, args: SdnZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    super("librerouter:sdn:SdnZone", name, {}, opts);
    const { plan } = args;
    const s = plan.sdn;
    if (!s) throw new Error("SdnZone: the plan has no sdn (sdn.kind none)");
    if (s.port !== PROXMOX_VXLAN_PORT) throw new Error(`sdn.port: got ${s.port}; the Proxmox provider cannot set the zone's VXLAN port, so the nodes use ${PROXMOX_VXLAN_PORT}: set sdn.port to ${PROXMOX_VXLAN_PORT}`);
    this.name = name;
    this.plan = plan;
    this.zoneId = s.zone;
    this.applied = new Promise((resolve) => (this.settle = resolve));
    if (args.ownsZone === false) {
      this.registerOutputs({ zone: s.zone });
      return;
    }
    const finalizer = new proxmoxve.sdn.Applier(`${name}-finalizer`, { onCreate: false, onDestroy: true }, { parent: this });
    // peers: every node AND the VPN servers (plan/cluster.ts planSdn): Proxmox writes a `vxlan_remoteip` for every
    // peer but the node's own address (VxlanPlugin.pm generate_sdn_config), so the servers' vxlan devices get the
    // nodes' traffic. A set in bpg (stringset, no RequiresReplace): a new node or server address is an update.
    this.zone = new proxmoxve.sdn.zone.Vxlan(
      `${name}-zone`,
      { resourceId: s.zone, peers: [...s.peers], mtu: s.mtu, nodes: plan.nodes.map((n) => n.name) },
      { parent: this, dependsOn: [finalizer] },
    );
    this.registerOutputs({ zone: s.zone });
  }

  /** The digest `<zone>-apply` is replaced on: every SDN input this stack declares (zone, vnets, subnets). */
  static trigger(plan: Plan, vnets: readonly Pick<TenantVnet, "id" | "vni" | "cidr">[]): string {
    const s = plan.sdn;
    const zone = s ? { id: s.zone, peers: [...s.peers].sort(), mtu: s.mtu, nodes: plan.nodes.map((n) => n.name).sort() } : null;
    const nets = vnets.map((v) => [v.id, v.vni, v.cidr ?? null]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    return createHash("sha256").update(JSON.stringify({ zone, vnets: nets })).digest("hex");
  }

  /**
   * Declares the apply after the zone and `vnets` (this stack's tenants'); call it once, after every Tenant. Until
   * then every tenant VM's registration waits on `applied`: a program that never calls it ends with those
   * registrations outstanding, which the Pulumi runtime reports as an error.
   */
  applyAfter(vnets: readonly TenantVnet[]): proxmoxve.sdn.Applier {
    if (this.apply) throw new Error(`${this.name}: applyAfter called twice`);
    this.apply = new proxmoxve.sdn.Applier(
      `${this.name}-apply`,
      { onCreate: true, onDestroy: false },
      { parent: this, dependsOn: [...(this.zone ? [this.zone] : []), ...vnets.flatMap((v) => [v.vnet, ...(v.subnet ? [v.subnet] : [])])], replacementTrigger: SdnZone.trigger(this.plan, vnets) },
    );
    this.settle(this.apply);
    return this.apply;
  }
}

/**
 * A tenant's vnet `lr<slot>` (VNI tag) in the zone, its finalizer, and in distinct mode its subnet. Fixed mode has
 * none: every tenant has the same LAN /24 there, and Proxmox names a subnet `<zone>-<ip>-<prefix>`
 * (pve-network API2/Network/SDN/Subnets.pm create: "sdn subnet object ID '$id' already defined"), so a second
 * tenant's would be refused. The subnet is documentation and IPAM only: no gateway, since a VXLAN zone is layer 2
 * and the gateway is the tenant's own router (SubnetPlugin.pm: gateway "assigned on vnet for layer3 zones").
 */
export function tenantVnet(name: string, plan: Plan, t: TenantPlan, zone: SdnZone, opts: { readonly parent: pulumi.Resource }): TenantVnet {
  if (!t.sdn) throw new Error(`tenant ${t.key}: the plan has sdn but the tenant no vnet (TenantPlan.sdn)`);
  const finalizer = new proxmoxve.sdn.Applier(`${name}-sdn-finalizer`, { onCreate: false, onDestroy: true }, { parent: opts.parent });
  // id is RequiresReplace, zone and tag are updates (fwprovider/cluster/sdn/vnet/resource.go).
  const vnet = new proxmoxve.sdn.Vnet(
    `${name}-vnet`,
    { resourceId: t.sdn.vnet, zone: zone.zoneId, tag: t.sdn.vni, alias: `librerouter tenant ${t.key}` },
    { parent: opts.parent, dependsOn: [...(zone.zone ? [zone.zone] : []), finalizer] },
  );
  if (plan.tenantNetwork.mode === "fixed") return { id: t.sdn.vnet, vni: t.sdn.vni, vnet };
  // vnet and cidr are RequiresReplace (fwprovider/cluster/sdn/subnet/resource.go), and the id is zone + cidr: a
  // create-before-delete replacement would collide with itself.
  const subnet = new proxmoxve.sdn.Subnet(`${name}-subnet`, { vnet: t.sdn.vnet, cidr: t.privateCidr }, { parent: opts.parent, dependsOn: [vnet], deleteBeforeReplace: true });
  return { id: t.sdn.vnet, vni: t.sdn.vni, cidr: t.privateCidr, vnet, subnet };
}
