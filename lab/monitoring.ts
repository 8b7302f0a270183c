/**
 * The monitoring in network namespaces (issue 14), from the rendered files: Debian's node exporter with the
 * rendered command line on every machine's management address, lr-metrics on the VPN servers (run every
 * metricsInterval, as its timer does) reading the instances' logs through a relay in `journalctl -o short-unix`
 * form, Prometheus and Alertmanager in the services VM with the rendered configs and rules. The lab runs it with
 * short periods (LAB_MONITORING) so an alert fires within seconds. Debian's own units play no part.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type MonitoringConfig, monitoringSchema } from "../config/monitoring-schema";
import { type ExporterTarget, type MonitoringPlan, planMonitoring } from "../plan/monitoring";
import type { Plan, ServerName } from "../plan/types";
import { certsTextfile } from "../render/monitoring/certs";
import { lrMetricsConfig, nodeExporterArgs } from "../render/monitoring/exporter";
import { LR_CERTS_PROM, type MonitoringPaths } from "../render/monitoring/paths";
import { rulesFile } from "../render/monitoring/rules";
import { alertmanagerArgs, alertmanagerConfig, prometheusArgs, prometheusConfig } from "../render/monitoring/server";
import { LR_METRICS_PY } from "../render/monitoring/setup";
import type { ServerLayout } from "../render/layout";
import type { FetchText } from "../stack/status-collect";
import type { PromAlert } from "../stack/status";
import { must, run, sleep } from "./exec";
import { startJournal } from "./journal";
import { LAB_MONITORING_INPUT } from "./stack";
import type { Proc, Procs } from "./procs";

/** The lab stack's monitoring block (lab/stack.ts), parsed. */
export const LAB_MONITORING: MonitoringConfig = monitoringSchema.parse(LAB_MONITORING_INPUT);

/** A machine's monitoring files under `<dir>/<machine>/`, production's shape. */
export function labMonitoringPaths(dir: string, machine: string): MonitoringPaths {
  const b = join(dir, machine);
  return {
    textfileDir: `${b}/textfile`,
    defaultsDir: `${b}/default`,
    prometheusConfig: `${b}/prometheus/prometheus.yml`,
    rulesFile: `${b}/prometheus/lr-alerts.yml`,
    prometheusData: `${b}/prometheus/data`,
    alertmanagerConfig: `${b}/prometheus/alertmanager.yml`,
    alertmanagerData: `${b}/alertmanager`,
    lrMetrics: `${b}/bin/lr-metrics.py`,
    lrMetricsConfig: `${b}/lr-metrics.json`,
    lrMetricsState: `${b}/state/lr-metrics-state.json`,
    systemdDir: `${b}/systemd`,
  };
}

const STAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) (.*)$/;
const MACHINE = /^(\d+\.\d+) [0-9a-fA-Fx]+ (.*)$/;

/**
 * An openvpn log line as `journalctl -o short-unix` prints it: `--machine-readable-output`'s `<epoch.usec> <flags>`,
 * or the default `YYYY-MM-DD HH:MM:SS` (local time, whole seconds); a hook's bare line gets `now`, as the journal
 * stamps it when it arrives.
 */
export function shortUnixLine(line: string, host: string, pid: number, now: Date): string {
  const m = MACHINE.exec(line);
  if (m) return `${m[1]} ${host} openvpn[${pid}]: ${m[2]}`;
  const s = STAMP.exec(line);
  if (s) {
    const [, y, mo, d, h, mi, sec, msg] = s;
    const at = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)).getTime() / 1000;
    return `${at.toFixed(6)} ${host} openvpn[${pid}]: ${msg}`;
  }
  return `${(now.getTime() / 1000).toFixed(6)} ${host} openvpn[${pid}]: ${line}`;
}

/** `fetchText` from inside namespace `ns` (curl there: the lab's machines are not reachable from the root namespace). */
export function nsFetch(ns: string, timeoutMs = 3000): FetchText {
  return async (url) => {
    const r = await run(["curl", "-sS", "-f", "--max-time", String(Math.ceil(timeoutMs / 1000)), url], { ns, timeoutMs: timeoutMs + 2000 });
    if (r.code !== 0) throw new Error(r.stderr.trim().replace(/^curl: \(\d+\) /, "") || `curl exit ${r.code}`);
    return r.stdout;
  };
}

