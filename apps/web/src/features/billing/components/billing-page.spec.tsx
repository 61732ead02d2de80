import { cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, renderWithApi } from '../../../test-utils.js';
import { BillingPage } from './billing-page.js';

afterEach(cleanup);

const money = (micros: string) => ({ micros, usd: 'ignored' });

describe('BillingPage', () => {
  it('shows the balance from micro-dollars, tops up with an idempotency key, completes the test payment and refreshes', async () => {
    let paid = false;
    const { requests } = renderWithApi(<BillingPage />, (url, init) => {
      if (url === '/v1/billing/balance') return json(200, { orgId: 'o', currency: 'usd', available: money(paid ? '25000000' : '0'), held: money('1150000'), total: money(paid ? '26150000' : '1150000') });
      if (url.startsWith('/v1/billing/transactions'))
        return json(200, {
          lines: paid
            ? [{ id: 't1', cursor: '1', timestamp: '2026-11-22T08:00:00Z', type: 'top_up', description: 'Top-up (payment pay_1)', direction: 'credit', amount: money('25000000'), signedAmount: money('25000000'), holdStatus: null, jobId: null, usage: null }]
            : [],
          nextCursor: null,
        });
      if (url === '/v1/billing/invoices') return json(200, { invoices: [] });
      if (url === '/v1/billing/top-ups' && init.method === 'POST')
        return json(201, { id: 'tu1', status: 'pending', amount: money('25000000'), processor: 'test', paymentId: 'pay_1', checkoutUrl: null, simulatePaymentUrl: '/v1/billing/top-ups/tu1/simulate-payment', createdAt: '', completedAt: null });
      if (url === '/v1/billing/top-ups/tu1/simulate-payment') {
        paid = true;
        return json(200, { delivery: { status: 200 }, topUp: { id: 'tu1', status: 'succeeded', amount: money('25000000'), processor: 'test', paymentId: 'pay_1', checkoutUrl: null, simulatePaymentUrl: null, createdAt: '', completedAt: '' } });
      }
      return undefined;
    });
    expect((await screen.findByTestId('balance-available')).textContent).toBe('$0.00');
    expect(screen.getByText('No transactions yet')).toBeTruthy();

    fireEvent.change(screen.getByLabelText('Amount (USD)'), { target: { value: '25.001' } });
    expect(screen.getByText('Enter an amount in dollars with at most two decimals, like 25.00.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Amount (USD)'), { target: { value: '25.00' } });
    fireEvent.click(screen.getByRole('button', { name: 'Top up' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Complete test payment' }));
    await vi.waitFor(() => expect(screen.getByTestId('balance-available').textContent).toBe('$25.00'));
    const topUp = requests.find((r) => r.url === '/v1/billing/top-ups');
    expect(topUp?.body).toEqual({ amountUsd: '25.00' });
    const table = await screen.findByRole('table', { name: 'Transactions, newest first' });
    expect(within(table).getByText('+$25.00')).toBeTruthy();
  });
});
