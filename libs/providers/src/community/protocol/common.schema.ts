import { z } from 'zod';

/** Every message of this protocol carries `schemaVersion`; a receiver refuses versions it does not know. */
export const PROTOCOL_SCHEMA_VERSION = 1 as const;
export const schemaVersionSchema = z.literal(PROTOCOL_SCHEMA_VERSION);

/** Ids that appear in subjects (node, attempt): UUIDv7 in practice, any safe subject token accepted. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const ID_MESSAGE = 'an id of 1-64 letters, digits, "-" or "_"';
export const idSchema = z.string().regex(ID_PATTERN, ID_MESSAGE);

/** An ISO-8601 UTC instant, e.g. 2026-11-22T07:30:00.000Z (zod's datetime: 'Z' only, any sub-second precision). */
export const INSTANT_PATTERN = z.regexes.datetime({ precision: null, offset: false, local: false });
export const instantSchema = z.iso.datetime();

/** A non-negative integer. */
export const countSchema = z.number().int().nonnegative();

/** A finite non-negative number. */
export const nonNegativeSchema = z.number().nonnegative().finite();
