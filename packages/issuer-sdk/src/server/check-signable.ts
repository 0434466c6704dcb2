import { AuthError, type Clock, ExpiryError, epochSeconds } from '@pushprov/protocol';

/** What {@link checkSignable} holds a message to before the backend signs it. */
export interface SignableRules {
  /** The message, in errors: `invocation`, `status query`. */
  what: string;
  maxLifetimeSeconds: number;
  skewSeconds: number;
  clock: Clock;
  /** The only `replyTo` URLs signed; unset: any. */
  allowedReplyTo: readonly string[] | undefined;
}

/**
 * The checks the issuer backend makes of an app's message before it signs
 * it (an invocation, a status query): a short lifetime (`lifetime_exceeded`),
 * not issued in the future (`not_yet_valid`), not expired (`expired`), and,
 * with `allowedReplyTo`, an allowed `replyTo` (`forbidden`).
 */
export function checkSignable(message: { iat: number; exp: number; replyTo?: string | undefined }, rules: SignableRules): void {
  const { what, maxLifetimeSeconds } = rules;
  const now = epochSeconds(rules.clock);
  const lifetime = message.exp - message.iat;
  if (lifetime <= 0 || lifetime > maxLifetimeSeconds) {
    throw new ExpiryError('lifetime_exceeded', `The ${what} lifetime must be between 1 and ${maxLifetimeSeconds} seconds`);
  }
  if (message.iat - rules.skewSeconds > now) throw new ExpiryError('not_yet_valid', `The ${what} was issued in the future`);
  if (now >= message.exp) throw new ExpiryError('expired', `The ${what} has expired`);
  if (rules.allowedReplyTo !== undefined && message.replyTo !== undefined && !rules.allowedReplyTo.includes(message.replyTo)) {
    throw new AuthError('forbidden', `The ${what} replyTo is not allowed`);
  }
}
