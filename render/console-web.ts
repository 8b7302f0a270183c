/**
 * The tenant's browser console gateway on each VPN server: render/scripts/lr-console-web.py (Debian's python3-websockify
 * 0.10 and python3-cryptography) serving the page in render/console-web/ over HTTPS on every instance gateway, with
 * noVNC and a text terminal. Here: its JSON config, its systemd unit and the list of files to install. The setup
 * script (the lead's) writes them, the certificate and key, and makes the tenants' env files and the OpenVPN status
 * files readable by `readGroup`. Pure: no `@pulumi/*` import.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isIpv4 } from "../lib/ipv4";
import type { Plan, ServerPlan } from "../plan/types";
import type { ServerLayout } from "./layout";
import { openvpnFilePaths } from "./openvpn-server";
import { scriptFile } from "./script-file";
import { type SetupFile, assertPath } from "./shell";
import { SANDBOX_LINES } from "./systemd-sandbox";

/** The gateway's unit. */
export const CONSOLE_WEB_UNIT = "lr-console-web.service";
/** The name the unit's `LoadCredential=` gives the TLS key (`$CREDENTIALS_DIRECTORY/<name>` in the config). */
export const CONSOLE_WEB_KEY_CREDENTIAL = "tls.key";

export interface ConsoleWebPaths {
  /** The script `<libDir>/lr-console-web.py` and the page assets `<libDir>/assets/`. Default /usr/local/lib/lr-console-web. */
  readonly libDir: string;
  /** The JSON config (no secret in it: 0644). Default /etc/librerouter/console-web.json. */
  readonly configFile: string;
  /** Where the unit goes. Default /etc/systemd/system. */
  readonly systemdDir: string;
  /** The gateway's certificate (IP SANs: the gateway addresses), PEM, world-readable. Default /etc/librerouter/console-web/cert.pem. */
  readonly certFile: string;
  /** Its private key, root's alone (0600); the unit hands it to the dynamic user with LoadCredential=. Default /etc/librerouter/console-web/key.pem. */
  readonly keyFile: string;
  /** The existing group that may read the tenants' env files and the OpenVPN status files. Default lr-console. */
  readonly readGroup: string;
  /** Failure counters, one file per tenant; under /run (the unit's RuntimeDirectory). Default /run/lr-console. */
  readonly stateDir: string;
  /** The auth log the ban grid's agent reads; under /var/log (the unit's LogsDirectory). Default /var/log/lr-console/auth.log. */
  readonly authLog: string;
  /** Debian's `novnc` package. Default /usr/share/novnc. */
  readonly novncDir: string;
  /** Debian's `node-xterm` package (its lib/ is bundled for the browser at start). Default /usr/share/nodejs/xterm. */
  readonly xtermDir: string;
}

export const CONSOLE_WEB_PATHS: ConsoleWebPaths = {
  libDir: "/usr/local/lib/lr-console-web",
  configFile: "/etc/librerouter/console-web.json",
  systemdDir: "/etc/systemd/system",
  certFile: "/etc/librerouter/console-web/cert.pem",
  keyFile: "/etc/librerouter/console-web/key.pem",
  readGroup: "lr-console",
  stateDir: "/run/lr-console",
  authLog: "/var/log/lr-console/auth.log",
  novncDir: "/usr/share/novnc",
  xtermDir: "/usr/share/nodejs/xterm",
};

