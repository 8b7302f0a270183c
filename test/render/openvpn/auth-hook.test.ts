/**
 * The auth-user-pass-verify hook, run for real: `env -i` (no PATH, as OpenVPN runs it) against a temp layout.
 * Its peer (enrolment on both servers) is in ./enrol.test.ts; OpenVPN itself running it as the OpenVPN user is
 * covered by test/e2e/openvpn-parse.test.ts.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import fc from "fast-check";
import { TENANT_KEY } from "../../../config/schema";
import { renderAuthVerifyHook, renderConnectHook, renderDisconnectHook } from "../../../render/hooks";
import type { ServerLayout } from "../../../render/layout";
import { openvpnFilePaths } from "../../../render/openvpn-server";
import { shellcheck } from "../../tools/shellcheck";
import { tempLayout, twoTenantPlan } from "./fixture";

const planFor = (policy: "enrol" | "refuse") => twoTenantPlan({ hostnames: ["vpn1.example.net", "vpn2.example.net"], unpinnedPolicy: policy });
/** Enrolment roles with a peer at an address where nothing listens: these tests never get that far but for the refusal. */
const NO_PEER = { server: "vpn1", selfIp: "127.0.0.2", peer: "vpn2", peerIp: "127.0.0.1", port: 1023 + 1, authority: true } as const;

const ID_A = "a".repeat(64);
const ID_B = "b".repeat(64);
const MAC = "02:00:5e:00:53:01";
/** Certificate fingerprints as OpenVPN sets tls_digest_sha256_0: the tenants' current ones (pinned) and a re-issued one's predecessor. */
const fp = (byte: string) => Array(32).fill(byte).join(":");
const CERT = { acme: fp("a1"), "coop-sur": fp("c2") } as Record<string, string>;
const OLD_CERT = fp("0d");

interface Server {
  readonly root: string;
  readonly layout: ServerLayout;
  readonly hook: string;
}

/** Installs the hook and the directories the setup script would create; ccd files for `tenants`. */
function install(policy: "enrol" | "refuse", tenants = ["acme", "coop-sur"]): Server {
  const { root, layout } = tempLayout("lr-auth-");
  const p = openvpnFilePaths(layout);
  for (const d of [p.hooksDir, p.pinsDir, p.certPinsDir, p.enrolledDir, p.ccdDirs.udp, p.ccdDirs.tcp]) mkdirSync(d, { recursive: true });
  for (const t of tenants) writeFileSync(`${p.ccdDirs.tcp}/${t}`, "ifconfig-push 10.255.64.2 255.255.192.0\n");
  for (const t of tenants) writeFileSync(`${p.certPinsDir}/${t}`, `${CERT[t]}\n`);
  const plan = planFor(policy);
  writeFileSync(p.authVerifyHook, renderAuthVerifyHook(plan, plan.servers[0], layout, NO_PEER));
  chmodSync(p.authVerifyHook, 0o755);
  writeFileSync(`${root}/via-file`, "\n\n");
  return { root, layout, hook: p.authVerifyHook };
}

/**
 * Runs the hook like OpenVPN does: empty environment plus the given variables, via-file as $1. The certificate's
 * fingerprint is the common name's current one unless `env` sets tls_digest_sha256_0 (to "" for none at all).
 */
function run(s: Server, env: Record<string, string>): { code: number | null; log: string } {
  const digest = CERT[env.common_name ?? ""];
  const all = { ...(digest ? { tls_digest_sha256_0: digest } : {}), ...env };
  const vars = Object.entries(all).filter(([k, v]) => k !== "tls_digest_sha256_0" || v !== "").map(([k, v]) => `${k}=${v}`);
  const r = spawnSync("/usr/bin/env", ["-i", ...vars, s.hook, `${s.root}/via-file`], { encoding: "utf8" });
  return { code: r.status, log: r.stderr.trim() };
}

const pin = (s: Server, cn: string, value: string) => writeFileSync(`${openvpnFilePaths(s.layout).pinsDir}/${cn}`, `${value}\n`);

const servers: Server[] = [];
const fresh = (policy: "enrol" | "refuse" = "enrol", tenants?: string[]) => {
  const s = install(policy, tenants);
  servers.push(s);
  return s;
};
afterAll(() => servers.forEach((s) => rmSync(s.root, { recursive: true, force: true })));

