/**
 * Which node a tenant runs on: weighted rendezvous hashing (Thaler & Ravishankar's HRW, with Schindelhauer's
 * logarithmic weights). Each node scores the tenant's key, -weight / ln(u), u uniform in (0, 1) from SHA-256 of
 * key and node name, and the best score wins. So a tenant's node depends on its key and the node list only:
 * adding, removing or resizing another tenant never moves it; adding a node moves about 1/n of the tenants, all of
 * them onto the new node; a node's expected share is its weight's share. Pure.
 */
import { createHash } from "node:crypto";

export interface WeightedNode {
  readonly name: string;
  /** Relative capacity, > 0 (plan/cluster.ts: the node's RAM, the resource that binds in the sizing model). */
  readonly weight: number;
}

/** u in (0, 1): the first 52 bits of SHA-256(key NUL node), never 0 or 1. */
function unit(key: string, node: string): number {
  const h = createHash("sha256").update(`${key}\0${node}`).digest();
  const hi = h.readUInt32BE(0) >>> 12; // 20 bits
  const lo = h.readUInt32BE(4); // 32 bits
  return (hi * 2 ** 32 + lo + 0.5) / 2 ** 52;
}

/** The node `key` lands on among `nodes` (at least one). Ties (never seen in practice) go to the lower name. */
export function rendezvousNode(key: string, nodes: readonly WeightedNode[]): string {
  if (!nodes.length) throw new Error("rendezvousNode: no node to place on");
  let best = nodes[0].name;
  let bestScore = -Infinity;
  for (const n of nodes) {
    const score = -n.weight / Math.log(unit(key, n.name));
    if (score > bestScore || (score === bestScore && n.name < best)) {
      best = n.name;
      bestScore = score;
    }
  }
  return best;
}
