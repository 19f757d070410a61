// The import rules of the packages (issue 15). The arrows point one way:
//   cli -> gateway -> task plugins (through @padt/task-api) -> engine -> onnxruntime,
// with @padt/protocol and @padt/mask as leaves everyone may use. `npm run lint` runs this
// (`npm run lint:imports`); tests/import-rules.test.ts shows each rule failing on a violation.
// Tests and benchmarks are exempt: they assemble whole servers on purpose.
const TEST_CODE = "(^|/)(tests|bench|test)/|\\.test\\.tsx?$";

module.exports = {
  forbidden: [
    {
      name: "gateway-is-the-top",
      comment:
        "Only the CLI may build on the gateway: a package that imports it pulls in the " +
        "server, its database drivers and every shipped plugin.",
      severity: "error",
      from: { path: "^packages/", pathNot: ["^packages/(gateway|cli)/", TEST_CODE] },
      to: { path: ["^packages/gateway/", "^@padt/gateway$"] },
    },
    {
      name: "cli-is-the-top",
      comment: "The `padt` command is an application; no package depends on it.",
      severity: "error",
      from: { path: "^packages/", pathNot: ["^packages/cli/", TEST_CODE] },
      to: { path: ["^packages/cli/", "^@padt/cli$"] },
    },
    {
      name: "plugins-use-the-task-api-only",
      comment:
        "A task plugin is a prompt, a parser and a schema slice: it imports @padt/task-api " +
        "(which re-exports the protocol types it needs) and zod, nothing native, no other " +
        "plugin, so a third-party plugin installs neither onnxruntime nor sharp.",
      severity: "error",
      from: { path: "^packages/(tasks-[^/]+)/", pathNot: TEST_CODE },
      to: {
        pathNot: [
          "^packages/$1/",
          "^packages/task-api/",
          "^@padt/task-api$",
          "^node_modules/zod/",
          "^zod$",
        ],
      },
    },
    {
      name: "engine-knows-no-tasks",
      comment:
        "The engine runs a model: it knows nothing of tasks, GraphQL or databases, so of our " +
        "packages it may use only the shared leaves @padt/protocol and @padt/mask.",
      severity: "error",
      from: { path: "^packages/engine/", pathNot: TEST_CODE },
      to: {
        path: ["^packages/", "^@padt/"],
        pathNot: ["^packages/(engine|protocol|mask)/", "^@padt/(protocol|mask)$"],
      },
    },
    {
      name: "leaves-stay-light",
      comment:
        "@padt/mask, @padt/protocol and @padt/task-api run in the browser and in plugins: " +
        "they import only each other (task-api -> protocol -> mask) and zod.",
      severity: "error",
      from: { path: "^packages/(mask|protocol|task-api)/", pathNot: TEST_CODE },
      to: {
        pathNot: [
          "^packages/(mask|protocol|task-api)/",
          "^@padt/(mask|protocol|task-api)$",
          "^node_modules/zod/",
          "^zod$",
        ],
      },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(dist|node_modules)/" },
    // Type-only imports count: they are how a package's contract leaks into another.
    tsPreCompilationDeps: true,
    // Workspace packages resolve through their `exports` to their TypeScript sources, as in
    // the tests (dependency-cruiser ignores `exports` unless told).
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["@padt/source", "types", "import", "default"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".d.ts"],
    },
  },
};
