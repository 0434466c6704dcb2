import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

/** Every symbol the entry exports, with whether its declaration has a doc comment and an @example. */
function exportedDocs(): { name: string; documented: boolean; example: boolean }[] {
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    customConditions: ['source'],
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  return checker.getExportsOfModule(module).map((exported) => {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const documented = symbol.getDocumentationComment(checker).length > 0;
    const example = symbol.getJsDocTags(checker).some((tag) => tag.name === 'example');
    return { name: exported.getName(), documented, example };
  });
}

describe('public API', () => {
  it('documents every exported symbol with a doc comment and an @example', () => {
    const docs = exportedDocs();
    expect(docs.length).toBeGreaterThan(30);
    expect(docs.filter((d) => !d.documented || !d.example).map((d) => d.name)).toEqual([]);
  });

  it('exports exactly the documented runtime values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'OpenerIssuerChannel',
      'createHttpTokenServiceClient',
      'createMemorySeenSessionStore',
      'createMemoryTokenStore',
      'createOpenerIssuerChannel',
      'createWallet',
    ]);
  });
});
