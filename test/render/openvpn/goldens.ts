/** The golden set of the OpenVPN texts: the 2-tenant plan with the production layout. */
import { join } from "node:path";
import { enrolPeers } from "../../../plan/enrolment";
import { renderCcd } from "../../../render/ccd";
import { ENROL_UNIT, renderEnrolResponder, renderEnrolUnit } from "../../../render/enrol-peer";
import { renderClientBundle } from "../../../render/client-bundle";
import { renderAuthVerifyHook, renderConnectHook, renderDisconnectHook, renderTlsCryptV2VerifyHook } from "../../../render/hooks";
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
  for (const server of plan.servers) {
    files.set(`auth-verify.${server.name}.sh`, renderAuthVerifyHook(plan, server, L));
    files.set(`lr-enrol-peer.${server.name}.sh`, renderEnrolResponder(plan.stack, enrolPeers(plan, server), L));
    files.set(`${ENROL_UNIT}.${server.name}`, renderEnrolUnit(enrolPeers(plan, server), L));
  }
  files.set("client-connect.sh", renderConnectHook(plan.stack));
  files.set("client-disconnect.sh", renderDisconnectHook(plan.stack));
  files.set("tls-crypt-v2-verify.sh", renderTlsCryptV2VerifyHook(plan.stack, L));
  return { dir: join(__dirname, "golden"), files };
}
