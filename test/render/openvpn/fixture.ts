/** Shared fixture for the OpenVPN render tests: a 2-tenant plan, a temp layout and fake (non-secret) credentials. */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildPlan } from "../../../plan/build";
import type { Plan } from "../../../plan/types";
import type { ServerLayout } from "../../../render/layout";
import { serverKeyFile, tenantClientKeyFile } from "../../../render/tls-crypt-v2";
import type { ClientCredentials } from "../../../render/client-bundle";

export const ACME_HWID = "3f0c6b1e9a7d4c2b8e5f1a0d6c3b9e7f2a4d8c1b5e9f3a7d0c6b2e8f4a1d5c9b";

/** Raw stack config: acme pinned, coop-sur unpinned; `vpn` overrides merge in. */
export function rawConfig(vpn: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    profile: "minimal",
    proxmox: { endpoint: "https://pve.example.net:8006/", node: "pve1" },
    network: { publicPools: [{ cidr: "192.0.2.0/24", gateway: "192.0.2.1" }] },
    vpn,
    tenants: { acme: { slot: 1, hardwareId: ACME_HWID }, "coop-sur": { slot: 2 } },
  };
}

/** The 2-tenant plan; with `hostnames` the bundle dials names, without it the servers' public IPs. */
export function twoTenantPlan(vpn: Record<string, unknown> = { hostnames: ["vpn1.example.net", "vpn2.example.net"] }): Plan {
  return buildPlan(rawConfig(vpn), "golden");
}

/** A layout with every directory under a fresh temp root (created), as the lab does per namespace. */
export function tempLayout(prefix = "lr-ovpn-"): { root: string; layout: ServerLayout } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const layout: ServerLayout = {
    openvpnDir: join(root, "openvpn"),
    runDir: join(root, "run"),
    stateDir: join(root, "state"),
    confDir: join(root, "conf"),
    systemdDir: join(root, "systemd"),
    networkLinkDir: join(root, "systemd-network"),
    ifupdownDir: join(root, "interfaces.d"),
    ifaces: { public: "pub0", trunk: "trunk0", mgmt: "mgmt0" },
  };
  for (const d of [layout.openvpnDir, layout.runDir, layout.stateDir]) mkdirSync(d, { recursive: true });
  return { root, layout };
}

/** A tls-crypt-v2 server key from fixed bytes: the fake client key below is wrapped with it. */
export const FAKE_TC2_SERVER = serverKeyFile("ab".repeat(128));

/** Placeholder PEM blocks (and a tls-crypt-v2 key of fixed bytes): enough for the renderer's checks, obviously not key material. */
export const FAKE_CREDS: ClientCredentials = {
  caPem: "-----BEGIN CERTIFICATE-----\nRkFLRS1DQQ==\n-----END CERTIFICATE-----\n",
  certPem: "-----BEGIN CERTIFICATE-----\nRkFLRS1DTElFTlQ=\n-----END CERTIFICATE-----\n",
  keyPem: "-----BEGIN PRIVATE KEY-----\nRkFLRS1LRVk=\n-----END PRIVATE KEY-----\n",
  tlsCryptV2Key: tenantClientKeyFile(FAKE_TC2_SERVER, "0123456789abcdef".repeat(32), "acme"),
};