describe("auth-verify hook: ops pins", () => {
  it("accepts the pinned 64-hex ID and rejects another one", () => {
    const s = fresh();
    pin(s, "acme", ID_A);
    expect(run(s, { common_name: "acme", UV_HWID: ID_A })).toEqual({ code: 0, log: "lr-auth: cn=acme ACCEPT: hwid matches ops pin" });
    expect(run(s, { common_name: "acme", UV_HWID: ID_B })).toEqual({ code: 1, log: "lr-auth: cn=acme REJECT: hwid does not match ops pin" });
    expect(run(s, { common_name: "acme", IV_HWADDR: MAC })).toEqual({ code: 1, log: "lr-auth: cn=acme REJECT: hwid does not match ops pin" });
  });

  it("compares a MAC pin (ops only) with IV_HWADDR as OpenVPN writes it (lowercase), not with UV_HWID", () => {
    const s = fresh();
    pin(s, "acme", MAC);
    expect(run(s, { common_name: "acme", IV_HWADDR: MAC, UV_HWID: ID_A })).toEqual({ code: 0, log: "lr-auth: cn=acme ACCEPT: mac matches ops pin" });
    expect(run(s, { common_name: "acme", IV_HWADDR: "02:00:5e:00:53:02" })).toEqual({ code: 1, log: "lr-auth: cn=acme REJECT: mac does not match ops pin" });
    // No tr: an uppercase claim is not normalised but refused.
    expect(run(s, { common_name: "acme", IV_HWADDR: MAC.toUpperCase() })).toEqual({ code: 1, log: "lr-auth: cn=acme REJECT: mac does not match ops pin" });
    expect(run(s, { common_name: "acme", UV_HWID: ID_A }).code).toBe(1);
  });

  it("lets the ops pin win over an earlier enrolment", () => {
    const s = fresh();
    writeFileSync(`${openvpnFilePaths(s.layout).enrolledDir}/acme`, `${ID_B}\n`);
    expect(run(s, { common_name: "acme", UV_HWID: ID_B })).toEqual({ code: 0, log: "lr-auth: cn=acme ACCEPT: hwid matches enrolled pin" });
    pin(s, "acme", ID_A);
    expect(run(s, { common_name: "acme", UV_HWID: ID_B })).toEqual({ code: 1, log: "lr-auth: cn=acme REJECT: hwid does not match ops pin" });
    expect(run(s, { common_name: "acme", UV_HWID: ID_A }).code).toBe(0);
  });

  it("an uppercase launcher ID is refused, not lowercased (the launcher and the pins are lowercase)", () => {
    const s = fresh();
    pin(s, "acme", ID_A);
    expect(run(s, { common_name: "acme", UV_HWID: ID_A.toUpperCase() })).toEqual({ code: 1, log: "lr-auth: cn=acme REJECT: hwid does not match ops pin" });
  });
});

describe("auth-verify hook: unpinned tenants", () => {
  it("enrol: a local record decides without the peer; without one and the peer unreachable, nothing is enrolled", () => {
    const s = fresh();
    writeFileSync(`${openvpnFilePaths(s.layout).enrolledDir}/acme`, `${ID_A}\n`);
    expect(run(s, { common_name: "acme", UV_HWID: ID_A })).toEqual({ code: 0, log: "lr-auth: cn=acme ACCEPT: hwid matches enrolled pin" });
    expect(run(s, { common_name: "acme", UV_HWID: ID_B })).toEqual({ code: 1, log: "lr-auth: cn=acme REJECT: hwid does not match enrolled pin" });
    expect(run(s, { common_name: "coop-sur", UV_HWID: ID_A })).toEqual({ code: 1, log: "lr-auth: cn=coop-sur REJECT: enrolment needs both servers: vpn2 did not answer" });
    expect(readdirSync(openvpnFilePaths(s.layout).enrolledDir)).toEqual(["acme"]);
  });

  it("enrol: a MAC alone (IV_HWADDR) is never enrolled", () => {
    const s = fresh();
    const want = { code: 1, log: "lr-auth: cn=coop-sur REJECT: no pin and no launcher UV_HWID to enrol (a MAC is never enrolled)" };
    expect(run(s, { common_name: "coop-sur" })).toEqual(want);
    expect(run(s, { common_name: "coop-sur", UV_HWID: "not-hex", IV_HWADDR: MAC })).toEqual(want);
    expect(readdirSync(openvpnFilePaths(s.layout).enrolledDir)).toEqual([]);
  });

  it("refuse: an unpinned tenant is rejected and nothing is written", () => {
    const s = fresh("refuse");
    expect(run(s, { common_name: "coop-sur", UV_HWID: ID_A })).toEqual({ code: 1, log: "lr-auth: cn=coop-sur REJECT: no pin and policy is refuse" });
    expect(readdirSync(openvpnFilePaths(s.layout).enrolledDir)).toEqual([]);
  });

  it("a certificate without a ccd file (removed tenant) is rejected before it can enrol", () => {
    const s = fresh("enrol", ["acme"]);
    expect(run(s, { common_name: "coop-sur", UV_HWID: ID_A })).toEqual({ code: 1, log: "lr-auth: cn=coop-sur REJECT: no ccd file: not a tenant" });
    expect(existsSync(`${openvpnFilePaths(s.layout).enrolledDir}/coop-sur`)).toBe(false);
  });
});

