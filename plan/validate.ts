/**
 * Config → validated config: the schema, then every cross-field rule (network blocks, infrastructure VMs, tenant
 * slots and addresses). All problems are reported at once, in one ConfigError. Pure.
 */
import { ConfigError, ConfigIssue, fromZod } from "../config/errors";
import { checkCluster } from "./cluster";
import { consolesIssues } from "./consoles";
import { templateImageIssue } from "../config/image";
import { StackConfig, stackSchema } from "../config/schema";
import { contains, formatCidr, intToIp, ipToInt, overlaps, parseCidr, size } from "../lib/ipv4";
import { derivedPublicMac, macClashes } from "./mac";
import { checkHardwareIds, checkPublicPools, checkVpnHostnames, notPublicReason } from "./address-checks";
import * as alloc from "./alloc";
import { checkFixedLan } from "./tenant-lan";
import { checkMemory, checkSlot, infraVmids, slotReporter } from "./slot-checks";
import { assignPublicIps, Err, expandTenants, TenantSeed } from "./tenant-seeds";

/** A tenant that passed every check, with its public address. */
export interface ValidTenant extends TenantSeed {
  readonly publicIp: string;
  readonly publicMac: string;
}

/** A config that passed every check: what the allocation needs. */
export interface ValidStack {
  readonly config: StackConfig;
  readonly tenants: readonly ValidTenant[];
  readonly infraIps: Readonly<Record<alloc.InfraName, string>>;
}

/** Parse and check. Throws ConfigError listing every problem; returns only a config that can be planned. */
export function validateStack(raw: unknown, stack: string): ValidStack {
  const parsed = stackSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => fromZod(raw, i, stackSchema)), stack);
  const cfg = parsed.data;
  const issues: ConfigIssue[] = [];
  const err: Err = (key, message) => issues.push({ key, message });

  const plannable = checkNetwork(cfg, err);
  checkFixedLan(cfg, err);
  checkInfra(cfg, err);
  const seeds = expandTenants(cfg, err);
  // Only a network too small to address anything stops here; every other problem is collected with the slot checks.
  if (!plannable) throw new ConfigError(issues, stack);

  const pub = alloc.publicAddressing(cfg);
  const publicIps = assignPublicIps(cfg, seeds, pub, err);
  const slots = slotReporter(err);
  for (const t of seeds) {
    checkSlot(cfg, t, slots);
    checkMemory(cfg, t, err);
  }
  slots.flush();
  checkCluster(cfg, seeds.map((t) => ({ key: t.key, slot: t.slot, ...(t.spec.node ? { node: t.spec.node } : {}) })), err);
  const macs = seeds.map((t) => ({ key: t.key, publicMac: t.spec.publicMac ?? derivedPublicMac(stack, t.key) }));
  for (const m of macClashes(macs)) err(m.slice(0, m.indexOf(":")), m.slice(m.indexOf(":") + 2));
  if (issues.length) throw new ConfigError(issues, stack);

  // Every check passed, so the pools gave the four infrastructure VMs and every tenant an address.
  const missing = (what: string) => new Error(`validateStack: no public address for ${what} although every check passed`);
  const { host, vpn1, vpn2, services } = pub.infra;
  if (!host || !vpn1 || !vpn2 || !services) throw missing("the infrastructure");
  const tenants = seeds.map((t): ValidTenant => {
    const publicIp = publicIps.get(t.key);
    if (publicIp === undefined) throw missing(`tenant "${t.key}"`);
    return { ...t, publicIp, publicMac: macs.find((m) => m.key === t.key)!.publicMac };
  });
  return { config: cfg, tenants, infraIps: { host, vpn1, vpn2, services } };
}

/** Checks of the non-tenant VMs and the VPN settings that span several keys. */
function checkInfra(cfg: StackConfig, err: Err): void {
  const seen = new Map<number, string>();
  for (const [k, v] of infraVmids(cfg)) {
    const prior = seen.get(v);
    if (prior) err(k, `got ${v}; already used by ${prior}; every VM needs its own VMID`);
    else seen.set(v, k);
  }
  if (cfg.template.createFromImage && !cfg.template.imageUrl) err("template.imageUrl", "is required when template.createFromImage is true; set the URL of the LibreRouter cloud image");
  const image = templateImageIssue(cfg.template);
  if (image) err(image.key, image.message);
  if (cfg.vpn.keepalive[1] < 2 * cfg.vpn.keepalive[0]) err("vpn.keepalive", `got [${cfg.vpn.keepalive.join(", ")}]; the timeout must be at least twice the interval, e.g. [5, 15]`);
  if (cfg.vpn.renewBeforeDays >= cfg.vpn.clientCertValidityDays) err("vpn.renewBeforeDays", `got ${cfg.vpn.renewBeforeDays}; must be below vpn.clientCertValidityDays (${cfg.vpn.clientCertValidityDays})`);
  const d = cfg.tenantDefaults.memory;
  if (d.minMb > d.maxMb) err("tenantDefaults.memory", `balloon minimum ${d.minMb} MiB is above maximum ${d.maxMb} MiB; set minMb ≤ maxMb`);
  checkVpnHostnames(cfg, err);
  checkHardwareIds(cfg, err);
  for (const [k, m] of consolesIssues(cfg)) err(k, m);
}

