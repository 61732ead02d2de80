/**
 * Gathers the calls made within one turn of the event loop and serves them with one operation: a
 * scheduler round starts hundreds of provisions at once, each of which would otherwise make its
 * own database round trip. Every caller gets the batch's result (or its error).
 */
export class TickBatcher<K, V, R> {
  private pending: { items: Map<K, V>; result: Promise<R> } | null = null;

  constructor(private readonly run: (items: ReadonlyMap<K, V>) => Promise<R>) {}

  add(key: K, value: V): Promise<R> {
    let batch = this.pending;
    if (!batch) {
      const items = new Map<K, V>();
      const result = new Promise<R>((resolve, reject) =>
        setImmediate(() => {
          this.pending = null;
          this.run(items).then(resolve, reject);
        }),
      );
      batch = { items, result };
      this.pending = batch;
    }
    batch.items.set(key, value);
    return batch.result;
  }
}
