/**
 * One tenant, keyed by its stable tenant key: its LibreRouter VM (linked clone), its VNC console password,
 * its client certificate, tls-crypt-v2 client key and bundle, its anti-spoofing filter, and its state on each VPN
 * server. Distinct tenant-network mode: exactly 12 custom resources: RandomPassword, FileLegacy (VNC password
 * snippet), the host Command that hands a new password to the running VM, VmLegacy, firewall IpsetLegacy and
 * OptionsLegacy, PrivateKey, CertRequest, LocallySignedCert, RandomBytes (tls-crypt-v2 Kc), and one remote Command
 * per VPN server. Fixed mode (the image as shipped, no cloud-init): 14, those 12 plus the firewall RulesLegacy that puts net0 in the no-DHCP-server security group and
 * the remote Command that holds its DHCP reservation on the services VM. Its ban-report token is derived, not a
 * resource (render/bans/tenant-report.ts).
 */
import { createHash } from "node:crypto";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { InstanceId, Plan, TenantPlan } from "../plan/types";
import { renderClientBundle } from "../render/client-bundle";
import type { HostLayout, ServerLayout } from "../render/layout";
import { renderLauncher } from "../render/launcher";
import { CLIENT_USES, clientCommonName } from "../render/pki-profile";
import { tenantServerScripts } from "../render/tenant-scripts";
import { CLIENT_KEY_BYTES, clientKeyId, tenantClientKeyFile } from "../render/tls-crypt-v2";
import { consoleUrls } from "../plan/consoles";
import { renderTenantReadme } from "../render/tenant-readme";
import { renderKvmArguments, vncPasswordFileName } from "../render/vnc";
import type { OpenVpnServer } from "./openvpn-server";
import { subnetIpConfig } from "./guest-network";
import type { Pki } from "./pki";
import { CLONE_RETRIES, VM_IGNORE_CHANGES } from "./infra-vm";
import { remoteScript } from "./remote-script";
import { tenantPublicFirewall } from "./tenant-firewall";
import type { ConnectionArgs } from "./connections";
import { dhcpReservationScripts } from "../render/dhcp";
import { vncRotateScripts } from "../render/host-serial";
import { reporterConfig, tenantReportToken } from "../render/bans/tenant-report";
import { haResource, haRuleId, nodeAffinity } from "./ha";
import { nodeView } from "../plan/cluster";
import { type SdnZone, type TenantVnet, tenantVnet } from "./sdn";

interface ConsolePassword {
  readonly password: pulumi.Output<string>;
  readonly file: proxmoxve.FileLegacy;
  /** Changes with every new password, tells nothing about it. */
  readonly revision: pulumi.Output<string>;
}

export interface TenantArgs {
  readonly plan: Plan;
  /** This tenant's slice of the plan (VMID, VLAN, addresses, VNC display). */
  readonly tenant: TenantPlan;
  /** VMID of the LibreRouter template on the tenant's node to link-clone (vm-template.ts nodeTemplates). */
  readonly templateVmId: pulumi.Input<number>;
  /** The PKI, or in a shard stack the core's CA as handed off (components/core-handoff.ts). */
  readonly pki: Pick<Pki, "issue" | "caCertPem" | "tlsCryptV2ServerKey">;
  /** Both VPN servers: the tenant's command on each runs after that server's setup (a shard: the core's StackReference). */
  readonly servers: readonly Pick<OpenVpnServer, "server" | "connection" | "identity" | "setup">[];
  /** Bridge names from the ProxmoxHost. */
  readonly bridges: { readonly public: string; readonly private: string };
  /** Where the host keeps the VNC password snippets (must be the `proxmox.snippetsDatastore` directory). */
  readonly hostLayout: HostLayout;
  /** SSH to the tenant's Proxmox node: a new console password is handed to the running VM there. */
  readonly hostConnection: ConnectionArgs;
  /** File locations on the VPN servers. */
  readonly serverLayout: ServerLayout;
  /** Resources the VM needs first (bridges, template). */
  readonly dependsOn?: readonly pulumi.Resource[];
  /** The common-services VM; fixed mode puts the tenant's DHCP reservation there, after its `dhcp` setup. */
  readonly services: TenantServicesVm;
  /** Fixed mode: the no-DHCP-server security group (tenant-firewall.ts tenantWanGroup); unused in distinct mode. */
  readonly wanGroup?: pulumi.Resource;
  /** Secret: the key the ban grid signs report tokens with (BanGrid.reportTokenKey); absent with reports off. */
  readonly banReportKey?: pulumi.Output<string>;
  /** Under plan.sdn: the zone the tenant's vnet joins (the VM waits on its apply). */
  readonly sdn?: SdnZone;
}

