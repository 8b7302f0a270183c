/**
 * Every file the server-level setup script writes on a VPN server, with its mode: the one list that the
 * OpenVpnServer component and the lab both hand to `renderServerSetupScript`, so the lab proves what
 * production installs. Pure: the key material comes in as text.
 */
import type { Plan, ServerPlan } from "../plan/types";
import { renderAuthVerifyHook, renderConnectHook, renderDisconnectHook, renderTlsCryptV2VerifyHook } from "./hooks";
import type { ServerLayout } from "./layout";
import { openvpnFilePaths, renderServerConfig } from "./openvpn-server";
import type { SetupFile } from "./server-setup";

/** The server's certificate and key, the shared CA and tls-crypt-v2 server key (render/tls-crypt-v2.ts), as PEM text. */
export interface ServerSecrets {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly tlsCryptV2Key: string;
}

/** Configs and hooks (public), then the PKI files; hooks 0750 (the setup script gives them group nogroup). */
export function serverFiles(plan: Plan, server: ServerPlan, layout: ServerLayout, secrets: ServerSecrets): SetupFile[] {
  const p = openvpnFilePaths(layout);
  return [
    ...server.instances.map((i) => ({ path: p.configs[i.proto], mode: "0644", content: renderServerConfig(plan.stack, server, i, layout) })),
    { path: p.authVerifyHook, mode: "0750", content: renderAuthVerifyHook(plan, server, layout) },
    { path: p.connectHook, mode: "0750", content: renderConnectHook(plan.stack) },
    { path: p.disconnectHook, mode: "0750", content: renderDisconnectHook(plan.stack) },
    { path: p.tlsCryptV2VerifyHook, mode: "0750", content: renderTlsCryptV2VerifyHook(plan.stack, layout) },
    { path: p.caCert, mode: "0644", content: secrets.caPem },
    { path: p.serverCert, mode: "0644", content: secrets.certPem },
    { path: p.serverKey, mode: "0600", content: secrets.keyPem },
    { path: p.tlsCryptV2Key, mode: "0600", content: secrets.tlsCryptV2Key },
  ];
}
