/** The outsider: someone behind the wan with a stolen bundle (wrong hardware ID) or a certificate that has no ccd. */
import type { ServerName, TenantPlan } from "../plan/types";
import type { Lab } from "./lab";
import type { Issued } from "./pki";
import { readLog, waitForLog } from "./procs";
import { writeClientFiles, CONNECTED } from "./clients";

export interface Attempt {
  readonly connected: boolean;
  readonly authFailed: boolean;
  /** Seconds until the client gave up or connected. */
  readonly ms: number;
  readonly log: string;
}

/**
 * Runs openvpn in the outsider namespace with `tenant`'s bundle built around `cert`, sending `hwid` as UV_HWID
 * directly (not through the launcher: a copied bundle on another machine). Resolves on connect, AUTH_FAILED or exit.
 * `only`: the bundle names that server alone.
 */
export async function outsiderAttempt(lab: Lab, name: string, tenant: TenantPlan, cert: Issued, hwid: string, timeoutMs = 15_000, only?: ServerName): Promise<Attempt> {
  const { bundle } = writeClientFiles(lab, tenant, cert, name, only);
  const log = lab.logFile(`outsider-${name}`);
  const t0 = Date.now();
  const proc = await lab.procs.start(`outsider-${name}`, lab.ns.x, ["openvpn", "--config", bundle, "--setenv", "UV_HWID", hwid], log);
  try {
    await waitForLog(log, new RegExp(`${CONNECTED.source}|AUTH_FAILED|Exiting due to fatal error`), timeoutMs, proc).catch(() => undefined);
  } finally {
    await lab.procs.stop(proc, 500, "SIGKILL");
  }
  const text = readLog(log);
  return { connected: CONNECTED.test(text), authFailed: /AUTH_FAILED/.test(text), ms: Date.now() - t0, log };
}
