// What the two pages show the customer, as plain functions of the flow's
// state and outcome (no DOM: test/flow-view.test.ts checks them directly).
// The words for errors come from the protocol's catalogue of user messages
// (`@pushprov/protocol/messages`); the titles around them name the bank, the
// wallet and the card.
import { type UserMessageAudience, userMessage } from '@pushprov/protocol/messages';

/** How a step is drawn: done (tick), active (spinner), failed (red), stopped (grey: the user's choice), or still to come. */
export type StepMark = 'done' | 'active' | 'failed' | 'stopped' | 'pending';

/** How an ending is drawn: a success, a calm ending (the user's choice), or a failure. */
export type Tone = 'ok' | 'calm' | 'bad';

/** The bank's session states this view knows (the issuer SDK's `SessionState`). */
export type BankState = 'created' | 'invoked' | 'identified' | 'request_built' | 'delivered' | 'completed' | 'declined' | 'failed' | 'cancelled' | 'expired';

/** The names the bank's page uses. */
export interface Names {
  /** The bank, e.g. `Bank A`. */
  bank: string;
  /** The wallet, e.g. `Wallet Co`. */
  wallet: string;
  /** The card as the customer knows it, e.g. `Visa •••• 1111`. */
  card: string;
}

/** One step of the bank's progress list. */
export interface StepView {
  title: string;
  mark: StepMark;
  /** A line under the title, or '' for none. */
  note: string;
}

/** What the bank's page shows. */
export interface BankView {
  /** The line under the panel's heading, while the flow runs; '' once it ended. */
  status: string;
  steps: StepView[];
  /** The ending, once there is one. */
  result?: { tone: Tone; title: string; message: string };
  /** What the add button says. */
  button: string;
  /** A stable name of the ending, for tests and analytics. */
  outcome?: 'added' | 'already_added' | 'pending_activation' | 'activated' | 'not_confirmed' | 'declined' | 'not_now' | 'window_closed' | 'stopped' | 'failed' | 'partial';
}

/** Codes that end the flow by the user's own choice (or the app's): a calm ending, never red. */
const USER_CHOICES = new Set(['consent_denied', 'cancelled', 'channel_closed', 'aborted']);

/** How many of the four steps are done in each live state. */
const DONE: Record<string, number> = { created: 0, invoked: 1, identified: 2, request_built: 2, delivered: 3, completed: 4 };

/** Steps done when the flow was last in `state` (0 for a state that is not live). */
export const stepsDone = (state: string): number => DONE[state] ?? 0;

/** How the customer names a card: `Visa •••• 1111`. */
export function cardName(account: { network: string; last4: string }): string {
  const network = account.network === 'visa' ? 'Visa' : account.network === 'mastercard' ? 'Mastercard' : account.network;
  return `${network} •••• ${account.last4}`;
}

function steps(names: Names, done: number, end?: { mark: 'failed' | 'stopped'; note: string }): StepView[] {
  const list = [
    { title: `${names.wallet} opened`, active: `Opening ${names.wallet}…` },
    { title: `Confirmed in ${names.wallet}`, active: `${names.wallet} is asking you` },
    { title: 'Card details sent securely', active: `${names.wallet} never sees your card number` },
    { title: `Approved by ${names.bank}`, active: `${names.bank} is checking your card` },
  ];
  return list.map((step, i): StepView => {
    if (i < done) return { title: step.title, mark: 'done', note: '' };
    if (i === done && end) return { title: step.title, mark: end.mark, note: end.note };
    if (i === done && !end) return { title: step.title, mark: 'active', note: step.active };
    return { title: step.title, mark: 'pending', note: '' };
  });
}

/** The bank's page while the flow runs, in `state`. */
export function bankRunning(names: Names, state: string): BankView {
  const done = stepsDone(state);
  const status = done === 0 ? `Opening ${names.wallet}…` : done === 1 ? `Confirm in the ${names.wallet} window` : 'Adding your card…';
  return { status, steps: steps(names, done), button: `Add to ${names.wallet}` };
}

