/**
 * The shape of a stack's `librerouter-hosting:*` config, with defaults. Pure: no `@pulumi/*` import.
 * Field-level checks live here; cross-field checks (overlaps, collisions) in plan/validate.ts, capacity in sizing/.
 */
import { z } from "zod";
import { formatCidr, isCidr, isIpv4, parseCidr } from "../lib/ipv4";
import { bansSchema } from "./bans-schema";
import { haSchema, nodeSchema, placementSchema, sdnSchema, shardsSchema } from "./cluster-schema";
import { consolesSchema } from "./consoles-schema";
import { monitoringSchema } from "./monitoring-schema";
import { assumptionsSchema, hardwareSchema } from "./sizing-schema";
import { absolutePath, apiUrl, dnsDomain, hostName, imageUrl, nodeName, oneLine, storageId, userName } from "./strings";

const ipv4 = z.string().refine(isIpv4, { message: "must be a dotted IPv4 address such as 192.0.2.10" });
const cidr = z.string().superRefine((s, ctx) => {
  if (!isCidr(s)) ctx.addIssue({ code: "custom", message: cidrProblem(s) });
});
/** Proxmox's own rule for a bridge name (network/linux Bridge `name`: letters, digits, `_`, starting with a letter, ≤ 10). */
const bridge = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{1,9}$/, { message: "must be a Proxmox bridge name such as vmbr1 (a letter, then letters, digits or _, 2–10 characters)" });
/** An OpenSSH public host key as `ssh-keyscan` prints it, without the host name: `<type> <base64>`. */
const sshHostKey = z
  .string()
  .regex(/^(?:ssh-ed25519|ecdsa-sha2-nistp(?:256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,2}$/, {
    message: "must be the host's public key as `ssh-keyscan -t ed25519 <host>` prints it, without the host name: \"ssh-ed25519 AAAA…\"",
  });

/** What is wrong with a string that is not a CIDR, with the likely intended value when there is one. */
function cidrProblem(s: string): string {
  const m = /^(.+)\/(\d{1,3})$/.exec(s);
  if (m && isIpv4(m[1]) && Number(m[2]) > 32) return `the prefix /${m[2]} is above /32; write an IPv4 network such as 192.0.2.0/24`;
  if (m && isIpv4(m[1])) return `host bits are set; write the network address, ${formatCidr(parseCidr(s))}`;
  return "must be an IPv4 network in CIDR form such as 192.0.2.0/24 (host bits zero)";
}
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const VMID = int(100, 999_999_999);
/** Size of an infrastructure VM (a VPN server, the services VM): RAM MiB and cores, with that VM's defaults. */
const vmSize = (cores: number) => ({ memoryMb: int(256, 65536).default(1024), cores: int(1, 64).default(cores) });

/** Tenant keys become resource names, DNS labels and OpenVPN common names. */
export const TENANT_KEY = /^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const tenantKey = z.string().superRefine((k, ctx) => {
  if (TENANT_KEY.test(k) && !k.startsWith("lr-vpn")) return;
  const why = k.startsWith("lr-vpn")
    ? `must not start with "lr-vpn" (reserved for the VPN servers' certificate names)`
    : "is not DNS-safe (it becomes a VM name, a DNS label and a certificate name): use lowercase letters, digits and '-', starting with a letter, not ending with '-', at most 32 characters";
  ctx.addIssue({ code: "custom", message: `key "${k}" ${why}; rename it, e.g. "${suggestTenantKey(k)}"` });
});

/** A DNS-safe key close to `k` (for error messages): lowercase, '-' for other characters, starts with a letter. */
export function suggestTenantKey(k: string): string {
  let s = k.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/-+/g, "-").replace(/^-|-$/g, "");
  if (s.startsWith("lr-vpn")) s = s.slice(3);
  if (!/^[a-z]/.test(s)) s = `t-${s}`;
  s = s.slice(0, 32).replace(/-+$/, "");
  return TENANT_KEY.test(s) ? s : "tenant";
}

const memory = z
  .object({
    /** Balloon floor (Proxmox `memory.floating`), MiB. */
    minMb: int(128, 1048576).optional(),
    /** Balloon ceiling (Proxmox `memory.dedicated`), MiB. */
    maxMb: int(128, 1048576).optional(),
  })
  .strict();

