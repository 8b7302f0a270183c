/**
 * ban-member-restart (issue 11, "a member that was down catches up"): vpn2's bouncer SIGKILLed. Its nft set keeps
 * every ban in force while it is down; what the LAPI decides meanwhile (a new ban, a lifted one) reaches vpn1 and the
 * nodes only. Started again from its rendered unit, vpn2 takes the new ban and drops the lifted one; a ban held
 * throughout is watched every 100 ms and must never leave vpn2's set. Decisions by hand (`cscli decisions add`):
 * the detection side is ban-detect's.
 */
import type { Enforcer, GridRun } from "./ban-grid";
import { bannedEverywhere, gridOf, perPoint } from "./check-ban-kit";
import { fail } from "./check-kit";
import { sleep } from "./exec";
import type { Lab } from "./lab";

/** Addresses no other check uses (the attacks are 100.126.x and 100.96.x). */
const HELD = "100.125.0.1";
const LIFTED = "100.125.0.2";
const NEW = "100.125.0.3";
const DOWN: Enforcer = "vpn2";

/** Polls `m`'s ban set until stop(): whether `ip` was ever missing from it. */
function watchHeld(g: GridRun, m: Enforcer, ip: string): { stop(): Promise<{ samples: number; missing: number }> } {
  let stopped = false;
  let samples = 0;
  let missing = 0;
  const loop = (async () => {
    while (!stopped) {
      const set = (await g.sets()).get(m);
      samples++;
      if (!set?.has(ip)) missing++;
      await sleep(100);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { samples, missing };
    },
  };
}

async function memberRestart(lab: Lab): Promise<string> {
  const g = gridOf(lab);
  const others = g.enforcers.filter((m) => m !== DOWN);
  const poll = (lab.plan.bans.pollSeconds + 1) * 1000;
  for (const ip of [HELD, LIFTED]) await g.cscli("decisions", "add", "-i", ip, "-d", "10m", "-R", "lab: ban-member-restart");
  await Promise.all([HELD, LIFTED].map((ip) => bannedEverywhere(g, ip, Date.now())));
  const watch = watchHeld(g, DOWN, HELD);
  try {
    const bouncer = g.daemons.get(`bouncer-${DOWN}`) ?? fail(`no bouncer running on ${DOWN}`);
    await lab.procs.kill(bouncer);
    const t0 = Date.now();
    // While it is down: a new ban and a lifted one, seen by every other enforcement point.
    await g.cscli("decisions", "add", "-i", NEW, "-d", "10m", "-R", "lab: ban-member-restart");
    await g.cscli("decisions", "delete", "-i", LIFTED);
    await sleep(poll);
    const sets = await g.sets();
    const down = sets.get(DOWN)!;
    if (!down.has(HELD)) fail(`${DOWN}'s bouncer down: ${HELD}'s ban left its set (the set must keep every ban in force)`);
    if (down.has(NEW)) fail(`control: ${DOWN}'s bouncer is down, yet ${NEW} reached its set`);
    if (!down.has(LIFTED)) fail(`control: ${DOWN}'s bouncer is down, yet ${LIFTED}'s lifted ban left its set`);
    for (const m of others) {
      const s = sets.get(m)!;
      if (!s.has(NEW) || s.has(LIFTED)) fail(`${m} did not follow the LAPI while ${DOWN} was down: ${NEW} ${s.has(NEW) ? "in" : "missing"}, ${LIFTED} ${s.has(LIFTED) ? "still in" : "gone"}`);
    }
    const downFor = (Date.now() - t0) / 1000;
    // Back from its rendered unit (ExecStartPre waits for the LAPI, then the bouncer pulls its start-up stream).
    const r0 = Date.now();
    await g.restartBouncer(DOWN);
    const caught = await bannedEverywhere(g, NEW, r0);
    let liftedGone = 0;
    for (let t = Date.now(); ; await sleep(100)) {
      if (!(await g.sets()).get(DOWN)!.has(LIFTED)) {
        liftedGone = (Date.now() - r0) / 1000;
        break;
      }
      if (Date.now() - t > 30_000) fail(`${DOWN} back: the ban lifted while it was down (${LIFTED}) is still in its set after 30 s`);
    }
    const held = await watch.stop();
    if (held.missing) fail(`${HELD}'s ban was missing from ${DOWN}'s set in ${held.missing} of ${held.samples} samples across the bouncer's kill and restart`);
    return `${DOWN}'s bouncer SIGKILLed for ${downFor.toFixed(1)}s: ${HELD} held in its set throughout (${held.samples} samples every 100 ms, 0 missing); ${NEW} banned and ${LIFTED} lifted meanwhile: followed by ${others.join(", ")}, not by ${DOWN}; restarted, ${DOWN} caught up: ${NEW} in after ${caught[DOWN].toFixed(1)}s (${perPoint(g, caught)}), ${LIFTED} out after ${liftedGone.toFixed(1)}s`;
  } finally {
    await watch.stop().catch(() => undefined);
    // Lifted again for the checks after this one; the bouncers drop them within pollSeconds.
    for (const ip of [HELD, LIFTED, NEW]) await g.cscli("decisions", "delete", "-i", ip).catch(() => undefined);
  }
}

export const banMemberRestartCheck = {
  id: "ban-member-restart",
  modeIndependent: "the ban grid: attackers, reports and bans on the public side, no tenant network in it",
  title: "vpn2's bouncer killed: its set keeps every ban; a ban and a lift meanwhile reach the others only; restarted, vpn2 catches up",
  run: memberRestart,
};
