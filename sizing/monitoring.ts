/**
 * What the monitoring (issue 14) costs where it runs: RAM on the services VM (Prometheus, Alertmanager, its node
 * exporter), on each VPN server (node exporter, lr-metrics' run) and on the host (node exporter, from its reserve),
 * and Prometheus' database on the services VM's disk, on top of what the ban grid's lines count (sizing/ban-grid.ts):
 * each line here is that line with the monitoring added, so it replaces it in the capacity check. Pure.
 */
import type { MonitoringPlan } from "../plan/monitoring";
import { durationSeconds } from "../config/monitoring-schema";
import * as B from "./ban-grid";
import { type CapacityLine, fit, line, type Sizing } from "./capacity-lines";
import { num, pct } from "./format";

/** The figures, measured where we could (Debian 12 packages, this repository's e2e test) and why. */
export const MONITORING_ASSUMPTIONS = {
  /** RSS of prometheus-node-exporter 1.5 serving ~500 series: 20 MiB measured; 24 with margin. */
  nodeExporterMb: 24,
  /** lr-metrics.py (python3) while it runs: ~15 MiB, for under a second every metricsInterval. */
  lrMetricsMb: 16,
  /** Prometheus 2.42 idle with ~900 series: 50 MiB measured; 64 as its floor. */
  prometheusBaseMb: 64,
  /** Head block memory per active series: Prometheus 2.x needs ~3 KiB; 4 with margin. */
  prometheusKibPerSeries: 4,
  /** Alertmanager 0.25 with one receiver: 32 MiB measured. */
  alertmanagerMb: 32,
  /** Series a Debian VM's or the host's node exporter serves with per-tenant interfaces excluded (507 measured on 2 cores). */
  seriesPerMachine: 1000,
  /** lr-metrics' series per tenant on each VPN server: connected, pinned, refused, one session's three, one refusal reason. */
  seriesPerTenantPerServer: 7,
  /** The services VM's certificate figure per tenant. */
  seriesPerTenantServices: 1,
  /** Prometheus' own and Alertmanager's series, and the rules'. */
  seriesOwn: 1500,
  /** Compressed TSDB bytes per sample (Prometheus' documented 1–2). */
  bytesPerSample: 2,
  /** Write-ahead log: about 3 h of samples at this many bytes each, uncompressed. */
  walHours: 3,
  walBytesPerSample: 16,
} as const;
const A = MONITORING_ASSUMPTIONS;

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const mib = (mb: number) => `${num(mb, Number.isInteger(mb) ? 0 : 1)} MiB`;

/** Active series Prometheus holds for this stack. */
export function monitoringSeries(s: Sizing, mon: MonitoringPlan): number {
  const vpnServers = mon.exporters.filter((e) => e.role === "vpn").length;
  return mon.exporters.length * A.seriesPerMachine + s.n * (vpnServers * A.seriesPerTenantPerServer + A.seriesPerTenantServices) + A.seriesOwn;
}

/** Prometheus' RAM, MiB: its floor plus the head block. */
export function prometheusMb(s: Sizing, mon: MonitoringPlan): number {
  return A.prometheusBaseMb + (monitoringSeries(s, mon) * A.prometheusKibPerSeries) / 1024;
}

/** Prometheus' database at full retention, GiB: samples kept × bytes per sample, plus the write-ahead log. */
export function prometheusDiskGib(s: Sizing, mon: MonitoringPlan): { gib: number; samplesPerSecond: number; retentionDays: number } {
  const perSecond = monitoringSeries(s, mon) / durationSeconds(mon.scrapeInterval);
  const retention = durationSeconds(mon.prometheus.retention);
  const bytes = perSecond * retention * A.bytesPerSample + perSecond * A.walHours * 3600 * A.walBytesPerSample;
  return { gib: bytes / GIB, samplesPerSecond: perSecond, retentionDays: retention / 86400 };
}

