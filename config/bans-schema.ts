/**
 * The stack's `bans:` block: the ban grid (CrowdSec agents on every machine, one decision store on the services VM,
 * nftables set-only bouncers on vpn1, vpn2 and the host). Pure; plan/bans.ts turns it into the rendered values.
 */
import { z } from "zod";
import { formatCidr, isCidr, isIpv4, parseCidr } from "../lib/ipv4";

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const DURATION = /^([1-9]\d{0,6})([smhd])$/;

/** Seconds of a duration such as `90s`, `10m`, `1h`, `7d` (one number, one unit). */
export function durationSeconds(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * UNIT_SECONDS[m[2]];
}

/** A duration between `min` and `max` seconds, written `<number><s|m|h|d>`. */
const duration = (what: string, min: number, max: number, minText: string, maxText: string) =>
  z.string().superRefine((s, ctx) => {
    if (!DURATION.test(s)) {
      ctx.addIssue({ code: "custom", message: `${what} must be a whole number and one unit, s, m, h or d, such as 10m or 1h` });
      return;
    }
    const n = durationSeconds(s);
    if (n < min) ctx.addIssue({ code: "custom", message: `${what} must be at least ${minText}` });
    else if (n > max) ctx.addIssue({ code: "custom", message: `${what} must be at most ${maxText}` });
  });

/** An allowlist entry: an IPv4 network (host bits zero) or one address (taken as /32); never a /0. */
const allowEntry = z.string().superRefine((s, ctx) => {
  if (isIpv4(s)) return;
  if (!isCidr(s)) {
    const m = /^(.+)\/(\d{1,2})$/.exec(s);
    const fix = m && isIpv4(m[1]) && Number(m[2]) <= 32 ? `host bits are set; write the network address, ${formatCidr(parseCidr(s))}` : "must be an IPv4 address or network such as 198.51.100.7 or 198.51.100.0/24";
    ctx.addIssue({ code: "custom", message: fix });
  } else if (s.endsWith("/0")) {
    ctx.addIssue({ code: "custom", message: "a /0 would exempt every address and turn the ban grid off; name your ops and monitoring networks instead" });
  }
});

const int = (what: string, min: number, max: number, why = "") =>
  z
    .number({ message: `${what} must be a whole number` })
    .int({ message: `${what} must be a whole number` })
    .min(min, { message: `${what} must be at least ${min}${why}` })
    .max(max, { message: `${what} must be at most ${max}${why}` });

export const BANS_DEFAULTS = {
  banTime: "10m",
  findTime: "10m",
  retries: 5,
  repeat: { factor: 2, maxBanTime: "1d", window: "7d" },
  allowlist: [] as string[],
  pollSeconds: 2,
  report: { enabled: true, quotaPerHour: 20 },
} as const;

export const bansSchema = z
  .object({
    /** How long a first ban lasts. */
    banTime: duration("banTime", 10, 30 * 86400, "10s", "30d").default(BANS_DEFAULTS.banTime),
    /** `retries` refusals from one address within about `findTime` ban it. */
    findTime: duration("findTime", 10, 86400, "10s", "1d").default(BANS_DEFAULTS.findTime),
    retries: int("retries", 2, 100).default(BANS_DEFAULTS.retries),
    /** Repeat offenders: the n-th ban within `window` lasts banTime × factor^(n-1), at most `maxBanTime`. */
    repeat: z
      .object({
        factor: int("repeat.factor", 1, 10, " (1 = every ban lasts banTime)").default(BANS_DEFAULTS.repeat.factor),
        maxBanTime: duration("repeat.maxBanTime", 10, 30 * 86400, "10s", "30d").default(BANS_DEFAULTS.repeat.maxBanTime),
        window: duration("repeat.window", 60, 90 * 86400, "1m", "90d").default(BANS_DEFAULTS.repeat.window),
      })
      .strict()
      .default({ ...BANS_DEFAULTS.repeat }),
    /** Never banned, whatever they do (ops networks, monitoring); the service's own addresses are always protected. */
    allowlist: z.array(allowEntry).max(64, { message: "lists more than 64 entries; use covering prefixes" }).default([]),
    /** How often each enforcement point pulls new decisions (the bouncer's update_frequency). */
    pollSeconds: int("pollSeconds", 1, 5, ": a ban reaches every member ≤ 1 s (agent push) + pollSeconds after the triggering event, so above 5 the 10 s goal is missed under load (Debian's 10 s default measured up to 11 s)").default(
      BANS_DEFAULTS.pollSeconds,
    ),
    /** Tenants' routers report attackers to the gateway on the services VM. */
    report: z
      .object({
        enabled: z.boolean({ message: "report.enabled must be true or false" }).default(BANS_DEFAULTS.report.enabled),
        quotaPerHour: int("report.quotaPerHour", 1, 1000).default(BANS_DEFAULTS.report.quotaPerHour),
      })
      .strict()
      .default({ ...BANS_DEFAULTS.report }),
  })
  .strict()
  .superRefine((b, ctx) => {
    const ok = (s: string) => DURATION.test(s);
    if (ok(b.findTime) && durationSeconds(b.findTime) < b.retries) {
      ctx.addIssue({ code: "custom", path: ["findTime"], message: `findTime must be at least retries (${b.retries}) seconds: one refusal leaks from the bucket every findTime/retries, which cannot be under 1 s; raise findTime or lower retries` });
    }
    if (ok(b.banTime) && ok(b.repeat.maxBanTime) && durationSeconds(b.repeat.maxBanTime) < durationSeconds(b.banTime)) {
      ctx.addIssue({ code: "custom", path: ["repeat", "maxBanTime"], message: `repeat.maxBanTime must be at least banTime (${b.banTime}); raise it or lower banTime` });
    }
  });

export type BansInput = z.input<typeof bansSchema>;
export type BansConfig = z.output<typeof bansSchema>;
