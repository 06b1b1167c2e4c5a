// The pure modules (no JupyterLab, no DOM) are tested here, to the last branch; the widgets
// that glue them to JupyterLab are tried end to end in a real browser by the Python suite.
const pure = ['src/model.ts', 'src/api.ts'];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src'],
  testMatch: ['**/__tests__/**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  },
  collectCoverage: true,
  collectCoverageFrom: pure,
  coverageReporters: ['text-summary', 'text'],
  coverageDirectory: '<rootDir>/coverage',
  coverageThreshold: Object.fromEntries(
    pure.map(file => [
      `./${file}`,
      { branches: 100, functions: 100, lines: 100, statements: 100 }
    ])
  )
};
