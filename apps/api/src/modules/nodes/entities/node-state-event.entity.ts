import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Node, type NodeLiveState } from './node.entity.js';

/** A change of a node's live state: uptime and reliability, and heartbeat gaps as dispute evidence. */
@Entity('node_state_events')
@Index('node_state_events_node_at_idx', ['nodeId', 'at'])
export class NodeStateEvent {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'node_id' })
  nodeId!: string;

  @ManyToOne(() => Node, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'node_id', foreignKeyConstraintName: 'node_state_events_node_id_fkey' })
  node?: Relation<Node>;

  @Column('text', { name: 'from_state', nullable: true })
  fromState!: NodeLiveState | null;

  @Column('text', { name: 'to_state' })
  toState!: NodeLiveState;

  @Column('timestamptz')
  at!: Date;

  /** 'registered', 'heartbeat', 'missed_heartbeats', 'heartbeat_timeout', 'deregistered', 'removed'. */
  @Column('text')
  reason!: string;
}
