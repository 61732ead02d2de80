import { inspect } from 'node:util';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { ComputeProvider } from '../port/compute-provider.port.js';
import { NoCapacityError, NotFoundError, ProvisioningError } from '../port/provider.errors.js';
import { matchesOfferQuery } from '../port/offer-query.js';
import type { InstanceState, OfferListing, OfferQuery, ProvisionedInstance, ProvisionRequest } from '../port/provider.types.js';
import { communityProviderConfigSchema, type CommunityProviderConfig, type CommunityProviderConfigInput } from './community.config.js';
import {
  communityInstanceId,
  communityInstanceState,
  communityOffers,
  isNodeRentable,
  parseCommunityInstanceId,
  parseCommunityOfferId,
} from './community.mapper.js';
import type { CommunityNode, CommunityNodeSource } from './community.types.js';
import {
  assignmentSchema,
  assignStreamSpec,
  allAttemptEventsSubject,
  attemptEventSchema,
  attemptEventsSubject,
  assignSubject,
  controlSubject,
  encodeSignedMessage,
  openSignedMessage,
  parseMessage,
  type AttemptEvent,
  type CancelControl,
  type CancelReason,
} from './protocol/index.js';

export interface CommunityProviderDeps {
  /** A connected NATS client (the API's). The adapter never closes it. */
  nats: NatsConnection;
  nodes: CommunityNodeSource;
  /** Current time (tests pass a fixed clock). */
  now?: () => Date;
}

export interface CommunityTerminateOptions {
  reason?: CancelReason;
}

type AckOutcome = { kind: 'accepted' } | { kind: 'rejected'; reason: string; message: string } | { kind: 'timeout' };
interface AckWaiter {
  node: CommunityNode;
  attemptId: string;
  settle: (outcome: AckOutcome) => void;
}

/**
 * Community capacity: offers from registered nodes that are listed, online and unreserved;
 * provisioning delivers the attempt's assignment on the node's JetStream assign subject (signed by
 * the platform key) and waits for the node's signed `accepted` or `rejected` event on the attempt's
 * events subject; terminate sends a signed cancel on the node's control subject.
 */
export class CommunityProvider implements ComputeProvider {
  readonly kind = 'community' as const;
  readonly #config: CommunityProviderConfig;
  readonly #nats: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #nodes: CommunityNodeSource;
  readonly #now: () => Date;
  /** Provisions waiting for their node's answer, by attempt events subject. */
  readonly #ackWaiters = new Map<string, AckWaiter>();
  #ackSubscription: Subscription | undefined;

  constructor(config: CommunityProviderConfigInput, deps: CommunityProviderDeps) {
    this.#config = communityProviderConfigSchema.parse(config);
    this.#nats = deps.nats;
    this.#js = jetstream(deps.nats);
    this.#nodes = deps.nodes;
    this.#now = deps.now ?? (() => new Date());
  }

  async listOffers(query: OfferQuery = {}): Promise<OfferListing> {
    const { offers, skipped } = communityOffers(await this.#nodes.listNodes(), this.#config);
    return { offers: offers.filter((offer) => matchesOfferQuery(offer, query)), skipped };
  }

  async provision(request: ProvisionRequest): Promise<ProvisionedInstance> {
    const nodeId = parseCommunityOfferId(request.offerId);
    if (!nodeId) throw new NotFoundError(`offer '${request.offerId}' is not a community offer`, { providerKind: 'community' });
    const node = await this.#nodes.getNode(nodeId);
    if (!node) throw new NotFoundError(`node ${nodeId} is not registered`, { providerKind: 'community' });
    const where = { providerKind: 'community' as const, region: node.region };
    if (!isNodeRentable(node) && node.reservedForAttemptId !== request.attemptId) {
      throw new NoCapacityError(`node ${nodeId} is ${node.state === 'online' ? 'busy' : node.state}${node.listed ? '' : ' and not listed'}`, where);
    }
    const parsed = parseMessage(assignmentSchema, request.assignment);
    if (!parsed.ok) throw new ProvisioningError(`the assignment is invalid: ${parsed.error.message}`, where);
    const assignment = parsed.value;
    if (assignment.nodeId !== nodeId || assignment.attempt.attemptId !== request.attemptId) {
      throw new ProvisioningError(`the assignment is for node ${assignment.nodeId} / attempt ${assignment.attempt.attemptId}, not ${nodeId} / ${request.attemptId}`, where);
    }

    const prefix = this.#config.subjectPrefix;
    const ack = this.#watchAck(node, request.attemptId);
    const subject = assignSubject(prefix, nodeId);
    let sequence: number;
    try {
      const pubAck = await this.#js.publish(subject, encodeSignedMessage(this.#config.platformSeed, subject, assignment), {
        msgID: `${request.attemptId}:assign`,
      });
      sequence = pubAck.seq;
    } catch {
      ack.stop();
      throw new ProvisioningError(`the assignment could not be queued for node ${nodeId} (is JetStream stream ${assignStreamSpec(prefix).name} there?)`, {
        ...where,
        retryable: true,
      });
    }

