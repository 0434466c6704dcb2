// Sandbox mode (`token-service start --sandbox`, `createTokenService(…, { sandbox: true })`):
// test cards that pick the path by card number, as Stripe's test cards do,
// and a one-time code sender that keeps the codes in memory for a developer
// to read (`GET /sandbox/inbox`). Never for production: the codes are in the
// clear in this process's memory.
import type { Clock, VerificationMethod } from '@pushprov/protocol';
import type { Decision, IssuerConfig } from '../config/parse-config.js';
import { type DecisionResult, type VerificationCodeSender, decideByRules } from '../service/hooks.js';

/** One sandbox test card. The path is picked by the last four digits, whatever the issuer's BIN range. */
export interface SandboxCard {
  /** An example PAN in the sandbox range 4000 0000 (any PAN of the issuer's ranges ending in `last4` works the same). */
  pan: string;
  last4: string;
  /** What happens: the decision, or `not_eligible` (refused at step 14 with `card_not_eligible`). */
  outcome: Decision | 'not_eligible';
  /** The methods of a `step_up`. */
  methods?: readonly VerificationMethod[];
  /** The sandbox sender delivers a wrong code for this card's OTP method: every code typed is `verification_code_invalid`. */
  alwaysWrongCode?: boolean;
  description: string;
}

const SMS: VerificationMethod = { id: 'sms', type: 'otp_sms', destination: '•••• 0199' };
const EMAIL: VerificationMethod = { id: 'email', type: 'otp_email', destination: 'a•••@example.com' };
const APP: VerificationMethod = { id: 'app', type: 'issuer_app' };
const CALL: VerificationMethod = { id: 'call', type: 'customer_service', phoneNumber: '+44 20 7946 0000' };
/** The method id of the card whose code is always wrong. */
export const ALWAYS_WRONG_METHOD_ID = 'sms-always-wrong';

/**
 * The sandbox test cards (docs/token-service-guide.md, "Sandbox test
 * cards"). A card's own issuer rules (`decision.byLast4`) win over these.
 *
 * @example
 * ```ts
 * SANDBOX_CARDS.find((c) => c.last4 === '0028')?.methods; // [{ id: 'sms', type: 'otp_sms', destination: '•••• 0199' }]
 * ```
 */
export const SANDBOX_CARDS: readonly SandboxCard[] = Object.freeze([
  { pan: '4000000000000010', last4: '0010', outcome: 'approve', description: 'approved: the token is active' },
  { pan: '4000000000000002', last4: '0002', outcome: 'decline', description: 'declined by the issuer' },
  { pan: '4000000000000028', last4: '0028', outcome: 'step_up', methods: [SMS], description: 'step-up: a code by SMS' },
  { pan: '4000000000000036', last4: '0036', outcome: 'step_up', methods: [EMAIL], description: 'step-up: a code by e-mail' },
  { pan: '4000000000000044', last4: '0044', outcome: 'step_up', methods: [APP], description: "step-up: the issuer's app" },
  { pan: '4000000000000051', last4: '0051', outcome: 'step_up', methods: [CALL], description: 'step-up: customer service' },
  { pan: '4000000000000069', last4: '0069', outcome: 'step_up', methods: [SMS, EMAIL, APP, CALL], description: 'step-up: every method' },
  {
    pan: '4000000000000077',
    last4: '0077',
    outcome: 'step_up',
    methods: [{ ...SMS, id: ALWAYS_WRONG_METHOD_ID }],
    alwaysWrongCode: true,
    description: 'step-up by SMS whose code is always wrong (verification_code_invalid, then verification_attempts_exhausted)',
  },
  { pan: '4000000000000085', last4: '0085', outcome: 'not_eligible', description: 'not eligible (card_not_eligible)' },
] satisfies SandboxCard[]);

/** One code the sandbox sender "delivered". */
export interface SandboxInboxMessage {
  tokenReferenceId: string;
  methodId: string;
  type: VerificationMethod['type'];
  destination?: string | undefined;
  /** The code as delivered (for the always-wrong card, a wrong one). */
  code: string;
  /** NumericDate. */
  sentAt: number;
}

/** Sandbox mode's parts: the decisions of the test cards, the in-memory code sender and its inbox. */
export interface Sandbox {
  /** The decision without a decision hook: the issuer's own `byLast4` rule, else the test card's, else the issuer's default. */
  decide(issuer: Pick<IssuerConfig, 'decision'>, panLast4: string): Decision | DecisionResult;
  /** True for the not-eligible test card. */
  notEligible(panLast4: string): boolean;
  /** Keeps each code in memory (at most 1 000 in all, the oldest dropped). */
  readonly sendVerificationCode: VerificationCodeSender;
  /** The codes sent for a token, oldest first. */
  inbox(tokenReferenceId: string): SandboxInboxMessage[];
}

const MAX_MESSAGES = 1000;
const shift = (code: string): string => code.replace(/[0-9]/g, (d) => String((Number(d) + 1) % 10));

/**
 * Creates sandbox mode's parts.
 *
 * @example
 * ```ts
 * const service = createTokenService(config, store, { sandbox: true }); // uses createSandbox inside
 * ```
 */
export function createSandbox(clock: Clock): Sandbox {
  const byLast4 = new Map(SANDBOX_CARDS.map((c) => [c.last4, c]));
  const messages: SandboxInboxMessage[] = [];
  return {
    decide(issuer, panLast4) {
      if (Object.prototype.hasOwnProperty.call(issuer.decision.byLast4, panLast4)) return decideByRules(issuer, panLast4);
      const card = byLast4.get(panLast4);
      if (!card || card.outcome === 'not_eligible') return decideByRules(issuer, panLast4);
      return card.outcome === 'step_up' ? { decision: 'step_up', methods: structuredClone([...(card.methods ?? [])]) } : card.outcome;
    },
    notEligible: (panLast4) => byLast4.get(panLast4)?.outcome === 'not_eligible',
    sendVerificationCode({ tokenReferenceId, method, code }) {
      messages.push({
        tokenReferenceId,
        methodId: method.id,
        type: method.type,
        ...(method.destination === undefined ? {} : { destination: method.destination }),
        code: method.id === ALWAYS_WRONG_METHOD_ID ? shift(code) : code,
        sentAt: Math.floor(clock.now() / 1000),
      });
      if (messages.length > MAX_MESSAGES) messages.splice(0, messages.length - MAX_MESSAGES);
    },
    inbox: (tokenReferenceId) => messages.filter((m) => m.tokenReferenceId === tokenReferenceId).map((m) => ({ ...m })),
  };
}
