import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, IsUUID, IsOptional, Length } from 'class-validator';
import { DISPUTE_REASONS, type DisputeReason } from '../entities/dispute.entity.js';

export class OpenDisputeDto {
  @ApiProperty({ description: 'The disputed job (of the acting org).' }) @IsUUID() jobId!: string;
  @ApiPropertyOptional({ description: 'One attempt of the job; default: the ended attempt that cost the most.' }) @IsOptional() @IsUUID() attemptId?: string;
  @ApiProperty({ enum: DISPUTE_REASONS }) @IsIn(DISPUTE_REASONS) reason!: DisputeReason;
  @ApiProperty({ description: 'What went wrong, in your words.', example: 'The node disappeared halfway through and I was billed for the whole run.' })
  @IsString()
  @Length(10, 5000)
  description!: string;
}

export class RespondDisputeDto {
  @ApiProperty({ description: "The provider's statement (once)." }) @IsString() @Length(10, 5000) statement!: string;
}
