/**
 * The service at a glance (`npm run status`, and the lab's status checks): each machine and OpenVPN instance, each
 * tenant's state, what expires soonest, the alerts firing; from the exporters' samples and Prometheus' alerts, which
 * the caller fetched (cli/status.ts over HTTP, the lab inside its namespaces). Pure.
 */
import { type Sample, select } from "../lib/prom-text";
import type { ExporterRole, MonitoringPlan } from "../plan/monitoring";
import type { Plan } from "../plan/types";

/** One exporter's answer: its samples, or why there are none (reported, never fatal). */
export type Scrape = { readonly server: string; readonly samples: readonly Sample[] } | { readonly server: string; readonly error: string };

/** Prometheus' `/api/v1/alerts` entries (the fields we show), or why they could not be read. */
export type AlertsAnswer = { readonly alerts: readonly PromAlert[] } | { readonly error: string };
export interface PromAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly state: string;
  readonly activeAt?: string;
}

export interface InstanceStatus {
  readonly id: string;
  readonly up: boolean;
  readonly sessions: number;
  readonly maxSessions: number;
}

export interface ServerStatus {
  readonly server: string;
  readonly role: ExporterRole;
  readonly address: string;
  readonly reachable: boolean;
  readonly error?: string;
  readonly instances: readonly InstanceStatus[];
  /** Seconds since lr-metrics last wrote (VPN servers). */
  readonly metricsAgeSeconds?: number;
  readonly bansInForce?: number;
}

/**
 * `connected` through `via`; `offline`: every VPN server answered and none has a session; `unknown`: not connected
 * where we could look, but a VPN server did not answer; `absent`: in the stack, on no server (not applied yet, or
 * deleted); `extra`: on a server, not in the stack (a leftover to delete).
 */
export type TenantState = "connected" | "offline" | "unknown" | "absent" | "extra";

export interface TenantStatus {
  readonly key: string;
  readonly state: TenantState;
  readonly via?: string;
  /** Epoch seconds. */
  readonly since?: number;
  readonly receivedBytes?: number;
  readonly sentBytes?: number;
  readonly pinned?: boolean;
  readonly lastRefusal?: { readonly reason: string; readonly at: number; readonly server: string };
  readonly certExpiry?: number;
}

export interface Expiry {
  readonly kind: string;
  readonly name: string;
  /** Epoch seconds. */
  readonly at: number;
}

export interface StatusReport {
  readonly stack: string;
  /** Epoch seconds the report was made at. */
  readonly at: number;
  readonly servers: readonly ServerStatus[];
  readonly tenants: readonly TenantStatus[];
  /** Every certificate end seen, soonest first. */
  readonly expiring: readonly Expiry[];
  readonly alerts: { readonly firing: readonly PromAlert[]; readonly pending: readonly PromAlert[] } | { readonly error: string };
}

const value = (s: readonly Sample[], name: string, match: Record<string, string> = {}) => select(s, name, match)[0]?.value;

