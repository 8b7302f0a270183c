/** The golden set of the OpenVPN texts: the 2-tenant plan with the production layout. */
import { join } from "node:path";
import { renderCcd } from "../../../render/ccd";
import { renderClientBundle } from "../../../render/client-bundle";
import { renderAuthVerifyHook, renderConnectHook, renderDisconnectHook } from "../../../render/hooks";
import { renderLauncher } from "../../../render/launcher";
import { PRODUCTION_SERVER_LAYOUT } from "../../../render/layout";
import { renderServerConfig } from "../../../render/openvpn-server";
import type { GoldenSet } from "../golden";
import { FAKE_CREDS, twoTenantPlan } from "./fixture";

export function openvpnGoldens(): GoldenSet {
  const plan = twoTenantPlan();
  const L = PRODUCTION_SERVER_LAYOUT;
  const files = new Map<string, string>();
  for (const server of plan.servers)
    for (const inst of server.instances) {
      files.set(`${inst.id}.conf`, renderServerConfig(plan.stack, server, inst, L));
      for (const t of plan.tenants) files.set(`ccd-${inst.id}-${t.key}`, renderCcd(plan.stack, t, inst));
    }
  for (const t of plan.tenants) {
    files.set(`${t.key}.ovpn`, renderClientBundle(plan, t, FAKE_CREDS));
    files.set(`lr-connect-${t.key}.sh`, renderLauncher(plan.stack, t));
  }
  files.set("auth-verify.sh", renderAuthVerifyHook(plan.stack, plan.unpinnedPolicy, L));
  files.set("client-connect.sh", renderConnectHook(plan.stack));
  files.set("client-disconnect.sh", renderDisconnectHook(plan.stack));
  return { dir: join(__dirname, "golden"), files };
}
