import { z } from 'zod';

/** Every message of this protocol carries `schemaVersion`; a receiver refuses versions it does not know. */
export const PROTOCOL_SCHEMA_VERSION = 1 as const;
export const schemaVersionSchema = z.literal(PROTOCOL_SCHEMA_VERSION);

/** Ids that appear in subjects (node, attempt): UUIDv7 in practice, any safe subject token accepted. */
export const idSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'an id of 1-64 letters, digits, "-" or "_"');

/** An ISO-8601 UTC instant, e.g. 2026-11-22T07:30:00.000Z. */
export const instantSchema = z.iso.datetime();

/** A non-negative integer. */
export const countSchema = z.number().int().nonnegative();

/** A finite non-negative number. */
export const nonNegativeSchema = z.number().nonnegative().finite();
