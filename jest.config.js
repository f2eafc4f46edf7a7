/** Jest runs the TypeScript sources through ts-jest. Aedes 1.x ships as ESM only,
 * so it is transpiled to CommonJS as well instead of being left to Node. */
const coverageThreshold = process.env.JEST_COVERAGE_THRESHOLD === 'off'
  ? undefined
  : { global: { lines: 85 } }

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true }, diagnostics: false }]
  },
  transformIgnorePatterns: ['/node_modules/(?!aedes/)'],
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  collectCoverageFrom: ['core/**/*.ts', 'models/**/*.ts', 'broker/**/*.ts', 'bridge/**/*.ts', 'hub.ts'],
  coverageThreshold,
  testTimeout: 30000
}
