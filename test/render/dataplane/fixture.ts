/** Plans for the data-plane render tests: a 2-tenant plan in either tenant-network mode (golden files) and n-tenant plans (routing bounds). */
import { buildPlan } from "../../../plan/build";
import type { Plan } from "../../../plan/types";

/** Two named tenants on slots 1 and 2 (the golden-file plan); `fixed`: both on the appliance's own 10.0.0.0/24. */
export function twoTenantPlan(mode: "distinct" | "fixed" = "distinct"): Plan {
  return buildPlan(
    {
      profile: "minimal",
      tenantNetwork: { mode },
      proxmox: { endpoint: "https://pve1.example.net:8006/", node: "pve1" },
      network: {
        publicPools: [{ cidr: "192.0.2.0/24", gateway: "192.0.2.1" }],
        reverseDnsDomain: "tenants.example.net",
      },
      vpn: { hostnames: ["vpn1.example.net", "vpn2.example.net"] },
      tenants: { acme: { slot: 1, hardwareId: "3f0c6b1e9a7d4c2b8e5f1a0d6c3b9e7f2a4d8c1b5e9f3a7d0c6b2e8f4a1d5c9b" }, "coop-sur": { slot: 2 } },
    },
    "golden",
  );
}

/** `count` numbered tenants on slots 1…count (public addresses from one /20), optionally skipping slots. */
export function numberedPlan(count: number, exclude: number[] = []): Plan {
  return buildPlan(
    {
      profile: "optimal",
      proxmox: { endpoint: "https://pve1.example.net:8006/", node: "pve1" },
      network: { publicPools: [{ cidr: "100.64.0.0/20", gateway: "100.64.0.1" }] },
      numberedTenants: { count, exclude },
    },
    `n${count}`,
  );
}

/** The body lines of shell function `name` in a rendered script, trimmed, comments and blank lines left out. */
export function shellFunctionBody(script: string, name: string): string[] {
  const m = new RegExp(`^${name}\\(\\) \\{\\n([\\s\\S]*?)\\n\\}$`, "m").exec(script);
  if (!m) throw new Error(`no function ${name}`);
  return m[1].split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
}
