/**
 * One VPN server VM (a full clone of the Debian template) with its server certificate and ONE setup command
 * that installs both OpenVPN instances, the hooks and the PKI files (the renderer adds the data-plane tool and
 * its boot unit).
 * Per-tenant state is added by each Tenant's own command on this server.
 */
import type * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Plan, ServerPlan } from "../plan/types";
import type { ServerLayout } from "../render/layout";
import { SERVER_USES, serverCommonName } from "../render/pki-profile";
import { serverFiles } from "../render/server-files";
import { renderServerSetupScript } from "../render/server-setup";
import { type ConnectionArgs, guestConnection, guestHostKey } from "./connections";
import { publicIpConfig, subnetIpConfig } from "./guest-network";
import { infraVm, vmIdentity, vmMac } from "./infra-vm";
import type { Pki } from "./pki";
import { remoteScript } from "./remote-script";

export interface OpenVpnServerArgs {
  readonly plan: Plan;
  /** Which of the two servers. */
  readonly server: ServerPlan;
  /** VMID of the Debian 12 cloud-init template on the server's node to clone (`template.serverVmid`, `nodes[].templates.debian`). */
  readonly templateVmId: pulumi.Input<number>;
  readonly pki: Pki;
  /** Bridge names (public, private trunk, management) from the ProxmoxHost. */
  readonly bridges: { readonly public: string; readonly private: string; readonly management: string };
  /** SSH to the API node; the server is reached through it at its management address (from any node: the management network spans them). */
  readonly hostConnection: ConnectionArgs;
  /** OpenSSH public key cloud-init installs for root (the pair of `sshPrivateKey`). */
  readonly sshPublicKey: pulumi.Input<string>;
  /** File locations on the server. */
  readonly layout: ServerLayout;
  /** Host resources the VM needs first (bridges, console firewall). */
  readonly dependsOn?: readonly pulumi.Resource[];
  /** The other server's setup, which must finish first (default none): a change to a shared file then restarts one server at a time. */
  readonly setupAfter?: pulumi.Resource;
}

export class OpenVpnServer extends pulumi.ComponentResource {
  public readonly server: ServerPlan;
  public readonly vm: proxmoxve.VmLegacy;
  /** The setup command: every per-tenant command on this server runs after it. */
  public readonly setup: pulumi.Resource;
  /** SSH to this server (through the host, host key pinned), shared by the per-tenant commands. */
  public readonly connection: ConnectionArgs;
  /** The VM's identity (net0 MAC): every command on this server carries it, so a rebuilt VM is provisioned again. */
  public readonly identity: pulumi.Output<string | undefined>;

  constructor(name: string, args: OpenVpnServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("librerouter:vpn:OpenVpnServer", name, {}, opts);
    const { plan, server, layout } = args;
    this.server = server;
    // Order fixes the guest's eth0/eth1/eth2 = layout.ifaces public/trunk/mgmt. The trunk has no `trunks`: bpg
    // parses that field as `;`-separated integers and refuses a range (proxmoxtf/resource/vm/network/network.go),
    // and on a VLAN-aware bridge PVE puts an untagged NIC without `trunks` into VLANs 2-4094
    // (PVE::Network bridge_add_interface), so it never changes with the tenants. Under SDN no trunk: eth1 is the
    // management NIC, which carries the tenants' VXLAN links too (render/layout.ts serverLayoutFor).
    const trunk = !plan.sdn;
    this.vm = infraVm(
      `${name}-vm`,
      {
        plan,
        node: server.node,
        vmId: server.vmid,
        name: `infra-${server.name}-${plan.stack}`,
        description: `librerouter-hosting ${plan.stack}: OpenVPN ${server.name} (${server.hostname})`,
        templateVmId: args.templateVmId,
        vm: server.vm,
        networkDevices: [
          { bridge: args.bridges.public, model: "virtio" },
          ...(trunk ? [{ bridge: args.bridges.private, model: "virtio" }] : []),
          { bridge: args.bridges.management, model: "virtio" },
        ],
        ipConfigs: [{ ipv4: publicIpConfig(plan, server.publicIp) }, ...(trunk ? [{}] : []), { ipv4: subnetIpConfig(server.mgmtIp, plan.mgmt.cidr) }],
        sshPublicKey: args.sshPublicKey,
      },
      { parent: this, dependsOn: [...(args.dependsOn ?? [])] },
    );
    this.identity = vmIdentity(this.vm);
    const hostKey = guestHostKey(`${name}-hostkey`, args.hostConnection, server.mgmtIp, this.identity, { parent: this, dependsOn: [this.vm] });
    this.connection = guestConnection(args.hostConnection, server.mgmtIp, hostKey);

    const cert = args.pki.issue(
      name,
      { commonName: serverCommonName(server.name), allowedUses: SERVER_USES, ...plan.pki.server },
      { parent: this },
    );
    // The script is rendered once the PEMs and the trunk NIC's MAC (the setup names the NIC by it; none under SDN)
    // resolve, and is a secret: it carries server.key and the tls-crypt-v2 server key.
    const trunkMac = trunk ? vmMac(this.vm, 1) : undefined;
    const script = pulumi
      .all([args.pki.caCertPem, cert.certPem, cert.privateKeyPem, args.pki.tlsCryptV2ServerKey, trunkMac])
      .apply(([caPem, certPem, keyPem, tlsCryptV2Key, mac]) =>
        renderServerSetupScript(plan, server, layout, serverFiles(plan, server, layout, { caPem, certPem, keyPem, tlsCryptV2Key }), mac === undefined ? undefined : { trunkMac: mac }),
      );
    this.setup = remoteScript(
      `${name}-setup`,
      { connection: this.connection, apply: pulumi.secret(script), target: this.identity, secret: true },
      { parent: this, dependsOn: [this.vm, ...(args.setupAfter ? [args.setupAfter] : [])] },
    );
    this.registerOutputs({ vmId: this.vm.vmId, publicIp: server.publicIp, mgmtIp: server.mgmtIp });
  }
}
