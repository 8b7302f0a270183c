/** Validated config → plan: every address, id, name and setting the service uses, so nothing downstream reads config. */
import { importFileName } from "../config/image";
import type { StackConfig } from "../config/schema";
import { parseCidr, size } from "../lib/ipv4";
import * as alloc from "./alloc";
import { planBans } from "./bans";
import { planMonitoring } from "./monitoring";
import { infraNodes, planHa, planNodes, planSdn, shardOf, tenantNode, vnetId, vni } from "./cluster";
import { planConsoles } from "./consoles";
import { routingLayout } from "./routing-layout";
import { tenantMemory } from "./slot-checks";
import { tenantLan } from "./tenant-lan";
import type { CertLifetime, Plan, ProxmoxPlan, ServerPlan, TemplatePlan, TenantPlan } from "./types";
import { ValidStack, ValidTenant, validateStack } from "./validate";

/** Parse, validate and plan. Throws ConfigError listing every problem; returns only a fully valid plan. */
export function buildPlan(raw: unknown, stack: string): Plan {
  return planStack(validateStack(raw, stack), stack);
}

/** The plan of a config that passed validateStack. */
export function planStack(valid: ValidStack, stack: string): Plan {
  const cfg = valid.config;
  const infra = valid.infraIps;
  const net = cfg.network;
  const tenants = valid.tenants.map((t) => planTenant(cfg, t)).sort((a, b) => a.slot - b.slot);
  const inst = alloc.instances(cfg);
  const hostnames = cfg.vpn.hostnames ?? [infra.vpn1, infra.vpn2];
  const placed = infraNodes(cfg);
  const perShard = cfg.shards.tenantsPerShard;
  const shards = perShard !== undefined ? { tenantsPerShard: perShard, names: [...new Set(tenants.map((t) => t.shard!))] } : undefined;
  const server = (i: 0 | 1): ServerPlan => {
    const instances = [inst[2 * i], inst[2 * i + 1]] as const;
    return {
      name: i === 0 ? "vpn1" : "vpn2",
      vmid: cfg.vpn.vmids[i],
      node: i === 0 ? placed.vpn1 : placed.vpn2,
      hostname: hostnames[i],
      publicIp: i === 0 ? infra.vpn1 : infra.vpn2,
      mgmtIp: net.management.vpnIps[i],
      instances,
      vm: { cores: cfg.vpn.cores, memoryMb: cfg.vpn.memoryMb },
      keepalive: { interval: cfg.vpn.keepalive[0], timeout: cfg.vpn.keepalive[1] },
      pollTimeout: cfg.vpn.serverPollTimeout,
      ports: { udp: cfg.vpn.udpPort, tcp: cfg.vpn.tcpPort },
      routing: routingLayout({ tunnelSupernet: net.tunnelSupernet, hostMgmtIp: net.management.hostIp }, instances, tenants),
    };
  };
  // One lifetime setting for every certificate the CA issues: the VPN servers' follow it as the clients' do.
  const certs: CertLifetime = { validityHours: cfg.vpn.clientCertValidityDays * 24, renewHours: cfg.vpn.renewBeforeDays * 24 };
  const plan: Omit<Plan, "bans" | "consoles" | "monitoring"> = {
    stack,
    profile: cfg.profile,
    host: { node: cfg.proxmox.node, publicIp: infra.host, mgmtIp: net.management.hostIp },
    nodes: planNodes(cfg),
    ...(cfg.sdn.kind === "vxlan" ? { sdn: planSdn(cfg) } : {}),
    ha: planHa(cfg),
    ...(shards ? { shards } : {}),
    services: {
      node: placed.services,
      vmid: cfg.services.vmid,
      publicIp: infra.services,
      mgmtIp: net.management.servicesIp,
      vm: { cores: cfg.services.cores, memoryMb: cfg.services.memoryMb },
    },
    proxmox: proxmoxPlan(cfg),
    templates: templatePlan(cfg),
    bridges: { public: net.publicBridge, private: net.privateBridge, management: net.managementBridge },
    tunnelSupernet: net.tunnelSupernet,
    tenantNetwork: { mode: cfg.tenantNetwork.mode, lan: cfg.tenantNetwork.mode === "fixed" ? cfg.tenantNetwork.lan.cidr : net.tenantPrivate },
    reverseDnsDomain: net.reverseDnsDomain,
    opsNetworks: net.opsNetworks,
    unpinnedPolicy: cfg.vpn.unpinnedPolicy,
    pki: { client: certs, server: certs },
    consolePorts: alloc.consolePortRanges(cfg),
    sizing: { ...(cfg.hardware ? { hardware: cfg.hardware } : {}), ...(cfg.assumptions ? { assumptions: cfg.assumptions } : {}), templateDiskGb: cfg.tenantDefaults.diskGb, vlanBase: net.vlanBase },
    publicAddresses: { total: net.publicPools.reduce((s, p) => s + size(parseCidr(p.cidr)), 0), usable: alloc.publicAddressing(cfg).usable.length },
    mgmt: { cidr: net.management.cidr, prefix: parseCidr(net.management.cidr).prefix },
    publicPools: net.publicPools.map((p) => ({ cidr: p.cidr, prefix: parseCidr(p.cidr).prefix, gateway: p.gateway })),
    servers: [server(0), server(1)],
    instances: inst,
    tenants,
  };
  const full = { ...plan, bans: planBans(plan, cfg.bans), consoles: planConsoles(cfg) };
  return { ...full, monitoring: planMonitoring(full, cfg.monitoring, cfg.assumptions?.warnAt ?? DEFAULT_WARN_AT) };
}

