/**
 * The stack's `hardware:` and `assumptions:` blocks: every field optional, overriding the profile's figure or the
 * default assumption (sizing/ holds the figures themselves and applies the overrides). Pure.
 */
import { z } from "zod";

const share = (what: string) =>
  z.number().min(0, { message: `${what} is a share between 0 and 1 (e.g. 0.5 for 50 %)` }).max(1, { message: `${what} is a share between 0 and 1 (e.g. 0.5 for 50 %)` });
const positive = (what: string) => z.number().positive({ message: `${what} must be a number above 0` });
const nonNegative = (what: string) => z.number().min(0, { message: `${what} must be 0 or more` });

/** The stack's `assumptions:` block: every field optional, overriding sizing/assumptions.ts DEFAULT_ASSUMPTIONS. */
export const assumptionsSchema = z
  .object({
    loadFactor: share("loadFactor"),
    hostReserveGb: nonNegative("hostReserveGb (GiB)"),
    qemuOverheadMb: nonNegative("qemuOverheadMb (MiB per VM)"),
    vcpuPerThreadMax: positive("vcpuPerThreadMax (vCPUs per hardware thread)"),
    cloneMode: z.enum(["linked", "full"], { message: "must be linked or full" }),
    linkedCloneGrowth: share("linkedCloneGrowth"),
    hostSystemGb: nonNegative("hostSystemGb (GB)"),
    infraVmDiskGb: nonNegative("infraVmDiskGb (GiB per VM)"),
    concurrency: share("concurrency"),
    minMbpsPerActiveTenant: nonNegative("minMbpsPerActiveTenant (Mbps)"),
    hostIdleW: nonNegative("hostIdleW (W)"),
    wattsPerTenant: nonNegative("wattsPerTenant (W)"),
    wattsPerDisk: nonNegative("wattsPerDisk (W)"),
    cloudStorageEurPerTbMonth: nonNegative("cloudStorageEurPerTbMonth (EUR)"),
    amortisationMonths: positive("amortisationMonths"),
    paybackWarnMonths: positive("paybackWarnMonths"),
    installerMinMb: nonNegative("installerMinMb (MiB)"),
    warnAt: share("warnAt"),
    // The ban grid's costs (sizing/ban-grid.ts).
    servicesBaseMb: nonNegative("servicesBaseMb (MiB)"),
    vpnBaseMb: nonNegative("vpnBaseMb (MiB)"),
    infraSystemGb: nonNegative("infraSystemGb (GiB)"),
    lapiMb: nonNegative("lapiMb (MiB)"),
    agentMb: nonNegative("agentMb (MiB)"),
    bouncerMb: nonNegative("bouncerMb (MiB)"),
    reportGatewayMb: nonNegative("reportGatewayMb (MiB)"),
    banSetBytesPerBan: nonNegative("banSetBytesPerBan (bytes per ban)"),
    bansPeak: nonNegative("bansPeak (bans)"),
    lapiKibPerBan: nonNegative("lapiKibPerBan (KiB per ban)"),
    bansPerDay: nonNegative("bansPerDay (bans per day)"),
  })
  .partial()
  .strict();

export type AssumptionOverrides = z.output<typeof assumptionsSchema>;

const num = (what: string, min: number, max: number, int = true) =>
  (int ? z.number().int() : z.number()).min(min, { message: `${what} must be at least ${min}` }).max(max, { message: `${what} must be at most ${max}` });

/** The stack's `hardware:` block: every field optional, overriding the profile's figure. */
export const hardwareSchema = z
  .object({
    maxTenants: num("tenants the hardware is built for", 1, 65535),
    ramGb: num("RAM in GiB", 1, 65536),
    cpuCores: num("CPU cores", 1, 4096),
    threadsPerCore: num("threads per core", 1, 8),
    baseDiskGb: num("base disk in GB", 1, 1_000_000),
    userDiskCount: num("user disks", 1, 10_000),
    userDiskTb: num("size of one user disk in TB", 0.001, 1000, false),
    raid: z.enum(["none", "raid0", "raid1", "raid10", "raid5", "raid6"], { message: "must be one of none, raid0, raid1, raid10, raid5, raid6" }),
    uplinkMbps: num("uplink in Mbps", 1, 10_000_000),
    interconnect: z.string().max(60),
    ipPools: num("public /24 pools", 1, 256),
    psuCount: num("power supplies", 1, 16),
    psuWatts: num("watts per power supply", 1, 100_000),
    vpnVms: num("VPN server VMs", 2, 2),
    capexEur: num("capex in EUR", 0, 1e9, false),
    recurringEurPerMonth: num("recurring cost in EUR/month", 0, 1e9, false),
    priceEurPerTenantMonth: num("price in EUR per tenant and month", 0, 1e6, false),
  })
  .partial()
  .strict();

export type HardwareOverrides = z.output<typeof hardwareSchema>;

