/** Bad shapes and settings outside the network and tenants: unknown and missing keys, wrong types, Proxmox and VPN settings; exact messages. */
import { baseConfig, configError, expectedText, withChange } from "./fixture";

type Row = [name: string, mutate: (c: Record<string, any>) => void, issues: string[]];

const rows: Row[] = [
  [
    "unknown top-level key (typo)",
    (c) => {
      c.netwrok = c.network;
    },
    [
      "(top level): unknown key \"netwrok\" (did you mean \"network\"?); remove it or fix the spelling (see Pulumi.yaml)",
    ],
  ],
  [
    "unknown key inside network (typo hides a required key)",
    (c) => {
      c.network.publicPool = c.network.publicPools; delete c.network.publicPools;
    },
    [
      "network.publicPools: is required (expected a list); add it to the stack config",
      "network: unknown key \"publicPool\" (did you mean \"publicPools\"?); remove it or fix the spelling (see Pulumi.yaml)",
    ],
  ],
  [
    "missing proxmox",
    (c) => {
      delete c.proxmox;
    },
    [
      "proxmox: is required (expected a mapping of keys to values); add it to the stack config",
    ],
  ],
  [
    "missing network.publicPools",
    (c) => {
      delete c.network.publicPools;
    },
    [
      "network.publicPools: is required (expected a list); add it to the stack config",
    ],
  ],
  [
    "missing profile and proxmox.node",
    (c) => {
      delete c.profile; delete c.proxmox.node;
    },
    [
      "profile: is required and must be one of minimal, optimal, full; add it to the stack config",
      "proxmox.node: is required (expected a string); add it to the stack config",
    ],
  ],
  [
    "unknown profile",
    (c) => {
      c.profile = "huge";
    },
    [
      "profile: got \"huge\"; must be one of minimal, optimal, full",
    ],
  ],
  [
    "number given as a quoted string",
    (c) => {
      c.network.vlanBase = "100";
    },
    [
      "network.vlanBase: got \"100\"; expected a number (write it without quotes)",
    ],
  ],
  [
    "boolean given as a string",
    (c) => {
      c.proxmox.insecure = "yes";
    },
    [
      "proxmox.insecure: got \"yes\"; expected true or false",
    ],
  ],
  [
    "section given as a list",
    (c) => {
      c.vpn = [1194, 443];
    },
    [
      "vpn: got [1194,443]; expected a mapping of keys to values",
    ],
  ],
  [
    "endpoint that is not a URL",
    (c) => {
      c.proxmox.endpoint = "pve1:8006";
    },
    [
      "proxmox.endpoint: got \"pve1:8006\"; must be the https URL of the Proxmox API, e.g. https://pve1.example.net:8006/",
    ],
  ],
  [
    "endpoint over plain http",
    (c) => {
      c.proxmox.endpoint = "http://pve1.example.net:8006/";
    },
    [
      "proxmox.endpoint: got \"http://pve1.example.net:8006/\"; must be the https URL of the Proxmox API, e.g. https://pve1.example.net:8006/",
    ],
  ],
  [
    "username not root@pam",
    (c) => {
      c.proxmox.username = "terraform@pve!ci";
    },
    [
      "proxmox.username: got \"terraform@pve!ci\"; must be root@pam: Proxmox only lets root@pam with a password set VM args (the VNC console)",
    ],
  ],
  [
    "node name with a space",
    (c) => {
      c.proxmox.node = "pve 1";
    },
    [
      "proxmox.node: got \"pve 1\"; must be the Proxmox node name (pvecm nodes), e.g. pve1",
    ],
  ],
  [
    "keepalive timeout below twice the interval",
    (c) => {
      c.vpn = { keepalive: [20, 30] };
    },
    [
      "vpn.keepalive: got [20, 30]; the timeout must be at least twice the interval, e.g. [5, 15]",
    ],
  ],
  [
    "keepalive with one number",
    (c) => {
      c.vpn = { keepalive: [10] };
    },
    [
      "vpn.keepalive: got [10]; must be [interval, timeout] in seconds, e.g. [5, 15]",
    ],
  ],
  [
    "unknown unpinnedPolicy",
    (c) => {
      c.vpn = { unpinnedPolicy: "allow" };
    },
    [
      "vpn.unpinnedPolicy: got \"allow\"; must be enrol (pin the first hardware ID seen) or refuse (only pinned tenants connect)",
    ],
  ],
  [
    "renewBeforeDays not below the certificate validity",
    (c) => {
      c.vpn = { clientCertValidityDays: 30, renewBeforeDays: 30 };
    },
    [
      "vpn.renewBeforeDays: got 30; must be below vpn.clientCertValidityDays (30)",
    ],
  ],
  [
    "default balloon minimum above maximum",
    (c) => {
      c.tenantDefaults = { memory: { minMb: 4096, maxMb: 2048 } };
    },
    [
      "tenantDefaults.memory: balloon minimum 4096 MiB is above maximum 2048 MiB; set minMb ≤ maxMb",
    ],
  ],
  [
    "default balloon minimum above the default maximum",
    (c) => {
      c.tenantDefaults = { memory: { minMb: 3072 } };
    },
    [
      "tenantDefaults.memory: balloon minimum 3072 MiB is above maximum 2048 MiB; set minMb ≤ maxMb",
    ],
  ],
  [
    "template VMID below 100",
    (c) => {
      c.template = { vmid: 99 };
    },
    [
      "template.vmid: got 99; must be ≥ 100",
    ],
  ],
  [
    "VPN server hostnames: only one given",
    (c) => {
      c.vpn = { hostnames: ["vpn1.example.net"] };
    },
    [
      "vpn.hostnames: got [\"vpn1.example.net\"]; must be two names, [vpn1, vpn2], e.g. [vpn1.example.net, vpn2.example.net]",
    ],
  ],
  [
    "template image URL that is not http(s)",
    (c) => {
      c.template = { imageUrl: "ftp://example.net/lr.qcow2", createFromImage: true };
    },
    [
      "template.imageUrl: got \"ftp://example.net/lr.qcow2\"; must be an http(s) URL of a cloud image, e.g. https://example.net/librerouter.qcow2",
    ],
  ],
  [
    "snippets path that is relative",
    (c) => {
      c.proxmox.snippetsPath = "snippets";
    },
    [
      "proxmox.snippetsPath: got \"snippets\"; must be an absolute path such as /var/lib/vz/snippets",
    ],
  ],
];

describe("bad config shape and settings", () => {
  it.each(rows)("%s", (_name, mutate, issues) => {
    const e = configError(withChange(baseConfig(), mutate));
    expect(e.issues.map((i) => `${i.key}: ${i.message}`)).toEqual(issues);
    expect(e.message).toBe(expectedText(issues));
    expect(e.message).not.toMatch(/\n\s+at /);
  });
});
