import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as accounts from '../src/accounts.js';
import * as activation from '../src/activation.js';
import * as browser from '../src/browser.js';
import * as http from '../src/http.js';
import * as initiate from '../src/initiate.js';
import * as api from '../src/index.js';
import * as notifications from '../src/notifications.js';
import * as status from '../src/status.js';

const ENTRIES = ['index', 'accounts', 'activation', 'browser', 'http', 'initiate', 'notifications', 'status'] as const;

type ExportedDoc = { entry: string; name: string; documented: boolean; example: boolean };
let cached: ExportedDoc[] | undefined;

/** Every symbol each entry exports, with whether its declaration has a doc comment and an @example. */
function exportedDocs(): ExportedDoc[] {
  if (cached) return cached;
  const files = ENTRIES.map((e) => fileURLToPath(new URL(`../src/${e}.ts`, import.meta.url)));
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    customConditions: ['source'],
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  cached = files.flatMap((file, i) => {
    const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
    return checker.getExportsOfModule(module).map((exported) => {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const documented = symbol.getDocumentationComment(checker).length > 0;
      const example = symbol.getJsDocTags(checker).some((tag) => tag.name === 'example');
      return { entry: ENTRIES[i]!, name: exported.getName(), documented, example };
    });
  });
  return cached;
}

describe('public API', () => {
  it('documents every exported symbol of every entry with a doc comment and an @example', () => {
    const docs = exportedDocs();
    expect(docs.length).toBeGreaterThan(30);
    expect(docs.filter((d) => !d.documented || !d.example).map((d) => `${d.entry}:${d.name}`)).toEqual([]);
  });

  it('exports exactly the documented runtime values from each entry', () => {
    expect(Object.keys(api).sort()).toEqual(['createMemorySeenSessionStore', 'createMemoryTokenStore', 'createWallet']);
    expect(Object.keys(http).sort()).toEqual(['createHttpTokenServiceClient']);
    expect(Object.keys(activation).sort()).toEqual(['createActivations']);
    expect(Object.keys(browser).sort()).toEqual(['OpenerIssuerChannel', 'createOpenerIssuerChannel']);
    expect(Object.keys(status).sort()).toEqual(['createStatusResponder']);
    expect(Object.keys(accounts).sort()).toEqual(['severalAccounts']);
    expect(Object.keys(initiate).sort()).toEqual(['requestAccounts']);
    expect(Object.keys(notifications).sort()).toEqual(['createMemoryNotificationDedupStore', 'createNotificationHandler', 'createRemoteJwks', 'verifyNotification']);
  });

  it('keeps the transports out of the main entry: the token service client is an interface there', () => {
    const main = exportedDocs().filter((d) => d.entry === 'index').map((d) => d.name);
    expect(main).toContain('TokenServiceClient');
    expect(main).not.toContain('createHttpTokenServiceClient');
    expect(main).not.toContain('createOpenerIssuerChannel');
    expect(main).not.toContain('verifyNotification');
    expect(main).not.toContain('createNotificationHandler');
    expect(main).not.toContain('createStatusResponder');
    expect(main).not.toContain('requestAccounts');
    expect(main).not.toContain('severalAccounts');
  });
});
