/**
 * The acceptance run's throwaway stack: its inputs (flags/env of scripts/acceptance.sh, validated here
 * with errors naming the flag, the variable and the fix) and the plain config it writes into
 * `Pulumi.<stack>.yaml`. The two secrets never pass through here: the script sets them with
 * `pulumi config set --secret`, and a rewrite keeps every key it does not own. Pure: no `@pulumi/*`.
 */
import { Document, parseDocument } from "yaml";
import { isCidr, isIpv4 } from "../lib/ipv4";
import { NAMESPACE } from "../config/load";

/** Two tenants for `pulumi up`; the third is the one step 3 adds (slots fix every address, see `npm run plan`). */
export const INITIAL_TENANTS = [
  { key: "acc-a", slot: 1 },
  { key: "acc-b", slot: 2 },
] as const;
export const ADDED_TENANT = { key: "acc-c", slot: 3 } as const;

export interface AcceptanceInputs {
  readonly endpoint: string;
  readonly node: string;
  readonly insecure: boolean;
  readonly publicPool: string;
  readonly publicGateway: string;
  readonly reserved: readonly string[];
  readonly hostPublicIp?: string;
  readonly templateVmid: number;
  readonly serverTemplateVmid: number;
  readonly datastore: string;
  readonly snippetsDatastore: string;
  readonly vmidBase: number;
  readonly sshHostKey?: string;
}

/** One input: its flag, its environment variable, and what a good value looks like. */
interface Field {
  readonly flag: string;
  readonly env: string;
  readonly example: string;
  readonly required: boolean;
  readonly def?: string;
}

export const INPUTS: Readonly<Record<keyof AcceptanceInputs, Field>> = {
  endpoint: { flag: "--endpoint", env: "ACC_ENDPOINT", example: "https://pve-test.example.net:8006/", required: true },
  node: { flag: "--node", env: "ACC_NODE", example: "pve1", required: true },
  insecure: { flag: "--insecure", env: "ACC_INSECURE", example: "true (self-signed API certificate)", required: false, def: "false" },
  publicPool: { flag: "--public-pool", env: "ACC_PUBLIC_POOL", example: "203.0.113.0/28", required: true },
  publicGateway: { flag: "--public-gateway", env: "ACC_PUBLIC_GATEWAY", example: "203.0.113.1", required: true },
  reserved: { flag: "--reserved", env: "ACC_RESERVED", example: "203.0.113.14,203.0.113.15", required: false, def: "" },
  hostPublicIp: { flag: "--host-public-ip", env: "ACC_HOST_PUBLIC_IP", example: "203.0.113.2", required: false },
  templateVmid: { flag: "--template-vmid", env: "ACC_TEMPLATE_VMID", example: "9000", required: false, def: "9000" },
  serverTemplateVmid: { flag: "--server-template-vmid", env: "ACC_SERVER_TEMPLATE_VMID", example: "9001", required: false, def: "9001" },
  datastore: { flag: "--datastore", env: "ACC_DATASTORE", example: "local-lvm", required: false, def: "local-lvm" },
  snippetsDatastore: { flag: "--snippets-datastore", env: "ACC_SNIPPETS_DATASTORE", example: "local", required: false, def: "local" },
  vmidBase: { flag: "--vmid-base", env: "ACC_VMID_BASE", example: "7000 (tenant VMIDs are base + slot)", required: false, def: "7000" },
  sshHostKey: { flag: "--ssh-host-key", env: "ACC_SSH_HOST_KEY", example: '"ssh-ed25519 AAAA…" (ssh-keyscan -t ed25519 <host>, without the host name; pulumi up refuses an unpinned host)', required: true },
};

