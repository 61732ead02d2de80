/**
 * The instant a job's budget cap runs out on a machine billed from `startAt` at
 * `priceMicrosPerGpuHour` × `gpuCount`: what an assignment's `budgetStopAt` says (the agent
 * checkpoints and stops there). Null without a cap; in the past when the cap is already spent.
 *
 * Billing starts when training starts, so `startAt` is the moment the machine can start: for a
 * community node the placement, for a cloud machine the delivery of its assignment after it joined
 * (minutes after the provision, which would otherwise shorten the run by the boot time).
 */
export function budgetStopAt(input: { startAt: Date; budgetCapMicros: bigint | null; spentMicros: bigint; priceMicrosPerGpuHour: bigint; gpuCount: number }): Date | null {
  if (input.budgetCapMicros === null) return null;
  const microsPerHour = input.priceMicrosPerGpuHour * BigInt(input.gpuCount) || 1n;
  return new Date(input.startAt.getTime() + Number(((input.budgetCapMicros - input.spentMicros) * 3_600_000n) / microsPerHour));
}
