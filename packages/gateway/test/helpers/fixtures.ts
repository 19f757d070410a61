import { putImage } from "../../src/db/repos/images.js";
import { createSession } from "../../src/db/repos/sessions.js";
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