/** Checks on the network section alone: pools, management addresses, overlaps.
 * Returns false when the blocks are too small for any slot to be planned. */
function checkNetwork(cfg: StackConfig, err: Err): boolean {
  const net = cfg.network;
  const mgmt = parseCidr(net.management.cidr);
  const tunnel = parseCidr(net.tunnelSupernet);
  const priv = parseCidr(net.tenantPrivate);
  let plannable = true;
  const fatal: Err = (k, m) => {
    plannable = false;
    err(k, m);
  };
  if (tunnel.prefix > 22) fatal("network.tunnelSupernet", `got "${net.tunnelSupernet}"; must be /22 or larger so each of the 4 VPN instances gets at least a /24`);
  // fixed mode: network.tenantPrivate is not used (checkFixedLan checks tenantNetwork.lan).
  const distinct = cfg.tenantNetwork.mode === "distinct";
  if (distinct && priv.prefix > 23) fatal("network.tenantPrivate", `got "${net.tenantPrivate}"; must be /23 or larger (each tenant takes a /24 and slot 0 is never used)`);
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
  // A pool too large to list stops the plan here: every later step enumerates the pools' addresses.
  if (!checkPublicPools(cfg, err)) plannable = false;
  const pools = net.publicPools.map((p) => parseCidr(p.cidr));
  net.publicPools.forEach((p, i) => {
    const c = pools[i];
    const k = `network.publicPools.${i}`;
    const gw = ipToInt(p.gateway);
    if (!contains(c, gw) || (c.prefix < 31 && (gw === c.base || gw === c.base + size(c) - 1))) err(`${k}.gateway`, `got "${p.gateway}"; the gateway must be a host address inside ${p.cidr}, e.g. ${intToIp(c.base + 1)}`);
    p.reserved.forEach((r, j) => {
      if (!contains(c, ipToInt(r))) err(`${k}.reserved.${j}`, `got "${r}"; not inside ${p.cidr}; remove it or move it to the right pool`);
    });
    for (let j = 0; j < i; j++) if (overlaps(c, pools[j])) err(`${k}.cidr`, `got "${p.cidr}"; overlaps network.publicPools.${j} ${net.publicPools[j].cidr}; every pool must be distinct`);
    const planned = [["network.management.cidr", mgmt], ["network.tunnelSupernet", tunnel], ...(distinct ? [["network.tenantPrivate", priv] as const] : [])] as const;
    for (const [name, other] of planned) {
      if (overlaps(c, other)) err(`${k}.cidr`, `got "${p.cidr}"; overlaps ${name} ${formatCidr(other)}; public pools must be outside the private plan`);
    }
  });
  const seenInfra = new Map<string, string>();
  for (const [name, ip] of Object.entries(net.infraPublicIps)) {
    if (!ip) continue;
    const k = `network.infraPublicIps.${name}`;
    const special = notPublicReason(ip);
    const why = alloc.unusableReason(cfg, ip);
    if (special) err(k, `got "${ip}"; ${special}; pick a usable address of network.publicPools`);
    else if (why) err(k, `got "${ip}"; ${why}; pick a usable address of network.publicPools`);
    else if (seenInfra.has(ip)) err(k, `got "${ip}"; already used by ${seenInfra.get(ip)}; every infrastructure VM needs its own address`);
    seenInfra.set(ip, k);
  }
  if (!plannable) return false;
  const usable = alloc.publicAddressing(cfg).usable.length;
  if (usable < 4) fatal("network.publicPools", `the pools (${net.publicPools.map((p) => p.cidr).join(", ")}) hold ${usable} usable address${usable === 1 ? "" : "es"}; the host, 2 VPN servers and common services alone need 4; use a larger pool or add one`);
  return plannable;
}
