import { PROVIDER_KINDS, type ProviderKind } from '@anneal/providers';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsNumber, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';

// Bounds here only keep absurd JSON out; the estimator checks the real limits and answers with
// its own codes (invalid_steps, invalid_batch_size, …).
const BIG = 1e15;

export class ImageResolutionDto {
  @ApiProperty({ description: 'Width in pixels', example: 1024 })
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  width!: number;

  @ApiProperty({ description: 'Height in pixels', example: 1024 })
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  height!: number;
}

export class EstimateRecipeDto {
  @ApiProperty({ description: "Base model: a Hugging Face id or a registry alias ('meta-llama/Llama-3.1-8B')", example: 'meta-llama/Llama-3.1-8B' })
  @IsString()
  @Length(1, 200)
  baseModelId!: string;

  @ApiProperty({ enum: ['lora', 'qlora', 'full'], example: 'lora' })
  @IsString()
  @Length(1, 16)
  method!: string;

  @ApiPropertyOptional({ description: 'Training precision: fp32, tf32, fp16, bf16 (default), fp8, fp4', example: 'bf16' })
  @IsOptional()
  @IsString()
  @Length(1, 16)
  precision?: string;

  @ApiPropertyOptional({ description: 'Quantization of the frozen base: none, nf4, int4, int8, fp8, fp8-wo (default nf4 for qlora, else none)', example: 'none' })
  @IsOptional()
  @IsString()
  @Length(1, 16)
  quantization?: string;

  @ApiPropertyOptional({ description: 'Sequence length in tokens (text models; default 2048)', example: 2048 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(BIG)
  sequenceLength?: number;

  @ApiPropertyOptional({ description: 'Image resolution (image and video models; default 1024×1024, 512×512 for SD 1.x)', type: ImageResolutionDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ImageResolutionDto)
  imageResolution?: ImageResolutionDto;

  @ApiPropertyOptional({ description: 'Frames per sample (video models; default 1)', example: 1 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(BIG)
  frames?: number;

  @ApiProperty({ description: 'Global micro-batch: samples per forward/backward pass over all GPUs', example: 8 })
  @IsInt()
  @Min(0)
  @Max(BIG)
  batchSize!: number;

  @ApiPropertyOptional({ description: 'Gradient accumulation steps (default 1)', example: 1 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(BIG)
  gradientAccumulation?: number;

  @ApiPropertyOptional({ description: 'Optimizer steps; or give epochs with the dataset size', example: 1000 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-BIG)
  @Max(BIG)
  steps?: number;

  @ApiPropertyOptional({ description: 'Epochs over the dataset (with datasetSamples or datasetTokens)', example: 3 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-BIG)
  @Max(BIG)
  epochs?: number;

  @ApiPropertyOptional({ description: 'Dataset size in samples', example: 50_000 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-BIG)
  @Max(BIG)
  datasetSamples?: number;

  @ApiPropertyOptional({ description: 'Dataset size in tokens (packed sequences)', example: 100_000_000 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-BIG)
  @Max(BIG)
  datasetTokens?: number;

  @ApiPropertyOptional({ description: 'Prompts generated at each validation run (0 = no validation)', example: 8 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100_000)
  validationPrompts?: number;

  @ApiPropertyOptional({ description: 'Steps between validation runs', example: 250 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  validationInterval?: number;
}

export class EstimateResourcesDto {
  @ApiPropertyOptional({ description: "GPU model: a catalog id or any name the catalog knows ('rtx-4090', 'NVIDIA A100-SXM4-80GB')", example: 'rtx-4090' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  gpuModel?: string;

  @ApiPropertyOptional({ description: 'Minimum memory per GPU, GB (when no model is given)', example: 24 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(10_000)
  minVramGb?: number;

  @ApiPropertyOptional({ description: 'GPUs the job needs (default 1); offers with at least this many match, and the estimate is for the whole offer', example: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1024)
  gpuCount?: number;
}

export class CreateEstimateDto {
  @ApiProperty({ type: EstimateRecipeDto })
  @ValidateNested()
  @Type(() => EstimateRecipeDto)
  recipe!: EstimateRecipeDto;

  @ApiPropertyOptional({ type: EstimateResourcesDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => EstimateResourcesDto)
  resources?: EstimateResourcesDto;

  @ApiPropertyOptional({ description: 'Provider allowlist (default: all)', enum: PROVIDER_KINDS, isArray: true, example: ['community', 'runpod'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsIn(PROVIDER_KINDS, { each: true })
  providers?: ProviderKind[];

  @ApiPropertyOptional({ description: 'Highest price per GPU-hour in USD, a decimal string with up to 6 decimals', example: '1.50' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,9}(\.\d{1,6})?$/, { message: 'maxPricePerGpuHour must be a USD amount such as "1.50"' })
  maxPricePerGpuHour?: string;

  @ApiPropertyOptional({ description: 'Highest price per GPU-hour in integer micro-dollars, as a string (instead of maxPricePerGpuHour)', example: '1500000' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,15}$/, { message: 'maxPriceMicrosPerGpuHour must be a whole number of micro-dollars as a string' })
  maxPriceMicrosPerGpuHour?: string;

  @ApiPropertyOptional({ description: 'Most rows to return, cheapest first (default 20); the fastest offer is always included', example: 20 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}
