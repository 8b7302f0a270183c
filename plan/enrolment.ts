/**
 * Who decides a first-use hardware-ID enrolment: one authority (the plan's first VPN server) and, on every server,
 * the peer it asks over the management network. A plan fact, not config: both servers must agree on it.
 */
import type { Plan, ServerName, ServerPlan } from "./types";

/** TCP port of the enrolment responder, on each VPN server's management address only. */
export const ENROL_PORT = 4194;

/** What one VPN server needs to take part in enrolment. */
export interface EnrolPeers {
  readonly server: ServerName;
  /** This server's management address (the responder binds it; the hook's peer call leaves from it). */
  readonly selfIp: string;
  /** The other server: its name and management address (the only address the responder answers). */
  readonly peer: ServerName;
  readonly peerIp: string;
  readonly port: number;
  /** True on the authority: its own store's atomic link decides a race; the other server claims there. */
  readonly authority: boolean;
}

/** The enrolment roles of `server` in `plan` (vpn1 is the authority). */
export function enrolPeers(plan: Plan, server: ServerPlan): EnrolPeers {
  const [first, second] = plan.servers;
  const peer = server.name === first.name ? second : first;
  return { server: server.name, selfIp: server.mgmtIp, peer: peer.name, peerIp: peer.mgmtIp, port: ENROL_PORT, authority: server.name === first.name };
}
