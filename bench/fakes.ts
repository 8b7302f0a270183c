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

/** `length` (default 8) letters and digits, stable per resource name (stands in for random.RandomPassword.result). */
export function fakePassword(name: string, length = 8): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const h = Buffer.from(fakeHex(name, 2 * length), "hex");
  return Array.from(h.subarray(0, length), (b) => alphabet[b % alphabet.length]).join("");
}
/** A MAC as Proxmox draws them (its BC:24:11 prefix), stable per name. */
export const fakeMac = (name: string) => `BC:24:11:${fakeHex(name, 6).toUpperCase().match(/../g)?.join(":")}`;
/** An ed25519 host key line, stable per name. */
export const fakeHostKey = (name: string) => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${Buffer.from(fakeHex(name, 32), "hex").toString("base64").replace(/=+$/, "")}`;
export const fakeKeyPem = (name: string) => `-----BEGIN PRIVATE KEY-----\nMOCKKEY${fakeHex(name, 32)}\n-----END PRIVATE KEY-----\n`;
const fakeCertPem = (name: string) => `-----BEGIN CERTIFICATE-----\nMOCKCERT${fakeHex(name, 32)}\n-----END CERTIFICATE-----\n`;

/**
 * What a provider adds to the inputs of a `type` resource; `secret` wraps the fields the provider lists in
 * `additionalSecretOutputs` (the engine marks them secret, the mock monitor does not).
 */
export function fakeOutputs(secret: (v: string) => unknown, type: string, name: string, inputs: Record<string, unknown> = {}): Record<string, unknown> {
  switch (type) {
    // Proxmox draws a MAC for every NIC that has none (bpg reads it back into networkDevices[].macAddress).
    case "proxmoxve:index/vmLegacy:VmLegacy": {
      const nics = (inputs.networkDevices as Record<string, unknown>[] | undefined) ?? [];
      return { networkDevices: nics.map((n, i) => ({ ...n, macAddress: n.macAddress ?? fakeMac(`${name}#${i}`) })) };
    }
    // The host's ssh-keyscan of a guest prints its ed25519 key (components/connections.ts guestHostKey).
    case "command:remote:Command":
      return { stdout: name.endsWith("-hostkey") ? `${fakeHostKey(name)}\n` : "", stderr: "" };
    case "tls:index/privateKey:PrivateKey":
      return { privateKeyPem: secret(fakeKeyPem(name)), privateKeyOpenssh: secret(fakeKeyPem(name)), privateKeyPemPkcs8: secret(fakeKeyPem(name)), publicKeyPem: `PUBLIC ${name}` };
    case "tls:index/certRequest:CertRequest":
      return { certRequestPem: `-----BEGIN CERTIFICATE REQUEST-----\n${fakeHex(name, 32)}\n-----END CERTIFICATE REQUEST-----\n` };
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert": {
      // As the tls provider sets them at create: now and now + validity_period_hours, RFC 3339 (a fixed "now" here).
      const start = Date.parse("2026-12-01T00:00:00Z");
      const hours = typeof inputs.validityPeriodHours === "number" ? inputs.validityPeriodHours : 0;
      return { certPem: fakeCertPem(name), validityStartTime: new Date(start).toISOString(), validityEndTime: new Date(start + hours * 3_600_000).toISOString() };
    }
    case "random:index/randomPassword:RandomPassword":
      return { result: secret(fakePassword(name, typeof inputs.length === "number" ? inputs.length : 8)), bcryptHash: secret("$2a$10$mock") };
    // `length` bytes, as the provider returns (the tls-crypt-v2 server key takes 128, a client key 256).
    case "random:index/randomBytes:RandomBytes": {
      const h = fakeHex(name, 2 * (typeof inputs.length === "number" ? inputs.length : 256));
      return { hex: secret(h), base64: secret(Buffer.from(h, "hex").toString("base64")) };
    }
    default:
      return {};
  }
}

/** A Proxmox host as the preflight's data sources see it (components/preflight.ts). */
export interface FakePve {
  readonly release: string;
  readonly nodes: readonly { readonly name: string; readonly online: boolean }[];
  readonly datastores: readonly { readonly id: string; readonly type: string; readonly contentTypes: readonly string[]; readonly active?: boolean }[];
  /** Guests of every node (one node here); `cdrom`: interface → file ID; `volumes`: volume IDs with their storage. */
  readonly vms: readonly { readonly vmId: number; readonly name: string; readonly template: boolean; readonly cdrom: Readonly<Record<string, string>>; readonly volumes: readonly string[] }[];
  /** When set, every Proxmox invoke fails with it (wrong endpoint, password or certificate). */
  readonly apiError?: string;
  /** A cluster: the guests of a node other than the API node (getVmsLegacy); absent: `vms` on every node. */
  readonly vmsByNode?: Readonly<Record<string, FakePve["vms"]>>;
}

/**
 * The fake for a stack's raw config: FAKE_PVE for one node; for a cluster (`nodes`), PVE 9.0 (HA rules) with every
 * node online, each other node holding its own copies of the templates, and the HA datastore as a Ceph pool.
 */
export function fakePveFor(raw: Record<string, unknown>): FakePve {
  const nodes = raw.nodes as readonly { name: string; templates?: { librerouter: number; debian: number } }[] | undefined;
  if (!nodes?.length) return FAKE_PVE;
  const ha = (raw.ha as { datastore?: string } | undefined)?.datastore;
  const template = (vmId: number, name: string) => ({ vmId, name, template: true, cdrom: { ide2: `local-lvm:vm-${vmId}-cloudinit` }, volumes: [`local-lvm:base-${vmId}-disk-0`, `local-lvm:vm-${vmId}-cloudinit`] });
  return {
    ...FAKE_PVE,
    release: "9.0",
    nodes: nodes.map((n) => ({ name: n.name, online: true })),
    datastores: [...FAKE_PVE.datastores, ...(ha ? [{ id: ha, type: "rbd", contentTypes: ["images", "rootdir"], active: true }] : [])],
    vmsByNode: Object.fromEntries(nodes.filter((n) => n.templates).map((n) => [n.name, [template(n.templates!.librerouter, "librerouter-template"), template(n.templates!.debian, "debian-12-cloudinit")]])),
  };
}

