/** Server instance configs, ccd files and the path map: the rules that matter, asserted on exact lines. */
import { renderCcd } from "../../../render/ccd";
import { PRODUCTION_SERVER_LAYOUT as L } from "../../../render/layout";
import { openvpnFilePaths, renderServerConfig } from "../../../render/openvpn-server";
import { tenantFilePaths } from "../../../render/tenant-scripts";
import { twoTenantPlan } from "./fixture";

const plan = twoTenantPlan();
const inst = (id: string) => {
  const i = plan.instances.find((x) => x.id === id);
  if (!i) throw new Error(id);
  return i;
};
const serverOf = (p: typeof plan, id: string) => p.servers[id.startsWith("vpn1") ? 0 : 1];
const config = (p: typeof plan, id: string) => renderServerConfig(p.stack, serverOf(p, id), p.instances.find((x) => x.id === id)!, L);
/** Option lines only (no comments, no blanks). */
const options = (text: string) => text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));

describe("renderServerConfig", () => {
  it.each(["vpn1-udp", "vpn2-udp"])("%s: UDP server sends explicit-exit-notify 2 and binds its public IP", (id) => {
    const lines = options(config(plan, id));
    expect(lines.filter((l) => l.startsWith("explicit-exit-notify"))).toEqual(["explicit-exit-notify 2"]);
    expect(lines).toContain("proto udp4");
    expect(lines).toContain("port 1194");
    expect(lines).toContain("dev tun-udp");
  });

  it.each(["vpn1-tcp", "vpn2-tcp"])("%s: TCP server has no explicit-exit-notify (openvpn refuses it)", (id) => {
    const lines = options(config(plan, id));
    expect(lines.filter((l) => l.includes("explicit-exit-notify"))).toEqual([]);
    expect(lines).toContain("proto tcp4-server");
    expect(lines).toContain("port 443");
    expect(lines).toContain("dev tun-tcp");
  });

  it("vpn2-tcp: pool, public IP, paths, hooks and security options", () => {
    const lines = options(config(plan, "vpn2-tcp"));
    expect(lines).toEqual([
      "dev tun-tcp",
      "dev-type tun",
      "proto tcp4-server",
      "local 192.0.2.4",
      "port 443",
      "topology subnet",
      "server 10.255.192.0 255.255.192.0 nopool",
      "client-config-dir /etc/openvpn/server/ccd-tcp",
      "ccd-exclusive",
      "max-clients 16381",
      "ca /etc/openvpn/server/pki/ca.crt",
      "cert /etc/openvpn/server/pki/server.crt",
      "key /etc/openvpn/server/pki/server.key",
      "dh none",
      "tls-crypt-v2 /etc/openvpn/server/pki/tls-crypt-v2-server.key force-cookie",
      "tls-crypt-v2-verify /etc/openvpn/server/hooks/tls-crypt-v2-verify.sh",
      "tls-version-min 1.2",
      "tls-groups X25519:prime256v1",
      "tls-cipher TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384:TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256",
      "remote-cert-tls client",
      "data-ciphers AES-256-GCM:CHACHA20-POLY1305",
      "keepalive 5 15",
      "tun-mtu 1500",
      "disable-dco",
      "persist-key",
      "persist-tun",
      "user lr-openvpn",
      "group lr-openvpn",
      "script-security 2",
      "auth-user-pass-verify /etc/openvpn/server/hooks/auth-verify.sh via-file",
      "auth-user-pass-optional",
      "client-connect /etc/openvpn/server/hooks/client-connect.sh",
      "client-disconnect /etc/openvpn/server/hooks/client-disconnect.sh",
      "management /run/openvpn-server/tcp.sock unix",
      "status /run/openvpn-server/status-tcp.log 10",
      "verb 3",
    ]);
  });

  it("takes keepalive and per-instance MTU/mssfix from config; mssfix only on UDP (the manual: it does nothing for TCP)", () => {
    const tuned = twoTenantPlan({ keepalive: [8, 24], udp: { tunMtu: 1400, mssfix: 1360 } });
    const udp = options(config(tuned, "vpn1-udp"));
    const tcp = options(config(tuned, "vpn1-tcp"));
    expect(udp.filter((l) => /^(keepalive|tun-mtu|mssfix) /.test(l))).toEqual(["keepalive 8 24", "tun-mtu 1400", "mssfix 1360"]);
    expect(tcp.filter((l) => /^(keepalive|tun-mtu|mssfix) /.test(l))).toEqual(["keepalive 8 24", "tun-mtu 1500"]);
  });

  it("names the config file after the proto (Debian's openvpn-server@<proto> unit)", () => {
    expect(openvpnFilePaths(L).configs).toEqual({ udp: "/etc/openvpn/server/udp.conf", tcp: "/etc/openvpn/server/tcp.conf" });
  });
});

describe("renderCcd", () => {
  it("pushes the tenant's fixed IP in that instance's pool and its LibreRouter as DNS", () => {
    const coop = plan.tenants.find((t) => t.key === "coop-sur")!;
    expect(options(renderCcd(plan.stack, coop, inst("vpn1-udp")))).toEqual(["ifconfig-push 10.255.0.3 255.255.192.0", 'push "dhcp-option DNS 10.0.2.1"']);
    expect(options(renderCcd(plan.stack, coop, inst("vpn2-tcp")))).toEqual(["ifconfig-push 10.255.192.3 255.255.192.0", 'push "dhcp-option DNS 10.0.2.1"']);
  });
  it("is named by the tenant key in the instance's ccd dir", () => {
    expect(tenantFilePaths(L, plan.tenants[0]).ccd).toEqual({ udp: "/etc/openvpn/server/ccd-udp/acme", tcp: "/etc/openvpn/server/ccd-tcp/acme" });
  });
});

describe("openvpnFilePaths", () => {
  it("maps every file of the production layout", () => {
    expect(openvpnFilePaths(L)).toEqual({
      dir: "/etc/openvpn/server",
      configs: { udp: "/etc/openvpn/server/udp.conf", tcp: "/etc/openvpn/server/tcp.conf" },
      ccdDirs: { udp: "/etc/openvpn/server/ccd-udp", tcp: "/etc/openvpn/server/ccd-tcp" },
      pkiDir: "/etc/openvpn/server/pki",
      caCert: "/etc/openvpn/server/pki/ca.crt",
      serverCert: "/etc/openvpn/server/pki/server.crt",
      serverKey: "/etc/openvpn/server/pki/server.key",
      tlsCryptV2Key: "/etc/openvpn/server/pki/tls-crypt-v2-server.key",
      hooksDir: "/etc/openvpn/server/hooks",
      authVerifyHook: "/etc/openvpn/server/hooks/auth-verify.sh",
      connectHook: "/etc/openvpn/server/hooks/client-connect.sh",
      disconnectHook: "/etc/openvpn/server/hooks/client-disconnect.sh",
      tlsCryptV2VerifyHook: "/etc/openvpn/server/hooks/tls-crypt-v2-verify.sh",
      pinsDir: "/etc/openvpn/server/pins",
      certPinsDir: "/etc/openvpn/server/cert-pins",
      tc2PinsDir: "/etc/openvpn/server/tc2-pins",
      enrolledDir: "/var/lib/librerouter/enrolled",
      managementSockets: { udp: "/run/openvpn-server/udp.sock", tcp: "/run/openvpn-server/tcp.sock" },
      statusFiles: { udp: "/run/openvpn-server/status-udp.log", tcp: "/run/openvpn-server/status-tcp.log" },
    });
  });
});
