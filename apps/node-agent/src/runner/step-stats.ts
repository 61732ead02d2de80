/** Running count, mean and unbiased variance (Welford), e.g. of step times in ms. */
export class RunningStats {
  count = 0;
  mean = 0;
  private m2 = 0;

  add(value: number): void {
    this.count += 1;
    const delta = value - this.mean;
    this.mean += delta / this.count;
    this.m2 += delta * (value - this.mean);
  }

  /** Unbiased sample variance; 0 below two values (as `@anneal/benchmarks` aggregates it). */
  get variance(): number {
    return this.count > 1 ? Math.max(0, this.m2 / (this.count - 1)) : 0;
  }

  meanOrNull(): number | null {
    return this.count > 0 ? this.mean : null;
  }
}
