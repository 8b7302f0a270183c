/**
 * The alert rules under `promtool test rules` (Debian's prometheus package): every alert fires on the series that
 * mean trouble, only after its `for:`, and stays silent on the near misses beside them. promtool compares labels and
 * annotations exactly, so each expected alert is the rule's own annotation with the series' labels filled in.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { type AlertRule, alertRules, rulesFile } from "../../render/monitoring/rules";
import { prometheusConfig } from "../../render/monitoring/server";
import { PRODUCTION_MONITORING_PATHS } from "../../render/monitoring/paths";
import { monitored } from "./monitoring/fixture";

const { mon } = monitored();
const rules = alertRules(mon);
const rule = (name: string): AlertRule => {
  const r = rules.find((x) => x.alert === name);
  if (!r) throw new Error(`no rule ${name}`);
  return r;
};

type Labels = Record<string, string>;
const sel = (name: string, l: Labels) => `${name}{${Object.entries(l).map(([k, v]) => `${k}="${v}"`).join(",")}}`;
const fill = (t: string, l: Labels) => t.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, k: string) => l[k] ?? "");

/** One expected firing alert: the rule's labels and annotations on the series' labels. */
function firing(name: string, l: Labels) {
  const r = rule(name);
  return { exp_labels: { ...l, severity: r.labels.severity }, exp_annotations: { summary: fill(r.annotations.summary, l), action: fill(r.annotations.action, l) } };
}

const node = (server: string, role = "vpn") => ({ instance: `${server}:9100`, job: "node", role, server });
const vpn1udp = { ...node("vpn1"), id: "vpn1-udp", proto: "udp" };
const vpn1tcp = { ...node("vpn1"), id: "vpn1-tcp", proto: "tcp" };
const minutes = (n: number) => `${n}m`;

const DAY = 86400;
const renewClient = mon.renewBeforeSeconds.client;
const renewServer = mon.renewBeforeSeconds.server;

