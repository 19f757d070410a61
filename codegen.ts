// `npm run codegen` (and `npm run schema`, which runs it after writing the schema): typed
// document nodes for the clients in this repository, from the published schema. The output is
// committed, so a fresh clone builds without this step; tests/codegen.test.ts fails when it is
// stale.
import type { CodegenConfig } from "@graphql-codegen/cli";

/** Each client's graphql() calls, typed against packages/gateway/schema.graphql. */
const client = (dir: string): CodegenConfig["generates"][string] => ({
  preset: "client",
  documents: [`${dir}/**/*.{ts,tsx}`, `!${dir}/gql/**`],
  // Results as plain objects: fragments only share selections here, they do not hide fields.
  presetConfig: { fragmentMasking: false },
  config: {
    useTypeImports: true,
    enumsAsTypes: true,
    skipTypename: true,
    // `.js` in relative imports: the Node example is checked with NodeNext resolution.
    emitLegacyCommonJSImports: false,
    scalars: { DateTime: "string" },
  },
});

const config: CodegenConfig = {
  schema: "packages/gateway/schema.graphql",
  generates: {
    "packages/playground/src/gql/": client("packages/playground/src"),
    "examples/node-client/src/gql/": client("examples/node-client/src"),
  },
  silent: true,
};

export default config;
