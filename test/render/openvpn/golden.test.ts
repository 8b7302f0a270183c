/** Golden files: every rendered OpenVPN text for the 2-tenant plan with the production layout (`npm run goldens` rewrites them). */
import { expectGoldens } from "../golden";
import { openvpnGoldens } from "./goldens";

describe("golden OpenVPN files (2 tenants, production layout)", () => {
  expectGoldens(openvpnGoldens());
});
