/** `npm run goldens`: rewrites every golden file from the renderers and deletes stale ones; check the diff after. */
import { relative } from "node:path";
import { dataplaneGoldens } from "../render/dataplane/goldens";
import { writeGoldens } from "../render/golden";
import { openvpnGoldens } from "../render/openvpn/goldens";

for (const set of [openvpnGoldens(), dataplaneGoldens()]) {
  const { changed, deleted } = writeGoldens(set);
  const dir = relative(process.cwd(), set.dir);
  for (const f of changed) console.log(`wrote   ${dir}/${f}`);
  for (const f of deleted) console.log(`deleted ${dir}/${f}`);
}
