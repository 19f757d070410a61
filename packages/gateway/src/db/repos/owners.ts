import type { Database } from "../database.js";
import { type Owner, owners } from "../schema.js";

/** An owner holds sessions, images and keys (db/repos/api_keys.ts); keys authenticate as it. */
export async function createOwner(db: Database, name: string): Promise<Owner> {
  const [owner] = await db.insert(owners).values({ name }).returning();
  return owner!;
}
