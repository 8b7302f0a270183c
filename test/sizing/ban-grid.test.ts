/**
 * What the ban grid costs (issue 11), worked out by hand from the measured figures (bench:bans: LAPI 55 MiB, an
 * agent 180 MiB in a burst, a bouncer 18 MiB, the report gateway 21 MiB; 134 B per nft set element; 3 KiB of
 * sqlite per detected ban) and the planning ones (100,000 peak bans, 10,000 bans a day, 384 / 256 MiB without
 * the grid on the services VM / a VPN server, 4 GiB of system disk), and refused with the words ops act on.
 */
import { ConfigError } from "../../config/errors";
import type { StackInput } from "../../config/schema";
import type { AssumptionOverrides } from "../../config/sizing-schema";
import { goDuration } from "../../plan/bans";
import { crowdsecConfig } from "../../render/bans/crowdsec";
import { PRODUCTION_PATHS } from "../../render/bans/paths";
import { goSeconds, LAPI_MAX_ALERTS } from "../../sizing/ban-grid";
import { assessCapacity } from "../../sizing/capacity";
import { compileStack } from "../../stack/compile";
import * as H from "./helpers";
import { lineOf, stackConfig } from "./helpers";

/** The ban grid's share alone: monitoring off (test/sizing/monitoring.test.ts adds the monitoring's share on top). */
const gridOnly = (mutate?: (c: StackInput) => void) => (c: StackInput) => {
  (c as Record<string, unknown>).monitoring = { enabled: false };
  mutate?.(c);
};
const reportOf = (stack: string, mutate?: (c: StackInput) => void) => H.reportOf(stack, gridOnly(mutate));
const planOf = (stack: string, mutate?: (c: StackInput) => void) => H.planOf(stack, gridOnly(mutate));

const MIB = 2 ** 20;
const banSetMb = (peak: number) => (peak * 134) / MIB;
// 168h (the longer of the default window 7d and maxBanTime 1d) × 10,000 bans a day × 3 KiB.
const dbGib = (alerts: number) => (alerts * 3) / MIB;

const GRID_LINES = ["RAM (services)", "RAM (VPN VM)", "RAM (host bans)", "disk (services)"];

describe.each([
  ["minimal", 50],
  ["prod", 500],
  ["full", 500],
])("stack %s (%d tenants)", (stack, tenants) => {
  const r = reportOf(stack);
  test.each([
    ["RAM (services)", 384 + 55 + 180 + 21, 1024, "services.memoryMb"],
    ["RAM (VPN VM)", 256 + 180 + 18 + banSetMb(100_000), 1024, "vpn.memoryMb"],
    ["RAM (host bans)", 180 + 18 + banSetMb(100_000), 8192, "assumptions.hostReserveGb"],
    ["disk (services)", 4 + dbGib(70_000), 16, "assumptions.infraVmDiskGb"],
  ])("%s: %d of %d, ok, fixed by %s", (resource, needed, available, key) => {
    const l = lineOf(r, resource);
    expect(l.needed).toBeCloseTo(needed, 9);
    expect([l.available, l.status, l.key]).toEqual([available, "ok", key]);
  });
  test("the notes", () => {
    expect(GRID_LINES.map((x) => lineOf(r, x).note)).toEqual([
      "Debian, BIND and dnsmasq 384 MiB + ban grid: LAPI 55 MiB + agent 180 MiB + report gateway 21 MiB = 640 MiB of 1,024 MiB (63 %)",
      "Debian and OpenVPN 256 MiB + ban grid: agent 180 MiB + bouncer 18 MiB + ban set 12.8 MiB (100,000 × 134 B) = 466.8 MiB of 1,024 MiB (46 %)",
      "agent 180 MiB + bouncer 18 MiB + ban set 12.8 MiB (100,000 × 134 B) = 210.8 MiB of the host's 8.0 GiB reserve (assumptions.hostReserveGb, 3 %), not in addition to it",
      `Debian, packages and logs 4.0 GiB + ban database 0.20 GiB (alerts kept 168h = 7 days × 10,000 bans/day = 70,000, × 3 KiB) = 4.2 GiB of 16.0 GiB (26 %); at max_items (500,000 alerts) the database reaches 1.43 GiB (5.4 GiB in all); tenants' reports alone may add ${(tenants * 20 * 24).toLocaleString("en")} a day (${tenants} × 20/h × 24)`,
    ]);
  });
});

