import { describe, expect, it } from "vitest";
import { breakingChanges, unacknowledged } from "../scripts/schema-breaking.js";

const released = /* GraphQL */ `
  type Query {
    message(id: ID!): Message
  }
  type Message {
    id: ID!
    text: String!
  }
`;

const changelog = (unreleased: string) => `# Changelog

## Unreleased

### Breaking
${unreleased}

## 0.1.0

- \`Message.text\` was added.
`;

describe("breaking-change rule", () => {
  it("fails a removed field until the changelog's Unreleased section names it", async () => {
    const current = released.replace("text: String!", "");
    const changes = await breakingChanges(released, current);
    expect(changes.map((c) => c.path)).toEqual(["Message.text"]);
    expect(unacknowledged(changes, changelog("(none)")).map((c) => c.path)).toEqual([
      "Message.text",
    ]);
    // Naming it under an older release does not count: it is a new break.
    expect(unacknowledged(changes, changelog("- `Message.id` reordered"))).toHaveLength(1);
    expect(unacknowledged(changes, changelog("- `Message.text` removed: use parts"))).toEqual([]);
  });

  it("fails a narrowed argument and a new required one", async () => {
    const current = released.replace("message(id: ID!)", "message(id: Int!, session: ID!)");
    const paths = (await breakingChanges(released, current)).map((c) => c.path).sort();
    expect(paths).toEqual(["Query.message.id", "Query.message.session"]);
  });

  it("lets additions through", async () => {
    const current = released.replace("text: String!", "text: String!\n    lastSeq: Int!");
    expect(await breakingChanges(released, current)).toEqual([]);
  });
});
