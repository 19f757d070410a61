import { loadTasks, servedSchema } from "@padt/gateway";
import { type DocumentNode, print, validate } from "graphql";
import { describe, expect, it } from "vitest";
import { messageQuery } from "../src/lib/queries.js";
import type { TaskInfo } from "../src/lib/types.js";

const rec: TaskInfo = {
  name: "rec",
  description: "",
  inputType: "RecInput",
  resultType: "RecResult",
  inputField: "rec",
  supported: true,
};

describe("the answer's result query", () => {
  it("asks only for the result types of the server's plugins", async () => {
    // A server that runs REC alone has no OvdResult, ResResult or RicResult.
    const schema = servedSchema(await loadTasks(["@padt/tasks-rec"]));
    const all = messageQuery([
      rec,
      ...["Res", "Ovd", "Ric"].map((t) => ({ ...rec, resultType: `${t}Result` })),
    ]);
    expect(validate(schema, all as DocumentNode)).not.toEqual([]);

    const query = messageQuery([rec]);
    expect(validate(schema, query as DocumentNode)).toEqual([]);
    expect(print(query)).toMatch(/on RecResult/);
    expect(print(query)).toMatch(/on TextResult/);
  });
});