/** The bank's page once the card is in the wallet. `alreadyAdded`: the wallet already had this token. */
export function bankCompleted(names: Names, status: 'provisioned' | 'pending_activation', alreadyAdded: boolean): BankView {
  const base = { status: '', steps: steps(names, 4), button: `Add to ${names.wallet}` };
  if (alreadyAdded) {
    return { ...base, outcome: 'already_added', result: { tone: 'ok', title: `${names.card} is already in ${names.wallet}`, message: 'It was added before, so nothing changed. You can pay with it.' } };
  }
  if (status === 'pending_activation') {
    return {
      ...base,
      outcome: 'pending_activation',
      result: { tone: 'ok', title: `${names.card} is in ${names.wallet}`, message: `${names.bank} needs to finish a check before you can pay with it.` },
    };
  }
  return { ...base, outcome: 'added', result: { tone: 'ok', title: `${names.card} is in ${names.wallet}`, message: 'You can pay with it now.' } };
}

/** What the bank asks when the wallet hands it the check (the `issuer_app` method, app to app). */
export function bankConfirmPrompt(names: Names): { title: string; message: string } {
  return { title: 'Confirm it’s you', message: `${names.wallet} asks ${names.bank} to confirm it’s you before you can pay with ${names.card}. You’re signed in, so one tap does it.` };
}

/**
 * The bank's page after the customer answered the bank's check: `active`, or
 * the code of what stopped it (`consent_denied` for "Not now": calm).
 */
export function bankActivation(names: Names, outcome: { status: 'active' } | { status: 'stopped'; code: string }): BankView {
  const base = { status: '', steps: steps(names, 4), button: `Add to ${names.wallet}` };
  if (outcome.status === 'active') {
    return { ...base, outcome: 'activated', result: { tone: 'ok', title: `${names.card} is ready in ${names.wallet}`, message: 'You confirmed it’s you. You can pay with it now.' } };
  }
  if (USER_CHOICES.has(outcome.code)) {
    return {
      ...base,
      outcome: 'not_confirmed',
      result: { tone: 'calm', title: `${names.card} is in ${names.wallet}`, message: `You didn’t confirm it’s you yet. You can do it later in ${names.wallet}.` },
    };
  }
  return { ...base, outcome: 'failed', result: { tone: 'bad', title: 'We couldn’t confirm it’s you', message: userMessage(outcome.code, 'issuerApp') } };
}

/** What the wallet shows while the bank checks it's the customer in its own window or app. */
export function walletAwaitingBank(names: { card: string; bank: string }): { title: string; message: string } {
  return { title: `Confirm in ${names.bank}`, message: `We’ve asked ${names.bank} to confirm it’s you. Finish in the ${names.bank} window, and we’ll add ${names.card} as soon as they have.` };
}

/**
 * The bank's page once the flow ended without a card: `code` is the error's
 * code, `retryable` whether trying again may work, `lastState` the live state
 * the flow was in when it ended (so the step that did not happen is the one
 * marked).
 */
export function bankEnded(names: Names, code: string, retryable: boolean, lastState: string): BankView {
  const done = Math.min(stepsDone(lastState), 3);
  const message = userMessage(code, 'issuerApp');
  const button = retryable ? 'Try again' : `Add to ${names.wallet}`;
  const calm = USER_CHOICES.has(code) || (code === 'expired' && done <= 1);
  if (calm) {
    const [outcome, note, title] =
      code === 'consent_denied'
        ? (['not_now', 'You chose “Not now”', 'You chose “Not now”'] as const)
        : code === 'channel_closed'
          ? (['window_closed', 'The window was closed', `${names.card} wasn’t added`] as const)
          : (['stopped', 'Stopped', 'Nothing was added'] as const);
    return { status: '', steps: steps(names, done, { mark: 'stopped', note }), result: { tone: 'calm', title, message }, button, outcome };
  }
  if (code === 'declined') {
    return {
      status: '',
      steps: steps(names, done, { mark: 'failed', note: `${names.bank} didn’t approve it` }),
      result: { tone: 'bad', title: `${names.card} couldn’t be added`, message },
      button,
      outcome: 'declined',
    };
  }
  return {
    status: '',
    steps: steps(names, done, { mark: 'failed', note: 'This step didn’t finish' }),
    result: { tone: 'bad', title: `${names.card} wasn’t added`, message },
    button,
    outcome: 'failed',
  };
}

