/**
 * The ban grid for real, from the RENDERED files, in the standalone harness (lab/ban-grid-lab.ts, namespaces `bg-*`):
 * what the lab's ban checks (lab/check-bans.ts, lab/check-ban-load.ts: detection on real OpenVPN, reports, the
 * allowlist, expiry, the LAPI's outage, the load) do not cover: enrolment idempotence, the report gateway's whole
 * scope and quota, and repeat offenders' longer bans. Agents tail syslog-format files the harness writes OpenVPN 2.6
 * refusal lines into. Prints measured times (never asserts on them).
 */
import { appendFileSync, readFileSync } from "node:fs";
import { journalLine } from "../../lab/journal";
import { until } from "../../lab/ban-grid";
import { BanGridLab } from "../../lab/ban-grid-lab";

const ATTACKER = "198.51.100.66";
const ALLOWED = "198.51.100.200";
const lab = new BanGridLab(
  "bg",
  { banTime: "10s", findTime: "50s", retries: 5, repeat: { factor: 2, maxBanTime: "2m", window: "1h" }, allowlist: [ALLOWED], pollSeconds: 1, report: { quotaPerHour: 3 } },
  [ATTACKER, ALLOWED],
);
const { plan } = lab;
const alice = plan.tenants.find((t) => t.key === "alice")!;
const bob = plan.tenants.find((t) => t.key === "bob")!;
const vpn1 = plan.servers.find((s) => s.name === "vpn1")!;
const tokens = lab.secrets.tokens;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const everywhere = async (ip: string) => (await lab.grid.bannedAt(ip)).length === lab.grid.enforcers.length;

beforeAll(async () => {
  console.log(`LAPI up ${await lab.up()} s after its start`);
}, 120_000);

afterAll(() => lab.down());

describe("ban grid (real CrowdSec, rendered configs)", () => {
  it("enrols every machine and bouncer from stdin, and a second run keeps them all", async () => {
    expect(await lab.grid.enrol()).toBe("machine host: added\nmachine reportgw: added\nmachine vpn1: added\nmachine vpn2: added\nbouncer fw-host: added\nbouncer fw-vpn1: added\nbouncer fw-vpn2: added\n");
    expect(await lab.grid.enrol()).toBe("machine host: kept\nmachine reportgw: kept\nmachine vpn1: kept\nmachine vpn2: kept\nbouncer fw-host: kept\nbouncer fw-vpn1: kept\nbouncer fw-vpn2: kept\n");
    console.log(`agents and bouncers ready ${await lab.grid.startMembers()} s after start`);
  });

  it("tenant reports: accepted and enforced; protected, allowlisted or another tenant's address refused; wrong source or token refused; quota enforced", async () => {
    const start = Date.now();
    expect(await lab.report(tokens.alice, alice.publicIp, "198.51.100.77")).toBe("200");
    await until("reported address in every set", () => everywhere("198.51.100.77"));
    console.log(`tenant report → all 3 sets: ${(Date.now() - start) / 1000} s`);
    const refused = {
      vpn1: await lab.report(tokens.alice, alice.publicIp, vpn1.publicIp),
      bob: await lab.report(tokens.alice, alice.publicIp, bob.publicIp),
      mgmt: await lab.report(tokens.alice, alice.publicIp, plan.host.mgmtIp),
      allowed: await lab.report(tokens.alice, alice.publicIp, ALLOWED),
      fromBob: await lab.report(tokens.alice, bob.publicIp, "198.51.100.78"),
      badToken: await lab.report("nope", alice.publicIp, "198.51.100.78"),
    };
    expect(refused).toEqual({ vpn1: "403", bob: "403", mgmt: "403", allowed: "403", fromBob: "401", badToken: "401" });
    expect([await lab.report(tokens.alice, alice.publicIp, "198.51.100.78"), await lab.report(tokens.alice, alice.publicIp, "198.51.100.79")]).toEqual(["200", "200"]);
    expect(await lab.report(tokens.alice, alice.publicIp, "198.51.100.80")).toBe("429");
    expect(await lab.report(tokens.bob, bob.publicIp, "198.51.100.81")).toBe("200");
    await until("bob's report in every set", () => everywhere("198.51.100.81"));
    await sleep(1500);
    const sets = await lab.grid.sets();
    for (const ip of [vpn1.publicIp, bob.publicIp, plan.host.mgmtIp, ALLOWED, "198.51.100.80"]) expect([ip, [...sets].filter(([, s]) => s.has(ip)).length]).toEqual([ip, 0]);
    const log = readFileSync(lab.grid.logFile("gateway"), "utf8");
    for (const s of [...Object.values(tokens), lab.secrets.machines.reportgw]) expect(log).not.toContain(s);
    expect(log).toContain(`refused: tenant alice reported protected ${bob.publicIp}`);
  });

  it("the console gateway's wrong passwords (its auth log line, as the journal shows it) ban the tenant client's real address (lines without one are skipped)", async () => {
    const client = "198.51.100.91";
    const line = (c: string, n: number) => `${journalLine(new Date(), "vpn1", "lr-console-web", 77, `2026-12-02T18:00:0${n}Z lr-console login-failed tenant=alice tunnel=10.255.0.2 client=${c} failures=${n}`)}\n`;
    const start = Date.now();
    appendFileSync(lab.log("vpn1"), [1, 2, 3, 4].map((n) => line("unknown", n)).join("") + [1, 2, 3, 4, 5].map((n) => line(client, n)).join(""));
    await until("console brute force banned in every set", () => everywhere(client));
    console.log(`5 wrong console passwords → banned in all 3 sets: ${(Date.now() - start) / 1000} s`);
    const alerts = JSON.parse(await lab.grid.cscli("alerts", "list", "-i", client, "-o", "json")) as { scenario: string }[];
    expect(alerts.map((a) => a.scenario)).toEqual(["lr/console-bf"]);
  }, 60_000);

  it("a repeat offender's next ban lasts twice as long", async () => {
    lab.attack(ATTACKER, 5);
    await until("first ban in every set", () => everywhere(ATTACKER));
    expect(await lab.ping(ATTACKER, vpn1.publicIp)).toBe(false);
    const gone = await until("first ban expired everywhere", async () => (await lab.grid.bannedAt(ATTACKER)).length === 0, 40_000);
    console.log(`first ban (10s) gone from every set ${gone} s after it was in all 3`);
    expect(await lab.ping(ATTACKER, vpn1.publicIp)).toBe(true);
    lab.attack(ATTACKER, 5);
    await until("second ban in every set", () => everywhere(ATTACKER), 30_000);
    const alerts = JSON.parse(await lab.grid.cscli("decisions", "list", "-i", ATTACKER, "-o", "json")) as { decisions: { duration: string }[] }[];
    const seconds = alerts.flatMap((a) => a.decisions).map((d) => {
      const m = /^(?:(\d+)m)?([\d.]+)s$/.exec(d.duration);
      return m ? Number(m[1] ?? 0) * 60 + Number(m[2]) : NaN;
    });
    expect(seconds).toHaveLength(1);
    expect(seconds[0]).toBeGreaterThan(12);
    expect(seconds[0]).toBeLessThanOrEqual(20);
  }, 90_000);
});
