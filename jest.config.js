/** Unit and program tests run in parallel; the e2e lab suite (root, namespaces) has its own config. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/e2e/"],
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
};
