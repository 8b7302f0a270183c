/**
 * What the firewalls need for the monitoring. Every listener is on a management address, and:
 * - VPN servers: LR-IN (render/dataplane.ts filterRules) drops all input from the tunnels (`-i tun-*`) and the
 *   tenant links (devgroup) and everything new on the public side, so only the management interface reaches
 *   :nodeExporter; no rule needed.
 * - services VM: LR-PUB (render/services.ts) drops every new connection from its public side but DNS, DHCP and the
 *   report gateway, so its Prometheus, Alertmanager and exporter are reached from the management network only.
 * - Proxmox host: LR-MGMT (render/host-console.ts consoleChainRules) drops every new connection from the management
 *   bridge but the consoles: Prometheus on the services VM needs the one rule below, placed before that chain's
 *   drops. Pure text.
 */
import type { MonitoringPlan } from "../../plan/monitoring";
import type { Plan } from "../../plan/types";

/** The LR-MGMT (`chain`) line that lets the services VM's Prometheus scrape the node's exporter (iptables-save form). */
export function hostExporterRules(plan: Plan, mon: MonitoringPlan, chain: string, hostMgmtIp = plan.host.mgmtIp): string[] {
  if (!mon.enabled) return [];
  return [`-A ${chain} -s ${mon.prometheus.ip}/32 -d ${hostMgmtIp}/32 -p tcp -m tcp --dport ${mon.exporters[0].port} -j ACCEPT`];
}
