/** The data-plane suite: real openvpn/iptables/qemu in network namespaces. Needs root; runs serially. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test/e2e"],
  testTimeout: 180000,
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
};