/** Hardware ID pins are what the launcher prints: a SHA-256 hex digest (or a MAC for IV_HWADDR pins). */
export const HWID = /^(?:[0-9a-f]{64}|(?:[0-9a-f]{2}:){5}[0-9a-f]{2})$/;

export const tenantSchema = z
  .object({
    /** Fixes VMID, VLAN, subnets, tunnel IPs, table and VNC display; never reused for another tenant. */
    slot: z
      .number()
      .int()
      .min(1, { message: "slots run from 1 to 65535 (slot 0 is never used); pick a free slot" })
      .max(65535, { message: "slots run from 1 to 65535; pick a free slot" }),
    hardwareId: z
      .string()
      .regex(HWID, { message: "must be the ID printed by the launcher (`lr-connect --print-id`): 64 lowercase hex digits, or a lowercase MAC like 02:00:00:00:00:01" })
      .optional(),
    publicIp: ipv4.optional(),
    /** The public NIC's MAC (DHCP reservation, Proxmox macfilter); default derived from stack and key (plan/mac.ts). */
    publicMac: z
      .string()
      .regex(/^[0-9a-f][02468ace](?::[0-9a-f]{2}){5}$/, { message: "must be a lowercase unicast MAC like 02:4c:52:00:00:01 (locally administered: first octet 02)" })
      .optional(),
    memory: memory.optional(),
    diskGb: int(4, 65536).optional(),
    cores: int(1, 64).optional(),
    /** Pin the tenant to this node (one of `nodes`); default: placed by rendezvous hashing of its key (plan/placement.ts). */
    node: nodeName.optional(),
    /** Free text for people; one line. */
    description: oneLine.optional(),
  })
  .strict();

export const numberedSchema = z
  .object({
    /** How many numbered tenants to declare (keys `<prefix><slot>`). */
    count: int(0, 65535),
    prefix: z.string().regex(/^[a-z][a-z0-9-]{0,15}$/, { message: "must be lowercase letters, digits or '-', starting with a letter, at most 16 characters" }).default("t"),
    firstSlot: int(1, 65535).default(1),
    /** Slots inside the range that are left out (e.g. handed to a named tenant). */
    exclude: z.array(int(1, 65535)).default([]),
  })
  .strict();

const pool = z.object({ cidr, gateway: ipv4, reserved: z.array(ipv4).default([]) }).strict();

export const networkSchema = z
  .object({
    publicPools: z.array(pool).min(1, { message: "needs at least one public pool; add one such as { cidr: 192.0.2.0/24, gateway: 192.0.2.1 }" }),
    management: z
      .object({
        cidr: cidr.default("192.168.100.0/24"),
        hostIp: ipv4.default("192.168.100.10"),
        vpnIps: z.tuple([ipv4, ipv4]).default(["192.168.100.11", "192.168.100.12"]),
        servicesIp: ipv4.default("192.168.100.13"),
      })
      .strict()
      .default({ cidr: "192.168.100.0/24", hostIp: "192.168.100.10", vpnIps: ["192.168.100.11", "192.168.100.12"], servicesIp: "192.168.100.13" }),
    /** Slot s gets the s-th /24 of this block (seed: 10.0.0.0/24 … 10.254.255.0/24). */
    tenantPrivate: cidr.default("10.0.0.0/8"),
    /** Split into 4 equal blocks, one per VPN instance. */
    tunnelSupernet: cidr.default("10.255.0.0/16"),
    vlanBase: int(1, 4094).default(100),
    vmidBase: int(100, 999_000_000).default(1000),
    /** Routing table id = tableBase + slot; 253–255 are the kernel's own. */
    tableBase: int(1, 2_000_000_000).default(1000),
    /** VNC display = vncDisplayBase + slot; port = 5900 + display. */
    vncDisplayBase: int(0, 59000).default(100),
    publicBridge: bridge.default("vmbr0"),
    privateBridge: bridge.default("vmbr1"),
    managementBridge: bridge.default("vmbr2"),
    /** Addresses taken by the host, the VPN servers and common services; first usable addresses by default. */
    infraPublicIps: z
      .object({ host: ipv4.optional(), vpn1: ipv4.optional(), vpn2: ipv4.optional(), services: ipv4.optional() })
      .strict()
      .default({}),
    /** Forward zone the PTR records point into (t1.tenants.example.net). */
    reverseDnsDomain: dnsDomain.default("tenants.example.net"),
    /**
     * Networks besides management that may reach the host's API (8006) and SSH (22); everyone else is dropped
     * there by a node firewall rule. Empty (the default): no such rule, the host's 8006/22 stay as they are.
     */
    opsNetworks: z
      .array(cidr.refine((c) => !c.endsWith("/0"), { message: "a /0 opens the host's API and SSH to everyone; leave opsNetworks empty instead, or name your ops networks" }))
      .max(16, { message: "lists more than 16 networks; use a covering prefix" })
      .default([]),
  })
  .strict();