/** What the wallet shows when its session ended. */
export interface WalletEnding {
  tone: Tone;
  title: string;
  message: string;
  /** Whether the progress steps stay on screen (not for a "Not now": nothing started). */
  showSteps: boolean;
  outcome: 'added' | 'already_added' | 'pending_activation' | 'declined' | 'not_now' | 'stopped' | 'failed' | 'partial';
}

/** The wallet's ending: `card` names the card (`Visa •••• 1111`), `bank` the issuer. */
export function walletEnding(
  names: { card: string; bank: string; wallet: string },
  outcome: { status: string; code?: string; alreadyAdded?: boolean },
): WalletEnding {
  const audience: UserMessageAudience = 'wallet';
  if (outcome.status === 'provisioned' || outcome.status === 'pending_activation') {
    if (outcome.alreadyAdded) {
      return { tone: 'ok', title: `Already in ${names.wallet}`, message: `${names.card} was already on this device, so nothing changed.`, showSteps: true, outcome: 'already_added' };
    }
    if (outcome.status === 'pending_activation') {
      return { tone: 'ok', title: 'Card added', message: `${names.bank} needs to finish a check before you can pay with ${names.card}.`, showSteps: true, outcome: 'pending_activation' };
    }
    return { tone: 'ok', title: 'Card added', message: `${names.card} is ready to use.`, showSteps: true, outcome: 'added' };
  }
  const code = outcome.code ?? 'internal_error';
  const message = userMessage(code, audience);
  if (code === 'consent_denied') return { tone: 'calm', title: 'Not added', message, showSteps: false, outcome: 'not_now' };
  if (USER_CHOICES.has(code)) return { tone: 'calm', title: 'Stopped', message, showSteps: true, outcome: 'stopped' };
  if (code === 'declined') return { tone: 'bad', title: 'Card not added', message, showSteps: true, outcome: 'declined' };
  return { tone: 'bad', title: 'Card not added', message, showSteps: true, outcome: 'failed' };
}

/** A verification method as the wallet lists it (the token service's `VerificationMethod`). */
export interface MethodView {
  id: string;
  type: string;
  destination?: string | undefined;
  phoneNumber?: string | undefined;
}

/** How the wallet names a way to confirm it's the cardholder: `Text message to •••• 0199`. */
export function methodLabel(method: MethodView, bank: string): string {
  switch (method.type) {
    case 'otp_sms':
      return `Text message to ${method.destination ?? 'your phone'}`;
    case 'otp_email':
      return `Email to ${method.destination ?? 'your email address'}`;
    case 'customer_service':
      return `Call ${bank}`;
    default:
      return `Confirm in ${bank}`;
  }
}

/** Where the code went, for the code entry: `We sent a 6-digit code by text message to •••• 0199.` */
export function codeSentText(method: MethodView, length: number): string {
  const how = method.type === 'otp_email' ? 'by email' : 'by text message';
  return `We sent a ${length}-digit code ${how} to ${method.destination ?? 'you'}.`;
}

/** The attempts left after a wrong code, in words a customer reads calmly. */
export function triesLeftText(attemptsLeft: number): string {
  if (attemptsLeft <= 0) return 'No tries are left for this way of confirming.';
  return attemptsLeft === 1 ? '1 try left.' : `${attemptsLeft} tries left.`;
}

/** The wallet's words for a refused verification step (the catalogue's, plus the tries left for a wrong code). */
export function verificationProblem(code: string, attemptsLeft?: number): string {
  const message = userMessage(code, 'wallet');
  return code === 'verification_code_invalid' && attemptsLeft !== undefined ? `${message} ${triesLeftText(attemptsLeft)}` : message;
}

// ── Several cards in one session, and where each card is in the wallet.

/** How one card of a several-card session ended, as the bank's page lists it. */
export interface AccountOutcomeView {
  card: string;
  tone: Tone;
  /** The line under the card's name. */
  text: string;
  /** A stable name, for tests and analytics. */
  outcome: 'added' | 'pending_activation' | 'declined' | 'not_picked' | 'failed';
}

