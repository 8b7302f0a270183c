/**
 * Deterministic stand-ins for what the providers return under Pulumi's mock monitor, and the config as the
 * Pulumi CLI hands it to a program. Shared by the program tests (test/program/harness.ts) and the benchmarks
 * (bench/mock-program.ts), so both evaluate the program on the same fake PEMs, passwords and secrets.
 */
import { createHash } from "node:crypto";
import { NAMESPACE } from "../config/load";

export const FAKE_SECRETS = {
  proxmoxPassword: "mock-root-pw-Zq81",
  sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nbW9jay1vcHMta2V5LW5vdC1yZWFs\n-----END OPENSSH PRIVATE KEY-----\n",
};
export const FAKE_SSH_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockOpsKeyForTests ops@librerouter";
/** The config keys the program reads as secrets. */
export const SECRET_CONFIG_KEYS = [`${NAMESPACE}:proxmoxPassword`, `${NAMESPACE}:sshPrivateKey`];

/** `n` hex digits derived from `s`. */
export function fakeHex(s: string, n: number): string {
  let out = "";
  for (let i = 0; out.length < n; i++) out += createHash("sha256").update(`${s}#${i}`).digest("hex");
  return out.slice(0, n);
}

/** 8 printable characters, stable per resource name (stands in for random.RandomPassword.result). */
export function fakePassword(name: string): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const h = createHash("sha256").update(name).digest();
  return Array.from(h.subarray(0, 8), (b) => alphabet[b % alphabet.length]).join("");
}
export const fakeKeyPem = (name: string) => `-----BEGIN PRIVATE KEY-----\nMOCKKEY${fakeHex(name, 32)}\n-----END PRIVATE KEY-----\n`;
const fakeCertPem = (name: string) => `-----BEGIN CERTIFICATE-----\nMOCKCERT${fakeHex(name, 32)}\n-----END CERTIFICATE-----\n`;

/**
 * What a provider adds to the inputs of a `type` resource; `secret` wraps the fields the provider lists in
 * `additionalSecretOutputs` (the engine marks them secret, the mock monitor does not).
 */
export function fakeOutputs(secret: (v: string) => unknown, type: string, name: string): Record<string, unknown> {
  switch (type) {
    case "tls:index/privateKey:PrivateKey":
      return { privateKeyPem: secret(fakeKeyPem(name)), privateKeyOpenssh: secret(fakeKeyPem(name)), privateKeyPemPkcs8: secret(fakeKeyPem(name)), publicKeyPem: `PUBLIC ${name}` };
    case "tls:index/certRequest:CertRequest":
      return { certRequestPem: `-----BEGIN CERTIFICATE REQUEST-----\n${fakeHex(name, 32)}\n-----END CERTIFICATE REQUEST-----\n` };
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      return { certPem: fakeCertPem(name) };
    case "random:index/randomPassword:RandomPassword":
      return { result: secret(fakePassword(name)), bcryptHash: secret("$2a$10$mock") };
    case "random:index/randomBytes:RandomBytes": {
      const h = fakeHex(name, 512);
      return { hex: secret(h), base64: secret(Buffer.from(h, "hex").toString("base64")) };
    }
    default:
      return {};
  }
}

/** The invoke the program makes: the OpenSSH public key of `sshPrivateKey`. */
export function fakeCall(token: string): Record<string, unknown> {
  if (token === "tls:index/getPublicKey:getPublicKey") return { publicKeyOpenssh: `${FAKE_SSH_PUBLIC_KEY}\n`, algorithm: "ED25519" };
  throw new Error(`unexpected invoke ${token}`);
}

/** Config as the Pulumi CLI hands it to a program (top-level strings raw, the rest JSON), with the fake secrets. */
export function toPulumiConfig(raw: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) out[`${NAMESPACE}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  out[`${NAMESPACE}:proxmoxPassword`] = FAKE_SECRETS.proxmoxPassword;
  out[`${NAMESPACE}:sshPrivateKey`] = FAKE_SECRETS.sshPrivateKey;
  return out;
}
