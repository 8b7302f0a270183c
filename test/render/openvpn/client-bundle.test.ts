/** The client bundle: the ordering rule (options before the `<connection>` blocks, or OpenVPN ignores them), connection order and UDP-only exit notification. */
import { renderClientBundle } from "../../../render/client-bundle";
import { FAKE_CREDS, twoTenantPlan } from "./fixture";

const plan = twoTenantPlan();
const acme = plan.tenants[0];
const text = renderClientBundle(plan, acme, FAKE_CREDS);
const lines = text.split("\n");
const firstBlock = lines.indexOf("<connection>");

/** The `<connection>` blocks as arrays of their inner lines. */
function blocks(t: string): string[][] {
  return [...t.matchAll(/<connection>\n([\s\S]*?)\n<\/connection>/g)].map((m) => m[1].split("\n"));
}

describe("renderClientBundle", () => {
  it("puts nothing but <connection> blocks after the first <connection> (options after them are ignored)", () => {
    expect(firstBlock).toBeGreaterThan(0);
    const tail = lines.slice(firstBlock).join("\n");
    expect(tail.replace(/<connection>\n[\s\S]*?\n<\/connection>\n/g, "")).toBe("");
  });

  it("dials vpn1/UDP, vpn2/UDP, vpn1/TCP-443, vpn2/TCP-443 in that order with each instance's MTU (mssfix on UDP only)", () => {
    expect(blocks(text)).toEqual([
      ["remote vpn1.example.net 1194 udp4", "explicit-exit-notify 1", "tun-mtu 1500", "mssfix 1450"],
      ["remote vpn2.example.net 1194 udp4", "explicit-exit-notify 1", "tun-mtu 1500", "mssfix 1450"],
      ["remote vpn1.example.net 443 tcp4-client", "tun-mtu 1500"],
      ["remote vpn2.example.net 443 tcp4-client", "tun-mtu 1500"],
    ]);
  });

  it("has the global options before the blocks, the Windows-only one guarded", () => {
    // Options only: the inline PEM blocks' base64 lines may start with a lowercase letter too.
    const head = lines
      .slice(0, firstBlock)
      .join("\n")
      .replace(/^<([a-z0-9-]+)>\n[\s\S]*?\n<\/\1>$/gm, "")
      .split("\n")
      .filter((l) => /^[a-z]/.test(l));
    expect(head).toEqual([
      "client",
      "dev tun",
      "nobind",
      "persist-key",
      "server-poll-timeout 5",
      "connect-retry 1 2",
      "remote-cert-tls server",
      "verify-x509-name lr-vpn name-prefix",
      "tls-version-min 1.2",
      "data-ciphers AES-256-GCM:CHACHA20-POLY1305",
      "ifconfig-ipv6 fd4c:5248:7e3a::2/64 fd4c:5248:7e3a::1",
      "redirect-gateway def1 ipv6",
      "block-ipv6",
      "ignore-unknown-option block-outside-dns",
      "block-outside-dns",
      "push-peer-info",
      "auth-retry none",
      "disable-dco",
      "verb 3",
    ]);
  });

  it("inlines ca, cert, key and the tenant's tls-crypt-v2 key before the blocks; no group tls-crypt key", () => {
    const at = (tag: string) => lines.indexOf(`<${tag}>`);
    expect(["ca", "cert", "key", "tls-crypt-v2"].map(at).every((i) => i > 0 && i < firstBlock)).toBe(true);
    expect(text).toContain(`<key>\n${FAKE_CREDS.keyPem.trimEnd()}\n</key>`);
    expect(text).toContain(`<tls-crypt-v2>\n${FAKE_CREDS.tlsCryptV2Key.trimEnd()}\n</tls-crypt-v2>`);
    expect(lines.filter((l) => /^<\/?tls-(crypt|auth)>$|^tls-(crypt|auth) /.test(l))).toEqual([]);
  });

  it("refuses anything but a tls-crypt-v2 client key (e.g. the old static key), naming the field only", () => {
    const v1 = "-----BEGIN OpenVPN Static key V1-----\n00\n-----END OpenVPN Static key V1-----\n";
    expect(() => renderClientBundle(plan, acme, { ...FAKE_CREDS, tlsCryptV2Key: v1 })).toThrow(new Error("client bundle: <tls-crypt-v2> must be a tls-crypt-v2 client key (tenantClientKeyFile)"));
  });

  it("takes server-poll-timeout from config and dials the public IPs when no hostnames are set", () => {
    const p = twoTenantPlan({ serverPollTimeout: 3 });
    const t = renderClientBundle(p, p.tenants[1], FAKE_CREDS);
    expect(t).toContain("\nserver-poll-timeout 3\n");
    expect(blocks(t).map((b) => b[0])).toEqual([
      "remote 192.0.2.3 1194 udp4",
      "remote 192.0.2.4 1194 udp4",
      "remote 192.0.2.3 443 tcp4-client",
      "remote 192.0.2.4 443 tcp4-client",
    ]);
  });

  it("refuses a credential that is not the expected PEM block, without echoing it", () => {
    const secret = "not-a-key-SECRET-123";
    expect(() => renderClientBundle(plan, acme, { ...FAKE_CREDS, keyPem: secret })).toThrow(
      new Error("client bundle: <key> must be a PEM private key"),
    );
  });
});
