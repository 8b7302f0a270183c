/**
 * What runs on every machine: Debian's node exporter on the machine's management address only, and on the VPN
 * servers lr-metrics (render/scripts/lr-metrics.py) under a systemd timer, writing into the exporter's textfile
 * directory. Pure text.
 */
import type { ExporterTarget, MonitoringPlan } from "../../plan/monitoring";
import type { ServerPlan } from "../../plan/types";
import { BAN_SET, BAN_TABLE } from "../bans/enforce";
import type { ServerLayout } from "../layout";
import { openvpnFilePaths } from "../openvpn-server";
import type { SetupFile } from "../shell";
import { SANDBOX_LINES } from "../systemd-sandbox";
import { LR_METRICS_PROM, type MonitoringPaths } from "./paths";

/** The `status <file> <seconds>` period of every instance (render/openvpn-server.ts; test/render/monitoring pins the two). */
export const STATUS_EVERY_SECONDS = 10;

/**
 * Interfaces with one per tenant (Proxmox's tap/fwbr/fwpr/fwln per VM NIC, the VPN servers' vl<vlan>/vx<slot> links,
 * the lab's veths) and lo: left out of netdev and netclass, or 500 tenants make ~40,000 series on the host alone.
 * lr-metrics reports each tenant's traffic instead. No `$`, quote, backslash or blank: it goes through Debian's ARGS.
 */
export const PER_TENANT_DEVICES = "^(lo|(tap|fwbr|fwln)[0-9]+i[0-9]+|fwpr[0-9]+p[0-9]+|vl[0-9]+|vx[0-9]+|veth.*)";

/** The node exporter's command line: the management address only, the textfile directory, no per-tenant interface. */
export function nodeExporterArgs(target: ExporterTarget, p: MonitoringPaths): string[] {
  return [
    `--web.listen-address=${target.address}`,
    `--collector.textfile.directory=${p.textfileDir}`,
    `--collector.netdev.device-exclude=${PER_TENANT_DEVICES}`,
    `--collector.netclass.ignored-devices=${PER_TENANT_DEVICES}`,
    "--no-collector.wifi",
    "--no-collector.infiniband",
    "--no-collector.nfs",
    "--no-collector.nfsd",
  ];
}

/** `/etc/default/<package>` holding `ARGS` (Debian's unit runs `<binary> $ARGS`): no word may need quoting. */
export function defaultsFile(p: MonitoringPaths, pkg: string, args: readonly string[]): SetupFile {
  // systemd splits $ARGS at blanks and takes quotes, `$` and backslashes specially in the file: none in a word.
  const bad = args.find((a) => !/^--[a-z0-9.-]+(=[A-Za-z0-9_./:@%^|()[\]+*-]*)?$/.test(a));
  if (bad) throw new Error(`${pkg}: argument ${JSON.stringify(bad)} would need quoting in ${p.defaultsDir}/${pkg}`);
  return { path: `${p.defaultsDir}/${pkg}`, mode: "0644", content: `# ${pkg}: rendered by librerouter-hosting, do not edit.\nARGS="${args.join(" ")}"\n` };
}

/** Where lr-metrics reads the OpenVPN and hook log lines: the instances' journal (production) or files (the lab). */
export type LogSource = { readonly journal: readonly string[] } | { readonly files: readonly string[] };

/** lr-metrics' config on `server` (JSON): every path it reads, from the same layout the setup script writes. */
export function lrMetricsConfig(mon: MonitoringPlan, server: ServerPlan, layout: ServerLayout, p: MonitoringPaths, log: LogSource = { journal: server.instances.map((i) => `openvpn-server@${i.proto}.service`) }): string {
  const o = openvpnFilePaths(layout);
  return `${JSON.stringify(
    {
      server: server.name,
      out: `${p.textfileDir}/${LR_METRICS_PROM}`,
      state: p.lrMetricsState,
      instances: mon.instances.filter((i) => i.server === server.name).map((i) => ({ id: i.id, proto: i.proto, status: o.statusFiles[i.proto], config: o.configs[i.proto], statusEverySeconds: STATUS_EVERY_SECONDS, maxSessions: i.maxSessions })),
      ccdDirs: [o.ccdDirs.udp, o.ccdDirs.tcp],
      pinsDir: o.pinsDir,
      enrolledDir: o.enrolledDir,
      certs: { ca: o.caCert, server: o.serverCert },
      log,
      bans: { family: "inet", table: BAN_TABLE, set: BAN_SET },
    },
    null,
    2,
  )}\n`;
}

/** lr-metrics' oneshot unit and its timer (every metricsInterval, first run 10 s after boot). */
export function lrMetricsUnits(mon: MonitoringPlan, p: MonitoringPaths): SetupFile[] {
  return [
    {
      path: `${p.systemdDir}/lr-metrics.service`,
      mode: "0644",
      content: `# lr-metrics: the VPN server's figures for the node exporter; rendered by librerouter-hosting, do not edit.
[Unit]
Description=librerouter metrics (textfile collector)
After=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/bin/python3 ${p.lrMetrics} ${p.lrMetricsConfig}
${SANDBOX_LINES}
ReadWritePaths=${p.textfileDir} ${dirOf(p.lrMetricsState)}
`,
    },
    {
      path: `${p.systemdDir}/lr-metrics.timer`,
      mode: "0644",
      content: `# lr-metrics every ${mon.metricsInterval}; rendered by librerouter-hosting, do not edit.
[Unit]
Description=librerouter metrics every ${mon.metricsInterval}

[Timer]
OnBootSec=10s
OnUnitActiveSec=${mon.metricsInterval}
AccuracySec=1s

[Install]
WantedBy=timers.target
`,
    },
  ];
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}
