/** The VPN server's file list shared by the OpenVpnServer component and the lab. */
import { PRODUCTION_SERVER_LAYOUT } from "../../render/layout";
import { renderServerConfig } from "../../render/openvpn-server";
import { serverFiles } from "../../render/server-files";
import { twoTenantPlan } from "./openvpn/fixture";

const secrets = { caPem: "CA-PEM", certPem: "CERT-PEM", keyPem: "KEY-PEM", tlsCryptV2Key: "TLS-CRYPT-V2" };

describe("serverFiles", () => {
  const plan = twoTenantPlan();
  const vpn2 = plan.servers[1];
  const files = serverFiles(plan, vpn2, PRODUCTION_SERVER_LAYOUT, secrets);

  it("lists exactly the configs, hooks and PKI files with their modes; keys 0600", () => {
    expect(files.map((f) => [f.path, f.mode])).toEqual([
      ["/etc/openvpn/server/udp.conf", "0644"],
      ["/etc/openvpn/server/tcp.conf", "0644"],
      ["/etc/openvpn/server/hooks/auth-verify.sh", "0750"],
      ["/etc/openvpn/server/hooks/client-connect.sh", "0750"],
      ["/etc/openvpn/server/hooks/client-disconnect.sh", "0750"],
      ["/etc/openvpn/server/hooks/tls-crypt-v2-verify.sh", "0750"],
      ["/etc/openvpn/server/pki/ca.crt", "0644"],
      ["/etc/openvpn/server/pki/server.crt", "0644"],
      ["/etc/openvpn/server/pki/server.key", "0600"],
      ["/etc/openvpn/server/pki/tls-crypt-v2-server.key", "0600"],
    ]);
  });

  it("carries this server's own instance configs and the given key material unchanged", () => {
    expect(files[0].content).toBe(renderServerConfig(plan.stack, vpn2, vpn2.instances[0], PRODUCTION_SERVER_LAYOUT));
    expect(files[0].content).toContain("port 1194");
    expect(files[1].content).toBe(renderServerConfig(plan.stack, vpn2, vpn2.instances[1], PRODUCTION_SERVER_LAYOUT));
    expect(files.slice(6).map((f) => f.content)).toEqual(["CA-PEM", "CERT-PEM", "KEY-PEM", "TLS-CRYPT-V2"]);
  });
});
