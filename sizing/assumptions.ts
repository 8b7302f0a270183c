/**
 * Every figure the capacity check assumes, with its default, unit and why, overridable from the stack's
 * `assumptions:` block (config/sizing-schema.ts lists the keys it accepts). VPN server and services memory are not assumptions: they come from the
 * plan (`vpn.memoryMb`, `services.memoryMb`) and are listed beside these in reports, like how long the ban grid's
 * decision store keeps its alerts (`plan.bans.profile.keepFor`). Pure.
 */
import type { AssumptionOverrides } from "../config/sizing-schema";

export interface Assumptions {
  readonly loadFactor: number;
  readonly hostReserveGb: number;
  readonly qemuOverheadMb: number;
  readonly vcpuPerThreadMax: number;
  readonly cloneMode: "linked" | "full";
  readonly linkedCloneGrowth: number;
  readonly hostSystemGb: number;
  readonly infraVmDiskGb: number;
  readonly concurrency: number;
  readonly minMbpsPerActiveTenant: number;
  readonly hostIdleW: number;
  readonly wattsPerTenant: number;
  readonly wattsPerDisk: number;
  readonly cloudStorageEurPerTbMonth: number;
  readonly amortisationMonths: number;
  readonly paybackWarnMonths: number;
  readonly installerMinMb: number;
  readonly warnAt: number;
  readonly servicesBaseMb: number;
  readonly vpnBaseMb: number;
  readonly infraSystemGb: number;
  readonly lapiMb: number;
  readonly agentMb: number;
  readonly bouncerMb: number;
  readonly reportGatewayMb: number;
  readonly banSetBytesPerBan: number;
  readonly bansPeak: number;
  readonly lapiKibPerBan: number;
  readonly bansPerDay: number;
}

export interface AssumptionDoc {
  readonly unit: string;
  readonly rationale: string;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  loadFactor: 0.5,
  hostReserveGb: 8,
  qemuOverheadMb: 64,
  vcpuPerThreadMax: 12,
  cloneMode: "linked",
  linkedCloneGrowth: 0.5,
  hostSystemGb: 64,
  infraVmDiskGb: 16,
  concurrency: 0.5,
  minMbpsPerActiveTenant: 2,
  hostIdleW: 250,
  wattsPerTenant: 1,
  wattsPerDisk: 7,
  cloudStorageEurPerTbMonth: 8.5,
  amortisationMonths: 36,
  paybackWarnMonths: 24,
  installerMinMb: 2048,
  warnAt: 0.9,
  servicesBaseMb: 384,
  vpnBaseMb: 256,
  infraSystemGb: 4,
  lapiMb: 55,
  agentMb: 180,
  bouncerMb: 18,
  reportGatewayMb: 21,
  banSetBytesPerBan: 134,
  bansPeak: 100_000,
  lapiKibPerBan: 3,
  bansPerDay: 10_000,
};

