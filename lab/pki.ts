/**
 * The lab's PKI, issued with @peculiar/x509 on Node's WebCrypto from exactly the description in
 * render/pki-profile.ts (algorithm, curve, key usages, EKU, validity, common names) that the Pulumi
 * `Pki` component uses, so openvpn accepting these certificates is evidence about production's. The tls-crypt-v2 keys
 * come from the same pure functions the program uses (render/tls-crypt-v2.ts), on the lab's random bytes.
 */
import "reflect-metadata"; // tsyringe (inside @peculiar/x509) needs the Reflect metadata polyfill
import { randomBytes, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import {
  CA_USES,
  CA_VALIDITY_HOURS,
  CLIENT_USES,
  ECDSA_CURVE,
  KEY_ALGORITHM,
  SERVER_USES,
  caSubject,
  serverCommonName,
} from "../render/pki-profile";
import { CLIENT_KEY_BYTES, SERVER_KEY_BYTES, clientKeyId, serverKeyFile, tenantClientKeyFile } from "../render/tls-crypt-v2";
import type { Plan, ServerName } from "../plan/types";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type KeyPair = webcrypto.CryptoKeyPair;
type Key = webcrypto.CryptoKey;
type X509Key = Parameters<typeof x509.X509CertificateGenerator.create>[0] extends { signingKey: infer K } ? K : never;

/** A certificate and its private key, both PEM. The key is a secret: never log it. */
export interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A tls-crypt-v2 client key file (secret) and the key id in its metadata (the servers' pin). */
export interface Tc2Key {
  readonly pem: string;
  readonly keyId: string;
}

export interface LabPki {
  readonly caPem: string;
  readonly servers: Readonly<Record<ServerName, Issued>>;
  /** tls-crypt-v2 server key file (both servers). */
  readonly tlsCryptV2ServerKey: string;
  /** Issues a client certificate with common name `cn` (tenants, and the lab's intruder). */
  issueClient(cn: string): Promise<Issued>;
  /** A server certificate for a service reached by address (the ban grid's LAPI): `ips` as IP subject alternative names. */
  issueService(cn: string, ips: readonly string[]): Promise<Issued>;
  /** The current tls-crypt-v2 client key of tenant `cn` (made on first use: what the Tenant component's RandomBytes holds). */
  tc2Key(cn: string): Tc2Key;
  /** Replaces `cn`'s current client key with a new one (`pulumi up --replace` of its RandomBytes) and returns it. */
  reissueTc2Key(cn: string): Tc2Key;
  /** A client key for `cn` that is not recorded: wrapped with `serverPem` (default: the servers' key). */
  mintTc2Key(cn: string, serverPem?: string): Tc2Key;
}

/** A fresh tls-crypt-v2 server key file (also what a foreign deployment's key looks like). */
export function newTc2ServerKey(): string {
  return serverKeyFile(randomBytes(SERVER_KEY_BYTES).toString("hex"));
}

type Use = (typeof CA_USES)[number] | (typeof SERVER_USES)[number] | (typeof CLIENT_USES)[number];

/** @pulumi/tls `allowedUses` → X.509 key usage bits and extended key usages. */
function extensionsFor(uses: readonly Use[]): x509.Extension[] {
  const bits: Record<string, x509.KeyUsageFlags> = {
    digital_signature: x509.KeyUsageFlags.digitalSignature,
    key_agreement: x509.KeyUsageFlags.keyAgreement,
    cert_signing: x509.KeyUsageFlags.keyCertSign,
    crl_signing: x509.KeyUsageFlags.cRLSign,
  };
  const ekus: Record<string, string> = { server_auth: x509.ExtendedKeyUsage.serverAuth, client_auth: x509.ExtendedKeyUsage.clientAuth };
  const flags = uses.reduce((acc, u) => acc | (bits[u] ?? 0), 0);
  const eku = uses.map((u) => ekus[u]).filter((e): e is string => !!e);
  const out: x509.Extension[] = [new x509.KeyUsagesExtension(flags, true)];
  if (eku.length) out.push(new x509.ExtendedKeyUsageExtension(eku, false));
  return out;
}

const ALG = { name: KEY_ALGORITHM, namedCurve: ECDSA_CURVE === "P256" ? "P-256" : ECDSA_CURVE };
const SIGN = { name: KEY_ALGORITHM, hash: "SHA-256" };
const HOUR = 3600_000;

async function keyPair(): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as KeyPair;
}

async function keyPem(k: Key): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", k);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

/** Creates the CA, both server certificates and the tls-crypt-v2 server key for `plan`. */
export async function createPki(plan: Plan): Promise<LabPki> {
  const now = Date.now();
  const notBefore = new Date(now - HOUR);
  const caKeys = await keyPair();
  const subj = caSubject(plan.stack);
  const caName: x509.JsonName = [{ CN: [subj.commonName] }, { O: [subj.organization] }];
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: caName,
    keys: caKeys as unknown as { publicKey: X509Key; privateKey: X509Key },
    notBefore,
    notAfter: new Date(now + CA_VALIDITY_HOURS * HOUR),
    signingAlgorithm: SIGN,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), ...extensionsFor(CA_USES), await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey as unknown as X509Key)],
  });

  const issue = async (cn: string, uses: readonly Use[], hours: number, ips: readonly string[] = []): Promise<Issued> => {
    const keys = await keyPair();
    const cert = await x509.X509CertificateGenerator.create({
      subject: [{ CN: [cn] }],
      issuer: ca.subjectName,
      publicKey: keys.publicKey as unknown as X509Key,
      signingKey: caKeys.privateKey as unknown as X509Key,
      notBefore,
      notAfter: new Date(now + hours * HOUR),
      signingAlgorithm: SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        ...extensionsFor(uses),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey as unknown as X509Key),
        ...(ips.length ? [new x509.SubjectAlternativeNameExtension(ips.map((value) => ({ type: "ip" as const, value })))] : []),
      ],
    });
    return { certPem: cert.toString("pem"), keyPem: await keyPem(keys.privateKey) };
  };

  const servers = {
    vpn1: await issue(serverCommonName("vpn1"), SERVER_USES, plan.pki.server.validityHours),
    vpn2: await issue(serverCommonName("vpn2"), SERVER_USES, plan.pki.server.validityHours),
  };
  const tc2Server = newTc2ServerKey();
  const mint = (cn: string, serverPem = tc2Server): Tc2Key => {
    const hex = randomBytes(CLIENT_KEY_BYTES).toString("hex");
    return { pem: tenantClientKeyFile(serverPem, hex, cn), keyId: clientKeyId(hex) };
  };
  const current = new Map<string, Tc2Key>();
  const reissue = (cn: string): Tc2Key => {
    const k = mint(cn);
    current.set(cn, k);
    return k;
  };
  return {
    caPem: ca.toString("pem"),
    servers,
    tlsCryptV2ServerKey: tc2Server,
    issueClient: (cn) => issue(cn, CLIENT_USES, plan.pki.client.validityHours),
    issueService: (cn, ips) => issue(cn, SERVER_USES, plan.pki.server.validityHours, ips),
    tc2Key: (cn) => current.get(cn) ?? reissue(cn),
    reissueTc2Key: reissue,
    mintTc2Key: mint,
  };
}
