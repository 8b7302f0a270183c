/**
 * The stack's cluster keys: `nodes` (the Proxmox VE nodes), `sdn` (the tenants' networks across nodes as a Proxmox
 * VXLAN zone), `ha` (what the HA manager restarts elsewhere) and `shards` (tenant shard stacks beside a core stack).
 * All absent: one node, VLANs on the private bridge, one stack, as before. Pure; plan/cluster.ts checks the
 * cross-field rules and places the tenants.
 */
import { z } from "zod";
import { isIpv4 } from "../lib/ipv4";
import { nodeName, storageId } from "./strings";

const ipv4 = z.string().refine(isIpv4, { message: "must be a dotted IPv4 address such as 192.168.100.21" });
const int = (what: string, min: number, max: number, why = "") =>
  z
    .number({ message: `${what} must be a whole number` })
    .int({ message: `${what} must be a whole number` })
    .min(min, { message: `${what} must be at least ${min}${why}` })
    .max(max, { message: `${what} must be at most ${max}${why}` });
const VMID = int("a VMID", 100, 999_999_999);

/** The largest VXLAN network identifier (24 bits). */
export const VNI_MAX = 16_777_215;
/** VXLAN adds 50 bytes (outer Ethernet 14, IPv4 20, UDP 8, VXLAN 8) to every tenant frame. */
export const VXLAN_OVERHEAD = 50;

export const nodeSchema = z
  .object({
    /** The Proxmox node name (`pvecm nodes`). */
    name: nodeName,
    /** Its address on the management network: the API and SSH of the node, and its VXLAN underlay address. */
    mgmtIp: ipv4,
    /** Nodes sharing a failure domain (rack, PDU, room) fail together: vpn1 and vpn2 never share one. Default: the node's name. */
    failureDomain: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: "must be lowercase letters, digits or '-', at most 32 characters, e.g. rack-a" }).optional(),
    /** This node's RAM (GiB) and cores; required with two or more nodes (placement weighs nodes by them). */
    hardware: z
      .object({ ramGb: int("ramGb", 8, 65536), cpuCores: int("cpuCores", 1, 4096), threadsPerCore: int("threadsPerCore", 1, 8).default(2) })
      .strict()
      .optional(),
    /**
     * Hashed placement offers this node only tenants whose slot is at least this (default: every tenant). Set it to
     * the next free slot when adding a node to a running cluster: no existing tenant moves (a move would replace its
     * router, a linked clone), and new tenants spread over every node. Pins (tenants.<key>.node) are not limited.
     */
    firstSlot: int("firstSlot", 1, 65535).optional(),
    /** This node's copies of the templates (a linked or full clone comes from a template on the same node unless on shared storage). */
    templates: z.object({ librerouter: VMID, debian: VMID }).strict().optional(),
    /** The node's SSH host key, pinned as proxmox.sshHostKey is for the API node (`ssh-keyscan -t ed25519 <mgmtIp>`, without the name). */
    sshHostKey: z
      .string()
      .regex(/^(?:ssh-ed25519|ecdsa-sha2-nistp(?:256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,2}$/, { message: "must be the node's public key as `ssh-keyscan -t ed25519 <mgmtIp>` prints it, without the host name" })
      .optional(),
  })
  .strict();

export const sdnSchema = z
  .object({
    /** `none`: VLANs on the one node's private bridge; `vxlan`: a Proxmox SDN VXLAN zone (required with two or more nodes). */
    kind: z.enum(["none", "vxlan"], { message: "must be none (VLANs on one host's private bridge) or vxlan (a Proxmox SDN VXLAN zone across the nodes)" }).default("none"),
    /** The Proxmox SDN zone id (letters and digits, ≤ 8, Proxmox's own rule). */
    zone: z.string().regex(/^[a-z][a-z0-9]{0,7}$/, { message: "must be a Proxmox SDN id: a lowercase letter, then letters or digits, at most 8 characters, e.g. lrvx" }).default("lrvx"),
    /** VNI = vniBase + slot (24 bits: up to 16,777,215; the VLAN limit of 4,094 does not apply). */
    vniBase: int("vniBase", 1, VNI_MAX - 1).default(100_000),
    /** The underlay's MTU (the management network's); the tenants' networks get `underlayMtu − 50`. */
    underlayMtu: int("underlayMtu", 1280, 9216, " (1500 for a plain network, 9000 with jumbo frames)").default(1500),
    /** VXLAN's UDP port on the underlay (IANA 4789, Proxmox's and Linux's default). */
    port: int("port", 1, 65535).default(4789),
  })
  .strict();

export const haSchema = z
  .object({
    /**
     * A shared storage every node sees (a Ceph RBD pool, `pveceph pool create`): the infrastructure VMs' disks go
     * there and the HA manager restarts them on a surviving node. Absent: no HA resources (local disks cannot move).
     */
    datastore: storageId.optional(),
    /** Tenants' disks on the shared storage too, so a failed node's routers restart elsewhere (costs `replicas` × their disks). */
    tenants: z.boolean().default(false),
    /** Ceph's `size`: copies kept of every object (raw disk = replicas × used). */
    replicas: int("replicas", 2, 5, " (Ceph pools keep 2 to 5 copies; 3 is the default and the safe choice)").default(3),
  })
  .strict();

export const shardsSchema = z
  .object({
    /**
     * Tenants per shard stack: slots 1…n in shard s01, n+1…2n in s02, and so on. Never change it once shards exist
     * (it would move tenants between stacks): the shard stacks refuse a core that says otherwise.
     */
    tenantsPerShard: int("tenantsPerShard", 1, 5000).optional(),
    /**
     * Set only in a shard stack's file (written by `npm run shards`): this stack is shard `sNN` of the core stack whose
     * name it ends with, and registers only that shard's tenants. Absent: the core (or the one stack).
     */
    shard: z.string().regex(/^s[0-9]{2,}$/, { message: 'must be a shard name such as "s01" (written by `npm run shards`)' }).optional(),
  })
  .strict();

/** Where an infrastructure VM runs; default vpn1 on the first node, vpn2 on the second, services on the third (or the first). */
export const placementSchema = z
  .object({ vpn1: nodeName.optional(), vpn2: nodeName.optional(), services: nodeName.optional() })
  .strict();

export type NodeInput = z.output<typeof nodeSchema>;
export type SdnInput = z.output<typeof sdnSchema>;
export type HaInput = z.output<typeof haSchema>;
export type ShardsInput = z.output<typeof shardsSchema>;