export const ASSUMPTION_DOCS: Readonly<Record<keyof Assumptions, AssumptionDoc>> = {
  loadFactor: { unit: "share", rationale: "seed: \"at 50%load\"; expected tenant RAM = floor + loadFactor × (ceiling − floor)" },
  hostReserveGb: { unit: "GiB", rationale: "Proxmox VE needs ≥ 2 GB for itself; the rest covers pvestatd/pveproxy with 500 VMs and page cache (add ZFS ARC if used)" },
  qemuOverheadMb: { unit: "MiB/VM", rationale: "a running QEMU process holds VGA RAM (16 MiB), device buffers and heap beyond guest RAM; not ballooned" },
  vcpuPerThreadMax: { unit: "vCPU/thread", rationale: "router VMs idle between bursts; beyond ~12 vCPUs per hardware thread steal time shows as VPN latency (planning figure, not measured)" },
  cloneMode: { unit: "linked|full", rationale: "tenants are linked clones (clone.full: false) of the template, thin copy-on-write" },
  linkedCloneGrowth: { unit: "share", rationale: "a linked clone starts empty and grows with each write (updates, logs, mail); half its size is the planning figure" },
  hostSystemGb: { unit: "GB", rationale: "Proxmox root, ISO images, logs and snippets on the base disk" },
  infraVmDiskGb: { unit: "GiB/VM", rationale: "disk of each VPN server and of the common-services VM, on the base disk" },
  concurrency: { unit: "share", rationale: "share of tenants moving traffic at the same time (same 50 % as the seed's load factor)" },
  minMbpsPerActiveTenant: { unit: "Mbps", rationale: "sustained rate an active tenant should get through its VPN: web, mail and a call with margin" },
  hostIdleW: { unit: "W", rationale: "a 1–2 socket server with fans, boot disks and NICs idles at 150–250 W" },
  wattsPerTenant: { unit: "W/tenant", rationale: "CPU power above idle spread over the tenants at the load factor" },
  wattsPerDisk: { unit: "W/disk", rationale: "a 3.5\" 7200 rpm SATA drive draws 6–8 W active" },
  cloudStorageEurPerTbMonth: { unit: "EUR/TB/month", rationale: "seed NOTA: Azure storage 8.5 EUR/month/TB before operations and transfer" },
  amortisationMonths: { unit: "months", rationale: "hardware written off over 3 years when costing storage per TB" },
  paybackWarnMonths: { unit: "months", rationale: "a payback beyond 2 years outlives the hardware's warranty: warn" },
  installerMinMb: { unit: "MiB", rationale: "the LibreRouter installer refuses to run with less than 2 GB RAM" },
  warnAt: { unit: "share", rationale: "a resource fuller than 90 % leaves no room for the next tenant or a failed disk: warn" },
  // The ban grid (issue 11). RSS figures: Debian crowdsec 1.4.6 and crowdsec-firewall-bouncer 0.0.25 in `npm run bench:bans`.
  servicesBaseMb: { unit: "MiB", rationale: "the services VM without the ban grid: Debian 12 (~160 MiB), BIND's resolver cache (~192 MiB; BIND's own max-cache-size default is 90 % of RAM) and dnsmasq (planning figure, not measured)" },
  vpnBaseMb: { unit: "MiB/VM", rationale: "a VPN server without the ban grid: Debian 12 (~160 MiB) and the UDP and TCP OpenVPN servers with their clients (planning figure, not measured)" },
  infraSystemGb: { unit: "GiB/VM", rationale: "Debian 12, its packages (CrowdSec, BIND) and journald's logs on an infrastructure VM's disk, before the ban database (planning figure)" },
  lapiMb: { unit: "MiB", rationale: "CrowdSec's local API (sqlite) on the services VM: ≈ 55 MiB resident after bench:bans's 1,000-attacker burst (growth per stored ban not measured)" },
  agentMb: { unit: "MiB/agent", rationale: "a CrowdSec agent idles at ≈ 78 MiB and rose to ≈ 180 MiB during bench:bans's 1,000-attacker burst: the burst is what must fit; one on each VPN server, the host and the services VM" },
  bouncerMb: { unit: "MiB/bouncer", rationale: "crowdsec-firewall-bouncer (nftables, set-only) ≈ 18 MiB resident in bench:bans; one on each VPN server and the host" },
  reportGatewayMb: { unit: "MiB", rationale: "the tenants' report gateway (python) ≈ 21 MiB resident in bench:bans; on the services VM when bans.report.enabled" },
  banSetBytesPerBan: { unit: "B/ban", rationale: "kernel memory of one element of an nft timeout set, ≈ 134 B measured; every enforcement point (VPN servers, host) holds the whole ban set" },
  bansPeak: { unit: "bans", rationale: "active bans to size the enforcement points for: 100 × bench:bans's 1,000-attacker minute, a botnet sweep across the service (planning figure)" },
  lapiKibPerBan: { unit: "KiB/ban", rationale: "the LAPI's sqlite grows ≈ 3 KB per detected ban (alert, decision, events; measured), rounded up to 3 KiB; sqlite does not shrink the file after a flush" },
  bansPerDay: { unit: "bans/day", rationale: "detected bans a day, all members and tenants' reports together: an exposed SSH or OpenVPN port meets hundreds to a few thousand scanners a day (planning figure, not measured)" },
};

/** Defaults with the stack's overrides applied, and which keys the stack set. */
export function resolveAssumptions(overrides: AssumptionOverrides | undefined): { assumptions: Assumptions; overridden: (keyof Assumptions)[] } {
  const set = Object.entries(overrides ?? {}).filter(([, v]) => v !== undefined) as [keyof Assumptions, unknown][];
  return { assumptions: { ...DEFAULT_ASSUMPTIONS, ...Object.fromEntries(set) } as Assumptions, overridden: set.map(([k]) => k) };
}

/**
 * What a hyper-converged Ceph (ha.datastore) costs on each node. Shown only for stacks with ha.datastore, and not
 * yet overridable from `assumptions:` (config/sizing-schema.ts would need the keys). Sources: Ceph's "Hardware
 * Recommendations" (docs.ceph.com/en/latest/start/hardware-recommendations/) and Proxmox VE's "Deploy
 * Hyper-Converged Ceph Cluster" (pve.proxmox.com/pve-docs/chapter-pveceph.html).
 */
