/**
 * The tenant's inline `.ovpn` client bundle: four `<connection>` blocks (vpn1/UDP, vpn2/UDP, vpn1/TCP, vpn2/TCP)
 * sharing one identity. Pure: no `@pulumi/*`. The result holds a private key: treat it as a secret.
 */
import type { InstancePlan, Plan, ServerPlan, TenantPlan } from "../plan/types";
import { SERVER_CN_PREFIX } from "./pki-profile";

/** PEM texts, inlined into the bundle: the tenant's own tls-crypt-v2 client key (render/tls-crypt-v2.ts) among them. */
export interface ClientCredentials {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly tlsCryptV2Key: string;
}

/** File name the tenant receives (`<key>.ovpn`); the launcher looks for it next to itself. */
export function clientBundleName(tenant: TenantPlan): string {
  return `${tenant.key}.ovpn`;
}

function inline(tag: string, text: string, marker: string, what: string): string[] {
  // The error names the field only: the text may be a private key.
  if (!text.includes(marker)) throw new Error(`client bundle: <${tag}> must be ${what}`);
  return [`<${tag}>`, text.trimEnd(), `</${tag}>`];
}

function connection(server: ServerPlan, inst: InstancePlan): string[] {
  const udp = inst.proto === "udp";
  return [
    "<connection>",
    `remote ${server.hostname} ${inst.port} ${udp ? "udp4" : "tcp4-client"}`,
    // Only UDP has an exit notification; keeping it out of TCP blocks avoids 2.6's "ignored for --proto tcp" note.
    ...(udp ? ["explicit-exit-notify 1"] : []),
    `tun-mtu ${inst.mtu}`,
    // mssfix acts on UDP only (OpenVPN manual), as on the servers.
    ...(udp ? [`mssfix ${inst.mssfix}`] : []),
    "</connection>",
  ];
}

/**
 * The client tun's IPv6 address for `block-ipv6` (a ULA that never leaves the client: the servers have no IPv6
 * and the client answers every IPv6 packet itself). Without an IPv6 address on the tun OpenVPN warns that the
 * IPv6 routes "may not work as expected".
 */
export const CLIENT_BLOCK_IPV6 = { local: "fd4c:5248:7e3a::2/64", remote: "fd4c:5248:7e3a::1" } as const;

/**
 * The tenant's `.ovpn`. Every global option comes BEFORE the first `<connection>` block: OpenVPN 2.6 applies
 * options written after the blocks to none of them, e.g. a late `server-poll-timeout` would leave
 * the UDP→TCP fallback at 120 s.
 */
export function renderClientBundle(plan: Plan, tenant: TenantPlan, creds: ClientCredentials): string {
  const [vpn1, vpn2] = plan.servers;
  // Both servers over UDP first, then both over TCP/443 (for networks that drop UDP); instances are [udp, tcp].
  const blocks = [connection(vpn1, vpn1.instances[0]), connection(vpn2, vpn2.instances[0]), connection(vpn1, vpn1.instances[1]), connection(vpn2, vpn2.instances[1])];
  const lines = [
    `# ${tenant.key}: LibreRouter hosting (${plan.stack}). Start with lr-connect, which adds the hardware ID.`,
    "# Contains this tenant's private key: keep it private.",
    "client",
    "dev tun",
    "nobind",
    // No persist-tun here: OpenVPN keeps only the current server's route outside the tunnel, so with a persisted
    // tun the next server is dialled through the dead one. lr-connect adds it with those routes and a kill-switch.
    "persist-key",
    `server-poll-timeout ${vpn1.pollTimeout}`,
    "connect-retry 1 2",
    "remote-cert-tls server",
    `verify-x509-name ${SERVER_CN_PREFIX} name-prefix`,
    "tls-version-min 1.2",
    "data-ciphers AES-256-GCM:CHACHA20-POLY1305",
    "# All IPv4 through the tunnel. Tenants have no IPv6: the OpenVPN manual's recipe (block-ipv6) gives the tun a",
    "# local-only IPv6 address, routes all IPv6 into it and answers every packet 'no route' (no leak outside).",
    `ifconfig-ipv6 ${CLIENT_BLOCK_IPV6.local} ${CLIENT_BLOCK_IPV6.remote}`,
    "redirect-gateway def1 ipv6",
    "block-ipv6",
    "# Windows-only (WFP); any other OpenVPN treats it as unknown and would refuse the whole file.",
    "ignore-unknown-option block-outside-dns",
    "block-outside-dns",
    "# Required: without it neither IV_HWADDR nor the launcher's UV_HWID reach the server's hardware check.",
    "push-peer-info",
    "auth-retry none",
    "disable-dco",
    "verb 3",
    ...inline("ca", creds.caPem, "-----BEGIN CERTIFICATE-----", "a PEM certificate"),
    ...inline("cert", creds.certPem, "-----BEGIN CERTIFICATE-----", "a PEM certificate"),
    ...inline("key", creds.keyPem, "PRIVATE KEY-----", "a PEM private key"),
    ...inline("tls-crypt-v2", creds.tlsCryptV2Key, "-----BEGIN OpenVPN tls-crypt-v2 client key-----", "a tls-crypt-v2 client key (tenantClientKeyFile)"),
    ...blocks.flat(),
    "",
  ];
  return lines.join("\n");
}
