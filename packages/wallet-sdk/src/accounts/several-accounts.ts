import { type AccountHint, type ErrorCode, accountStatuses, createError } from '@pushprov/protocol';
import { type SeveralAccounts, denied, shortStep } from '../wallet/run-session.js';

export type { SeveralAccounts } from '../wallet/run-session.js';

/**
 * Several cards in one session (spec 4.1 to 4.4), for
 * `createWallet({ …, accounts: severalAccounts() })`. Without it the wallet
 * takes one card per session and refuses an invocation that offers
 * `accounts` (`rejected`, `invalid_message`). With it:
 *
 * - the consent prompt lists every card (`prompt.accounts`), each with its
 *   `state` in this wallet account (`thisDevice`, `otherDevices`) when the
 *   token service client has `queryTokens` and every card has an
 *   `accountId` (best effort: any failure, or no answer within 5 s, leaves
 *   the states out);
 * - the consent handler may answer `{ accountIds }`, a non-empty subset of
 *   the offered ids (any other pick fails the session `invalid_message`);
 *   the cards not picked end `cancelled` with `consent_denied`;
 * - the identifiers carry the picked `accountIds`; the issuer's request
 *   message must name exactly those cards (`invalid_message` otherwise);
 *   its refusals end their cards (`failed`, or `declined`, with the
 *   refusal's code), and each request is submitted in turn with its own
 *   idempotency key, its access data checked against its own card;
 * - the result lists every offered card in `accounts`, and the outcome's
 *   `status` is their `summarizeStatus` (one added and one declined is
 *   `provisioned`; `outcome.accounts` tells each).
 *
 * @example
 * ```ts
 * import { severalAccounts } from '@pushprov/wallet-sdk/accounts';
 * const wallet = createWallet({ identity, consent, tokenService, tokenStore, trustedIssuers, accounts: severalAccounts() });
 * ```
 */
export function severalAccounts(): SeveralAccounts {
  return {
    async states(accounts, issuerId, tokenService, who) {
      if (!tokenService.queryTokens || !accounts.every((a) => a.accountId)) return;
      try {
        const { walletAccountId, deviceId } = await shortStep(who);
        const { tokens } = await shortStep(() =>
          tokenService.queryTokens!({ type: 'token-query', version: 1, walletAccountId, issuerId, accountIds: accounts.map((a) => a.accountId!) }),
        );
        // Live tokens only come back (spec 4.21); split by device, each side by the precedence of accountStateOf.
        const statuses = accountStatuses(accounts.map((a) => a.accountId!), tokens, deviceId);
        accounts.forEach((account, i) => {
          const { thisDevice, otherDevices } = statuses[i]!;
          account.state = { thisDevice, otherDevices };
        });
      } catch {
        // No states: the prompt shows the cards without them.
      }
    },

    pick(answer, hints) {
      if (answer === true) return hints;
      const ids = (answer as { accountIds?: unknown } | null)?.accountIds;
      if (!answer || ids === undefined) return denied();
      const picked = hints.filter((h) => (ids as unknown[]).includes(h.accountId));
      if (!Array.isArray(ids) || !ids.length || new Set(ids).size !== ids.length || picked.length !== ids.length) {
        throw createError('invalid_message', 'The consent answer must pick offered cards, each once');
      }
      return picked;
    },

    requests(request, hints, picked, refuse) {
      const { encryptedRequest, requests = [], refusals = [] } = request;
      const named = [...requests, ...refusals].map((r) => r.accountId);
      if (encryptedRequest !== undefined || named.length !== picked.length || !picked.every((h) => named.includes(h.accountId!))) {
        throw createError('invalid_message', 'The provisioning request does not name exactly the picked cards');
      }
      const indexOf = (accountId: string) => hints.findIndex((h: AccountHint) => h.accountId === accountId);
      for (const r of refusals) refuse(indexOf(r.accountId), createError(r.errorCode as ErrorCode, 'The issuer refused this card'));
      return requests.map((r) => [indexOf(r.accountId), r.encryptedRequest]);
    },
  };
}
