import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class UpdateNodeDto {
  @ApiPropertyOptional({ description: 'Price per GPU-hour in integer micro-dollars (0.45 USD = "450000")', example: '450000' })
  @IsOptional()
  @IsString()
  @Matches(/^[1-9][0-9]{0,9}$/, { message: 'priceMicrosPerGpuHour must be a positive integer number of micro-dollars (at most 1000 USD)' })
  priceMicrosPerGpuHour?: string;

  @ApiPropertyOptional({ description: 'Listed for rent (false withdraws the node from the offers)' })
  @IsOptional()
  @IsBoolean()
  listed?: boolean;

  @ApiPropertyOptional({ description: 'false takes a drained node back into service' })
  @IsOptional()
  @IsBoolean()
  draining?: boolean;
}

export class DrainNodeDto {
  @ApiPropertyOptional({ description: 'Why (shown to the agent)', example: 'maintenance' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class JoinTokenResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'Shown once; stored as a hash' }) token!: string;
  @ApiProperty() expiresAt!: string;
  @ApiProperty({ example: 'anneal-agent register --api https://api.anneal.dev --token njt_… --price 0.45' }) command!: string;
}

/** The agent's registration body (joinRequestSchema of @anneal/providers; validated with it). */
export class JoinRequestDocDto {
  @ApiProperty({ example: 1 }) schemaVersion!: number;
  @ApiProperty() joinToken!: string;
  @ApiProperty({ description: 'nkey user public key (U…)' }) publicKey!: string;
  @ApiProperty({ type: 'array', items: { type: 'object' } }) gpus!: unknown[];
  @ApiProperty({ example: '450000' }) priceMicrosPerGpuHour!: string;
  @ApiProperty({ nullable: true, type: String }) region!: string | null;
  @ApiProperty() agentVersion!: string;
  @ApiProperty() hostname!: string;
  @ApiProperty() simulated!: boolean;
}