describe("auth-verify hook: certificate pin", () => {
  it("accepts the tenant's current certificate and refuses a re-issued one's predecessor, before the hardware check", () => {
    const s = fresh();
    pin(s, "acme", ID_A);
    expect(run(s, { common_name: "acme", UV_HWID: ID_A })).toEqual({ code: 0, log: "lr-auth: cn=acme ACCEPT: hwid matches ops pin" });
    expect(run(s, { common_name: "acme", UV_HWID: ID_A, tls_digest_sha256_0: OLD_CERT })).toEqual({
      code: 1,
      log: `lr-auth: cn=acme REJECT: certificate sha256 ${OLD_CERT} is not the tenant's current one`,
    });
    // Another tenant's certificate pin is not this one's.
    expect(run(s, { common_name: "acme", UV_HWID: ID_A, tls_digest_sha256_0: CERT["coop-sur"] }).code).toBe(1);
  });

  it("a certificate that is not the current one cannot enrol", () => {
    const s = fresh();
    expect(run(s, { common_name: "coop-sur", UV_HWID: ID_A, tls_digest_sha256_0: OLD_CERT })).toEqual({
      code: 1,
      log: `lr-auth: cn=coop-sur REJECT: certificate sha256 ${OLD_CERT} is not the tenant's current one`,
    });
    expect(readdirSync(openvpnFilePaths(s.layout).enrolledDir)).toEqual([]);
  });

  it("no fingerprint from OpenVPN, or an empty pin, is a refusal", () => {
    const s = fresh();
    const certPin = `${openvpnFilePaths(s.layout).certPinsDir}/acme`;
    expect(run(s, { common_name: "acme", UV_HWID: ID_A, tls_digest_sha256_0: "" })).toEqual({ code: 1, log: "lr-auth: cn=acme REJECT: certificate sha256 none is not the tenant's current one" });
    writeFileSync(certPin, "\n");
    expect(run(s, { common_name: "acme", UV_HWID: ID_A })).toEqual({ code: 1, log: "lr-auth: cn=acme REJECT: empty certificate pin" });
    expect(readdirSync(openvpnFilePaths(s.layout).enrolledDir)).toEqual([]);
  });

  it("a tenant applied by a release without certificate pins (ccd file, no pin) is not locked out, and says so", () => {
    const s = fresh();
    pin(s, "acme", ID_A);
    rmSync(`${openvpnFilePaths(s.layout).certPinsDir}/acme`);
    expect(run(s, { common_name: "acme", UV_HWID: ID_A, tls_digest_sha256_0: OLD_CERT })).toEqual({
      code: 0,
      log: "lr-auth: cn=acme no certificate pin yet (applied by an earlier release): certificate not checked\nlr-auth: cn=acme ACCEPT: hwid matches ops pin",
    });
    // The hardware check still applies.
    expect(run(s, { common_name: "acme", UV_HWID: ID_B }).code).toBe(1);
  });
});

