/** The monitoring's rendered files: listeners on management addresses only, paths shared with OpenVPN, clean shell. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { hostExporterRules } from "../../render/monitoring/firewall";
import { certsTextfile } from "../../render/monitoring/certs";
import { PER_TENANT_DEVICES, STATUS_EVERY_SECONDS, defaultsFile, lrMetricsConfig, lrMetricsUnits, nodeExporterArgs } from "../../render/monitoring/exporter";
import { PRODUCTION_MONITORING_PATHS as P } from "../../render/monitoring/paths";
import { alertmanagerArgs, alertmanagerConfig, prometheusArgs, prometheusConfig } from "../../render/monitoring/server";
import { type MonitoringMember, memberParts, monitoringSetupScript, monitoringTeardownScript } from "../../render/monitoring/setup";
import { PRODUCTION_SERVER_LAYOUT } from "../../render/layout";
import { openvpnFilePaths, renderServerConfig } from "../../render/openvpn-server";
import { shellcheck } from "../tools/shellcheck";
import { monitored } from "./monitoring/fixture";

const { plan, mon } = monitored();
const [vpn1] = plan.servers;
const members: MonitoringMember[] = [
  { role: "vpn", server: vpn1, layout: PRODUCTION_SERVER_LAYOUT },
  { role: "services", certs: certsTextfile({ acme: "2027-01-01T00:00:00Z" }) },
  { role: "host", name: "pve1" },
];

describe("monitoring renders", () => {
  it("every listener is on a management address, none on 0.0.0.0 or a public one; Alertmanager opens no gossip port", () => {
    const listens = [...mon.exporters.map((e) => nodeExporterArgs(e, P)[0]), prometheusArgs(mon, P)[3], alertmanagerArgs(mon, P)[2]];
    expect(listens).toEqual([
      `--web.listen-address=${vpn1.mgmtIp}:9100`,
      `--web.listen-address=${plan.servers[1].mgmtIp}:9100`,
      `--web.listen-address=${plan.services.mgmtIp}:9100`,
      `--web.listen-address=${plan.host.mgmtIp}:9100`,
      `--web.listen-address=${plan.services.mgmtIp}:9090`,
      `--web.listen-address=${plan.services.mgmtIp}:9093`,
    ]);
    expect(alertmanagerArgs(mon, P)).toContain("--cluster.listen-address=");
  });

  it("Debian's ARGS file refuses a word that would need quoting", () => {
    expect(defaultsFile(P, "prometheus", ["--a=b"]).content).toBe('# prometheus: rendered by librerouter-hosting, do not edit.\nARGS="--a=b"\n');
    expect(() => defaultsFile(P, "prometheus", ["--a=b c"])).toThrow('prometheus: argument "--a=b c" would need quoting in /etc/default/prometheus');
    expect(() => defaultsFile(P, "prometheus", ["--a=x$"])).toThrow("would need quoting");
    expect(defaultsFile(P, "prometheus-node-exporter", nodeExporterArgs(mon.exporters[0], P)).content).toContain(`--collector.netdev.device-exclude=${PER_TENANT_DEVICES} `);
  });

  it("per-tenant interfaces (Proxmox's per-NIC devices, VPN tenant links) and lo are no series; the servers' own NICs and tuns are", () => {
    const re = new RegExp(PER_TENANT_DEVICES);
    const names = ["lo", "tap1001i0", "fwbr1001i1", "fwpr1001p0", "fwln1001i0", "vl101", "vx42", "veth3", "eth0", "eth2", "vmbr0", "tun-udp", "tun-tcp", "bond0"];
    expect(names.filter((n) => !re.test(n))).toEqual(["eth0", "eth2", "vmbr0", "tun-udp", "tun-tcp", "bond0"]);
  });

  it("prometheus.yml scrapes every exporter with its machine and role, and alerts to the Alertmanager", () => {
    const doc = parse(prometheusConfig(mon, "test", P));
    expect(doc.scrape_configs[0].static_configs).toEqual(mon.exporters.map((e) => ({ targets: [e.address], labels: { server: e.server, role: e.role } })));
    expect(doc.alerting.alertmanagers[0].static_configs[0].targets).toEqual([`${plan.services.mgmtIp}:9093`]);
    expect(doc.rule_files).toEqual([P.rulesFile]);
  });

  it("Alertmanager: a webhook receiver only when configured", () => {
    expect(parse(alertmanagerConfig(mon, "test")).receivers).toEqual([{ name: "ops" }]);
    const hooked = monitored((c) => void (c.monitoring = { webhookUrl: "https://alerts.example.net/hook" })).mon;
    expect(parse(alertmanagerConfig(hooked, "test")).receivers).toEqual([{ name: "ops", webhook_configs: [{ url: "https://alerts.example.net/hook", send_resolved: true }] }]);
  });

  it("lr-metrics reads the very files the OpenVPN configs write, at their status period and max-clients", () => {
    const cfg = JSON.parse(lrMetricsConfig(mon, vpn1, PRODUCTION_SERVER_LAYOUT, P));
    const o = openvpnFilePaths(PRODUCTION_SERVER_LAYOUT);
    for (const inst of vpn1.instances) {
      const conf = renderServerConfig("test", vpn1, inst, PRODUCTION_SERVER_LAYOUT);
      const mine = cfg.instances.find((i: { id: string }) => i.id === inst.id);
      expect(conf).toContain(`\nstatus ${mine.status} ${STATUS_EVERY_SECONDS}\n`);
      expect(conf).toContain(`\nmax-clients ${mine.maxSessions}\n`);
    }
    expect(cfg).toMatchObject({ server: "vpn1", out: `${P.textfileDir}/lr-metrics.prom`, ccdDirs: [o.ccdDirs.udp, o.ccdDirs.tcp], pinsDir: o.pinsDir, enrolledDir: o.enrolledDir, certs: { ca: o.caCert, server: o.serverCert } });
    expect(cfg.log).toEqual({ journal: ["openvpn-server@udp.service", "openvpn-server@tcp.service"] });
  });

  it("lr-metrics' timer runs at metricsInterval", () => {
    const [svc, timer] = lrMetricsUnits(mon, P);
    expect(svc.content).toContain(`ExecStart=/usr/bin/python3 ${P.lrMetrics} ${P.lrMetricsConfig}\n`);
    expect(timer.content).toContain("\nOnUnitActiveSec=15s\n");
  });

  it("certificate figures: RFC 3339 end times as epoch, every row with the same labels", () => {
    expect(certsTextfile({ beta: "2027-01-01T00:00:00Z", acme: "2026-12-31T23:59:59.5Z" }, { ca: "2036-01-01T00:00:00Z" }).split("\n").filter((l) => !l.startsWith("#"))).toEqual([
      'lr_cert_expiry_timestamp_seconds{kind="tenant",name="acme",tenant="acme"} 1798761599',
      'lr_cert_expiry_timestamp_seconds{kind="tenant",name="beta",tenant="beta"} 1798761600',
      'lr_cert_expiry_timestamp_seconds{kind="ca",name="ca",tenant=""} 2082758400',
      "",
    ]);
    expect(() => certsTextfile({ acme: "soon" })).toThrow('certificate of acme: end time "soon" is not RFC 3339');
  });

  it("which machine gets which packages and units", () => {
    expect(members.map((m) => [memberParts(mon, "test", m, P).packages, memberParts(mon, "test", m, P).units])).toEqual([
      [["prometheus-node-exporter"], ["prometheus-node-exporter.service", "lr-metrics.timer"]],
      [["prometheus-node-exporter", "prometheus", "prometheus-alertmanager"], ["prometheus-node-exporter.service", "prometheus.service", "prometheus-alertmanager.service"]],
      [["prometheus-node-exporter"], ["prometheus-node-exporter.service"]],
    ]);
  });

  it.each(members.map((m) => [m.role, m] as const))("%s: setup and removal scripts are shellcheck-clean; packages install with services held", (_role, m) => {
    const setup = monitoringSetupScript(mon, "test", m, P);
    expect(shellcheck(setup)).toEqual({ ok: true, report: "" });
    expect(shellcheck(monitoringTeardownScript(mon, "test", m, P))).toEqual({ ok: true, report: "" });
    // Held, and the hold lifted, around the only apt-get.
    const apt = setup.indexOf("apt-get install");
    expect([setup.lastIndexOf("exit 101", apt) > 0, setup.indexOf("rm -f /usr/sbin/policy-rc.d", apt) > apt]).toEqual([true, true]);
  });

  it("the host lets only the services VM's Prometheus reach its exporter", () => {
    expect(hostExporterRules(plan, mon, "LR-MGMT")).toEqual([`-A LR-MGMT -s ${plan.services.mgmtIp}/32 -d ${plan.host.mgmtIp}/32 -p tcp -m tcp --dport 9100 -j ACCEPT`]);
    expect(hostExporterRules(plan, { ...mon, enabled: false }, "LR-MGMT")).toEqual([]);
  });
  it.each(members.map((m) => [m.role, m] as const))("%s: the setup script run for real (LR_SERVICES=none, files under a scratch root): every file as rendered; again: nothing changes; removal: none left", (_role, m) => {
    const root = mkdtempSync(join(tmpdir(), "lr-mon-setup-"));
    try {
      const under = Object.fromEntries(Object.entries(P).map(([k, v]) => [k, `${root}${v}`])) as unknown as typeof P;
      const run = (script: string) => spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, LR_SERVICES: "none" } });
      const first = run(monitoringSetupScript(mon, "test", m, under));
      expect([first.status, first.stderr]).toEqual([0, ""]);
      const { files } = memberParts(mon, "test", m, under);
      expect(first.stdout).toBe(`monitoring on ${m.role === "vpn" ? "vpn1" : m.role === "services" ? "services" : "pve1"}: ${files.length} files changed\n`);
      for (const [f] of files) expect([f.path, readFileSync(f.path, "utf8"), (statSync(f.path).mode & 0o777).toString(8)]).toEqual([f.path, f.content, f.mode.slice(1)]);
      expect(run(monitoringSetupScript(mon, "test", m, under)).stdout).toMatch(/: 0 files changed\n$/);
      expect(run(monitoringTeardownScript(mon, "test", m, under)).status).toBe(0);
      expect(files.filter(([f]) => existsSync(f.path)).map(([f]) => f.path)).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
