import { PROVIDER_KINDS, type Offer, type ProviderKind } from '@anneal/providers';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';

const list = ({ value }: { value: unknown }) =>
  (Array.isArray(value) ? value : [value])
    .flatMap((item) => String(item).split(','))
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

export class ListOffersQueryDto {
  @ApiPropertyOptional({ description: 'Catalog GPU ids, comma-separated (see /v1/gpu-types)', example: 'rtx-4090,a100-80gb-sxm' })
  @IsOptional()
  @Transform(list)
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  gpuModel?: string[];

  @ApiPropertyOptional({ description: 'Minimum number of GPUs in the offer', example: 1 })
  @IsOptional()
  @Transform(({ value }) => Number(value))
  @IsInt()
  @Min(1)
  @Max(64)
  gpuCount?: number;

  @ApiPropertyOptional({ description: 'Minimum memory per GPU, GB', example: 24 })
  @IsOptional()
  @Transform(({ value }) => Number(value))
  @IsNumber()
  @Min(0)
  @Max(10_000)
  minVramGb?: number;

  @ApiPropertyOptional({ description: 'Highest price per GPU-hour, integer micro-dollars', example: '1000000' })
  @IsOptional()
  @IsString()
  @Matches(/^[0-9]{1,16}$/, { message: 'maxPriceMicrosPerGpuHour must be an integer number of micro-dollars' })
  maxPriceMicrosPerGpuHour?: string;

  @ApiPropertyOptional({ description: 'Regions, comma-separated', example: 'eu-west,us-central1' })
  @IsOptional()
  @Transform(list)
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  region?: string[];

  @ApiPropertyOptional({ description: 'Provider kinds, comma-separated', enum: PROVIDER_KINDS, isArray: true })
  @IsOptional()
  @Transform(list)
  @IsArray()
  @IsIn(PROVIDER_KINDS, { each: true, message: `each providerKind must be one of ${PROVIDER_KINDS.join(', ')}` })
  providerKind?: ProviderKind[];

  @ApiPropertyOptional({ description: 'true: spot only; false: on-demand only; absent: both' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' || value === true ? true : value === 'false' || value === false ? false : value))
  @IsBoolean()
  spot?: boolean;
}

export class OfferDto {
  @ApiProperty({ enum: PROVIDER_KINDS }) providerKind!: ProviderKind;
  @ApiProperty({ example: 'community:0193a0c8-7a2e-7c4e-9d41-3f2b8c1d5e6f' }) offerId!: string;
  @ApiProperty({ enum: ['machine', 'serverless'] }) offerType!: string;
  @ApiProperty({ example: 'rtx-4090' }) gpuModelId!: string;
  @ApiProperty({ example: 'RTX 4090' }) gpuName!: string;
  @ApiProperty() gpuCount!: number;
  @ApiProperty({ description: 'Per GPU' }) vramGb!: number;
  @ApiProperty() region!: string;
  @ApiProperty({ nullable: true, type: String }) zone!: string | null;
  @ApiProperty({ description: 'Integer micro-dollars per GPU-hour, as a decimal string', example: '450000' }) priceMicrosPerGpuHour!: string;
  @ApiProperty() spot!: boolean;
  @ApiProperty({ description: '0..1' }) reliability!: number;
  @ApiProperty({ enum: ['available', 'likely', 'unavailable'] }) availability!: string;
  @ApiProperty({ description: 'GPUs simulated by anneal-agent --simulate: never real capacity' }) simulated!: boolean;
}

export function toOfferDto(offer: Offer, gpuName: string): OfferDto {
  return { ...offer, gpuName, priceMicrosPerGpuHour: offer.priceMicrosPerGpuHour.toString() };
}
