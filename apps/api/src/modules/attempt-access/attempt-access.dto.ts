import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsInt, Max, Min } from 'class-validator';

export const MAX_UPLOAD_URLS = 20;

export class UploadUrlsDto {
  @ApiProperty({ enum: ['checkpoint', 'log'], description: 'What the agent will upload.' })
  @IsIn(['checkpoint', 'log'], { message: "kind must be 'checkpoint' or 'log'" })
  kind!: 'checkpoint' | 'log';

  @ApiProperty({ minimum: 1, maximum: MAX_UPLOAD_URLS, description: 'How many URLs (one object each).' })
  @IsInt()
  @Min(1)
  @Max(MAX_UPLOAD_URLS)
  count!: number;
}

export class UploadUrlDto {
  @ApiProperty({ description: 'Object key the URL writes.' }) key!: string;
  @ApiProperty({ description: 'Presigned PUT URL.' }) putUrl!: string;
  @ApiProperty({ description: 'Headers to send exactly as given: the signature covers them.', type: 'object', additionalProperties: { type: 'string' } }) headers!: Record<string, string>;
  @ApiProperty() expiresAt!: string;
}

export class UploadUrlsResponseDto {
  @ApiProperty({ type: [UploadUrlDto] }) urls!: UploadUrlDto[];
}
