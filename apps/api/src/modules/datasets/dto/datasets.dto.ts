import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Length, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { DATASET_FORMATS, type DatasetFormat } from '../entities/dataset.entity.js';

export const DEFAULT_TTL_DAYS = 90;
export const MAX_TTL_DAYS = 365;

export class CreateDatasetDto {
  @ApiProperty({ example: 'support-chats-2026-11', description: 'A name for people; it is also checked by moderation.' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ enum: DATASET_FORMATS, description: 'jsonl, csv, parquet, or an image folder as tar (uncompressed) or zip.' })
  @IsIn(DATASET_FORMATS, { message: `format must be one of ${DATASET_FORMATS.join(', ')}` })
  format!: DatasetFormat;

  @ApiProperty({ example: 1048576, description: 'Exact size of the file in bytes; the upload must match it.' })
  @IsInt()
  @Min(1)
  sizeBytes!: number;

  @ApiProperty({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', description: 'SHA-256 of the file, hex; verified after upload.' })
  @IsString()
  @Matches(/^[0-9a-fA-F]{64}$/, { message: 'sha256 must be 64 hexadecimal characters' })
  sha256!: string;

  @ApiPropertyOptional({ example: 'cc-by-4.0', description: 'Declared licence (SPDX id, or `own-data`); a dataset without an allowed licence fails moderation.' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  license?: string;

  @ApiPropertyOptional({ example: DEFAULT_TTL_DAYS, default: DEFAULT_TTL_DAYS, minimum: 1, maximum: MAX_TTL_DAYS, description: 'Days until the dataset is deleted.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TTL_DAYS)
  ttlDays?: number;

  @ApiPropertyOptional({ default: false, description: 'Delete the dataset as soon as a training job that used it ends.' })
  @IsOptional()
  @IsBoolean()
  deleteAfterTraining?: boolean;
}

export class UploadedPartDto {
  @ApiProperty({ example: 1 })
  @IsInt()
  @Min(1)
  @Max(10_000)
  partNumber!: number;

  @ApiProperty({ example: '"5d41402abc4b2a76b9719d911017c592"', description: 'The ETag response header of the part PUT.' })
  @IsString()
  @Length(1, 200)
  etag!: string;
}

export class CompleteDatasetDto {
  @ApiPropertyOptional({ type: [UploadedPartDto], description: 'Multipart uploads only: every part with its ETag.' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @ValidateNested({ each: true })
  @Type(() => UploadedPartDto)
  parts?: UploadedPartDto[];
}

export class ListDatasetsQueryDto {
  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 100 })
  @IsOptional()
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page.' })
  @IsOptional()
  @IsUUID('all', { message: 'cursor must be a cursor returned by a previous page' })
  cursor?: string;
}
