/**
 * The alert rules, as code (Prometheus rule file), every threshold from the monitoring plan. Each alert has a
 * `promtool test rules` case in test/render/monitoring-rules.test.ts, and its meaning and fix in the README (ops).
 * Pure text.
 */
import { stringify } from "yaml";
import type { MonitoringPlan } from "../../plan/monitoring";

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: "page" | "ticket" };
  readonly annotations: { readonly summary: string; readonly action: string };
}

const days = (seconds: number) => `${Math.round(seconds / 86400)}d`;

/** Every alert of the stack, in the order the README explains them. */
export function alertRules(mon: MonitoringPlan): AlertRule[] {
  const f = mon.for;
  const share = mon.warnAt;
  const pct = `${Math.round(share * 100)} %`;
  return [
    {
      alert: "LrInstanceDown",
      expr: "lr_instance_up == 0",
      for: f.instanceDown,
      labels: { severity: "page" },
      annotations: {
        summary: "OpenVPN instance {{ $labels.id }} on {{ $labels.server }} is down (no process runs its config, or its status file is stale)",
        action: "Its tenants have moved to the next remote of their bundle; on the server: systemctl status openvpn-server@{{ $labels.proto }}, journalctl -u openvpn-server@{{ $labels.proto }}, then systemctl restart it",
      },
    },
    {
      alert: "LrServerDown",
      expr: 'up{job="node",role="vpn"} == 0',
      for: f.serverDown,
      labels: { severity: "page" },
      annotations: {
        summary: "VPN server {{ $labels.server }} does not answer on the management network: its tenants failed over to the other server",
        action: "Check the VM in Proxmox (qm status, its console); the other server carries every tenant meanwhile, so watch LrSessionsNearCapacity",
      },
    },
    {
      alert: "LrMetricsStale",
      expr: `time() - lr_metrics_timestamp_seconds > ${mon.staleAfterSeconds}`,
      for: f.metricsStale,
      labels: { severity: "ticket" },
      annotations: {
        summary: "lr-metrics on {{ $labels.server }} has not rewritten its figures for more than " + `${mon.staleAfterSeconds} s: every tenant figure there is old`,
        action: "On the server: systemctl status lr-metrics.timer lr-metrics.service, journalctl -u lr-metrics.service",
      },
    },
    {
      alert: "LrTenantCertExpiring",
      expr: `lr_cert_expiry_timestamp_seconds{kind="tenant"} - time() < ${mon.renewBeforeSeconds.client}`,
      for: f.certExpiry,
      labels: { severity: "ticket" },
      annotations: {
        summary: `Tenant {{ $labels.tenant }}'s client certificate ends within vpn.renewBeforeDays (${days(mon.renewBeforeSeconds.client)})`,
        action: "Run pulumi up: it re-issues the certificate (earlyRenewalHours) and pins it on both servers; send the tenant its new bundle",
      },
    },
    {
      alert: "LrServiceCertExpiring",
      expr: `min by (kind, name) (lr_cert_expiry_timestamp_seconds{kind=~"ca|server"}) - time() < ${mon.renewBeforeSeconds.server}`,
      for: f.certExpiry,
      labels: { severity: "page" },
      annotations: {
        summary: `The {{ $labels.kind }} certificate {{ $labels.name }} ends within vpn.renewBeforeDays (${days(mon.renewBeforeSeconds.server)})`,
        action: "A server certificate: pulumi up renews it. The CA: plan a CA rotation now (every tenant bundle changes); README, ops",
      },
    },
    {
      alert: "LrPinnedTenantRefused",
      expr: `(increase(lr_tenant_refused_total[${mon.refusals.window}]) >= ${mon.refusals.count}) and on (server, tenant) (lr_tenant_pinned == 1)`,
      for: f.refusals,
      labels: { severity: "page" },
      annotations: {
        summary: `Pinned tenant {{ $labels.tenant }} was refused at least ${mon.refusals.count} times within ${mon.refusals.window} on {{ $labels.server }}`,
        action: "Someone holds its bundle on another machine, or its pin is wrong: the reason is in lr_tenant_last_refusal_timestamp_seconds (npm run status -- --tenant {{ $labels.tenant }}), then call the tenant",
      },
    },
    {
      alert: "LrSessionsNearCapacity",
      expr: `lr_instance_sessions / lr_instance_max_sessions > ${share}`,
      for: f.capacity,
      labels: { severity: "ticket" },
      annotations: {
        summary: `Instance {{ $labels.id }} holds more than ${pct} of the sessions its tunnel pool allows`,
        action: "Widen the tunnel pools (network.tunnelSupernet) or add VPN capacity before the pool is full",
      },
    },
    {
      alert: "LrMemoryNearCapacity",
      expr: `1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes > ${share}`,
      for: f.capacity,
      labels: { severity: "ticket" },
      annotations: {
        summary: `{{ $labels.server }} uses more than ${pct} of its RAM`,
        action: "npm run capacity -- --stack <stack>; raise the VM's memoryMb (vpn.memoryMb, services.memoryMb) or the host's RAM",
      },
    },
    {
      alert: "LrDiskNearCapacity",
      expr: `1 - node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|overlay"} / node_filesystem_size_bytes{fstype!~"tmpfs|ramfs|overlay"} > ${share}`,
      for: f.capacity,
      labels: { severity: "ticket" },
      annotations: {
        summary: `{{ $labels.server }}'s {{ $labels.mountpoint }} is more than ${pct} full`,
        action: "Find what grew (journal, Prometheus' data: monitoring.retention); give the VM a larger disk",
      },
    },
  ];
}

/** The rule file Prometheus loads. */
export function rulesFile(mon: MonitoringPlan, stack: string): string {
  return `# Alert rules of stack ${stack}: rendered by librerouter-hosting, do not edit.\n${stringify({ groups: [{ name: "librerouter", rules: alertRules(mon) }] }, { lineWidth: 0 })}`;
}
