#!/usr/bin/env node
// Committed on purpose: npm links a workspace's bin at install time only if the file exists
// then, and dist/ does not exist yet on a fresh clone (`npm ci && npm run build && npx padt`).
await import("../dist/bin.js");
