/**
 * The Proxmox host: the private and management bridges, and the console firewall that lets only the VPN
 * servers reach the tenants' VNC ports on the host's management address.
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../plan/types";
import { hostConsoleFirewallScripts } from "../render/host-console";
import { serialBridgeScripts } from "../render/host-serial";
import { type HostLayout, PRODUCTION_HOST_LAYOUT } from "../render/layout";
import type { ConnectionArgs } from "./connections";
import { remoteScript } from "./remote-script";
import { hostAccessRules } from "../render/host-access";

/** The production host layout with the snippets directory of the configured snippets storage. */
export function hostLayoutFor(plan: Plan): HostLayout {
  return { ...PRODUCTION_HOST_LAYOUT, snippetsDir: plan.proxmox.snippetsPath };
}

export interface ProxmoxHostArgs {
  readonly plan: Plan;
  /** Where the host keeps snippets and its firewall script. */
  readonly layout: HostLayout;
  /** SSH to the host (root, `sshPrivateKey`). */
  readonly connection: ConnectionArgs;
}

export class ProxmoxHost extends pulumi.ComponentResource {
  /** Bridge names the VMs attach to: public (the installer's), private (VLAN-aware trunk), management. */
  public readonly bridges: { readonly public: string; readonly private: string; readonly management: string };
  /** Everything a VM on this host needs before it starts: both bridges, Proxmox's firewall, the console firewall. */
  public readonly ready: readonly pulumi.Resource[];

  constructor(name: string, args: ProxmoxHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("librerouter:host:ProxmoxHost", name, {}, opts);
    const { plan } = args;
    const node = plan.host.node;
    // The public bridge is the installer's vmbr0: it holds the host's own uplink and address, so it is used by
    // name and never managed here (creating it fails, replacing it would cut the host off).
    this.bridges = plan.bridges;
    // No ports: tenant VMs and the VPN servers share this host, so the trunk never leaves it.
    const privateBridge = new proxmoxve.network.linux.Bridge(
      `${name}-private-bridge`,
      { nodeName: node, name: plan.bridges.private, vlanAware: true, comment: "librerouter tenant VLANs (VPN server trunk)" },
      { parent: this },
    );
    const managementBridge = new proxmoxve.network.linux.Bridge(
      `${name}-mgmt-bridge`,
      { nodeName: node, name: plan.bridges.management, address: `${plan.host.mgmtIp}/${plan.mgmt.prefix}`, comment: "librerouter management: VNC consoles, SSH to guests" },
      { parent: this },
    );
    // Proxmox's firewall, on at datacenter and node level, so the tenants' per-VM anti-spoofing filters apply
    // (tenant-firewall.ts). Every policy ACCEPT: this enables the VM filters and changes nothing for the host's
    // own traffic, which LR-CONSOLE guards. The legacy iptables backend (nftables off): our LR-CONSOLE chain is
    // iptables, and an iptables ACCEPT does not override a drop of the opt-in nftables proxmox-firewall.
    const datacenterFirewall = new proxmoxve.cluster.FirewallLegacy(
      `${name}-datacenter-firewall`,
      { enabled: true, ebtables: true, inputPolicy: "ACCEPT", outputPolicy: "ACCEPT", forwardPolicy: "ACCEPT" },
      { parent: this },
    );
    const nodeFirewall = new proxmoxve.node.FirewallLegacy(`${name}-node-firewall`, { nodeName: node, enabled: true, nftables: false }, { parent: this, dependsOn: [datacenterFirewall] });
    // The host's API and SSH: only the ops networks and management, when ops networks are configured (an empty list
    // would leave no one but management, and Pulumi itself reaches the API from an ops network: no rule then).
    // Node-level rules in Proxmox's own firewall, so they survive a reboot with pve-firewall.
    const hostAccess = plan.opsNetworks.length
      ? [
          new proxmoxve.firewall.RulesLegacy(
            `${name}-host-access`,
            { nodeName: node, rules: hostAccessRules(plan) },
            { parent: this, dependsOn: [nodeFirewall] },
          ),
        ]
      : [];
    const fw = hostConsoleFirewallScripts(plan, args.layout);
    const consoleFirewall = remoteScript(
      `${name}-console-firewall`,
      { connection: args.connection, apply: fw.apply, delete: fw.delete },
      { parent: this, dependsOn: [managementBridge, nodeFirewall] },
    );
    // The text consoles: one bridge for every tenant VM's serial0, reached by the VPN servers' console gateways
    // (render/host-serial.ts). Its inputs are the config's alone, so adding a tenant never changes it.
    const c = plan.consoles;
    const bridge = serialBridgeScripts({
      config: { mgmtIp: plan.host.mgmtIp, port: c.serialBridgePort, allowFrom: plan.servers.map((s) => s.mgmtIp), vmidMin: c.tenantVmids.min, vmidMax: c.tenantVmids.max, exclude: c.tenantVmids.exclude },
    });
    const serialBridge = remoteScript(`${name}-serial-bridge`, { connection: args.connection, apply: bridge.apply, delete: bridge.delete }, { parent: this, dependsOn: [consoleFirewall] });
    this.ready = [privateBridge, managementBridge, consoleFirewall, serialBridge, datacenterFirewall, nodeFirewall, ...hostAccess];
    this.registerOutputs({ bridges: this.bridges });
  }
}
