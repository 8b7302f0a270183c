/** Bad shapes and settings outside the network and tenants: unknown and missing keys, wrong types, Proxmox and VPN settings; exact messages. */
import { baseConfig, configError, type Fixture, loose, withChange } from "./fixture";

/** The mutation of the base config, and the exact text the user sees, line by line. */
type Row = [name: string, mutate: (c: Fixture) => void, text: string[]];

const rows: Row[] = [
  [
    "unknown top-level key (typo)",
    (c) => {
      loose(c).netwrok = c.network;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:(top level): unknown key \"netwrok\" (did you mean \"network\"?); remove it or fix the spelling (see Pulumi.yaml)",
    ],
  ],
  [
    "unknown key inside network (typo hides a required key)",
    (c) => {
      loose(c.network).publicPool = c.network.publicPools; delete loose(c.network).publicPools;
    },
    [
      'stack "test": config has 2 problems (nothing was created):',
      "  - librerouter-hosting:network.publicPools: is required (expected a list); add it to the stack config",
      "  - librerouter-hosting:network: unknown key \"publicPool\" (did you mean \"publicPools\"?); remove it or fix the spelling (see Pulumi.yaml)",
    ],
  ],
  [
    "missing proxmox",
    (c) => {
      delete loose(c).proxmox;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:proxmox: is required (expected a mapping of keys to values); add it to the stack config",
    ],
  ],
  [
    "missing network.publicPools",
    (c) => {
      delete loose(c.network).publicPools;
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.publicPools: is required (expected a list); add it to the stack config",
    ],
  ],
  [
    "missing profile and proxmox.node",
    (c) => {
      delete loose(c).profile; delete loose(c.proxmox).node;
    },
    [
      'stack "test": config has 2 problems (nothing was created):',
      "  - librerouter-hosting:profile: is required and must be one of minimal, optimal, full; add it to the stack config",
      "  - librerouter-hosting:proxmox.node: is required (expected a string); add it to the stack config",
    ],
  ],
  [
    "unknown profile",
    (c) => {
      loose(c).profile = "huge";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:profile: got \"huge\"; must be one of minimal, optimal, full",
    ],
  ],
  [
    "number given as a quoted string",
    (c) => {
      loose(c.network).vlanBase = "100";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.vlanBase: got \"100\"; expected a number (write it without quotes)",
    ],
  ],
  [
    "boolean given as a string",
    (c) => {
      loose(c.proxmox).insecure = "yes";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:proxmox.insecure: got \"yes\"; expected true or false",
    ],
  ],
  [
    "section given as a list",
    (c) => {
      loose(c).vpn = [1194, 443];
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:vpn: got [1194,443]; expected a mapping of keys to values",
    ],
  ],
  [
    "endpoint that is not a URL",
    (c) => {
      c.proxmox.endpoint = "pve1:8006";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:proxmox.endpoint: got \"pve1:8006\"; must be the https URL of the Proxmox API, e.g. https://pve1.example.net:8006/",
    ],
  ],
  [
    "endpoint over plain http",
    (c) => {
      c.proxmox.endpoint = "http://pve1.example.net:8006/";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:proxmox.endpoint: got \"http://pve1.example.net:8006/\"; must be the https URL of the Proxmox API, e.g. https://pve1.example.net:8006/",
    ],
  ],
  [
    "username not root@pam",
    (c) => {
      loose(c.proxmox).username = "terraform@pve!ci";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:proxmox.username: got \"terraform@pve!ci\"; must be root@pam: Proxmox only lets root@pam with a password set VM args (the VNC console)",
    ],
  ],
  [
    "node name with a space",
    (c) => {
      c.proxmox.node = "pve 1";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:proxmox.node: got \"pve 1\"; must be the Proxmox node name (pvecm nodes), e.g. pve1",
    ],
  ],
  [
    "keepalive timeout below twice the interval",
    (c) => {
      c.vpn = { keepalive: [20, 30] };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:vpn.keepalive: got [20, 30]; the timeout must be at least twice the interval, e.g. [5, 15]",
    ],
  ],
  [
    "keepalive with one number",
    (c) => {
      loose(c).vpn = { keepalive: [10] };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:vpn.keepalive: got [10]; must be [interval, timeout] in seconds, e.g. [5, 15]",
    ],
  ],
  [
    "unknown unpinnedPolicy",
    (c) => {
      loose(c).vpn = { unpinnedPolicy: "allow" };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:vpn.unpinnedPolicy: got \"allow\"; must be enrol (pin the first hardware ID seen) or refuse (only pinned tenants connect)",
    ],
  ],
  [
    "renewBeforeDays not below the certificate validity",
    (c) => {
      c.vpn = { clientCertValidityDays: 30, renewBeforeDays: 30 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:vpn.renewBeforeDays: got 30; must be below vpn.clientCertValidityDays (30)",
    ],
  ],
  [
    "default balloon minimum above maximum",
    (c) => {
      c.tenantDefaults = { memory: { minMb: 4096, maxMb: 2048 } };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenantDefaults.memory: balloon minimum 4096 MiB is above maximum 2048 MiB; set minMb ≤ maxMb",
    ],
  ],
  [
    "default balloon minimum above the default maximum",
    (c) => {
      c.tenantDefaults = { memory: { minMb: 3072 } };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:tenantDefaults.memory: balloon minimum 3072 MiB is above maximum 2048 MiB; set minMb ≤ maxMb",
    ],
  ],
  [
    "template VMID below 100",
    (c) => {
      c.template = { vmid: 99 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:template.vmid: got 99; must be ≥ 100",
    ],
  ],
  [
    "VPN server hostnames: only one given",
    (c) => {
      loose(c).vpn = { hostnames: ["vpn1.example.net"] };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:vpn.hostnames: got [\"vpn1.example.net\"]; must be two names, [vpn1, vpn2], e.g. [vpn1.example.net, vpn2.example.net]",
    ],
  ],
  [
    "template image URL that is not https",
    (c) => {
      c.template = { imageUrl: "ftp://example.net/lr.qcow2", createFromImage: true };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:template.imageUrl: got \"ftp://example.net/lr.qcow2\"; must be an https URL of a cloud image, e.g. https://example.net/librerouter.qcow2",
    ],
  ],
  [
    "snippets path that is relative",
    (c) => {
      c.proxmox.snippetsPath = "snippets";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:proxmox.snippetsPath: got \"snippets\"; must be an absolute path of plain directory names (letters, digits, '.', '_', '-'; no spaces, commas, '..' or trailing '/') such as /var/lib/vz/snippets",
    ],
  ],
];

describe("bad config shape and settings", () => {
  it.each(rows)("%s", (_name, mutate, text) => {
    const e = configError(withChange(baseConfig(), mutate));
    expect(e.message).toBe(text.join("\n"));
    // The same lines as issues: the key, then the message.
    expect(e.issues.map((i) => `${i.key}: ${i.message}`)).toEqual(text.slice(1).map((l) => l.replace(/^ {2}- librerouter-hosting:/, "")));
    expect(e.message).not.toMatch(/\n\s+at /);
  });
});
