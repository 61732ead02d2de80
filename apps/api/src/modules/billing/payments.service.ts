import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TestPaymentProcessor, type PaymentProcessor } from '@anneal/billing';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { CLOCK, ID_GENERATOR, type Clock, type IdGenerator } from '../../core/clock/clock.js';
import { AppError, badRequest, conflict, notFound } from '../../core/errors/app-error.js';
import { LOGGER } from '../../core/logging/logger.js';
import { AuditService } from '../audit/audit.service.js';
import type { Principal, RequestMeta } from '../auth/principal.js';
import { BillingService } from './billing.service.js';
import { TopUp } from './entities/top-up.entity.js';
import { PAYMENT_PROCESSOR, PAYMENT_SIGNATURE_HEADER } from './ledger.provider.js';
import { money, usdToMicros } from './money.js';

/** The smallest top-up: one dollar (processors refuse smaller card payments anyway). */
export const MIN_TOP_UP_MICROS = 1_000_000n;

export interface TopUpAmount {
  amountUsd?: string | number;
  amountMicros?: string;
}

/**
 * Top-ups through the payment processor: an intent first (the processor hosts the payment; no card
 * data ever reaches Anneal), then the processor's signed webhook credits the org, once per event and
 * once per payment.
 */
@Injectable()
export class PaymentsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly billing: BillingService,
    private readonly audit: AuditService,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(PAYMENT_PROCESSOR) private readonly processor: PaymentProcessor,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly newId: IdGenerator,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Exactly one of `amountUsd` (at most two decimals) or `amountMicros`, between $1 and TOP_UP_MAX_USD. */
  parseAmount(amount: TopUpAmount): bigint {
    const given = [amount.amountUsd, amount.amountMicros].filter((v) => v !== undefined && v !== null);
    if (given.length !== 1) {
      throw badRequest('validation_failed', 'Give the amount once: amountUsd (e.g. "25.00") or amountMicros (e.g. "25000000").', {
        fields: [{ field: 'amountUsd', message: 'exactly one of amountUsd and amountMicros is required' }],
      });
    }
    const micros = amount.amountUsd !== undefined ? usdToMicros(amount.amountUsd) : /^\d{1,19}$/.test(amount.amountMicros ?? '') ? BigInt(amount.amountMicros!) : null;
    const field = amount.amountUsd !== undefined ? 'amountUsd' : 'amountMicros';
    const max = BigInt(this.config.TOP_UP_MAX_USD) * 1_000_000n;
    if (micros === null || micros < MIN_TOP_UP_MICROS || micros > max) {
      throw badRequest('validation_failed', `A top-up must be between ${money(MIN_TOP_UP_MICROS).usd} and ${money(max).usd}, in cents at most.`, {
        fields: [{ field, message: `must be an amount between ${money(MIN_TOP_UP_MICROS).usd} and ${money(max).usd}` }],
      });
    }
    return micros;
  }

  /**
   * Creates a top-up intent with the processor. With an Idempotency-Key, a retry (same key, same
   * amount) returns the intent it created (`created: false`); the same key for another amount is 409.
   */
  async createTopUp(principal: Principal, amount: TopUpAmount, meta: RequestMeta, idempotencyKey?: string) {
    const amountMicros = this.parseAmount(amount);
    if (idempotencyKey) {
      const existing = await this.replayedTopUp(principal.orgId, idempotencyKey, amountMicros);
      if (existing) return { topUp: this.topUpView(existing), created: false };
    }
    await this.billing.ensureOrgAccounts(principal.orgId);
    const now = this.clock.now();
    // A network call to the processor: before (never inside) our transaction.
    const intent = await this.processor.createTopUpIntent({ orgId: principal.orgId, amountMicros, now });
    const topUp: TopUp = {
      id: this.newId(),
      orgId: principal.orgId,
      createdBy: principal.userId,
      processor: this.processor.name,
      paymentId: intent.paymentId,
      amountMicros,
      status: 'pending',
      checkoutUrl: intent.checkoutUrl,
      createdAt: now,
      completedAt: null,
      idempotencyKey: idempotencyKey ?? null,
    };
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.insert(TopUp, topUp);
        await this.audit.record(
          { actor: principal, action: 'billing.top_up_created', target: { type: 'top_up', id: topUp.id }, meta, details: { amountMicros: amountMicros.toString() } },
          manager,
        );
      });
    } catch (error) {
      // Two requests with one key at once: the first insert wins, the other answers with it.
      const raced = idempotencyKey && (error as { code?: string }).code === '23505' ? await this.replayedTopUp(principal.orgId, idempotencyKey, amountMicros) : null;
      if (raced) return { topUp: this.topUpView(raced), created: false };
      throw error;
    }
    return { topUp: this.topUpView(topUp), created: true };
  }

  private async replayedTopUp(orgId: string, idempotencyKey: string, amountMicros: bigint): Promise<TopUp | null> {
    const existing = await this.dataSource.manager.findOneBy(TopUp, { orgId, idempotencyKey });
    if (existing && existing.amountMicros !== amountMicros) {
      throw conflict('idempotency_mismatch', 'This Idempotency-Key was already used for a top-up of another amount. Use a new key for a new top-up.');
    }
    return existing;
  }

  /** The org's top-ups, newest first (the last 50). */
  async listTopUps(principal: Principal) {
    const topUps = await this.dataSource.manager.find(TopUp, { where: { orgId: principal.orgId }, order: { createdAt: 'DESC' }, take: 50 });
    return { topUps: topUps.map((topUp) => this.topUpView(topUp)) };
  }

  async getTopUp(principal: Principal, id: string) {
    return this.topUpView(await this.ownTopUp(principal, id));
  }

  /**
   * A verified webhook from the processor. Bad, stale or missing signatures and bodies that are not
   * events are 400 and change nothing; a duplicate event id is a no-op (200).
   */
  async handleWebhook(rawBody: Buffer | string | undefined, signatureHeader: string | undefined) {
    const now = this.clock.now();
    const body = typeof rawBody === 'string' ? rawBody : rawBody?.toString('utf8');
    if (body === undefined) throw badRequest('webhook_payload_invalid', 'The webhook must be a JSON body.');
    const parsed = this.processor.parseWebhook({ rawBody: body, signatureHeader, now });
    if (!parsed.ok) {
      this.logger.warn({ code: parsed.code }, 'payment webhook refused');
      throw badRequest(parsed.code, parsed.message);
    }
    const event = parsed.event;
    const topUp = await this.dataSource.manager.findOneBy(TopUp, { paymentId: event.paymentId });
    if (!topUp || topUp.orgId !== event.orgId || topUp.amountMicros !== event.amountMicros || topUp.processor !== this.processor.name) {
      this.logger.warn({ eventId: event.eventId, paymentId: event.paymentId }, 'payment webhook for a payment we did not create');
      throw badRequest('webhook_unknown_payment', 'The webhook names a payment Anneal did not create (or with another org or amount).');
    }
    await this.billing.ensureOrgAccounts(topUp.orgId);
    const outcome = await this.billing.store.applyPaymentEvent(event, this.processor.name, now);
    if (outcome.status === 'duplicate_event') return { received: true, duplicate: true };
    if (outcome.transferResult !== null && outcome.transferResult !== 'ok' && outcome.transferResult !== 'exists') {
      // The event is recorded; the money did not move: loud, for an operator to correct.
      this.logger.error({ eventId: event.eventId, paymentId: event.paymentId, result: outcome.transferResult }, 'payment webhook could not credit the org');
      throw new AppError(500, 'internal_error', 'The payment was received but could not be credited; it has been logged for review.');
    }
    const status = event.type === 'top_up.succeeded' ? 'succeeded' : 'failed';
    await this.dataSource.transaction(async (manager) => {
      const updated = await manager
        .createQueryBuilder()
        .update(TopUp)
        .set({ status, completedAt: now })
        .where('id = :id AND status = :pending', { id: topUp.id, pending: 'pending' })
        .execute();
      if ((updated.affected ?? 0) === 1) {
        await this.audit.record(
          { actor: 'system', orgId: topUp.orgId, action: `billing.top_up_${status}`, target: { type: 'top_up', id: topUp.id }, details: { amountMicros: topUp.amountMicros.toString(), eventId: event.eventId } },
          manager,
        );
      }
    });
    this.logger.info({ eventId: event.eventId, topUpId: topUp.id, status }, 'payment webhook applied');
    return { received: true, duplicate: false };
  }

  /**
   * Only with the built-in test processor (`PAYMENT_PROCESSOR=test`): completes a pending top-up the
   * way a real processor would, by having the processor sign the webhook and deliver it to this API.
   */
  async simulatePayment(principal: Principal, id: string, outcome: 'succeeded' | 'failed') {
    if (!(this.processor instanceof TestPaymentProcessor)) throw notFound('Route');
    const topUp = await this.ownTopUp(principal, id);
    if (topUp.status !== 'pending') throw conflict('top_up_not_pending', `This top-up has already ${topUp.status}.`);
    let webhook;
    try {
      webhook = this.processor.completeTopUp(topUp.paymentId, this.clock.now(), outcome);
    } catch {
      throw conflict('top_up_not_pending', 'The test processor no longer knows this payment (the API restarted): start a new top-up.');
    }
    const delivered = await this.deliver(webhook.rawBody, webhook.signatureHeader);
    return { delivery: delivered, topUp: this.topUpView(await this.ownTopUp(principal, id)) };
  }

  /** POSTs the webhook to this API's own endpoint, as the processor would. */
  private async deliver(rawBody: string, signatureHeader: string): Promise<{ status: number }> {
    const address = this.adapterHost.httpAdapter?.getHttpServer()?.address?.();
    if (!address || typeof address !== 'object') {
      // Not listening (no HTTP server): hand it to the same handler the endpoint uses.
      await this.handleWebhook(rawBody, signatureHeader);
      return { status: 200 };
    }
    const host = ['0.0.0.0', '::', ''].includes(address.address) ? '127.0.0.1' : address.address.includes(':') ? `[${address.address}]` : address.address;
    const response = await fetch(`http://${host}:${address.port}/v1/webhooks/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [PAYMENT_SIGNATURE_HEADER]: signatureHeader },
      body: rawBody,
    });
    await response.arrayBuffer();
    return { status: response.status };
  }

  private async ownTopUp(principal: Principal, id: string): Promise<TopUp> {
    const topUp = await this.dataSource.manager.findOneBy(TopUp, { id, orgId: principal.orgId });
    if (!topUp) throw notFound('Top-up');
    return topUp;
  }

  private topUpView(topUp: TopUp) {
    const simulate = this.processor instanceof TestPaymentProcessor && topUp.status === 'pending';
    return {
      id: topUp.id,
      status: topUp.status,
      amount: money(topUp.amountMicros),
      processor: topUp.processor,
      paymentId: topUp.paymentId,
      checkoutUrl: topUp.checkoutUrl,
      // The built-in test processor has no payment page: this completes the payment instead.
      simulatePaymentUrl: simulate ? `/v1/billing/top-ups/${topUp.id}/simulate-payment` : null,
      createdAt: topUp.createdAt.toISOString(),
      completedAt: topUp.completedAt?.toISOString() ?? null,
    };
  }
}
