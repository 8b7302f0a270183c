/**
 * The tls-crypt-v2-verify hook, run for real: `env -i` with only the three variables OpenVPN 2.6 sets
 * (tls_crypt.c:580-582) and the metadata file as it writes it (the metadata without its type byte, raw). OpenVPN
 * itself running it before TLS is the lab's `tls-crypt-v2` check.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { renderTlsCryptV2VerifyHook } from "../../../render/hooks";
import { openvpnFilePaths } from "../../../render/openvpn-server";
import { scriptFile } from "../../../render/script-file";
import { tenantMetadata } from "../../../render/tls-crypt-v2";
import { shellcheck } from "../../tools/shellcheck";
import { tempLayout, twoTenantPlan } from "./fixture";

const ID = "0123456789abcdef";
const OLD_ID = "fedcba9876543210";
const { root, layout } = tempLayout("lr-tc2-");
const p = openvpnFilePaths(layout);
const meta = `${root}/metadata`;
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(() => {
  for (const d of [p.hooksDir, p.tc2PinsDir, p.ccdDirs.udp, p.ccdDirs.tcp]) mkdirSync(d, { recursive: true });
  // acme has a ccd file in one instance only (the hook accepts either); coop-sur in both.
  writeFileSync(`${p.ccdDirs.tcp}/acme`, "ifconfig-push 10.255.64.2 255.255.192.0\n");
  for (const d of [p.ccdDirs.udp, p.ccdDirs.tcp]) writeFileSync(`${d}/coop-sur`, "ifconfig-push 10.255.0.3 255.255.192.0\n");
  writeFileSync(`${p.tc2PinsDir}/acme`, `${ID}\n`);
  writeFileSync(p.tlsCryptV2VerifyHook, renderTlsCryptV2VerifyHook("golden", layout));
  chmodSync(p.tlsCryptV2VerifyHook, 0o755);
});

/** Runs the hook as OpenVPN does, with `data` (bytes after the type byte) in the metadata file; `null`: no file. */
function run(type: string, data: Buffer | string | null): { code: number | null; log: string } {
  if (data === null) rmSync(meta, { force: true });
  else writeFileSync(meta, data);
  const r = spawnSync("/usr/bin/env", ["-i", "script_type=tls-crypt-v2-verify", `metadata_type=${type}`, `metadata_file=${meta}`, p.tlsCryptV2VerifyHook], { encoding: "utf8" });
  return { code: r.status, log: r.stderr.trim() };
}
/** What OpenVPN writes for one of our keys: tenantMetadata() minus its type byte. */
const ours = (cn: string, id: string) => tenantMetadata(cn, id).subarray(1);

describe("tls-crypt-v2-verify hook", () => {
  it("accepts the tenant's current key: a ccd file in either instance and the pinned key id", () => {
    expect(run("0", ours("acme", ID))).toEqual({ code: 0, log: `lr-tc2: cn=acme ACCEPT: tls-crypt-v2 key ${ID}` });
  });

  it("refuses a replaced key (another id), a tenant with no pin or an empty one, and a removed tenant (no ccd file)", () => {
    expect(run("0", ours("acme", OLD_ID))).toEqual({ code: 1, log: `lr-tc2: cn=acme REJECT: tls-crypt-v2 key ${OLD_ID} is not the tenant's current one` });
    expect(run("0", ours("coop-sur", ID))).toEqual({ code: 1, log: "lr-tc2: cn=coop-sur REJECT: no tls-crypt-v2 key pinned" });
    writeFileSync(`${p.tc2PinsDir}/coop-sur`, "");
    expect(run("0", ours("coop-sur", ID))).toEqual({ code: 1, log: "lr-tc2: cn=coop-sur REJECT: no tls-crypt-v2 key pinned" });
    unlinkSync(`${p.tc2PinsDir}/coop-sur`);
    // A removed tenant: its delete script removed the ccd files (and the pin; a stale pin must not let it in).
    writeFileSync(`${p.tc2PinsDir}/former`, `${ID}\n`);
    expect(run("0", ours("former", ID))).toEqual({ code: 1, log: "lr-tc2: cn=former REJECT: no ccd file: not a tenant" });
  });

  it("refuses metadata we never write: openvpn's default timestamp, other user data, extra fields, bad names and ids", () => {
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(1_700_000_000n);
    expect(run("1", ts)).toEqual({ code: 1, log: "lr-tc2: cn=- REJECT: metadata type 1 is not user metadata: not a key we issued" });
    expect(run("", ours("acme", ID))).toEqual({ code: 1, log: "lr-tc2: cn=- REJECT: metadata type none is not user metadata: not a key we issued" });
    const notOurs = "lr-tc2: cn=- REJECT: metadata is not a librerouter tenant key";
    for (const m of ["", "acme 0123456789abcdef", `lr2 acme ${ID}`, `lr1 acme ${ID} extra`]) expect(run("0", m)).toEqual({ code: 1, log: notOurs });
    const noName = "lr-tc2: cn=- REJECT: metadata names no tenant key";
    for (const cn of ["../acme", "Acme", "lr-vpn1", "acme-", "1acme", "a".repeat(33)]) expect(run("0", `lr1 ${cn} ${ID}`)).toEqual({ code: 1, log: noName });
    for (const id of ["0123", "0123456789ABCDEF", `${ID}0`, "0123456789abcdeg"]) expect(run("0", `lr1 acme ${id}`)).toEqual({ code: 1, log: "lr-tc2: cn=acme REJECT: metadata has no key id" });
    expect(run("0", null)).toEqual({ code: 1, log: "lr-tc2: cn=- REJECT: no metadata file" });
  });

  it("forks nothing (no command substitution, no external tool) and names no PATH: OpenVPN gives it none", () => {
    const body = scriptFile("tls-crypt-v2-verify.sh");
    expect(body).not.toMatch(/\$\(|`|\/(usr\/)?s?bin\//);
    expect(body).not.toMatch(/\$\{?PATH\b|\bPATH=/);
  });

  it("is clean under shellcheck (as sh)", () => {
    expect(shellcheck(renderTlsCryptV2VerifyHook(twoTenantPlan().stack, layout))).toEqual({ ok: true, report: "" });
  });
});
