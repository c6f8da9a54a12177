// Preloaded into H3's servers (`node --expose-gc --import bench/memoryProbe.js ...`): on SIGUSR2, a full GC
// and one stderr line `{"probe":{rss,heapTotal,heapUsed,external,arrayBuffers}}`. Does nothing until asked.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
  process.stderr.write(`${JSON.stringify({ probe: process.memoryUsage() })}\n`);
});
