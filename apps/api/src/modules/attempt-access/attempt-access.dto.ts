import { ApiProperty } from '@nestjs/swagger';
import type { PresignedDownload, PresignedUpload, ResumeCheckpointDownload } from '@anneal/providers';

// OpenAPI shapes of the protocol's attempt-storage responses (libs/providers, attempt-storage.schema.ts).

export class PresignedDownloadDto implements PresignedDownload {
  @ApiProperty({ description: 'Presigned GET URL (a secret: never log it).' }) getUrl!: string;
  @ApiProperty({ description: 'When the URL stops working (ATTEMPT_URL_TTL_SECONDS after it was issued); a download started before completes.' }) expiresAt!: string;
}

export class ResumeCheckpointDownloadDto implements ResumeCheckpointDownload {
  @ApiProperty({ description: 'Presigned GET URL of the checkpoint (a secret: never log it).' }) getUrl!: string;
  @ApiProperty({ description: 'The step the checkpoint was taken at; training continues at step + 1.' }) step!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Size the uploading agent reported.' }) sizeBytes!: number | null;
  @ApiProperty() expiresAt!: string;
}

export class PresignedUploadDto implements PresignedUpload {
  @ApiProperty({ description: 'Object key the URL writes; report it back in the checkpoint/finished event.' }) key!: string;
  @ApiProperty({ description: 'Presigned PUT URL (a secret: never log it).' }) putUrl!: string;
  @ApiProperty({ description: 'Headers to send exactly as given: the signature covers them.', type: 'object', additionalProperties: { type: 'string' } }) headers!: Record<string, string>;
  @ApiProperty() expiresAt!: string;
}
