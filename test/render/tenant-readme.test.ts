/** The tenant's hand-out text: every console address of his, the CA to trust, the login limits; nobody else's address, no secret. */
import { buildPlan } from "../../plan/build";
import { consoleUrls } from "../../plan/consoles";
import { execFileSync } from "node:child_process";
import { renderClientBundle } from "../../render/client-bundle";
import { renderTenantReadme } from "../../render/tenant-readme";
import { baseConfig, withChange } from "../config/fixture";

const plan = buildPlan(baseConfig(), "test");
const [acme, other] = plan.tenants;

describe("the tenant's README", () => {
  const text = renderTenantReadme(plan, acme);

  test("names the browser page and the VNC address on each of the four instances, with the server's name", () => {
    for (const i of plan.instances) {
      expect(text).toContain(consoleUrls(plan.instances, plan.consoles)[i.id]);
      expect(text).toContain(`${i.gateway}:5900`);
    }
    for (const s of plan.servers) expect(text).toContain(`${s.name} (${s.hostname}), UDP/${plan.instances.find((i) => i.server === s.name && i.proto === "udp")!.port}:`);
  });

  test("tells how to take the CA out of his own bundle, the login limits and his LAN", () => {
    expect(text).toContain(`sed -n '/^<ca>/,/^<\\/ca>/p' ${acme.key}`);
    expect(text).toContain("5 wrong passwords\n   within 10 minutes lock the console login for 15 minutes");
    expect(text).toContain(`${acme.privateCidr}, router ${acme.routerIp}`);
  });

  test("its CA command, run by the shell on a rendered bundle, yields exactly the bundle's CA", () => {
    const caPem = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n";
    const certPem = "-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n";
    const bundle = renderClientBundle(plan, acme, { caPem, certPem, keyPem: "-----BEGIN PRIVATE KEY-----\nSw==\n-----END PRIVATE KEY-----\n", tlsCryptV2Key: "-----BEGIN OpenVPN tls-crypt-v2 client key-----\nVA==\n-----END OpenVPN tls-crypt-v2 client key-----\n" });
    const line = /^ +(sed -n .*)$/m.exec(text)![1].replace(/ > librerouter-ca\.crt$/, "").replace(` ${acme.key}.ovpn`, ""); // no file: sed reads the bundle from stdin
    expect(execFileSync("bash", ["-c", line], { input: bundle }).toString()).toBe(caPem);
  });

  test("holds nothing of another tenant's, and follows the config (webPort, limits)", () => {
    expect(text).not.toContain(other.key);
    const p2 = buildPlan(withChange(baseConfig(), (c) => void (c.consoles = { webPort: 8443, login: { maxFailures: 3, lock: "1h" } })), "test");
    const t2 = renderTenantReadme(p2, p2.tenants[0]);
    expect(t2).toContain(`https://${p2.instances[0].gateway}:8443/`);
    expect(t2).toContain("3 wrong passwords\n   within 10 minutes lock the console login for 60 minutes");
  });
});
