/**
 * The LibreRouter VM master every tenant is a linked clone of: an existing template VMID (no resource at all),
 * or one built here from a cloud image when `template.createFromImage` is set.
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../plan/types";

export interface VmTemplateArgs {
  /** Template settings (`template.*`), node, datastores and bridge names come from the plan. */
  readonly plan: Plan;
}

export class VmTemplate extends pulumi.ComponentResource {
  /** VMID to clone; resolves after the template VM exists when it is built here. */
  public readonly vmId: pulumi.Output<number>;
  /** Tenants depend on these (empty for an existing template). */
  public readonly resources: readonly pulumi.Resource[];

  constructor(name: string, args: VmTemplateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("librerouter:template:VmTemplate", name, {}, opts);
    const { plan } = args;
    const { vmid, image } = plan.templates;
    if (!image) {
      this.vmId = pulumi.output(vmid);
      this.resources = [];
    } else {
      // `import` content: Proxmox (8.4+) takes only a name ending in .qcow2/.raw/.vmdk and cannot decompress it. The
      // plan checked the name, the preflight the Import content type and the release.
      const file = new proxmoxve.download.File(
        `${name}-image`,
        { nodeName: plan.proxmox.node, datastoreId: plan.proxmox.snippetsDatastore, contentType: "import", url: image.url, fileName: image.fileName },
        { parent: this },
      );
      const vm = new proxmoxve.VmLegacy(
        `${name}-vm`,
        {
          nodeName: plan.proxmox.node,
          vmId: vmid,
          name: `librerouter-template-${plan.stack}`,
          template: true,
          started: false,
          disks: [{ interface: "scsi0", importFrom: file.id, datastoreId: plan.proxmox.datastore }],
          // A cloud-init drive only where the tenants are configured through it (distinct mode); in fixed mode
          // the image is shipped as it is and each clone would carry an unused drive.
          ...(plan.tenantNetwork.mode === "distinct" ? { initialization: { datastoreId: plan.proxmox.datastore } } : {}),
          networkDevices: [{ bridge: plan.bridges.public, model: "virtio" }],
          operatingSystem: { type: "l26" },
        },
        { parent: this },
      );
      this.vmId = vm.vmId.apply((id) => id ?? vmid);
      this.resources = [vm];
    }
    this.registerOutputs({ vmId: this.vmId });
  }
}

/**
 * The templates a VM on `node` clones: a clone comes from a template on its own node. The API node's LibreRouter
 * template is `template.vmId` (built here or existing); every other node's are its `nodes[].templates` VMIDs.
 */
export function nodeTemplates(plan: Plan, node: string, template: VmTemplate): { readonly librerouter: pulumi.Input<number>; readonly debian: number } {
  const n = plan.nodes.find((x) => x.name === node);
  if (!n) throw new Error(`node ${node} is not in the plan's nodes (${plan.nodes.map((x) => x.name).join(", ")})`);
  return node === plan.host.node ? { librerouter: template.vmId, debian: plan.templates.serverVmid } : { librerouter: n.templates.vmid, debian: n.templates.serverVmid };
}
