/**
 * The tenants' consoles beyond the VNC port: the host's serial bridge (which VMIDs it may attach), the HTTPS gateway
 * on both VPN servers (port, login limits, session length) and each tenant's console addresses. Pure: every value is
 * a function of the config alone, so adding or removing a tenant changes none of the shared artifacts.
 */
import { durationSeconds } from "../config/bans-schema";
import type { ConsolesConfig } from "../config/consoles-schema";
import type { StackConfig } from "../config/schema";
import { RESERVED_PORTS, consolePortRanges, maxSlot, vmid } from "./alloc";
import { infraVmids } from "./slot-checks";
import type { InstanceId, InstancePlan } from "./types";

export interface ConsolesPlan {
  readonly serialBridgePort: number;
  readonly webPort: number;
  readonly login: { readonly maxFailures: number; readonly windowSeconds: number; readonly lockSeconds: number };
  readonly sessionSeconds: number;
  /** The VMIDs the serial bridge may attach: every tenant slot's, never an infrastructure VM's. */
  readonly tenantVmids: { readonly min: number; readonly max: number; readonly exclude: readonly number[] };
}

export function planConsoles(cfg: StackConfig): ConsolesPlan {
  const c = cfg.consoles;
  const min = vmid(cfg, 1);
  const max = vmid(cfg, maxSlot(cfg));
  const exclude = [...new Set(infraVmids(cfg).map(([, v]) => v).filter((v) => v >= min && v <= max))].sort((a, b) => a - b);
  return {
    serialBridgePort: c.serialBridgePort,
    webPort: c.webPort,
    login: { maxFailures: c.login.maxFailures, windowSeconds: durationSeconds(c.login.window), lockSeconds: durationSeconds(c.login.lock) },
    sessionSeconds: durationSeconds(c.session),
    tenantVmids: { min, max, exclude },
  };
}

/** Ports of the Proxmox host the serial bridge must not take, besides the tenants' console ports. */
const HOST_PORTS: readonly [number, string][] = [
  [22, "SSH"],
  [3128, "Proxmox's SPICE proxy"],
  [111, "rpcbind"],
];

/** Config problems of the `consoles` block that span other keys: `[key, message]`. */
export function consolesIssues(cfg: StackConfig): [string, string][] {
  const port = cfg.consoles.serialBridgePort;
  const out: [string, string][] = [];
  const reserved = RESERVED_PORTS.find(([lo, hi]) => port >= lo && port <= hi);
  const host = HOST_PORTS.find(([p]) => p === port);
  const vnc = consolePortRanges(cfg).find((r) => port >= r.lo && port <= r.hi);
  if (reserved) out.push(["consoles.serialBridgePort", `got ${port}, which is ${reserved[2]}; pick a free port such as 5899`]);
  else if (host) out.push(["consoles.serialBridgePort", `got ${port}, which is the host's ${host[1]}; pick a free port such as 5899`]);
  else if (vnc) out.push(["consoles.serialBridgePort", `got ${port}, inside the tenants' VNC console ports ${vnc.lo}–${vnc.hi} (5900 + network.vncDisplayBase + slot); pick a port outside them such as 5899`]);
  if (cfg.consoles.webPort === 5900) out.push(["consoles.webPort", "got 5900, the tenants' VNC console port on the gateway; use 443"]);
  return out;
}

/** The browser console's address on each instance gateway (reachable only through the tenant's own tunnel). */
export function consoleUrls(instances: readonly InstancePlan[], c: Pick<ConsolesPlan, "webPort">): Record<InstanceId, string> {
  const port = c.webPort === 443 ? "" : `:${c.webPort}`;
  return Object.fromEntries(instances.map((i) => [i.id, `https://${i.gateway}${port}/`])) as Record<InstanceId, string>;
}

export type { ConsolesConfig };
