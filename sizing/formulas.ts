/**
 * The formulas the capacity check and the seed findings share, so a stack's report and the seed's recomputed
 * figures can never disagree on how RAM overhead, vCPUs or power add up. Pure.
 */
import type { Assumptions } from "./assumptions";
import { MIB_PER_GIB } from "./format";
import type { Hardware } from "./profiles";

/** The VMs besides the tenants': the VPN servers and the common-services VM, with their sizes. */
export interface InfraVms {
  readonly vpnVms: number;
  readonly vpnMemoryMb: number;
  readonly vpnCores: number;
  readonly servicesMemoryMb: number;
  readonly servicesCores: number;
}

/** Every VM on the host: the tenants', the VPN servers and the services VM. */
export function vmCount(tenants: number, infra: InfraVms): number {
  return tenants + infra.vpnVms + 1;
}

/** RAM beyond the tenants' own, MiB: the host's reserve, the infrastructure VMs and QEMU's per-VM overhead. */
export function ramOverheadMb(a: Assumptions, tenants: number, infra: InfraVms): { totalMb: number; vpnMb: number; qemuMb: number } {
  const vpnMb = infra.vpnVms * infra.vpnMemoryMb;
  const qemuMb = vmCount(tenants, infra) * a.qemuOverheadMb;
  return { totalMb: a.hostReserveGb * MIB_PER_GIB + vpnMb + infra.servicesMemoryMb + qemuMb, vpnMb, qemuMb };
}

/** vCPUs of the tenants (their cores summed) plus the infrastructure VMs. */
export function vcpuCount(tenantCores: number, infra: InfraVms): number {
  return tenantCores + infra.vpnVms * infra.vpnCores + infra.servicesCores;
}

/** vCPUs against hardware threads × the overcommit limit, and the cores that would hold them. */
export function cpuFit(vcpus: number, hw: Hardware, a: Assumptions): { threads: number; available: number; perThread: number; coresNeeded: number } {
  const threads = hw.cpuCores * hw.threadsPerCore;
  return { threads, available: threads * a.vcpuPerThreadMax, perThread: vcpus / threads, coresNeeded: Math.ceil(vcpus / (a.vcpuPerThreadMax * hw.threadsPerCore)) };
}

/** Power draw, W: the host idle, each tenant, each user disk. */
export function powerWatts(a: Assumptions, tenants: number, disks: number): number {
  return a.hostIdleW + tenants * a.wattsPerTenant + disks * a.wattsPerDisk;
}

/** Power supplies, W: all of them, and what is left with one failed. */
export function psuWatts(hw: Hardware): { total: number; redundant: number } {
  return { total: hw.psuCount * hw.psuWatts, redundant: (hw.psuCount - 1) * hw.psuWatts };
}
