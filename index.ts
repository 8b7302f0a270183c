/**
 * librerouter-hosting: config → plan → provider → components → outputs. Table of contents only; every
 * address comes from plan/, every file from render/, every resource from components/.
 *
 * One stack declares the whole service. A sharded service (`shards.tenantsPerShard`) is a core stack (everything
 * but the tenants) and shard stacks (their own tenants only, on the core's parts read through a StackReference).
 */
import * as pulumi from "@pulumi/pulumi";
import { hostConnection, nodeConnections } from "./components/connections";
import { coreHandoffOutput, shardCore, shardTenantBase } from "./components/core-handoff";
import { InfraHa } from "./components/ha";
import { Monitoring, shardCertFigures } from "./components/monitoring";
import { proxmoxPreflight } from "./components/preflight";
import { hostLayoutFor } from "./components/proxmox-host";
import { proxmoxProvider } from "./components/provider";
import { SdnZone } from "./components/sdn";
import { coreTenantBase, serviceCore } from "./components/service-core";
import { loadStack } from "./components/stack-config";
import { Tenant } from "./components/tenant";
import { nodeMemberName } from "./plan/bans";
import { stackTenants } from "./plan/shards";
import { tenantNetworkOutput } from "./plan/tenant-network-output";
import { banGridOutput } from "./render/bans/output";
import { serverLayoutFor } from "./render/layout";
import { capacityOutput } from "./sizing/capacity-output";

const { plan, capacity, proxmoxPassword, sshPrivateKey, role } = loadStack();
// Preflight reads the host through its own provider; the main provider (so every Proxmox resource) waits on its verdict.
const preflight = proxmoxPreflight("proxmox-preflight", { plan, password: proxmoxPassword });
const opts = { provider: proxmoxProvider("proxmox", { plan, password: proxmoxPassword, sshPrivateKey }, { dependsOn: preflight.passed }) };
const ssh = hostConnection(plan, sshPrivateKey);
const layouts = { hostLayout: hostLayoutFor(plan), serverLayout: serverLayoutFor(plan) };

// One stack or the core: hosts, templates, SDN zone, PKI, VPN servers, services, ban grid, consoles (components/service-core.ts).
// A shard: the core's parts from its `shardHandoff` output, and its own SDN apply for its own vnets (components/core-handoff.ts).
const core = role.kind === "shard" ? undefined : serviceCore({ plan, ssh, sshPrivateKey, ...layouts }, opts);
const fromCore = role.kind === "shard" ? shardCore(plan, { stack: pulumi.getStack(), core: role.core, layout: role.layout, guestHost: () => ssh }) : undefined;
const sdn = core ? core.sdn : plan.sdn ? new SdnZone("sdn", { plan, ownsZone: false }, opts) : undefined;
const base = core ? coreTenantBase(core, plan, layouts) : shardTenantBase(fromCore!, plan, { ...layouts, hostConnections: nodeConnections(plan, sshPrivateKey), sdn });
// A shard's tenants wait on the core's shardLayout check: a core planned from another config stops them all.
const tenantOpts = fromCore ? { ...opts, dependsOn: fromCore.checked } : opts;

const tenants = stackTenants(plan.tenants, role).map((tenant) => new Tenant(`tenant-${tenant.key}`, { plan, tenant, ...base(tenant) }, tenantOpts));
// SDN: one apply after every vnet of this stack (components/sdn.ts); HA: the infrastructure VMs on shared storage.
sdn?.applyAfter(tenants.flatMap((t) => (t.vnet ? [t.vnet] : [])));
if (core && plan.ha.datastore) new InfraHa("ha", { plan, vms: { vpn1: core.servers[0].vm, vpn2: core.servers[1].vm, services: core.services.vm } }, opts);
// Monitoring (components/monitoring.ts): exporters, lr-metrics, Prometheus and Alertmanager from the core (or the one
// stack), each after its machine's ban-grid member (apt never runs twice at once there); a shard adds its tenants'
// certificate figures on the services VM.
const certEnds = Object.fromEntries(tenants.map((t) => [t.key, t.certEnd]));
if (plan.monitoring.enabled && core) {
  const [vpn1, vpn2] = core.servers;
  const nodes = Object.fromEntries(plan.nodes.map((n) => [n.name, { connection: core.hosts[n.name].connection, after: [...core.hosts[n.name].ready, core.bans.setupOf(nodeMemberName(plan, n.name))] }]));
  const members = {
    vpn1: { connection: vpn1.connection, identity: vpn1.identity, after: [core.bans.setupOf("vpn1")] },
    vpn2: { connection: vpn2.connection, identity: vpn2.identity, after: [core.bans.setupOf("vpn2")] },
    services: { connection: core.services.connection, identity: core.services.identity, after: [core.bans.enrolled] },
    ...nodes,
  };
  new Monitoring("monitoring", { plan, mon: plan.monitoring, serverLayout: layouts.serverLayout, members, tenantCertEnds: certEnds, caEnd: core.pki.caCert.validityEndTime }, opts);
}
if (plan.monitoring.enabled && fromCore && role.kind === "shard" && tenants.length) {
  shardCertFigures("monitoring-certs", { plan, shard: role.shard, services: fromCore.services, tenantCertEnds: certEnds }, { dependsOn: fromCore.checked });
}

const service = {
  /** The ban grid: what it never bans, ban durations, how ops list and lift bans, what tenants install to report. No credentials. */
  banGrid: banGridOutput(plan),
  capacityReport: capacityOutput(capacity),
  /** The tenant-network mode and, in fixed mode, each of this stack's tenants' planned public MAC (the policy pack's anti-spoofing check). */
  tenantNetwork: tenantNetworkOutput({ ...plan, tenants: stackTenants(plan.tenants, role) }),
  vpnServers: Object.fromEntries(plan.servers.map((s) => [s.name, { hostname: s.hostname, publicIp: s.publicIp }])),
};
const ofTenants = {
  /** Per tenant key: where its router is and how its console is reached (through its own VPN only). */
  tenantInfo: Object.fromEntries(
    tenants.map((t) => [t.key, { publicIp: t.publicIp, privateSubnet: t.privateSubnet, vlan: t.vlan, consoles: t.consoles, consolePages: t.consolePages }]),
  ),
  /**
   * Per tenant key, secret: the VNC password, the client bundle, its launcher and the hand-out README, and the router's ban-report settings
   * (/etc/lr-ban-report.conf). `pulumi stack output --show-secrets`.
   */
  tenantSecrets: pulumi.secret(
    Object.fromEntries(tenants.map((t) => [t.key, { vncPassword: t.vncPassword, clientBundle: t.clientBundle, launcher: t.launcher, readme: t.readme, ...(t.banReportConfig ? { banReportConfig: t.banReportConfig } : {}) }])),
  ),
};
/**
 * The core's: what its shards stand on (secret: the CA key, the tls-crypt-v2 server key, the ban report key) and the
 * layout they check it against (plain). `export =`: a stack exports only its role's outputs (an undefined export
 * would print a warning on every preview).
 */
const forShards = core && role.kind === "core" ? { shardHandoff: coreHandoffOutput({ pki: core.pki, templateVmId: core.template.vmId, servers: core.servers, services: core.services, ...(core.bans.reportTokenKey ? { banReportKey: core.bans.reportTokenKey } : {}) }), shardLayout: role.layout } : undefined;
export = forShards ? { ...service, ...forShards } : { ...ofTenants, ...service };
