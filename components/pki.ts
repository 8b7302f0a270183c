/**
 * The service's PKI with `@pulumi/tls`: one CA for both VPN servers, server and client certificates issued from
 * it, and the tls-crypt static key from `@pulumi/random`. Algorithms, usages and lifetimes come from
 * render/pki-profile.ts, which the lab uses too.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import type { Plan } from "../plan/types";
import { CA_USES, CA_VALIDITY_HOURS, ECDSA_CURVE, KEY_ALGORITHM, caSubject, staticKeyFile } from "../render/pki-profile";

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
  /** The tls-crypt key file (OpenVPN static key V1 text), secret. */
  public readonly tlsCryptKey: pulumi.Output<string>;

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
    const tlsCrypt = new random.RandomBytes(`${name}-tls-crypt`, { length: 256 }, { parent: this });
    this.tlsCryptKey = pulumi.secret(tlsCrypt.hex.apply(staticKeyFile));
    this.registerOutputs({ caCertPem: this.caCertPem });
  }

  /**
   * Key, CSR and CA-signed certificate named `${name}-key`, `-csr`, `-cert`. `opts.parent` is the component the
   * certificate belongs to (a tenant, a VPN server), so it is created and deleted with it.
   */
  issue(name: string, spec: CertSpec, opts: pulumi.CustomResourceOptions): IssuedCert {
    const key = new tls.PrivateKey(`${name}-key`, { algorithm: KEY_ALGORITHM, ecdsaCurve: ECDSA_CURVE }, opts);
    const csr = new tls.CertRequest(`${name}-csr`, { privateKeyPem: key.privateKeyPem, subject: { commonName: spec.commonName } }, opts);
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
