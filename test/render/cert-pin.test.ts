/**
 * The certificate pin: the fingerprint the tenant scripts write must be the one OpenVPN computes
 * (`tls_digest_sha256_0`, checked for real in test/e2e/openvpn-parse.test.ts and the lab's cert-reissue check).
 */
import { X509Certificate } from "node:crypto";
import { certFingerprint } from "../../render/pki-profile";
import { tenantServerScripts } from "../../render/tenant-scripts";
import { PRODUCTION_SERVER_LAYOUT } from "../../render/layout";
import { GOLDEN_CERT, GOLDEN_KEY, GOLDEN_TC2_ID } from "./dataplane/goldens";
import { twoTenantPlan } from "./dataplane/fixture";

const GOLDEN_FP = "f5:95:29:c9:32:e6:0f:02:a4:d3:c7:88:2d:1b:72:61:0b:c7:e9:0c:9f:d0:35:56:d8:ff:f8:ff:ef:45:49:40";

describe("certFingerprint", () => {
  it("is the SHA-256 fingerprint openssl and node print, lowercase, pairs joined by ':'", () => {
    expect(certFingerprint(GOLDEN_CERT)).toBe(GOLDEN_FP);
    expect(certFingerprint(GOLDEN_CERT)).toBe(new X509Certificate(GOLDEN_CERT).fingerprint256.toLowerCase());
    expect(certFingerprint(GOLDEN_CERT.replace(/\n/g, "\r\n"))).toBe(GOLDEN_FP);
  });

  it("accepts the mock harness's placeholder PEMs (hash of the base64 body's bytes)", () => {
    expect(certFingerprint("-----BEGIN CERTIFICATE-----\nMOCKCERT0123\n-----END CERTIFICATE-----\n")).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/);
  });

  it("refuses anything but one base64 CERTIFICATE block", () => {
    expect(() => certFingerprint(GOLDEN_KEY)).toThrow(new Error("expected one PEM CERTIFICATE block, found 0"));
    expect(() => certFingerprint(GOLDEN_CERT + GOLDEN_CERT)).toThrow(new Error("expected one PEM CERTIFICATE block, found 2"));
    expect(() => certFingerprint("-----BEGIN CERTIFICATE-----\nMII=\nX=Y\n-----END CERTIFICATE-----\n")).toThrow(new Error("the PEM CERTIFICATE block is not base64"));
  });
});

describe("tenant apply script: certificate pin", () => {
  const plan = twoTenantPlan();
  const [vpn1] = plan.servers;
  const [acme] = plan.tenants;
  const L = PRODUCTION_SERVER_LAYOUT;
  it("a re-issued certificate changes the apply script only in the pin, the delete script not at all", () => {
    const other = "-----BEGIN CERTIFICATE-----\nT1RIRVI=\n-----END CERTIFICATE-----\n";
    const a = tenantServerScripts(plan, vpn1, acme, L, GOLDEN_CERT, GOLDEN_TC2_ID);
    const b = tenantServerScripts(plan, vpn1, acme, L, other, GOLDEN_TC2_ID);
    expect(b.delete).toBe(a.delete);
    const diff = (x: string, y: string) => x.split("\n").filter((l, i) => l !== y.split("\n")[i]);
    expect(diff(a.apply, b.apply)).toEqual(Buffer.from(`${GOLDEN_FP}\n`).toString("base64").match(/.{1,76}/g));
    expect(a.apply).toContain(
      `if [[ $cert_rotated == yes && " \${CHANGED[*]} " == *' ${L.openvpnDir}/cert-pins/acme '* ]] || [[ $tc2_rotated == yes && " \${CHANGED[*]} " == *' ${L.openvpnDir}/tc2-pins/acme '* ]]; then\n  '${L.confDir}/lr-dataplane' kill acme\nfi`,
    );
  });

  it("a re-issued tls-crypt-v2 key changes the apply script only in its pin, the delete script not at all", () => {
    const a = tenantServerScripts(plan, vpn1, acme, L, GOLDEN_CERT, GOLDEN_TC2_ID);
    const b = tenantServerScripts(plan, vpn1, acme, L, GOLDEN_CERT, "fedcba9876543210");
    expect(b.delete).toBe(a.delete);
    const diff = (x: string, y: string) => x.split("\n").filter((l, i) => l !== y.split("\n")[i]);
    expect(diff(b.apply, a.apply)).toEqual([Buffer.from("fedcba9876543210\n").toString("base64")]);
    expect(a.delete).toContain(`'${L.openvpnDir}/tc2-pins/acme'`);
  });

  it("refuses a tls-crypt-v2 pin that is not a key id, naming the tenant", () => {
    expect(() => tenantServerScripts(plan, vpn1, acme, L, GOLDEN_CERT, "0123")).toThrow(new Error("tenant acme: tls-crypt-v2 pin is not a key id (16 lowercase hex digits)"));
  });
});
