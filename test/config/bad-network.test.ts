/** Bad network sections: pool sizes, overlaps, gateways, infrastructure addresses, malformed CIDRs and IPs; exact messages. */
import { baseConfig, configError, type Fixture, loose, withChange } from "./fixture";

/** The mutation of the base config, and the exact text the user sees, line by line. */
type Row = [name: string, mutate: (c: Fixture) => void, text: string[]];

const rows: Row[] = [
  [
    "a /29 pool for 5 tenants + host + 2 VPN servers + services",
    (c) => {
      c.network.publicPools = [{ cidr: "192.0.2.0/29", gateway: "192.0.2.1" }]; delete loose(c).numberedTenants; c.tenants.c = { slot: 3 }; c.tenants.d = { slot: 4 }; c.tenants.e = { slot: 5 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.publicPools: 5 usable addresses in 192.0.2.0/29 leave 1 for tenants after the host, the 2 VPN servers and the common services, so only slot 1 gets one; tenants \"beta\" (slot 2), \"c\" (slot 3), \"d\" (slot 4), \"e\" (slot 5) have none; add a pool to network.publicPools or set publicIp on named tenants",
    ],
  ],
  [
    "pools too small for the infrastructure alone",
    (c) => {
      c.network.publicPools = [{ cidr: "192.0.2.0/30", gateway: "192.0.2.1" }];
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.publicPools: the pools (192.0.2.0/30) hold 1 usable address; the host, 2 VPN servers and common services alone need 4; use a larger pool or add one",
    ],
  ],
  [
    "more than 5 tenants without an address are summarised",
    (c) => {
      c.network.publicPools = [{ cidr: "192.0.2.0/28", gateway: "192.0.2.1" }]; c.numberedTenants = { count: 20, firstSlot: 3 };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.publicPools: 13 usable addresses in 192.0.2.0/28 leave 9 for tenants after the host, the 2 VPN servers and the common services, so only slots 1–9 get one; tenants \"t10\" (slot 10), \"t11\" (slot 11), \"t12\" (slot 12), \"t13\" (slot 13), \"t14\" (slot 14) and 8 more have none; add a pool to network.publicPools or set publicIp on named tenants",
    ],
  ],
  [
    "no public pool at all",
    (c) => {
      c.network.publicPools = [];
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.publicPools: got []; needs at least one public pool; add one such as { cidr: 192.0.2.0/24, gateway: 192.0.2.1 }",
    ],
  ],
  [
    "two public pools overlap",
    (c) => {
      c.network.publicPools[1] = { cidr: "192.0.2.128/25", gateway: "192.0.2.129" };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.publicPools.1.cidr: got \"192.0.2.128/25\"; overlaps network.publicPools.0 192.0.2.0/24; every pool must be distinct",
    ],
  ],
  [
    "public pool inside tenantPrivate",
    (c) => {
      c.network.publicPools[1] = { cidr: "10.200.0.0/24", gateway: "10.200.0.1" };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.publicPools.1.cidr: got \"10.200.0.0/24\"; overlaps network.tenantPrivate 10.0.0.0/8; public pools must be outside the private plan",
    ],
  ],
  [
    "public pool overlapping management",
    (c) => {
      c.network.publicPools[1] = { cidr: "192.168.100.0/24", gateway: "192.168.100.1" };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.publicPools.1.cidr: got \"192.168.100.0/24\"; overlaps network.management.cidr 192.168.100.0/24; public pools must be outside the private plan",
    ],
  ],
  [
    "management overlapping tunnelSupernet",
    (c) => {
      c.network.management = { cidr: "10.255.0.0/24", hostIp: "10.255.0.10", vpnIps: ["10.255.0.11", "10.255.0.12"], servicesIp: "10.255.0.13" };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.management.cidr: got \"10.255.0.0/24\"; overlaps network.tunnelSupernet 10.255.0.0/16; pick a separate block",
    ],
  ],
  [
    "gateway outside its pool",
    (c) => {
      c.network.publicPools[0].gateway = "198.51.100.1";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.publicPools.0.gateway: got \"198.51.100.1\"; the gateway must be a host address inside 192.0.2.0/24, e.g. 192.0.2.1",
    ],
  ],
  [
    "gateway is the pool's network address",
    (c) => {
      c.network.publicPools[0].gateway = "192.0.2.0";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.publicPools.0.gateway: got \"192.0.2.0\"; the gateway must be a host address inside 192.0.2.0/24, e.g. 192.0.2.1",
    ],
  ],
  [
    "reserved address outside its pool",
    (c) => {
      c.network.publicPools[0].reserved = ["203.0.113.9"];
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.publicPools.0.reserved.0: got \"203.0.113.9\"; not inside 192.0.2.0/24; remove it or move it to the right pool",
    ],
  ],
  [
    "infraPublicIps outside the pools",
    (c) => {
      c.network.infraPublicIps = { host: "203.0.113.5" };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.infraPublicIps.host: got \"203.0.113.5\"; not inside network.publicPools (192.0.2.0/24, 198.51.100.0/24); pick a usable address of network.publicPools",
    ],
  ],
  [
    "infraPublicIps on a pool gateway",
    (c) => {
      c.network.infraPublicIps = { vpn1: "198.51.100.1" };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.infraPublicIps.vpn1: got \"198.51.100.1\"; that is the gateway of network.publicPools.1 (198.51.100.0/24); pick a usable address of network.publicPools",
    ],
  ],
  [
    "infraPublicIps on a reserved address",
    (c) => {
      c.network.publicPools[0].reserved = ["192.0.2.250"]; c.network.infraPublicIps = { vpn2: "192.0.2.250" };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.infraPublicIps.vpn2: got \"192.0.2.250\"; it is listed in network.publicPools.0.reserved; pick a usable address of network.publicPools",
    ],
  ],
  [
    "two infrastructure VMs on one public address",
    (c) => {
      c.network.infraPublicIps = { host: "192.0.2.10", services: "192.0.2.10" };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.infraPublicIps.services: got \"192.0.2.10\"; already used by network.infraPublicIps.host; every infrastructure VM needs its own address",
    ],
  ],
  [
    "management host address outside management.cidr",
    (c) => {
      c.network.management = { hostIp: "192.168.101.10" };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.management.hostIp: got \"192.168.101.10\"; must be a host address inside network.management.cidr 192.168.100.0/24",
    ],
  ],
  [
    "two management addresses equal",
    (c) => {
      c.network.management = { vpnIps: ["192.168.100.11", "192.168.100.11"] };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.management.vpnIps.1: got \"192.168.100.11\"; already used by network.management.vpnIps.0; every management address must differ",
    ],
  ],
  [
    "tunnelSupernet too small for 4 instance pools",
    (c) => {
      c.network.tunnelSupernet = "10.255.0.0/23";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.tunnelSupernet: got \"10.255.0.0/23\"; must be /22 or larger so each of the 4 VPN instances gets at least a /24",
    ],
  ],
  [
    "tenantPrivate too small for any slot",
    (c) => {
      c.network.tenantPrivate = "10.0.0.0/24";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.tenantPrivate: got \"10.0.0.0/24\"; must be /23 or larger (each tenant takes a /24 and slot 0 is never used)",
    ],
  ],
  [
    "CIDR with host bits set",
    (c) => {
      c.network.publicPools[0].cidr = "192.0.2.1/24";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.publicPools.0.cidr: got \"192.0.2.1/24\"; host bits are set; write the network address, 192.0.2.0/24",
    ],
  ],
  [
    "CIDR with prefix /33",
    (c) => {
      c.network.tenantPrivate = "10.0.0.0/33";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.tenantPrivate: got \"10.0.0.0/33\"; the prefix /33 is above /32; write an IPv4 network such as 192.0.2.0/24",
    ],
  ],
  [
    "CIDR that is garbage",
    (c) => {
      c.network.tunnelSupernet = "ten-dot-255";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.tunnelSupernet: got \"ten-dot-255\"; must be an IPv4 network in CIDR form such as 192.0.2.0/24 (host bits zero)",
    ],
  ],
  [
    "malformed IP (octet above 255)",
    (c) => {
      c.network.publicPools[1].gateway = "198.51.100.256";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.publicPools.1.gateway: got \"198.51.100.256\"; must be a dotted IPv4 address such as 192.0.2.10",
    ],
  ],
  [
    "malformed IP (three octets)",
    (c) => {
      c.network.management = { hostIp: "192.168.100" };
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.management.hostIp: got \"192.168.100\"; must be a dotted IPv4 address such as 192.0.2.10",
    ],
  ],
  [
    "bridge name longer than Proxmox's 10 characters (Linux would take 15)",
    (c) => {
      c.network.privateBridge = "vmbrtenants";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.privateBridge: got \"vmbrtenants\"; must be a Proxmox bridge name such as vmbr1 (a letter, then letters, digits or _, 2–10 characters)",
    ],
  ],
  [
    "bridge name with a dash",
    (c) => {
      c.network.managementBridge = "vmbr-mgmt";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.managementBridge: got \"vmbr-mgmt\"; must be a Proxmox bridge name such as vmbr1 (a letter, then letters, digits or _, 2–10 characters)",
    ],
  ],
  [
    "snippets on another storage without saying where that storage keeps them",
    (c) => {
      (c as { proxmox: Record<string, unknown> }).proxmox.snippetsDatastore = "nfs-snippets";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      '  - librerouter-hosting:proxmox.snippetsPath: is required and must be the snippets/ directory of storage "nfs-snippets" (its `path` in /etc/pve/storage.cfg, then /snippets) when snippetsDatastore is not "local": QEMU reads the VNC password files there; add it to the stack config',
    ],
  ],
  [
    "SSH host key with the host name in front (as ssh-keyscan prints it)",
    (c) => {
      (c as { proxmox: Record<string, unknown> }).proxmox.sshHostKey = "pve1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:proxmox.sshHostKey: got \"pve1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey\"; must be the host's public key as `ssh-keyscan -t ed25519 <host>` prints it, without the host name: \"ssh-ed25519 AAAA…\"",
    ],
  ],
  [
    "reverse-DNS domain that is not a domain",
    (c) => {
      c.network.reverseDnsDomain = "tenants";
    },
    [
      'stack "test": config has 1 problem (nothing was created):',
      "  - librerouter-hosting:network.reverseDnsDomain: got \"tenants\"; must be a DNS domain such as tenants.example.net",
    ],
  ],
];

describe("bad network config", () => {
  it.each(rows)("%s", (_name, mutate, text) => {
    const e = configError(withChange(baseConfig(), mutate));
    expect(e.message).toBe(text.join("\n"));
    // The same lines as issues: the key, then the message.
    expect(e.issues.map((i) => `${i.key}: ${i.message}`)).toEqual(text.slice(1).map((l) => l.replace(/^ {2}- librerouter-hosting:/, "")));
    expect(e.message).not.toMatch(/\n\s+at /);
  });
});
