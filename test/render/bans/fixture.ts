/** A stack with the ban grid's allowlist set, its plan, fixed fake secrets, and the member setup arguments. */
import { buildPlan } from "../../../plan/build";
import type { BanMemberName } from "../../../plan/bans";
import { PRODUCTION_PATHS } from "../../../render/bans/paths";
import type { MemberSetupArgs } from "../../../render/bans/setup";
import { baseConfig, withChange } from "../../config/fixture";

export const plan = buildPlan(
  withChange(baseConfig(), (c) => {
    c.bans = { allowlist: ["203.0.113.0/28"], banTime: "15m", repeat: { factor: 2, maxBanTime: "1h" }, pollSeconds: 3 };
  }),
  "test",
);
export const bans = plan.bans;

export const SECRETS = {
  machines: { vpn1: "pw-vpn1-Zq8x", vpn2: "pw-vpn2-Lk3m", host: "pw-host-Tr5n", reportgw: "pw-gw-Hy7b" } as Record<string, string>,
  bouncers: { "fw-vpn1": "key-vpn1-Aa1", "fw-vpn2": "key-vpn2-Bb2", "fw-host": "key-host-Cc3" } as Record<string, string>,
  tokens: { acme: "tok-acme-Dd4", beta: "tok-beta-Ee5" } as Record<string, string>,
  lapiKey: "-----BEGIN PRIVATE KEY-----\nlapi-key-Ff6\n-----END PRIVATE KEY-----\n",
};
export const ALL_SECRETS = [...Object.values(SECRETS.machines), ...Object.values(SECRETS.bouncers), ...Object.values(SECRETS.tokens), "lapi-key-Ff6"];

export function args(member: BanMemberName): MemberSetupArgs {
  const m = bans.members.find((x) => x.name === member)!;
  return {
    member,
    paths: PRODUCTION_PATHS,
    acquisition: { kind: "journal" },
    caPem: "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n",
    secrets: { ...(member === "services" ? {} : { machinePassword: SECRETS.machines[member] }), ...(m.bouncer ? { bouncerKey: SECRETS.bouncers[m.bouncer] } : {}) },
    ...(member === "services"
      ? { lapi: { certPem: "-----BEGIN CERTIFICATE-----\nlapi\n-----END CERTIFICATE-----\n", keyPem: SECRETS.lapiKey, report: { password: SECRETS.machines.reportgw, tokens: SECRETS.tokens } } }
      : {}),
  };
}
