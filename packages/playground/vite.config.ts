import react from "@vitejs/plugin-react";
import { defaultClientConditions, defineConfig } from "vite";

// Built into dist/ and served by the gateway at "/" (packages/gateway/src/server/playground_route.ts).
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  // Workspace packages (@padt/mask) are bundled from their TypeScript sources, as tests run them.
  resolve: { conditions: ["@padt/source", ...defaultClientConditions] },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: {
    proxy: {
      "/graphql": { target: "http://127.0.0.1:4000", ws: true },
      "/images": "http://127.0.0.1:4000",
    },
  },
});
