import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ledger } from './ledger.core.js';
import { availableBalance, TransferFlags, type Account } from './ledger.types.js';
import { interpretOps, ledgerOpArbitrary, scenario } from './testing/ledger-ops.js';

const START = new Date('2026-03-01T00:00:00Z');

function snapshot(ledger: Ledger): Map<string, Account> {
  return new Map([...ledger.state.accounts].map(([id, account]) => [id, { ...account }]));
}

describe('ledger core properties', () => {
  it('keeps every invariant over random operation sequences', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(ledgerOpArbitrary(), { minLength: 20, maxLength: 80 }), (ops) => {
        const sc = scenario('prop');
        const ledger = new Ledger();
        ledger.createAccounts(sc.accounts, START);
        const resolvedHolds = new Set<string>();
        for (const step of interpretOps('prop', sc, ops, START)) {
          if (step.kind === 'expire') {
            for (const id of ledger.expirePendingTransfers(step.now)) {
              expect(resolvedHolds.has(id)).toBe(false);
              resolvedHolds.add(id);
            }
          } else {
            const before = snapshot(ledger);
            const transfersBefore = ledger.state.transfers.size;
            const outcomes = ledger.createTransfers(step.inputs, step.now);
            for (const o of outcomes) {
              const key = `${step.inputs[o.index]!.code}:${o.result}`;
              seen.set(key, (seen.get(key) ?? 0) + 1);
            }
            expect(outcomes).toHaveLength(step.inputs.length);
            const applied = outcomes.filter((o) => o.result === 'ok').length;
            expect(ledger.state.transfers.size).toBe(transfersBefore + applied);
            // A batch that applied nothing new changed no balance (failed chains leave no trace, retries are no-ops).
            if (applied === 0) expect(snapshot(ledger)).toEqual(before);
            outcomes.forEach((o, i) => {
              const input = step.inputs[i]!;
              if (o.result === 'ok' && input.pendingId) {
                // A hold is resolved once: a successful post/void of an already-resolved hold would break this.
                expect(resolvedHolds.has(input.pendingId)).toBe(false);
                resolvedHolds.add(input.pendingId);
              }
            });
          }
          expect(ledger.checkInvariants()).toEqual([]);
          for (const org of sc.orgIds) {
            const available = ledger.lookupAccount(sc.accounts.find((a) => a.kind === 'org_available' && a.ownerId === org)!.id)!;
            expect(availableBalance(available) >= 0n).toBe(true);
            const held = ledger.lookupAccount(sc.accounts.find((a) => a.kind === 'org_held' && a.ownerId === org)!.id)!;
            const openHolds = [...ledger.state.transfers.values()]
              .filter((t) => (t.flags & TransferFlags.pending) !== 0 && t.creditAccountId === held.id && ledger.pendingStatus(t.id) === 'pending')
              .reduce((sum, t) => sum + t.amount, 0n);
            expect(held.creditsPending).toBe(openHolds);
          }
        }
      }),
      { numRuns: 150 },
    );
    // The generator must reach the interesting paths, or the property proves little.
    for (const key of ['hold:ok', 'charge:ok', 'release:ok', 'provider_share:ok', 'platform_fee:ok', 'transfer:insufficient_funds', 'charge:pending_already_resolved', 'transfer:linked_event_failed', 'hold:exists', 'transfer:exists_with_different_fields']) {
      expect(seen.get(key) ?? 0, key).toBeGreaterThan(0);
    }
  });

  it('is deterministic: the same operations give the same results and balances', () => {
    fc.assert(
      fc.property(fc.array(ledgerOpArbitrary(), { minLength: 1, maxLength: 40 }), (ops) => {
        const run = () => {
          const sc = scenario('det');
          const ledger = new Ledger();
          ledger.createAccounts(sc.accounts, START);
          const results = interpretOps('det', sc, ops, START).map((step) =>
            step.kind === 'expire' ? ledger.expirePendingTransfers(step.now) : ledger.createTransfers(step.inputs, step.now).map((o) => o.result),
          );
          return { results, accounts: snapshot(ledger) };
        };
        expect(run()).toEqual(run());
      }),
      { numRuns: 50 },
    );
  });
});