export interface ConsoleWebArgs {
  /** Addresses and ports to listen on (TLS): every instance gateway of the server. */
  readonly listen: readonly { readonly address: string; readonly port: number }[];
  /** The Proxmox host's management address (VNC consoles, RFB password checks) and its serial bridge's port. */
  readonly host: { readonly address: string; readonly serialPort: number };
  /** The tenants' env files (`<key>.env`: LR_KEY, LR_TUN1, LR_TUN2, LR_VNC_PORT, LR_VMID, …). */
  readonly tenantsDir: string;
  /** OpenVPN status files, for the real client address in the auth log. */
  readonly statusFiles: readonly string[];
  /** Wrong passwords: `maxFailures` within `windowSeconds` lock the tenant's login for `lockSeconds`. */
  readonly login: { readonly maxFailures: number; readonly windowSeconds: number; readonly lockSeconds: number };
  /** How long a login cookie lasts. */
  readonly sessionSeconds: number;
  /** Where everything lives; default CONSOLE_WEB_PATHS. */
  readonly paths?: ConsoleWebPaths;
}

/** The gateway's arguments on `server`: its instance gateways on the console port, the host, the plan's login limits. */
export function consoleWebArgs(plan: Plan, server: ServerPlan, layout: ServerLayout, paths: ConsoleWebPaths = CONSOLE_WEB_PATHS): ConsoleWebArgs {
  const status = openvpnFilePaths(layout).statusFiles;
  return {
    listen: server.instances.map((i) => ({ address: i.gateway, port: plan.consoles.webPort })),
    host: { address: plan.host.mgmtIp, serialPort: plan.consoles.serialBridgePort },
    tenantsDir: `${layout.confDir}/tenants`,
    statusFiles: server.instances.map((i) => status[i.proto]),
    login: plan.consoles.login,
    sessionSeconds: plan.consoles.sessionSeconds,
    paths,
  };
}

/** `<libDir>/lr-console-web.py`. */
export function consoleWebScriptPath(paths: ConsoleWebPaths): string {
  return `${paths.libDir}/lr-console-web.py`;
}

/** `<libDir>/assets`: the page (index.html, console.js, console.css). */
export function consoleWebAssetsDir(paths: ConsoleWebPaths): string {
  return `${paths.libDir}/assets`;
}

function port(what: string, p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`${what}: not a port: ${p}`);
  return p;
}

