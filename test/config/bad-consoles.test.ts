/** Bad `consoles:` blocks: the serial bridge's port against the host's own and the tenants' console ports, the web port, the login limits; exact messages. */
import { buildPlan } from "../../plan/build";
import { consoleUrls } from "../../plan/consoles";
import { baseConfig, configError, type Fixture, loose, withChange } from "./fixture";

type Row = [name: string, mutate: (c: Fixture) => void, text: string];

const rows: Row[] = [
  ["the bridge on Proxmox's own VNC ports", (c) => void (c.consoles = { serialBridgePort: 5901 }), "consoles.serialBridgePort: got 5901, which is Proxmox's own VNC consoles (5900–6000); pick a free port such as 5899"],
  ["the bridge on the API port", (c) => void (c.consoles = { serialBridgePort: 8006 }), "consoles.serialBridgePort: got 8006, which is the Proxmox API (8006); pick a free port such as 5899"],
  ["the bridge on SPICE", (c) => void (c.consoles = { serialBridgePort: 3128 }), "consoles.serialBridgePort: got 3128, which is the host's Proxmox's SPICE proxy; pick a free port such as 5899"],
  [
    "the bridge inside the tenants' console ports",
    (c) => void (c.consoles = { serialBridgePort: 6100 }),
    "consoles.serialBridgePort: got 6100, inside the tenants' VNC console ports 6001–8005 (5900 + network.vncDisplayBase + slot); pick a port outside them such as 5899",
  ],
  ["a privileged bridge port", (c) => void (c.consoles = { serialBridgePort: 22 }), "consoles.serialBridgePort: got 22; serialBridgePort must be at least 1024 (a port of its own on the host's management address, outside the tenants' console ports)"],
  ["the web page on the VNC port", (c) => void (c.consoles = { webPort: 5900 }), "consoles.webPort: got 5900, the tenants' VNC console port on the gateway; use 443"],
  ["one failure allowed", (c) => void (c.consoles = { login: { maxFailures: 1 } }), "consoles.login.maxFailures: got 1; login.maxFailures must be at least 2"],
  ["a lock in words", (c) => void (c.consoles = { login: { lock: "a while" } }), "consoles.login.lock: got \"a while\"; login.lock must be a whole number and one unit, s, m, h or d, such as 10m or 1h"],
  ["a session of a month", (c) => void (c.consoles = { session: "30d" }), "consoles.session: got \"30d\"; session must be at most 7d"],
  ["a misspelt key", (c) => void (loose(c).consoles = { webport: 8443 }), "consoles: unknown key \"webport\" (did you mean \"webPort\"?); remove it or fix the spelling (see Pulumi.yaml)"],
];

describe("bad consoles config", () => {
  it.each(rows)("%s", (_name, mutate, text) => {
    expect(configError(withChange(baseConfig(), mutate)).message.split("\n")).toEqual(['stack "test": config has 1 problem (nothing was created):', `  - librerouter-hosting:${text}`]);
  });

  it("the defaults: bridge 5899 for every tenant slot's VMID but the infrastructure's, page on 443, 5 failures in 10 min lock 15 min, 8 h sessions", () => {
    const p = buildPlan(baseConfig(), "test");
    expect(p.consoles.serialBridgePort).toBe(5899);
    expect(p.consoles.login).toEqual({ maxFailures: 5, windowSeconds: 600, lockSeconds: 900 });
    expect(p.consoles.sessionSeconds).toBe(8 * 3600);
    for (const t of p.tenants) {
      expect(t.vmid).toBeGreaterThanOrEqual(p.consoles.tenantVmids.min);
      expect(t.vmid).toBeLessThanOrEqual(p.consoles.tenantVmids.max);
    }
    for (const v of [p.services.vmid, ...p.servers.map((s) => s.vmid), p.templates.vmid, p.templates.serverVmid]) {
      expect(v < p.consoles.tenantVmids.min || v > p.consoles.tenantVmids.max || p.consoles.tenantVmids.exclude.includes(v)).toBe(true);
    }
    expect(consoleUrls(p.instances, p.consoles)["vpn1-udp"]).toBe(`https://${p.instances[0].gateway}/`);
    expect(consoleUrls(p.instances, { webPort: 8443 })["vpn2-tcp"]).toBe(`https://${p.instances[3].gateway}:8443/`);
  });
});