/** Where a machine of the monitoring runs in this lab. */
export interface MonitoredMachine {
  readonly target: ExporterTarget;
  readonly ns: string;
}

/** A VPN server's instance logs as lr-metrics reads them: each log file, and the pid writing it now. */
export interface InstanceLogSource {
  readonly path: string;
  readonly pid: () => number;
}

export interface MonitoringSiteArgs {
  readonly plan: Plan;
  readonly procs: Procs;
  /** Root of the monitoring's files. */
  readonly dir: string;
  readonly logDir: string;
  /** Namespace of each machine by its exporter name (vpn1, vpn2, services, each node). */
  readonly ns: Readonly<Record<string, string>>;
  readonly layouts: Readonly<Record<ServerName, ServerLayout>>;
  readonly instanceLogs: Readonly<Record<ServerName, readonly InstanceLogSource[]>>;
  /** Each tenant's client certificate end (RFC 3339), for the services VM's textfile. */
  readonly tenantCerts: Readonly<Record<string, string>>;
  readonly config?: MonitoringConfig;
  readonly warnAt?: number;
}

/** The monitoring of one lab run: start() brings everything up; stop() ends the in-process loops (procs stop with the lab). */
export class MonitoringSite {
  readonly mon: MonitoringPlan;
  readonly exporters = new Map<string, Proc>();
  prometheus?: Proc;
  alertmanager?: Proc;
  private readonly loops: (() => void)[] = [];
  /** Each VPN server's lr-metrics config path. */
  readonly lrConfigs = new Map<ServerName, string>();

  constructor(readonly a: MonitoringSiteArgs) {
    this.mon = planMonitoring(a.plan, a.config ?? LAB_MONITORING, a.warnAt ?? 0.9);
  }

  paths(machine: string): MonitoringPaths {
    return labMonitoringPaths(this.a.dir, machine);
  }

  get servicesNs(): string {
    return this.a.ns.services;
  }

  /** HTTP from the services VM (Prometheus' home): what the status CLI sees from the management network. */
  fetch(timeoutMs = 3000): FetchText {
    return nsFetch(this.servicesNs, timeoutMs);
  }

  /** Starts one machine's node exporter on its management address, as the rendered ARGS say. */
  async startExporter(server: string): Promise<Proc> {
    const target = this.mon.exporters.find((e) => e.server === server);
    if (!target) throw new Error(`monitoring: no exporter planned for ${server}`);
    const p = this.paths(server);
    mkdirSync(p.textfileDir, { recursive: true });
    const proc = await this.a.procs.start(`node-exporter-${server}`, this.a.ns[server], ["prometheus-node-exporter", ...nodeExporterArgs(target, p)], join(this.a.logDir, `node-exporter-${server}.log`), { ready: /Listening on/ });
    this.exporters.set(server, proc);
    return proc;
  }

  /** lr-metrics once on `server` (in its namespace: it reads the ban set there). */
  async runLrMetrics(server: ServerName): Promise<void> {
    const cfg = this.lrConfigs.get(server);
    if (!cfg) throw new Error(`lr-metrics is not set up on ${server}`);
    await must(["python3", this.paths(server).lrMetrics, cfg], { ns: this.a.ns[server], timeoutMs: 20_000 });
  }

  /** lr-metrics' files on a VPN server and its loop every metricsInterval (the timer), fed by a relay of the instance logs. */
  setupLrMetrics(server: ServerName): void {
    const p = this.paths(server);
    for (const d of [p.textfileDir, join(p.lrMetrics, ".."), join(p.lrMetricsState, "..")]) mkdirSync(d, { recursive: true });
    writeFileSync(p.lrMetrics, LR_METRICS_PY, { mode: 0o755 });
    const journal = join(this.a.dir, server, "journal-short-unix.log");
    const relay = startJournal(journal, server, this.a.instanceLogs[server], 100, shortUnixLine);
    this.loops.push(relay.stop);
    const sp = this.a.plan.servers.find((s) => s.name === server)!;
    writeFileSync(p.lrMetricsConfig, lrMetricsConfig(this.mon, sp, this.a.layouts[server], p, { files: [journal] }));
    this.lrConfigs.set(server, p.lrMetricsConfig);
  }

