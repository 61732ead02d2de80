import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsNumber, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { DISPUTE_RESOLUTIONS, type DisputeResolution } from '../../disputes/entities/dispute.entity.js';

export class ResolveDisputeDto {
  @ApiProperty({ enum: DISPUTE_RESOLUTIONS }) @IsIn(DISPUTE_RESOLUTIONS) resolution!: DisputeResolution;
  @ApiPropertyOptional({ description: 'Partial refunds: the amount in integer micro-dollars (at most what was charged).', example: '1500000' })
  @IsOptional()
  @Matches(/^\d{1,15}$/, { message: 'refundMicros must be a whole number of micro-dollars' })
  refundMicros?: string;
  @ApiPropertyOptional({ description: 'Partial refunds: the amount in USD (up to 6 decimals), instead of refundMicros.', example: '1.50' })
  @IsOptional()
  @Matches(/^\d{1,9}(\.\d{1,6})?$/, { message: 'refundUsd must be a dollar amount like 1.50' })
  refundUsd?: string;
  @ApiProperty({ description: 'Why: both parties read it.' }) @IsString() @Length(3, 5000) note!: string;
  @ApiPropertyOptional({ description: "0..1: the node's reliability is multiplied by (1 − penalty) from now on." }) @IsOptional() @IsNumber() @Min(0) @Max(1) reliabilityPenalty?: number;
  @ApiPropertyOptional({ description: 'Quarantine the node that ran the attempt until an admin releases it.' }) @IsOptional() @IsBoolean() quarantineNode?: boolean;
}

export class ReviewModerationDto {
  @ApiProperty({ enum: ['uphold', 'override'], description: 'Uphold the rejection, or override it (the subject then counts as passed).' }) @IsIn(['uphold', 'override']) decision!: 'uphold' | 'override';
  @ApiProperty() @IsString() @Length(3, 5000) note!: string;
}

export class SuspendUserDto {
  @ApiProperty({ description: 'Why (the user is told).' }) @IsString() @Length(3, 2000) reason!: string;
}

export class NoteDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 2000) note?: string;
}

export class QuarantineNodeDto {
  @ApiProperty({ description: 'Why (the provider is told).' }) @IsString() @Length(3, 2000) reason!: string;
}
