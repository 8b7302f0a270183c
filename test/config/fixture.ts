/** A small valid stack config and helpers to derive bad ones from it (one mutation per test case). */
import { ConfigError } from "../../config/errors";
import type { StackInput } from "../../config/schema";
import { buildPlan } from "../../plan/build";

/** A stack config as a user writes it, with the tenant sections the base always has. */
export type Fixture = StackInput & {
  tenants: NonNullable<StackInput["tenants"]>;
  numberedTenants: NonNullable<StackInput["numberedTenants"]>;
};

/** Valid: 2 named tenants (slots 1, 2) and 5 numbered ones, t10 … t14, on two /24 pools. */
export function baseConfig(): Fixture {
  return {
    profile: "minimal",
    proxmox: { endpoint: "https://pve1.example.net:8006/", node: "pve1" },
    network: {
      publicPools: [
        { cidr: "192.0.2.0/24", gateway: "192.0.2.1" },
        { cidr: "198.51.100.0/24", gateway: "198.51.100.1" },
      ],
    },
    numberedTenants: { count: 5, firstSlot: 10 },
    tenants: { acme: { slot: 1 }, beta: { slot: 2 } },
  };
}

const hw = { ramGb: 256, cpuCores: 16 };
/** A valid three-node cluster on the base config: pve1 (the API node, at the default hostIp), pve2, pve3. */
export function clusterConfig(): Fixture {
  return withChange(baseConfig(), (c) => {
    c.nodes = [
      { name: "pve1", mgmtIp: "192.168.100.10", failureDomain: "rack-1", hardware: hw },
      { name: "pve2", mgmtIp: "192.168.100.20", failureDomain: "rack-2", hardware: hw, templates: { librerouter: 9010, debian: 9011 } },
      { name: "pve3", mgmtIp: "192.168.100.30", failureDomain: "rack-3", hardware: hw, templates: { librerouter: 9020, debian: 9021 } },
    ];
    c.sdn = { kind: "vxlan" };
  });
}

/** A deep copy of `base` changed by `mutate` (the base is never touched). */
export function withChange(base: Fixture, mutate: (c: Fixture) => void): Fixture {
  const c = structuredClone(base);
  mutate(c);
  return c;
}

/** The ConfigError that `buildPlan` throws for `raw` (fails the test if it does not throw one). */
export function configError(raw: unknown, stack = "test"): ConfigError {
  try {
    buildPlan(raw, stack);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw new Error(`expected a ConfigError, got ${String(e)}`);
  }
  throw new Error("expected a ConfigError, but the config was accepted");
}

/**
 * The same object seen without its schema type, for mutations that break the schema on purpose (unknown keys,
 * wrong types, a required key deleted): `loose(c.network).publicPool = …`.
 */
export function loose(o: object | undefined): Record<string, unknown> {
  return o as Record<string, unknown>;
}
