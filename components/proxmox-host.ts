/**
 * A Proxmox node: the private and management bridges (a one-node stack), Proxmox's firewall, and the console
 * firewall and serial bridge that let only the VPN servers reach the tenants' VNC and text consoles on the node's
 * management address. One per node (`proxmoxHosts`): every tenant's consoles live on its own node.
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { type NodePlan, nodeView } from "../plan/cluster";
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

/** The name of a node's ProxmoxHost: the API node keeps "host" (released), every other is named from its node name. */
export function hostName(plan: Plan, node: NodePlan): string {
  return node.name === plan.host.node ? "host" : `host-${node.name}`;
}

export interface ProxmoxHostArgs {
  readonly plan: Plan;
  /** The node (default the API node, `proxmox.node`). */
  readonly node?: string;
  /** Where the host keeps snippets and its firewall script. */
  readonly layout: HostLayout;
  /** SSH to the host (root, `sshPrivateKey`). */
  readonly connection: ConnectionArgs;
  /** A node other than the API node: the API node's datacenter firewall (ProxmoxHost.datacenterFirewall), which its own waits on. */
  readonly datacenterFirewall?: pulumi.Resource;
}

export class ProxmoxHost extends pulumi.ComponentResource {
  /** Bridge names the VMs attach to: public (the installer's), private (VLAN-aware trunk), management. */
  public readonly bridges: { readonly public: string; readonly private: string; readonly management: string };
  /** Everything a VM on this host needs before it starts: both bridges, Proxmox's firewall, the console firewall. */
  public readonly ready: readonly pulumi.Resource[];
  /** SSH to this node (its own host key pinned). */
  public readonly connection: ConnectionArgs;
  /** Proxmox's datacenter-wide firewall switch: the API node's host holds it, the other nodes' wait on it. */
  public readonly datacenterFirewall?: pulumi.Resource;

  constructor(name: string, args: ProxmoxHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("librerouter:host:ProxmoxHost", name, {}, opts);
    const plan = nodeView(args.plan, args.node ?? args.plan.host.node);
    const node = plan.host.node;
    const api = node === args.plan.host.node;
    this.connection = args.connection;
    // The public bridge is the installer's vmbr0: it holds the host's own uplink and address, so it is used by
    // name and never managed here (creating it fails, replacing it would cut the host off).
    this.bridges = plan.bridges;
    // No ports: tenant VMs and the VPN servers share this host, so the trunk never leaves it. Under SDN the tenants'
    // networks are the zone's vnets and the VPN servers have no trunk: no private bridge at all.
    const privateBridge = plan.sdn
      ? []
      : [
          new proxmoxve.network.linux.Bridge(
            `${name}-private-bridge`,
            { nodeName: node, name: plan.bridges.private, vlanAware: true, comment: "librerouter tenant VLANs (VPN server trunk)" },
            { parent: this },
          ),
        ];
    // One node: a host-only management bridge. A cluster: the management bridge is the nodes' own management network
    // (their API, corosync's and the VXLAN underlay's addresses, bridged to the physical NIC by ops), used by name
    // like vmbr0: managing it here would fail on create, and a replacement would cut the node off.
    const managementBridge =
      args.plan.nodes.length > 1
        ? []
        : [
            new proxmoxve.network.linux.Bridge(
              `${name}-mgmt-bridge`,
              { nodeName: node, name: plan.bridges.management, address: `${plan.host.mgmtIp}/${plan.mgmt.prefix}`, comment: "librerouter management: VNC consoles, SSH to guests" },
              { parent: this },
            ),
          ];
    // Proxmox's firewall, on at datacenter and node level, so the tenants' per-VM anti-spoofing filters apply
    // (tenant-firewall.ts). Every policy ACCEPT: this enables the VM filters and changes nothing for the host's
    // own traffic, which LR-CONSOLE guards. The legacy iptables backend (nftables off): our LR-CONSOLE chain is
    // iptables, and an iptables ACCEPT does not override a drop of the opt-in nftables proxmox-firewall.
    // The datacenter switch is cluster-wide: once, on the API node's host.
    const datacenterFirewall = api
      ? new proxmoxve.cluster.FirewallLegacy(
          `${name}-datacenter-firewall`,
          { enabled: true, ebtables: true, inputPolicy: "ACCEPT", outputPolicy: "ACCEPT", forwardPolicy: "ACCEPT" },
          { parent: this },
        )
      : args.datacenterFirewall;
    if (!datacenterFirewall) throw new Error(`host of node ${node}: the API node's datacenter firewall must exist first (proxmoxHosts builds the API node's host first)`);
    this.datacenterFirewall = datacenterFirewall;
    const nodeFirewall = new proxmoxve.node.FirewallLegacy(`${name}-node-firewall`, { nodeName: node, enabled: true, nftables: false }, { parent: this, dependsOn: [datacenterFirewall] });
    // The host's API and SSH: only the ops networks and management, when ops networks are configured (an empty list
    // would leave no one but management, and Pulumi itself reaches the API from an ops network: no rule then).
    // Node-level rules in Proxmox's own firewall, so they survive a reboot with pve-firewall. The API node only: the
    // rule drops on the public address, and the config knows no other node's.
    const hostAccess = api && plan.opsNetworks.length
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
      { parent: this, dependsOn: [...managementBridge, nodeFirewall] },
    );
    // The text consoles: one bridge for every tenant VM's serial0, reached by the VPN servers' console gateways
    // (render/host-serial.ts). Its inputs are the config's alone, so adding a tenant never changes it.
    const c = plan.consoles;
    const bridge = serialBridgeScripts({
      config: { mgmtIp: plan.host.mgmtIp, port: c.serialBridgePort, allowFrom: plan.servers.map((s) => s.mgmtIp), vmidMin: c.tenantVmids.min, vmidMax: c.tenantVmids.max, exclude: c.tenantVmids.exclude },
    });
    const serialBridge = remoteScript(`${name}-serial-bridge`, { connection: args.connection, apply: bridge.apply, delete: bridge.delete }, { parent: this, dependsOn: [consoleFirewall] });
    this.ready = [...privateBridge, ...managementBridge, consoleFirewall, serialBridge, ...(api ? [datacenterFirewall] : []), nodeFirewall, ...hostAccess];
    this.registerOutputs({ bridges: this.bridges });
  }
}

/**
 * A ProxmoxHost on every node, by node name, each with its own SSH connection (`connections`, components/connections.ts
 * nodeConnections). The API node's first: it holds the datacenter firewall the others wait on.
 */
export function proxmoxHosts(plan: Plan, args: { readonly layout: HostLayout; readonly connections: Readonly<Record<string, ConnectionArgs>> }, opts?: pulumi.ComponentResourceOptions): Readonly<Record<string, ProxmoxHost>> {
  const hosts: Record<string, ProxmoxHost> = {};
  let datacenterFirewall: pulumi.Resource | undefined;
  for (const n of plan.nodes) {
    const h = new ProxmoxHost(hostName(plan, n), { plan, node: n.name, layout: args.layout, connection: args.connections[n.name], datacenterFirewall }, opts);
    datacenterFirewall = h.datacenterFirewall;
    hosts[n.name] = h;
  }
  return hosts;
}
