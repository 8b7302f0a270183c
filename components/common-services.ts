/**
 * Shared services outside the tenant VMs (the seed's "banks, dns and other services"): one VM with a DNS
 * resolver for the tenants and the authoritative reverse-DNS zones of the public pools (BIND), and in fixed
 * tenant-network mode the DHCP server that hands each tenant router its public address (render/dhcp.ts). The
 * DHCP server is its own command, with no tenant in it: each Tenant adds its reservation with its own command
 * on this VM (its `connection`, after `dhcp`), so adding a tenant changes nothing here.
 */
import type * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../plan/types";
import { type ConnectionArgs, guestConnection, guestHostKey } from "./connections";
import { infraVm, vmIdentity } from "./infra-vm";
import { publicIpConfig, subnetIpConfig } from "./guest-network";
import { remoteScript } from "./remote-script";
import { servicesScripts } from "../render/services";
import { dhcpSetupScripts } from "../render/dhcp";

export interface CommonServicesArgs {
  readonly plan: Plan;
  /** VMID of the Debian 12 cloud-init template on the services VM's node to clone (`template.serverVmid`, `nodes[].templates.debian`). */
  readonly templateVmId: pulumi.Input<number>;
  /** Bridge names from the ProxmoxHost (public and management are used). */
  readonly bridges: { readonly public: string; readonly management: string };
  /** SSH to the API node; the VM is reached through it at its management address (from any node: the management network spans them). */
  readonly hostConnection: ConnectionArgs;
  /** OpenSSH public key cloud-init installs for root. */
  readonly sshPublicKey: pulumi.Input<string>;
  /** Host resources the VM needs first. */
  readonly dependsOn?: readonly pulumi.Resource[];
}

export class CommonServices extends pulumi.ComponentResource {
  public readonly vm: proxmoxve.VmLegacy;
  public readonly setup: pulumi.Resource;
  /** SSH to this VM (through the host, host key pinned), for the tenants' reservation commands. */
  public readonly connection: ConnectionArgs;
  /** The VM's identity (net0 MAC): every command on it carries it, so a rebuilt VM is provisioned again. */
  public readonly identity: pulumi.Output<string | undefined>;
  /** The DHCP server's setup (fixed tenant-network mode; undefined in distinct mode): reservations come after it. */
  public readonly dhcp?: pulumi.Resource;

  constructor(name: string, args: CommonServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("librerouter:services:CommonServices", name, {}, opts);
    const { plan } = args;
    this.vm = infraVm(
      `${name}-vm`,
      {
        plan,
        node: plan.services.node,
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
    this.identity = identity;
    const hostKey = guestHostKey(`${name}-hostkey`, args.hostConnection, plan.services.mgmtIp, identity, { parent: this, dependsOn: [this.vm] });
    this.connection = guestConnection(args.hostConnection, plan.services.mgmtIp, hostKey);
    const script = servicesScripts(plan);
    this.setup = remoteScript(`${name}-setup`, { connection: this.connection, apply: script.apply, delete: script.delete, target: identity }, { parent: this, dependsOn: [this.vm] });
    if (plan.tenantNetwork.mode === "fixed") {
      // After the setup: its firewall opens udp/67, and the two would otherwise run apt at the same time.
      const dhcp = dhcpSetupScripts(plan);
      this.dhcp = remoteScript(`${name}-dhcp`, { connection: this.connection, apply: dhcp.apply, delete: dhcp.delete, target: identity }, { parent: this, dependsOn: [this.setup] });
    }
    this.registerOutputs({ publicIp: plan.services.publicIp });
  }
}
