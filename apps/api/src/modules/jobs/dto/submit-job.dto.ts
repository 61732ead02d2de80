import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

const USD = /^\d{1,7}(\.\d{1,6})?$/;

export class ResolutionDto {
  @ApiProperty() @IsInt() @Min(64) @Max(8192) width!: number;
  @ApiProperty() @IsInt() @Min(64) @Max(8192) height!: number;
}

export class RecipeDto {
  @ApiProperty({ example: 'meta-llama/Llama-3.1-8B' }) @IsString() @Length(1, 200) baseModelId!: string;
  @ApiProperty({ enum: ['lora', 'qlora', 'full'] }) @IsIn(['lora', 'qlora', 'full']) method!: 'lora' | 'qlora' | 'full';
  @ApiPropertyOptional({ enum: ['bf16', 'fp16', 'fp32'], default: 'bf16' }) @IsOptional() @IsIn(['bf16', 'fp16', 'fp32']) precision?: 'bf16' | 'fp16' | 'fp32';
  @ApiPropertyOptional({ enum: ['none', 'int8', 'int4', 'nf4'] }) @IsOptional() @IsIn(['none', 'int8', 'int4', 'nf4']) quantization?: string;
  @ApiPropertyOptional({ example: 2048 }) @IsOptional() @IsInt() @Min(16) @Max(1_048_576) sequenceLength?: number;
  @ApiPropertyOptional({ type: ResolutionDto }) @IsOptional() @ValidateNested() @Type(() => ResolutionDto) imageResolution?: ResolutionDto;
  @ApiProperty({ example: 8 }) @IsInt() @Min(1) @Max(65_536) batchSize!: number;
  @ApiPropertyOptional({ default: 1 }) @IsOptional() @IsInt() @Min(1) @Max(4096) gradientAccumulation?: number;
  @ApiPropertyOptional({ description: 'Optimizer steps; or give epochs and let the dataset size decide.' }) @IsOptional() @IsInt() @Min(1) @Max(10_000_000) steps?: number;
  @ApiPropertyOptional() @IsOptional() @IsNumber() @Min(0.01) @Max(1000) epochs?: number;
  @ApiPropertyOptional() @IsOptional() @IsNumber() @Min(0) @Max(1) learningRate?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(1024) loraRank?: number;
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) @MaxLength(4000, { each: true }) validationPrompts?: string[];
  @ApiPropertyOptional({ description: 'Run validation every N steps.' }) @IsOptional() @IsInt() @Min(1) validationInterval?: number;
  @ApiPropertyOptional({ enum: ['synthetic', 'container', 'process'] }) @IsOptional() @IsIn(['synthetic', 'container', 'process']) runner?: 'synthetic' | 'container' | 'process';
  @ApiPropertyOptional({ description: 'Trainer image for the container runner.' }) @IsOptional() @IsString() @MaxLength(300) image?: string;
}

export class ResourcesDto {
  @ApiPropertyOptional({ example: 'rtx-4090', description: 'A GPU model from /v1/gpu-types (id or name).' }) @IsOptional() @IsString() @MaxLength(100) gpuModel?: string;
  @ApiPropertyOptional({ example: 24 }) @IsOptional() @IsInt() @Min(1) @Max(4096) minVramGb?: number;
  @ApiProperty({ example: 1 }) @IsInt() @Min(1) @Max(64) gpuCount!: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) region?: string;
}

export class SubmitJobDto {
  @ApiPropertyOptional({ example: 'llama-8b-support-bot' }) @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiProperty({ type: RecipeDto }) @ValidateNested() @Type(() => RecipeDto) recipe!: RecipeDto;
  @ApiProperty() @IsUUID() datasetId!: string;
  @ApiProperty({ type: ResourcesDto }) @ValidateNested() @Type(() => ResourcesDto) resources!: ResourcesDto;
  @ApiPropertyOptional({ type: [String], enum: ['community', 'gcp', 'runpod'] })
  @IsOptional()
  @IsArray()
  @IsIn(['community', 'gcp', 'runpod'], { each: true })
  providers?: ('community' | 'gcp' | 'runpod')[];
  @ApiPropertyOptional({ example: '0.80', description: 'Highest price per GPU-hour, USD.' }) @IsOptional() @Matches(USD, { message: 'maxPricePerGpuHour must be a USD amount like 0.80' }) maxPricePerGpuHour?: string;
  @ApiPropertyOptional({ example: '5.00', description: 'Never charge more than this for the job, USD.' }) @IsOptional() @Matches(USD, { message: 'budgetCap must be a USD amount like 5.00' }) budgetCap?: string;
  @ApiPropertyOptional({ description: 'The quote shown before submission (POST /v1/estimates).' }) @IsOptional() @IsUUID() quoteId?: string;
  @ApiPropertyOptional({ default: 86_400 }) @IsOptional() @IsInt() @Min(60) @Max(14 * 86_400) maxDurationSeconds?: number;
  @ApiPropertyOptional({ default: 3 }) @IsOptional() @IsInt() @Min(1) @Max(10) maxAttempts?: number;
}
