/**
 * librerouter-hosting: config → plan → provider → components → outputs. Table of contents only; every
 * address comes from plan/, every file from render/, every resource from components/.
 */
import * as pulumi from "@pulumi/pulumi";
import { BanGrid } from "./components/ban-grid";
import { CommonServices } from "./components/common-services";
import { ConsoleGateway } from "./components/console-gateway";
import { hostConnection, sshPublicKey } from "./components/connections";
import { OpenVpnServer } from "./components/openvpn-server";
import { Pki } from "./components/pki";
import { proxmoxPreflight } from "./components/preflight";
import { ProxmoxHost, hostLayoutFor } from "./components/proxmox-host";
import { proxmoxProvider } from "./components/provider";
import { loadStack } from "./components/stack-config";
import { Tenant } from "./components/tenant";
import { tenantWanGroup } from "./components/tenant-firewall";
import { tenantNetworkOutput } from "./plan/tenant-network-output";
import { VmTemplate } from "./components/vm-template";
import { banGridOutput } from "./render/bans/output";
import { PRODUCTION_SERVER_LAYOUT } from "./render/layout";
import { capacityOutput } from "./sizing/capacity-output";

const { plan, capacity, proxmoxPassword, sshPrivateKey } = loadStack();
// Preflight reads the host through its own provider; the main provider (so every Proxmox resource) waits on its verdict.
const preflight = proxmoxPreflight("proxmox-preflight", { plan, password: proxmoxPassword });
const opts = { provider: proxmoxProvider("proxmox", { plan, password: proxmoxPassword, sshPrivateKey }, { dependsOn: preflight.passed }) };
const ssh = hostConnection(plan, sshPrivateKey);
const hostLayout = hostLayoutFor(plan);

const host = new ProxmoxHost("host", { plan, layout: hostLayout, connection: ssh }, opts);
const template = new VmTemplate("template", { plan }, opts);
const pki = new Pki("pki", { plan }, opts);
const guestKey = sshPublicKey(sshPrivateKey);

// Each server's setup waits for the previous one's: a change to a shared file (CA, hooks) never restarts both at once.
const servers = plan.servers.reduce<OpenVpnServer[]>(
  (built, server) => [
    ...built,
    new OpenVpnServer(
      server.name,
      {
        plan,
        server,
        templateVmId: plan.templates.serverVmid,
        pki,
        bridges: host.bridges,
        hostConnection: ssh,
        sshPublicKey: guestKey,
        layout: PRODUCTION_SERVER_LAYOUT,
        dependsOn: host.ready,
        setupAfter: built.at(-1)?.setup,
      },
      opts,
    ),
  ],
  [],
);

const services = new CommonServices("services", { plan, templateVmId: plan.templates.serverVmid, bridges: host.bridges, hostConnection: ssh, sshPublicKey: guestKey, dependsOn: host.ready }, opts);
// Fixed tenant-network mode only (undefined otherwise): the security group that keeps DHCP servers off the tenants' WAN.
const wanGroup = tenantWanGroup("tenants-wan-group", plan, opts);

// The ban grid: its decision store on the services VM, agents and bouncers on vpn1, vpn2 and the host (components/ban-grid.ts).
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
    },
  },
  opts,
);

// The tenants' browser consoles: an HTTPS gateway on each VPN server, after its ban-grid member (components/console-gateway.ts).
new ConsoleGateway("consoles", { plan, pki, servers, layout: PRODUCTION_SERVER_LAYOUT, after: { vpn1: [bans.setups.vpn1], vpn2: [bans.setups.vpn2] } }, opts);

const tenants = plan.tenants.map(
  (tenant) =>
    new Tenant(
      `tenant-${tenant.key}`,
      {
        plan,
        tenant,
        templateVmId: template.vmId,
        pki,
        servers,
        bridges: host.bridges,
        hostLayout,
        hostConnection: ssh,
        serverLayout: PRODUCTION_SERVER_LAYOUT,
        dependsOn: [...host.ready, ...template.resources],
        services,
        wanGroup,
        banReportKey: bans.reportTokenKey,
      },
      opts,
    ),
);

/** Per tenant key: where its router is and how its console is reached (through its own VPN only). */
export const tenantInfo = Object.fromEntries(
  tenants.map((t) => [t.key, { publicIp: t.publicIp, privateSubnet: t.privateSubnet, vlan: t.vlan, consoles: t.consoles, consolePages: t.consolePages }]),
);
/**
 * Per tenant key, secret: the VNC password, the client bundle, its launcher and the hand-out README, and the router's ban-report settings
 * (/etc/lr-ban-report.conf). `pulumi stack output --show-secrets`.
 */
export const tenantSecrets = pulumi.secret(
  Object.fromEntries(tenants.map((t) => [t.key, { vncPassword: t.vncPassword, clientBundle: t.clientBundle, launcher: t.launcher, readme: t.readme, ...(t.banReportConfig ? { banReportConfig: t.banReportConfig } : {}) }])),
);
/** The ban grid: what it never bans, ban durations, how ops list and lift bans, what tenants install to report. No credentials. */
export const banGrid = banGridOutput(plan);
export const capacityReport = capacityOutput(capacity);
/** The tenant-network mode and, in fixed mode, each tenant's planned public MAC (the policy pack's anti-spoofing check). */
export const tenantNetwork = tenantNetworkOutput(plan);
export const vpnServers = Object.fromEntries(servers.map((s) => [s.server.name, { hostname: s.server.hostname, publicIp: s.server.publicIp }]));
