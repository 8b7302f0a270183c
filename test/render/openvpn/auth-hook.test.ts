/**
 * The auth-user-pass-verify hook, run for real: `env -i` (no PATH, as OpenVPN runs it) against a temp layout.
 * OpenVPN itself running it as nobody is covered by test/e2e/openvpn-parse.test.ts.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import fc from "fast-check";
import { TENANT_KEY } from "../../../config/schema";
import { renderAuthVerifyHook, renderConnectHook, renderDisconnectHook } from "../../../render/hooks";
import type { ServerLayout } from "../../../render/layout";
import { openvpnFilePaths } from "../../../render/openvpn-server";
import { shellcheck } from "../../tools/shellcheck";
import { tempLayout, twoTenantPlan } from "./fixture";

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
  writeFileSync(p.authVerifyHook, renderAuthVerifyHook("golden", policy, layout));
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
const enrolled = (s: Server, cn: string) => readFileSync(`${openvpnFilePaths(s.layout).enrolledDir}/${cn}`, "utf8");

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

  it("compares a MAC pin with IV_HWADDR (case-insensitive), not with UV_HWID", () => {
    const s = fresh();
    pin(s, "acme", MAC);
    expect(run(s, { common_name: "acme", IV_HWADDR: MAC.toUpperCase(), UV_HWID: ID_A })).toEqual({ code: 0, log: "lr-auth: cn=acme ACCEPT: mac matches ops pin" });
    expect(run(s, { common_name: "acme", IV_HWADDR: "02:00:5e:00:53:02" })).toEqual({ code: 1, log: "lr-auth: cn=acme REJECT: mac does not match ops pin" });
    expect(run(s, { common_name: "acme", UV_HWID: ID_A }).code).toBe(1);
  });

  it("lets the ops pin win over an earlier enrolment", () => {
    const s = fresh();
    expect(run(s, { common_name: "acme", UV_HWID: ID_B }).code).toBe(0);
    pin(s, "acme", ID_A);
    expect(run(s, { common_name: "acme", UV_HWID: ID_B })).toEqual({ code: 1, log: "lr-auth: cn=acme REJECT: hwid does not match ops pin" });
    expect(run(s, { common_name: "acme", UV_HWID: ID_A }).code).toBe(0);
  });
});

describe("auth-verify hook: unpinned tenants", () => {
  it("enrol: the first ID is stored and later connections must match it", () => {
    const s = fresh();
    expect(run(s, { common_name: "coop-sur", UV_HWID: ID_A, IV_HWADDR: MAC })).toEqual({ code: 0, log: "lr-auth: cn=coop-sur ACCEPT: enrolled on first use" });
    expect(enrolled(s, "coop-sur")).toBe(`${ID_A}\n`);
    expect(run(s, { common_name: "coop-sur", UV_HWID: ID_A })).toEqual({ code: 0, log: "lr-auth: cn=coop-sur ACCEPT: hwid matches enrolled pin" });
    expect(run(s, { common_name: "coop-sur", UV_HWID: ID_B })).toEqual({ code: 1, log: "lr-auth: cn=coop-sur REJECT: hwid does not match enrolled pin" });
    expect(readdirSync(openvpnFilePaths(s.layout).enrolledDir)).toEqual(["coop-sur"]);
  });

  it("enrol: without the launcher's ID the MAC is enrolled; without either, nothing is", () => {
    const s = fresh();
    expect(run(s, { common_name: "coop-sur" })).toEqual({ code: 1, log: "lr-auth: cn=coop-sur REJECT: no pin and no UV_HWID or IV_HWADDR to enrol" });
    expect(run(s, { common_name: "coop-sur", UV_HWID: "not-hex", IV_HWADDR: MAC }).code).toBe(0);
    expect(enrolled(s, "coop-sur")).toBe(`${MAC}\n`);
  });

  it("enrol: of 8 simultaneous first connections with different IDs exactly one wins", async () => {
    const s = fresh();
    const ids = [..."12345678"].map((c) => c.repeat(64));
    const codes = await Promise.all(
      ids.map(
        (id) =>
          new Promise<number | null>((resolve) => {
            const child = spawn("/usr/bin/env", ["-i", "common_name=coop-sur", `tls_digest_sha256_0=${CERT["coop-sur"]}`, `UV_HWID=${id}`, s.hook, `${s.root}/via-file`], { stdio: "ignore" });
            child.on("exit", (code) => resolve(code));
          }),
      ),
    );
    expect(codes.filter((c) => c === 0)).toHaveLength(1);
    expect(enrolled(s, "coop-sur")).toBe(`${ids[codes.indexOf(0)]}\n`);
    expect(readdirSync(openvpnFilePaths(s.layout).enrolledDir)).toEqual(["coop-sur"]);
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
  it.each([
    ["auth-verify (enrol)", renderAuthVerifyHook(plan.stack, plan.unpinnedPolicy, layout)],
    ["auth-verify (refuse)", renderAuthVerifyHook(plan.stack, "refuse", layout)],
    ["client-connect", renderConnectHook(plan.stack)],
    ["client-disconnect", renderDisconnectHook(plan.stack)],
  ])("%s is clean", (_name, text) => {
    expect(shellcheck(text)).toEqual({ ok: true, report: "" });
  });
});
