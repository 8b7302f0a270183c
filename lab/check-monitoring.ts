/**
 * The monitoring's bring-up step and lab checks (issue 14), on the lab's real servers with ./monitoring.ts:
 * `npm run status`'s report from the management network (every tenant via vpn1-udp; after the failover via vpn2; a
 * deleted tenant absent), no exporter or Prometheus reachable from a tenant's tunnel or router, and an instance
 * killed firing LrInstanceDown within its `for:`.
 */
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import type { ServerName, TenantPlan } from "../plan/types";
import { collectStatus } from "../stack/status-collect";
import { statusCode, type StatusReport } from "../stack/status";
import { SERVICES_CHAIN, SERVICES_PUBLIC_IF, servicesFirewallScript } from "../render/services";
import { fail } from "./check-kit";
import { must, run, sleep } from "./exec";
import type { Lab } from "./lab";
import { MonitoringSite } from "./monitoring";
import { tcpOpens } from "./probe";
import { startClient, stopClient } from "./clients";
import { applyTenant, deleteTenant, instanceLog, startInstance } from "./servers";

const sites = new WeakMap<Lab, MonitoringSite>();

/** The lab's monitoring, once startMonitoring ran. */
export function siteOf(lab: Lab): MonitoringSite {
  return sites.get(lab) ?? fail("monitoring is not up (lab/bringup.ts: startMonitoring after the VPN servers)");
}

/** Bring-up step, after both VPN servers' instances are up: exporters, lr-metrics, Prometheus, Alertmanager. */
export async function startMonitoring(lab: Lab): Promise<string> {
  const ns: Record<string, string> = { vpn1: lab.ns.vpn1, vpn2: lab.ns.vpn2, services: lab.ns.svc, ...lab.ns.nodes };
  const logsOf = (name: ServerName) => lab.plan.servers.find((s) => s.name === name)!.instances.map((i) => ({ path: instanceLog(lab, i.id), pid: () => lab.servers.get(i.id)?.pid ?? 0 }));
  const instanceLogs = { vpn1: logsOf("vpn1"), vpn2: logsOf("vpn2") };
  const tenantCerts = Object.fromEntries([...lab.clientCerts].map(([k, c]) => [k, new Date(new X509Certificate(c.certPem).validTo).toISOString()]));
  const site = new MonitoringSite({ plan: lab.plan, procs: lab.procs, dir: lab.dirPath("monitoring"), logDir: lab.dirPath("logs"), ns, layouts: lab.layouts, instanceLogs, tenantCerts });
  sites.set(lab, site);
  lab.cleanups.push(() => site.stop());
  return site.start();
}

/** The report `npm run status` prints, taken from the services VM (the management network). */
export function report(lab: Lab): Promise<StatusReport> {
  const site = siteOf(lab);
  return collectStatus(lab.plan, site.mon, site.fetch());
}

/** Polls the report until `ok` holds (lr-metrics runs every metricsInterval, OpenVPN rewrites status every 10 s). */
async function reportUntil(lab: Lab, what: string, ok: (r: StatusReport) => boolean, timeoutMs = 25_000): Promise<{ r: StatusReport; ms: number }> {
  const t0 = Date.now();
  for (;;) {
    const r = await report(lab);
    if (ok(r)) return { r, ms: Date.now() - t0 };
    if (Date.now() - t0 > timeoutMs) fail(`${what}: not within ${timeoutMs} ms; tenants: ${r.tenants.map((t) => `${t.key} ${t.state}${t.via ? ` via ${t.via}` : ""}`).join(", ")}; machines: ${r.servers.map((s) => `${s.server} ${s.reachable ? "up" : `unreachable (${s.error})`}`).join(", ")}`);
    await sleep(500);
  }
}

const vias = (r: StatusReport) => r.tenants.map((t) => `${t.key}=${t.via ?? t.state}`).join(" ");

/** `npm run status` itself (cli/status.ts under tsx) in the services VM, on the stack file the lab wrote. */
export function statusCli(lab: Lab, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const root = join(__dirname, "..");
  return run([join(root, "node_modules", ".bin", "tsx"), join(root, "cli", "status.ts"), "--stack", lab.plan.stack, "--dir", lab.stackDir, "--via", "direct", ...args], { ns: lab.ns.svc, timeoutMs: 60_000 });
}

