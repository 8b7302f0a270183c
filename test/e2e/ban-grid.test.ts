/**
 * The ban grid for real, from the RENDERED files (render/bans/*), in namespaces `bg-*`: Debian's crowdsec 1.4.6
 * (LAPI + agent on the services VM, agents on vpn1, vpn2 and the host) and crowdsec-firewall-bouncer 0.0.25 in
 * set-only mode on vpn1, vpn2 (inet) and the host (bridge), and the tenants' report gateway. The harness
 * (bench/bans.ts BanGridLab) runs the binaries directly (no systemd); agents tail syslog-format files instead of the
 * journal; attacks are real-format OpenVPN 2.6 log lines on vpn1. Prints measured times (never asserts on them).
 */
import { BanGridLab, until } from "../../bench/bans";

const ATTACKER = "198.51.100.66";
const OUTAGE_ATTACKER = "198.51.100.88";
const ALLOWED = "198.51.100.200";
const lab = new BanGridLab(
  "bg",
  { banTime: "30s", findTime: "50s", retries: 5, repeat: { factor: 2, maxBanTime: "2m", window: "1h" }, allowlist: [ALLOWED], pollSeconds: 1, report: { quotaPerHour: 3 } },
  [ATTACKER, OUTAGE_ATTACKER, ALLOWED],
);
const { plan } = lab;
const ALL = [lab.ns.vpn1, lab.ns.vpn2, lab.ns.host];
const alice = plan.tenants.find((t) => t.key === "alice")!;
const bob = plan.tenants.find((t) => t.key === "bob")!;
const vpn1 = plan.bans.members.find((m) => m.name === "vpn1")!;
const tokens = lab.secrets.tokens;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const stamp = () => ((Date.now() - t0) / 1000).toFixed(1);

beforeAll(async () => {
  console.log(`LAPI up ${await lab.up()} s after its start`);
}, 120_000);

afterAll(() => lab.down());