describe("the grid's figures follow the plan and the assumptions", () => {
  test("no report gateway: 21 MiB less on the services VM, no tenants' reports on its disk", () => {
    const r = reportOf("prod", (c) => (c.bans = { report: { enabled: false } }));
    expect(lineOf(r, "RAM (services)").needed).toBe(384 + 55 + 180);
    expect(lineOf(r, "disk (services)").note).not.toContain("tenants' reports");
  });
  test("a 90-day repeat window keeps 900,000 alerts' worth, capped at max_items", () => {
    const r = reportOf("prod", (c) => (c.bans = { repeat: { window: "90d" } }));
    const l = lineOf(r, "disk (services)");
    expect(l.needed).toBeCloseTo(4 + dbGib(500_000), 9);
    expect(l.note).toContain("(alerts kept 2160h = 90 days × 10,000 bans/day = 900,000, capped at max_items 500,000, × 3 KiB) = 5.4 GiB of 16.0 GiB (34 %)");
  });
  test("assumptions scale the lines: 1,000,000 peak bans, 50,000 a day, a leaner agent", () => {
    const plan = planOf("prod");
    // The stack file cannot set these yet (config/sizing-schema.ts lists the accepted keys); the plan can.
    const assumptions = { bansPeak: 1_000_000, bansPerDay: 50_000, agentMb: 100 } as AssumptionOverrides;
    const r = assessCapacity({ ...plan, sizing: { ...plan.sizing, assumptions } });
    expect(lineOf(r, "RAM (VPN VM)").needed).toBeCloseTo(256 + 100 + 18 + banSetMb(1_000_000), 9);
    expect(lineOf(r, "RAM (host bans)").needed).toBeCloseTo(100 + 18 + banSetMb(1_000_000), 9);
    expect(lineOf(r, "RAM (services)").needed).toBe(384 + 55 + 100 + 21);
    expect(lineOf(r, "disk (services)").needed).toBeCloseTo(4 + dbGib(350_000), 9);
    expect(r.assumptions.filter((a) => a.source === "stack").map((a) => a.key)).toEqual(["assumptions.agentMb", "assumptions.bansPeak", "assumptions.bansPerDay"]);
  });
  test("a services VM at 700 MiB is over 90 %: warn", () => {
    const l = lineOf(
      reportOf("minimal", (c) => (c.services = { ...c.services, memoryMb: 700 })),
      "RAM (services)",
    );
    expect([l.status, l.note]).toEqual(["warn", "Debian, BIND and dnsmasq 384 MiB + ban grid: LAPI 55 MiB + agent 180 MiB + report gateway 21 MiB = 640 MiB of 700 MiB (91 %)"]);
  });
  test("a 5 GiB template disk holds a week of bans but not max_items: warn", () => {
    const l = lineOf(
      reportOf("minimal", (c) => (c.assumptions = { infraVmDiskGb: 5 })),
      "disk (services)",
    );
    expect(l.status).toBe("warn");
    expect(l.note).toContain(
      "at max_items (500,000 alerts) the database reaches 1.43 GiB (5.4 GiB in all), over the disk by 0.4 GiB: give the server template (template.serverVmid) a larger disk and raise assumptions.infraVmDiskGb to match, or shorten bans.repeat.window and bans.repeat.maxBanTime",
    );
  });
});

describe("a grid that does not fit is refused", () => {
  test.each([
    [
      "a 512 MiB services VM",
      "minimal",
      (c: StackInput) => (c.services = { ...c.services, memoryMb: 512 }),
      "RAM (services)",
      "services.memoryMb",
      "services VM RAM: Debian, BIND and dnsmasq 384 MiB + ban grid: LAPI 55 MiB + agent 180 MiB + report gateway 21 MiB = 640 MiB exceed 512 MiB by 128 MiB; raise services.memoryMb to at least 640",
    ],
    [
      "384 MiB VPN servers",
      "prod",
      (c: StackInput) => (c.vpn = { ...c.vpn, memoryMb: 384 }),
      "RAM (VPN VM)",
      "vpn.memoryMb",
      "each of the 2 VPN servers' RAM: Debian and OpenVPN 256 MiB + ban grid: agent 180 MiB + bouncer 18 MiB + ban set 12.8 MiB (100,000 × 134 B) = 466.8 MiB exceed 384 MiB by 82.8 MiB; raise vpn.memoryMb to at least 467",
    ],
    [
      "a 4 GiB template disk",
      "minimal",
      (c: StackInput) => (c.assumptions = { infraVmDiskGb: 4 }),
      "disk (services)",
      "assumptions.infraVmDiskGb",
      "services VM disk: Debian, packages and logs 4.0 GiB + ban database 0.20 GiB (alerts kept 168h = 7 days × 10,000 bans/day = 70,000, × 3 KiB) = 4.2 GiB exceed 4.0 GiB by 0.2 GiB; give the server template (template.serverVmid) a larger disk and raise assumptions.infraVmDiskGb to match, or shorten bans.repeat.window and bans.repeat.maxBanTime",
    ],
    [
      "a 0.1 GiB host reserve",
      "minimal",
      (c: StackInput) => (c.assumptions = { hostReserveGb: 0.1 }),
      "RAM (host bans)",
      "assumptions.hostReserveGb",
      "host ban grid: agent 180 MiB + bouncer 18 MiB + ban set 12.8 MiB (100,000 × 134 B) = 210.8 MiB exceed the host's reserve of 102.4 MiB (assumptions.hostReserveGb) by 108.4 MiB; raise assumptions.hostReserveGb",
    ],
  ])("%s (%s)", (_why, stack, change, resource, key, note) => {
    const r = reportOf(stack, change);
    // Only the grid's line fails, and compileStack refuses the stack in the same words.
    expect(r.lines.filter((l) => l.status === "fail").map((l) => [l.resource, l.key, l.note])).toEqual([[resource, key, note]]);
    let err: unknown;
    try {
      compileStack(stackConfig(stack, gridOnly(change)), stack);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(`stack "${stack}": config has 1 problem (nothing was created):\n  - librerouter-hosting:${key}: ${note}`);
  });
});

describe("the sizing reads what is rendered", () => {
  test("the LAPI's flush keeps max_items alerts for keepFor", () => {
    const plan = planOf("prod", (c) => (c.bans = { repeat: { window: "30d" } }));
    const services = plan.bans.members.find((m) => m.name === "services")!;
    const yaml = crowdsecConfig(plan.bans, services, PRODUCTION_PATHS);
    expect(yaml).toContain(`  flush:\n    max_items: ${LAPI_MAX_ALERTS}\n    max_age: 720h\n`);
    expect(plan.bans.profile.keepFor).toBe("720h");
  });
  test("goSeconds reads every duration goDuration writes", () => {
    for (const s of [0, 1, 59, 60, 61, 3600, 3725, 86400, 604800, 90 * 86400]) expect(goSeconds(goDuration(s))).toBe(s);
    expect(() => goSeconds("7d")).toThrow('not a Go duration: "7d"');
    expect(() => goSeconds("")).toThrow('not a Go duration: ""');
  });
});
