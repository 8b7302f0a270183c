/** Bad tenant entries: slots, keys, numbered range, hardware pins, balloons; exact messages. */
import { baseConfig, configError, type Fixture, loose, withChange } from "./fixture";

/** The mutation of the base config, and the exact text the user sees, line by line. */
type Row = [name: string, mutate: (c: Fixture) => void, text: string[]];

const rows: Row[] = [
  [
    "duplicate slot: two named tenants",
    (c) => {
      c.tenants.beta.slot = 1;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.beta.slot: got 1; slot already used by tenant \"acme\"; every tenant needs its own slot, pick a free one",
    ],
  ],
  [
    "duplicate slot: named tenant on a numbered tenant's slot",
    (c) => {
      c.tenants.beta.slot = 11;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.beta.slot: got 11; slot already used by tenant \"t11\"; add 11 to numberedTenants.exclude to hand the slot over, or pick a free slot",
    ],
  ],
  [
    "slot 0",
    (c) => {
      c.tenants.acme.slot = 0;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.acme.slot: got 0; slots run from 1 to 65535 (slot 0 is never used); pick a free slot",
    ],
  ],
  [
    "slot above 65535",
    (c) => {
      c.tenants.beta.slot = 65536;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.beta.slot: got 65536; slots run from 1 to 65535; pick a free slot",
    ],
  ],
  [
    "slot not an integer",
    (c) => {
      c.tenants.beta.slot = 2.5;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.beta.slot: got 2.5; expected a whole number",
    ],
  ],
  [
    "slot as a quoted string",
    (c) => {
      loose(c.tenants.acme).slot = "1";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.acme.slot: got \"1\"; expected a number (write it without quotes)",
    ],
  ],
  [
    "slot above what tenantPrivate holds",
    (c) => {
      c.network.tenantPrivate = "10.0.0.0/16"; c.tenants.beta.slot = 256;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.beta.slot: got 256; network.tenantPrivate 10.0.0.0/16 holds /24s for slots 1–255 only; use a larger network.tenantPrivate, or choose another slot for tenant \"beta\"",
    ],
  ],
  [
    "slot above the tunnel pool size",
    (c) => {
      c.network.tunnelSupernet = "10.255.0.0/22"; c.tenants.beta.slot = 254;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.beta.slot: got 254; each VPN instance pool (a quarter of network.tunnelSupernet 10.255.0.0/22) holds slots 1–253 only; use a larger network.tunnelSupernet, or choose another slot for tenant \"beta\"",
    ],
  ],
  [
    "key with uppercase letters",
    (c) => {
      c.tenants.Acme = { slot: 3 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.Acme: key \"Acme\" is not DNS-safe (it becomes a VM name, a DNS label and a certificate name): use lowercase letters, digits and '-', starting with a letter, not ending with '-', at most 32 characters; rename it, e.g. \"acme\"",
    ],
  ],
  [
    "key with an underscore",
    (c) => {
      c.tenants.coop_sur = { slot: 3 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.coop_sur: key \"coop_sur\" is not DNS-safe (it becomes a VM name, a DNS label and a certificate name): use lowercase letters, digits and '-', starting with a letter, not ending with '-', at most 32 characters; rename it, e.g. \"coop-sur\"",
    ],
  ],
  [
    "key with a leading digit",
    (c) => {
      c.tenants["1acme"] = { slot: 3 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.1acme: key \"1acme\" is not DNS-safe (it becomes a VM name, a DNS label and a certificate name): use lowercase letters, digits and '-', starting with a letter, not ending with '-', at most 32 characters; rename it, e.g. \"t-1acme\"",
    ],
  ],
  [
    "key longer than 32 characters",
    (c) => {
      c.tenants["a-tenant-key-with-33-characters-x"] = { slot: 3 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.a-tenant-key-with-33-characters-x: key \"a-tenant-key-with-33-characters-x\" is not DNS-safe (it becomes a VM name, a DNS label and a certificate name): use lowercase letters, digits and '-', starting with a letter, not ending with '-', at most 32 characters; rename it, e.g. \"a-tenant-key-with-33-characters\"",
    ],
  ],
  [
    "key ending with '-'",
    (c) => {
      c.tenants["acme-"] = { slot: 3 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.acme-: key \"acme-\" is not DNS-safe (it becomes a VM name, a DNS label and a certificate name): use lowercase letters, digits and '-', starting with a letter, not ending with '-', at most 32 characters; rename it, e.g. \"acme\"",
    ],
  ],
  [
    "key with the reserved lr-vpn prefix",
    (c) => {
      c.tenants["lr-vpn1"] = { slot: 3 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.lr-vpn1: key \"lr-vpn1\" must not start with \"lr-vpn\" (reserved for the VPN servers' certificate names); rename it, e.g. \"vpn1\"",
    ],
  ],
  [
    "named key equal to a numbered tenant's key",
    (c) => {
      c.tenants.t12 = { slot: 40 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.t12: key \"t12\" is also a numbered tenant (numberedTenants.prefix \"t\"); rename the tenant or change the prefix",
    ],
  ],
  [
    "numberedTenants.exclude outside the numbered range",
    (c) => {
      c.numberedTenants.exclude = [3, 12, 15];
    },
    [
      'stack "test": config has 2 problems (nothing was created):',
      "  - librerouter-hosting:numberedTenants.exclude.0: got 3; not in the numbered range 10–14; remove it",
      "  - librerouter-hosting:numberedTenants.exclude.2: got 15; not in the numbered range 10–14; remove it",
    ],
  ],
  [
    "numberedTenants.prefix not DNS-safe",
    (c) => {
      c.numberedTenants.prefix = "T";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:numberedTenants.prefix: got \"T\"; must be lowercase letters, digits or '-', starting with a letter, at most 16 characters",
    ],
  ],
  [
    "hardwareId that is not a launcher ID",
    (c) => {
      c.tenants.acme.hardwareId = "my-laptop";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.acme.hardwareId: got \"my-laptop\"; must be the ID printed by the launcher (`lr-connect --print-id`): 64 lowercase hex digits, or a lowercase MAC like 02:00:00:00:00:01",
    ],
  ],
  [
    "hardwareId in upper case",
    (c) => {
      c.tenants.acme.hardwareId = "3F0C6B1E9A7D4C2B8E5F1A0D6C3B9E7F2A4D8C1B5E9F3A7D0C6B2E8F4A1D5C9B";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.acme.hardwareId: got \"3F0C6B1E9A7D4C2B8E5F1A0D6C3B9E7F2A4D8C1B5E9F3A7D0C6B2E8F...; must be the ID printed by the launcher (`lr-connect --print-id`): 64 lowercase hex digits, or a lowercase MAC like 02:00:00:00:00:01",
    ],
  ],
  [
    "unknown key inside a tenant (typo)",
    (c) => {
      loose(c.tenants.acme).hardwareID = "02:00:00:00:00:01";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.acme: unknown key \"hardwareID\" (did you mean \"hardwareId\"?); remove it or fix the spelling (see Pulumi.yaml)",
    ],
  ],
  [
    "tenant balloon minimum above maximum",
    (c) => {
      c.tenants.acme.memory = { minMb: 4096, maxMb: 1024 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.acme.memory: balloon minimum 4096 MiB is above maximum 1024 MiB; set minMb ≤ maxMb",
    ],
  ],
  [
    "tenant balloon minimum above the default maximum",
    (c) => {
      c.tenants.beta.memory = { minMb: 3072 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.beta.memory: balloon minimum 3072 MiB is above maximum 2048 MiB (from tenantDefaults.memory.maxMb); set minMb ≤ maxMb",
    ],
  ],
  [
    "tenant balloon below 128 MiB",
    (c) => {
      c.tenants.beta.memory = { minMb: 64 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.beta.memory.minMb: got 64; must be ≥ 128",
    ],
  ],
  [
    "tenant /24 inside tunnelSupernet",
    (c) => {
      c.network.tunnelSupernet = "10.1.0.0/16"; c.tenants.beta.slot = 300;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.beta.slot: got 300; its private subnet 10.1.44.0/24 overlaps network.tunnelSupernet 10.1.0.0/16; move network.tunnelSupernet, or choose another slot for tenant \"beta\"",
    ],
  ],
  [
    "tenant /24 overlapping management",
    (c) => {
      c.network.management = { cidr: "10.0.2.0/24", hostIp: "10.0.2.10", vpnIps: ["10.0.2.11", "10.0.2.12"], servicesIp: "10.0.2.13" };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants.beta.slot: got 2; its private subnet 10.0.2.0/24 overlaps network.management.cidr 10.0.2.0/24; move network.management.cidr out of network.tenantPrivate, or choose another slot for tenant \"beta\"",
    ],
  ],
  [
    "tenants given as a list",
    (c) => {
      loose(c).tenants = [{ key: "acme", slot: 1 }];
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenants: got [{\"key\":\"acme\",\"slot\":1}]; expected a mapping of keys to values",
    ],
  ],
];

describe("bad tenant config", () => {
  it.each(rows)("%s", (_name, mutate, text) => {
    const e = configError(withChange(baseConfig(), mutate));
    expect(e.message).toBe(text.join("\n"));
    // The same lines as issues: the key, then the message.
    expect(e.issues.map((i) => `${i.key}: ${i.message}`)).toEqual(text.slice(1).map((l) => l.replace(/^ {2}- librerouter-hosting:/, "")));
    expect(e.message).not.toMatch(/\n\s+at /);
  });
});
