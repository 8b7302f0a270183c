/**
 * The dedicated system account OpenVPN drops to, which also owns the enrolment store and runs the enrolment
 * responder: not the shared `nobody`, whose processes (any daemon's) count against the same RLIMIT_NPROC and
 * could write the store. Pure text.
 */

/** User and group of OpenVPN after its privilege drop, of the hooks' group and of the enrolment store. */
export const OPENVPN_USER = "lr-openvpn";
export const OPENVPN_GROUP = OPENVPN_USER;

/**
 * Shell lines (sh or bash) that create the account when missing: a system user with its own group, no home, no
 * login shell. Idempotent; a concurrent creator (the lab's parallel runs) is tolerated by looking again.
 */
export function ensureServiceUser(): string {
  const u = OPENVPN_USER;
  return `if ! getent passwd ${u} >/dev/null; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --comment 'librerouter OpenVPN' ${u} 2>/dev/null || getent passwd ${u} >/dev/null
fi`;
}

/**
 * The group the browser console gateway (render/console-web.ts, a systemd DynamicUser) runs in: it may read the
 * tenants' env files (who is at which tunnel address) and the OpenVPN status files (their real addresses, for the
 * ban grid), nothing else. Created by the server setup before any tenant's files are written.
 */
export const CONSOLE_READ_GROUP = "lr-console";

/** Shell lines that create CONSOLE_READ_GROUP when missing (idempotent, tolerant of a concurrent creator). */
export function ensureConsoleGroup(): string {
  const g = CONSOLE_READ_GROUP;
  return `if ! getent group ${g} >/dev/null; then
  groupadd --system ${g} 2>/dev/null || getent group ${g} >/dev/null
fi`;
}
