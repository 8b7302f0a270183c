/**
 * The stack's `monitoring:` block: node exporters on every machine, lr-metrics' textfile figures on the VPN servers,
 * Prometheus and Alertmanager on the services VM. Pure; plan/monitoring.ts turns it into targets, ports and rules.
 */
import { z } from "zod";

const DURATION = /^(0|[1-9]\d{0,6})([smhd])$/;
const UNIT: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds of a monitoring duration (`15s`, `5m`, `0s` parses: the schema's bounds refuse it with the reason). */
export function durationSeconds(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * UNIT[m[2]];
}

/** A duration between `min` and `max` seconds, written `<number><s|m|h|d>` (Prometheus parses the same form). */
const duration = (what: string, min: number, max: number, minText: string, maxText: string) =>
  z.string().superRefine((s, ctx) => {
    if (!DURATION.test(s)) {
      ctx.addIssue({ code: "custom", message: `${what} must be a whole number and one unit, s, m, h or d, such as 30s or 5m` });
      return;
    }
    const n = durationSeconds(s);
    if (n < min) ctx.addIssue({ code: "custom", message: `${what} must be at least ${minText}` });
    else if (n > max) ctx.addIssue({ code: "custom", message: `${what} must be at most ${maxText}` });
  });

const int = (what: string, min: number, max: number, why = "") =>
  z
    .number({ message: `${what} must be a whole number` })
    .int({ message: `${what} must be a whole number` })
    .min(min, { message: `${what} must be at least ${min}${why}` })
    .max(max, { message: `${what} must be at most ${max}${why}` });

const port = (what: string) => int(what, 1024, 65535, " (an unprivileged port: the exporters do not run as root)");

export const MONITORING_DEFAULTS = {
  enabled: true,
  scrapeInterval: "15s",
  metricsInterval: "15s",
  ports: { nodeExporter: 9100, prometheus: 9090, alertmanager: 9093 },
  for: { instanceDown: "1m", serverDown: "1m", certExpiry: "10m", refusals: "2m", capacity: "15m", metricsStale: "5m" },
  refusals: { count: 5, window: "10m" },
  retention: "15d",
} as const;

export const monitoringSchema = z
  .object({
    /** false: no exporter, no Prometheus, no rules (the lead's wiring skips every monitoring file). */
    enabled: z.boolean().default(MONITORING_DEFAULTS.enabled),
    /** How often Prometheus scrapes every exporter and evaluates the rules. */
    scrapeInterval: duration("monitoring.scrapeInterval", 1, 300, "1s", "5m").default(MONITORING_DEFAULTS.scrapeInterval),
    /** How often lr-metrics (a systemd timer) rewrites its textfile on each VPN server. */
    metricsInterval: duration("monitoring.metricsInterval", 1, 300, "1s", "5m").default(MONITORING_DEFAULTS.metricsInterval),
    ports: z
      .object({
        /** Node exporter on each machine's management address. */
        nodeExporter: port("monitoring.ports.nodeExporter").default(MONITORING_DEFAULTS.ports.nodeExporter),
        prometheus: port("monitoring.ports.prometheus").default(MONITORING_DEFAULTS.ports.prometheus),
        alertmanager: port("monitoring.ports.alertmanager").default(MONITORING_DEFAULTS.ports.alertmanager),
      })
      .strict()
      .default({ ...MONITORING_DEFAULTS.ports }),
    /** How long each condition must hold before its alert fires (the rules' `for:`). */
    for: z
      .object({
        instanceDown: duration("monitoring.for.instanceDown", 1, 3600, "1s", "1h").default(MONITORING_DEFAULTS.for.instanceDown),
        serverDown: duration("monitoring.for.serverDown", 1, 3600, "1s", "1h").default(MONITORING_DEFAULTS.for.serverDown),
        certExpiry: duration("monitoring.for.certExpiry", 1, 86400, "1s", "1d").default(MONITORING_DEFAULTS.for.certExpiry),
        refusals: duration("monitoring.for.refusals", 1, 3600, "1s", "1h").default(MONITORING_DEFAULTS.for.refusals),
        capacity: duration("monitoring.for.capacity", 1, 86400, "1s", "1d").default(MONITORING_DEFAULTS.for.capacity),
        metricsStale: duration("monitoring.for.metricsStale", 1, 3600, "1s", "1h").default(MONITORING_DEFAULTS.for.metricsStale),
      })
      .strict()
      .default({ ...MONITORING_DEFAULTS.for }),
    /** A pinned tenant refused `count` times within `window` on one server: someone holds its bundle, or its pin is wrong. */
    refusals: z
      .object({
        count: int("monitoring.refusals.count", 1, 1000).default(MONITORING_DEFAULTS.refusals.count),
        window: duration("monitoring.refusals.window", 60, 86400, "1m", "1d").default(MONITORING_DEFAULTS.refusals.window),
      })
      .strict()
      .default({ ...MONITORING_DEFAULTS.refusals }),
    /** How long Prometheus keeps its samples (disk on the services VM). */
    retention: duration("monitoring.retention", 3600, 366 * 86400, "1h", "366d").default(MONITORING_DEFAULTS.retention),
    /** Where Alertmanager sends alerts (a webhook receiver); absent: alerts show in Prometheus and Alertmanager only. */
    webhookUrl: z.url({ protocol: /^https?$/, message: "monitoring.webhookUrl must be an http(s) URL" }).optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    // lr-metrics rewrites its file every metricsInterval: a scrape faster than that only re-reads the same figures, and
    // the stale alert needs several rewrites inside its for: time.
    // zod runs this even when a field failed: compare only two valid durations. Both values are in the message (either
    // may be a default the stack never wrote).
    const ok = (d: string) => DURATION.test(d);
    if (ok(m.for.metricsStale) && ok(m.metricsInterval) && durationSeconds(m.metricsInterval) <= 300 && durationSeconds(m.for.metricsStale) < 2 * durationSeconds(m.metricsInterval)) {
      ctx.addIssue({
        code: "custom",
        path: ["for", "metricsStale"],
        params: { hideValue: true },
        message: `${m.for.metricsStale} must be at least twice monitoring.metricsInterval (${m.metricsInterval}); raise it or shorten metricsInterval`,
      });
    }
    const ports = Object.entries(m.ports);
    const seen = new Map<number, string>();
    for (const [k, p] of ports) {
      const other = seen.get(p);
      if (other) ctx.addIssue({ code: "custom", path: ["ports", k], params: { hideValue: true }, message: `${p} is also monitoring.ports.${other}; give each its own port` });
      seen.set(p, k);
    }
  });

export type MonitoringConfig = z.output<typeof monitoringSchema>;

/** The block with every default (what a stack without `monitoring:` gets). */
export const DEFAULT_MONITORING: MonitoringConfig = monitoringSchema.parse({});
