/** The completion rate a gateway replica reads from the workers' advertised counters. */
import { describe, expect, it } from "vitest";
import { ServiceRate } from "../src/queue/service_rate.js";

describe("ServiceRate", () => {
  it("is the workers' completions per ms over the saturated stretch of the last 10 s", () => {
    const rate = new ServiceRate();
    rate.observe(100, true, 0);
    rate.observe(105, true, 500);
    // Half a second says too little.
    expect(rate.perMs()).toBeUndefined();
    rate.observe(120, true, 2000);
    expect(rate.perMs()).toBeCloseTo(20 / 2000);
    // Samples older than the window fall out.
    rate.observe(300, true, 12_000);
    expect(rate.perMs()).toBeCloseTo(180 / 10_000);
  });

  it("starts again when idle (idle time is not service) or when a worker left the sum", () => {
    const rate = new ServiceRate();
    rate.observe(0, true, 0);
    rate.observe(10, true, 1000);
    rate.observe(12, false, 1500);
    expect(rate.perMs()).toBeUndefined();
    rate.observe(20, true, 2000);
    rate.observe(30, true, 3000);
    expect(rate.perMs()).toBeCloseTo(10 / 1000);
    rate.observe(5, true, 3500);
    rate.observe(8, true, 4600);
    expect(rate.perMs()).toBeCloseTo(3 / 1100);
  });
});
