/**
 * One VPN server VM (a full clone of the Debian template) with its server certificate and ONE setup command
 * that installs both OpenVPN instances, the hooks and the PKI files (the renderer adds the data-plane tool and
 * its boot unit).
 * Per-tenant state is added by each Tenant's own command on this server.
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Plan, ServerPlan } from "../plan/types";
import type { ServerLayout } from "../render/layout";
import { SERVER_RENEW_HOURS, SERVER_USES, SERVER_VALIDITY_HOURS, serverCommonName } from "../render/pki-profile";
import { serverFiles } from "../render/server-files";
import { renderServerSetupScript } from "../render/server-setup";
import { type ConnectionArgs, guestConnection } from "./connections";
import { publicIpConfig, subnetIpConfig, vlanTrunkRange } from "./guest-network";
import type { Pki } from "./pki";
import { remoteScript } from "./remote-script";

export interface OpenVpnServerArgs {
  readonly plan: Plan;
  /** Which of the two servers. */
  readonly server: ServerPlan;
  /** VMID of the Debian 12 cloud-init template to clone (`template.serverVmid`). */
  readonly templateVmId: pulumi.Input<number>;
  readonly pki: Pki;
  /** Bridge names (public, private trunk, management) from the ProxmoxHost. */
  readonly bridges: { readonly public: string; readonly private: string; readonly management: string };
  /** SSH to the Proxmox host; the server is reached through it at its management address. */
  readonly hostConnection: ConnectionArgs;
  /** OpenSSH public key cloud-init installs for root (the pair of `sshPrivateKey`). */
  readonly sshPublicKey: pulumi.Input<string>;
  /** File locations on the server. */
  readonly layout: ServerLayout;
  /** Host resources the VM needs first (bridges, console firewall). */
  readonly dependsOn?: readonly pulumi.Resource[];
}

export class OpenVpnServer extends pulumi.ComponentResource {
  public readonly server: ServerPlan;
  public readonly vm: proxmoxve.VmLegacy;
  /** The setup command: every per-tenant command on this server runs after it. */
  public readonly setup: pulumi.Resource;
  /** SSH to this server (through the host), shared by the per-tenant commands. */
  public readonly connection: ConnectionArgs;

  constructor(name: string, args: OpenVpnServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("librerouter:vpn:OpenVpnServer", name, {}, opts);
    const { plan, server, layout } = args;
    const cfg = plan.config;
    this.server = server;
    this.connection = guestConnection(args.hostConnection, server.mgmtIp);

    this.vm = new proxmoxve.VmLegacy(
      `${name}-vm`,
      {
        nodeName: plan.host.node,
        vmId: server.vmid,
        name: `infra-${server.name}-${plan.stack}`,
        description: `librerouter-hosting ${plan.stack}: OpenVPN ${server.name} (${server.hostname})`,
        clone: { vmId: args.templateVmId, full: true, datastoreId: cfg.proxmox.datastore },
        cpu: { cores: cfg.vpn.cores, type: "x86-64-v2-AES" },
        memory: { dedicated: cfg.vpn.memoryMb },
        // Order fixes the guest's eth0/eth1/eth2 = layout.ifaces public/trunk/mgmt.
        networkDevices: [
          { bridge: args.bridges.public, model: "virtio" },
          { bridge: args.bridges.private, model: "virtio", trunks: vlanTrunkRange(plan) },
          { bridge: args.bridges.management, model: "virtio" },
        ],
        initialization: {
          datastoreId: cfg.proxmox.datastore,
          ipConfigs: [{ ipv4: publicIpConfig(plan, server.publicIp) }, {}, { ipv4: subnetIpConfig(server.mgmtIp, plan.mgmt.cidr) }],
          userAccount: { username: "root", keys: [args.sshPublicKey] },
        },
        onBoot: true,
        started: true,
      },
      { parent: this, dependsOn: [...(args.dependsOn ?? [])] },
    );

    const cert = args.pki.issue(
      name,
      { commonName: serverCommonName(server.name), allowedUses: SERVER_USES, validityHours: SERVER_VALIDITY_HOURS, renewHours: SERVER_RENEW_HOURS },
      { parent: this },
    );
    // The script is rendered once the PEMs resolve, and is a secret: it carries server.key and the tls-crypt key.
    const script = pulumi
      .all([args.pki.caCertPem, cert.certPem, cert.privateKeyPem, args.pki.tlsCryptKey])
      .apply(([caPem, certPem, keyPem, tlsCryptKey]) =>
        renderServerSetupScript(plan, server, layout, serverFiles(plan, server, layout, { caPem, certPem, keyPem, tlsCryptKey })),
      );
    this.setup = remoteScript(`${name}-setup`, { connection: this.connection, apply: pulumi.secret(script), secret: true }, { parent: this, dependsOn: [this.vm] });
    this.registerOutputs({ vmId: this.vm.vmId, publicIp: server.publicIp, mgmtIp: server.mgmtIp });
  }
}
