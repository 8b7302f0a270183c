/**
 * The monitoring's setup script per machine (bash, fed on stdin) and its removal. Debian's packages are installed
 * with their services held back (policy-rc.d): their defaults listen on every address, ours only on the management
 * one, so nothing starts before our `/etc/default` files are in place. Env `LR_SERVICES=systemd|none` (`none`: the
 * lab and e2e tests, files only). Pure text.
 */
import type { MonitoringPlan } from "../../plan/monitoring";
import type { ServerPlan } from "../../plan/types";
import type { ServerLayout } from "../layout";
import { scriptFile } from "../script-file";
import { LR_WRITE_FN, type SetupFile, scriptHead, shq, writeFile } from "../shell";
import { defaultsFile, type LogSource, lrMetricsConfig, lrMetricsUnits, nodeExporterArgs } from "./exporter";
import { LR_CERTS_PROM, type MonitoringPaths } from "./paths";
import { rulesFile } from "./rules";
import { alertmanagerArgs, prometheusArgs, serverFiles } from "./server";

export const LR_METRICS_PY = scriptFile("lr-metrics.py");

/** A machine's part: a VPN server (lr-metrics), the services VM (Prometheus, Alertmanager, the certificate figures) or a node. */
export type MonitoringMember = { readonly role: "vpn"; readonly server: ServerPlan; readonly layout: ServerLayout; readonly log?: LogSource } | { readonly role: "services"; readonly certs: string } | { readonly role: "host"; readonly name: string };

const nameOf = (m: MonitoringMember) => (m.role === "vpn" ? m.server.name : m.role === "services" ? "services" : m.name);

/** Debian packages, units to run, and files (with owners) of one member. */
export function memberParts(mon: MonitoringPlan, stack: string, m: MonitoringMember, p: MonitoringPaths): { packages: string[]; units: string[]; files: [SetupFile, string][]; unitFiles: SetupFile[] } {
  const target = mon.exporters.find((e) => e.server === nameOf(m));
  if (!target) throw new Error(`monitoring: no exporter planned for ${nameOf(m)}`);
  const root = (f: SetupFile): [SetupFile, string] => [f, "root:root"];
  const files: [SetupFile, string][] = [root(defaultsFile(p, "prometheus-node-exporter", nodeExporterArgs(target, p)))];
  const packages = ["prometheus-node-exporter"];
  const units = ["prometheus-node-exporter.service"];
  const unitFiles: SetupFile[] = [];
  if (m.role === "vpn") {
    files.push(root({ path: p.lrMetrics, mode: "0755", content: LR_METRICS_PY }), root({ path: p.lrMetricsConfig, mode: "0644", content: lrMetricsConfig(mon, m.server, m.layout, p, m.log) }));
    unitFiles.push(...lrMetricsUnits(mon, p));
    units.push("lr-metrics.timer");
  }
  if (m.role === "services") {
    packages.push("prometheus", "prometheus-alertmanager");
    units.push("prometheus.service", "prometheus-alertmanager.service");
    files.push(
      root(defaultsFile(p, "prometheus", prometheusArgs(mon, p))),
      root(defaultsFile(p, "prometheus-alertmanager", alertmanagerArgs(mon, p))),
      root({ path: p.rulesFile, mode: "0644", content: rulesFile(mon, stack) }),
      root({ path: `${p.textfileDir}/${LR_CERTS_PROM}`, mode: "0644", content: m.certs }),
      // The webhook URL may carry a token: readable by Alertmanager's user only.
      ...serverFiles(mon, stack, p).map((f): [SetupFile, string] => [f, f.path === p.alertmanagerConfig ? "root:prometheus" : "root:root"]),
    );
  }
  return { packages, units, files, unitFiles };
}