    const outcome = await ack.outcome;
    if (outcome.kind === 'accepted') {
      return {
        providerKind: 'community',
        instanceId: communityInstanceId(nodeId, request.attemptId),
        offerId: request.offerId,
        region: node.region,
        zone: null,
        status: 'provisioning',
      };
    }
    if (outcome.kind === 'rejected') {
      const reason = `node ${nodeId} rejected the assignment (${outcome.reason}${outcome.message ? `: ${outcome.message}` : ''})`;
      if (['busy', 'draining', 'insufficient_gpus'].includes(outcome.reason)) throw new NoCapacityError(reason, where);
      throw new ProvisioningError(reason, where);
    }
    // No answer: withdraw the assignment so the node cannot pick it up later, and cancel in case it already has.
    await this.#withdraw(sequence);
    await this.#sendCancel(nodeId, request.attemptId, 'rescheduled').catch(() => undefined);
    throw new ProvisioningError(`node ${nodeId} did not acknowledge the assignment within ${Math.round(this.#config.ackTimeoutMs / 100) / 10} s`, {
      ...where,
      retryable: true,
    });
  }

  async getStatus(instanceId: string): Promise<InstanceState> {
    const { nodeId, attemptId } = this.#parseInstanceId(instanceId);
    const node = await this.#nodes.getNode(nodeId);
    if (!node) throw new NotFoundError(`node ${nodeId} is not registered`, { providerKind: 'community' });
    return communityInstanceState(instanceId, node, attemptId);
  }

  /** Sends a signed cancel for the attempt to its node (core NATS). Resolves once flushed to the server. */
  async terminate(instanceId: string, options: CommunityTerminateOptions = {}): Promise<void> {
    const { nodeId, attemptId } = this.#parseInstanceId(instanceId);
    await this.#sendCancel(nodeId, attemptId, options.reason ?? 'admin');
  }

  toString(): string {
    return `CommunityProvider(prefix='${this.#config.subjectPrefix}')`;
  }

  toJSON(): { kind: 'community'; subjectPrefix: string; platformSeed: '[REDACTED]' } {
    return { kind: 'community', subjectPrefix: this.#config.subjectPrefix, platformSeed: '[REDACTED]' };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  async #sendCancel(nodeId: string, attemptId: string, reason: CancelReason): Promise<void> {
    const subject = controlSubject(this.#config.subjectPrefix, nodeId);
    const message: CancelControl = { schemaVersion: 1, type: 'cancel', nodeId, attemptId, reason, issuedAt: this.#now().toISOString() };
    this.#nats.publish(subject, encodeSignedMessage(this.#config.platformSeed, subject, message));
    await this.#nats.flush();
  }

  async #withdraw(sequence: number): Promise<void> {
    try {
      const jsm = await jetstreamManager(this.#nats);
      await jsm.streams.deleteMessage(assignStreamSpec(this.#config.subjectPrefix).name, sequence, false);
    } catch {
      // Already consumed (acked) or gone: the cancel that follows covers it.
    }
  }

  /**
   * Waits for the node's answer to an assignment. One core NATS subscription on every attempt's
   * events subject serves all the provisions in flight (opened when the first starts, closed when
   * the last ends); it is in place before the assignment is published, so the answer cannot be
   * missed. Only events signed by the node's registered key, for this attempt and node, count.
   */
  #watchAck(node: CommunityNode, attemptId: string): { outcome: Promise<AckOutcome>; stop: () => void } {
    const subject = attemptEventsSubject(this.#config.subjectPrefix, attemptId);
    let settle!: (outcome: AckOutcome) => void;
    const outcome = new Promise<AckOutcome>((resolve) => {
      settle = resolve;
    });
    const waiter: AckWaiter = { node, attemptId, settle: (answer) => settle(answer) };
    this.#ackWaiters.set(subject, waiter);
    this.#ackSubscription ??= this.#nats.subscribe(allAttemptEventsSubject(this.#config.subjectPrefix), {
      callback: (error, message) => {
        if (error) return;
        const waiting = this.#ackWaiters.get(message.subject);
        if (!waiting) return;
        const opened = openSignedMessage(attemptEventSchema, message.subject, message.data, waiting.node.publicKey);
        if (!opened.ok) return;
        const event: AttemptEvent = opened.value;
        if (event.attemptId !== waiting.attemptId || event.nodeId !== waiting.node.nodeId) return;
        if (event.type === 'accepted') waiting.settle({ kind: 'accepted' });
        else if (event.type === 'rejected') waiting.settle({ kind: 'rejected', reason: event.reason, message: event.message });
      },
    });
    const timer = setTimeout(() => settle({ kind: 'timeout' }), this.#config.ackTimeoutMs);
    const stop = () => {
      clearTimeout(timer);
      if (this.#ackWaiters.get(subject) === waiter) this.#ackWaiters.delete(subject);
      if (this.#ackWaiters.size === 0 && this.#ackSubscription) {
        this.#ackSubscription.unsubscribe();
        this.#ackSubscription = undefined;
      }
    };
    return { outcome: outcome.finally(stop), stop };
  }

  #parseInstanceId(instanceId: string): { nodeId: string; attemptId: string } {
    const parsed = parseCommunityInstanceId(instanceId);
    if (!parsed) throw new NotFoundError(`'${instanceId}' is not a community instance id (nodeId/attemptId)`, { providerKind: 'community' });
    return parsed;
  }
}
