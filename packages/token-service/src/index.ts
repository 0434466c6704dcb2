/**
 * The reference token service of device push provisioning: the validation
 * pipeline, issuance, the PAN vault, storage (memory, SQLite and
 * PostgreSQL), the HTTP API as a Fetch handler, configuration and key
 * generation. Node only. The runnable server is in the `./server` subpath;
 * the CLI is `token-service`. The SQLite and PostgreSQL drivers
 * (`better-sqlite3`, `pg`) are optional peer dependencies, loaded when their
 * store is opened: install the one you use.
 *
 * @packageDocumentation
 * @module @pushprov/token-service
 */
export {
  createTokenService,
  DEFAULT_IDEMPOTENCY_LEASE_MS,
  type TokenService,
  type TokenServiceOptions,
  type PublicTokenServiceConfig,
  type SubmitInput,
  type SubmitResult,
} from './service/create-token-service.js';
export { refusalSticks } from './provisioning/pipeline.js';
export {
  RateLimitedError,
  walletProviderLimitKey,
  issuerLimitKey,
  cardLimitKey,
  MINUTE_MS,
  DAY_MS,
} from './ratelimit/rate-limits.js';
export { PROVISIONING_STEPS, type ProvisioningStep } from './provisioning/steps.js';
export {
  INSPECTION_STEP_NAMES,
  type InspectionReport,
  type InspectionStep,
  type InspectionStepStatus,
  type InspectSubmissionInput,
  type BindingRow,
  type RecordedRequestInfo,
} from './inspector/inspect-submission.js';
export { RecentRequests, RECENT_REQUESTS_CAPACITY, mergeRecordedAnswer, type RecentRequest } from './inspector/recent-requests.js';
export { INSPECTOR_PATH } from './inspector/sandbox-routes.js';
export { TROUBLESHOOTING_URL } from './inspector/inspector-page.js';
export {
  decideByRules,
  type DecisionHook,
  type DecisionResult,
  type VerificationCodeSender,
  type VerificationCodeContext,
  type DecisionContext,
  type AccountResolver,
  type AccountResolutionContext,
} from './service/hooks.js';
export { createTokenServiceApp, type TokenServiceApp, type TokenServiceAppOptions } from './http/create-app.js';
export { toProblemDetails, toProblemResponse } from './http/problem-response.js';
export { readBodyWithLimit } from './http/read-body.js';
export { SANDBOX_CARDS, ALWAYS_WRONG_METHOD_ID, createSandbox, type Sandbox, type SandboxCard, type SandboxInboxMessage } from './sandbox/sandbox.js';
export { generateVerificationCode, VerificationCooldownError } from './activation/otp.js';
export { type ActivationResult, type WalletActivationInput, type IssuerActivationInput, issuerIdempotencyScope } from './activation/activation.js';
export { createIssuerAuthenticator, issuerAssertionReplayKey, type AuthenticatedIssuer, type IssuerAuthenticator } from './auth/issuer-authenticator.js';
export {
  createAuthenticator,
  assertionReplayKey,
  type AuthenticatedCaller,
  type Authenticator,
} from './auth/create-authenticator.js';
export {
  parseConfig,
  loadConfig,
  ConfigError,
  KEK_ENV,
  FINGERPRINT_KEY_ENV,
  ALLOW_LOOSE_KEY_FILE_ENV,
  type TokenServiceConfig,
  type IssuerConfig,
  type WalletProviderConfig,
  type VaultKeysConfig,
  type Decision,
  type ParseConfigOptions,
  DEFAULT_VERIFICATION_METHODS,
} from './config/parse-config.js';
export { zTokenServiceConfigInput, zKeySet, type TokenServiceConfigInput, type KeySet, type PrivateEncryptionJwk } from './config/z-config.js';
export { issuerAccepts, checkIssuerAccepts } from './config/issuer-accepts.js';
export { generateKeySet, type GenerateKeySetOptions } from './keys/generate-key-set.js';
export { checkStoreKeys, FINGERPRINT_CHECK_META } from './vault/store-keys.js';
export { rotateVault, countVaultKeys, type RotateVaultResult, type VaultKeyCounts } from './vault/rotate-vault.js';
export { createVaultCipherFromConfig, effectiveFingerprintKey, sealedKeyId } from './vault/vault-cipher.js';
export { createVaultCipher, deriveFingerprintKey, type VaultCipher, type VaultKey, type SealPurpose } from './vault/vault-cipher.js';
export {
  createTokenNumber,
  randomDigitsOf,
  randomDigitsNeeded,
  TOKEN_RANGE_HEADROOM,
  DEFAULT_TOKEN_CAPACITY,
  type TokenRange,
} from './issuance/create-token-number.js';
export { computeTokenExpiry } from './issuance/token-expiry.js';
export { createMemoryStore } from './store/memory/memory-store.js';
export { openSqliteStore, readSqliteVersion, SQLITE_SCHEMA_VERSION, type SqliteStoreOptions } from './store/sqlite/sqlite-store.js';
export { openStore, migrateStore, isPostgresUrl, type OpenStoreOptions } from './store/open-store.js';
export {
  openPostgresStore,
  migratePostgres,
  POSTGRES_SCHEMA_VERSION,
  type PostgresStoreOptions,
  type MigratePostgresOptions,
} from './store/postgres/postgres-store.js';
export type { PostgresConnectionConfig } from './store/postgres/pg-connection.js';
export { StoreDriverMissingError, type StoreDriverPackage } from './store/load-driver.js';
export type {
  TokenServiceStore,
  TokenRecordStore,
  VaultStore,
  ReplayCache,
  IdempotencyStore,
  TokenRecord,
  LiveTokenQuery,
  LiveToken,
  VaultRecord,
  ReplayRecord,
  IdempotencyRecord,
  IdempotencyBeginInput,
  IdempotencyBeginOutcome,
  ProvisionedCardQuery,
  CommitInput,
  CommitOutcome,
  RefusalInput,
  PurgeResult,
  StoreMetadata,
  SealedTable,
  SealedValue,
  SealedValueUpdate,
  SealedListOptions,
  SealedValueStore,
  VerificationStore,
  VerificationCodeRecord,
  VerificationIssueInput,
  VerificationIssueOutcome,
  VerificationAttemptOutcome,
  VerificationActivateInput,
  VerificationActivateOutcome,
  RateLimitStore,
  RateLimitHitInput,
  RateLimitHitOutcome,
} from './store/types.js';
export { SEALED_TABLES } from './store/types.js';
export {
  createJsonLogger,
  createPinoLogger,
  silentLogger,
  LOG_LEVELS,
  REDACTED_LOG_FIELDS,
  type Logger,
  type LogEvent,
  type LogValue,
  type LogLevel,
  type PinoLoggerOptions,
  type TokenServiceLogger,
} from './log/logger.js';
export {
  createTokenServiceMetrics,
  METRICS_PREFIX,
  type TokenServiceMetrics,
  type TokenServiceMetricsOptions,
  type ProvisioningOutcomeKind,
} from './observability/metrics.js';
export { startMetricsListener, type MetricsListener, type MetricsSetting } from './observability/metrics-server.js';
export { instrumentStore } from './observability/instrument.js';
export { TRACER_NAME } from './observability/tracing.js';
export { acceptCorrelationId, CORRELATION_ID_HEADER } from './observability/http.js';
export { runWithTimeout } from './lib/run-with-timeout.js';
export { checkIdempotencyKey } from './lib/idempotency-key.js';
