/**
 * The monitoring plan (issue 14): which exporter runs where, on which management address and port, Prometheus and
 * Alertmanager on the services VM, and every threshold the alert rules use, from the plan and `monitoring:`. Pure.
 */
import { type MonitoringConfig, durationSeconds } from "../config/monitoring-schema";
import type { InstanceId, Plan, Proto, ServerName } from "./types";

/** What a machine is to the rules: a VPN server (lr-metrics' figures), the services VM or a Proxmox node. */
export type ExporterRole = "vpn" | "services" | "host";

/** One node exporter: the machine's name (the `server` label of every series it serves) and where it listens. */
export interface ExporterTarget {
  readonly server: string;
  readonly role: ExporterRole;
  readonly ip: string;
  readonly port: number;
  /** `ip:port`, Prometheus' target and `instance` label. */
  readonly address: string;
}

/** An OpenVPN instance as lr-metrics reports it: its id, and the most sessions its pool holds. */
export interface MonitoredInstance {
  readonly id: InstanceId;
  readonly server: ServerName;
  readonly proto: Proto;
  readonly maxSessions: number;
}

export interface MonitoringPlan {
  readonly enabled: boolean;
  readonly scrapeInterval: string;
  /** lr-metrics' period on each VPN server (its systemd timer). */
  readonly metricsInterval: string;
  /** Every machine, the VPN servers first, then the services VM, then each Proxmox node. */
  readonly exporters: readonly ExporterTarget[];
  readonly prometheus: { readonly ip: string; readonly port: number; readonly url: string; readonly retention: string };
  readonly alertmanager: { readonly ip: string; readonly port: number; readonly url: string; readonly webhookUrl?: string };
  readonly instances: readonly MonitoredInstance[];
  /** The rules' `for:` times. */
  readonly for: MonitoringConfig["for"];
  /** A pinned tenant refused `count` times within `window` on one server. */
  readonly refusals: MonitoringConfig["refusals"];
  /** Seconds before its end a certificate alerts: the renewal window Pulumi renews it in (vpn.renewBeforeDays). */
  readonly renewBeforeSeconds: { readonly client: number; readonly server: number };
  /** The share of a capacity figure (sessions, RAM, disk) past which it alerts (assumptions.warnAt). */
  readonly warnAt: number;
  /** lr-metrics' figures are stale past this many seconds (three missed rewrites). */
  readonly staleAfterSeconds: number;
}

/** Addresses in a tunnel pool minus network, broadcast and the server's own (render/openvpn-server.ts max-clients). */
function poolCapacity(prefix: number): number {
  return 2 ** (32 - prefix) - 3;
}

/**
 * The monitoring plan. `warnAt` is the capacity check's share (sizing/assumptions.ts, resolved by the caller: plan/
 * may not import sizing/). Every listener is on a management address: no tenant path reaches one (README, ops).
 */
export function planMonitoring(plan: Omit<Plan, "monitoring">, cfg: MonitoringConfig, warnAt: number): MonitoringPlan {
  if (!(warnAt > 0 && warnAt <= 1)) throw new Error(`monitoring: warnAt must be a share in (0, 1]; got ${warnAt}`);
  const port = cfg.ports.nodeExporter;
  const target = (server: string, role: ExporterRole, ip: string): ExporterTarget => ({ server, role, ip, port, address: `${ip}:${port}` });
  const exporters = [
    ...plan.servers.map((s) => target(s.name, "vpn", s.mgmtIp)),
    target("services", "services", plan.services.mgmtIp),
    ...plan.nodes.map((n) => target(n.name, "host", n.mgmtIp)),
  ];
  const names = exporters.map((e) => e.server);
  const clash = names.find((n, i) => names.indexOf(n) !== i);
  if (clash) throw new Error(`monitoring: two machines are named "${clash}" (a Proxmox node may not be called vpn1, vpn2 or services); rename the node in nodes[]`);
  const ip = plan.services.mgmtIp;
  return {
    enabled: cfg.enabled,
    scrapeInterval: cfg.scrapeInterval,
    metricsInterval: cfg.metricsInterval,
    exporters,
    prometheus: { ip, port: cfg.ports.prometheus, url: `http://${ip}:${cfg.ports.prometheus}/`, retention: cfg.retention },
    alertmanager: { ip, port: cfg.ports.alertmanager, url: `http://${ip}:${cfg.ports.alertmanager}/`, ...(cfg.webhookUrl ? { webhookUrl: cfg.webhookUrl } : {}) },
    instances: plan.instances.map((i) => ({ id: i.id, server: i.server, proto: i.proto, maxSessions: poolCapacity(i.prefix) })),
    for: cfg.for,
    refusals: cfg.refusals,
    renewBeforeSeconds: { client: plan.pki.client.renewHours * 3600, server: plan.pki.server.renewHours * 3600 },
    warnAt,
    staleAfterSeconds: 3 * durationSeconds(cfg.metricsInterval),
  };
}
