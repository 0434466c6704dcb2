// Runs the browser example's TypeScript source in this very process (no
// wrapper process: Ctrl-C reaches the server, which stops cleanly). Run with
// `node --conditions=source`, so the workspace packages resolve to their
// source too; `pnpm example:browser` does.
process.env.TSX_DISABLE_CACHE = '1'; // compile in memory: write nothing to disk
const { register } = await import('tsx/esm/api');
register();
await import('../src/main.ts');
