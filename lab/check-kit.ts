/** What every lab check file uses: failing with a precise message, and the "reaches its own router" probe. */
import type { TenantPlan } from "../plan/types";
import type { Lab } from "./lab";
import { tcpFetch } from "./probe";
import { MARKER_IP, MARKER_PORT } from "./topology";

export function fail(msg: string): never {
  throw new Error(msg);
}

/** Asserts the tenant's client reaches its own router's marker (and nothing else answers). */
export async function reachesOwnMarker(lab: Lab, t: TenantPlan): Promise<void> {
  const r = await tcpFetch(lab.ns.c[t.key], MARKER_IP, MARKER_PORT);
  if (r.text !== t.key) fail(`${t.key}: internet marker ${MARKER_IP}:${MARKER_PORT} answered ${r.detail}, expected "${t.key}" (its own LibreRouter)`);
}