/** What a tenant needs of the common-services VM (CommonServices). */
export interface TenantServicesVm {
  readonly connection: ConnectionArgs;
  readonly identity: pulumi.Input<string | undefined>;
  /** The DHCP server's setup; present in fixed mode. */
  readonly dhcp?: pulumi.Resource;
}

export class Tenant extends pulumi.ComponentResource {
  public readonly key: string;
  public readonly publicIp: string;
  public readonly privateSubnet: string;
  public readonly vlan: number;
  /** `<instance gateway>:5900` per VPN instance: reachable only through this tenant's own tunnel. */
  public readonly consoles: Readonly<Record<InstanceId, string>>;
  /** The browser console page (graphical and text) per VPN instance, inside this tenant's own tunnel. */
  public readonly consolePages: Readonly<Record<InstanceId, string>>;
  /** The hand-out text for the tenant (connect, consoles, the CA to trust); no secret. */
  public readonly readme: string;
  public readonly vm: proxmoxve.VmLegacy;
  /** Secret: exactly 8 characters (VNC uses 8 bytes). */
  public readonly vncPassword: pulumi.Output<string>;
  /** Secret: the inline `.ovpn` (holds the client private key). */
  public readonly clientBundle: pulumi.Output<string>;
  /** The `lr-connect` launcher (not secret, but handed out with the bundle). */
  public readonly launcher: string;
  /** Secret: the router's /etc/lr-ban-report.conf (gateway URL and this tenant's token); undefined with reports off. */
  public readonly banReportConfig?: pulumi.Output<string>;
  /** When its client certificate ends (RFC 3339): the monitoring's certificate figures. */
  public readonly certEnd: pulumi.Output<string>;
  /** Under SDN: its vnet (and subnet); SdnZone.applyAfter takes every tenant's. */
  public readonly vnet?: TenantVnet;

  constructor(name: string, args: TenantArgs, opts?: pulumi.ComponentResourceOptions) {
    super("librerouter:tenant:Tenant", name, {}, opts);
    const { plan, tenant: t } = args;
    this.key = t.key;
    this.publicIp = t.publicIp;
    this.privateSubnet = t.privateCidr;
    this.vlan = t.vlan;
    this.consoles = Object.fromEntries(plan.instances.map((i) => [i.id, `${i.gateway}:5900`])) as Record<InstanceId, string>;
    this.consolePages = consoleUrls(plan.instances, plan.consoles);
    this.readme = renderTenantReadme(plan, t);

    // The tenant's parts, in the order they come to exist.
    const vnc = this.consolePassword(name, plan, t);
    this.vncPassword = vnc.password;
    if (plan.sdn) {
      if (!args.sdn) throw new Error(`tenant ${t.key}: sdn.kind vxlan needs the SDN zone (SdnZone) for its vnet`);
      this.vnet = tenantVnet(name, plan, t, args.sdn, { parent: this });
    }
    this.vm = this.router(name, args, vnc.file);
    if (plan.ha.tenants) this.highAvailability(name, plan, t);
    this.passwordToRunningVm(name, args, vnc);
    tenantPublicFirewall(name, plan, t, { parent: this, dependsOn: [this.vm] }, args.wanGroup);
    if (plan.tenantNetwork.mode === "fixed") this.dhcpReservation(name, args);
    const client = this.bundle(name, args);
    this.clientBundle = client.bundle;
    this.certEnd = client.certEnd;
    this.launcher = renderLauncher(plan.stack, t);
    for (const vpn of args.servers) this.stateOn(name, args, vpn, client.certPem, client.tc2KeyId);
    if (plan.bans.report) {
      if (!args.banReportKey) throw new Error(`tenant ${t.key}: bans.report.enabled needs the ban grid's token key (BanGrid.reportTokenKey)`);
      this.banReportConfig = pulumi.secret(args.banReportKey.apply((k) => reporterConfig(plan.bans, tenantReportToken(k, t))));
    }
    this.registerOutputs({ publicIp: this.publicIp, privateSubnet: this.privateSubnet, vlan: this.vlan, consoles: this.consoles, consolePages: this.consolePages });
  }

