import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startTestS3, type TestS3 } from '@anneal/test/support';
import type { Assignment, PresignedPut } from '@anneal/providers';

/** A real S3-protocol server (s3rver) with one bucket, and real presigned URLs for the agent. */
export class PresignedBucket {
  private constructor(
    readonly s3: TestS3,
    readonly client: S3Client,
    readonly bucket: string,
  ) {}

  static async start(bucket = 'anneal-test'): Promise<PresignedBucket> {
    const s3 = await startTestS3();
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    return new PresignedBucket(s3, client, bucket);
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body }));
  }

  getUrl(key: string): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: 3600 });
  }

  async putSlot(key: string): Promise<PresignedPut> {
    return { key, putUrl: await getSignedUrl(this.client, new PutObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: 3600 }) };
  }

  /** GETs an object back through a presigned URL (as a customer download would); null when it does not exist. */
  async fetchBytes(key: string): Promise<Uint8Array | null> {
    const response = await fetch(await this.getUrl(key));
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(`GET ${key}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }

  /** Dataset, artifact, checkpoint and log slots of an attempt, as the API would mint them. */
  async attemptUrls(attemptId: string, datasetKey: string, datasetSizeBytes: number, checkpointSlots: number): Promise<Pick<Assignment, 'dataset' | 'uploads'>> {
    const checkpoints: PresignedPut[] = [];
    for (let i = 0; i < checkpointSlots; i += 1) checkpoints.push(await this.putSlot(`checkpoints/${attemptId}/${i}.ckpt`));
    return {
      dataset: { getUrl: await this.getUrl(datasetKey), sizeBytes: datasetSizeBytes, sha256: null },
      uploads: {
        artifact: await this.putSlot(`artifacts/${attemptId}/output.tar`),
        checkpoints,
        logs: await this.putSlot(`logs/${attemptId}.txt`),
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    };
  }

  async close(): Promise<void> {
    this.client.destroy();
    await this.s3.close();
  }
}

/** A small English text with enough repetition for a character model to learn within a few hundred steps. */
export const TRAINING_TEXT = [
  'The quick brown fox jumps over the lazy dog.',
  'A stitch in time saves nine.',
  'All that glitters is not gold.',
  'Where there is a will there is a way.',
  'Fortune favours the bold, and the bold train small models on CPUs.',
  'Practice makes perfect; the loss goes down when the model learns.',
]
  .join('\n')
  .repeat(30);
