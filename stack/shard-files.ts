/**
 * The shard stacks' files of a sharded core stack (issue 13): `Pulumi.<core>-sNN.yaml` per shard with a tenant, each
 * the core's non-secret config plus `shards.shard: sNN`. What a shard file already holds besides that (its own
 * `encryptionsalt` / `secretsprovider`, the secrets `pulumi config cp` put there) is kept. Pure: text in, text out.
 */
import { parse, stringify } from "yaml";
import { ConfigError } from "../config/errors";
import { NAMESPACE, stackConfigFromYaml } from "../config/load";
import { stackCapacity } from "./compile";

const SHARDS_KEYS = [`${NAMESPACE}:shards`, "shards"];

const isSecure = (v: unknown): boolean => typeof v === "object" && v !== null && typeof (v as { secure?: unknown }).secure === "string";

/** The file's header: where it comes from, how to refresh it, how its secrets get there. */
function header(core: string, shard: string): string {
  return [
    `# Shard ${shard} of the core stack ${core}: its tenants only (README "Core and shard stacks").`,
    `# Written by \`npm run shards -- --stack ${core}\` from Pulumi.${core}.yaml: edit that file, then rerun; do not edit this one.`,
    `# Secrets: pulumi config cp --stack ${core} --dest ${core}-${shard} proxmoxPassword (and sshPrivateKey).`,
    "",
  ].join("\n");
}

/**
 * File name → content of every shard stack of `core` (plan.shards.names), from the core's file text and each shard
 * file's current text (undefined: not there yet). Throws ConfigError when the core has no `shards.tenantsPerShard`.
 */
export function shardFiles(core: string, coreText: string, existing: (file: string) => string | undefined): Record<string, string> {
  const raw = stackConfigFromYaml(coreText, core);
  const plan = stackCapacity(raw, core).plan;
  if (!plan.shards) throw new ConfigError([{ key: "shards.tenantsPerShard", message: `is not set in Pulumi.${core}.yaml, so it has no shard stacks; set it (e.g. { tenantsPerShard: 50 }) first` }], core);
  if ((raw.shards as { shard?: string } | undefined)?.shard !== undefined) {
    throw new ConfigError([{ key: "shards.shard", message: `is set in Pulumi.${core}.yaml: that is a shard stack; pass its core stack with --stack` }], core);
  }
  const doc = parse(coreText, { merge: true }) as { config: Record<string, unknown> };
  const shardsKey = SHARDS_KEYS.find((k) => Object.hasOwn(doc.config, k)) ?? SHARDS_KEYS[0];
  const out: Record<string, string> = {};
  for (const shard of plan.shards.names) {
    const file = `Pulumi.${core}-${shard}.yaml`;
    const old = existing(file);
    const prev = (old === undefined ? {} : (parse(old, { merge: true }) ?? {})) as Record<string, unknown>;
    const prevConfig = (prev.config ?? {}) as Record<string, unknown>;
    const config: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc.config)) {
      if (isSecure(v)) continue; // encrypted with the core's key: each shard has its own (`pulumi config cp`)
      config[k] = k === shardsKey ? { ...(v as object), shard } : v;
    }
    if (!Object.hasOwn(config, shardsKey)) config[shardsKey] = { shard };
    for (const [k, v] of Object.entries(prevConfig)) if (isSecure(v)) config[k] = v;
    const rest = Object.fromEntries(Object.entries(prev).filter(([k]) => k !== "config"));
    out[file] = header(core, shard) + stringify({ ...rest, config }, { lineWidth: 0 });
  }
  return out;
}
