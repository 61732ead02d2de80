import { v7 as uuidv7 } from 'uuid';

/** Time comes in through this, so services are deterministic under test. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export type IdGenerator = () => string;

/** UUIDv7: time-ordered ids. */
export const newId: IdGenerator = () => uuidv7();

export const CLOCK = Symbol('CLOCK');
export const ID_GENERATOR = Symbol('ID_GENERATOR');
