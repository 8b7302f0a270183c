/**
 * The LibreRouter VM master every tenant is a linked clone of: an existing template VMID (no resource at all),
 * or one built here from a cloud image when `template.createFromImage` is set.
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { importFileName } from "../config/image";
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
    const { config } = args.plan;
    const t = config.template;
    if (!t.createFromImage) {
      this.vmId = pulumi.output(t.vmid);
      this.resources = [];
    } else {
      if (!t.imageUrl) throw new pulumi.RunError("librerouter-hosting:template.imageUrl: is required when template.createFromImage is true; set the URL of the LibreRouter cloud image");
      // `import` content: Proxmox (8.4+) takes only a name ending in .qcow2/.raw/.vmdk and cannot decompress it.
      // config/image.ts checked the name (plan/build.ts) and preflight the Import content type and the release.
      const image = new proxmoxve.download.File(
        `${name}-image`,
        { nodeName: config.proxmox.node, datastoreId: config.proxmox.snippetsDatastore, contentType: "import", url: t.imageUrl, fileName: importFileName(t) },
        { parent: this },
      );
      const vm = new proxmoxve.VmLegacy(
        `${name}-vm`,
        {
          nodeName: config.proxmox.node,
          vmId: t.vmid,
          name: `librerouter-template-${args.plan.stack}`,
          template: true,
          started: false,
          disks: [{ interface: "scsi0", importFrom: image.id, datastoreId: config.proxmox.datastore }],
          initialization: { datastoreId: config.proxmox.datastore },
          networkDevices: [{ bridge: config.network.publicBridge, model: "virtio" }],
          operatingSystem: { type: "l26" },
        },
        { parent: this },
      );
      this.vmId = vm.vmId.apply((id) => id ?? t.vmid);
      this.resources = [vm];
    }
    this.registerOutputs({ vmId: this.vmId });
  }
}
