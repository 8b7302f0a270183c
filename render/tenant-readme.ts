/**
 * The tenant's hand-out text (`README.txt` next to the bundle and the launcher): how to connect, and how to reach
 * each console of his LibreRouter through his own tunnel. Plain text, no secret: the console password is handed
 * over apart. Pure: no `@pulumi/*` import.
 */
import { consoleUrls } from "../plan/consoles";
import type { Plan, TenantPlan } from "../plan/types";
import { clientBundleName } from "./client-bundle";
import { LAUNCHER_NAME } from "./launcher";

export const TENANT_README_NAME = "README.txt";

export function renderTenantReadme(plan: Plan, tenant: TenantPlan): string {
  const urls = consoleUrls(plan.instances, plan.consoles);
  const bundle = clientBundleName(tenant);
  const label = (id: string) => {
    const i = plan.instances.find((x) => x.id === id)!;
    const s = plan.servers.find((x) => x.name === i.server)!;
    return `${s.name} (${s.hostname}), ${i.proto === "udp" ? "UDP" : "TCP"}/${i.port}:`;
  };
  const width = Math.max(...plan.instances.map((i) => label(i.id).length)) + 1;
  const row = (id: string) => `    ${label(id).padEnd(width)} ${urls[id as keyof typeof urls]}`;
  const vnc = (id: string) => `    ${label(id).padEnd(width)} ${plan.instances.find((i) => i.id === id)!.gateway}:5900`;
  const ids = ["vpn1-udp", "vpn2-udp", "vpn1-tcp", "vpn2-tcp"];
  const lockMin = Math.round(plan.consoles.login.lockSeconds / 60);
  const windowMin = Math.round(plan.consoles.login.windowSeconds / 60);
  return `Your LibreRouter at LibreRouter hosting (${plan.stack}): ${tenant.key}
${"=".repeat(44 + plan.stack.length + tenant.key.length)}

You have three files: ${bundle} (your VPN identity: keep it private, chmod 600),
${LAUNCHER_NAME} (the launcher) and this text. Your console password comes separately.

1. Connect
   Linux:   sudo sh ${LAUNCHER_NAME} ${bundle}
   macOS:   Tunnelblick with ${bundle};  Windows: OpenVPN GUI with ${bundle}.
   The bundle tries vpn1 over UDP first, then vpn2, then both over TCP/443. Your router's
   network (${tenant.privateCidr}, router ${tenant.routerIp}) is reachable while the tunnel is up.

2. Consoles of your router (only through your own tunnel; nobody else can reach them)
   Use the line of the server and protocol your tunnel is on (OpenVPN's log says it:
   "Peer Connection Initiated with [AF_INET]<address>"); the other lines do not answer then.

   In a browser (graphical screen and text console, one page, works on a phone):
${ids.map(row).join("\n")}
   Log in with your console password. "Screen" is the graphical console, "Text" the serial
   console: the one to use when a firewall rule or an address change locked you out of the
   router. The page's certificate is issued by the service's own CA, which is the <ca> block
   of ${bundle}. Trust it once in your browser:
     sed -n '/^<ca>/,/^<\\/ca>/p' ${bundle} | sed '1d;$d' > librerouter-ca.crt
   then import librerouter-ca.crt as a certificate authority (Firefox: Settings > Privacy &
   Security > Certificates > View Certificates > Authorities > Import; Chrome/Chromium on
   Linux: Settings > Privacy and security > Security > Manage certificates > Authorities).

   With a VNC client (graphical console only), same password:
${ids.map(vnc).join("\n")}

   A wrong password is refused and each further try waits longer; ${plan.consoles.login.maxFailures} wrong passwords
   within ${windowMin} minutes lock the console login for ${lockMin} minutes and are reported to the service's
   ban grid, which can block your connection for a while. Ask your operator for a new password
   if you lost it: a new one takes effect at once, without restarting your router.
`;
}
