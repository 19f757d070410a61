// One reader for the benches' BENCH_* integer settings: a bad value stops the run before any
// measurement, rather than producing a table of NaNs.
export const setting = (name, fallback) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
};
