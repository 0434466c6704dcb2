/**
 * The pushprov conformance runner as a library: the same suites as the
 * `pushprov-conformance` command, returning reports.
 *
 * @packageDocumentation
 * @module @pushprov/conformance
 */
export { runTokenServiceConformance, type TokenServiceRunOptions } from './token-service/suite.js';
export { RECIPES, NOT_RESEALABLE, ineligiblePan, type Recipe, type RecipeKit, type ResealedRequest } from './token-service/resealed-vectors.js';
export {
  zTokenServiceProfile,
  zIssuerBackendProfile,
  parseTokenServiceProfile,
  parseIssuerBackendProfile,
  ProfileError,
  type TokenServiceProfile,
  type TokenServiceProfileInput,
  type IssuerBackendProfile,
  type IssuerBackendProfileInput,
} from './profile.js';
export { type CaseResult, type CaseStatus, type Report, type SuiteName, DEFAULT_DOCS_BASE, formatJson, formatJunit, formatTable, makeReport, troubleshootingLink } from './report.js';
export { DEFAULT_TIMEOUT_MS, createOriginClient, type OriginClient, type HttpAnswer, type HttpRequest } from './lib/http.js';
export { loadVectors, defaultVectorsPath, VECTOR_KINDS, type VectorCase, type VectorFile, type VectorKind, type Expected } from './vectors/load.js';
export { runIssuerBackendConformance, serveJwks, type IssuerBackendRunOptions, type ServedJwks } from './issuer-backend/suite.js';
export { runVectorConformance, compareOutcome, splitCommand, type VectorRunOptions } from './vectors/suite.js';
export { runVectorCase, type AdapterCase, type AdapterOutcome } from './vectors/run-vector.js';
export { serveAdapter } from './vectors/serve-adapter.js';
