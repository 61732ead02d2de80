import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, Min } from 'class-validator';

export class CreateTopUpDto {
  @ApiPropertyOptional({ description: 'Amount in US dollars, at most two decimals (a number or a string).', example: '25.00', oneOf: [{ type: 'string' }, { type: 'number' }] })
  @IsOptional()
  @Matches(/^\d{1,12}(\.\d{1,2})?$/, { message: 'amountUsd must be a positive amount with at most two decimals' })
  @Type(() => String)
  amountUsd?: string;

  @ApiPropertyOptional({ description: 'Amount in micro-dollars (1 USD = 1,000,000), as a string of digits.', example: '25000000' })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,19}$/, { message: 'amountMicros must be a string of digits' })
  amountMicros?: string;
}

export class SimulatePaymentDto {
  @ApiPropertyOptional({ enum: ['succeeded', 'failed'], default: 'succeeded', description: 'How the simulated payment ends.' })
  @IsOptional()
  @IsIn(['succeeded', 'failed'])
  outcome?: 'succeeded' | 'failed';
}

export class StatementQueryDto {
  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page.' })
  @IsOptional()
  @Matches(/^\d{1,19}$/, { message: 'cursor must be a cursor returned by this endpoint' })
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

export class PayoutsQueryDto {
  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page.' })
  @IsOptional()
  @IsUUID()
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

export class MoneyView {
  @ApiProperty({ example: '25000000', description: 'Integer micro-dollars (1 USD = 1,000,000).' })
  micros!: string;

  @ApiProperty({ example: '$25.00' })
  usd!: string;
}
