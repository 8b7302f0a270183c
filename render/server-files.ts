/**
 * Every file the server-level setup script writes on a VPN server, with its mode: the one list that the
 * OpenVpnServer component and the lab both hand to `renderServerSetupScript`, so the lab proves what
 * production installs. Pure: the key material comes in as text.
 */
import type { Plan, ServerPlan } from "../plan/types";
import { renderAuthVerifyHook, renderConnectHook, renderDisconnectHook } from "./hooks";
import type { ServerLayout } from "./layout";
import { openvpnFilePaths, renderServerConfig } from "./openvpn-server";
import type { SetupFile } from "./server-setup";

/** The server's certificate, key and the shared CA / tls-crypt key, as PEM / static-key text. */
export interface ServerSecrets {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly tlsCryptKey: string;
}

/** Configs and hooks (public), then the PKI files; hooks 0750 (the setup script gives them group nogroup). */
export function serverFiles(plan: Plan, server: ServerPlan, layout: ServerLayout, secrets: ServerSecrets): SetupFile[] {
  const p = openvpnFilePaths(layout);
  return [
    ...server.instances.map((i) => ({ path: p.configs[i.proto], mode: "0644", content: renderServerConfig(plan.stack, server, i, layout) })),
    { path: p.authVerifyHook, mode: "0750", content: renderAuthVerifyHook(plan.stack, plan.unpinnedPolicy, layout) },
    { path: p.connectHook, mode: "0750", content: renderConnectHook(plan.stack) },
    { path: p.disconnectHook, mode: "0750", content: renderDisconnectHook(plan.stack) },
    { path: p.caCert, mode: "0644", content: secrets.caPem },
    { path: p.serverCert, mode: "0644", content: secrets.certPem },
    { path: p.serverKey, mode: "0600", content: secrets.keyPem },
    { path: p.tlsCryptKey, mode: "0600", content: secrets.tlsCryptKey },
  ];
}
