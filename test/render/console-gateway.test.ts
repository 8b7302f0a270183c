/**
 * The console gateway's command on a VPN server, run for real into a temporary tree (LR_SERVICES=none: files only):
 * every file at its mode, the key root's alone, a second apply changes nothing, delete removes exactly what apply
 * wrote; shellcheck-clean; the key never in clear in the script.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildPlan } from "../../plan/build";
import { consoleGatewayScripts } from "../../render/console-gateway";
import { CONSOLE_WEB_PATHS, type ConsoleWebPaths } from "../../render/console-web";
import { PRODUCTION_SERVER_LAYOUT } from "../../render/layout";
import { baseConfig } from "../config/fixture";
import { shellcheck } from "../tools/shellcheck";

const plan = buildPlan(baseConfig(), "test");
const vpn1 = plan.servers[0];
const tls = { certPem: "-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n", keyPem: "-----BEGIN PRIVATE KEY-----\nU0VDUkVUS0VZ\n-----END PRIVATE KEY-----\n" };

describe("console gateway command", () => {
  const dir = mkdtempSync(join(tmpdir(), "lr-cgw-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const paths: ConsoleWebPaths = {
    ...CONSOLE_WEB_PATHS,
    libDir: `${dir}/lib/lr-console-web`,
    configFile: `${dir}/etc/console-web.json`,
    systemdDir: `${dir}/systemd`,
    certFile: `${dir}/etc/console-web/cert.pem`,
    keyFile: `${dir}/etc/console-web/key.pem`,
  };
  const s = consoleGatewayScripts(plan, vpn1, PRODUCTION_SERVER_LAYOUT, tls, paths);
  const bash = (text: string) => execFileSync("bash", ["-c", text], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LR_SERVICES: "none" }, encoding: "utf8" });
  const tree = () => {
    const out: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else out.push(`${p.slice(dir.length)} ${(statSync(p).mode & 0o777).toString(8)}`);
      }
    };
    walk(dir);
    return out.sort();
  };

  it("is shellcheck-clean and carries the key only as base64", () => {
    expect(shellcheck(s.apply)).toEqual({ ok: true, report: "" });
    expect(shellcheck(s.delete)).toEqual({ ok: true, report: "" });
    expect(s.apply).not.toContain("U0VDUkVUS0VZ\n-----END");
    expect(s.apply).not.toContain(tls.keyPem);
  });

  it("apply writes the gateway, its page, config, unit, certificate and key (0600); again: nothing changes; delete: nothing left", () => {
    if (process.getuid?.() !== 0) throw new Error("this test writes files owned by root: run the unit tests as root (CI does)");
    expect(bash(s.apply)).toMatch(/console gateway on vpn1: \d+ files changed\n$/);
    expect(tree()).toEqual([
      "/etc/console-web.json 644",
      "/etc/console-web/cert.pem 644",
      "/etc/console-web/key.pem 600",
      "/lib/lr-console-web/assets/console.css 644",
      "/lib/lr-console-web/assets/console.js 644",
      "/lib/lr-console-web/assets/index.html 644",
      "/lib/lr-console-web/lr-console-web.py 755",
      "/systemd/lr-console-web.service 644",
    ]);
    expect(bash(s.apply)).toMatch(/: 0 files changed\n$/);
    bash(s.delete);
    expect(tree()).toEqual([]);
    expect(existsSync(paths.libDir)).toBe(false);
  });

  it("refuses a key that is not PEM and a group the server setup does not create", () => {
    expect(() => consoleGatewayScripts(plan, vpn1, PRODUCTION_SERVER_LAYOUT, { ...tls, keyPem: "nope" }, paths)).toThrow("not PEM");
    expect(() => consoleGatewayScripts(plan, vpn1, PRODUCTION_SERVER_LAYOUT, tls, { ...paths, readGroup: "staff" })).toThrow("readGroup staff");
  });
});
