/**
 * One description of the PKI, used by the `Pki` component (@pulumi/tls) and by the lab (@peculiar/x509),
 * so the lab proves the certificates production issues. Pure: no `@pulumi/*` import.
 */
import { createHash } from "node:crypto";
import type { ServerName, TenantPlan } from "../plan/types";

/** Common-name prefix of the VPN servers' certificates; clients check it with `verify-x509-name … name-prefix`. */
export const SERVER_CN_PREFIX = "lr-vpn";

export const KEY_ALGORITHM = "ECDSA" as const;
export const ECDSA_CURVE = "P256" as const;

export const CA_VALIDITY_HOURS = 10 * 365 * 24;

/** @pulumi/tls `allowedUses` names. */
export const CA_USES = ["cert_signing", "crl_signing", "digital_signature"] as const;
export const SERVER_USES = ["digital_signature", "key_agreement", "server_auth"] as const;
export const CLIENT_USES = ["digital_signature", "key_agreement", "client_auth"] as const;

export function caSubject(stack: string): { commonName: string; organization: string } {
  return { commonName: `librerouter-hosting ${stack} CA`, organization: "librerouter-hosting" };
}

export function serverCommonName(server: ServerName): string {
  return `${SERVER_CN_PREFIX}${server.slice(3)}`;
}

/** The tenant key is the certificate CN, the ccd file name and the pin file name. */
export function clientCommonName(tenant: TenantPlan): string {
  return tenant.key;
}

/**
 * The SHA-256 fingerprint of the certificate in `pem` the way OpenVPN sets `tls_digest_sha256_0`: lowercase hex
 * pairs joined by `:`. It hashes the DER bytes of the one `CERTIFICATE` block, which is what a certificate's
 * fingerprint is (equal to node's `X509Certificate.fingerprint256`, lowercased), without parsing the ASN.1, so the
 * mock harness's placeholder PEMs give a fingerprint too. Throws on anything but exactly one base64 block.
 */
export function certFingerprint(pem: string): string {
  const blocks = [...pem.matchAll(/-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----/g)];
  if (blocks.length !== 1) throw new Error(`expected one PEM CERTIFICATE block, found ${blocks.length}`);
  const b64 = blocks[0][1].replace(/\r?\n/g, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error("the PEM CERTIFICATE block is not base64");
  const hex = createHash("sha256").update(Buffer.from(b64, "base64")).digest("hex");
  return hex.replace(/..(?!$)/g, "$&:");
}
