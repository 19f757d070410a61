export { type BundleVerification, loadManifest } from "./load.js";
export { type GraphName, manifestSchema, type PadtManifest } from "./manifest.js";
