// Preload for memory measurements (bench/memory.sh): a full GC every second, so that an
// RSS sample counts what the broker holds rather than garbage not yet collected.
// Run with: node --expose-gc --import ./bench/gc-every-second.mjs ...
if (typeof globalThis.gc === "function") setInterval(() => globalThis.gc(), 1000).unref();