// Each case: series at a 15 s step (promtool's default), and evaluations before and after the `for:` time.
const tests = [
  {
    name: "instance down: only after 1m of a stale status file, only the instance that is down",
    interval: "15s",
    input_series: [
      { series: sel("lr_instance_up", vpn1udp), values: "1 1 1 1 0x40" },
      { series: sel("lr_instance_up", vpn1tcp), values: "1x44" },
    ],
    alert_rule_test: [
      { eval_time: "1m30s", alertname: "LrInstanceDown", exp_alerts: [] },
      { eval_time: "2m30s", alertname: "LrInstanceDown", exp_alerts: [firing("LrInstanceDown", vpn1udp)] },
    ],
  },
  {
    name: "server down: a VPN server's exporter gone for 1m (the failover); the services VM is not a VPN server",
    interval: "15s",
    input_series: [
      { series: sel("up", node("vpn2")), values: "1 1 0x40" },
      { series: sel("up", node("vpn1")), values: "1x42" },
      { series: sel("up", node("services", "services")), values: "0x42" },
    ],
    alert_rule_test: [
      { eval_time: "45s", alertname: "LrServerDown", exp_alerts: [] },
      { eval_time: "2m", alertname: "LrServerDown", exp_alerts: [firing("LrServerDown", node("vpn2"))] },
    ],
  },
  {
    name: "metrics stale: lr-metrics stopped rewriting; the server whose timestamp follows time() is fine",
    interval: "15s",
    input_series: [
      { series: sel("lr_metrics_timestamp_seconds", node("vpn1")), values: "0x60" },
      { series: sel("lr_metrics_timestamp_seconds", node("vpn2")), values: "0+15x60" },
    ],
    alert_rule_test: [
      { eval_time: "5m30s", alertname: "LrMetricsStale", exp_alerts: [] },
      { eval_time: "7m", alertname: "LrMetricsStale", exp_alerts: [firing("LrMetricsStale", node("vpn1"))] },
    ],
  },
  {
    name: "tenant certificate: inside renewBeforeDays for 10m; a tenant a day further out is quiet",
    interval: "1m",
    input_series: [
      { series: sel("lr_cert_expiry_timestamp_seconds", { ...node("services", "services"), kind: "tenant", name: "acme", tenant: "acme" }), values: `${renewClient + 20 * 60}x60` },
      { series: sel("lr_cert_expiry_timestamp_seconds", { ...node("services", "services"), kind: "tenant", name: "beta", tenant: "beta" }), values: `${renewClient + DAY}x60` },
    ],
    alert_rule_test: [
      { eval_time: minutes(25), alertname: "LrTenantCertExpiring", exp_alerts: [] },
      { eval_time: minutes(32), alertname: "LrTenantCertExpiring", exp_alerts: [firing("LrTenantCertExpiring", { ...node("services", "services"), kind: "tenant", name: "acme", tenant: "acme" })] },
    ],
  },
  {
    name: "CA certificate: one alert for the CA however many servers report it; the server certificate far out is quiet",
    interval: "1m",
    input_series: [
      { series: sel("lr_cert_expiry_timestamp_seconds", { ...node("vpn1"), kind: "ca", name: "ca" }), values: `${renewServer + 20 * 60}x60` },
      { series: sel("lr_cert_expiry_timestamp_seconds", { ...node("vpn2"), kind: "ca", name: "ca" }), values: `${renewServer + 20 * 60}x60` },
      { series: sel("lr_cert_expiry_timestamp_seconds", { ...node("vpn1"), kind: "server", name: "vpn1" }), values: `${renewServer + DAY}x60` },
    ],
    alert_rule_test: [
      { eval_time: minutes(25), alertname: "LrServiceCertExpiring", exp_alerts: [] },
      { eval_time: minutes(32), alertname: "LrServiceCertExpiring", exp_alerts: [firing("LrServiceCertExpiring", { kind: "ca", name: "ca" })] },
    ],
  },
  {
    name: "pinned tenant refused: 1 a minute reaches 5 in the 10m window, the first counted (from 0); unpinned or rarely refused tenants are quiet",
    interval: "1m",
    input_series: [
      { series: sel("lr_tenant_refused_total", { ...node("vpn1"), tenant: "acme" }), values: "0+1x30" },
      { series: sel("lr_tenant_pinned", { ...node("vpn1"), tenant: "acme" }), values: "1x30" },
      { series: sel("lr_tenant_refused_total", { ...node("vpn1"), tenant: "beta" }), values: "0+1x30" },
      { series: sel("lr_tenant_pinned", { ...node("vpn1"), tenant: "beta" }), values: "0x30" },
      { series: sel("lr_tenant_refused_total", { ...node("vpn2"), tenant: "acme" }), values: "0 1 2 3 4 4x26" },
      { series: sel("lr_tenant_pinned", { ...node("vpn2"), tenant: "acme" }), values: "1x30" },
    ],
    alert_rule_test: [
      { eval_time: minutes(3), alertname: "LrPinnedTenantRefused", exp_alerts: [] },
      { eval_time: minutes(12), alertname: "LrPinnedTenantRefused", exp_alerts: [firing("LrPinnedTenantRefused", { ...node("vpn1"), tenant: "acme" })] },
    ],
  },
  {
    name: "sessions past warnAt for 15m; an instance at 80 % is quiet",
    interval: "1m",
    input_series: [
      { series: sel("lr_instance_sessions", vpn1udp), values: "95x30" },
      { series: sel("lr_instance_max_sessions", vpn1udp), values: "100x30" },
      { series: sel("lr_instance_sessions", vpn1tcp), values: "80x30" },
      { series: sel("lr_instance_max_sessions", vpn1tcp), values: "100x30" },
    ],
    alert_rule_test: [
      { eval_time: minutes(10), alertname: "LrSessionsNearCapacity", exp_alerts: [] },
      { eval_time: minutes(16), alertname: "LrSessionsNearCapacity", exp_alerts: [firing("LrSessionsNearCapacity", vpn1udp)] },
    ],
  },
  {
    name: "RAM past warnAt for 15m on one machine",
    interval: "1m",
    input_series: [
      { series: sel("node_memory_MemAvailable_bytes", node("services", "services")), values: "5x30" },
      { series: sel("node_memory_MemTotal_bytes", node("services", "services")), values: "100x30" },
      { series: sel("node_memory_MemAvailable_bytes", node("vpn1")), values: "20x30" },
      { series: sel("node_memory_MemTotal_bytes", node("vpn1")), values: "100x30" },
    ],
    alert_rule_test: [
      { eval_time: minutes(10), alertname: "LrMemoryNearCapacity", exp_alerts: [] },
      { eval_time: minutes(16), alertname: "LrMemoryNearCapacity", exp_alerts: [firing("LrMemoryNearCapacity", node("services", "services"))] },
    ],
  },
  {
    name: "disk past warnAt for 15m; a full tmpfs is not a disk",
    interval: "1m",
    input_series: [
      { series: sel("node_filesystem_avail_bytes", { ...node("services", "services"), device: "/dev/sda1", fstype: "ext4", mountpoint: "/" }), values: "5x30" },
      { series: sel("node_filesystem_size_bytes", { ...node("services", "services"), device: "/dev/sda1", fstype: "ext4", mountpoint: "/" }), values: "100x30" },
      { series: sel("node_filesystem_avail_bytes", { ...node("services", "services"), device: "tmpfs", fstype: "tmpfs", mountpoint: "/run" }), values: "0x30" },
      { series: sel("node_filesystem_size_bytes", { ...node("services", "services"), device: "tmpfs", fstype: "tmpfs", mountpoint: "/run" }), values: "100x30" },
    ],
    alert_rule_test: [
      { eval_time: minutes(10), alertname: "LrDiskNearCapacity", exp_alerts: [] },
      {
        eval_time: minutes(16),
        alertname: "LrDiskNearCapacity",
        exp_alerts: [firing("LrDiskNearCapacity", { ...node("services", "services"), device: "/dev/sda1", fstype: "ext4", mountpoint: "/" })],
      },
    ],
  },
];