const instanceTuning = z
  .object({ tunMtu: int(576, 9000).default(1500), mssfix: int(0, 9000).default(1450) })
  .strict();

export const vpnSchema = z
  .object({
    /** Names the clients dial; one per server, in order. */
    hostnames: z.tuple([hostName, hostName], { error: "must be two names, [vpn1, vpn2], e.g. [vpn1.example.net, vpn2.example.net]" }).optional(),
    udpPort: int(1, 65535).default(1194),
    tcpPort: int(1, 65535).default(443),
    /** What happens when a tenant has no hardwareId pin: `enrol` on first use, or `refuse`. */
    unpinnedPolicy: z.enum(["enrol", "refuse"], { message: "must be enrol (pin the first hardware ID seen) or refuse (only pinned tenants connect)" }).default("enrol"),
    /** Seconds a client waits on one remote before the next (UDP→TCP fallback time). */
    serverPollTimeout: int(1, 120).default(5),
    /** [interval, timeout] in seconds (OpenVPN `keepalive`); the timeout must be at least twice the interval. */
    keepalive: z.tuple([int(1, 3600), int(2, 7200)], { error: "must be [interval, timeout] in seconds, e.g. [5, 15]" }).default([5, 15]),
    udp: instanceTuning.default({ tunMtu: 1500, mssfix: 1450 }),
    tcp: instanceTuning.default({ tunMtu: 1500, mssfix: 1450 }),
    /** Server VMs: VMIDs and sizes. */
    vmids: z.tuple([VMID, VMID]).default([200, 201]),
    ...vmSize(2),
    clientCertValidityDays: int(30, 3650).default(825),
    renewBeforeDays: int(1, 365).default(30),
  })
  .strict();

/** The snippets directory of Proxmox's `local` storage. */
export const LOCAL_SNIPPETS_PATH = "/var/lib/vz/snippets";

export const proxmoxSchema = z
  .object({
    endpoint: apiUrl,
    /** args/hookscript are root-only and API tokens are refused for them: root@pam with a password. */
    username: z.literal("root@pam", { message: "must be root@pam: Proxmox only lets root@pam with a password set VM args (the VNC console)" }).default("root@pam"),
    insecure: z.boolean().default(false),
    node: nodeName,
    datastore: storageId.default("local-lvm"),
    snippetsDatastore: storageId.default("local"),
    /** Where QEMU reads the VNC password snippets: the snippets storage's own `snippets/` directory. */
    snippetsPath: absolutePath.optional(),
    sshUser: userName.default("root"),
    /** The host's SSH key, pinned: the secret setup scripts go only to this host (and, through it, to the guests). */
    sshHostKey: sshHostKey.optional(),
  })
  .strict()
  // The snippets are uploaded by storage id, but QEMU opens them by path: a path that is not that storage's
  // directory points `-object secret,file=` at nothing and the consoles never start. Only `local`'s is known.
  .superRefine((p, ctx) => {
    if (p.snippetsPath === undefined && p.snippetsDatastore !== "local") {
      ctx.addIssue({
        code: "custom",
        path: ["snippetsPath"],
        message: `must be the snippets/ directory of storage "${p.snippetsDatastore}" (its \`path\` in /etc/pve/storage.cfg, then /snippets) when snippetsDatastore is not "local": QEMU reads the VNC password files there`,
      });
    }
  })
  .transform((p) => ({ ...p, snippetsPath: p.snippetsPath ?? LOCAL_SNIPPETS_PATH }));

export const templateSchema = z
  .object({
    /** VMID of an existing LibreRouter template; created from `imageUrl` when absent. */
    vmid: VMID.default(9000),
    imageUrl: imageUrl.optional(),
    createFromImage: z.boolean().default(false),
    /** Name the downloaded image is stored under (`import` content: .qcow2, .raw or .vmdk); default: the URL's file name. */
    imageFileName: z.string().min(1).max(200).optional(),
    /** VMID of an existing Debian 12 cloud-init template; the VPN servers and the services VM are full clones of it. */
    serverVmid: VMID.default(9001),
  })
  .strict();