  /** The 8-character console password and the root-only snippet QEMU reads it from. */
  private consolePassword(name: string, plan: Plan, t: TenantPlan): ConsolePassword {
    const random8 = new random.RandomPassword(
      `${name}-vnc-password`,
      { length: 8, special: true, overrideSpecial: "!#%+-=_", minLower: 1, minUpper: 1, minNumeric: 1 },
      { parent: this },
    );
    const password = pulumi.secret(random8.result);
    const revision = random8.bcryptHash.apply((h) => createHash("sha256").update(h).digest("hex").slice(0, 32));
    // QEMU reads the file raw: the data is the password and nothing else (a newline would become part of it).
    const file = new proxmoxve.FileLegacy(
      `${name}-vnc-pw`,
      {
        nodeName: t.node,
        datastoreId: plan.proxmox.snippetsDatastore,
        contentType: "snippets",
        fileMode: "0600",
        sourceRaw: { data: password, fileName: vncPasswordFileName(t) },
      },
      // bpg's file resource is ForceNew on every field (proxmoxtf/resource/file.go) and writes the same path: a
      // create-before-delete replacement (a rotated password) would end with the old resource deleting the new file.
      { parent: this, deleteBeforeReplace: true },
    );
    return { password, file, revision };
  }

  /**
   * A new console password reaches the running router at once: QMP `set_password` on its `tenant` display, from the
   * snippet file (render/host-serial.ts vncRotateScripts), after the file is written and the VM exists. The stdin
   * changes with the password through the revision (SHA-256 of the password's bcrypt hash: a fresh salt at every
   * new password, nothing to learn from it), so a rotation is an in-place update of this command; the gateway's
   * login checks the password against that display, so the browser consoles follow at once.
   */
  private passwordToRunningVm(name: string, args: TenantArgs, vnc: ConsolePassword): void {
    const { tenant: t, hostLayout } = args;
    const scripts = vnc.revision.apply((revision) => vncRotateScripts({ vmid: t.vmid, passwordFile: `${hostLayout.snippetsDir}/${vncPasswordFileName(t)}`, revision }));
    remoteScript(
      `${name}-console-pw`,
      { connection: args.hostConnection, apply: scripts.apply((x) => x.apply), delete: scripts.apply((x) => x.delete), secret: true },
      { parent: this, dependsOn: [vnc.file, this.vm] },
    );
  }

  /**
   * With `ha.tenants`: the router as an HA resource preferring its planned node (components/ha.ts). One rule per
   * tenant, in its own component: adding a tenant (or a shard stack's tenants) touches no shared rule.
   */
  private highAvailability(name: string, plan: Plan, t: TenantPlan): void {
    const ha = haResource(`${name}-ha`, t.vmid, `librerouter ${plan.stack}: tenant ${t.key}`, this.vm, { parent: this });
    nodeAffinity(`${name}-ha-node`, haRuleId(plan, `vm${t.vmid}-node`), t.vmid, t.node, ha, { parent: this });
  }

