/** fast-check generators of valid stack configs: random tenant keys, distinct slots, optional public IP
 * overrides, balloons and hardware pins, an optional numbered range, and a few base offsets. */
import fc from "fast-check";
import type { StackInput } from "../../config/schema";

type TenantSpec = NonNullable<StackInput["tenants"]>[string];
/** A stack config as a user writes it, with the tenants map always present. */
export type GeneratedStack = StackInput & {
  tenants: Record<string, TenantSpec>;
  numberedTenants?: { count: number; firstSlot: number; exclude: number[] };
};

/** Pools 1 and 2 hold 502 default tenant addresses (slots 1–502); overrides come from pool 3 only, so no
 * override can ever be some other slot's default address. */
export const POOLS = [
  { cidr: "192.0.2.0/24", gateway: "192.0.2.1" },
  { cidr: "198.51.100.0/24", gateway: "198.51.100.1" },
  { cidr: "203.0.113.0/24", gateway: "203.0.113.1" },
];
export const MAX_DEFAULT_SLOT = 502;
/** Slots above 502 must carry an override; 1500 keeps VLANs ≤ 4094 for every vlanBase below. */
export const MAX_SLOT = 1500;

const LETTERS = "abcdefghijklmnopqrstuvwxyz";
const chars = (set: string, minLength: number, maxLength: number) => fc.string({ unit: fc.constantFrom(...set), minLength, maxLength });

/** DNS-safe keys (up to 14 characters) that never collide with numbered keys (`t<digits>`) and never use the
 * reserved prefix. Built from characters: much faster than `stringMatching`. */
export const tenantKey = fc
  .tuple(chars(LETTERS, 1, 1), chars(`${LETTERS}0123456789-`, 0, 12), chars(`${LETTERS}0123456789`, 0, 1))
  .map(([a, mid, end]) => (end ? `${a}${mid}${end}` : a))
  .filter((k) => !/^t\d+$/.test(k) && !k.startsWith("lr-vpn"));

const HEX = "0123456789abcdef";
const hwid = fc.oneof(
  chars(HEX, 64, 64),
  fc.array(chars(HEX, 2, 2), { minLength: 6, maxLength: 6 }).map((b) => b.join(":")),
);
const memory = fc.tuple(fc.integer({ min: 128, max: 4096 }), fc.integer({ min: 0, max: 4096 })).map(([minMb, extra]) => ({ minMb, maxMb: minMb + extra }));

export interface Generated {
  readonly raw: GeneratedStack;
  /** Slots in use (named and numbered), for picking a free one. */
  readonly usedSlots: ReadonlySet<number>;
  /** Third-pool host octets in use by overrides. */
  readonly usedOctets: ReadonlySet<number>;
}

const MAX_NAMED = 40;

export const validStack: fc.Arbitrary<Generated> = fc
  .integer({ min: 1, max: MAX_NAMED })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      keys: fc.uniqueArray(tenantKey, { minLength: n, maxLength: n }),
      slots: fc.uniqueArray(fc.integer({ min: 1, max: MAX_SLOT }), { minLength: n, maxLength: n }),
      octets: fc.uniqueArray(fc.integer({ min: 2, max: 254 }), { minLength: n, maxLength: n }),
      extras: fc.array(
        fc.record({
          override: fc.boolean(),
          memory: fc.option(memory, { nil: undefined }),
          hardwareId: fc.option(hwid, { nil: undefined }),
          diskGb: fc.option(fc.integer({ min: 4, max: 500 }), { nil: undefined }),
        }),
        { minLength: n, maxLength: n },
      ),
      numbered: fc.option(fc.record({ count: fc.integer({ min: 0, max: 30 }), firstSlot: fc.integer({ min: 1, max: 470 }) }), { nil: undefined }),
      vlanBase: fc.constantFrom(100, 1000, 2594),
      vmidBase: fc.constantFrom(1000, 100000),
      tableBase: fc.constantFrom(1000, 256, 70000),
      vncDisplayBase: fc.constantFrom(100, 605, 2106, 40000),
    }),
  )
  .map((g) => {
    const tenants: Record<string, TenantSpec> = {};
    const usedSlots = new Set<number>();
    const usedOctets = new Set<number>();
    for (let i = 0; i < g.n; i++) {
      const slot = g.slots[i];
      const e = g.extras[i];
      const t: TenantSpec = { slot };
      if (e.override || slot > MAX_DEFAULT_SLOT) {
        t.publicIp = `203.0.113.${g.octets[i]}`;
        usedOctets.add(g.octets[i]);
      }
      if (e.memory) t.memory = e.memory;
      if (e.hardwareId) t.hardwareId = e.hardwareId;
      if (e.diskGb) t.diskGb = e.diskGb;
      tenants[g.keys[i]] = t;
      usedSlots.add(slot);
    }
    const raw: GeneratedStack = {
      profile: "optimal",
      proxmox: { endpoint: "https://pve1.example.net:8006/", node: "pve1" },
      network: { publicPools: POOLS, vlanBase: g.vlanBase, vmidBase: g.vmidBase, tableBase: g.tableBase, vncDisplayBase: g.vncDisplayBase },
      tenants,
    };
    if (g.numbered) {
      const { count, firstSlot } = g.numbered;
      const last = firstSlot + count - 1;
      // Named tenants keep their slots: the numbered range leaves them out.
      const exclude = [...usedSlots].filter((s) => s >= firstSlot && s <= last).sort((a, b) => a - b);
      raw.numberedTenants = { count, firstSlot, exclude };
      for (let s = firstSlot; s <= last; s++) usedSlots.add(s);
    }
    return { raw, usedSlots, usedOctets };
  });
