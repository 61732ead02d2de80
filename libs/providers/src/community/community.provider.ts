import { inspect } from 'node:util';
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
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
  attemptEventSchema,
  attemptEventsStreamSpec,
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
    const ack = await this.#watchAck(node, request.attemptId);
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
   * Starts reading the attempt's events (an ordered consumer from the start of the stream, so an
   * answer to an earlier try is seen too) before the assignment goes out. Only events signed by the
   * node's registered key count.
   */
  async #watchAck(node: CommunityNode, attemptId: string): Promise<{ outcome: Promise<AckOutcome>; stop: () => void }> {
    const prefix = this.#config.subjectPrefix;
    const subject = attemptEventsSubject(prefix, attemptId);
    const where = { providerKind: 'community' as const, region: node.region };
    let consumer;
    try {
      consumer = await this.#js.consumers.get(attemptEventsStreamSpec(prefix).name, {
        filter_subjects: subject,
        deliver_policy: DeliverPolicy.All,
      });
    } catch {
      throw new ProvisioningError(`attempt events stream ${attemptEventsStreamSpec(prefix).name} is not available`, { ...where, retryable: true });
    }
    const messages = await consumer.consume({ max_messages: 16 });
    let timer: NodeJS.Timeout | undefined;
    const stop = () => {
      clearTimeout(timer);
      void messages.stop();
    };
    const answered = (async (): Promise<AckOutcome> => {
      for await (const message of messages) {
        const opened = openSignedMessage(attemptEventSchema, message.subject, message.data, node.publicKey);
        if (!opened.ok) continue;
        const event: AttemptEvent = opened.value;
        if (event.attemptId !== attemptId || event.nodeId !== node.nodeId) continue;
        if (event.type === 'accepted') return { kind: 'accepted' };
        if (event.type === 'rejected') return { kind: 'rejected', reason: event.reason, message: event.message };
      }
      return { kind: 'timeout' };
    })();
    const timedOut = new Promise<AckOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), this.#config.ackTimeoutMs);
    });
    const outcome = Promise.race([answered, timedOut]).finally(stop);
    return { outcome, stop };
  }

  #parseInstanceId(instanceId: string): { nodeId: string; attemptId: string } {
    const parsed = parseCommunityInstanceId(instanceId);
    if (!parsed) throw new NotFoundError(`'${instanceId}' is not a community instance id (nodeId/attemptId)`, { providerKind: 'community' });
    return parsed;
  }
}
