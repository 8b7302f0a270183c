/**
 * Shared services outside the tenant VMs (the seed's "banks, dns and other services"): one VM with a DNS
 * resolver for the tenants and the authoritative reverse-DNS zones of the public pools (BIND).
 */
import type * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../plan/types";
import { type ConnectionArgs, guestConnection, guestHostKey } from "./connections";
import { infraVm, vmIdentity } from "./infra-vm";
import { publicIpConfig, subnetIpConfig } from "./guest-network";
import { remoteScript } from "./remote-script";
import { servicesScripts } from "../render/services";

export interface CommonServicesArgs {
  readonly plan: Plan;
  /** VMID of the Debian 12 cloud-init template to clone (`template.serverVmid`). */
  readonly templateVmId: pulumi.Input<number>;
  /** Bridge names from the ProxmoxHost (public and management are used). */
  readonly bridges: { readonly public: string; readonly management: string };
  /** SSH to the Proxmox host; the VM is reached through it at its management address. */
  readonly hostConnection: ConnectionArgs;
  /** OpenSSH public key cloud-init installs for root. */
  readonly sshPublicKey: pulumi.Input<string>;
  /** Host resources the VM needs first. */
  readonly dependsOn?: readonly pulumi.Resource[];
}

export class CommonServices extends pulumi.ComponentResource {
  public readonly vm: proxmoxve.VmLegacy;
  public readonly setup: pulumi.Resource;

  constructor(name: string, args: CommonServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("librerouter:services:CommonServices", name, {}, opts);
    const { plan } = args;
    this.vm = infraVm(
      `${name}-vm`,
      {
        plan,
        vmId: plan.services.vmid,
        name: `infra-services-${plan.stack}`,
        description: `librerouter-hosting ${plan.stack}: DNS resolver and reverse-DNS zones`,
        templateVmId: args.templateVmId,
        vm: plan.services.vm,
        networkDevices: [
          { bridge: args.bridges.public, model: "virtio" },
          { bridge: args.bridges.management, model: "virtio" },
        ],
        ipConfigs: [{ ipv4: publicIpConfig(plan, plan.services.publicIp) }, { ipv4: subnetIpConfig(plan.services.mgmtIp, plan.mgmt.cidr) }],
        sshPublicKey: args.sshPublicKey,
      },
      { parent: this, dependsOn: [...(args.dependsOn ?? [])] },
    );
    const identity = vmIdentity(this.vm);
    const hostKey = guestHostKey(`${name}-hostkey`, args.hostConnection, plan.services.mgmtIp, identity, { parent: this, dependsOn: [this.vm] });
    const script = servicesScripts(plan);
    this.setup = remoteScript(
      `${name}-setup`,
      { connection: guestConnection(args.hostConnection, plan.services.mgmtIp, hostKey), apply: script.apply, delete: script.delete, target: identity },
      { parent: this, dependsOn: [this.vm] },
    );
    this.registerOutputs({ publicIp: plan.services.publicIp });
  }
}
