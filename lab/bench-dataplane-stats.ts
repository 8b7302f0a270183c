/**
 * The arithmetic of `npm run bench:dataplane` (pure): medians and spreads of repeated samples, the CPU time of a
 * sampling window from two `/proc/stat` readings, and that time per forwarded packet.
 */

/** The machine-wide CPU counters of `/proc/stat`'s `cpu` line, in USER_HZ ticks (1/100 s on Linux). */
export interface CpuTicks {
  readonly user: number;
  readonly system: number;
  readonly idle: number;
  readonly irq: number;
  readonly softirq: number;
  readonly steal: number;
}

/** `/proc/stat` counts in USER_HZ, which Linux fixes at 100 whatever the kernel's HZ. */
export const USER_HZ = 100;

/** The `cpu` line of `/proc/stat` (user nice system idle iowait irq softirq steal …); nice counts as user. */
export function parseProcStat(text: string): CpuTicks {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("/proc/stat has no aggregate `cpu ` line");
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 8 || f.some((x) => !Number.isFinite(x))) throw new Error(`/proc/stat cpu line has not 8 numeric fields: ${JSON.stringify(line)}`);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return { user: user + nice, system, idle: idle + iowait, irq, softirq, steal };
}

/** CPU seconds spent between two readings, per kind, machine-wide. */
export function cpuSeconds(a: CpuTicks, b: CpuTicks): CpuTicks {
  const d = (k: keyof CpuTicks) => (b[k] - a[k]) / USER_HZ;
  return { user: d("user"), system: d("system"), idle: d("idle"), irq: d("irq"), softirq: d("softirq"), steal: d("steal") };
}

/** Nanoseconds of CPU per packet: softirq (the forwarding itself, wherever it ran) and user+system (senders, receivers, syscalls). */
export interface PerPacket {
  readonly softirqNs: number;
  readonly userSysNs: number;
}

/** `cpu` (seconds) spread over `packets`; NaN when no packet went through (a broken rig, not a fast one). */
export function perPacket(cpu: CpuTicks, packets: number): PerPacket {
  if (!(packets > 0)) return { softirqNs: NaN, userSysNs: NaN };
  return { softirqNs: (cpu.softirq * 1e9) / packets, userSysNs: ((cpu.user + cpu.system) * 1e9) / packets };
}

/** The median (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of no samples");
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median, lowest, highest and the spread (highest − lowest) / median of repeated samples. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly spread: number;
}

export function summarize(xs: readonly number[]): Summary {
  const med = median(xs);
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  return { median: med, min, max, spread: med > 0 ? (max - min) / med : NaN };
}

/** The order of `n` rigs in round `round`: rotated by the round, so no rig always goes first (or after the same one). */
export function roundOrder(n: number, round: number): number[] {
  return Array.from({ length: n }, (_, i) => (i + round) % n);
}
