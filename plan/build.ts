/** Config → validated config → plan. Every cross-field rule lives here; all problems are reported at once. */
import { ConfigError, ConfigIssue, fromZod } from "../config/errors";
import { templateImageIssue } from "../config/image";
import { contains, formatCidr, intToIp, ipToInt, overlaps, parseCidr, size } from "../config/net";
import { StackConfig, stackSchema } from "../config/schema";
import * as A from "./alloc";
import { Plan, ServerPlan, TenantPlan } from "./types";

interface TenantSeed {
  readonly key: string;
  readonly slot: number;
  readonly from: string;
  readonly numbered: boolean;
  readonly spec: StackConfig["tenants"][string];
}

type Err = (key: string, message: string) => void;

/** Parse, validate and plan. Throws ConfigError listing every problem; returns only a fully valid plan. */
export function buildPlan(raw: unknown, stack: string): Plan {
  const parsed = stackSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => fromZod(raw, i, stackSchema)), stack);
  const cfg = parsed.data;
  const issues: ConfigIssue[] = [];
  const err: Err = (key, message) => issues.push({ key, message });

  const plannable = checkNetwork(cfg, err);
  checkInfra(cfg, err);
  const seeds = expandTenants(cfg, err);
  // Only a network too small to address anything stops here; every other problem is collected with the slot checks.
  if (!plannable) throw new ConfigError(issues, stack);

  const pub = A.publicAddressing(cfg);
  const publicIps = assignPublicIps(cfg, seeds, pub, err);
  const slotErr = slotReporter(err);
  const tenants = seeds.map((t) => planTenant(cfg, t, publicIps.get(t.key) ?? "0.0.0.0", slotErr, err));
  slotErr.flush();
  if (issues.length) throw new ConfigError(issues, stack);

  const mgmt = parseCidr(cfg.network.management.cidr);
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

/** One tenant's plan; slot rules that fail are reported through `slotErr` (the plan is then discarded). */
function planTenant(cfg: StackConfig, t: TenantSeed, publicIp: string, slotErr: SlotReporter, err: Err): TenantPlan {
  const net = cfg.network;
  const bad = (rule: string, message: string, fix?: string) => slotErr.report(t, rule, message, fix);
  const priv = A.privateNet(cfg, t.slot);
  const tunnel = parseCidr(net.tunnelSupernet);
  const mgmt = parseCidr(net.management.cidr);
  if (t.slot >= A.privateSlots(cfg)) {
    bad("private", `network.tenantPrivate ${net.tenantPrivate} holds /24s for slots 1–${A.privateSlots(cfg) - 1} only`, "use a larger network.tenantPrivate");
  } else {
    if (overlaps(priv, tunnel)) bad("tunnel-overlap", `its private subnet ${formatCidr(priv)} overlaps network.tunnelSupernet ${net.tunnelSupernet}`, "move network.tunnelSupernet");
    if (overlaps(priv, mgmt)) bad("mgmt-overlap", `its private subnet ${formatCidr(priv)} overlaps network.management.cidr ${net.management.cidr}`, "move network.management.cidr out of network.tenantPrivate");
  }
  if (t.slot > A.maxTunnelSlot(cfg)) {
    bad("tunnel-pool", `each VPN instance pool (a quarter of network.tunnelSupernet ${net.tunnelSupernet}) holds slots 1–${A.maxTunnelSlot(cfg)} only`, "use a larger network.tunnelSupernet");
  }
  const vlan = A.vlan(cfg, t.slot);
  if (vlan > 4094) bad("vlan", `VLAN id network.vlanBase + slot = ${vlan} is above 4094 (slots up to ${4094 - net.vlanBase} fit)`, `lower network.vlanBase (now ${net.vlanBase})`);
  const table = A.tableId(cfg, t.slot);
  if (A.RESERVED_TABLES.has(table)) {
    bad("table", `routing table id network.tableBase + slot = ${table} is reserved by the kernel (253 default, 254 main, 255 local)`, `set network.tableBase (now ${net.tableBase}) to 1000 or more`);
  }
  const vmid = A.vmid(cfg, t.slot);
  const clash = infraVmids(cfg).find(([, v]) => v === vmid);
  if (clash) bad("vmid", `VMID network.vmidBase + slot = ${vmid} is taken by ${clash[0]}`, `change network.vmidBase (now ${net.vmidBase}) or ${clash[0]}`);
  if (vmid > 999_999_999) bad("vmid-max", `VMID ${vmid} is above Proxmox's 999999999`, "lower network.vmidBase");
  const display = A.vncDisplay(cfg, t.slot);
  const port = 5900 + display;
  const reserved = A.RESERVED_PORTS.find(([lo, hi]) => port >= lo && port <= hi);
  if (port > 65535) {
    bad("vnc-max", `VNC port 5900 + network.vncDisplayBase + slot = ${port} is above 65535`, `lower network.vncDisplayBase (now ${net.vncDisplayBase})`);
  } else if (reserved) {
    bad(`vnc-${reserved[0]}`, `VNC display ${display} (port ${port}) collides with ${reserved[2]}`, `change network.vncDisplayBase (now ${net.vncDisplayBase})`);
  }
  const memory = { minMb: t.spec.memory?.minMb ?? cfg.tenantDefaults.memory.minMb, maxMb: t.spec.memory?.maxMb ?? cfg.tenantDefaults.memory.maxMb };
  // With no override the defaults are checked once in checkInfra, not once per tenant.
  if (t.spec.memory && memory.minMb > memory.maxMb) {
    const src = (f: "minMb" | "maxMb") => (t.spec.memory?.[f] === undefined ? ` (from tenantDefaults.memory.${f})` : "");
    err(`${t.from}.memory`, `balloon minimum ${memory.minMb} MiB${src("minMb")} is above maximum ${memory.maxMb} MiB${src("maxMb")}; set minMb ≤ maxMb`);
  }
  const pool = A.poolOf(cfg, publicIp);
  const lan = priv.base;
  return {
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
  };
}

