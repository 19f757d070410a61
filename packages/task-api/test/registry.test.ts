import { ErrorCode, isPadtError } from "@padt/protocol";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  defineTask,
  pickReferredObject,
  pythonJsonStringList,
  referringInput,
  referringPrompt,
  TaskRegistry,
} from "../src/index.js";

const echo = (name: string, inputField = name) =>
  defineTask({
    name,
    description: "echoes its word",
    input: z.object({ word: z.string().min(1) }),
    requiresImage: false,
    buildPrompt: ({ word }) => word,
    parse: (answer) => ({ result: { text: answer.text }, partial: false, issues: [] }),
    graphql: {
      typeDefs: "input EchoInput { word: String! } type EchoResult { text: String! }",
      inputField,
      inputType: "EchoInput",
      resultType: "EchoResult",
    },
  });

describe("TaskRegistry", () => {
  it("registers plugins and validates their input with every problem named", () => {
    const registry = new TaskRegistry([echo("echo")]);
    expect(registry.list().map((p) => p.name)).toEqual(["echo"]);
    expect(registry.parseInput("echo", { word: "hi" }).input).toEqual({ word: "hi" });
    try {
      registry.parseInput("echo", { word: "" });
      expect.unreachable();
    } catch (error) {
      expect(isPadtError(error, ErrorCode.TASK_INPUT_INVALID)).toBe(true);
      expect((error as Error).message).toContain("word");
    }
  });

  it("refuses unknown tasks with TASK_UNKNOWN and the known names", () => {
    const registry = new TaskRegistry([echo("echo")]);
    try {
      registry.get("nope");
      expect.unreachable();
    } catch (error) {
      expect(isPadtError(error, ErrorCode.TASK_UNKNOWN)).toBe(true);
      expect((error as { details: unknown }).details).toEqual({ known: ["echo"] });
    }
  });

  it("fails at start-up on a broken plugin: bad name, missing type, duplicates", () => {
    expect(() => new TaskRegistry([echo("Bad-Name")])).toThrow(/name must match/);
    const broken = { ...echo("echo"), graphql: { ...echo("echo").graphql, resultType: "Other" } };
    expect(() => new TaskRegistry([broken])).toThrow(/do not declare Other/);
    expect(() => new TaskRegistry([echo("echo"), echo("echo", "other")])).toThrow(/twice/);
    expect(() => new TaskRegistry([echo("a", "same"), echo("b", "same")])).toThrow(/share/);
    const odd = { ...echo("echo"), requiresImage: "yes" as unknown as boolean };
    expect(() => new TaskRegistry([odd])).toThrow(/requiresImage/);
  });
});

describe("shared helpers", () => {
  it("writes lists as Python's json.dumps does", () => {
    expect(pythonJsonStringList(["circle", 'a "b"', "é"])).toBe(
      '["circle", "a \\"b\\"", "\\u00e9"]',
    );
  });

  it("builds the referring prompt and picks the first referred object, saying so", () => {
    expect(referringInput.parse({ expression: "  the red circle " })).toEqual({
      expression: "the red circle",
    });
    expect(referringPrompt("x")).toBe(
      'Please carefully check the image and detect the object this sentence describes: "x".',
    );
    const issues: string[] = [];
    expect(pickReferredObject([], issues)).toBeNull();
    expect(issues).toEqual(["the answer points at no object"]);
  });
});