export interface CephAssumptions {
  readonly osdMemoryGb: number;
  readonly monMemoryGb: number;
  readonly mgrMemoryGb: number;
  readonly osdThreads: number;
  readonly monThreads: number;
  readonly mgrThreads: number;
  readonly monDiskGb: number;
  readonly monCount: number;
  readonly fullRatio: number;
  readonly nearfullRatio: number;
  readonly networkGbps: number;
  readonly tenantWriteMbps: number;
  readonly infraWriteMbps: number;
}

export const CEPH_ASSUMPTIONS: CephAssumptions = {
  // Ceph: osd_memory_target defaults to 4 GiB; "we recommend at least 4 GiB per BlueStore OSD". Proxmox: recovery
  // and backfill use the most, so plan for the target, not the idle figure.
  osdMemoryGb: 4,
  // Ceph's table: ceph-mon and ceph-mgr "2-4 GB+ per daemon", more at boot and during recovery: the upper end.
  monMemoryGb: 4,
  mgrMemoryGb: 4,
  // Ceph's table: ceph-osd "1 core minimum, 2 recommended"; Proxmox: "at least one CPU core (or thread) to each Ceph service".
  osdThreads: 2,
  monThreads: 1,
  mgrThreads: 1,
  // Ceph's table: ceph-mon "60 GB per daemon" of disk (its RocksDB store), on the node's system disk.
  monDiskGb: 60,
  // Proxmox: three monitors (a quorum that survives one node), with a manager beside each.
  monCount: 3,
  // Ceph defaults: mon_osd_full_ratio 0.95 (writes stop), mon_osd_nearfull_ratio 0.85 (health warning).
  fullRatio: 0.95,
  nearfullRatio: 0.85,
  // Ceph: "provision at least 10 Gb/s networking ... among Ceph hosts"; Proxmox: ≥ 10 Gbps used only for Ceph.
  networkGbps: 10,
  // Planning figures, not measured: an active router writes logs and updates (~0.5 Mbps); an infrastructure VM
  // its journal, the ban database and the resolver's logs (~2 Mbps).
  tenantWriteMbps: 0.5,
  infraWriteMbps: 2,
};

export const CEPH_ASSUMPTION_DOCS: Readonly<Record<keyof CephAssumptions, AssumptionDoc>> = {
  osdMemoryGb: { unit: "GiB/OSD", rationale: "Ceph's osd_memory_target default (hardware recommendations: at least 4 GiB per BlueStore OSD)" },
  monMemoryGb: { unit: "GiB/MON", rationale: "Ceph hardware recommendations: ceph-mon 2–4 GB+ per daemon, more during recovery: the upper end" },
  mgrMemoryGb: { unit: "GiB/MGR", rationale: "Ceph hardware recommendations: ceph-mgr 2–4 GB+ per daemon: the upper end" },
  osdThreads: { unit: "threads/OSD", rationale: "Ceph hardware recommendations: ceph-osd 1 core minimum, 2 recommended; kept out of the VMs' overcommit" },
  monThreads: { unit: "threads/MON", rationale: "Proxmox VE: at least one core or thread per Ceph service" },
  mgrThreads: { unit: "threads/MGR", rationale: "Proxmox VE: at least one core or thread per Ceph service" },
  monDiskGb: { unit: "GB/MON", rationale: "Ceph hardware recommendations: ceph-mon 60 GB per daemon, on the base disk" },
  monCount: { unit: "MONs", rationale: "Proxmox VE: three monitors (a quorum that survives one node), a manager beside each, on the first nodes" },
  fullRatio: { unit: "share", rationale: "Ceph's mon_osd_full_ratio default: writes stop above it" },
  nearfullRatio: { unit: "share", rationale: "Ceph's mon_osd_nearfull_ratio default: HEALTH_WARN above it" },
  networkGbps: { unit: "Gbps", rationale: "Ceph and Proxmox VE: at least 10 Gb/s between the Ceph hosts, for Ceph alone" },
  tenantWriteMbps: { unit: "Mbps/active tenant", rationale: "writes of an active router (logs, updates) that Ceph replicates (planning figure, not measured)" },
  infraWriteMbps: { unit: "Mbps/VM", rationale: "writes of a VPN server or the services VM (journal, ban database) (planning figure, not measured)" },
};
