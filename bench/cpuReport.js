// Preloaded into H2's short-lived processes (`node --import bench/cpuReport.js ...`): at exit, one stderr line
// `{"cpuReport":{cpuMs,maxRssKiB}}` with the process's own CPU time (user + system, all threads) and peak RSS,
// figures a busy machine disturbs far less than wall time. Every process measured, `node -e 0` too, loads it.
process.on('exit', () => {
  const usage = process.resourceUsage();
  process.stderr.write(`${JSON.stringify({ cpuReport: { cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, maxRssKiB: usage.maxRSS } })}\n`);
});
