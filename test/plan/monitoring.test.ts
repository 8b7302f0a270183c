/** The monitoring plan: every exporter on its machine's management address, thresholds from the stack. */
import { planMonitoring } from "../../plan/monitoring";
import { buildPlan } from "../../plan/build";
import { DEFAULT_MONITORING } from "../../config/monitoring-schema";
import { baseConfig, clusterConfig, withChange } from "../config/fixture";
import { monitored } from "../render/monitoring/fixture";

describe("planMonitoring", () => {
  it("one host: vpn1, vpn2, services and the node, each on its management address", () => {
    const { plan, mon } = monitored();
    expect(mon.exporters.map((e) => [e.server, e.role, e.address])).toEqual([
      ["vpn1", "vpn", `${plan.servers[0].mgmtIp}:9100`],
      ["vpn2", "vpn", `${plan.servers[1].mgmtIp}:9100`],
      ["services", "services", `${plan.services.mgmtIp}:9100`],
      ["pve1", "host", `${plan.host.mgmtIp}:9100`],
    ]);
    const mgmt = [plan.host.mgmtIp, plan.services.mgmtIp, ...plan.servers.map((s) => s.mgmtIp)];
    expect(mon.exporters.every((e) => mgmt.includes(e.ip))).toBe(true);
    expect([mon.prometheus.url, mon.alertmanager.url]).toEqual([`http://${plan.services.mgmtIp}:9090/`, `http://${plan.services.mgmtIp}:9093/`]);
  });

  it("a cluster: every node's exporter", () => {
    const plan = buildPlan(clusterConfig(), "test");
    const mon = planMonitoring(plan, DEFAULT_MONITORING, 0.9);
    expect(mon.exporters.filter((e) => e.role === "host").map((e) => e.address)).toEqual(["192.168.100.10:9100", "192.168.100.20:9100", "192.168.100.30:9100"]);
  });

  it("each instance's session ceiling is its pool's size less network, broadcast and gateway (the server config's max-clients)", () => {
    const { plan, mon } = monitored();
    expect(mon.instances.map((i) => [i.id, i.maxSessions])).toEqual(plan.instances.map((i) => [i.id, 2 ** (32 - i.prefix) - 3]));
  });

  it("certificate alerts use vpn.renewBeforeDays; stale after three missed lr-metrics runs", () => {
    const { mon } = monitored((c) => void (c.vpn = { renewBeforeDays: 20 }));
    expect(mon.renewBeforeSeconds).toEqual({ client: 20 * 86400, server: 20 * 86400 });
    expect(monitored((c) => void (c.monitoring = { metricsInterval: "20s" })).mon.staleAfterSeconds).toBe(60);
  });

  it("refuses a warnAt outside (0, 1] and a node named like a VPN server", () => {
    const plan = buildPlan(baseConfig(), "test");
    expect(() => planMonitoring(plan, DEFAULT_MONITORING, 1.5)).toThrow("monitoring: warnAt must be a share in (0, 1]; got 1.5");
    // A node named like an infrastructure VM is refused by validation, before planMonitoring could see the clash.
    expect(() => buildPlan(withChange(baseConfig(), (c) => void (c.proxmox.node = "services")), "test")).toThrow('librerouter-hosting:proxmox.node: got "services"; a node may not be called vpn1, vpn2, services (the monitoring names the VMs so); rename the node');
    expect(() => planMonitoring({ ...plan, host: { ...plan.host, node: "vpn2" }, nodes: [{ ...plan.nodes[0], name: "vpn2" }] }, DEFAULT_MONITORING, 0.9)).toThrow('monitoring: two machines are named "vpn2"');
  });
});
