/**
 * Where the seed's own figures do not follow from its own inputs. Recomputed from the profile as the seed
 * states it (not the stack's overrides), with the same assumptions as the capacity check. Pure.
 */
import type { Assumptions } from "./assumptions";
import { GB_PER_GIB, MIB_PER_GIB, num, pct } from "./format";
import { cpuFit, InfraVms, powerWatts, psuWatts, ramOverheadMb, vcpuCount } from "./formulas";
import { Profile, usableTb } from "./profiles";

export interface Finding {
  /** Short topic: ram, payback, ips, installer, disk, cpu, power. */
  readonly topic: string;
  /** What the seed says, quoted. */
  readonly seed: string;
  /** What its inputs give, with the arithmetic. */
  readonly recomputed: string;
}

/** The infrastructure figures the seed leaves to the plan (the VPN VM count is the profile's). */
export type InfraFigures = Omit<InfraVms, "vpnVms">;

/** Seed VM disk: "32GB HD VM's" (commercial), taken as Proxmox's 32 GiB; one vCPU per tenant VM. */
const SEED_DISK_GIB = 32;

/** Every place the profile's seed figures do not follow from its inputs. */
export function seedFindings(p: Profile, a: Assumptions, infra: InfraFigures): Finding[] {
  const out: Finding[] = [];
  const hw = p.hardware;
  const s = p.seed;
  const n = hw.maxTenants;
  const infraVms: InfraVms = { vpnVms: hw.vpnVms, ...infra };

  // RAM: floors must fit; a stated "at 50% load" figure must match the load model.
  const overheadGib = ramOverheadMb(a, n, infraVms).totalMb / MIB_PER_GIB;
  const floorsGib = (n * s.balloonMinMb) / MIB_PER_GIB;
  const expectedGib = (n * (s.balloonMinMb + a.loadFactor * (s.balloonMaxMb - s.balloonMinMb))) / MIB_PER_GIB;
  const naiveGib = (n * s.balloonMaxMb * a.loadFactor) / MIB_PER_GIB;
  if (floorsGib + overheadGib > s.ramGb) {
    out.push({
      topic: "ram",
      seed: s.ramText,
      recomputed: `${n} balloon floors × ${s.balloonMinMb} MiB = ${num(floorsGib, 1)} GiB + host, VPN servers, services and QEMU overhead ${num(overheadGib, 1)} GiB = ${num(floorsGib + overheadGib, 1)} GiB: ${num(s.ramGb)} GiB does not hold even the floors`,
    });
  } else if (/load/i.test(s.ramText) && Math.abs(expectedGib + overheadGib - s.ramGb) > 0.05 * s.ramGb) {
    out.push({
      topic: "ram",
      seed: s.ramText,
      recomputed: `at ${pct(a.loadFactor)} load: ${n} × ${num(s.balloonMaxMb)} MiB × ${a.loadFactor} = ${num(naiveGib, 1)} GiB, or floor + ${pct(a.loadFactor)} of the range ${n} × ${num(s.balloonMinMb + a.loadFactor * (s.balloonMaxMb - s.balloonMinMb))} MiB = ${num(expectedGib, 1)} GiB; neither is ${num(s.ramGb)} GiB, and the overhead adds ${num(overheadGib, 1)} GiB (${num(expectedGib + overheadGib, 1)} GiB expected)`,
    });
  }

  // Payback: capex / (revenue − recurring).
  if (s.roiMonthsBelow !== undefined && s.roiText) {
    const revenue = n * hw.priceEurPerTenantMonth;
    const margin = revenue - hw.recurringEurPerMonth;
    const payback = hw.capexEur / margin;
    if (payback >= s.roiMonthsBelow) {
      out.push({
        topic: "payback",
        seed: s.roiText,
        recomputed: `${num(hw.capexEur)} EUR / (${num(revenue)} − ${num(hw.recurringEurPerMonth)} = ${num(margin)} EUR/month) = ${num(payback, 1)} months, not < ${s.roiMonthsBelow}`,
      });
    }
  }

  // Addresses: a /24 has 256 addresses but 253 usable (network, broadcast, gateway).
  const usableIps = hw.ipPools * 253;
  const ipNeeded = n + 2 + hw.vpnVms;
  out.push({
    topic: "ips",
    seed: `IP Pool: 2 C class ( ${s.ipCount} ip's )`,
    recomputed: `${hw.ipPools} × /24 = ${hw.ipPools * 256} addresses but ${usableIps} usable (network, broadcast and gateway of each); ${n} tenants + host + ${hw.vpnVms} VPN servers + services = ${ipNeeded}: ${usableIps - ipNeeded} spare`,
  });

  // Installer minimum vs balloon floor.
  if (s.balloonMinMb < a.installerMinMb) {
    out.push({
      topic: "installer",
      seed: `RAM ballom : (${s.balloonMinMb}M-${s.balloonMaxMb / MIB_PER_GIB}G)`,
      recomputed: `a ${s.balloonMinMb} MiB balloon floor is below the ${num(a.installerMinMb)} MiB the LibreRouter installer requires: install on the template at full memory; a running tenant may be squeezed below what its installer accepted`,
    });
  }

  // Disk: the seed's 32 GB VM disks, fully written, against its usable space.
  const usable = usableTb(hw.userDiskCount, hw.userDiskTb, hw.raid);
  const fullTb = (n * SEED_DISK_GIB * GB_PER_GIB) / 1000;
  if (fullTb > usable) {
    out.push({
      topic: "disk",
      seed: s.userSpaceText,
      recomputed: `${n} × ${SEED_DISK_GIB} GiB VM disks = ${num(fullTb, 2)} TB when written full, above the ${num(usable, 2)} TB usable; the array holds ${Math.floor((usable * 1000) / (SEED_DISK_GIB * GB_PER_GIB))} full disks (fine only while linked clones stay thin)`,
    });
  }

  // CPU: one vCPU per tenant plus the infrastructure VMs against the overcommit limit.
  const vcpus = vcpuCount(n, infraVms);
  const cpu = cpuFit(vcpus, hw, a);
  if (vcpus > cpu.available) {
    out.push({
      topic: "cpu",
      seed: `CPU Cores: minimal ${hw.cpuCores}`,
      recomputed: `${vcpus} vCPUs on ${hw.cpuCores} cores × ${hw.threadsPerCore} threads = ${num(cpu.perThread, 1)} per thread, above ${a.vcpuPerThreadMax}; needs ${cpu.coresNeeded} cores`,
    });
  }

  // Power: host + tenants + drives against N+1 power supplies.
  const watts = powerWatts(a, n, hw.userDiskCount);
  const redundant = psuWatts(hw).redundant;
  if (watts > redundant) {
    out.push({
      topic: "power",
      seed: `Power supply: ${hw.psuCount}x ${hw.psuWatts}W units`,
      recomputed: `host ${a.hostIdleW} W + ${n} tenants × ${a.wattsPerTenant} W + ${hw.userDiskCount} drives × ${a.wattsPerDisk} W = ${num(watts)} W, above the ${num(redundant)} W left when one PSU fails`,
    });
  }
  return out;
}
