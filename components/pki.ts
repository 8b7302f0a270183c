/**
 * The service's PKI with `@pulumi/tls`: one CA for both VPN servers, server and client certificates issued from
 * it, and the tls-crypt-v2 server key from `@pulumi/random` bytes (render/tls-crypt-v2.ts builds the key files;
 * @pulumi/tls cannot). Algorithms, usages and lifetimes come from render/pki-profile.ts, which the lab uses too.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import type { Plan } from "../plan/types";
import { CA_USES, CA_VALIDITY_HOURS, ECDSA_CURVE, KEY_ALGORITHM, caSubject } from "../render/pki-profile";
import { SERVER_KEY_BYTES, serverKeyFile } from "../render/tls-crypt-v2";

export interface PkiArgs {
  /** The plan: names the CA after the stack. */
  readonly plan: Plan;
}

/** What `Pki.issue` needs to know about one certificate. */
export interface CertSpec {
  readonly commonName: string;
  /** @pulumi/tls `allowedUses` (SERVER_USES or CLIENT_USES). */
  readonly allowedUses: readonly string[];
  readonly validityHours: number;
  /** Pulumi re-issues the certificate on the first `up` this many hours before it expires. */
  readonly renewHours: number;
  /** IP subject alternative names (a service reached by address, e.g. the ban grid's LAPI). */
  readonly ipAddresses?: readonly string[];
}

/** An issued certificate; `privateKeyPem` is a secret Output. */
export interface IssuedCert {
  readonly key: tls.PrivateKey;
  readonly cert: tls.LocallySignedCert;
  readonly privateKeyPem: pulumi.Output<string>;
  readonly certPem: pulumi.Output<string>;
}

export class Pki extends pulumi.ComponentResource {
  public readonly caKey: tls.PrivateKey;
  public readonly caCert: tls.SelfSignedCert;
  public readonly caCertPem: pulumi.Output<string>;
  /** The tls-crypt-v2 server key file (PEM), secret: the same on both servers; every tenant's client key is wrapped with it. */
  public readonly tlsCryptV2ServerKey: pulumi.Output<string>;

  constructor(name: string, args: PkiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("librerouter:pki:Pki", name, {}, opts);
    this.caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: KEY_ALGORITHM, ecdsaCurve: ECDSA_CURVE }, { parent: this });
    this.caCert = new tls.SelfSignedCert(
      `${name}-ca-cert`,
      {
        privateKeyPem: this.caKey.privateKeyPem,
        isCaCertificate: true,
        allowedUses: [...CA_USES],
        subject: caSubject(args.plan.stack),
        validityPeriodHours: CA_VALIDITY_HOURS,
      },
      { parent: this },
    );
    this.caCertPem = this.caCert.certPem;
    // Random bytes, not `openvpn --genkey` on a server: both servers need the same key and the bundles (Pulumi outputs) need
    // client keys wrapped with it, so a key made on vpn1 would have to be copied back to Pulumi and on to vpn2.
    const tc2 = new random.RandomBytes(`${name}-tls-crypt-v2`, { length: SERVER_KEY_BYTES }, { parent: this });
    this.tlsCryptV2ServerKey = pulumi.secret(tc2.hex.apply(serverKeyFile));
    this.registerOutputs({ caCertPem: this.caCertPem });
  }

  /**
   * Key, CSR and CA-signed certificate named `${name}-key`, `-csr`, `-cert`. `opts.parent` is the component the
   * certificate belongs to (a tenant, a VPN server), so it is created and deleted with it.
   */
  issue(name: string, spec: CertSpec, opts: pulumi.CustomResourceOptions): IssuedCert {
    const key = new tls.PrivateKey(`${name}-key`, { algorithm: KEY_ALGORITHM, ecdsaCurve: ECDSA_CURVE }, opts);
    const csr = new tls.CertRequest(`${name}-csr`, { privateKeyPem: key.privateKeyPem, subject: { commonName: spec.commonName }, ...(spec.ipAddresses ? { ipAddresses: [...spec.ipAddresses] } : {}) }, opts);
    const cert = new tls.LocallySignedCert(
      `${name}-cert`,
      {
        certRequestPem: csr.certRequestPem,
        caPrivateKeyPem: this.caKey.privateKeyPem,
        caCertPem: this.caCert.certPem,
        allowedUses: [...spec.allowedUses],
        validityPeriodHours: spec.validityHours,
        earlyRenewalHours: spec.renewHours,
      },
      opts,
    );
    return { key, cert, privateKeyPem: pulumi.secret(key.privateKeyPem), certPem: cert.certPem };
  }
}
