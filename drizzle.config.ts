import { defineConfig } from "drizzle-kit";

// `npx drizzle-kit generate` writes the SQL for schema changes into migrations/, which the
// gateway applies at start-up (packages/gateway/src/db/migrate.ts). Pinned drizzle-kit 0.31:
// the 1.0 line lays the folder out differently.
export default defineConfig({
  schema: "./packages/gateway/src/db/schema.ts",
  out: "./migrations",
  dialect: "postgresql",
  strict: true,
  verbose: true,
});