  /** Repeats lr-metrics on every VPN server every metricsInterval until stop(). */
  startLrMetricsLoop(everyMs: number): void {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async () => {
      const t0 = Date.now();
      // A failed run shows as stale figures (LrMetricsStale), as a failed timer run would.
      await Promise.all([...this.lrConfigs.keys()].map((s) => this.runLrMetrics(s).catch(() => undefined)));
      if (!stopped) timer = setTimeout(() => void tick(), Math.max(50, everyMs - (Date.now() - t0)));
    };
    timer = setTimeout(() => void tick(), everyMs);
    this.loops.push(() => {
      stopped = true;
      clearTimeout(timer);
    });
  }

  /** Prometheus and Alertmanager in the services VM with the rendered configs and rules. */
  async startServer(): Promise<void> {
    const p = this.paths("services");
    mkdirSync(join(p.prometheusConfig, ".."), { recursive: true });
    writeFileSync(p.prometheusConfig, prometheusConfig(this.mon, this.a.plan.stack, p));
    writeFileSync(p.rulesFile, rulesFile(this.mon, this.a.plan.stack));
    writeFileSync(p.alertmanagerConfig, alertmanagerConfig(this.mon, this.a.plan.stack));
    mkdirSync(p.textfileDir, { recursive: true });
    writeFileSync(join(p.textfileDir, LR_CERTS_PROM), certsTextfile(this.a.tenantCerts));
    const ns = this.servicesNs;
    [this.prometheus, this.alertmanager] = await Promise.all([
      this.a.procs.start("prometheus", ns, ["prometheus", ...prometheusArgs(this.mon, p)], join(this.a.logDir, "prometheus.log"), { ready: /Server is ready to receive web requests/, timeoutMs: 30_000 }),
      this.a.procs.start("alertmanager", ns, ["prometheus-alertmanager", ...alertmanagerArgs(this.mon, p)], join(this.a.logDir, "alertmanager.log"), { ready: /Listening/, timeoutMs: 30_000 }),
    ]);
  }

  /** Every piece, in order: lr-metrics' first figures before the exporters serve them, Prometheus last. */
  async start(): Promise<string> {
    const vpns = this.a.plan.servers.map((s) => s.name);
    for (const s of vpns) this.setupLrMetrics(s);
    await Promise.all(vpns.map((s) => this.runLrMetrics(s)));
    await Promise.all(this.mon.exporters.map((e) => this.startExporter(e.server)));
    this.startLrMetricsLoop(this.everyMs());
    await this.startServer();
    return `${this.mon.exporters.length} node exporters (${this.mon.exporters.map((e) => e.address).join(", ")}), lr-metrics on ${vpns.join(", ")} every ${this.mon.metricsInterval}, Prometheus ${this.mon.prometheus.url} and Alertmanager ${this.mon.alertmanager.url}`;
  }

  everyMs(): number {
    return Number(/^(\d+)s$/.exec(this.mon.metricsInterval)?.[1] ?? 15) * 1000;
  }

  /** Prometheus' alerts now (pending and firing). */
  async alerts(): Promise<PromAlert[]> {
    const doc = JSON.parse(await this.fetch()(`${this.mon.prometheus.url}api/v1/alerts`)) as { data: { alerts: PromAlert[] } };
    return doc.data.alerts;
  }

  /** Waits until an alert named `name` with labels `match` is in `state`; resolves with the ms it took. */
  async waitForAlert(name: string, match: Readonly<Record<string, string>>, state: "pending" | "firing" | "gone", timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const hit = (await this.alerts().catch(() => [])).find((a) => a.labels.alertname === name && Object.entries(match).every(([k, v]) => a.labels[k] === v));
      if (state === "gone" ? !hit : hit?.state === state) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs) throw new Error(`${name} ${JSON.stringify(match)} not ${state} within ${timeoutMs} ms (now: ${hit?.state ?? "absent"})`);
      await sleep(250);
    }
  }

  stop(): void {
    for (const l of this.loops.splice(0)) l();
  }
}
