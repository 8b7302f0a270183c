/** Config → validated config → plan. Every cross-field rule lives here; all problems are reported at once. */
import { ConfigError, ConfigIssue, fromZod } from "../config/errors";
import { contains, formatCidr, intToIp, ipToInt, overlaps, parseCidr, size } from "../config/net";
import { StackConfig, stackSchema } from "../config/schema";
import * as A from "./alloc";
import { Plan, ServerPlan, TenantPlan } from "./types";

/** Ports a tenant console must not take: Proxmox's own VNC proxies (5900–6000), the API, migration. */
const RESERVED_PORTS: readonly [number, number, string][] = [
  [5900, 6000, "Proxmox's own VNC consoles (5900–6000)"],
  [8006, 8006, "the Proxmox API (8006)"],
  [60000, 60050, "Proxmox live migration (60000–60050)"],
];

interface TenantSeed {
  readonly key: string;
  readonly slot: number;
  readonly from: string;
  readonly numbered: boolean;
  readonly spec: StackConfig["tenants"][string];
}

/** Parse, validate and plan. Throws ConfigError listing every problem; returns only a fully valid plan. */
export function buildPlan(raw: unknown, stack: string): Plan {
  const parsed = stackSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => fromZod(raw, i)), stack);
  const cfg = parsed.data;
  const issues: ConfigIssue[] = [];
  const err = (key: string, message: string) => issues.push({ key, message });

  checkNetwork(cfg, err);
  const seeds = expandTenants(cfg, err);
  if (issues.length) throw new ConfigError(issues, stack);

  const pub = A.publicAddressing(cfg);
  const mgmt = parseCidr(cfg.network.management.cidr);
  const tunnel = parseCidr(cfg.network.tunnelSupernet);
  const infraVmids = new Map<number, string>([
    [cfg.template.vmid, "template.vmid"],
    [cfg.vpn.vmids[0], "vpn.vmids[0]"],
    [cfg.vpn.vmids[1], "vpn.vmids[1]"],
    [cfg.services.vmid, "services.vmid"],
  ]);
  const publicOwner = new Map<string, string>(Object.entries(pub.infra).map(([k, v]) => [v, `the ${k === "host" ? "Proxmox host" : k}`]));
  const infraIps = new Set(Object.values(pub.infra));
  const usable = new Set(pub.usable);
  const displays = new Map<number, string>();
  const tenants: TenantPlan[] = [];

  for (const t of seeds) {
    const at = `${t.from}.slot`;
    const fix = (what: string) => `${what}; choose another slot for tenant "${t.key}"`;
    const priv = A.privateNet(cfg, t.slot);
    if (t.slot >= A.privateSlots(cfg)) {
      err(at, `got ${t.slot}; network.tenantPrivate ${cfg.network.tenantPrivate} holds /24s for slots 0–${A.privateSlots(cfg) - 1} only; use a lower slot or a larger network.tenantPrivate`);
      continue;
    }
    if (overlaps(priv, tunnel)) err(at, fix(`got ${t.slot}; its private subnet ${formatCidr(priv)} overlaps network.tunnelSupernet ${cfg.network.tunnelSupernet}`));
    if (overlaps(priv, mgmt)) err(at, fix(`got ${t.slot}; its private subnet ${formatCidr(priv)} overlaps network.management.cidr ${cfg.network.management.cidr}`));
    if (t.slot > A.maxTunnelSlot(cfg)) err(at, `got ${t.slot}; each VPN instance pool (a quarter of network.tunnelSupernet ${cfg.network.tunnelSupernet}) holds slots 1–${A.maxTunnelSlot(cfg)}; use a larger tunnelSupernet`);
    const vlan = A.vlan(cfg, t.slot);
    if (vlan > 4094) err(at, `got ${t.slot}; VLAN id network.vlanBase + slot = ${vlan} is above 4094; lower network.vlanBase (now ${cfg.network.vlanBase}) or use slots ≤ ${4094 - cfg.network.vlanBase}`);
    const table = A.tableId(cfg, t.slot);
    if (A.RESERVED_TABLES.has(table)) err(at, `got ${t.slot}; routing table id network.tableBase + slot = ${table} is reserved by the kernel (253 default, 254 main, 255 local); set network.tableBase to 1000 or more`);
    const vmid = A.vmid(cfg, t.slot);
    const clash = infraVmids.get(vmid);
    if (clash) err(at, fix(`got ${t.slot}; VMID network.vmidBase + slot = ${vmid} is already ${clash}`));
    if (vmid > 999_999_999) err(at, `got ${t.slot}; VMID ${vmid} is above Proxmox's 999999999; lower network.vmidBase`);
    const display = A.vncDisplay(cfg, t.slot);
    const port = 5900 + display;
    const reserved = RESERVED_PORTS.find(([lo, hi]) => port >= lo && port <= hi);
    if (port > 65535) err(at, `got ${t.slot}; VNC port 5900 + network.vncDisplayBase + slot = ${port} is above 65535; lower network.vncDisplayBase`);
    else if (reserved) err(at, `got ${t.slot}; VNC display ${display} (port ${port}) collides with ${reserved[2]}; change network.vncDisplayBase (now ${cfg.network.vncDisplayBase})`);
    const owner = displays.get(display);
    if (owner) err(at, `got ${t.slot}; VNC display ${display} is already tenant "${owner}"`);
    displays.set(display, t.key);

    let publicIp = t.spec.publicIp ?? pub.tenantAddresses[t.slot - 1];
    const ipKey = t.spec.publicIp ? `${t.from}.publicIp` : at;
    if (!publicIp) {
      err(at, `got ${t.slot}; the public pools leave ${pub.tenantAddresses.length} tenant addresses (slots 1–${pub.tenantAddresses.length}); add a pool to network.publicPools or set ${t.from}.publicIp`);
      publicIp = "0.0.0.0";
    } else if (!usable.has(publicIp)) {
      err(ipKey, `got "${publicIp}"; not a usable address of network.publicPools (not network, broadcast, gateway or reserved); pick a free address from ${cfg.network.publicPools.map((p) => p.cidr).join(", ")}`);
    } else if (publicOwner.has(publicIp)) {
      err(ipKey, `got "${publicIp}"; already used by ${publicOwner.get(publicIp)}; give tenant "${t.key}" another address${infraIps.has(publicIp) ? "" : " with publicIp"}`);
    }
    publicOwner.set(publicIp, `tenant "${t.key}"`);

    const memory = { minMb: t.spec.memory?.minMb ?? cfg.tenantDefaults.memory.minMb, maxMb: t.spec.memory?.maxMb ?? cfg.tenantDefaults.memory.maxMb };
    if (memory.minMb > memory.maxMb) {
      err(t.spec.memory ? `${t.from}.memory` : "tenantDefaults.memory", `balloon minimum ${memory.minMb} MiB is above maximum ${memory.maxMb} MiB; set minMb ≤ maxMb`);
    }
    const pool = A.poolOf(cfg, publicIp);
    const lan = priv.base;
    tenants.push({
      key: t.key,
      slot: t.slot,
      vmName: `lr-${t.key}`,
      vmid,
      vlan,
      link: `vl${vlan}`,
      privateCidr: formatCidr(priv),
      routerIp: intToIp(lan + 1),
      vpnLanIps: [intToIp(lan + 2), intToIp(lan + 3)],
      publicIp,
      publicPrefix: pool ? parseCidr(pool.cidr).prefix : 32,
      publicGateway: pool?.gateway ?? "0.0.0.0",
      tunnelIps: A.tunnelIps(cfg, t.slot),
      table: { id: table, name: `lb${t.slot}` },
      vnc: { display, port },
      memory,
      diskGb: t.spec.diskGb ?? cfg.tenantDefaults.diskGb,
      cores: t.spec.cores ?? cfg.tenantDefaults.cores,
      ...(t.spec.hardwareId ? { hardwareId: t.spec.hardwareId } : {}),
      numbered: t.numbered,
    });
  }
  if (issues.length) throw new ConfigError(issues, stack);

  const inst = A.instances(cfg);
  const hostnames = cfg.vpn.hostnames ?? [pub.infra.vpn1, pub.infra.vpn2];
  const server = (i: 0 | 1): ServerPlan => ({
    name: i === 0 ? "vpn1" : "vpn2",
    vmid: cfg.vpn.vmids[i],
    hostname: hostnames[i],
    publicIp: i === 0 ? pub.infra.vpn1 : pub.infra.vpn2,
    mgmtIp: cfg.network.management.vpnIps[i],
    instances: [inst[2 * i], inst[2 * i + 1]],
  });
  return {
    stack,
    config: cfg,
    host: { node: cfg.proxmox.node, publicIp: pub.infra.host, mgmtIp: cfg.network.management.hostIp },
    services: { vmid: cfg.services.vmid, publicIp: pub.infra.services, mgmtIp: cfg.network.management.servicesIp },
    mgmt: { cidr: cfg.network.management.cidr, prefix: mgmt.prefix },
    publicPools: cfg.network.publicPools.map((p) => ({ cidr: p.cidr, prefix: parseCidr(p.cidr).prefix, gateway: p.gateway })),
    servers: [server(0), server(1)],
    instances: inst,
    tenants: tenants.sort((a, b) => a.slot - b.slot),
  };
}