/** The report from every exporter's scrape and Prometheus' alerts at `now` (epoch seconds). */
export function statusReport(plan: Plan, mon: MonitoringPlan, scrapes: readonly Scrape[], alerts: AlertsAnswer, now: number): StatusReport {
  const byServer = new Map(scrapes.map((s) => [s.server, s]));
  const servers: ServerStatus[] = mon.exporters.map((e) => {
    const sc = byServer.get(e.server);
    if (!sc || "error" in sc) return { server: e.server, role: e.role, address: e.address, reachable: false, error: sc && "error" in sc ? sc.error : "not scraped", instances: [] };
    const s = sc.samples;
    const instances = mon.instances
      .filter((i) => i.server === e.server)
      .map((i) => ({ id: i.id, up: value(s, "lr_instance_up", { id: i.id }) === 1, sessions: value(s, "lr_instance_sessions", { id: i.id }) ?? 0, maxSessions: value(s, "lr_instance_max_sessions", { id: i.id }) ?? i.maxSessions }));
    const stamp = value(s, "lr_metrics_timestamp_seconds");
    const bans = value(s, "lr_bans_in_force");
    return { server: e.server, role: e.role, address: e.address, reachable: true, instances, ...(stamp !== undefined ? { metricsAgeSeconds: Math.max(0, now - stamp) } : {}), ...(bans !== undefined ? { bansInForce: bans } : {}) };
  });
  const vpnScrapes = mon.exporters.filter((e) => e.role === "vpn").map((e) => byServer.get(e.server));
  const answered = vpnScrapes.filter((s): s is Extract<Scrape, { samples: readonly Sample[] }> => s !== undefined && "samples" in s);
  const allAnswered = answered.length === vpnScrapes.length;
  const all = scrapes.flatMap((s) => ("samples" in s ? s.samples : []));

  const certs = new Map<string, Expiry>();
  for (const c of select(all, "lr_cert_expiry_timestamp_seconds")) {
    const kind = c.labels.kind ?? "?";
    const name = c.labels.name ?? c.labels.tenant ?? "?";
    const k = `${kind}/${name}`;
    const seen = certs.get(k);
    if (!seen || c.value < seen.at) certs.set(k, { kind, name, at: c.value });
  }
  const expiring = [...certs.values()].sort((a, b) => a.at - b.at || a.name.localeCompare(b.name));

  const planned = new Set(plan.tenants.map((t) => t.key));
  const known = new Set(answered.flatMap((s) => select(s.samples, "lr_tenant_connected").map((x) => x.labels.tenant)));
  const keys = [...plan.tenants.map((t) => t.key), ...[...known].filter((k) => !planned.has(k)).sort()];
  const tenants = keys.map((key): TenantStatus => {
    const on = answered.find((s) => value(s.samples, "lr_tenant_connected", { tenant: key }) === 1);
    const session = on ? select(on.samples, "lr_tenant_session_since_seconds", { tenant: key })[0] : undefined;
    const pinned = answered.some((s) => value(s.samples, "lr_tenant_pinned", { tenant: key }) === 1);
    const refusals = answered.flatMap((s) => select(s.samples, "lr_tenant_last_refusal_timestamp_seconds", { tenant: key }).map((x) => ({ reason: x.labels.reason ?? "?", at: x.value, server: s.server })));
    const lastRefusal = refusals.sort((a, b) => b.at - a.at)[0];
    const cert = certs.get(`tenant/${key}`)?.at;
    const state: TenantState = !planned.has(key) ? "extra" : on ? "connected" : !known.has(key) && allAnswered ? "absent" : allAnswered ? "offline" : "unknown";
    const via = session?.labels.id;
    return {
      key,
      state,
      ...(via ? { via, since: session.value, receivedBytes: value(on!.samples, "lr_tenant_received_bytes", { tenant: key }), sentBytes: value(on!.samples, "lr_tenant_sent_bytes", { tenant: key }) } : {}),
      ...(known.has(key) ? { pinned } : {}),
      ...(lastRefusal ? { lastRefusal } : {}),
      ...(cert !== undefined ? { certExpiry: cert } : {}),
    };
  });
  const firing = "alerts" in alerts ? alerts.alerts.filter((a) => a.state === "firing") : [];
  const pending = "alerts" in alerts ? alerts.alerts.filter((a) => a.state === "pending") : [];
  return { stack: plan.stack, at: now, servers, tenants, expiring, alerts: "alerts" in alerts ? { firing, pending } : { error: alerts.error } };
}

/** The report narrowed to one tenant (its row, the certificates it names, the alerts about it). */
export function forTenant(r: StatusReport, key: string): StatusReport {
  const alerts = "error" in r.alerts ? r.alerts : { firing: r.alerts.firing.filter((a) => a.labels.tenant === key), pending: r.alerts.pending.filter((a) => a.labels.tenant === key) };
  return { ...r, tenants: r.tenants.filter((t) => t.key === key), expiring: r.expiring.filter((e) => e.kind !== "tenant" || e.name === key), alerts };
}

/** The exit code of a report (`npm run status`): 0 all answered and nothing firing, 1 otherwise. */
export function statusCode(r: StatusReport): number {
  const silent = r.servers.every((s) => s.reachable) && !("error" in r.alerts) && r.alerts.firing.length === 0;
  return silent ? 0 : 1;
}
