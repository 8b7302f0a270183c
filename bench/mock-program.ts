/**
 * Runs a Pulumi program under `pulumi.runtime.setMocks` outside jest (the benchmarks) or inside it (the
 * policy-compliance test), recording every registration with the URN the mock monitor gives it and its
 * `additionalSecretOutputs`. Provider outputs are the inputs echoed back plus fake PEMs/passwords, enough
 * for the program to render everything. One program per process (or per jest module registry).
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { NAMESPACE } from "../config/load";

export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly custom: boolean;
  /** URN of the parent ("" for the stack itself). */
  readonly parent: string;
  /** Inputs as the engine receives them (only when recorded with `inputs: true`). */
  readonly inputs?: Record<string, unknown>;
  readonly additionalSecretOutputs: readonly string[];
}

const hex = (s: string, n: number) => {
  let out = "";
  for (let i = 0; out.length < n; i++) out += createHash("sha256").update(`${s}#${i}`).digest("hex");
  return out.slice(0, n);
};
const pem = (label: string, name: string) => `-----BEGIN ${label}-----\nMOCK${hex(name, 40)}\n-----END ${label}-----\n`;
const password = (name: string) => Array.from(createHash("sha256").update(name).digest().subarray(0, 8), (b) => "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"[b % 57]).join("");

/** What the providers would add to the inputs; secret where the provider marks them secret. */
function fakeOutputs(type: string, name: string): Record<string, unknown> {
  const s = (v: string) => pulumi.secret(v);
  switch (type) {
    case "tls:index/privateKey:PrivateKey":
      return { privateKeyPem: s(pem("PRIVATE KEY", name)), privateKeyOpenssh: s(pem("OPENSSH PRIVATE KEY", name)), privateKeyPemPkcs8: s(pem("PRIVATE KEY", name)), publicKeyPem: pem("PUBLIC KEY", name) };
    case "tls:index/certRequest:CertRequest":
      return { certRequestPem: pem("CERTIFICATE REQUEST", name) };
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      return { certPem: pem("CERTIFICATE", name) };
    case "random:index/randomPassword:RandomPassword":
      return { result: s(password(name)), bcryptHash: s("$2a$10$mock") };
    case "random:index/randomBytes:RandomBytes": {
      const h = hex(name, 512);
      return { hex: s(h), base64: s(Buffer.from(h, "hex").toString("base64")) };
    }
    default:
      return {};
  }
}

export const FAKE_SSH_PRIVATE_KEY = pem("OPENSSH PRIVATE KEY", "ops");
const FAKE_SSH_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockBenchKey ops@librerouter";

/** Config as the Pulumi CLI hands it to a program (top-level strings raw, the rest JSON), with fake secrets. */
export function pulumiConfig(raw: Record<string, unknown>): { config: Record<string, string>; secretKeys: string[] } {
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) config[`${NAMESPACE}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  config[`${NAMESPACE}:proxmoxPassword`] = "mock-root-pw";
  config[`${NAMESPACE}:sshPrivateKey`] = FAKE_SSH_PRIVATE_KEY;
  return { config, secretKeys: [`${NAMESPACE}:proxmoxPassword`, `${NAMESPACE}:sshPrivateKey`] };
}

/** Installs the mocks; every registration lands in `into`. Call once per process, before loading the program. */
export function installMocks(stack: string, raw: Record<string, unknown>, into: Registration[], opts: { inputs?: boolean } = {}): void {
  pulumi.runtime.setMocks(
    {
      newResource: (a) => ({ id: `${a.name}-id`, state: { ...a.inputs, ...fakeOutputs(a.type, a.name) } }),
      call: (a) => {
        if (a.token === "tls:index/getPublicKey:getPublicKey") return { publicKeyOpenssh: `${FAKE_SSH_PUBLIC_KEY}\n`, algorithm: "ED25519" };
        throw new Error(`unexpected invoke ${a.token}`);
      },
    },
    "librerouter-hosting",
    stack,
    false,
  );
  // The mock monitor's own registerResource, wrapped to see the parent-qualified URN and the options.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const rpc = require("@pulumi/pulumi/runtime/rpc");
  const original = MockMonitor.prototype.registerResource;
  type Req = { getType(): string; getName(): string; getCustom(): boolean; getParent(): string; getObject(): unknown; getAdditionalsecretoutputsList(): string[] };
  type Res = { getUrn(): string };
  MockMonitor.prototype.registerResource = function (req: Req, cb: (err: unknown, res?: Res) => void) {
    return original.call(this, req, (err: unknown, res?: Res) => {
      if (!err && res) {
        into.push({
          type: req.getType(),
          name: req.getName(),
          urn: res.getUrn(),
          custom: req.getCustom(),
          parent: req.getParent(),
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
          ...(opts.inputs ? { inputs: rpc.deserializeProperties(req.getObject(), true) } : {}),
        });
      }
      cb(err, res);
    });
  };
  const { config, secretKeys } = pulumiConfig(raw);
  pulumi.runtime.setAllConfig(config, secretKeys);
}

/** Resolves every export of a loaded program (its stack outputs) and waits until all registrations are done. */
export async function settle(exports: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(exports)) out[k] = await new Promise((resolve) => (pulumi.output(v) as pulumi.Output<unknown>).apply(resolve));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  await (pulumi.runtime as any).waitForRPCs();
  return out;
}
