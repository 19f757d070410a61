export { type EngineOptions, PadtEngine } from "./engine.js";
export { type InspectorOptions, ModelInspector } from "./inspector.js";
