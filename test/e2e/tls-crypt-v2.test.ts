/**
 * Our tls-crypt-v2 key files (render/tls-crypt-v2.ts) against the installed openvpn, both ways: openvpn wraps client
 * keys with our server key (`--genkey tls-crypt-v2-client` reads the server key and unwraps its own result as a
 * self-test, tls_crypt.c:790-801), our code unwraps them and, the wrap being deterministic, re-wraps them to the same
 * bytes; and openvpn's own server key serves our wrap the same way. The lab's `tls-crypt-v2` check connects with them.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLIENT_KEY_BYTES, SERVER_KEY_BYTES, serverKeyFile, tenantClientKeyFile, tenantMetadata, unwrapClientKey, wrapClientKey } from "../../render/tls-crypt-v2";

const dir = mkdtempSync(join(tmpdir(), "lr-tc2-e2e-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openvpn(...args: string[]): void {
  const r = spawnSync("openvpn", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openvpn ${args.join(" ")} failed (${r.status}): ${r.stdout}${r.stderr}`);
}

/** openvpn's client key for `serverFile`, with USER metadata `meta` (given base64, as --genkey takes it). */
function openvpnClientKey(serverFile: string, meta: Buffer, name: string): string {
  const out = join(dir, name);
  openvpn("--tls-crypt-v2", serverFile, "--genkey", "tls-crypt-v2-client", out, meta.subarray(1).toString("base64"));
  return readFileSync(out, "utf8");
}

describe("tls-crypt-v2 key files under the real openvpn", () => {
  it("openvpn takes our server key: its client keys unwrap with our code and re-wrap to the same bytes", () => {
    const server = serverKeyFile(randomBytes(SERVER_KEY_BYTES).toString("hex"));
    writeFileSync(join(dir, "ours.key"), server, { mode: 0o600 });
    const meta = tenantMetadata("coop-sur", "0123456789abcdef");
    for (const n of [1, 2]) {
      const theirs = openvpnClientKey(join(dir, "ours.key"), meta, `client-${n}.key`);
      const { kc, metadata } = unwrapClientKey(server, theirs);
      expect(metadata).toEqual(meta);
      expect(wrapClientKey(server, kc.toString("hex"), metadata)).toBe(theirs);
    }
  });

  it("openvpn's own server key: our wrap of its client key's Kc and metadata is its file", () => {
    openvpn("--genkey", "tls-crypt-v2-server", join(dir, "theirs.key"));
    const server = readFileSync(join(dir, "theirs.key"), "utf8");
    const theirs = openvpnClientKey(join(dir, "theirs.key"), tenantMetadata("acme", "fedcba9876543210"), "acme.key");
    const { kc } = unwrapClientKey(server, theirs);
    expect(tenantClientKeyFile(server, kc.toString("hex"), "acme")).not.toBe(theirs); // control: our id is SHA-256(Kc), not this one
    expect(wrapClientKey(server, kc.toString("hex"), tenantMetadata("acme", "fedcba9876543210"))).toBe(theirs);
    expect(() => unwrapClientKey(serverKeyFile(randomBytes(SERVER_KEY_BYTES).toString("hex")), theirs)).toThrow(/authentication error/);
    expect(kc).toHaveLength(CLIENT_KEY_BYTES);
  });
});
