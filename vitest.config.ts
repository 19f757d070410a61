import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Workspace packages export their TypeScript sources under the "@padt/source" condition,
// so tests run against src/ without a build step.
const conditions = ["@padt/source", ...defaultServerConditions];

export default defineConfig({
  resolve: {
    conditions,
    // graphql 16 ships CJS and ESM copies; Node picks CJS for everyone, Vite would give the
    // tests the ESM one while graphql-tools gets CJS ("another module or realm" errors).
    alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }],
  },
  ssr: { resolve: { conditions, externalConditions: ["@padt/source"] } },
  test: {
    globalSetup: ["packages/testkit/src/global-setup.ts"],
    include: ["packages/*/test/**/*.test.ts", "tests/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