/** `base` (a ban-grid line) with `addMb` more needed, its note extended with how the monitoring adds up. */
function plus(base: CapacityLine, s: Sizing, add: number, unit: string, how: string, what: string, fix: string): CapacityLine {
  const needed = base.needed + add;
  const status = fit(needed, base.available, s.a);
  const total = unit === "MiB" ? mib(needed) : `${num(needed, 1)} GiB`;
  const cap = unit === "MiB" ? mib(base.available) : `${num(base.available, 1)} GiB`;
  // The ban grid's sum without its total: the first part of its note, less a failing line's "<what>: " head.
  const first = base.note.split(";")[0];
  const body = base.status === "fail" ? first.slice(first.indexOf(": ") + 2) : first;
  const sum = body.slice(0, body.lastIndexOf(" = "));
  const over = unit === "MiB" ? mib(needed - base.available) : `${num(needed - base.available, 1)} GiB`;
  const note =
    status === "fail"
      ? `${what}: ${sum} + monitoring: ${how} = ${total} exceed ${cap} by ${over}; ${fix}`
      : `${base.note}; + monitoring: ${how} = ${total} of ${cap} (${pct(needed / base.available)})`;
  return line(base.resource, needed, base.available, base.unit, status, note, base.key);
}

/** The services VM's RAM: the ban grid's line plus Prometheus, Alertmanager and the node exporter (replaces B.servicesRamLine). */
export function servicesRamLine(s: Sizing, mon: MonitoringPlan): CapacityLine {
  const base = B.servicesRamLine(s);
  if (!mon.enabled) return base;
  const series = monitoringSeries(s, mon);
  const prom = prometheusMb(s, mon);
  const add = prom + A.alertmanagerMb + A.nodeExporterMb;
  const how = `Prometheus ${mib(prom)} (${num(series)} series × ${A.prometheusKibPerSeries} KiB + ${A.prometheusBaseMb} MiB) + Alertmanager ${A.alertmanagerMb} MiB + node exporter ${A.nodeExporterMb} MiB`;
  return plus(base, s, add, "MiB", how, "services VM RAM", `raise services.memoryMb to at least ${Math.ceil(base.needed + add)}`);
}

/** Each VPN server's RAM: the ban grid's line plus the node exporter and lr-metrics' run (replaces B.vpnRamLine). */
export function vpnRamLine(s: Sizing, mon: MonitoringPlan): CapacityLine {
  const base = B.vpnRamLine(s);
  if (!mon.enabled) return base;
  const add = A.nodeExporterMb + A.lrMetricsMb;
  return plus(base, s, add, "MiB", `node exporter ${A.nodeExporterMb} MiB + lr-metrics ${A.lrMetricsMb} MiB`, "VPN server RAM", `raise vpn.memoryMb to at least ${Math.ceil(base.needed + add)}`);
}

/** The host's reserve: the ban grid's share plus the node exporter (replaces B.hostGridLine). */
export function hostReserveLine(s: Sizing, mon: MonitoringPlan): CapacityLine {
  const base = B.hostGridLine(s);
  if (!mon.enabled) return base;
  return plus(base, s, A.nodeExporterMb, "MiB", `node exporter ${A.nodeExporterMb} MiB`, "host reserve", "raise assumptions.hostReserveGb");
}

/** The services VM's disk: the ban grid's line plus Prometheus' database at full retention (replaces B.servicesDiskLine). */
export function servicesDiskLine(s: Sizing, mon: MonitoringPlan): CapacityLine {
  const base = B.servicesDiskLine(s);
  if (!mon.enabled) return base;
  const d = prometheusDiskGib(s, mon);
  const how = `Prometheus ${num(d.gib, 2)} GiB (${num(Math.round(d.samplesPerSecond))} samples/s × ${num(d.retentionDays, Number.isInteger(d.retentionDays) ? 0 : 1)} days (monitoring.retention) × ${A.bytesPerSample} B, + ${A.walHours} h of write-ahead log)`;
  return plus(base, s, d.gib, "GiB", how, "services VM disk", "give the server template a larger disk and raise assumptions.infraVmDiskGb to match, or shorten monitoring.retention");
}