  /**
   * The LibreRouter VM: a linked clone of its node's template, its public and LAN addresses, its console (listening on
   * its node's management address). No `migrate` on local storage: a linked clone there cannot migrate (qemu-server
   * QemuMigrate.pm: "can't migrate ... as it's a clone of ..."), so a node change is a replacement, which `protect`
   * refuses at preview; the router stays where it is until an operator moves it on purpose. With `ha.tenants` the
   * disk and its base are on the shared datastore, which migrates: a node change is then a migration (infra-vm.ts).
   */
  private router(name: string, args: TenantArgs, passwordFile: pulumi.Resource): proxmoxve.VmLegacy {
    const { plan, tenant: t } = args;
    const fixed = plan.tenantNetwork.mode === "fixed";
    // HA tenants: the disk on the shared datastore (so the template must be there too, or bpg full-copies each clone).
    const datastore = plan.ha.tenants && plan.ha.datastore ? plan.ha.datastore : plan.proxmox.datastore;
    // Under SDN the LAN NIC is on the tenant's vnet (its own bridge on every node): no VLAN tag.
    const lan = t.sdn ? { bridge: t.sdn.vnet, model: "virtio" } : { bridge: args.bridges.private, model: "virtio", vlanId: t.vlan };
    const sdnReady = this.vnet && args.sdn ? [this.vnet.vnet, args.sdn.applied] : [];
    return new proxmoxve.VmLegacy(
      `${name}-vm`,
      {
        nodeName: t.node,
        ...(plan.ha.tenants && plan.ha.datastore && plan.nodes.length > 1 ? { migrate: true } : {}),
        vmId: t.vmid,
        name: t.vmName,
        description: `librerouter-hosting ${plan.stack}: tenant ${t.key} (slot ${t.slot})`,
        tags: ["librerouter", `slot-${t.slot}`],
        clone: { vmId: args.templateVmId, full: false, retries: CLONE_RETRIES },
        cpu: { cores: t.cores },
        memory: { dedicated: t.memory.maxMb, floating: t.memory.minMb },
        // A cloned disk block resets every attribute it omits to bpg's schema default (discard=ignore, ssd=false):
        // guest TRIM would never return space to the thin pool the linked-clone growth model counts on. The
        // datastore is the template's (checked at preflight): another one makes bpg full-copy each linked clone.
        disks: [{ interface: "scsi0", size: t.diskGb, datastoreId: datastore, discard: "on", ssd: true }],
        // net0's firewall bridge applies the anti-spoofing filters (tenant-firewall.ts).
        networkDevices: [
          // Fixed mode: the planned MAC, which the DHCP reservation and Proxmox's macfilter hang on. Distinct mode
          // keeps the MAC Proxmox drew: changing it under a running cloud-init router would cut its WAN.
          { bridge: args.bridges.public, model: "virtio", firewall: true, ...(fixed ? { macAddress: t.publicMac } : {}) },
          lan,
        ],
        // Fixed mode: the image as shipped has no cloud-init; its LAN is its own and its WAN asks DHCP.
        ...(fixed
          ? {}
          : {
              initialization: {
                datastoreId: datastore,
                ipConfigs: [{ ipv4: { address: `${t.publicIp}/${t.publicPrefix}`, gateway: t.publicGateway } }, { ipv4: subnetIpConfig(t.routerIp, t.privateCidr) }],
                // The common-services resolver answers the public pools (render/services.ts).
                dns: { servers: [plan.services.publicIp] },
                // No package upgrade at first boot: the router image is shipped as it is.
                upgrade: false,
              },
            }),
        kvmArguments: renderKvmArguments(nodeView(plan, t.node), t, args.hostLayout),
        // serial0 as a socket (/var/run/qemu-server/<vmid>.serial0): the text console, through the host's serial
        // bridge (render/host-serial.ts). The LibreRouter (OpenWrt x86) image runs a console on ttyS0 as shipped.
        serialDevices: [{ device: "socket" }],
        // User data lives in the VM: Proxmox refuses to delete it until an operator lifts this.
        protection: true,
        onBoot: true,
        started: true,
      },
      // QEMU refuses to start when the password file is missing. `protect`: the engine refuses to delete or replace the
      // VM before any step runs; Proxmox's own `protection` refuses only after bpg has stopped the VM (vmDelete runs
      // EnsureStopped first), so on its own a removed tenant's router would be shut down and every later `up` fail.
      { parent: this, dependsOn: [passwordFile, ...(args.dependsOn ?? []), ...sdnReady], protect: true, ignoreChanges: VM_IGNORE_CHANGES },
    );
  }