describe("auth-verify hook: common name check", () => {
  it("rejects path traversal even when the traversed path exists", () => {
    const s = fresh();
    pin(s, "acme", ID_A);
    // From ccd-tcp/, "../pins/acme" is an existing file: only the name check stops it.
    for (const cn of ["../pins/acme", "../../etc/passwd", "acme/../acme", ".acme", ""]) {
      expect(run(s, { common_name: cn, UV_HWID: ID_A })).toEqual({ code: 1, log: "lr-auth: cn=invalid REJECT: common name is not a tenant key" });
    }
    expect(run(s, { UV_HWID: ID_A }).code).toBe(1);
    expect(readdirSync(openvpnFilePaths(s.layout).enrolledDir)).toEqual([]);
  });

  it("accepts as a name exactly what config/schema.ts TENANT_KEY accepts, minus the servers' lr-vpn prefix", () => {
    const s = fresh("refuse", []);
    const chars = fc.constantFrom(..."abz09-./_A ".split(""));
    fc.assert(
      fc.property(fc.oneof(fc.stringMatching(TENANT_KEY), fc.string({ unit: chars, maxLength: 40 })), (cn) => {
        const invalid = run(s, { common_name: cn }).log.includes("cn=invalid");
        expect(invalid).toBe(!(TENANT_KEY.test(cn) && !cn.startsWith("lr-vpn")));
      }),
      { numRuns: 120 },
    );
    for (const cn of ["a".repeat(32), "lr-vpn1", "a".repeat(33), "a-"]) {
      expect(run(s, { common_name: cn }).log.includes("cn=invalid")).toBe(cn !== "a".repeat(32));
    }
  });
});

describe("auth-verify hook: exit status", () => {
  it("a shell error (dash exits 2, OpenVPN's 'deferred') becomes exit 1; the control without the trap exits 2", () => {
    const s = fresh();
    pin(s, "acme", ID_A);
    // An unset variable under set -u: dash's error status is 2.
    const broken = readFileSync(s.hook, "utf8").replace(/^CERTS=.*\n/m, "");
    const runText = (text: string) => spawnSync("/usr/bin/env", ["-i", "common_name=acme", `UV_HWID=${ID_A}`, "/bin/sh", "-c", text, "hook", `${s.root}/via-file`], { encoding: "utf8" }).status;
    expect(runText(broken)).toBe(1);
    expect(runText(broken.replace(/^trap refuse_on_error EXIT\n/m, ""))).toBe(2);
  });
});

describe("connect/disconnect hooks", () => {
  const plan = twoTenantPlan();
  it.each([
    ["client-connect", renderConnectHook(plan.stack), "lr-connect: cn=acme tunnel=10.255.0.2 from=198.51.100.7 dev=tun-udp"],
    ["client-disconnect", renderDisconnectHook(plan.stack), "lr-disconnect: cn=acme tunnel=10.255.0.2 from=198.51.100.7 duration=0s rx=0 tx=0"],
  ])("%s logs one line and exits 0, also for a rejected session and when run twice", (_name, text, line) => {
    const env = ["common_name=acme", "ifconfig_pool_remote_ip=10.255.0.2", "trusted_ip=198.51.100.7", "dev=tun-udp", "time_duration=0"];
    for (let i = 0; i < 2; i++) {
      const r = spawnSync("/usr/bin/env", ["-i", ...env, "/bin/sh", "-c", text, "hook", "/tmp/unused"], { encoding: "utf8" });
      expect({ code: r.status, log: r.stderr.trim(), out: r.stdout }).toEqual({ code: 0, log: line, out: "" });
    }
  });
});

describe("shellcheck", () => {
  const plan = twoTenantPlan();
  const { layout } = tempLayout();
  it.each<readonly [string, string]>([
    ...(["vpn1", "vpn2"] as const).map((n, i) => [`auth-verify ${n} (enrol)`, renderAuthVerifyHook(plan, plan.servers[i], layout)] as [string, string]),
    ["auth-verify (refuse)", renderAuthVerifyHook(planFor("refuse"), plan.servers[0], layout)],
    ["client-connect", renderConnectHook(plan.stack)],
    ["client-disconnect", renderDisconnectHook(plan.stack)],
  ])("%s is clean", (_name, text) => {
    expect(shellcheck(text)).toEqual({ ok: true, report: "" });
  });
});