export const servicesSchema = z
  .object({
    vmid: VMID.default(210),
    ...vmSize(1),
  })
  .strict();

export const tenantDefaultsSchema = z
  .object({
    memory: z.object({ minMb: int(128, 1048576).default(512), maxMb: int(128, 1048576).default(2048) }).strict().default({ minMb: 512, maxMb: 2048 }),
    diskGb: int(4, 65536).default(32),
    cores: int(1, 64).default(1),
  })
  .strict();

/**
 * How each tenant's LAN is addressed. `distinct`: slot s gets the s-th /24 of network.tenantPrivate, set in the VM by
 * cloud-init. `fixed`: every tenant keeps the appliance's own LAN (the LibreRouter image as shipped, no cloud-init):
 * the same `lan` behind every tenant link, kept apart on the VPN servers by a conntrack zone per link
 * (render/lan-zones.ts); the public address comes by DHCP from the services VM (render/dhcp.ts).
 */
export const tenantNetworkSchema = z
  .object({
    mode: z.enum(["distinct", "fixed"], { message: "must be distinct (a /24 per tenant, set by cloud-init) or fixed (the image's own LAN, the same in every tenant, no cloud-init)" }).default("distinct"),
    /** fixed mode: the appliance's LAN, its router address and the two VPN servers' addresses on it. */
    lan: z
      .object({
        cidr: cidr.default("10.0.0.0/24"),
        router: ipv4.default("10.0.0.1"),
        vpnIps: z.tuple([ipv4, ipv4], { error: "must be two addresses, [vpn1, vpn2], e.g. [10.0.0.2, 10.0.0.3]" }).default(["10.0.0.2", "10.0.0.3"]),
      })
      .strict()
      .default({ cidr: "10.0.0.0/24", router: "10.0.0.1", vpnIps: ["10.0.0.2", "10.0.0.3"] }),
  })
  .strict();

export const stackSchema = z
  .object({
    profile: z.enum(["minimal", "optimal", "full"], { message: "must be one of minimal, optimal, full" }),
    proxmox: proxmoxSchema,
    network: networkSchema,
    tenantNetwork: tenantNetworkSchema.default(tenantNetworkSchema.parse({})),
    vpn: vpnSchema.default(vpnSchema.parse({})),
    template: templateSchema.default(templateSchema.parse({})),
    services: servicesSchema.default(servicesSchema.parse({})),
    tenantDefaults: tenantDefaultsSchema.default(tenantDefaultsSchema.parse({})),
    numberedTenants: numberedSchema.optional(),
    tenants: z.record(tenantKey, tenantSchema).default({}),
    /** Hardware and money figures that override the profile's (see sizing/profiles.ts). */
    hardware: hardwareSchema.optional(),
    /** Capacity assumptions that override the defaults (see sizing/assumptions.ts). */
    assumptions: assumptionsSchema.optional(),
    /** The ban grid (config/bans-schema.ts). */
    bans: bansSchema.default(bansSchema.parse({})),
    /** The tenants' text and browser consoles (config/consoles-schema.ts). */
    consoles: consolesSchema.default(consolesSchema.parse({})),
    /** Node exporters, lr-metrics, Prometheus and Alertmanager (config/monitoring-schema.ts). */
    monitoring: monitoringSchema.default(monitoringSchema.parse({})),
    /** The Proxmox VE nodes (config/cluster-schema.ts); empty: the one node proxmox.node at network.management.hostIp. */
    nodes: z.array(nodeSchema).max(32, { message: "lists more than 32 nodes, the most a Proxmox VE (corosync) cluster supports; split the service into two clusters" }).default([]),
    /** Which node runs vpn1, vpn2 and the services VM. */
    placement: placementSchema.default({}),
    /** The tenants' networks as a Proxmox SDN VXLAN zone; required with two or more nodes. */
    sdn: sdnSchema.default(sdnSchema.parse({})),
    /** Shared storage and the HA manager. */
    ha: haSchema.default(haSchema.parse({})),
    /** Core stack + tenant shard stacks; absent: one stack. */
    shards: shardsSchema.default({}),
  })
  .strict();

export type StackInput = z.input<typeof stackSchema>;
export type StackConfig = z.output<typeof stackSchema>;
export type TenantInput = z.output<typeof tenantSchema>;
