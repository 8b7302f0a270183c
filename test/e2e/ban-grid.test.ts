/**
 * The ban grid for real, from the RENDERED files, in the standalone harness (lab/ban-grid-lab.ts, namespaces `bg-*`):
 * what the lab's ban checks (lab/check-bans.ts, lab/check-ban-load.ts: detection on real OpenVPN, reports, the
 * allowlist, expiry, the LAPI's outage, the load) do not cover: enrolment idempotence, the report gateway's whole
 * scope and quota, what the kernel lines' scenarios leave alone, and repeat offenders' longer bans. Agents tail
 * syslog-format files the harness writes OpenVPN 2.6 refusal lines (and kernel lines) into. Prints measured times
 * (never asserts on them).
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, readdirSync, readFileSync, statSync } from "node:fs";
import { journalLine } from "../../lab/journal";
import { kernelJournalLine } from "../../lab/kmsg";
import { HUB_ITEMS } from "../../render/bans/crowdsec";
import { UDP_FLOOD_SCENARIO } from "../../render/bans/items";
import { KERNEL_LOG_PREFIX } from "../../render/bans/kernel-log";
import { until } from "../../lab/ban-grid";
import { BanGridLab } from "../../lab/ban-grid-lab";
import { BAN_USER } from "../../render/bans/enforce";

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

  it("the daemons run unprivileged: never root, no capability but the bouncers' net_admin; the LAPI's database and the local credentials are their user's", () => {
    const uid = Number(execFileSync("id", ["-u", BAN_USER], { encoding: "utf8" }).trim());
    expect(uid).not.toBe(0);
    const seen = Object.fromEntries([...lab.grid.daemons.keys()].filter((n) => n !== "gateway").map((n) => [n, lab.grid.privileges.get(n)]));
    const want = Object.fromEntries(Object.keys(seen).map((n) => [n, { uids: [uid, uid, uid, uid], effective: n.startsWith("bouncer-") ? ["net_admin"] : [], bounding: n.startsWith("bouncer-") ? ["net_admin"] : [] }]));
    expect(Object.keys(seen).sort()).toEqual(["lapi", ...lab.grid.members.filter((m) => m !== "services").map((m) => `agent-${m}`), ...lab.grid.enforcers.map((m) => `bouncer-${m}`)].sort());
    expect(seen).toEqual(want);
    const svc = lab.grid.paths("services");
    // The LAPI's sqlite and its journal files (the lab's gateway keeps its state beside them, as root).
    const data = readdirSync(svc.data).filter((f) => f.startsWith("crowdsec.db")).map((f) => [f, statSync(`${svc.data}/${f}`).uid]);
    expect(data.map(([f]) => f)).toContain("crowdsec.db");
    expect(data.filter(([, u]) => u !== uid)).toEqual([]);
    const creds = statSync(`${svc.etc}/local_api_credentials.yaml`);
    expect({ uid: creds.uid, mode: (creds.mode & 0o777).toString(8) }).toEqual({ uid, mode: "600" });
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

  it("the kernel's LR-IN lines (as the lab captured them): 20 closed ports ban by the vendored scan scenario, an lr-flood run by lr/udp-flood; a few ports, or one port many times, ban nothing", async () => {
    const pub = vpn1.publicIp;
    // A line as the kernel writes it for LR-IN's LOG rules (render/bans/kernel-log.ts), `journalctl -o short`'s form.
    const line = (prefix: string, src: string, proto: "TCP" | "UDP", dport: number, i: number) =>
      `${kernelJournalLine(new Date(), "vpn1", `${prefix}IN=eth0 OUT= MAC=c2:06:a6:14:0f:71:92:cd:26:53:20:64:08:00 SRC=${src} DST=${pub} LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=${12000 + i} DF PROTO=${proto} SPT=${40000 + i} DPT=${dport} ${proto === "TCP" ? "WINDOW=64240 RES=0x00 SYN URGP=0" : "LEN=49"}`)}\n`;
    const [scanner, flooder, few, onePort] = ["198.51.100.101", "198.51.100.102", "198.51.100.103", "198.51.100.104"];
    const n = (k: number) => Array.from({ length: k }, (_, i) => i);
    const start = Date.now();
    appendFileSync(
      lab.log("vpn1"),
      [
        ...n(20).map((i) => line(KERNEL_LOG_PREFIX.probe, scanner, "TCP", 2000 + i, i)),
        ...n(10).map((i) => line(KERNEL_LOG_PREFIX.flood, flooder, "UDP", vpn1.ports.udp, i)),
        ...n(5).map((i) => line(KERNEL_LOG_PREFIX.probe, few, "TCP", 3000 + i, i)),
        ...n(12).map((i) => line(KERNEL_LOG_PREFIX.probe, onePort, "UDP", 53, i)),
      ].join(""),
    );
    await until("the scanner and the flooder in every set", async () => (await everywhere(scanner)) && everywhere(flooder), 30_000);
    console.log(`kernel lines → scanner and flooder banned in all 3 sets: ${(Date.now() - start) / 1000} s`);
    const scenarios = async (ip: string) => {
      const out = (await lab.grid.cscli("alerts", "list", "-i", ip, "-o", "json")).trim();
      return out === "null" ? [] : (JSON.parse(out) as { scenario: string }[]).map((a) => a.scenario);
    };
    const scan = HUB_ITEMS.kernel.find((i) => i.startsWith("scenarios/"))!.replace(/^scenarios\/|\.yaml$/g, "");
    expect(await scenarios(scanner)).toEqual([scan]);
    expect(await scenarios(flooder)).toEqual([UDP_FLOOD_SCENARIO]);
    await sleep((plan.bans.pollSeconds + 2) * 1000);
    for (const ip of [few, onePort]) expect([ip, await lab.grid.bannedAt(ip), await scenarios(ip)]).toEqual([ip, [], []]);
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
