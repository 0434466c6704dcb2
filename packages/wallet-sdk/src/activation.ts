/**
 * The yellow path on the wallet side: a token the issuer issued
 * `pending_activation` becomes active once its cardholder is verified, by a
 * one-time code (SMS, e-mail), in the bank's app, or by the bank's customer
 * service. A separate entry, so a wallet that never meets it does not ship it.
 *
 * @packageDocumentation
 * @module @pushprov/wallet-sdk/activation
 */
export { createActivations, type Activations, type ActivationsOptions } from './activation/create-activations.js';
export type {
  ActivationCallOptions,
  ActivationEvent,
  ActivationSnapshot,
  ActivationState,
  IssuerAppOpener,
  IssuerChannelProvider,
  PendingActivation,
  SentCode,
  WaitUntilActiveOptions,
} from './activation/types.js';
