import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Node } from './node.entity.js';

/** Per-GPU telemetry of a node, one sample a minute (`at` is the minute): charts and dispute evidence. */
@Entity('node_telemetry')
export class NodeTelemetry {
  @PrimaryColumn('uuid', { name: 'node_id' })
  nodeId!: string;

  @PrimaryColumn('timestamptz')
  at!: Date;

  @ManyToOne(() => Node, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'node_id', foreignKeyConstraintName: 'node_telemetry_node_id_fkey' })
  node?: Relation<Node>;

  /** [{ index, gpuId, utilizationPct, temperatureC, powerW, vramUsedMb, vramTotalMb }] */
  @Column('jsonb')
  gpus!: unknown[];

  @Column('text', { name: 'running_attempt_id', nullable: true })
  runningAttemptId!: string | null;
}