/** Named tenants plus the numbered range, with slot and key uniqueness checked. */
function expandTenants(cfg: StackConfig, err: (k: string, m: string) => void): TenantSeed[] {
  const seeds: TenantSeed[] = [];
  const bySlot = new Map<number, TenantSeed>();
  const n = cfg.numberedTenants;
  const excluded = new Set(n?.exclude ?? []);
  if (n) {
    const last = n.firstSlot + n.count - 1;
    n.exclude.forEach((s, i) => {
      if (s < n.firstSlot || s > last) err(`numberedTenants.exclude.${i}`, `got ${s}; not in the numbered range ${n.firstSlot}–${last}; remove it`);
    });
    for (let slot = n.firstSlot; slot <= last; slot++) {
      if (excluded.has(slot)) continue;
      const seed = { key: `${n.prefix}${slot}`, slot, from: "numberedTenants", numbered: true, spec: { slot } };
      seeds.push(seed);
      bySlot.set(slot, seed);
    }
  }
  const numberedKeys = new Set(seeds.map((s) => s.key));
  for (const [key, spec] of Object.entries(cfg.tenants)) {
    const from = `tenants.${key}`;
    if (numberedKeys.has(key)) {
      err(from, `key "${key}" is also a numbered tenant (numberedTenants.prefix "${n?.prefix}"); rename the tenant or change the prefix`);
      continue;
    }
    const prior = bySlot.get(spec.slot);
    if (prior) {
      const hint = prior.numbered ? `; add ${spec.slot} to numberedTenants.exclude to hand the slot over, or pick a free slot` : "; every tenant needs its own slot";
      err(`${from}.slot`, `got ${spec.slot}; slot already used by tenant "${prior.key}"${hint}`);
      continue;
    }
    const seed = { key, slot: spec.slot, from, numbered: false, spec };
    seeds.push(seed);
    bySlot.set(spec.slot, seed);
  }
  return seeds;
}

