/**
 * The browser console gateway's command on one VPN server: Debian's packages, the gateway's files
 * (render/console-web.ts), its TLS certificate and key (issued by the service CA for the server's instance
 * gateways), the unit started, restarted only when a file changed. Delete stops it and removes exactly those files.
 * Env `LR_SERVICES=systemd|none` (`none`: the lab, files only). Pure: no `@pulumi/*` import.
 */
import type { Plan, ServerPlan } from "../plan/types";
import { CONSOLE_WEB_PATHS, CONSOLE_WEB_UNIT, type ConsoleWebPaths, consoleWebArgs, consoleWebFiles } from "./console-web";
import { ensurePackages } from "./guest-packages";
import type { ServerLayout } from "./layout";
import { CONSOLE_READ_GROUP, ensureConsoleGroup } from "./service-user";
import { LR_WRITE_FN, scriptHead, shq, writeFile } from "./shell";

/** websockify (the WebSocket side), DES for the VNC check, noVNC and xterm.js for the page. */
export const CONSOLE_PACKAGES = ["python3-websockify", "python3-cryptography", "novnc", "node-xterm"] as const;

export interface GatewayTls {
  readonly certPem: string;
  readonly keyPem: string;
}

export function consoleGatewayScripts(plan: Plan, server: ServerPlan, layout: ServerLayout, tls: GatewayTls, paths: ConsoleWebPaths = CONSOLE_WEB_PATHS): { apply: string; delete: string } {
  if (paths.readGroup !== CONSOLE_READ_GROUP) throw new Error(`console gateway: readGroup ${paths.readGroup} is not the group the server setup creates (${CONSOLE_READ_GROUP})`);
  if (!tls.certPem.includes("-----BEGIN CERTIFICATE-----") || !tls.keyPem.includes("PRIVATE KEY-----")) throw new Error("console gateway: the certificate or key is not PEM");
  const files = consoleWebFiles(consoleWebArgs(plan, server, layout, paths));
  const certDir = paths.certFile.slice(0, paths.certFile.lastIndexOf("/"));
  const head = (what: string) => `${scriptHead(`${what} of the console gateway on ${server.name}`, true)}# Carries the gateway's private key: it never prints a file's content.\nset +x\n`;
  const apply = `${head("Setup")}${ensurePackages(CONSOLE_PACKAGES)}
${ensureConsoleGroup()}
${LR_WRITE_FN}

install -d -m 0755 -o root -g root ${shq(certDir)}
${writeFile({ path: paths.certFile, mode: "0644", content: tls.certPem }, "root:root")}
${writeFile({ path: paths.keyFile, mode: "0600", content: tls.keyPem }, "root:root")}
${files.map((f) => writeFile(f, "root:root")).join("\n")}
if [[ $LR_SERVICES == systemd ]]; then
  systemctl daemon-reload
  if (( \${#CHANGED[@]} )) && systemctl is-active --quiet ${CONSOLE_WEB_UNIT}; then
    systemctl restart ${CONSOLE_WEB_UNIT}
  fi
  systemctl enable --now ${CONSOLE_WEB_UNIT}
fi
printf 'console gateway on ${server.name}: %s files changed\\n' "\${#CHANGED[@]}"
`;
  const gone = [...files.map((f) => f.path), paths.certFile, paths.keyFile];
  const del = `${head("Removal")}if [[ $LR_SERVICES == systemd ]]; then
  systemctl disable --now ${CONSOLE_WEB_UNIT} 2>/dev/null || true
fi
rm -f -- ${gone.map(shq).join(" ")}
rmdir -- ${shq(`${paths.libDir}/assets`)} ${shq(paths.libDir)} ${shq(certDir)} 2>/dev/null || true
if [[ $LR_SERVICES == systemd ]]; then systemctl daemon-reload; fi
echo "console gateway removed from ${server.name}"
`;
  return { apply, delete: del };
}
