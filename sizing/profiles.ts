/**
 * The seed's three hardware profiles (CASE STUDY and FINANCIALS) as data (the `hardware:` override schema is in
 * config/sizing-schema.ts). Figures the seed does not give are marked in `assumed` and say so in reports.
 * Pure: no `@pulumi/*` import.
 */
import type { HardwareOverrides } from "../config/sizing-schema";

export type ProfileName = "minimal" | "optimal" | "full";
export type Raid = "none" | "raid0" | "raid1" | "raid10" | "raid5" | "raid6";

/** Hardware and money of one host; every field can be overridden by the stack's `hardware:` block. */
export interface Hardware {
  /** Tenants the profile is built for. */
  readonly maxTenants: number;
  /** Installed RAM, GiB (DIMMs are binary: "256 GB" of RAM is 256 GiB). */
  readonly ramGb: number;
  readonly cpuCores: number;
  /** Hardware threads per core (2 with SMT/Hyper-Threading). */
  readonly threadsPerCore: number;
  /** Base (system) disk, GB decimal: Proxmox itself and the infrastructure VMs. */
  readonly baseDiskGb: number;
  /** User-space array holding the template and the tenant VM disks: count × size, TB decimal. */
  readonly userDiskCount: number;
  readonly userDiskTb: number;
  readonly raid: Raid;
  readonly uplinkMbps: number;
  /** Extra links (the full profile's 2 × 10 Gbps SFP interconnect); reported, not checked. */
  readonly interconnect: string;
  /** Public /24 pools the seed orders (the stack's network.publicPools are what is counted). */
  readonly ipPools: number;
  readonly psuCount: number;
  readonly psuWatts: number;
  readonly vpnVms: number;
  readonly capexEur: number;
  readonly recurringEurPerMonth: number;
  readonly priceEurPerTenantMonth: number;
}

/** What the seed itself claims, so the report can recompute it. */
export interface SeedClaims {
  /** RAM the seed states, GiB, and the words it uses. */
  readonly ramGb: number;
  readonly ramText: string;
  /** Balloon range the seed gives: (512M-2G). */
  readonly balloonMinMb: number;
  readonly balloonMaxMb: number;
  /** "IP Pool: 2 C class ( 512 ip's )". */
  readonly ipCount: number;
  /** Usable user space the seed states, TB. */
  readonly usableTb: number;
  readonly userSpaceText: string;
  /** Money claims (optimal only). */
  readonly revenueEurPerMonth?: number;
  readonly grossMarginEurPerMonth?: number;
  readonly roiText?: string;
  /** Upper bound of the seed's payback claim, months ("< 2 months" → 2). */
  readonly roiMonthsBelow?: number;
}

export interface Profile {
  readonly name: ProfileName;
  readonly hardware: Hardware;
  readonly seed: SeedClaims;
  /** Hardware fields not given by the seed: our assumption, with why. */
  readonly assumed: Readonly<Partial<Record<keyof Hardware, string>>>;
}

const common = {
  threadsPerCore: 2,
  baseDiskGb: 400,
  ipPools: 2,
  psuWatts: 1700,
  vpnVms: 2,
  priceEurPerTenantMonth: 20,
} as const;

const seedCommon = { balloonMinMb: 512, balloonMaxMb: 2048, ipCount: 512 } as const;
const SMT = "the seed gives cores only; 2 threads per core assumes SMT is enabled";
const PRICE = "the seed prices only the optimal profile; the same 20 EUR/tenant/month product is assumed";

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  minimal: {
    name: "minimal",
    hardware: {
      ...common,
      maxTenants: 50,
      ramGb: 128,
      cpuCores: 12,
      userDiskCount: 4,
      userDiskTb: 4,
      raid: "raid1",
      uplinkMbps: 100,
      interconnect: "none",
      psuCount: 2,
      capexEur: 9000,
      recurringEurPerMonth: 700,
    },
    seed: { ...seedCommon, ramGb: 128, ramText: "RAM ballom : (512M-2G) 128GBRAM", usableTb: 8, userSpaceText: "4x4TB = 16/8TB RAID-1" },
    assumed: {
      threadsPerCore: SMT,
      priceEurPerTenantMonth: PRICE,
      capexEur: "not in the seed: half the optimal 18,000 EUR (half the RAM, half the disk)",
      recurringEurPerMonth: "not in the seed: a quarter of the optimal 2,800 EUR/month (100 Mbps instead of 1 Gbps)",
    },
  },
  optimal: {
    name: "optimal",
    hardware: {
      ...common,
      maxTenants: 500,
      ramGb: 256,
      cpuCores: 12,
      userDiskCount: 4,
      userDiskTb: 8,
      raid: "raid1",
      uplinkMbps: 1000,
      interconnect: "none",
      psuCount: 2,
      capexEur: 18000,
      recurringEurPerMonth: 2800,
    },
    seed: {
      ...seedCommon,
      ramGb: 256,
      ramText: "RAM ballom : (512M-2G) 256GBRAM",
      usableTb: 16,
      userSpaceText: "4x8TB = 32/16TB RAID-1",
      revenueEurPerMonth: 10000,
      grossMarginEurPerMonth: 7200,
      roiText: "ROI: <2 meses",
      roiMonthsBelow: 2,
    },
    assumed: { threadsPerCore: SMT },
  },
  full: {
    name: "full",
    hardware: {
      ...common,
      maxTenants: 500,
      ramGb: 496,
      cpuCores: 24,
      userDiskCount: 500,
      userDiskTb: 0.5,
      raid: "none",
      uplinkMbps: 1000,
      interconnect: "2 × 10 Gbps SFP",
      psuCount: 3,
      capexEur: 40000,
      recurringEurPerMonth: 3500,
    },
    seed: { ...seedCommon, ramGb: 496, ramText: "RAM ballom : (512M-2G) * 500 at 50%load =~ 496GBRAM", usableTb: 250, userSpaceText: "500 x 500GB = 250TB" },
    assumed: {
      threadsPerCore: SMT,
      priceEurPerTenantMonth: PRICE,
      raid: "the seed gives no RAID level for 500 × 500 GB = 250 TB; read literally: 500 drives, no redundancy",
      capexEur: "not in the seed: optimal's 18,000 EUR plus the extra RAM, cores, 500 drives and their enclosures",
      recurringEurPerMonth: "not in the seed: optimal's 2,800 EUR/month plus power and rack space for the drives",
    },
  },
};

/** Usable TB of `count` disks of `tb` each under `raid` (RAID-1 with 4 disks = mirrored pairs, as the seed counts it). */
export function usableTb(count: number, tb: number, raid: Raid): number {
  switch (raid) {
    case "none":
    case "raid0":
      return count * tb;
    case "raid1":
    case "raid10":
      return Math.floor(count / 2) * tb;
    case "raid5":
      return Math.max(0, count - 1) * tb;
    case "raid6":
      return Math.max(0, count - 2) * tb;
  }
}

/** The profile's hardware with the stack's overrides applied, and which fields came from where. */
export function resolveHardware(profile: ProfileName, overrides: HardwareOverrides | undefined): { hardware: Hardware; overridden: (keyof Hardware)[] } {
  const base = PROFILES[profile].hardware;
  const set = Object.entries(overrides ?? {}).filter(([, v]) => v !== undefined) as [keyof Hardware, unknown][];
  return { hardware: { ...base, ...Object.fromEntries(set) } as Hardware, overridden: set.map(([k]) => k) };
}