async function status(lab: Lab): Promise<string> {
  const { ms } = await reportUntil(lab, "every tenant connected via vpn1-udp, every machine answering", (x) => x.servers.every((s) => s.reachable) && x.tenants.every((t) => t.state === "connected" && t.via === "vpn1-udp"));
  // Settled: now the command ops run, in both formats, and a mistyped tenant key.
  const first = lab.plan.tenants[0].key;
  const typo = `${first.slice(0, -1)}${first.endsWith("x") ? "y" : "x"}`;
  const [json, table, wrong] = await Promise.all([statusCli(lab, ["--format", "json"]), statusCli(lab, ["--tenant", first]), statusCli(lab, ["--tenant", typo])]);
  let r: StatusReport;
  try {
    r = JSON.parse(json.stdout) as StatusReport;
  } catch {
    return fail(`npm run status --format json printed no JSON (exit ${json.code}): ${(json.stderr || json.stdout).slice(0, 300)}`);
  }
  const planned = lab.plan.tenants.map((t) => t.key).join(",");
  if (r.tenants.map((t) => t.key).join(",") !== planned) fail(`npm run status lists ${r.tenants.map((t) => t.key).join(", ")}, the plan ${planned}`);
  const off = r.tenants.filter((t) => t.state !== "connected" || t.via !== "vpn1-udp");
  if (off.length) fail(`npm run status: ${off.map((t) => `${t.key} ${t.state}${t.via ? ` via ${t.via}` : ""}`).join(", ")} (want every tenant connected via vpn1-udp)`);
  const down = r.servers.filter((s) => !s.reachable);
  if (down.length) fail(`npm run status: ${down.map((s) => `${s.server} unreachable (${s.error})`).join(", ")}`);
  if (!r.expiring.some((e) => e.kind === "tenant")) fail("no tenant certificate end in npm run status's report");
  if (json.code !== statusCode(r)) fail(`npm run status exited ${json.code}, its report says ${statusCode(r)}`);
  // The table for one tenant: its row only, via vpn1-udp.
  const rows = table.stdout.split("\n");
  const mine = rows.filter((l) => new RegExp(`^\\s*${first}\\b`).test(l));
  if (!mine.some((l) => l.includes("vpn1-udp"))) fail(`npm run status --tenant ${first}: no row for it via vpn1-udp in\n${table.stdout}`);
  const others = lab.plan.tenants.slice(1).filter((t) => rows.some((l) => new RegExp(`^\\s*${t.key}\\b`).test(l)));
  if (others.length) fail(`npm run status --tenant ${first} shows ${others.map((t) => t.key).join(", ")} too`);
  if (wrong.code !== 2 || !wrong.stderr.includes(`did you mean "${first}"`)) fail(`npm run status --tenant ${typo}: exit ${wrong.code}, ${JSON.stringify(wrong.stderr.slice(0, 200))} (want exit 2 and did you mean "${first}")`);
  return `npm run status (json): ${vias(r)}; ${r.servers.length} machines answer; soonest: ${r.expiring[0].kind} ${r.expiring[0].name}; exit ${json.code}; --tenant ${first}: its row only; --tenant ${typo}: did you mean "${first}" (${ms} ms to settle)`;
}

async function failoverStatus(lab: Lab): Promise<string> {
  const { r, ms } = await reportUntil(lab, "every tenant via vpn2 after the failover", (x) => x.tenants.every((t) => t.state === "connected" && t.via?.startsWith("vpn2-") === true));
  return `${vias(r)} (${ms} ms after the failover check)`;
}

/** The tun device of a tenant's client namespace. */
async function clientTun(lab: Lab, t: TenantPlan): Promise<string> {
  const out = (await run(["ip", "-o", "link", "show", "type", "tun"], { ns: lab.ns.c[t.key] })).stdout;
  return /^\d+: ([^:@\s]+)/m.exec(out)?.[1] ?? fail(`${t.key}: no tun device in its client namespace`);
}

