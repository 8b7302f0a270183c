/**
 * The services VM's Prometheus and Alertmanager: their configs and command lines, both on the VM's management
 * address only (Alertmanager's gossip port off: one instance). Pure text.
 */
import { stringify } from "yaml";
import type { MonitoringPlan } from "../../plan/monitoring";
import type { SetupFile } from "../shell";
import type { MonitoringPaths } from "./paths";

/** prometheus.yml: every node exporter (labelled with its machine and role), Prometheus and Alertmanager themselves. */
export function prometheusConfig(mon: MonitoringPlan, stack: string, p: MonitoringPaths): string {
  const self = (job: string, port: number) => ({ job_name: job, static_configs: [{ targets: [`${mon.prometheus.ip}:${port}`], labels: { server: "services", role: "services" } }] });
  const doc = {
    global: { scrape_interval: mon.scrapeInterval, evaluation_interval: mon.scrapeInterval, external_labels: { stack } },
    alerting: { alertmanagers: [{ static_configs: [{ targets: [`${mon.alertmanager.ip}:${mon.alertmanager.port}`] }] }] },
    rule_files: [p.rulesFile],
    scrape_configs: [
      { job_name: "node", static_configs: mon.exporters.map((e) => ({ targets: [e.address], labels: { server: e.server, role: e.role } })) },
      self("prometheus", mon.prometheus.port),
      self("alertmanager", mon.alertmanager.port),
    ],
  };
  return `# Prometheus of stack ${stack}: rendered by librerouter-hosting, do not edit.\n${stringify(doc)}`;
}

/** Prometheus' command line (Debian's unit: `prometheus $ARGS`). */
export function prometheusArgs(mon: MonitoringPlan, p: MonitoringPaths): string[] {
  return [`--config.file=${p.prometheusConfig}`, `--storage.tsdb.path=${p.prometheusData}`, `--storage.tsdb.retention.time=${mon.prometheus.retention}`, `--web.listen-address=${mon.prometheus.ip}:${mon.prometheus.port}`];
}

/** alertmanager.yml: grouped by alert and machine; a webhook receiver when `monitoring.webhookUrl` is set, else none. */
export function alertmanagerConfig(mon: MonitoringPlan, stack: string): string {
  const hook = mon.alertmanager.webhookUrl;
  const doc = {
    route: { receiver: "ops", group_by: ["alertname", "server"], group_wait: "30s", group_interval: "5m", repeat_interval: "4h" },
    receivers: [{ name: "ops", ...(hook ? { webhook_configs: [{ url: hook, send_resolved: true }] } : {}) }],
  };
  return `# Alertmanager of stack ${stack}: rendered by librerouter-hosting, do not edit.\n${stringify(doc)}`;
}

/** Alertmanager's command line: the management address, and no cluster listener (it would open :9094 on every address). */
export function alertmanagerArgs(mon: MonitoringPlan, p: MonitoringPaths): string[] {
  return [`--config.file=${p.alertmanagerConfig}`, `--storage.path=${p.alertmanagerData}`, `--web.listen-address=${mon.alertmanager.ip}:${mon.alertmanager.port}`, "--cluster.listen-address="];
}

/** Every file of the services VM's monitoring but the rules (rules.ts). */
export function serverFiles(mon: MonitoringPlan, stack: string, p: MonitoringPaths): SetupFile[] {
  return [
    { path: p.prometheusConfig, mode: "0644", content: prometheusConfig(mon, stack, p) },
    { path: p.alertmanagerConfig, mode: "0640", content: alertmanagerConfig(mon, stack) },
  ];
}
