/*
 * tap's processinfo adds NODE_OPTIONS and _TAPJS_* variables to every process a test spawns
 * (through process-on-spawn's hook of ChildProcess#spawn), even with an explicit env. That
 * leaks into every process the daemon starts (sbatch, squeue, the supervisors), and into
 * whatever a test then checks exactly. Production has no such hook; tests that start masters
 * import this module to switch it off.
 */
const spawnHook = (globalThis as Record<symbol, { listeners?: unknown[] } | undefined>)[Symbol.for('process-on-spawn@*:singletonId')];
if (spawnHook?.listeners) spawnHook.listeners.length = 0;

export {};