/** The listeners by machine: each exporter, and Prometheus and Alertmanager on the services VM. */
function listeners(site: MonitoringSite): { server: string; ip: string; port: number }[] {
  const m = site.mon;
  return [...m.exporters.map((e) => ({ server: e.server, ip: e.ip, port: e.port })), { server: "services", ip: m.prometheus.ip, port: m.prometheus.port }, { server: "services", ip: m.alertmanager.ip, port: m.alertmanager.port }];
}

/** Which of `targets` open from every tenant's router, each management address routed to that machine's public one. */
async function fromRouters(lab: Lab, targets: readonly { server: string; ip: string; port: number }[]): Promise<string[]> {
  const publicOf = (server: string) => (server === "services" ? lab.plan.services.publicIp : lab.plan.servers.find((s) => s.name === server)?.publicIp);
  const routed = targets.filter((t) => publicOf(t.server));
  const ips = [...new Set(routed.map((t) => t.ip))];
  const found: string[] = [];
  for (const t of lab.plan.tenants) {
    const ns = lab.ns.lr[t.key];
    for (const ip of ips) await run(["ip", "route", "replace", `${ip}/32`, "via", publicOf(routed.find((x) => x.ip === ip)!.server)!], { ns });
    const open = await Promise.all(routed.map((x) => tcpOpens(ns, x.ip, x.port).then((ok) => (ok ? `${t.key}'s router reaches ${x.ip}:${x.port} via ${publicOf(x.server)}` : undefined))));
    for (const ip of ips) await run(["ip", "route", "del", `${ip}/32`], { ns });
    found.push(...open.filter((x): x is string => x !== undefined));
  }
  return found;
}

async function closed(lab: Lab): Promise<string> {
  const site = siteOf(lab);
  const targets = listeners(site);
  // Control: each answers on the management network (from the services VM).
  for (const { ip, port } of targets) if (!(await tcpOpens(lab.ns.svc, ip, port))) fail(`control: ${ip}:${port} does not answer from the services VM`);
  // Through each tenant's tunnel: the management network routed over its own tun (what a hostile client can do).
  const tunnel: Promise<string | undefined>[] = [];
  for (const t of lab.plan.tenants) {
    const c = lab.ns.c[t.key];
    await run(["ip", "route", "replace", lab.plan.mgmt.cidr, "dev", await clientTun(lab, t)], { ns: c });
    for (const { ip, port } of targets) tunnel.push(tcpOpens(c, ip, port).then((ok) => (ok ? `${t.key}'s tunnel reaches ${ip}:${port}` : undefined)));
  }
  const viaTunnel = (await Promise.all(tunnel)).filter((x): x is string => x !== undefined);
  for (const t of lab.plan.tenants) await run(["ip", "route", "del", lab.plan.mgmt.cidr], { ns: lab.ns.c[t.key] });
  if (viaTunnel.length) fail(viaTunnel.join("; "));
  // From each tenant's router on the public bridge: the VPN servers' LR-IN and the services VM's LR-PUB drop it. The lab
  // does not load LR-PUB itself: without it the services VM's listeners open (the control), with it they must not.
  const svcHasPub = (await run(["iptables", "-C", "INPUT", "-i", SERVICES_PUBLIC_IF, "-j", SERVICES_CHAIN], { ns: lab.ns.svc })).code === 0;
  let control = "";
  if (!svcHasPub) {
    const open = await fromRouters(lab, targets.filter((t) => t.server === "services"));
    if (!open.length) fail("control: without LR-PUB no tenant router reaches the services VM's listeners (the probe proves nothing)");
    control = `; control without LR-PUB: ${open.length} open`;
    await must(["bash", "-c", servicesFirewallScript(lab.plan)], { ns: lab.ns.svc });
  }
  try {
    const viaRouter = await fromRouters(lab, targets);
    if (viaRouter.length) fail(viaRouter.join("; "));
  } finally {
    if (!svcHasPub) {
      await run(["iptables", "-D", "INPUT", "-i", SERVICES_PUBLIC_IF, "-j", SERVICES_CHAIN], { ns: lab.ns.svc });
      await run(["iptables", "-F", SERVICES_CHAIN], { ns: lab.ns.svc });
      await run(["iptables", "-X", SERVICES_CHAIN], { ns: lab.ns.svc });
    }
  }
  return `${targets.length} listeners: none opens from ${lab.plan.tenants.length} tenants' tunnels or routers (the rendered LR-IN, LR-PUB${svcHasPub ? "" : " loaded for the check"})${control}; all open from the services VM`;
}