/** VMIDs of the VMs that are not tenants, with the config key that sets each. */
function infraVmids(cfg: StackConfig): [string, number][] {
  return [
    ["template.vmid", cfg.template.vmid],
    ["template.serverVmid", cfg.template.serverVmid],
    ["vpn.vmids.0", cfg.vpn.vmids[0]],
    ["vpn.vmids.1", cfg.vpn.vmids[1]],
    ["services.vmid", cfg.services.vmid],
  ];
}

interface SlotReporter {
  report(t: TenantSeed, rule: string, message: string, fix?: string): void;
  flush(): void;
}

/** Slot problems: one line per named tenant; numbered tenants that break the same rule share one line
 * (a vlanBase that is too high would otherwise print hundreds). */
function slotReporter(err: Err): SlotReporter {
  const groups = new Map<string, { first: TenantSeed; last: TenantSeed; count: number; message: string; fix?: string }>();
  return {
    report(t, rule, message, fix) {
      const also = fix ? `${fix}, or ` : "";
      if (!t.numbered) return err(`${t.from}.slot`, `got ${t.slot}; ${message}; ${also}choose another slot for tenant "${t.key}"`);
      const g = groups.get(rule);
      if (g) {
        g.last = t;
        g.count++;
      } else groups.set(rule, { first: t, last: t, count: 1, message, fix });
    },
    flush() {
      for (const g of groups.values()) {
        const who = g.count === 1 ? `tenant "${g.first.key}" (slot ${g.first.slot})` : `tenants "${g.first.key}" (slot ${g.first.slot}) to "${g.last.key}" (slot ${g.last.slot}), ${g.count} in all; at slot ${g.first.slot}`;
        err("numberedTenants", `${who}: ${g.message}; ${g.fix ? `${g.fix}, or ` : ""}leave those slots out (numberedTenants.exclude or a lower numberedTenants.count)`);
      }
    },
  };
}

/** Public address per tenant key: slot s takes the s-th free pool address unless `publicIp` is set. */
function assignPublicIps(cfg: StackConfig, seeds: readonly TenantSeed[], pub: A.PublicAddressing, err: Err): Map<string, string> {
  const owner = new Map<string, string>([
    [pub.infra.host, "the Proxmox host (network.infraPublicIps.host)"],
    [pub.infra.vpn1, "VPN server vpn1 (network.infraPublicIps.vpn1)"],
    [pub.infra.vpn2, "VPN server vpn2 (network.infraPublicIps.vpn2)"],
    [pub.infra.services, "the common services VM (network.infraPublicIps.services)"],
  ]);
  const ips = new Map<string, string>();
  const homeless: TenantSeed[] = [];
  for (const t of seeds) {
    if (t.spec.publicIp) continue;
    const ip = pub.tenantAddresses[t.slot - 1];
    if (!ip) homeless.push(t);
    else {
      ips.set(t.key, ip);
      owner.set(ip, `tenant "${t.key}"`);
    }
  }
  // Overrides are checked after every default and in slot order, so the override is blamed whatever the map order.
  for (const t of seeds.filter((s) => s.spec.publicIp).sort((a, b) => a.slot - b.slot)) {
    const ip = t.spec.publicIp as string;
    const key = `${t.from}.publicIp`;
    const why = A.unusableReason(cfg, ip);
    if (why) err(key, `got "${ip}"; ${why}; pick a free address of network.publicPools`);
    else if (owner.has(ip)) err(key, `got "${ip}"; already used by ${owner.get(ip)}; give tenant "${t.key}" another address`);
    owner.set(ip, `tenant "${t.key}"`);
    ips.set(t.key, ip);
  }
  if (homeless.length) {
    const n = pub.tenantAddresses.length;
    const list = homeless.slice(0, 5).map((t) => `"${t.key}" (slot ${t.slot})`).join(", ") + (homeless.length > 5 ? ` and ${homeless.length - 5} more` : "");
    const one = homeless.length === 1;
    err(
      "network.publicPools",
      `${pub.usable.length} usable addresses in ${cfg.network.publicPools.map((p) => p.cidr).join(", ")} leave ${n} for tenants after the host, the 2 VPN servers and the common services, so ${n > 1 ? `only slots 1–${n} get one` : n === 1 ? "only slot 1 gets one" : "no slot gets one"}; tenant${one ? "" : "s"} ${list} ${one ? "has" : "have"} none; add a pool to network.publicPools or set publicIp on named tenants`,
    );
  }
  return ips;
}