describe("ban grid (real CrowdSec, rendered configs)", () => {
  it("enrols every machine and bouncer from stdin, and a second run keeps them all", () => {
    expect(lab.enrol()).toBe("machine host: added\nmachine reportgw: added\nmachine vpn1: added\nmachine vpn2: added\nbouncer fw-host: added\nbouncer fw-vpn1: added\nbouncer fw-vpn2: added\n");
    expect(lab.enrol()).toBe("machine host: kept\nmachine reportgw: kept\nmachine vpn1: kept\nmachine vpn2: kept\nbouncer fw-host: kept\nbouncer fw-vpn1: kept\nbouncer fw-vpn2: kept\n");
  });

  it("5 bogus OpenVPN handshakes on vpn1 → banned on vpn1, vpn2 and the host; the attacker no longer reaches vpn1", async () => {
    console.log(`[${stamp()}] agents and bouncers ready ${await lab.startMembers()} s after start`);
    expect(lab.ping(ATTACKER, vpn1.publicIp)).toBe(true);
    lab.attack(ATTACKER, 5);
    const s = await until("attacker in every set", () => lab.bannedAt(ATTACKER).length === 3);
    console.log(`[${stamp()}] detection → all 3 sets: ${s} s`);
    expect(lab.bannedAt(ATTACKER)).toEqual(ALL);
    expect(lab.ping(ATTACKER, vpn1.publicIp)).toBe(false);
  });

  it("the LAPI killed: every ban stays; an attack during the outage is banned once it is back; new bans propagate", async () => {
    await lab.stop("lapi", "SIGKILL");
    expect(lab.lapiUp()).toBe(false);
    await sleep(2500);
    expect(lab.bannedAt(ATTACKER)).toEqual(ALL);
    lab.attack(OUTAGE_ATTACKER, 5);
    await sleep(1500);
    expect(lab.bannedAt(OUTAGE_ATTACKER)).toEqual([]);
    const restart = Date.now();
    lab.startLapi();
    await until("LAPI back", () => lab.lapiUp());
    await until("outage attacker in every set", () => lab.bannedAt(OUTAGE_ATTACKER).length === 3, 30_000);
    console.log(`[${stamp()}] LAPI restart → outage attack in all 3 sets: ${(Date.now() - restart) / 1000} s`);
    expect(lab.bannedAt(ATTACKER)).toEqual(ALL);
  });

  it("the allowlisted address is never banned: no alert for its refusals, and a manual ban does not cut it off", async () => {
    lab.attack(ALLOWED, 12);
    await sleep(3000);
    expect(lab.bannedAt(ALLOWED)).toEqual([]);
    expect(lab.cscli(`alerts list -i ${ALLOWED} -o json`).trim()).toBe("null");
    lab.cscli(`decisions add -i ${ALLOWED} -d 1m`);
    await until("manual ban in vpn1's set", () => lab.bannedAt(ALLOWED).includes(lab.ns.vpn1));
    expect(lab.ping(ALLOWED, vpn1.publicIp)).toBe(true);
    lab.cscli(`decisions delete -i ${ALLOWED}`);
  });

  it("tenant reports: accepted and enforced; protected or another tenant's address refused; wrong source refused; quota enforced", async () => {
    const start = Date.now();
    expect(lab.report(tokens.alice, alice.publicIp, "198.51.100.77")).toBe("200");
    await until("reported address in every set", () => lab.bannedAt("198.51.100.77").length === 3);
    console.log(`[${stamp()}] tenant report → all 3 sets: ${(Date.now() - start) / 1000} s`);
    const refused = {
      vpn1: lab.report(tokens.alice, alice.publicIp, vpn1.publicIp),
      bob: lab.report(tokens.alice, alice.publicIp, bob.publicIp),
      mgmt: lab.report(tokens.alice, alice.publicIp, plan.host.mgmtIp),
      allowed: lab.report(tokens.alice, alice.publicIp, ALLOWED),
      fromBob: lab.report(tokens.alice, bob.publicIp, "198.51.100.78"),
      badToken: lab.report("nope", alice.publicIp, "198.51.100.78"),
    };
    expect(refused).toEqual({ vpn1: "403", bob: "403", mgmt: "403", allowed: "403", fromBob: "401", badToken: "401" });
    expect([lab.report(tokens.alice, alice.publicIp, "198.51.100.78"), lab.report(tokens.alice, alice.publicIp, "198.51.100.79")]).toEqual(["200", "200"]);
    expect(lab.report(tokens.alice, alice.publicIp, "198.51.100.80")).toBe("429");
    expect(lab.report(tokens.bob, bob.publicIp, "198.51.100.81")).toBe("200");
    await until("bob's report in every set", () => lab.bannedAt("198.51.100.81").length === 3);
    await sleep(1500);
    const sets = lab.sets();
    for (const ip of [vpn1.publicIp, bob.publicIp, plan.host.mgmtIp, ALLOWED, "198.51.100.80"]) expect([ip, [...sets].filter(([, s]) => s.has(ip)).length]).toEqual([ip, 0]);
    const log = lab.output("gateway");
    for (const s of [...Object.values(tokens), lab.secrets.machines.reportgw]) expect(log).not.toContain(s);
    expect(log).toContain(`refused: tenant alice reported protected ${bob.publicIp}`);
  });

  it("bans expire after banTime; the next ban of the same address lasts twice as long", async () => {
    const gone = await until("first ban expired everywhere", () => lab.bannedAt(ATTACKER).length === 0, 40_000);
    console.log(`[${stamp()}] first ban (30s) gone from every set, ${gone} s after we started waiting`);
    expect(lab.ping(ATTACKER, vpn1.publicIp)).toBe(true);
    lab.attack(ATTACKER, 5);
    await until("second ban in every set", () => lab.bannedAt(ATTACKER).length === 3);
    const alerts = JSON.parse(lab.cscli(`decisions list -i ${ATTACKER} -o json`)) as { decisions: { duration: string }[] }[];
    const seconds = alerts.flatMap((a) => a.decisions).map((d) => {
      const m = /^(?:(\d+)m)?([\d.]+)s$/.exec(d.duration);
      return m ? Number(m[1] ?? 0) * 60 + Number(m[2]) : NaN;
    });
    expect(seconds).toHaveLength(1);
    expect(seconds[0]).toBeGreaterThan(45);
    expect(seconds[0]).toBeLessThanOrEqual(60);
  });
});
