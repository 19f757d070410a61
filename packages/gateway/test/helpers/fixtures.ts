import { insertExchange } from "../../src/db/repos/exchange.js";
import { putImage } from "../../src/db/repos/images.js";
import { createSession } from "../../src/db/repos/sessions.js";
import { markStreaming } from "../../src/db/repos/transitions.js";
import { createOwner, type Database } from "../../src/index.js";

let counter = 0;

/** A fresh owner per test, so tests sharing one database never see each other's rows. */
export async function newOwner(db: Database, name = "owner") {
  counter += 1;
  return createOwner(db, `${name}-${counter}`);
}

export async function newSession(db: Database, ownerId: string, title = "chat") {
  return createSession(db, ownerId, { title });
}

/** Distinct bytes per call (the repository hashes whatever it is given; no decoding here). */
export async function newImage(db: Database, ownerId: string, seed = String(Math.random())) {
  return putImage(db, ownerId, {
    bytes: new TextEncoder().encode(`fake-png-${seed}`),
    width: 64,
    height: 48,
    mimeType: "image/png",
    grid: { gridWidth: 23, gridHeight: 17 }, // the tiny bundle's grid for 64x48 (long side 644)
  });
}

/** A new owner's new session with one user turn, its answer marked streaming. */
export async function newStreamingAnswer(db: Database) {
  const owner = await newOwner(db);
  const session = await newSession(db, owner.id);
  const ex = await insertExchange(db, owner.id, {
    sessionId: session.id,
    parts: [{ kind: "text", text: "hello" }],
  });
  await markStreaming(db, owner.id, ex.assistantMessage.id);
  return { owner, session, id: ex.assistantMessage.id };
}
