import { getGpu, isGpuId } from '@anneal/benchmarks';
import type { CommunityNode, CommunityNodeSource } from '@anneal/providers';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { TickBatcher } from '../../core/batching/tick-batcher.js';
import { NodesConsumer } from './nodes.consumer.js';
import { ReliabilityService } from './reliability.service.js';

interface NodeRow {
  id: string;
  public_key: string;
  region: string | null;
  gpu_model_id: string | null;
  gpu_name: string;
  gpu_count: number;
  vram_mb: number | null;
  price_micros_per_gpu_hour: string;
  simulated: boolean;
  listed: boolean;
  draining: boolean;
  reserved_for_attempt_id: string | null;
  running_attempt: CommunityNode['runningAttempt'] | null;
  quarantined_at: Date | null;
}

const COLUMNS = 'id, public_key, region, gpu_model_id, gpu_name, gpu_count, vram_mb, price_micros_per_gpu_hour, simulated, listed, draining, reserved_for_attempt_id, running_attempt, quarantined_at';

/** Per-GPU memory in GB: the catalog's figure for a known GPU, else what the driver reported. */
export function vramGbOf(gpuModelId: string | null, vramMb: number | null): number {
  const known = gpuModelId && isGpuId(gpuModelId) ? getGpu(gpuModelId) : undefined;
  if (known) return known.vramGb;
  return vramMb === null ? 0 : Math.round((vramMb / 1024) * 10) / 10;
}

/**
 * The community adapter's view of registered nodes: provider settings from the database, live
 * state from this replica's heartbeat consumer. Simulated nodes exist only when
 * ALLOW_SIMULATED_NODES is on. A suspect node is reported as 'draining': not rentable, but still
 * holding whatever it runs (it is not lost until it goes offline).
 */
@Injectable()
export class DbCommunityNodeSource implements CommunityNodeSource {
  private readonly lookups = new TickBatcher<string, string, Map<string, NodeRow>>((ids) => this.loadRows(ids.keys()));

  constructor(
    private readonly dataSource: DataSource,
    private readonly consumer: NodesConsumer,
    private readonly reliability: ReliabilityService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Nodes that may be offered: listed, unreserved, not quarantined (the rest could never be rented). */
  async listNodes(): Promise<CommunityNode[]> {
    const rows: NodeRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM nodes WHERE deleted_at IS NULL AND listed AND reserved_for_attempt_id IS NULL AND quarantined_at IS NULL ${this.config.ALLOW_SIMULATED_NODES ? '' : 'AND NOT simulated'}`,
    );
    const reliability = await this.reliability.forNodes();
    return rows.map((row) => this.toNode(row, reliability.get(row.id)?.reliability ?? 0));
  }

  /**
   * One node (each provision asks for its node). Lookups requested in the same tick are served by
   * one query: a scheduler round starts hundreds of provisions at once.
   */
  async getNode(nodeId: string): Promise<CommunityNode | null> {
    if (!/^[0-9a-f-]{36}$/i.test(nodeId)) return null;
    const row = (await this.lookups.add(nodeId, nodeId)).get(nodeId);
    if (!row) return null;
    return this.toNode(row, (await this.reliability.forNode(row.id)).reliability);
  }

  private async loadRows(ids: Iterable<string>): Promise<Map<string, NodeRow>> {
    const rows: NodeRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM nodes WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL ${this.config.ALLOW_SIMULATED_NODES ? '' : 'AND NOT simulated'}`,
      [[...ids]],
    );
    return new Map(rows.map((row) => [row.id, row]));
  }

  private toNode(row: NodeRow, reliability: number): CommunityNode {
    const live = this.consumer.live(row.id);
    const liveState = live?.state ?? 'offline';
    const draining = row.draining || live?.agentState === 'draining';
    const state: CommunityNode['state'] = liveState === 'offline' ? 'offline' : liveState === 'suspect' || draining ? 'draining' : 'online';
    const running = live ? live.runningAttempt : row.running_attempt;
    return {
      nodeId: row.id,
      publicKey: row.public_key,
      region: row.region ?? 'unknown',
      gpuModelId: row.gpu_model_id,
      gpuName: row.gpu_name,
      gpuCount: row.gpu_count,
      vramGb: vramGbOf(row.gpu_model_id, row.vram_mb),
      priceMicrosPerGpuHour: BigInt(row.price_micros_per_gpu_hour),
      reliability,
      simulated: row.simulated,
      // A node an admin quarantined (after a dispute) takes no new jobs until released.
      listed: row.listed && row.quarantined_at === null,
      state,
      reservedForAttemptId: row.reserved_for_attempt_id,
      runningAttempt: running ? { attemptId: running.attemptId, phase: running.phase } : null,
    };
  }
}
