import type { Clock } from '../core/clock/clock.js';

/** Real time plus an offset a test can advance (token expiry, lockouts). */
export class TestClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