/** Named tenants plus the numbered range, with slot and key uniqueness checked. */
function expandTenants(cfg: StackConfig, err: Err): TenantSeed[] {
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
  // Slot order, so which of two tenants is blamed for a shared slot does not depend on the map's order.
  const named = Object.entries(cfg.tenants).sort(([a, x], [b, y]) => x.slot - y.slot || (a < b ? -1 : 1));
  for (const [key, spec] of named) {
    const from = `tenants.${key}`;
    if (numberedKeys.has(key)) {
      err(from, `key "${key}" is also a numbered tenant (numberedTenants.prefix "${n?.prefix}"); rename the tenant or change the prefix`);
      continue;
    }
    const prior = bySlot.get(spec.slot);
    if (prior) {
      const hint = prior.numbered ? `; add ${spec.slot} to numberedTenants.exclude to hand the slot over, or pick a free slot` : "; every tenant needs its own slot, pick a free one";
      err(`${from}.slot`, `got ${spec.slot}; slot already used by tenant "${prior.key}"${hint}`);
      continue;
    }
    const seed = { key, slot: spec.slot, from, numbered: false, spec };
    seeds.push(seed);
    bySlot.set(spec.slot, seed);
  }
  return seeds;
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
  if (priv.prefix > 23) fatal("network.tenantPrivate", `got "${net.tenantPrivate}"; must be /23 or larger (each tenant takes a /24 and slot 0 is never used)`);
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
    if (!contains(c, gw) || (c.prefix < 31 && (gw === c.base || gw === c.base + size(c) - 1))) err(`${k}.gateway`, `got "${p.gateway}"; the gateway must be a host address inside ${p.cidr}, e.g. ${intToIp(c.base + 1)}`);
    p.reserved.forEach((r, j) => {
      if (!contains(c, ipToInt(r))) err(`${k}.reserved.${j}`, `got "${r}"; not inside ${p.cidr}; remove it or move it to the right pool`);
    });
    for (let j = 0; j < i; j++) if (overlaps(c, pools[j])) err(`${k}.cidr`, `got "${p.cidr}"; overlaps network.publicPools.${j} ${net.publicPools[j].cidr}; every pool must be distinct`);
    for (const [name, other] of [["network.management.cidr", mgmt], ["network.tunnelSupernet", tunnel], ["network.tenantPrivate", priv]] as const) {
      if (overlaps(c, other)) err(`${k}.cidr`, `got "${p.cidr}"; overlaps ${name} ${formatCidr(other)}; public pools must be outside the private plan`);
    }
  });
  const seenInfra = new Map<string, string>();
  for (const [name, ip] of Object.entries(net.infraPublicIps)) {
    if (!ip) continue;
    const k = `network.infraPublicIps.${name}`;
    const why = A.unusableReason(cfg, ip);
    if (why) err(k, `got "${ip}"; ${why}; pick a usable address of network.publicPools`);
    else if (seenInfra.has(ip)) err(k, `got "${ip}"; already used by ${seenInfra.get(ip)}; every infrastructure VM needs its own address`);
    seenInfra.set(ip, k);
  }
  const usable = A.publicAddressing(cfg).usable.length;
  if (usable < 4) fatal("network.publicPools", `the pools (${net.publicPools.map((p) => p.cidr).join(", ")}) hold ${usable} usable address${usable === 1 ? "" : "es"}; the host, 2 VPN servers and common services alone need 4; use a larger pool or add one`);
  return plannable;
}
