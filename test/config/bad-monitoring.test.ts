/** Bad `monitoring:` blocks: durations, ports, the stale window, the refusal threshold, the webhook; exact messages. */
import { validateStack } from "../../plan/validate";
import { DEFAULT_MONITORING } from "../../config/monitoring-schema";
import { baseConfig, configError, type Fixture, loose, withChange } from "./fixture";

type Row = [name: string, mutate: (c: Fixture) => void, text: string[]];
const HEAD = 'stack "test": config has 1 problem (nothing was created):';
const K = "  - librerouter-hosting:monitoring";

const rows: Row[] = [
  ["a duration in words", (c) => void (c.monitoring = { scrapeInterval: "15 seconds" }), [HEAD, `${K}.scrapeInterval: got "15 seconds"; monitoring.scrapeInterval must be a whole number and one unit, s, m, h or d, such as 30s or 5m`]],
  ["a zero scrape interval", (c) => void (c.monitoring = { scrapeInterval: "0s" }), [HEAD, `${K}.scrapeInterval: got "0s"; monitoring.scrapeInterval must be at least 1s`]],
  ["lr-metrics slower than 5m (and no second message about the stale window)", (c) => void (c.monitoring = { metricsInterval: "10m" }), [HEAD, `${K}.metricsInterval: got "10m"; monitoring.metricsInterval must be at most 5m`]],
  ["a privileged port", (c) => void (c.monitoring = { ports: { nodeExporter: 80 } }), [HEAD, `${K}.ports.nodeExporter: got 80; monitoring.ports.nodeExporter must be at least 1024 (an unprivileged port: the exporters do not run as root)`]],
  ["two listeners on one port", (c) => void (c.monitoring = { ports: { prometheus: 9100 } }), [HEAD, `${K}.ports.prometheus: 9100 is also monitoring.ports.nodeExporter; give each its own port`]],
  ["a stale window of one rewrite", (c) => void (c.monitoring = { metricsInterval: "1m", for: { metricsStale: "1m" } }), [HEAD, `${K}.for.metricsStale: 1m must be at least twice monitoring.metricsInterval (1m); raise it or shorten metricsInterval`]],
  ["a misspelt key", (c) => void (loose((c.monitoring = {})).scrapeIntervall = "15s"), [HEAD, `${K}: unknown key "scrapeIntervall" (did you mean "scrapeInterval"?); remove it or fix the spelling (see Pulumi.yaml)`]],
  ["a fractional refusal count", (c) => void (c.monitoring = { refusals: { count: 2.5 } }), [HEAD, `${K}.refusals.count: got 2.5; expected a whole number`]],
  ["an ftp webhook", (c) => void (c.monitoring = { webhookUrl: "ftp://alerts.example.net/" }), [HEAD, `${K}.webhookUrl: got "ftp://alerts.example.net/"; monitoring.webhookUrl must be an http(s) URL`]],
  ["a retention under an hour", (c) => void (c.monitoring = { retention: "30m" }), [HEAD, `${K}.retention: got "30m"; monitoring.retention must be at least 1h`]],
];

describe("bad monitoring config", () => {
  it.each(rows)("%s", (_name, mutate, text) => {
    expect(configError(withChange(baseConfig(), mutate)).message.split("\n")).toEqual(text);
  });

  it("two problems are both listed", () => {
    const e = configError(withChange(baseConfig(), (c) => void (c.monitoring = { refusals: { count: 0, window: "30s" } })));
    expect(e.issues.map((i) => [i.key, i.message])).toEqual([
      ["monitoring.refusals.count", "got 0; monitoring.refusals.count must be at least 1"],
      ["monitoring.refusals.window", 'got "30s"; monitoring.refusals.window must be at least 1m'],
    ]);
  });

  it("a stack without monitoring: gets every default, and a partial block keeps the other defaults", () => {
    expect(validateStack(baseConfig(), "test").config.monitoring).toEqual(DEFAULT_MONITORING);
    const partial = validateStack(withChange(baseConfig(), (c) => void (c.monitoring = { for: { instanceDown: "30s" } })), "test").config.monitoring;
    expect(partial).toEqual({ ...DEFAULT_MONITORING, for: { ...DEFAULT_MONITORING.for, instanceDown: "30s" } });
    expect(DEFAULT_MONITORING).toEqual({
      enabled: true,
      scrapeInterval: "15s",
      metricsInterval: "15s",
      ports: { nodeExporter: 9100, prometheus: 9090, alertmanager: 9093 },
      for: { instanceDown: "1m", serverDown: "1m", certExpiry: "10m", refusals: "2m", capacity: "15m", metricsStale: "5m" },
      refusals: { count: 5, window: "10m" },
      retention: "15d",
    });
  });
});
