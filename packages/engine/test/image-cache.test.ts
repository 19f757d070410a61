import { describe, expect, it } from "vitest";
import { LruCache } from "../src/utils/lru.js";

describe("LruCache", () => {
  const make = () => new LruCache<string, Uint8Array>({ maxSize: 10, sizeOf: (v) => v.length });

  it("evicts the least recently used entries to stay within maxSize", () => {
    const cache = make();
    cache.set("a", new Uint8Array(4));
    cache.set("b", new Uint8Array(4));
    expect(cache.get("a")).toBeDefined(); // a is now the most recent
    cache.set("c", new Uint8Array(4));
    expect([cache.has("a"), cache.has("b"), cache.has("c")]).toEqual([true, false, true]);
    expect(cache.size).toBe(8);
  });

  it("replaces a key's value and skips values larger than the whole cache", () => {
    const cache = make();
    cache.set("a", new Uint8Array(4));
    cache.set("a", new Uint8Array(6));
    expect([cache.size, cache.count]).toEqual([6, 1]);
    cache.set("huge", new Uint8Array(11));
    expect([cache.has("huge"), cache.has("a")]).toEqual([false, true]);
    cache.delete("a");
    expect([cache.size, cache.count]).toEqual([0, 0]);
  });
});
