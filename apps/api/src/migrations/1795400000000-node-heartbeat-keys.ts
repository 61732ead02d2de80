import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Heartbeat keys: each node's HMAC-SHA256 key for its heartbeats, sealed with the SecretBox
 * (ENCRYPTION_KEYS). Null for nodes registered before heartbeat keys existed (they keep signing
 * heartbeats with their nkey) and for removed nodes (revoked with the node token).
 */
export class NodeHeartbeatKeys1795400000000 implements MigrationInterface {
  name = 'NodeHeartbeatKeys1795400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE nodes ADD COLUMN heartbeat_key_sealed text`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE nodes DROP COLUMN IF EXISTS heartbeat_key_sealed`);
  }
}