/** One card's ending in a several-card session: its status and, when it was not added, the code of why. */
export function accountOutcome(names: { bank: string; wallet: string }, card: string, status: string, errorCode?: string): AccountOutcomeView {
  if (status === 'provisioned') return { card, tone: 'ok', text: 'Added. You can pay with it now.', outcome: 'added' };
  if (status === 'pending_activation') return { card, tone: 'ok', text: `Added. ${names.bank} needs to finish a check first.`, outcome: 'pending_activation' };
  const code = errorCode ?? (status === 'declined' ? 'declined' : 'internal_error');
  if (code === 'consent_denied') return { card, tone: 'calm', text: `Not added: you didn’t choose it in ${names.wallet}.`, outcome: 'not_picked' };
  const reason = userMessage(code, 'issuerApp');
  return { card, tone: status === 'cancelled' ? 'calm' : 'bad', text: `Not added. ${reason}`, outcome: code === 'declined' ? 'declined' : 'failed' };
}

/**
 * The bank's page once a several-card session ended with a result: the
 * ending (all added, some added: "partial success is a normal result", none)
 * and each card's own line.
 */
export function bankSeveralEnded(names: Names, accounts: AccountOutcomeView[]): BankView & { accounts: AccountOutcomeView[] } {
  const added = accounts.filter((a) => a.outcome === 'added' || a.outcome === 'pending_activation').length;
  const base = { status: '', button: `Add to ${names.wallet}`, accounts };
  if (added === accounts.length) {
    return { ...base, steps: steps(names, 4), outcome: 'added', result: { tone: 'ok', title: `Your ${accounts.length} cards are in ${names.wallet}`, message: 'Each card’s status is below.' } };
  }
  if (added > 0) {
    return {
      ...base,
      steps: steps(names, 4),
      outcome: 'partial',
      result: { tone: 'ok', title: `${added} of ${accounts.length} cards added to ${names.wallet}`, message: 'Each card’s status is below.' },
    };
  }
  const calm = accounts.every((a) => a.tone === 'calm');
  return {
    ...base,
    steps: steps(names, 3, { mark: calm ? 'stopped' : 'failed', note: calm ? 'Nothing was chosen' : `${names.bank} didn’t approve them` }),
    outcome: calm ? 'not_now' : 'declined',
    result: { tone: calm ? 'calm' : 'bad', title: 'No card was added', message: 'Each card’s status is below.' },
  };
}

/** Where a card is in the wallet (`AccountState` per device group). */
export interface WalletPlace {
  thisDevice: string;
  otherDevices: string;
}

const STATE_WORDS: Record<string, string> = {
  added: 'ready to pay',
  needs_activation: 'waiting for you to confirm it’s you',
  activating: 'being confirmed',
  suspended: 'paused',
};

/**
 * What the bank's wallet panel says of one card, and whether its "Add"
 * button is shown: only where adding would help, that is where the card is
 * not on this device (another device does not count: adding it here helps).
 */
export function walletPlaceView(place: WalletPlace, wallet: string): { text: string; add: string | undefined; tone: 'added' | 'other' | 'none' } {
  const here = place.thisDevice !== 'not_added';
  const there = place.otherDevices !== 'not_added';
  if (here) {
    const words = STATE_WORDS[place.thisDevice] ?? place.thisDevice;
    return { text: `In ${wallet} on this device, ${words}${there ? ', and on another device' : ''}`, add: undefined, tone: 'added' };
  }
  if (there) return { text: `In ${wallet} on another device, ${STATE_WORDS[place.otherDevices] ?? place.otherDevices}`, add: 'Add to this device', tone: 'other' };
  return { text: `Not in ${wallet}`, add: 'Add', tone: 'none' };
}

/** What the wallet shows next to a card it is offered, from its own state (`undefined`: unknown). */
export function walletStateLine(state: WalletPlace | undefined): string {
  if (!state) return '';
  if (state.thisDevice !== 'not_added') return 'Already on this device';
  if (state.otherDevices !== 'not_added') return 'On another of your devices';
  return 'Not in your wallet yet';
}