function positive(what: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: not a positive whole number: ${n}`);
  return n;
}

function ipv4(what: string, ip: string): string {
  if (!isIpv4(ip)) throw new Error(`${what}: not an IPv4 address: ${JSON.stringify(ip)}`);
  return ip;
}

function path(p: string): string {
  assertPath(p);
  return p;
}

/** The config the script reads (`lr-console-web.py CONFIG.json`), pretty JSON. The key is the unit's credential. */
export function consoleWebConfig(args: ConsoleWebArgs): string {
  const p = args.paths ?? CONSOLE_WEB_PATHS;
  if (args.listen.length === 0) throw new Error("console gateway: nothing to listen on");
  const seen = new Set<string>();
  for (const l of args.listen) {
    const k = `${ipv4("listen address", l.address)}:${port("listen port", l.port)}`;
    if (seen.has(k)) throw new Error(`console gateway: ${k} listed twice`);
    seen.add(k);
  }
  const cfg = {
    listen: args.listen.map((l) => ({ address: l.address, port: l.port })),
    cert: path(p.certFile),
    key: `$CREDENTIALS_DIRECTORY/${CONSOLE_WEB_KEY_CREDENTIAL}`,
    tenantsDir: path(args.tenantsDir),
    statusFiles: args.statusFiles.map(path),
    host: { address: ipv4("host address", args.host.address), serialPort: port("serial bridge port", args.host.serialPort) },
    assets: path(consoleWebAssetsDir(p)),
    novnc: path(p.novncDir),
    xterm: path(p.xtermDir),
    stateDir: path(p.stateDir),
    authLog: path(p.authLog),
    login: {
      maxFailures: positive("login.maxFailures", args.login.maxFailures),
      windowSeconds: positive("login.windowSeconds", args.login.windowSeconds),
      lockSeconds: positive("login.lockSeconds", args.login.lockSeconds),
    },
    sessionSeconds: positive("sessionSeconds", args.sessionSeconds),
  };
  return `${JSON.stringify(cfg, null, 2)}\n`;
}

/** `/run/<name>` → `<name>` (RuntimeDirectory=); `/var/log/<dir>/<file>` → `<dir>` (LogsDirectory=). */
function unitDirs(p: ConsoleWebPaths): { runtime: string; logs: string } {
  const run = /^\/run\/([A-Za-z0-9._-]+)$/.exec(path(p.stateDir));
  const log = /^\/var\/log\/([A-Za-z0-9._-]+)\/[A-Za-z0-9._-]+$/.exec(path(p.authLog));
  if (!run) throw new Error(`console gateway: stateDir must be /run/<name> (the unit's RuntimeDirectory), got ${p.stateDir}`);
  if (!log) throw new Error(`console gateway: authLog must be /var/log/<dir>/<file> (the unit's LogsDirectory), got ${p.authLog}`);
  return { runtime: run[1], logs: log[1] };
}

/**
 * The systemd unit: a dynamic user with no privilege but binding port 443 (ambient CAP_NET_BIND_SERVICE, bounded to
 * it), the key as a credential, `readGroup` for the tenants' and OpenVPN's files, state in its RuntimeDirectory, the
 * auth log in its LogsDirectory, a read-only system and the usual sandboxing. Restarted when it stops (a restart
 * draws a new session key: tenants log in again).
 */
export function consoleWebUnit(paths: ConsoleWebPaths = CONSOLE_WEB_PATHS): string {
  const d = unitDirs(paths);
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(paths.readGroup)) throw new Error(`console gateway: not a group name: ${paths.readGroup}`);
  return `# Rendered by librerouter-hosting, do not edit.
[Unit]
Description=LibreRouter browser console gateway (HTTPS on the tunnel gateways: noVNC and the text console)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=/usr/bin/python3 ${path(consoleWebScriptPath(paths))} ${path(paths.configFile)}
DynamicUser=yes
User=lr-console-web
SupplementaryGroups=${paths.readGroup}
LoadCredential=${CONSOLE_WEB_KEY_CREDENTIAL}:${path(paths.keyFile)}
RuntimeDirectory=${d.runtime}
RuntimeDirectoryMode=0700
LogsDirectory=${d.logs}
LogsDirectoryMode=0750
UMask=0027
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
${SANDBOX_LINES}
RestrictAddressFamilies=AF_INET AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged
# One process per connection (websockify): a bound on them all.
TasksMax=256
Restart=always
RestartSec=2
# The ban grid's agent reads the journal by this name (render/bans/items.ts CONSOLE_PARSER).
SyslogIdentifier=lr-console-web

[Install]
WantedBy=multi-user.target
`;
}

const ASSET_DIR = join(__dirname, "console-web");
/** The page's files (render/console-web/*), read once at load like render/script-file.ts does. */
const ASSETS: readonly { readonly name: string; readonly content: string }[] = readdirSync(ASSET_DIR)
  .filter((name) => /^[A-Za-z0-9._-]+$/.test(name) && statSync(join(ASSET_DIR, name)).isFile())
  .sort()
  .map((name) => ({ name, content: readFileSync(join(ASSET_DIR, name), "utf8") }));

/** Every file to install for the gateway: the script (0755), the page assets, the config and the unit (0644). Not the certificate or key. */
export function consoleWebFiles(args: ConsoleWebArgs): SetupFile[] {
  const p = args.paths ?? CONSOLE_WEB_PATHS;
  return [
    { path: consoleWebScriptPath(p), mode: "0755", content: scriptFile("lr-console-web.py") },
    ...ASSETS.map((a) => ({ path: `${consoleWebAssetsDir(p)}/${a.name}`, mode: "0644", content: a.content })),
    { path: path(p.configFile), mode: "0644", content: consoleWebConfig(args) },
    { path: `${path(p.systemdDir)}/${CONSOLE_WEB_UNIT}`, mode: "0644", content: consoleWebUnit(p) },
  ];
}