/** The member's setup script: packages (services held), files, then every unit enabled and restarted when a file changed. */
export function monitoringSetupScript(mon: MonitoringPlan, stack: string, m: MonitoringMember, p: MonitoringPaths): string {
  const { packages, units, files, unitFiles } = memberParts(mon, stack, m, p);
  const list = (xs: readonly string[]) => `(${xs.map(shq).join(" ")})`;
  return `${scriptHead(`monitoring on ${nameOf(m)} (stack ${stack})`, true)}${LR_WRITE_FN}
LR_MON_PACKAGES=${list(packages)}
LR_MON_UNITS=${list(units)}
if [[ $LR_SERVICES == systemd ]]; then
  missing=()
  for pkg in "\${LR_MON_PACKAGES[@]}"; do
    dpkg-query -W -f '\${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
  done
  if ((\${#missing[@]})); then
    # Held: Debian's units would start on every address before our ARGS are written.
    printf '#!/bin/sh\\nexit 101\\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold "\${missing[@]}"
    rm -f /usr/sbin/policy-rc.d
  fi
fi
# lr-metrics' unit needs its writable directories to exist (ReadWritePaths).
mkdir -p ${[p.textfileDir, ...(m.role === "vpn" ? [p.lrMetricsState.slice(0, p.lrMetricsState.lastIndexOf("/"))] : [])].map(shq).join(" ")}
${files.map(([f, owner]) => (owner === "root:root" ? writeFile(f, owner) : `if [[ $LR_SERVICES == systemd ]]; then\n${writeFile(f, owner, "  ")}\nelse\n${writeFile(f, "root:root", "  ")}\nfi`)).join("\n")}
if [[ $LR_SERVICES == systemd ]]; then
${unitFiles.map((f) => writeFile(f, "root:root", "  ")).join("\n")}
  systemctl daemon-reload
  for unit in "\${LR_MON_UNITS[@]}"; do
    systemctl enable "$unit"
    if ((\${#CHANGED[@]})); then systemctl restart "$unit"; else systemctl start "$unit"; fi
  done
fi
echo "monitoring on ${nameOf(m)}: \${#CHANGED[@]} files changed"
`;
}

/** Removal: our units stopped, every file we wrote gone; Debian's packages stay (stopped), their data too. */
export function monitoringTeardownScript(mon: MonitoringPlan, stack: string, m: MonitoringMember, p: MonitoringPaths): string {
  const { units, files, unitFiles } = memberParts(mon, stack, m, p);
  const paths = [...files.map(([f]) => f.path), ...unitFiles.map((f) => f.path), ...(m.role === "vpn" ? [p.lrMetricsState, `${p.textfileDir}/lr-metrics.prom`] : [])].sort();
  return `${scriptHead(`monitoring removal on ${nameOf(m)} (stack ${stack})`, true)}if [[ $LR_SERVICES == systemd ]]; then
  systemctl disable --now ${units.map(shq).join(" ")} 2>/dev/null || true
fi
rm -f -- ${paths.map(shq).join(" ")}
if [[ $LR_SERVICES == systemd ]]; then systemctl daemon-reload; fi
echo "monitoring removed from ${nameOf(m)}"
`;
}

/** A shard stack's own certificate figures on the services VM: one textfile per shard (the core writes the CA's and servers'). */
export function shardCertsFile(p: MonitoringPaths, shard: string): string {
  if (!/^s[0-9]{2,}$/.test(shard)) throw new Error(`monitoring: shard name ${JSON.stringify(shard)} is not sNN`);
  return `${p.textfileDir}/lr-certs-${shard}.prom`;
}

/** Writes the shard's textfile (`certs`: certsTextfile of its tenants); the node exporter reads every *.prom there. */
export function shardCertsScript(stack: string, shard: string, certs: string, p: MonitoringPaths): string {
  return `${scriptHead(`certificate figures of shard ${shard} (stack ${stack})`)}${LR_WRITE_FN}
mkdir -p ${shq(p.textfileDir)}
${writeFile({ path: shardCertsFile(p, shard), mode: "0644", content: certs }, "root:root")}
echo "certificate figures of shard ${shard} written"
`;
}

export function shardCertsRemoval(stack: string, shard: string, p: MonitoringPaths): string {
  return `${scriptHead(`certificate figures of shard ${shard} removed (stack ${stack})`)}rm -f -- ${shq(shardCertsFile(p, shard))}
echo "certificate figures of shard ${shard} removed"
`;
}
