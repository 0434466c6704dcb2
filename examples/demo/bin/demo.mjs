// Runs the demo's TypeScript source in this very process (no wrapper
// process: Ctrl-C reaches the demo, which then stops its servers and removes
// its folder). Run with `node --conditions=source`, so the workspace
// packages resolve to their source too; `pnpm demo` does.
process.env.TSX_DISABLE_CACHE = '1'; // compile in memory: write nothing to disk
const { register } = await import('tsx/esm/api');
register();
await import('../src/main.ts');
