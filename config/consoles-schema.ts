/**
 * The stack's `consoles:` block: the tenants' text and browser consoles (the host's serial bridge, the HTTPS gateway
 * on both VPN servers, its login limits). Pure; plan/consoles.ts turns it into the rendered values.
 */
import { z } from "zod";
import { durationSeconds } from "./bans-schema";

const DURATION = /^([1-9]\d{0,6})([smhd])$/;

const int = (what: string, min: number, max: number, why = "") =>
  z
    .number({ message: `${what} must be a whole number` })
    .int({ message: `${what} must be a whole number` })
    .min(min, { message: `${what} must be at least ${min}${why}` })
    .max(max, { message: `${what} must be at most ${max}${why}` });

/** A duration between `min` and `max` seconds, written `<number><s|m|h|d>`. */
const duration = (what: string, min: number, max: number, minText: string, maxText: string) =>
  z.string().superRefine((s, ctx) => {
    if (!DURATION.test(s)) return void ctx.addIssue({ code: "custom", message: `${what} must be a whole number and one unit, s, m, h or d, such as 10m or 1h` });
    const n = durationSeconds(s);
    if (n < min) ctx.addIssue({ code: "custom", message: `${what} must be at least ${minText}` });
    else if (n > max) ctx.addIssue({ code: "custom", message: `${what} must be at most ${maxText}` });
  });

export const CONSOLES_DEFAULTS = {
  serialBridgePort: 5899,
  webPort: 443,
  login: { maxFailures: 5, window: "10m", lock: "15m" },
  session: "8h",
} as const;

export const consolesSchema = z
  .object({
    /** The host's serial bridge (management address only, reached by the VPN servers' gateways). */
    serialBridgePort: int("serialBridgePort", 1024, 65535, " (a port of its own on the host's management address, outside the tenants' console ports)").default(CONSOLES_DEFAULTS.serialBridgePort),
    /** The browser console's HTTPS port on every instance gateway address (inside the tunnels only). */
    webPort: int("webPort", 1, 65535).default(CONSOLES_DEFAULTS.webPort),
    /** Wrong console passwords: each delayed (1 s, 2 s, 4 s … 30 s); `maxFailures` within `window` lock the tenant's login for `lock` and reach the ban grid. */
    login: z
      .object({
        maxFailures: int("login.maxFailures", 2, 100).default(CONSOLES_DEFAULTS.login.maxFailures),
        window: duration("login.window", 60, 86400, "1m", "1d").default(CONSOLES_DEFAULTS.login.window),
        lock: duration("login.lock", 60, 86400, "1m", "1d").default(CONSOLES_DEFAULTS.login.lock),
      })
      .strict()
      .default({ ...CONSOLES_DEFAULTS.login }),
    /** How long a login lasts in the browser. */
    session: duration("session", 300, 7 * 86400, "5m", "7d").default(CONSOLES_DEFAULTS.session),
  })
  .strict();

export type ConsolesConfig = z.output<typeof consolesSchema>;