  /**
   * Fixed mode: the tenant's DHCP reservation (its MAC → its public IP) as its own command on the services VM, after
   * the DHCP server's setup. Its own resource, so adding or removing this tenant changes no shared input; the services
   * VM's MAC rides in its stdin, so a rebuilt services VM gets the reservation again.
   */
  private dhcpReservation(name: string, args: TenantArgs): void {
    const { services } = args;
    if (!services.dhcp) throw new Error(`tenant ${args.tenant.key}: fixed tenant-network mode needs the services VM's DHCP server (CommonServices.dhcp)`);
    const scripts = dhcpReservationScripts(args.plan, args.tenant);
    remoteScript(`${name}-dhcp`, { connection: services.connection, apply: scripts.apply, delete: scripts.delete, target: services.identity }, { parent: this, dependsOn: [services.dhcp] });
  }

  /**
   * The client certificate, the tenant's tls-crypt-v2 client key and the inline `.ovpn` that carries both (secret: it
   * holds the private keys). Kc is replaced with the certificate's private key (`keepers`), so `--replace` of the key
   * re-issues both; `--replace` of `<name>-tls-crypt-v2` alone re-issues only the client key.
   */
  private bundle(name: string, args: TenantArgs): { bundle: pulumi.Output<string>; certPem: pulumi.Output<string>; tc2KeyId: pulumi.Output<string>; certEnd: pulumi.Output<string> } {
    const { plan, tenant: t } = args;
    const client = args.pki.issue(name, { commonName: clientCommonName(t), allowedUses: CLIENT_USES, ...plan.pki.client }, { parent: this });
    const kc = new random.RandomBytes(`${name}-tls-crypt-v2`, { length: CLIENT_KEY_BYTES, keepers: { certKey: client.key.id } }, { parent: this });
    const tc2Key = pulumi.secret(pulumi.all([args.pki.tlsCryptV2ServerKey, kc.hex]).apply(([srv, hex]) => tenantClientKeyFile(srv, hex, clientCommonName(t))));
    // The key id is 64 bits of SHA-256 over 2048 random bits: it tells nothing about Kc, and as a plain value the pin stays
    // readable in the tenant scripts' diff (like the certificate fingerprint).
    const tc2KeyId = pulumi.unsecret(kc.hex.apply(clientKeyId));
    const bundle = pulumi.secret(
      pulumi
        .all([args.pki.caCertPem, client.certPem, client.privateKeyPem, tc2Key])
        .apply(([caPem, certPem, keyPem, tlsCryptV2Key]) => renderClientBundle(plan, t, { caPem, certPem, keyPem, tlsCryptV2Key })),
    );
    return { bundle, certPem: client.certPem, tc2KeyId, certEnd: client.cert.validityEndTime };
  }

  /**
   * The tenant's state on one VPN server (ccd, pins, routing, NAT), applied after that server's setup. The scripts
   * wait on the certificate and the tls-crypt-v2 key id: the fingerprint and the id are the pins, so a re-issued
   * certificate or client key is an in-place update on both servers that locks the old one out.
   */
  private stateOn(name: string, args: TenantArgs, vpn: TenantArgs["servers"][number], certPem: pulumi.Output<string>, tc2KeyId: pulumi.Output<string>): void {
    const scripts = pulumi.all([certPem, tc2KeyId]).apply(([pem, id]) => tenantServerScripts(args.plan, vpn.server, args.tenant, args.serverLayout, pem, id));
    remoteScript(
      `${name}-${vpn.server.name}`,
      { connection: vpn.connection, apply: scripts.apply((s) => s.apply), delete: scripts.apply((s) => s.delete), target: vpn.identity },
      { parent: this, dependsOn: [vpn.setup] },
    );
  }
}
