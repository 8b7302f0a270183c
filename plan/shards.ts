/**
 * Shard stacks' size (issue 13): what a tenant and a shard stack's own parts register, as the engine counts them
 * (custom resources, components and providers, the stack itself), so config validation refuses a `tenantsPerShard`
 * that would make a shard stack slower to preview than the limit. A program test checks these figures against the
 * real registrations. Pure.
 */
import type { StackConfig } from "../config/schema";
import type { Err } from "./tenant-seeds";

/** At most this many resources per stack: `pulumi preview` takes minutes at 1,300 and over an hour past 4,000. */
export const STACK_RESOURCE_LIMIT = 1000;

/**
 * One tenant's registrations: its Tenant component and its custom resources (components/tenant.ts: 12 in distinct
 * mode, 14 in fixed), its vnet and the vnet's finalizer under SDN (and the subnet in distinct mode), its HA resource
 * and rule with `ha.tenants`.
 */
export function tenantResources(cfg: Pick<StackConfig, "tenantNetwork" | "sdn" | "ha">): number {
  const fixed = cfg.tenantNetwork.mode === "fixed";
  const sdn = cfg.sdn.kind === "vxlan" ? (fixed ? 2 : 3) : 0;
  return 1 + (fixed ? 14 : 12) + sdn + (cfg.ha.tenants ? 2 : 0);
}

/**
 * A shard stack's own registrations besides its tenants: the stack, the core's StackReference and the builtin
 * `pulumi` default provider it reads through (pulumi/pulumi pkg/engine/lifecycletest/testdata/output/TestStackReference:
 * `pulumi:providers:pulumi::default`), the providers (the Proxmox one, the preflight's, and the default tls, random
 * and command providers), under SDN its SdnZone and the apply after its vnets, and with monitoring its tenants'
 * certificate figures (one command on the services VM).
 */
export function shardOverhead(cfg: Pick<StackConfig, "sdn" | "monitoring">): number {
  return 1 + 2 + 5 + (cfg.sdn.kind === "vxlan" ? 2 : 0) + (cfg.monitoring.enabled ? 1 : 0);
}

/** The most resources a shard stack of this config registers (a full shard). */
export function shardResources(cfg: Pick<StackConfig, "tenantNetwork" | "sdn" | "ha" | "monitoring">, tenantsPerShard: number): number {
  return shardOverhead(cfg) + tenantsPerShard * tenantResources(cfg);
}

/** The shard name of a 1-based shard number: s01, s02, … s99, s100. */
export const shardName = (n: number): string => `s${String(n).padStart(2, "0")}`;

/** `shards.*` checks: a shard stack under the limit, `shards.shard` only with tenantsPerShard and naming a shard with tenants. */
export function checkShards(cfg: StackConfig, slots: readonly number[], err: Err): void {
  const { tenantsPerShard: n, shard } = cfg.shards;
  if (n !== undefined) {
    const total = shardResources(cfg, n);
    if (total > STACK_RESOURCE_LIMIT) {
      const most = Math.floor((STACK_RESOURCE_LIMIT - shardOverhead(cfg)) / tenantResources(cfg));
      err("shards.tenantsPerShard", `got ${n}; a full shard stack would register ${total} resources (${n} × ${tenantResources(cfg)} per tenant + ${shardOverhead(cfg)}), above ${STACK_RESOURCE_LIMIT}, where pulumi preview slows down; set at most ${most} (before any shard stack exists: changing it moves tenants between stacks)`);
    }
  }
  if (shard === undefined) return;
  if (n === undefined) {
    err("shards.shard", `got "${shard}" but shards.tenantsPerShard is not set, so there are no shard stacks; set it in the core's file and run \`npm run shards -- --stack <core>\``);
    return;
  }
  const names = [...new Set(slots.map((s) => shardName(Math.ceil(s / n))))].sort();
  if (!names.includes(shard)) err("shards.shard", `got "${shard}"; no tenant's slot is in it (shards: ${names.join(", ") || "none"}); delete this stack's file or run \`npm run shards -- --stack <core>\``);
}

/** The tenants a stack declares: every tenant in one stack, none in a core stack, a shard stack's own (TenantPlan.shard). */
export function stackTenants<T extends { readonly shard?: string }>(tenants: readonly T[], role: { readonly kind: "one" } | { readonly kind: "core" } | { readonly kind: "shard"; readonly shard: string }): readonly T[] {
  if (role.kind === "one") return tenants;
  if (role.kind === "core") return [];
  const { shard } = role;
  return tenants.filter((t) => t.shard === shard);
}