const promtool = (args: string[], cwd: string) => spawnSync("promtool", args, { cwd, encoding: "utf8" });

describe("alert rules under promtool", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lr-rules-"));
    writeFileSync(join(dir, "rules.yml"), rulesFile(mon, "test"));
    writeFileSync(join(dir, "tests.yml"), stringify({ rule_files: ["rules.yml"], evaluation_interval: mon.scrapeInterval, tests }, { lineWidth: 0 }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("has a test case for every alert, and every alert fires in its case", () => {
    const tested = tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length).map((a) => a.alertname));
    expect([...new Set(tested)].sort()).toEqual(rules.map((r) => r.alert).sort());
  });

  it("passes promtool check rules", () => {
    const r = promtool(["check", "rules", "rules.yml"], dir);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it("passes promtool test rules", () => {
    const r = promtool(["test", "rules", "tests.yml"], dir);
    expect([r.status, r.stdout + r.stderr]).toEqual([0, expect.stringContaining("SUCCESS")]);
  });

  it("fails promtool test rules when an alert's for: is shortened (the cases see the difference)", () => {
    const fast = { ...mon, for: { ...mon.for, instanceDown: "1s" } };
    writeFileSync(join(dir, "rules.yml"), rulesFile(fast, "test"));
    const r = promtool(["test", "rules", "tests.yml"], dir);
    writeFileSync(join(dir, "rules.yml"), rulesFile(mon, "test"));
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toContain("LrInstanceDown");
  });

  it("passes promtool check config with the rendered prometheus.yml and its rule file", () => {
    const paths = { ...PRODUCTION_MONITORING_PATHS, rulesFile: join(dir, "rules.yml") };
    writeFileSync(join(dir, "prometheus.yml"), prometheusConfig(mon, "test", paths));
    const r = promtool(["check", "config", "prometheus.yml"], dir);
    expect([r.status, r.stdout]).toEqual([0, expect.stringContaining(`SUCCESS: ${rules.length} rules found`)]);
  });
});