/** assumptions.warnAt's default (sizing/assumptions.ts DEFAULT_ASSUMPTIONS, which plan/ may not import; a test pins them equal). */
export const DEFAULT_WARN_AT = 0.9;

function proxmoxPlan(cfg: StackConfig): ProxmoxPlan {
  const p = cfg.proxmox;
  return {
    endpoint: p.endpoint,
    node: p.node,
    username: p.username,
    insecure: p.insecure,
    datastore: p.datastore,
    snippetsDatastore: p.snippetsDatastore,
    snippetsPath: p.snippetsPath,
    sshUser: p.sshUser,
    ...(p.sshHostKey ? { sshHostKey: p.sshHostKey } : {}),
  };
}

function templatePlan(cfg: StackConfig): TemplatePlan {
  const t = cfg.template;
  // validateStack refuses createFromImage without an imageUrl.
  const image = t.createFromImage && t.imageUrl ? { url: t.imageUrl, fileName: importFileName(t) } : undefined;
  return { vmid: t.vmid, serverVmid: t.serverVmid, ...(image ? { image } : {}) };
}

/** One tenant's plan: pure functions of config and slot (plus its validated public address). */
function planTenant(cfg: StackConfig, t: ValidTenant): TenantPlan {
  const vlan = alloc.vlan(cfg, t.slot);
  const tenantVni = vni(cfg, t.slot);
  const shard = shardOf(cfg, t.slot);
  const display = alloc.vncDisplay(cfg, t.slot);
  const lan = tenantLan(cfg, t.slot);
  const pool = alloc.poolOf(cfg, t.publicIp);
  if (!pool) throw new Error(`planTenant: ${t.publicIp} of tenant "${t.key}" is in no public pool although it passed validation`);
  return {
    key: t.key,
    slot: t.slot,
    vmName: `lr-${t.key}`,
    vmid: alloc.vmid(cfg, t.slot),
    vlan,
    link: tenantVni === undefined ? `vl${vlan}` : `vx${t.slot}`,
    node: tenantNode(cfg, t.key, t.slot, t.spec.node),
    ...(tenantVni === undefined ? {} : { sdn: { vnet: vnetId(t.slot), vni: tenantVni } }),
    ...(shard ? { shard } : {}),
    privateCidr: lan.cidr,
    routerIp: lan.router,
    vpnLanIps: lan.vpnIps,
    publicIp: t.publicIp,
    publicMac: t.publicMac,
    publicPrefix: parseCidr(pool.cidr).prefix,
    publicGateway: pool.gateway,
    tunnelIps: alloc.tunnelIps(cfg, t.slot),
    table: { id: alloc.tableId(cfg, t.slot), name: `lb${t.slot}` },
    vnc: { display, port: 5900 + display },
    memory: tenantMemory(cfg, t),
    diskGb: t.spec.diskGb ?? cfg.tenantDefaults.diskGb,
    cores: t.spec.cores ?? cfg.tenantDefaults.cores,
    ...(t.spec.hardwareId ? { hardwareId: t.spec.hardwareId } : {}),
    numbered: t.numbered,
  };
}
