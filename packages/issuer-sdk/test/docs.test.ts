import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ENTRIES = ['index', 'activation', 'local', 'offer', 'server', 'status'];

/** Every symbol an entry exports, with whether it has a doc comment and an @example. */
function publicSymbols(): Array<{ entry: string; name: string; documented: boolean; example: boolean }> {
  const files = ENTRIES.map((e) => fileURLToPath(new URL(`../src/${e}.ts`, import.meta.url)));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    customConditions: ['source'],
    strict: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const out: Array<{ entry: string; name: string; documented: boolean; example: boolean }> = [];
  files.forEach((file, i) => {
    const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const documented = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim().length > 0;
      const example = symbol.getJsDocTags(checker).some((tag) => tag.name === 'example');
      out.push({ entry: ENTRIES[i]!, name: exported.name, documented, example });
    }
  });
  return out;
}

describe('public API documentation', () => {
  it('every exported symbol of every entry has a doc comment with an @example', () => {
    const symbols = publicSymbols();
    expect(symbols.length).toBeGreaterThan(40);
    const missing = symbols.filter((s) => !s.documented || !s.example).map((s) => `${s.entry}:${s.name}${s.documented ? '' : ' (no doc)'}`);
    expect(missing).toEqual([]);
  });
});
