import { defineTask, TaskRegistry } from "@padt/task-api";
import { ovdTask } from "@padt/tasks-ovd";
import { recTask } from "@padt/tasks-rec";
import { resTask } from "@padt/tasks-res";
import { ricTask } from "@padt/tasks-ric";
import {
  type GraphQLInputObjectType,
  GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLUnionType,
} from "graphql";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { buildSchema } from "../src/graphql/schema.js";

const helpers = {
  visualRef: (_: { messageId: string }, index: number) => ({ id: `ref-${index}`, index }),
};

describe("schema assembly", () => {
  const schema = buildSchema({
    tasks: new TaskRegistry([recTask, resTask, ovdTask, ricTask]),
    resolvers: {},
    helpers,
  });

  it("adds each plugin's input to TaskInput and result to TaskResult", () => {
    const input = schema.getType("TaskInput") as GraphQLInputObjectType;
    expect(Object.keys(input.getFields())).toEqual(
      expect.arrayContaining(["rec", "res", "ovd", "ric"]),
    );
    const result = schema.getType("TaskResult") as GraphQLUnionType;
    expect(result.getTypes().map((t) => t.name)).toEqual([
      "TextResult",
      "RecResult",
      "ResResult",
      "OvdResult",
      "RicResult",
    ]);
  });

  it("resolves a plugin result's visual references through the gateway's helper", () => {
    const fieldOf = (type: string, field: string) => {
      const t = schema.getType(type);
      if (!(t instanceof GraphQLObjectType)) throw new Error(`${type} is not an object type`);
      const resolve = t.getFields()[field]?.resolve;
      if (!resolve) throw new Error(`${type}.${field} has no resolver`);
      return (parent: unknown) => resolve(parent, {}, {}, {} as GraphQLResolveInfo);
    };
    const rec = {
      expression: "x",
      object: { index: 2 },
      partial: false,
      issues: [],
      messageId: "m1",
    };
    expect(fieldOf("RecResult", "ref")(rec)).toEqual({ id: "ref-2", index: 2 });
    expect(fieldOf("RecResult", "ref")({ ...rec, object: null })).toBeNull();

    const ovd = { detections: [{ label: "star", score: 0.5, object: 4 }], messageId: "m1" };
    const [detection] = fieldOf("OvdResult", "detections")(ovd) as unknown[];
    expect(fieldOf("Detection", "ref")(detection)).toEqual({ id: "ref-4", index: 4 });

    const ric = {
      phrases: [{ text: "two dogs", start: 0, end: 8, objects: [0, 1] }],
      messageId: "m1",
    };
    const [phrase] = fieldOf("RicResult", "phrases")(ric) as unknown[];
    expect(fieldOf("GroundedPhrase", "refs")(phrase)).toEqual([
      { id: "ref-0", index: 0 },
      { id: "ref-1", index: 1 },
    ]);
  });

  it("fails at start-up when a plugin's slice does not merge", () => {
    const broken = defineTask({
      name: "broken",
      description: "refers to a type that does not exist",
      input: z.object({}),
      buildPrompt: () => "x",
      parse: () => ({ result: {}, partial: false, issues: [] }),
      graphql: {
        inputField: "broken",
        inputType: "BrokenInput",
        resultType: "BrokenResult",
        typeDefs: `input BrokenInput { x: Int } extend input TaskInput { broken: BrokenInput }
          type BrokenResult { thing: NoSuchType } extend union TaskResult = BrokenResult`,
      },
    });
    expect(() =>
      buildSchema({ tasks: new TaskRegistry([broken]), resolvers: {}, helpers }),
    ).toThrow(/NoSuchType/);
  });
});
