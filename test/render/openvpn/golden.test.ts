/**
 * Golden files: every rendered OpenVPN text for the 2-tenant plan with the production layout, so reviewers see
 * each change in the diff. `UPDATE_GOLDEN=1 npx jest test/render/openvpn` rewrites them.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderCcd } from "../../../render/ccd";
import { renderClientBundle } from "../../../render/client-bundle";
import { renderAuthVerifyHook, renderConnectHook, renderDisconnectHook } from "../../../render/hooks";
import { renderLauncher } from "../../../render/launcher";
import { PRODUCTION_SERVER_LAYOUT } from "../../../render/layout";
import { renderServerConfig } from "../../../render/openvpn-server";
import { FAKE_CREDS, twoTenantPlan } from "./fixture";

const DIR = join(__dirname, "golden");

function renderAll(): Map<string, string> {
  const plan = twoTenantPlan();
  const L = PRODUCTION_SERVER_LAYOUT;
  const files = new Map<string, string>();
  for (const inst of plan.instances) {
    files.set(`${inst.id}.conf`, renderServerConfig(plan, inst, L));
    for (const t of plan.tenants) files.set(`ccd-${inst.id}-${t.key}`, renderCcd(plan, t, inst));
  }
  for (const t of plan.tenants) {
    files.set(`${t.key}.ovpn`, renderClientBundle(plan, t, FAKE_CREDS));
    files.set(`lr-connect-${t.key}.sh`, renderLauncher(plan, t));
  }
  files.set("auth-verify.sh", renderAuthVerifyHook(plan, L));
  files.set("client-connect.sh", renderConnectHook(plan));
  files.set("client-disconnect.sh", renderDisconnectHook(plan));
  return files;
}

const rendered = renderAll();

if (process.env.UPDATE_GOLDEN === "1") {
  mkdirSync(DIR, { recursive: true });
  for (const f of readdirSync(DIR)) if (!rendered.has(f)) throw new Error(`stale golden file ${f}: delete it by hand`);
  for (const [name, text] of rendered) writeFileSync(join(DIR, name), text);
}

describe("golden OpenVPN files (2 tenants, production layout)", () => {
  it("has exactly one golden file per rendered text", () => {
    expect(readdirSync(DIR).sort()).toEqual([...rendered.keys()].sort());
  });
  it.each([...rendered.keys()])("%s matches its golden file", (name) => {
    expect(rendered.get(name)).toBe(readFileSync(join(DIR, name), "utf8"));
  });
});
