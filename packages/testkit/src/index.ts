export { answerOf, testObject } from "./answers.js";
export {
  availableDatabaseKinds,
  createTestDatabase,
  type DatabaseKind,
  listTestDatabases,
  type TestDatabase,
  testServerUrl,
} from "./database.js";
export { type LocalCluster, startLocalCluster } from "./local-cluster.js";
export { findPostgresBinDir } from "./pg-binaries.js";
export { type ConformanceCases, describeTaskPlugin } from "./task-conformance.js";
