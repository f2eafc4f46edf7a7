/** Jest runs the TypeScript sources through ts-jest. Aedes 1.x ships as ESM only,
 * so it is transpiled to CommonJS as well instead of being left to Node. */
const coverageThreshold = process.env.JEST_COVERAGE_THRESHOLD === 'off'
  ? undefined
  : { global: { lines: 85 } }

const common = {
  testEnvironment: 'node',
  rootDir: __dirname,
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true }, diagnostics: false }]
  },
  transformIgnorePatterns: ['/node_modules/(?!aedes/)'],
  setupFiles: ['<rootDir>/test/setup-env.ts']
}

/** Suites that run the build (`node dist/main.js`, the built console): their project builds first. */
const COMPILED = [
  '<rootDir>/test/reliability/graceful-shutdown.test.ts',
  '<rootDir>/test/integration/deploy/pm2-cluster.test.ts',
  '<rootDir>/test/e2e/**/*.test.ts'
]

module.exports = {
  // Suites run side by side: each has its own scratch database, Redis prefix, ports, MQTT
  // names and user ids (test/helpers/node.ts). One worker per core; jest's default keeps one
  // core for itself, which leaves a single worker on a 2-core machine.
  maxWorkers: '100%',
  collectCoverageFrom: ['core/**/*.ts', 'models/**/*.ts', 'broker/**/*.ts', 'bridge/**/*.ts', 'hub.ts'],
  coverageThreshold,
  testTimeout: 30000,
  projects: [
    { ...common, displayName: 'source', roots: ['<rootDir>/test'], testMatch: ['**/*.test.ts'], testPathIgnorePatterns: ['/node_modules/', ...COMPILED.map((p) => p.replace('<rootDir>', '').replace('**/*.test.ts', ''))] },
    { ...common, displayName: 'compiled', roots: ['<rootDir>/test'], testMatch: COMPILED, globalSetup: '<rootDir>/test/build-once.ts' }
  ]
}
