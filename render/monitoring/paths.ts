/**
 * Where the monitoring's files live on a machine: Debian's own places for the packages (their units read
 * `/etc/default/<package>`), ours for lr-metrics. The lab passes the same shape under a scratch root. Pure.
 */
export interface MonitoringPaths {
  /** The node exporter's textfile collector directory (Debian's default): lr-metrics and the certificate figures. */
  readonly textfileDir: string;
  /** `/etc/default/<package>`: each Debian unit's `ARGS`. */
  readonly defaultsDir: string;
  readonly prometheusConfig: string;
  readonly rulesFile: string;
  readonly prometheusData: string;
  readonly alertmanagerConfig: string;
  readonly alertmanagerData: string;
  /** lr-metrics, its config and its state (the counters that only grow). */
  readonly lrMetrics: string;
  readonly lrMetricsConfig: string;
  readonly lrMetricsState: string;
  readonly systemdDir: string;
}

export const PRODUCTION_MONITORING_PATHS: MonitoringPaths = {
  textfileDir: "/var/lib/prometheus/node-exporter",
  defaultsDir: "/etc/default",
  prometheusConfig: "/etc/prometheus/prometheus.yml",
  rulesFile: "/etc/prometheus/lr-alerts.yml",
  prometheusData: "/var/lib/prometheus/metrics2",
  alertmanagerConfig: "/etc/prometheus/alertmanager.yml",
  alertmanagerData: "/var/lib/prometheus/alertmanager",
  lrMetrics: "/usr/local/lib/librerouter/lr-metrics.py",
  lrMetricsConfig: "/etc/librerouter/lr-metrics.json",
  lrMetricsState: "/var/lib/librerouter/lr-metrics-state.json",
  systemdDir: "/etc/systemd/system",
};

/** The textfile lr-metrics writes on a VPN server, and the one with every tenant's certificate end on the services VM. */
export const LR_METRICS_PROM = "lr-metrics.prom";
export const LR_CERTS_PROM = "lr-certs.prom";