/** A healthy PVE 8.4 node `pve1` (the node of all three stacks) with both templates on local-lvm, cloud-init included. */
export const FAKE_PVE: FakePve = {
  release: "8.4",
  nodes: [{ name: "pve1", online: true }],
  datastores: [
    { id: "local", type: "dir", contentTypes: ["backup", "import", "iso", "snippets", "vztmpl"], active: true },
    { id: "local-lvm", type: "lvmthin", contentTypes: ["images", "rootdir"], active: true },
  ],
  vms: [9000, 9001].map((id) => ({
    vmId: id,
    name: id === 9000 ? "librerouter-template" : "debian-12-cloudinit",
    template: true,
    cdrom: { ide2: `local-lvm:vm-${id}-cloudinit` },
    volumes: [`local-lvm:base-${id}-disk-0`, `local-lvm:vm-${id}-cloudinit`],
  })),
};

/** An invoke failure as the engine reports it (the SDK reads the gRPC error's `details`). */
function invokeError(message: string): Error {
  return Object.assign(new Error(message), { details: message });
}

/** The Proxmox data sources the preflight reads, answered from `pve` the way bpg answers them (errors included). */
function fakeProxmoxCall(token: string, inputs: Record<string, unknown>, pve: FakePve): Record<string, unknown> {
  if (pve.apiError) throw invokeError(pve.apiError);
  const node = inputs.nodeName as string | undefined;
  if (node !== undefined && !pve.nodes.some((n) => n.name === node)) throw invokeError(`error retrieving node ${node}: HTTP 500`);
  switch (token) {
    case "proxmoxve:index/getVersion:getVersion":
      return { id: "version", release: pve.release, version: `${pve.release}.1`, repositoryId: "c1a4b6" };
    case "proxmoxve:index/getNodesLegacy:getNodesLegacy":
      return { id: "nodes", names: pve.nodes.map((n) => n.name), onlines: pve.nodes.map((n) => n.online) };
    case "proxmoxve:index/getDatastores:getDatastores":
      return { nodeName: node, datastores: pve.datastores.map((d) => ({ enabled: true, ...d, nodeName: node })) };
    case "proxmoxve:index/getVmsLegacy:getVmsLegacy":
      return { id: "vms", nodeName: node, vms: (pve.vmsByNode?.[node ?? ""] ?? pve.vms).map((v) => ({ vmId: v.vmId, name: v.name, template: v.template, nodeName: node, status: "stopped", tags: [] })) };
    case "proxmoxve:index/getVm:getVm": {
      const vm = pve.vms.find((v) => v.vmId === inputs.id);
      if (!vm) throw invokeError(`VM Not Found: VM with ID ${String(inputs.id)} was not found on node '${node}'`);
      const cdrom = Object.fromEntries(Object.entries(vm.cdrom).map(([k, fileId]) => [k, { fileId }]));
      return { id: vm.vmId, nodeName: node, name: vm.name, template: vm.template, status: "stopped", tags: [], ...(Object.keys(cdrom).length ? { cdrom } : {}) };
    }
    case "proxmoxve:index/getFiles:getFiles": {
      const store = String(inputs.datastoreId);
      const files = pve.vms.flatMap((v) => v.volumes.filter((id) => id.startsWith(`${store}:`)).map((id) => ({ id, vmid: v.vmId, contentType: "images", fileName: "", fileFormat: "raw", fileSize: 1 })));
      return { nodeName: node, datastoreId: store, files };
    }
    default:
      throw new Error(`unexpected invoke ${token}`);
  }
}

/** The invokes the program makes: the OpenSSH public key of `sshPrivateKey`, and the preflight's reads of `pve`. */
export function fakeCall(token: string, inputs: Record<string, unknown> = {}, pve: FakePve = FAKE_PVE): Record<string, unknown> {
  if (token === "tls:index/getPublicKey:getPublicKey") return { publicKeyOpenssh: `${FAKE_SSH_PUBLIC_KEY}\n`, algorithm: "ED25519" };
  if (token.startsWith("proxmoxve:")) return fakeProxmoxCall(token, inputs, pve);
  throw new Error(`unexpected invoke ${token}`);
}

/** The Proxmox host's pinned SSH key (`proxmox.sshHostKey`), which ops set per stack like the secrets (README step 4). */
export const FAKE_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockProxmoxHostKeyForTests";

/**
 * Config as the Pulumi CLI hands it to a program (top-level strings raw, the rest JSON), with the fake secrets and,
 * unless the stack sets one, the fake host key: what an ops engineer's stack holds after README steps 3 and 4.
 */
export function toPulumiConfig(raw: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const proxmox = raw.proxmox as Record<string, unknown> | undefined;
  const withKey = proxmox && proxmox.sshHostKey === undefined ? { ...raw, proxmox: { ...proxmox, sshHostKey: FAKE_HOST_KEY } } : raw;
  for (const [k, v] of Object.entries(withKey)) out[`${NAMESPACE}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  out[`${NAMESPACE}:proxmoxPassword`] = FAKE_SECRETS.proxmoxPassword;
  out[`${NAMESPACE}:sshPrivateKey`] = FAKE_SECRETS.sshPrivateKey;
  return out;
}