/** Bad inputs, one line each (the script lists them with its other prerequisites). */
export class InputError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`acceptance: ${problems.length} input problem${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Reads and validates the inputs; throws one Error listing every problem, each naming flag, variable and fix. */
export function inputsFromEnv(env: Readonly<Record<string, string | undefined>>): AcceptanceInputs {
  const problems: string[] = [];
  const raw = (k: keyof AcceptanceInputs): string | undefined => {
    const v = env[INPUTS[k].env]?.trim();
    return v === undefined || v === "" ? INPUTS[k].def : v;
  };
  const bad = (k: keyof AcceptanceInputs, why: string) => problems.push(`${INPUTS[k].flag} (${INPUTS[k].env}) ${why}; e.g. ${INPUTS[k].example}`);
  const str = (k: keyof AcceptanceInputs, ok: (s: string) => boolean, why: string): string => {
    const v = raw(k);
    if (v === undefined) {
      if (INPUTS[k].required) bad(k, "is required");
      return "";
    }
    if (!ok(v)) bad(k, `${why}, got ${JSON.stringify(v)}`);
    return v;
  };
  const int = (k: keyof AcceptanceInputs, min: number, max: number): number => {
    const v = str(k, (s) => /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max, `must be a whole number from ${min} to ${max}`);
    return Number(v);
  };
  const https = (s: string) => {
    try {
      return new URL(s).protocol === "https:";
    } catch {
      return false;
    }
  };
  const endpoint = str("endpoint", https, "must be the https URL of the Proxmox API");
  const node = str("node", (s) => /^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/.test(s), "must be the node name as `pvecm nodes` shows it");
  const insecure = str("insecure", (s) => s === "true" || s === "false", "must be true or false") === "true";
  const publicPool = str("publicPool", isCidr, "must be a network in CIDR form with host bits zero");
  const publicGateway = str("publicGateway", isIpv4, "must be an IPv4 address");
  const reservedText = raw("reserved") ?? "";
  const reserved = reservedText === "" ? [] : reservedText.split(",").map((s) => s.trim());
  if (reserved.some((s) => !isIpv4(s))) bad("reserved", `must be comma-separated IPv4 addresses, got ${JSON.stringify(reservedText)}`);
  const hostPublicIp = raw("hostPublicIp");
  if (hostPublicIp !== undefined && !isIpv4(hostPublicIp)) bad("hostPublicIp", `must be an IPv4 address, got ${JSON.stringify(hostPublicIp)}`);
  const templateVmid = int("templateVmid", 100, 999_999_999);
  const serverTemplateVmid = int("serverTemplateVmid", 100, 999_999_999);
  const datastore = str("datastore", (s) => s.length > 0, "must be a storage id");
  const snippetsDatastore = str("snippetsDatastore", (s) => s.length > 0, "must be a storage id");
  const vmidBase = int("vmidBase", 100, 999_000_000);
  const sshHostKey = raw("sshHostKey");
  if (sshHostKey !== undefined && !/^(?:ssh-ed25519|ecdsa-sha2-nistp(?:256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,2}$/.test(sshHostKey)) {
    bad("sshHostKey", "must be one key as ssh-keyscan prints it, without the host name");
  }
  if (problems.length) throw new InputError(problems);
  return {
    endpoint,
    node,
    insecure,
    publicPool,
    publicGateway,
    reserved,
    templateVmid,
    serverTemplateVmid,
    datastore,
    snippetsDatastore,
    vmidBase,
    ...(hostPublicIp !== undefined ? { hostPublicIp } : {}),
    ...(sshHostKey !== undefined ? { sshHostKey } : {}),
  };
}

/**
 * The stack's plain config (keys below `librerouter-hosting:`). Every key Pulumi.yaml declares is set, so the
 * CLI's required-config rule holds whatever defaults Pulumi.yaml carries; the secrets are left to the script.
 */
export function acceptanceConfig(inp: AcceptanceInputs, withAddedTenant: boolean): Record<string, unknown> {
  const tenants = [...INITIAL_TENANTS, ...(withAddedTenant ? [ADDED_TENANT] : [])];
  return {
    profile: "minimal",
    proxmox: {
      endpoint: inp.endpoint,
      node: inp.node,
      insecure: inp.insecure,
      datastore: inp.datastore,
      snippetsDatastore: inp.snippetsDatastore,
      ...(inp.sshHostKey ? { sshHostKey: inp.sshHostKey } : {}),
    },
    network: {
      publicPools: [{ cidr: inp.publicPool, gateway: inp.publicGateway, reserved: [...inp.reserved] }],
      vmidBase: inp.vmidBase,
      reverseDnsDomain: "tenants.acceptance.example.net",
      ...(inp.hostPublicIp ? { infraPublicIps: { host: inp.hostPublicIp } } : {}),
    },
    // No hostnames: the bundles then name the servers' public IPs, which the runner reaches without DNS.
    vpn: {},
    services: {},
    template: { vmid: inp.templateVmid, serverVmid: inp.serverTemplateVmid },
    tenantDefaults: {},
    numberedTenants: { count: 0 },
    hardware: {},
    assumptions: {},
    tenants: Object.fromEntries(tenants.map((t) => [t.key, { slot: t.slot, description: "acceptance run (throwaway)" }])),
  };
}

/**
 * `existing` (a stack file, possibly empty) with `config`'s keys set under the project namespace. Every other
 * top-level key (`encryptionsalt`, `secretsprovider`, `encryptedkey`) and every other config key (the
 * `secure:` secrets) stays as it was.
 */
export function mergeStackFile(existing: string, config: Readonly<Record<string, unknown>>): string {
  const doc = existing.trim() === "" ? new Document({}) : parseDocument(existing);
  if (doc.errors.length) throw new Error(`the stack file is not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
  if (!doc.has("config")) doc.set("config", doc.createNode({}));
  for (const [k, v] of Object.entries(config)) doc.setIn(["config", `${NAMESPACE}:${k}`], doc.createNode(v));
  return doc.toString();
}
