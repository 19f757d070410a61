// Declared in @padt/protocol so task plugins throw and test the same class without the engine.
export { isPadtError, PadtError, PadtErrorCode } from "@padt/protocol";
