/**
 * What the monitoring costs (issue 14), worked out by hand from its figures (node exporter 24 MiB, lr-metrics 16 MiB,
 * Prometheus 64 MiB + 4 KiB per series, Alertmanager 32 MiB; 1,000 series a machine, 7 per tenant on each VPN server
 * and 1 on the services VM, 1,500 of its own; 2 B a sample, 3 h of write-ahead log at 16 B) on top of the ban grid's
 * lines, which they replace.
 */
import { planMonitoring } from "../../plan/monitoring";
import { monitoringSchema } from "../../config/monitoring-schema";
import { resolveAssumptions } from "../../sizing/assumptions";
import * as B from "../../sizing/ban-grid";
import { type Sizing, sizing } from "../../sizing/capacity-lines";
import { resolveHardware } from "../../sizing/profiles";
import { hostReserveLine, monitoringSeries, servicesDiskLine, servicesRamLine, vpnRamLine } from "../../sizing/monitoring";
import { planOf } from "./helpers";

function sized(stack: string, mutate?: Parameters<typeof planOf>[1], mon: Record<string, unknown> = {}) {
  const plan = planOf(stack, mutate);
  const { assumptions } = resolveAssumptions(plan.sizing.assumptions);
  const s: Sizing = sizing(plan, resolveHardware(plan.profile, plan.sizing.hardware).hardware, assumptions, plan.sizing.templateDiskGb, plan.sizing.vlanBase);
  return { s, mon: planMonitoring(plan, monitoringSchema.parse(mon), assumptions.warnAt) };
}

describe("monitoring on the prod stack (500 tenants, 4 machines)", () => {
  const { s, mon } = sized("prod");
  const series = 4 * 1000 + 500 * (2 * 7 + 1) + 1500;

  it("series: machines, tenants on both VPN servers and the services VM, Prometheus' own", () => {
    expect(monitoringSeries(s, mon)).toBe(series);
  });

  it("services RAM: the ban grid's figure + Prometheus + Alertmanager + node exporter", () => {
    const base = B.servicesRamLine(s);
    const l = servicesRamLine(s, mon);
    expect(l.needed - base.needed).toBeCloseTo(64 + (series * 4) / 1024 + 32 + 24, 6);
    expect([l.resource, l.available, l.key]).toEqual([base.resource, base.available, base.key]);
    expect(l.note).toContain(`Prometheus ${((64 + (series * 4) / 1024)).toFixed(1)} MiB (${series.toLocaleString("en-US")} series × 4 KiB + 64 MiB)`);
  });

  it("VPN server RAM and the host's reserve: node exporter (and lr-metrics on the VPN servers)", () => {
    expect(vpnRamLine(s, mon).needed - B.vpnRamLine(s).needed).toBe(24 + 16);
    expect(hostReserveLine(s, mon).needed - B.hostGridLine(s).needed).toBe(24);
  });

  it("services disk: 15 days of samples every 15 s at 2 B, plus 3 h of WAL at 16 B", () => {
    const perSecond = series / 15;
    const gib = (perSecond * 15 * 86400 * 2 + perSecond * 3 * 3600 * 16) / 2 ** 30;
    expect(servicesDiskLine(s, mon).needed - B.servicesDiskLine(s).needed).toBeCloseTo(gib, 9);
    expect(gib).toBeGreaterThan(1.5);
  });

  it("a year of retention does not fit the 16 GiB services disk: fail, naming the keys to change", () => {
    const long = sized("prod", undefined, { retention: "366d" });
    const l = servicesDiskLine(long.s, long.mon);
    expect(l.status).toBe("fail");
    expect(l.note).toMatch(/^services VM disk: .* exceed 16\.0 GiB by [\d.]+ GiB; give the server template a larger disk and raise assumptions\.infraVmDiskGb to match, or shorten monitoring\.retention$/);
  });

  it("monitoring off: the ban grid's lines unchanged", () => {
    const off = { ...mon, enabled: false };
    expect([servicesRamLine(s, off), vpnRamLine(s, off), hostReserveLine(s, off), servicesDiskLine(s, off)]).toEqual([B.servicesRamLine(s), B.vpnRamLine(s), B.hostGridLine(s), B.servicesDiskLine(s)]);
  });
});
