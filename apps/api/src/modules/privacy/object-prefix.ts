import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { StorageUnavailableError, type ObjectStorage } from '../../core/storage/object-storage.js';

/** Every key under a prefix (paged; S3 returns at most 1000 per page). */
export async function listKeys(storage: ObjectStorage, prefix: string): Promise<string[]> {
  await storage.ensureBucket();
  const keys: string[] = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await storage.client.send(new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: prefix, ContinuationToken: token }));
    } catch (error) {
      throw new StorageUnavailableError('list', error);
    }
    for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Deletes every object under a prefix; returns how many. Deleting an empty prefix is 0, not an error. */
export async function deletePrefix(storage: ObjectStorage, prefix: string): Promise<number> {
  if (!prefix.endsWith('/')) throw new Error(`refusing to delete a prefix that is not a folder: ${prefix}`);
  const keys = await listKeys(storage, prefix);
  for (const key of keys) await storage.delete(key);
  return keys.length;
}