async function instanceDown(lab: Lab): Promise<string> {
  const site = siteOf(lab);
  const id = "vpn1-tcp" as const;
  const p = lab.servers.get(id) ?? fail(`${id} is not running`);
  const forMs = Number(/^(\d+)s$/.exec(site.mon.for.instanceDown)?.[1] ?? fail(`lab instanceDown ${site.mon.for.instanceDown} is not in seconds`)) * 1000;
  const step = site.everyMs();
  const t0 = Date.now();
  await lab.procs.kill(p);
  lab.servers.delete(id);
  try {
    // lr-metrics sees the process gone at its next run (its status file would stay fresh for up to 22 s), then a
    // scrape and a rule evaluation: pending within a few periods; then the rule's for:.
    const pending = await site.waitForAlert("LrInstanceDown", { id }, "pending", 4 * step + 3000);
    const firing = await site.waitForAlert("LrInstanceDown", { id }, "firing", forMs + 2 * step + 3000);
    if (firing < forMs - step) fail(`LrInstanceDown fired ${firing} ms after pending, before its for: ${site.mon.for.instanceDown}`);
    const down = (await site.alerts()).filter((a) => a.labels.alertname === "LrInstanceDown");
    const want = { id, proto: "tcp", server: "vpn1", severity: "page" };
    if (down.length !== 1 || Object.entries(want).some(([k, v]) => down[0].labels[k] !== v)) fail(`LrInstanceDown alerts: ${JSON.stringify(down.map((a) => a.labels))}; want exactly one with ${JSON.stringify(want)}`);
    const fired = Date.now() - t0;
    await startInstance(lab, "vpn1", "tcp");
    const gone = await site.waitForAlert("LrInstanceDown", { id }, "gone", 15_000 + 2 * step);
    return `${id} SIGKILLed: pending after ${(pending / 1000).toFixed(1)} s, firing ${(fired / 1000).toFixed(1)} s after the kill (for: ${site.mon.for.instanceDown}); restarted, resolved ${(gone / 1000).toFixed(1)} s later`;
  } finally {
    if (!lab.servers.has(id)) await startInstance(lab, "vpn1", "tcp");
  }
}

async function deleted(lab: Lab): Promise<string> {
  const t = lab.plan.tenants[lab.plan.tenants.length - 1];
  for (const s of lab.plan.servers) await deleteTenant(lab, s.name, t);
  const gone = await reportUntil(lab, `${t.key} absent after its delete`, (r) => r.tenants.find((x) => x.key === t.key)?.state === "absent");
  for (const s of lab.plan.servers) await applyTenant(lab, s.name, t);
  // The delete ended its session; the client would retry only at its ping-restart: restarted, it connects at once.
  await stopClient(lab, t);
  await startClient(lab, t);
  const back = await reportUntil(lab, `${t.key} connected again after its apply`, (r) => r.tenants.find((x) => x.key === t.key)?.state === "connected");
  return `${t.key} deleted: absent from the report after ${gone.ms} ms; re-applied, client restarted: connected via ${back.r.tenants.find((x) => x.key === t.key)?.via} after ${back.ms} ms`;
}

const MON = "the monitoring reads the servers' own files and logs: the tenant network behind them plays no part";

export const MONITORING_CHECKS = {
  status: { id: "monitoring-status", modeIndependent: MON, title: "npm run status from the management network: every machine answers, every tenant connected via vpn1-udp, certificate ends listed", run: status },
  closed: { id: "monitoring-closed", modeIndependent: MON, title: "no exporter, Prometheus or Alertmanager opens from a tenant's tunnel or router; all do from the services VM", run: closed },
  instanceDown: { id: "monitoring-alert", modeIndependent: MON, title: "vpn1-tcp killed: LrInstanceDown pending, then firing after its for:, resolved once restarted", run: instanceDown },
  failover: { id: "monitoring-failover", modeIndependent: MON, title: "after the failover: npm run status shows every tenant via vpn2", run: failoverStatus },
  deleted: { id: "monitoring-delete", modeIndependent: MON, title: "a tenant deleted on both servers is absent from npm run status; re-applied, it is connected again", run: deleted },
} as const;