/** Checks on the network section alone: pools, management addresses, overlaps. */
function checkNetwork(cfg: StackConfig, err: (k: string, m: string) => void): void {
  const net = cfg.network;
  const mgmt = parseCidr(net.management.cidr);
  const tunnel = parseCidr(net.tunnelSupernet);
  const priv = parseCidr(net.tenantPrivate);
  if (tunnel.prefix > 22) err("network.tunnelSupernet", `got "${net.tunnelSupernet}"; must be /22 or larger so each of the 4 VPN instances gets at least a /24`);
  if (priv.prefix > 24) err("network.tenantPrivate", `got "${net.tenantPrivate}"; must be /24 or larger (each tenant takes a /24)`);
  if (overlaps(mgmt, tunnel)) err("network.management.cidr", `got "${net.management.cidr}"; overlaps network.tunnelSupernet ${net.tunnelSupernet}; pick a separate block`);
  const mgmtIps: [string, string][] = [
    ["network.management.hostIp", net.management.hostIp],
    ["network.management.vpnIps.0", net.management.vpnIps[0]],
    ["network.management.vpnIps.1", net.management.vpnIps[1]],
    ["network.management.servicesIp", net.management.servicesIp],
  ];
  const seenMgmt = new Map<string, string>();
  for (const [k, ip] of mgmtIps) {
    const n = ipToInt(ip);
    if (!contains(mgmt, n) || n === mgmt.base || n === mgmt.base + size(mgmt) - 1) err(k, `got "${ip}"; must be a host address inside network.management.cidr ${net.management.cidr}`);
    else if (seenMgmt.has(ip)) err(k, `got "${ip}"; already used by ${seenMgmt.get(ip)}; every management address must differ`);
    seenMgmt.set(ip, k);
  }
  const pools = net.publicPools.map((p) => parseCidr(p.cidr));
  net.publicPools.forEach((p, i) => {
    const c = pools[i];
    const k = `network.publicPools.${i}`;
    const gw = ipToInt(p.gateway);
    if (!contains(c, gw) || (c.prefix < 31 && (gw === c.base || gw === c.base + size(c) - 1))) err(`${k}.gateway`, `got "${p.gateway}"; the gateway must be a host address inside ${p.cidr}`);
    p.reserved.forEach((r, j) => {
      if (!contains(c, ipToInt(r))) err(`${k}.reserved.${j}`, `got "${r}"; not inside ${p.cidr}; remove it or move it to the right pool`);
    });
    for (let j = 0; j < i; j++) if (overlaps(c, pools[j])) err(`${k}.cidr`, `got "${p.cidr}"; overlaps network.publicPools.${j} ${net.publicPools[j].cidr}; every pool must be distinct`);
    for (const [name, other] of [["network.management.cidr", mgmt], ["network.tunnelSupernet", tunnel], ["network.tenantPrivate", priv]] as const) {
      if (overlaps(c, other)) err(`${k}.cidr`, `got "${p.cidr}"; overlaps ${name} ${formatCidr(other)}; public pools must be outside the private plan`);
    }
  });
  const inPools = (ip: string) => pools.some((c) => contains(c, ipToInt(ip)));
  const seenInfra = new Map<string, string>();
  for (const [name, ip] of Object.entries(net.infraPublicIps)) {
    if (!ip) continue;
    const k = `network.infraPublicIps.${name}`;
    if (!inPools(ip)) err(k, `got "${ip}"; not inside any of network.publicPools; use an address from ${net.publicPools.map((p) => p.cidr).join(", ")}`);
    else if (seenInfra.has(ip)) err(k, `got "${ip}"; already used by ${seenInfra.get(ip)}`);
    else if (net.publicPools.some((p) => p.gateway === ip || p.reserved.includes(ip))) err(k, `got "${ip}"; that is a pool gateway or reserved address; pick a usable one`);
    seenInfra.set(ip, k);
  }
  if (cfg.vpn.vmids[0] === cfg.vpn.vmids[1]) err("vpn.vmids", `got [${cfg.vpn.vmids.join(", ")}]; the two VPN servers need different VMIDs`);
  if (cfg.vpn.keepalive[1] < 2 * cfg.vpn.keepalive[0]) err("vpn.keepalive", `got [${cfg.vpn.keepalive.join(", ")}]; the timeout must be at least twice the interval, e.g. [10, 30]`);
  if (cfg.vpn.renewBeforeDays >= cfg.vpn.clientCertValidityDays) err("vpn.renewBeforeDays", `got ${cfg.vpn.renewBeforeDays}; must be below vpn.clientCertValidityDays (${cfg.vpn.clientCertValidityDays})`);
  const d = cfg.tenantDefaults.memory;
  if (d.minMb > d.maxMb) err("tenantDefaults.memory", `balloon minimum ${d.minMb} MiB is above maximum ${d.maxMb} MiB; set minMb ≤ maxMb`);
  const usable = A.publicAddressing(cfg);
  if (usable.usable.length < 4) err("network.publicPools", `the pools hold ${usable.usable.length} usable addresses; the host, 2 VPN servers and common services alone need 4`);
}
