/**
 * The service's core (one stack, or the core stack of a sharded service): every node's host config, the templates,
 * the SDN zone, the PKI, both VPN servers, the services VM, the ban grid and the console gateways. Plain functions,
 * not a component: the resources keep the URNs (and parents) they had when index.ts declared them itself.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Plan, TenantPlan } from "../plan/types";
import type { HostLayout, ServerLayout } from "../render/layout";
import { nodeMemberName } from "../plan/bans";
import { BanGrid } from "./ban-grid";
import { CommonServices } from "./common-services";
import { type ConnectionArgs, nodeConnections, sshPublicKey } from "./connections";
import { ConsoleGateway } from "./console-gateway";
import { OpenVpnServer } from "./openvpn-server";
import { Pki } from "./pki";
import { type ProxmoxHost, proxmoxHosts } from "./proxmox-host";
import { SdnZone } from "./sdn";
import type { TenantArgs } from "./tenant";
import { tenantWanGroup } from "./tenant-firewall";
import { VmTemplate, nodeTemplates } from "./vm-template";

export interface ServiceCore {
  readonly hosts: Readonly<Record<string, ProxmoxHost>>;
  readonly template: VmTemplate;
  readonly sdn?: SdnZone;
  readonly pki: Pki;
  readonly servers: readonly OpenVpnServer[];
  readonly services: CommonServices;
  readonly wanGroup?: pulumi.Resource;
  readonly bans: BanGrid;
}

export interface ServiceCoreArgs {
  readonly plan: Plan;
  /** SSH to the API node: the guests are reached through it. */
  readonly ssh: ConnectionArgs;
  readonly sshPrivateKey: pulumi.Output<string>;
  readonly hostLayout: HostLayout;
  readonly serverLayout: ServerLayout;
}

/** Declares the core, in the order index.ts always declared it. */
export function serviceCore(args: ServiceCoreArgs, opts: pulumi.ComponentResourceOptions): ServiceCore {
  const { plan, ssh, serverLayout } = args;
  // One ProxmoxHost per node (the API node's is "host"); every VM's host-side resources are on its own node. The guests
  // are reached through the API node (the management network spans the nodes), so a new placement changes no command.
  const hosts = proxmoxHosts(plan, { layout: args.hostLayout, connections: nodeConnections(plan, args.sshPrivateKey) }, opts);
  const host = hosts[plan.host.node];
  const template = new VmTemplate("template", { plan }, opts);
  const sdn = plan.sdn ? new SdnZone("sdn", { plan }, opts) : undefined;
  const pki = new Pki("pki", { plan }, opts);
  const guestKey = sshPublicKey(args.sshPrivateKey);

  // Each server's setup waits for the previous one's: a change to a shared file (CA, hooks) never restarts both at once.
  const servers = plan.servers.reduce<OpenVpnServer[]>((built, server) => {
    const on = hosts[server.node];
    const templateVmId = nodeTemplates(plan, server.node, template).debian;
    const vpn = new OpenVpnServer(
      server.name,
      { plan, server, templateVmId, pki, bridges: on.bridges, hostConnection: ssh, sshPublicKey: guestKey, layout: serverLayout, dependsOn: on.ready, setupAfter: built.at(-1)?.setup },
      opts,
    );
    return [...built, vpn];
  }, []);

  const on = hosts[plan.services.node];
  const services = new CommonServices("services", { plan, templateVmId: nodeTemplates(plan, plan.services.node, template).debian, bridges: on.bridges, hostConnection: ssh, sshPublicKey: guestKey, dependsOn: on.ready }, opts);
  // Fixed tenant-network mode only (undefined otherwise): the security group that keeps DHCP servers off the tenants' WAN.
  const wanGroup = tenantWanGroup("tenants-wan-group", plan, opts);

  // The ban grid: its decision store on the services VM, agents and bouncers on vpn1, vpn2 and every node (components/ban-grid.ts).
  const [vpn1, vpn2] = servers;
  const bans = new BanGrid(
    "bans",
    {
      plan,
      pki,
      members: {
        services: { connection: services.connection, identity: services.identity, after: [services.setup, ...(services.dhcp ? [services.dhcp] : [])] },
        vpn1: { connection: vpn1.connection, identity: vpn1.identity, after: [vpn1.setup] },
        vpn2: { connection: vpn2.connection, identity: vpn2.identity, after: [vpn2.setup] },
        host: { connection: ssh, after: host.ready },
        // A cluster's other nodes: each bridges its own tenants' public addresses, so each enforces (plan/bans.ts).
        ...Object.fromEntries(plan.nodes.filter((n) => n.name !== plan.host.node).map((n) => [nodeMemberName(plan, n.name), { connection: hosts[n.name].connection, after: hosts[n.name].ready }])),
      },
    },
    opts,
  );

  // The tenants' browser consoles: an HTTPS gateway on each VPN server, after its ban-grid member (components/console-gateway.ts).
  new ConsoleGateway("consoles", { plan, pki, servers, layout: serverLayout, after: { vpn1: [bans.setupOf("vpn1")], vpn2: [bans.setupOf("vpn2")] } }, opts);
  return { hosts, template, ...(sdn ? { sdn } : {}), pki, servers, services, ...(wanGroup ? { wanGroup } : {}), bans };
}

/** What a tenant stands on, besides its plan: its node's host, template and the core's parts. */
export type TenantBase = (tenant: TenantPlan) => Omit<TenantArgs, "plan" | "tenant">;

/** One stack: a tenant stands on the core's resources themselves. */
export function coreTenantBase(core: ServiceCore, plan: Plan, layouts: { readonly hostLayout: HostLayout; readonly serverLayout: ServerLayout }): TenantBase {
  return (tenant) => {
    const host = core.hosts[tenant.node];
    return {
      templateVmId: nodeTemplates(plan, tenant.node, core.template).librerouter,
      pki: core.pki,
      servers: core.servers,
      bridges: host.bridges,
      hostLayout: layouts.hostLayout,
      hostConnection: host.connection,
      serverLayout: layouts.serverLayout,
      dependsOn: [...host.ready, ...core.template.resources],
      services: core.services,
      ...(core.wanGroup ? { wanGroup: core.wanGroup } : {}),
      ...(core.bans.reportTokenKey ? { banReportKey: core.bans.reportTokenKey } : {}),
      ...(core.sdn ? { sdn: core.sdn } : {}),
    };
  };
}
